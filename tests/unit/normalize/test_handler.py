"""The handler: one output message per input record, to cchc.normalized or to cchc.dlq."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from cchc_normalize.handler import NormalizeHandler
from cchc_normalize.steps.canonicalize import Reference
from cchc_runtime.kafka import Record
from cchc_shared.canonical import CANONICAL_RECORD, DossierRecord, Observation
from cchc_shared.dlq import DeadLetter
from cchc_shared.topics import Topic

from tests.fakes import FakeService
from tests.unit.normalize.builders import dossier_event, report


def _records(events: list[dict[str, Any] | bytes]) -> list[Record]:
    return [
        Record(
            "cchc.validated",
            0,
            offset,
            b"14",
            e if isinstance(e, bytes) else orjson.dumps(e),
            1_700_000_000_000,
        )
        for offset, e in enumerate(events)
    ]


def _sample(service: FakeService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, {"service": "normalize", **labels})
    return value or 0.0


async def test_good_events_to_normalized_and_rejections_to_dlq(ref: Reference) -> None:
    service = FakeService("normalize")
    handler = NormalizeHandler(service, ref, today=lambda: date(2026, 11, 20))  # type: ignore[arg-type]
    events: list[dict[str, Any] | bytes] = [
        report(event_id="good-1"),
        report(event_id="bad-1", value="1.5"),
        dossier_event(event_id="good-2"),
        report(event_id="bad-2", indicator="không có"),
        b"\xff not json",
    ]
    await handler(_records(events))

    assert [m.topic for m in service.output.sent] == [
        Topic.NORMALIZED,
        Topic.DLQ,
        Topic.NORMALIZED,
        Topic.DLQ,
        Topic.DLQ,
    ]
    good = [
        CANONICAL_RECORD.validate_json(v)
        for t, _, v, _ in service.output.sent
        if t == "cchc.normalized"
    ]
    assert isinstance(good[0], Observation)
    assert isinstance(good[1], DossierRecord)
    # Optional fields without a value are left out, and read back as None.
    payloads = [orjson.loads(v) for t, _, v, _ in service.output.sent if t == "cchc.normalized"]
    assert all(None not in p.values() for p in payloads)
    unset = {name for name, value in vars(good[1]).items() if value is None}
    assert unset
    assert not unset & payloads[1].keys()
    keys = [k for t, k, _, _ in service.output.sent if t == "cchc.normalized"]
    assert keys == [b"procedures.published|2017-Q1|2004:14", b"15|LCI-2025-000001"]

    letters = [
        DeadLetter.model_validate_json(v) for t, _, v, _ in service.output.sent if t == "cchc.dlq"
    ]
    assert [(dl.stage, dl.reason.value) for dl in letters] == [
        ("normalize", "bad_number"),
        ("normalize", "unknown_indicator"),
        ("normalize", "schema_violation"),
    ]
    assert letters[0].source.topic == "cchc.validated"
    assert letters[0].source.offset == 1
    assert letters[0].source.key == "14"
    assert orjson.loads(letters[0].original_bytes())["event_id"] == "bad-1"
    assert letters[2].payload_encoding == "base64"
    assert letters[2].original_bytes() == b"\xff not json"
    # The DLQ keeps the source key, so a province's rejections stay together.
    assert [k for t, k, _, _ in service.output.sent if t == "cchc.dlq"] == [b"14", b"14", b"14"]

    assert _sample(service, "cchc_messages_accepted_total") == 2
    assert _sample(service, "cchc_messages_dead_lettered_total") == 3
    assert _sample(service, "cchc_messages_rejected_total", reason="bad_number") == 1


async def test_today_is_read_from_the_injected_clock(ref: Reference) -> None:
    days = iter([date(2026, 11, 30), date(2026, 12, 1)])
    service = FakeService("normalize")
    handler = NormalizeHandler(service, ref, today=lambda: next(days))  # type: ignore[arg-type]
    event = report(province="Sơn La", period="2026-12")
    await handler(_records([event]))
    await handler(_records([event]))
    letter = DeadLetter.model_validate_json(service.output.sent[0][2])
    assert letter.reason.value == "future_period"
    assert service.output.sent[1][0] == Topic.NORMALIZED
