"""The ingest handler's wiring, against a fake service: outputs, seeks, pauses, resume."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from cchc_ingest.handler import IngestHandler
from cchc_ingest.steps.dlq_limit import DlqLimit
from cchc_runtime.kafka import Record
from cchc_shared.dlq import DeadLetter
from cchc_shared.provinces import default_registry

from tests.fakes import FakeService

GOOD = orjson.dumps(
    {
        "schema": "cchc.indicator_report/1",
        "event_id": "e1",
        "province": "Sơn La",
        "indicator": "procedures.published",
        "period": "2017-Q1",
        "value": 1502,
        "reported_at": "2017-03-28T09:00:00+07:00",
    }
)
BAD = b"{oops"


def records(topic: str, values: list[bytes], partition: int = 0, start: int = 0) -> list[Record]:
    return [Record(topic, partition, start + i, b"k", v, 0) for i, v in enumerate(values)]


def gauge(service: FakeService, name: str, **labels: str) -> float | None:
    return service.sample(name, **labels)


def make(limit: DlqLimit | None = None, cooldown_s: float = 60) -> tuple[IngestHandler, Any]:
    service = FakeService("ingest")
    return IngestHandler(service, default_registry(), limit, cooldown_s), service  # type: ignore[arg-type]


async def test_good_to_validated_bad_to_dlq_in_order() -> None:
    handler, service = make()
    await handler(records("cchc.raw.14", [GOOD, BAD, GOOD]))
    topics = [m.topic for m in service.output.sent]
    assert topics == ["cchc.validated", "cchc.dlq", "cchc.validated"]
    letter = DeadLetter.model_validate_json(service.output.sent[1][2])
    assert (letter.source.topic, letter.source.offset, letter.reason) == (
        "cchc.raw.14",
        1,
        "malformed_json",
    )
    assert service.seeks == {}
    assert gauge(service, "cchc_messages_accepted_total") == 2
    assert gauge(service, "cchc_messages_dead_lettered_total") == 1


async def test_trip_holds_back_the_rest_of_the_province_and_pauses_it() -> None:
    handler, service = make(DlqLimit(max_ratio=1, max_consecutive=2))
    batch = records("cchc.raw.14", [GOOD, BAD, BAD, BAD, GOOD], start=10)
    batch += records("cchc.raw.14", [GOOD], partition=1, start=7)
    batch += records("cchc.raw.01", [BAD, BAD, BAD])  # another province: its own window
    await handler(batch)
    # Offsets 10-12 processed; 13 tripped (third bad in a row): it and everything after waits.
    sent = [
        (t, orjson.loads(v)["source"]["offset"] if t == "cchc.dlq" else None)
        for t, _, v, _ in service.output.sent
    ]
    assert sent[:3] == [("cchc.validated", None), ("cchc.dlq", 11), ("cchc.dlq", 12)]
    assert service.seeks == {("cchc.raw.14", 0): 13, ("cchc.raw.14", 1): 7, ("cchc.raw.01", 0): 2}
    assert {("cchc.raw.14", 0), ("cchc.raw.14", 1)} <= service.paused
    assert gauge(service, "cchc_dlq_limit_paused", province="14") == 1
    assert gauge(service, "cchc_dlq_limit_pauses_total", province="14") == 1
    assert gauge(service, "cchc_dlq_limit_paused", province="01") == 1

    # Records of a held province fetched later (e.g. after a rebalance) are held too, and the
    # seek never moves past the first held-back offset.
    await handler(records("cchc.raw.14", [GOOD], start=20))
    assert service.seeks[("cchc.raw.14", 0)] == 13

    handler.release("14")
    assert ("cchc.raw.14", 0) not in service.paused
    assert gauge(service, "cchc_dlq_limit_paused", province="14") == 0
    service.output.sent.clear()
    await handler(records("cchc.raw.14", [BAD, BAD, GOOD], start=13))
    assert [m.topic for m in service.output.sent] == ["cchc.dlq", "cchc.dlq", "cchc.validated"]


async def test_cool_down_resumes_by_itself() -> None:
    handler, service = make(DlqLimit(max_ratio=1, max_consecutive=1), cooldown_s=0.05)
    await handler(records("cchc.raw.14", [BAD, BAD]))
    assert ("cchc.raw.14", 0) in service.paused
    for _ in range(100):
        if ("cchc.raw.14", 0) not in service.paused:
            break
        await asyncio.sleep(0.01)
    assert ("cchc.raw.14", 0) not in service.paused
    assert not handler.limiter.is_held("14")  # type: ignore[union-attr]
