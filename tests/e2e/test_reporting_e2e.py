"""Reporting, the seeds' own shapes and figure status through the real broker, as provinces
push and an analyst asks (docs/analysts.md "Reporting")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest
from cchc_shared.provinces import VIETNAM_TZ

from tests import events
from tests.conftest import RunningStack

pytestmark = pytest.mark.connected

QUARTERLY = [
    "dossiers.received", "dossiers.received_online", "dossiers.resolved",
    "dossiers.resolved_on_time", "dossiers.resolved_late", "online_services.total",
    "online_services.integrated",
]  # fmt: skip
ON_TIME = dt.datetime(2026, 6, 10, 9, tzinfo=VIETNAM_TZ)
LATE = dt.datetime(2026, 6, 25, 9, tzinfo=VIETNAM_TZ)


def _event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {k: v for k, v in events.report(event_id=event_id, **fields).items() if v is not None}


def _push(stack: RunningStack, topic: str, items: list[tuple[dict[str, Any], dt.datetime]]) -> None:
    producer = stack.producer()
    try:
        for event, at in items:
            producer.send(
                topic,
                value=orjson.dumps(event),
                key=event["event_id"].encode(),
                timestamp_ms=int(at.timestamp() * 1000),
            )
        producer.flush()
    finally:
        producer.close()


def _quarter(code: str, indicators: list[str], late: str | None = None):  # type: ignore[no-untyped-def]
    return [
        (
            _event(f"e2e-rep-{code}-{ind}", province=code, indicator=ind, period="2026-Q2",
                   value=10, unit=None, reported_at="2026-06-10T09:00:00+07:00"),
            LATE if ind == late else ON_TIME,
        )
        for ind in indicators
    ]  # fmt: skip


def test_reporting_rank_and_status_through_the_broker(stack: RunningStack) -> None:
    _push(stack, "cchc.raw.96", _quarter("96", QUARTERLY))  # Cà Mau: complete, on time
    _push(stack, "cchc.raw.92", _quarter("92", QUARTERLY, late="online_services.total"))
    _push(stack, "cchc.raw.86", _quarter("86", QUARTERLY[:1]))  # Vĩnh Long: partial
    now = dt.datetime.now(VIETNAM_TZ)
    seeds = [
        # Seed 004, as written: a rank and no score.
        (_event("e2e-seed-dti", province="Lai Châu", indicator="index.dti", period="2020",
                value=None, unit=None, rank=50, rank_of=63,
                reported_at="2021-10-20T08:13:45+07:00"), now),
        # Seed 000: the whole 2016-2020 phase, reported in May 2020, no status stated.
        (_event("e2e-seed-000", province="Lào Cai", indicator="staff.cut", period="2016/2020",
                value="3.356", unit="biên chế", reported_at="2020-05-24T19:57:00+07:00"), now),
    ]  # fmt: skip
    _push(stack, "cchc.raw.12", seeds[:1])
    _push(stack, "cchc.raw.15", seeds[1:])
    assert stack.drained()["dlq"] is not None
    headers = stack.headers()

    def get(path: str, **params: str) -> Any:
        r = httpx.get(f"{stack.api}{path}", params=params, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    body = get("/v1/reporting", period="2026-Q2")
    assert body["expected"] == 34
    rows = {p["province"]: p for p in body["provinces"]}
    assert (rows["96"]["status"], rows["96"]["on_time"]) == ("complete", True)
    assert dt.datetime.fromisoformat(rows["96"]["first_received_at"]) == ON_TIME
    assert (rows["92"]["status"], rows["92"]["on_time"]) == ("complete", False)
    assert rows["92"]["late_indicators"] == ["online_services.total"]
    assert rows["86"]["status"] == "partial"
    assert rows["86"]["missing_indicators"] == QUARTERLY[1:]

    ranking = get("/v1/provinces", indicator="index.dti", period="2020")
    lai_chau = next(r for r in ranking["rows"] if r["province"] == "12")
    assert (lai_chau["reported_rank"], lai_chau["rank"], lai_chau["value"]) == ("50/63", None, None)

    stored = stack.sql("SELECT status FROM observations FINAL WHERE event_id = 'e2e-seed-000'")
    assert stored == [["provisional"]]
    national = get("/v1/national", indicator="staff.cut", period="2016/2020")
    assert national["provisional"] >= 1
    assert any("provisional" in n and "15 Lào Cai" in n for n in national["notes"])
