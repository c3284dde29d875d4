"""Bộ chỉ số 766 on a real chDB: hand-computed stories with known answers.

Canonical records (dossier, feedback, procedure) go through aggregate's own sink, batch by batch,
so the materialized views of 0008/0009 run exactly as in production; the answers are read
through ``GET /v1/scoreboard``. Every expected figure is worked out by hand in the comments
(docs/analysts.md "Bộ chỉ số 766" has the rules).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import fold
from cchc_aggregate.clickhouse.rebuild import rebuild
from cchc_aggregate.query import routes
from cchc_aggregate.query.rules.scoreboard import ScoringTable
from cchc_aggregate.settings import AggregateSettings
from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
from cchc_runtime.records import Record
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from tests.integration.test_service_index import HANOI_DAY
from tests.integration.test_service_index import NOW as SERVICE_NOW
from tests.integration.test_service_index import Feed as ServiceFeed
from tests.integration.test_service_index import stories as service_stories

pytestmark = pytest.mark.connected

NOW = datetime.fromisoformat("2026-11-29T12:00:00+07:00")
TABLES = (
    "dossier_events",
    "dossier_state",
    "service_daily",
    "service_province_daily",
    "dossier_open",
    "feedback_events",
    "procedure_events",
    "dossier_scores",
    "scoreboard_daily",
    "scoreboard_province_daily",
    "scoreboard_procedure_daily",
    "scoreboard_receipt_days",
    "scoreboard_dirty",
    "scoreboard_monthly",
    "feedback_state",
    "feedback_daily",
)
P1, P2 = "1.004227", "2.002156"
PACKAGED = (
    Path(__file__).resolve().parents[2]
    / "services/aggregate/cchc_aggregate/query/rules/scoreboard_766.json"
)


@pytest.fixture
def clean(db: Store) -> Store:
    for table in TABLES:
        db.client.command(f"TRUNCATE TABLE {table}")
    return db


def app_for(store: Store, scoring: ScoringTable | None = None) -> TestClient:
    app = FastAPI()
    routes.install(app, store, None, AggregateSettings(), clock=lambda: NOW, scoring=scoring)
    return TestClient(app)


@pytest.fixture
def http(clean: Store) -> TestClient:
    return app_for(clean)


class Feed:
    """Writes canonical records through the aggregate sink, each batch at new Kafka offsets."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.offset = 0

    def batch(self, *records: dict[str, Any]) -> None:
        out = [
            Record("cchc.normalized", 0, self.offset + i, b"k", orjson.dumps(r), 0)
            for i, r in enumerate(records)
        ]
        ClickHouseSink(self.db, SinkMetrics.create(CollectorRegistry())).write(out)
        fold(self.db)  # what aggregate's background folder does next (clickhouse/fold.py)
        self.offset += len(records)


def ts(t: str) -> str:
    """Vietnam time unless the text says otherwise."""
    return t if "+" in t or t.endswith("Z") else f"{t}+07:00"


def dossier(
    dossier_id: str,
    status: str,
    at: str,
    *,
    province: str = "01",
    unit_key: str | None = None,
    procedure: str = P1,
    event_id: str | None = None,
    due: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "kind": "dossier",
        "event_id": event_id or f"{province}:{dossier_id}:{status}:{at}",
        "unit_key": unit_key or f"2025:{province}",
        "province": province,
        "dossier_id": dossier_id,
        "procedure_code": procedure,
        "status": status,
        "occurred_at": ts(at),
        "due_at": ts(due) if due else None,
        **fields,
    }


def feedback(
    feedback_id: str,
    status: str,
    at: str,
    *,
    province: str = "01",
    due: str | None = None,
    satisfied: bool | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "feedback",
        "event_id": event_id or f"{province}:{feedback_id}:{status}:{at}",
        "unit_key": f"2025:{province}",
        "province": province,
        "feedback_id": feedback_id,
        "status": status,
        "occurred_at": ts(at),
        "due_at": ts(due) if due else None,
        "satisfied": satisfied,
    }


def procedure(
    code: str,
    action: str,
    at: str,
    due: str,
    *,
    province: str = "01",
    complete: bool | None = None,
    online: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "procedure",
        "event_id": event_id or f"{province}:{code}:{action}:{at}",
        "unit_key": f"2025:{province}",
        "province": province,
        "procedure_code": code,
        "action": action,
        "occurred_at": ts(at),
        "due_at": ts(due),
        "complete": complete,
        "online": online,
    }


def score(http: TestClient, **params: str) -> dict[str, Any]:
    r = http.get("/v1/scoreboard", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def criteria(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """code → (numerator, denominator, rate, points, max)."""
    return {
        c["code"]: (c["numerator"], c["denominator"], c["rate"], c["points"], c["max"])
        for g in body["groups"]
        for c in g["criteria"]
    }


# --- the full story: Hà Nội (01), October 2026 ----------------------------------------------------

RECEIVED = "2026-10-05T08:00"
DUE = "2026-10-07T17:00"


def hanoi_october(feed: Feed) -> None:
    """Known counts per criterion (each figure worked out in HANOI_OCTOBER below).

    Procedures: P1 published on 1 September with online = full (before the period: it counts
    for the offer, not for t2/t3); P2 never published. In October: 4 announcements (3 on time),
    5 publications of other procedures (4 on time, 3 complete).
    Dossiers D1–D10 received 5 October: D1–D8 procedure P1, D9–D10 P2.
    Feedback F1–F5 resolved in October.
    """
    # Procedure events arrive last and out of order: the offer is read at query time.
    feed.batch(
        *[
            dossier(
                f"D{i}",
                "received",
                RECEIVED,
                due=DUE,
                procedure=P1 if i <= 8 else P2,
                channel="online" if i <= 7 or i == 9 else "in_person",
                online_mode="full" if i <= 6 or i == 9 else ("partial" if i == 7 else None),
                synced_national=i <= 9 or None,
                fee_required=i <= 5 or None,
                paid_online=i <= 4 or i == 9 or None,
            )
            for i in range(1, 11)
        ]
    )
    # Flags set on later events count too (OR), on the day of the receipt.
    feed.batch(
        *[
            dossier(
                f"D{i}",
                "resolved",
                "2026-10-06T08:00" if i <= 7 else "2026-10-08T08:00",  # D8 late
                result_electronic=i <= 6 or None,
                digitized=i <= 7 or None,
                reused_data=i <= 5 or None,
            )
            for i in range(1, 9)
        ],
        # D2 rated unsatisfied, then satisfied (latest wins); D3 the other way round.
        dossier("D1", "rated", "2026-10-09T09:00", satisfied=False),
        dossier("D2", "rated", "2026-10-09T09:00", satisfied=False),
        dossier("D3", "rated", "2026-10-09T09:00", satisfied=True),
    )
    feed.batch(
        dossier("D3", "rated", "2026-10-10T09:00", satisfied=False),
        dossier("D2", "rated", "2026-10-10T09:00", satisfied=True),
        # Duplicates and a resolution re-sent under another id change nothing.
        dossier("D1", "resolved", "2026-10-06T08:00", event_id="D1:resolved:again"),
        dossier("D1", "rated", "2026-10-09T09:00", satisfied=False),
    )
    due = "2026-10-20T17:00"
    feed.batch(
        *[feedback(f"F{i}", "received", "2026-10-02T08:00", due=due) for i in range(1, 6)],
        feedback("F1", "resolved", "2026-10-15T08:00", satisfied=True),
        feedback("F2", "resolved", "2026-10-20T17:00"),  # at the deadline: on time; no reaction
        feedback("F3", "resolved", "2026-10-22T08:00", satisfied=True),  # late
        feedback("F4", "resolved", "2026-10-19T08:00", satisfied=False),  # unsatisfied
        feedback("F5", "resolved", "2026-10-25T08:00", satisfied=False),  # late and unsatisfied
    )
    feed.batch(
        procedure(
            P1, "published", "2026-09-01T08:00", "2026-09-05T17:00", complete=True, online="full"
        ),
        *[
            procedure(f"3.{i:06d}", "announced", f"2026-10-0{i}T08:00", "2026-10-03T17:00")
            for i in range(1, 5)  # 1–3 on time, 4 (4 October) late
        ],
        *[
            procedure(
                f"4.{i:06d}",
                "published",
                f"2026-10-1{i}T08:00",
                "2026-10-14T17:00",
                complete=i <= 3,
                online="none",
            )
            for i in range(1, 6)  # 1–4 on time (11–14 October), 5 late; 1–3 complete
        ],
    )
    # The same publication re-sent under another event id: one act.
    feed.batch(
        procedure(
            "4.000001",
            "published",
            "2026-10-11T08:00",
            "2026-10-14T17:00",
            complete=True,
            online="none",
            event_id="again",
        )
    )


HANOI_OCTOBER = {
    # t1: 3 of 4 announcements on time → 75 % of 4 points = 3.00
    "t1_announced_on_time": (3, 4, 75.0, 3.0, 4.0),
    # t2: 4 of 5 publications on time → 80 % of 4 = 3.20
    "t2_published_on_time": (4, 5, 80.0, 3.2, 4.0),
    # t3: 3 of 5 complete → 60 % of 4 = 2.40
    "t3_published_complete": (3, 5, 60.0, 2.4, 4.0),
    # t4: D1–D9 synced of 10 received → 90 % of 6 = 5.40
    "t4_dossiers_synced": (9, 10, 90.0, 5.4, 6.0),
    # p1: D1–D7 on time, D8 late → 87.5 % of 20 = 17.50
    "p1_resolved_on_time": (7, 8, 87.5, 17.5, 20.0),
    # o1: P1 offered full (D1–D8); D1–D6 full online (D7 partial, D8 in person; D9 is full
    # online but P2 is not offered) → 6/8 = 75 % of 12 = 9.00
    "o1_full_online": (6, 8, 75.0, 9.0, 12.0),
    # pay1: D1–D5 have a fee, D1–D4 paid online (D9 paid without a fee: not counted) → 80 % of 10
    "pay1_paid_online": (4, 5, 80.0, 8.0, 10.0),
    # d1: D1–D6 electronic result of 8 resolved → 75 % of 8 = 6.00
    "d1_result_electronic": (6, 8, 75.0, 6.0, 8.0),
    # d2: D1–D7 digitised (flag on the resolution event) of 10 received → 70 % of 8 = 5.60
    "d2_digitized": (7, 10, 70.0, 5.6, 8.0),
    # d3: D1–D5 reused data of 10 → 50 % of 6 = 3.00
    "d3_reused_data": (5, 10, 50.0, 3.0, 6.0),
    # s1: F1 F2 F4 on time of 5 → 60 % of 6 = 3.60
    "s1_feedback_on_time": (3, 5, 60.0, 3.6, 6.0),
    # s2: 5 minus F3 (late), F4 (unsatisfied), F5 (late and unsatisfied: once) = 2 → 40 % = 2.40
    "s2_feedback_satisfied": (2, 5, 40.0, 2.4, 6.0),
    # s3: 8 resolved minus D1 and D3 (latest rating unsatisfied) = 6 → 75 % of 6 = 4.50
    "s3_dossiers_satisfied": (6, 8, 75.0, 4.5, 6.0),
}
# 3 + 3.2 + 2.4 + 5.4 | 17.5 | 9 | 8 | 6 + 5.6 + 3 | 3.6 + 2.4 + 4.5
HANOI_GROUPS = {
    "transparency": (14.0, 18.0),
    "progress": (17.5, 20.0),
    "online": (9.0, 12.0),
    "payment": (8.0, 10.0),
    "digitization": (14.6, 22.0),
    "satisfaction": (10.5, 18.0),
}
HANOI_TOTAL = 73.6


def test_a_province_with_known_counts(http: TestClient, clean: Store) -> None:
    hanoi_october(Feed(clean))
    body = score(http, period="2026-10", province="01")
    assert criteria(body) == HANOI_OCTOBER
    assert {g["code"]: (g["points"], g["max"]) for g in body["groups"]} == HANOI_GROUPS
    assert (body["period"], body["province"], body["name"]) == ("2026-10", "01", "Hà Nội")
    assert (body["total"], body["max"], body["max_available"]) == (HANOI_TOTAL, 100.0, 100.0)
    assert (body["rank"], body["rank_of"]) == (1, 1)
    # D1–D7 took 24 h, D8 72 h: (7 × 24 + 72) / 8 = 30 h.
    assert body["avg_resolution_hours"] == 30.0
    assert not [n for n in body["notes"] if "no data" in n]
    assert "province_mean" not in body
    assert "provinces" not in body


def test_the_same_events_in_another_order_score_the_same(http: TestClient, clean: Store) -> None:
    records: list[dict[str, Any]] = []

    class Collect(Feed):
        def batch(self, *r: dict[str, Any]) -> None:
            records.extend(r)

    hanoi_october(Collect(clean))
    feed = Feed(clean)
    # Reversed, one event per batch, every event twice: the state folds to the same.
    for record in reversed(records):
        feed.batch(record)
        feed.batch(record)
    body = score(http, period="2026-10", province="01")
    assert criteria(body) == HANOI_OCTOBER
    assert body["total"] == HANOI_TOTAL


def test_rebuild_gives_the_same_counters(http: TestClient, clean: Store) -> None:
    hanoi_october(Feed(clean))
    # Counters lost (a crash between the state and the counters): rebuilt from the states.
    for table in ("scoreboard_daily", "scoreboard_province_daily", "feedback_daily"):
        clean.client.command(f"TRUNCATE TABLE {table}")
    clean.client.command("TRUNCATE TABLE scoreboard_procedure_daily")
    rebuild(clean.client)
    assert criteria(score(http, period="2026-10", province="01")) == HANOI_OCTOBER


def test_the_scoring_table_is_data(clean: Store, tmp_path: Path) -> None:
    hanoi_october(Feed(clean))
    copy = tmp_path / "scoreboard.json"
    shutil.copy(PACKAGED, copy)
    data = json.loads(copy.read_text(encoding="utf-8"))
    for group in data["groups"]:
        for criterion in group["criteria"]:
            if criterion["code"] == "p1_resolved_on_time":
                criterion["max"] = 30
    copy.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    body = score(app_for(clean, ScoringTable.load(copy)), period="2026-10", province="01")
    # p1: 87.5 % of 30 = 26.25, 8.75 more than of 20.
    assert criteria(body)["p1_resolved_on_time"] == (7, 8, 87.5, 26.25, 30.0)
    assert (body["total"], body["max"], body["max_available"]) == (82.35, 110.0, 110.0)


# --- no data, old-style producers ---------------------------------------------------------------


def test_a_criterion_without_data_is_null_and_noted(http: TestClient, clean: Store) -> None:
    # Hồ Chí Minh (79): two dossiers only, no procedure or feedback events.
    Feed(clean).batch(
        dossier("X", "received", RECEIVED, province="79", due=DUE, channel="online"),
        dossier(
            "Y", "received", RECEIVED, province="79", due=DUE, channel="online", digitized=True
        ),
        dossier("X", "resolved", "2026-10-06T08:00", province="79"),
        dossier("Y", "resolved", "2026-10-09T08:00", province="79"),  # late
    )
    body = score(http, period="2026-10", province="79")
    got = criteria(body)
    nulls = {code for code, c in got.items() if c[2] is None}
    assert nulls == {
        "t1_announced_on_time",
        "t2_published_on_time",
        "t3_published_complete",
        "o1_full_online",  # no publication: no procedure is offered full-online
        "pay1_paid_online",  # no dossier with a fee
        "s1_feedback_on_time",
        "s2_feedback_satisfied",
    }
    assert all(got[code][3] is None for code in nulls)
    for code in nulls:
        assert any(n.startswith(code) and "no data" in n for n in body["notes"]), code
    # Left: t4 0/2 → 0; p1 1/2 → 10; d1 0/2 → 0; d2 1/2 → 4; d3 0/2 → 0; s3 2/2 → 6.
    assert got["p1_resolved_on_time"] == (1, 2, 50.0, 10.0, 20.0)
    assert got["d2_digitized"] == (1, 2, 50.0, 4.0, 8.0)
    assert got["s3_dossiers_satisfied"] == (2, 2, 100.0, 6.0, 6.0)
    # total over the criteria with data: 0 + 10 + 0 + 4 + 0 + 6; their maxima 6+20+8+8+6+6.
    assert (body["total"], body["max_available"], body["max"]) == (20.0, 54.0, 100.0)
    groups = {g["code"]: g["points"] for g in body["groups"]}
    assert (groups["online"], groups["payment"], groups["transparency"]) == (None, None, 0.0)


def test_an_old_style_dossier_stream_scores_as_before(http: TestClient, clean: Store) -> None:
    # The service-index stories (only the fields dossier producers always had): the service
    # index is unchanged, and p1 is its on-time rate.
    service_stories(ServiceFeed(clean))
    app = FastAPI()
    routes.install(app, clean, None, AggregateSettings(), clock=lambda: SERVICE_NOW)
    index = TestClient(app).get(
        "/v1/service-index", params={"period": "2025-07-15", "province": "01"}
    )
    assert {k: v for k, v in index.json().items() if k != "as_of"} == HANOI_DAY
    body = score(http, period="2025-07", province="01")
    got = criteria(body)
    # July: 4 on time of 5 classified (as the service index says) → 80 % of 20 = 16.
    assert got["p1_resolved_on_time"] == (4, 5, 80.0, 16.0, 20.0)
    month = http.get("/v1/service-index", params={"period": "2025-07", "province": "01"}).json()
    assert got["p1_resolved_on_time"][2] == month["on_time_rate"]
    # Received 10, resolved 5 (as the service index); no flag was ever sent: 0 of them.
    assert got["t4_dossiers_synced"] == (0, 10, 0.0, 0.0, 6.0)
    assert got["d1_result_electronic"] == (0, 5, 0.0, 0.0, 8.0)
    # Nobody rated a dossier unsatisfied: 5 of 5.
    assert got["s3_dossiers_satisfied"] == (5, 5, 100.0, 6.0, 6.0)
    assert body["total"] == 22.0


# --- late ratings, ties, merged units, the nation -----------------------------------------------


def test_a_rating_after_the_period_closed_counts_for_the_resolution(
    http: TestClient, clean: Store
) -> None:
    feed = Feed(clean)
    feed.batch(
        dossier("R", "received", "2026-10-29T08:00", due="2026-10-31T17:00", channel="online"),
        dossier("R", "resolved", "2026-10-30T08:00"),
    )
    before = criteria(score(http, period="2026-10", province="01"))
    assert before["s3_dossiers_satisfied"] == (1, 1, 100.0, 6.0, 6.0)
    # Rated unsatisfied on 2 November, after October closed: October's s3 changes.
    feed.batch(dossier("R", "rated", "2026-11-02T09:00", satisfied=False))
    after = criteria(score(http, period="2026-10", province="01"))
    assert after["s3_dossiers_satisfied"] == (0, 1, 0.0, 0.0, 6.0)
    assert criteria(score(http, period="2026-11", province="01"))["s3_dossiers_satisfied"][1] == 0
    # An older rating arriving later does not override the latest one.
    feed.batch(dossier("R", "rated", "2026-10-31T09:00", satisfied=True))
    assert criteria(score(http, period="2026-10", province="01"))["s3_dossiers_satisfied"][0] == 0


def two_resolved(province: str, on_time: int, late: int) -> list[dict[str, Any]]:
    out = []
    for i in range(on_time + late):
        d = f"{province}-{i}"
        out.append(dossier(d, "received", RECEIVED, province=province, due=DUE, channel="online"))
        resolved = "2026-10-06T08:00" if i < on_time else "2026-10-09T08:00"
        out.append(dossier(d, "resolved", resolved, province=province))
    return out


def test_ties_share_a_rank(http: TestClient, clean: Store) -> None:
    # 01 and 79 equal (1 on time of 2), 48 better (2 of 2), 92 worse (0 of 1).
    Feed(clean).batch(
        *two_resolved("01", 1, 1),
        *two_resolved("79", 1, 1),
        *two_resolved("48", 2, 0),
        *two_resolved("92", 0, 1),
    )
    body = score(http, period="2026-10")
    # p1 (20) and s3 (6): 48: 20 + 6 = 26; 01, 79: 10 + 6 = 16; 92: 0 + 6 = 6.
    assert [(p["province"], p["total"], p["rank"]) for p in body["provinces"]] == [
        ("48", 26.0, 1),
        ("01", 16.0, 2),
        ("79", 16.0, 2),
        ("92", 6.0, 4),
    ]
    assert body["rank_of"] == 4
    assert (score(http, period="2026-10", province="79")["rank"]) == 2


def test_the_national_pooled_figure_and_the_province_mean(http: TestClient, clean: Store) -> None:
    # 01: 9 on time of 10 → p1 18, s3 6 → 24. 79: 0 of 1 → p1 0, s3 6 → 6.
    Feed(clean).batch(*two_resolved("01", 9, 1), *two_resolved("79", 0, 1))
    body = score(http, period="2026-10")
    got = criteria(body)
    # Pooled: 9 on time of 11 → 81.82 %, 20 × 9/11 = 16.36; s3 11 of 11 → 6; total 22.36.
    assert got["p1_resolved_on_time"] == (9, 11, 81.82, 16.36, 20.0)
    assert body["total"] == 22.36
    # The mean of the provinces' totals, (24 + 6) / 2 = 15, is another figure: both stated.
    assert body["province_mean"] == 15.0
    assert any("22.36" in n and "15.0" in n for n in body["notes"])
    assert (body["province"], body["name"], body["rank"]) == (None, "Toàn quốc", None)


def test_merged_units_in_a_2025_period(http: TestClient, clean: Store) -> None:
    # Q2 2025, before the merger: old Lào Cai (2004:10) resolved 3 of 3 on time, old Yên Bái
    # (2004:15) 0 of 1. Both count in today's Lào Cai (15): 3 of 4 = 75 % (the mean of their
    # rates would be 50 %) → p1 15 + s3 6 = 21.
    records = []
    for unit, on_time, late in (("2004:10", 3, 0), ("2004:15", 0, 1)):
        for i in range(on_time + late):
            records.append(
                dossier(
                    f"M{i}",
                    "received",
                    "2025-05-05T08:00",
                    province="15",
                    unit_key=unit,
                    due="2025-05-07T17:00",
                    channel="online",
                )
            )
            at = "2025-05-06T08:00" if i < on_time else "2025-05-09T08:00"
            records.append(dossier(f"M{i}", "resolved", at, province="15", unit_key=unit))
    Feed(clean).batch(*records)
    body = score(http, period="2025-Q2", province="15")
    assert criteria(body)["p1_resolved_on_time"] == (3, 4, 75.0, 15.0, 20.0)
    assert (body["name"], body["total"]) == ("Lào Cai", 21.0)
    half = score(http, period="2025-H1")
    assert [(p["province"], p["total"]) for p in half["provinces"]] == [("15", 21.0)]


def test_the_offer_is_the_latest_publication_before_the_receipt(
    http: TestClient, clean: Store
) -> None:
    # P2 published full at 10:00 on 12 October, withdrawn to partial at 15:00: of the receipts
    # that day only the one at 11:00 is offered full-online; the 09:00 one had no offer yet,
    # the 16:00 one a partial offer. On 13 October (no publication) nothing is offered full.
    feed = Feed(clean)
    feed.batch(
        *[
            dossier(
                f"O{h}",
                "received",
                f"2026-10-12T{h:02d}:00",
                procedure=P2,
                due=DUE,
                channel="online",
                online_mode="full",
            )
            for h in (9, 11, 16)
        ],
        dossier(
            "O13",
            "received",
            "2026-10-13T09:00",
            procedure=P2,
            due="2026-10-20T17:00",
            channel="online",
            online_mode="full",
        ),
    )
    assert criteria(score(http, period="2026-10", province="01"))["o1_full_online"][1] == 0
    feed.batch(
        procedure(
            P2, "published", "2026-10-12T10:00", "2026-10-20T17:00", complete=True, online="full"
        ),
        procedure(
            P2, "published", "2026-10-12T15:00", "2026-10-20T17:00", complete=True, online="partial"
        ),
    )
    assert criteria(score(http, period="2026-10", province="01"))["o1_full_online"] == (
        1,
        1,
        100.0,
        12.0,
        12.0,
    )
    # A full offer from 11 October on: every receipt of 12 October before 15:00 and none after.
    feed.batch(
        procedure(
            P2, "published", "2026-10-11T10:00", "2026-10-20T17:00", complete=True, online="full"
        ),
    )
    assert criteria(score(http, period="2026-10", province="01"))["o1_full_online"][:2] == (2, 2)


def test_an_earlier_receipt_moves_a_dossier_across_the_publication(
    http: TestClient, clean: Store
) -> None:
    # P2 published full at 10:00 on 12 October (first, before any dossier). A received at 11:00
    # and B at 14:00 that day, both online-full: 2 of 2. Then A's earlier receipt arrives, at
    # 09:00 the same day — before the publication: A is no longer offered (1 of 1); then B's,
    # at 09:00 on 11 October — a day without an offer: B leaves too (0 of 0). C, received on
    # 13 October in person, is offered all day: 0 of 1 at the end.
    feed = Feed(clean)
    feed.batch(
        procedure(
            P2, "published", "2026-10-12T10:00", "2026-10-20T17:00", complete=True, online="full"
        )
    )
    online = {"procedure": P2, "due": DUE, "channel": "online", "online_mode": "full"}
    feed.batch(
        dossier("A", "received", "2026-10-12T11:00", **online),
        dossier("B", "received", "2026-10-12T14:00", **online),
    )
    assert criteria(score(http, period="2026-10", province="01"))["o1_full_online"][:2] == (2, 2)
    feed.batch(dossier("A", "received", "2026-10-12T09:00", **online))
    assert criteria(score(http, period="2026-10", province="01"))["o1_full_online"][:2] == (1, 1)
    feed.batch(
        dossier("B", "received", "2026-10-11T09:00", **online),
        dossier("C", "received", "2026-10-13T09:00", procedure=P2, due=DUE, channel="in_person"),
    )
    body = score(http, period="2026-10", province="01")
    assert criteria(body)["o1_full_online"][:3] == (0, 1, 0.0)
    # Every dossier still counts as received, each once.
    assert criteria(body)["d2_digitized"][1] == 3


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"period": "2026-13"}, 400, "bad_period"),
        ({"period": "2099-01"}, 400, "future_period"),
        ({"period": "2026-10-05"}, 400, "bad_period"),  # a day: not a scoring period
        ({"period": "2026-9M"}, 400, "bad_period"),
        ({"period": "2026-10", "province": "10"}, 404, "unknown_province"),
        ({}, 422, "bad_request"),
    ],
)
def test_bad_questions_are_4xx_json(
    http: TestClient, params: dict[str, str], status: int, error: str
) -> None:
    r = http.get("/v1/scoreboard", params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


def test_an_empty_period(http: TestClient) -> None:
    body = score(http, period="2024")
    assert (body["total"], body["max_available"], body["province_mean"]) == (None, 0.0, None)
    assert (body["provinces"], body["rank_of"]) == ([], 0)
    assert len([n for n in body["notes"] if "no data" in n]) == 13
