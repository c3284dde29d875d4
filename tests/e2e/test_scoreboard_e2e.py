"""End to end: a province streams dossier, feedback and procedure events; an analyst reads its
Bộ chỉ số 766 scoreboard, and the events that do not fit are dead letters with their reason.

Raw JSON goes to cchc.raw.96 (Cà Mau) with kafka-python; ingest, normalize and aggregate run as
in `cchc up`; the answer is read from GET /v1/scoreboard.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import RunningStack, wait_until
from tests.e2e.push_support import letters_for

pytestmark = pytest.mark.connected

PROVINCE = "96"  # Cà Mau; no other test streams events of this province and month
MONTH = "2025-10"


def raw(schema: str, event_id: str, **fields: Any) -> bytes:
    return orjson.dumps(
        {"schema": f"cchc.{schema}/1", "event_id": f"e2e-766-{event_id}", "province": PROVINCE}
        | fields
    )


def dossier(d: str, status: str, at: str, **fields: Any) -> bytes:
    return raw(
        "dossier_event",
        f"{d}-{status}",
        dossier_id=f"e2e-766-{d}",
        procedure_code="1.004227",
        status=status,
        occurred_at=f"{at}+07:00",
        **fields,
    )


def test_events_become_the_scoreboard(stack: RunningStack) -> None:
    due = "2025-10-10T17:00:00+07:00"
    good = [
        raw(
            "procedure_event",
            "pub",
            procedure_code="1.004227",
            action="published",
            occurred_at="2025-10-01T08:00:00+07:00",
            due_at="2025-10-03T17:00:00+07:00",
            complete=True,
            online="full",
        ),
        raw(
            "procedure_event",
            "ann",
            procedure_code="1.004227",
            action="announced",
            occurred_at="2025-10-05T08:00:00+07:00",
            due_at="2025-10-03T17:00:00+07:00",
        ),
        dossier(
            "a",
            "received",
            "2025-10-06T08:00:00",
            due_at=due,
            channel="online",
            online_mode="full",
            fee_required=True,
            synced_national=True,
        ),
        dossier(
            "a",
            "resolved",
            "2025-10-07T08:00:00",
            paid_online=True,
            digitized=True,
            result_electronic=True,
            reused_data=True,
        ),
        dossier("a", "rated", "2025-10-08T08:00:00", satisfied=True),
        dossier("b", "received", "2025-10-06T08:00:00", due_at=due, channel="in_person"),
        dossier("b", "resolved", "2025-10-12T08:00:00"),  # late
        dossier("b", "rated", "2025-10-13T08:00:00", satisfied=False),
        raw(
            "feedback_event",
            "f-rec",
            feedback_id="f",
            status="received",
            occurred_at="2025-10-02T08:00:00+07:00",
            due_at=due,
        ),
        raw(
            "feedback_event",
            "f-res",
            feedback_id="f",
            status="resolved",
            occurred_at="2025-10-09T08:00:00+07:00",
            satisfied=True,
        ),
    ]
    bad = {
        # Hà Nội's feedback on Cà Mau's topic.
        raw(
            "feedback_event",
            "mismatch",
            province="01",
            feedback_id="x",
            status="received",
            occurred_at="2025-10-02T08:00:00+07:00",
            due_at=due,
        ): "province_mismatch",
        # A publication must say what it offers online.
        raw(
            "procedure_event",
            "no-online",
            procedure_code="1.004227",
            action="published",
            occurred_at="2025-10-01T08:00:00+07:00",
            due_at=due,
            complete=True,
        ): "schema_violation",
        # A rating without its verdict.
        dossier("c", "rated", "2025-10-08T08:00:00"): "schema_violation",
        # Answer due before the feedback arrived.
        raw(
            "feedback_event",
            "due",
            feedback_id="y",
            status="received",
            occurred_at="2025-10-02T08:00:00+07:00",
            due_at="2025-10-01T08:00:00+07:00",
        ): "out_of_range",
    }
    stack.send(f"cchc.raw.{PROVINCE}", [*good, *bad], key=b"e2e-scoreboard")
    stack.drained()

    def answer() -> dict[str, Any] | None:
        r = httpx.get(
            f"{stack.api}/v1/scoreboard",
            params={"period": MONTH, "province": PROVINCE},
            headers=stack.headers(),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        got = {c["code"]: c for g in body["groups"] for c in g["criteria"]}
        ready = got["s1_feedback_on_time"]["denominator"] == 1
        return body if ready and got["p1_resolved_on_time"]["denominator"] == 2 else None

    body = wait_until(answer, timeout_s=30)
    got = {
        c["code"]: (c["numerator"], c["denominator"], c["points"])
        for g in body["groups"]
        for c in g["criteria"]
    }
    assert got == {
        "t1_announced_on_time": (0, 1, 0.0),  # announced after its deadline
        "t2_published_on_time": (1, 1, 4.0),
        "t3_published_complete": (1, 1, 4.0),
        "t4_dossiers_synced": (1, 2, 3.0),
        "p1_resolved_on_time": (1, 2, 10.0),
        "o1_full_online": (1, 2, 6.0),  # published full on 1 October: both offered
        "pay1_paid_online": (1, 1, 10.0),
        "d1_result_electronic": (1, 2, 4.0),
        "d2_digitized": (1, 2, 4.0),
        "d3_reused_data": (1, 2, 3.0),
        "s1_feedback_on_time": (1, 1, 6.0),
        "s2_feedback_satisfied": (1, 1, 6.0),
        "s3_dossiers_satisfied": (1, 2, 3.0),
    }
    assert (body["total"], body["max_available"], body["name"]) == (63.0, 100.0, "Cà Mau")
    assert body["as_of"] is not None  # folded: the answer says from when it is complete

    letters = wait_until(
        lambda: (found := letters_for(stack, list(bad))) and len(found) == 4 and found
    )
    assert {line: [x.reason for x in ls] for line, ls in letters.items()} == {
        line: [reason] for line, reason in bad.items()
    }
