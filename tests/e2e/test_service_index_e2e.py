"""End to end: a province's one-stop system streams dossier events, an analyst reads the index.

Raw `cchc.dossier_event/1` JSON goes to cchc.raw.92 with kafka-python; ingest, normalize and
aggregate run as in `cchc up`; the answer is read from GET /v1/service-index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest
from cchc_shared.provinces import default_registry

from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected

PROVINCE = "92"  # Cần Thơ; no other test streams dossiers of this province and day
DAY = "2025-09-09"


def _event(dossier: str, status: str, at: str, **fields: Any) -> bytes:
    commune = min(c for c, p in default_registry().communes.items() if p == PROVINCE)
    event = {
        "schema": "cchc.dossier_event/1",
        "event_id": f"e2e-{dossier}-{status}",
        "province": PROVINCE,
        "dossier_id": f"e2e-{dossier}",
        "procedure_code": "1.004227",
        "status": status,
        "occurred_at": f"{at}+07:00",
        "commune_code": commune,
        **fields,
    }
    return orjson.dumps(event)


def test_dossier_stream_becomes_the_service_index(stack: RunningStack) -> None:
    def received(dossier: str, at: str, due: str, channel: str) -> bytes:
        return _event(dossier, "received", at, due_at=f"{due}+07:00", channel=channel)

    stack.send(
        f"cchc.raw.{PROVINCE}",
        [
            received("s1", f"{DAY}T08:00:00", "2025-09-10T17:00:00", "online"),
            _event("s1", "resolved", f"{DAY}T15:00:00"),  # on time
            received("s2", "2025-09-05T08:00:00", "2025-09-08T17:00:00", "in_person"),
            _event("s2", "resolved", f"{DAY}T09:00:00"),  # late
            _event("s3", "resolved", f"{DAY}T10:00:00"),  # before its receipt…
            received("s3", f"{DAY}T08:30:00", f"{DAY}T10:00:00", "postal"),  # …due that minute
            received("s4", f"{DAY}T09:00:00", "2025-09-10T09:00:00", "online"),  # open, overdue
            received("s4", f"{DAY}T09:00:00", "2025-09-10T09:00:00", "online"),  # sent twice
        ],
        key=b"e2e-service-index",
    )
    stack.drained()
    stored = dt.datetime.now(dt.UTC)  # every event is inserted: drained means committed after it

    def answer() -> dict[str, Any] | None:
        r = httpx.get(
            f"{stack.api}/v1/service-index",
            params={"period": DAY, "province": PROVINCE},
            headers=stack.headers(),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        # The background fold takes the stored events in about a second later; the answer says
        # from when it is complete (docs/contract.md "as_of").
        complete = body["as_of"] is not None and dt.datetime.fromisoformat(body["as_of"]) > stored
        return body if complete else None

    body = wait_until(answer, timeout_s=30)
    del body["as_of"]
    assert body == {
        "period": DAY,
        "province": PROVINCE,
        "received": 3,
        "received_online": 2,
        "resolved": 3,
        "resolved_on_time": 2,
        "resolved_late": 1,
        "resolved_unclassified": 0,
        "on_time_rate": 66.67,
        "late_rate": 33.33,
        "online_rate": 66.67,
        "overdue_in_progress": 1,  # s4: due 2025-09-10, still open today
        "avg_resolution_hours": 35.17,  # s1 7 h, s2 97 h, s3 1.5 h
    }
    bad = httpx.get(
        f"{stack.api}/v1/service-index",
        params={"period": DAY, "province": "99"},
        headers=stack.headers(),
    )
    assert (bad.status_code, bad.json()["error"]) == (404, "unknown_province")
