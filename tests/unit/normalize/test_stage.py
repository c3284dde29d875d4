"""The normalize stage: one outcome per input record, a canonical record or a rejection."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from cchc_normalize.stage import NormalizeStage
from cchc_normalize.steps.canonicalize import Reference
from cchc_runtime.testing import letters, records, run, topics
from cchc_shared.canonical import CANONICAL_RECORD, DossierRecord, Observation
from cchc_shared.topics import Topic

from tests.unit.normalize.builders import dossier_event, report


def _records(events: list[dict[str, Any] | bytes]) -> list[Any]:
    values = [e if isinstance(e, bytes) else orjson.dumps(e) for e in events]
    return records("cchc.validated", values, key=b"14", timestamp_ms=1_700_000_000_000)


def test_good_events_to_normalized_and_rejections_with_their_reason(ref: Reference) -> None:
    stage = NormalizeStage(ref, today=lambda: date(2026, 11, 20))
    events: list[dict[str, Any] | bytes] = [
        report(event_id="good-1"),
        report(event_id="bad-1", value="1.5"),
        dossier_event(event_id="good-2"),
        report(event_id="bad-2", indicator="không có"),
        b"\xff not json",
    ]
    result = run(stage, _records(events))

    assert topics(result.out) == [Topic.NORMALIZED, Topic.NORMALIZED]
    assert all(m.timestamp_ms == 1_700_000_000_000 for m in result.out)  # push time kept
    good = [CANONICAL_RECORD.validate_json(m.value) for m in result.out]
    assert isinstance(good[0], Observation)
    assert isinstance(good[1], DossierRecord)
    # Optional fields without a value are left out, and read back as None.
    payloads = [orjson.loads(m.value) for m in result.out]
    assert all(None not in p.values() for p in payloads)
    unset = {name for name, value in vars(good[1]).items() if value is None}
    assert unset
    assert not unset & payloads[1].keys()
    assert [m.key for m in result.out] == [
        b"procedures.published|2017-Q1|2004:14",
        b"15|LCI-2025-000001",
    ]

    dead = letters(result, "normalize")
    assert [(dl.stage, dl.reason.value) for dl in dead] == [
        ("normalize", "bad_number"),
        ("normalize", "unknown_indicator"),
        ("normalize", "schema_violation"),
    ]
    assert [r.record.offset for r in result.rejects] == [1, 3, 4]
    assert orjson.loads(dead[0].original_bytes())["event_id"] == "bad-1"
    assert dead[2].payload_encoding == "base64"
    assert dead[2].original_bytes() == b"\xff not json"
    assert result.held == {}


def test_today_is_read_from_the_injected_clock(ref: Reference) -> None:
    days = iter([date(2026, 11, 30), date(2026, 12, 1)])
    stage = NormalizeStage(ref, today=lambda: next(days))
    event = report(province="Sơn La", period="2026-12")
    first = run(stage, _records([event]))
    second = run(stage, _records([event]))
    assert [r.reason.value for r in first.rejects] == ["future_period"]
    assert topics(second.out) == [Topic.NORMALIZED]
