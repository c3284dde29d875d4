"""The live service index on a real chDB: hand-built dossier stories with known answers.

Canonical dossier records go through aggregate's own handler (one batch per Kafka delivery, each
with its dedup token), so the materialized views of 0005 run exactly as in production; the
answers are read through ``GET /v1/service-index`` with a fixed "now".

chDB opens one path per process at a time (docs/platform.md "Embedded ClickHouse"): this module
has its own client on its own tmp path and empties the dossier tables before each test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import fold
from cchc_aggregate.clickhouse.rebuild import rebuild
from cchc_aggregate.query import routes
from cchc_aggregate.query.fetch.service_index import fetch_index
from cchc_aggregate.settings import AggregateSettings
from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
from cchc_runtime.records import Record
from cchc_shared.periods import parse_period
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from tests.integration.conftest import truncating

pytestmark = pytest.mark.connected

NOW = datetime.fromisoformat("2025-07-16T12:00:00+07:00")
DAY = "2025-07-15"
TABLES = (
    "dossier_events",
    "dossier_state",
    "service_daily",
    "service_province_daily",
    "dossier_open",
    "dossier_scores",  # 0009: the processing time comes from the scoreboard's counters
    "scoreboard_daily",
    "scoreboard_province_daily",
    "scoreboard_procedure_daily",
    "scoreboard_receipt_days",
    "scoreboard_dirty",
    "scoreboard_monthly",
)
P1, P2 = "1.004227", "2.002156"
C1, C2 = "00004", "00008"


clean = truncating(*TABLES)


@pytest.fixture
def http(clean: Store) -> TestClient:
    app = FastAPI()
    routes.install(app, clean, None, AggregateSettings(), clock=lambda: NOW)
    return TestClient(app)


class Feed:
    """Writes batches through the aggregate handler, each at new Kafka offsets."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.offset = 0

    def batch(self, *events: dict[str, Any], same_offsets_as: int | None = None) -> None:
        first = self.offset if same_offsets_as is None else same_offsets_as
        records = [
            Record("cchc.normalized", 0, first + i, e["dossier_id"].encode(), orjson.dumps(e), 0)
            for i, e in enumerate(events)
        ]
        ClickHouseSink(self.db, SinkMetrics.create(CollectorRegistry())).write(records)
        fold(self.db)  # what aggregate's background folder does next (clickhouse/fold.py)
        if same_offsets_as is None:
            self.offset += len(events)


def event(
    dossier: str,
    status: str,
    at: str,
    *,
    event_id: str | None = None,
    province: str = "01",
    unit_key: str | None = None,
    procedure: str = P1,
    due: str | None = None,
    channel: str | None = None,
    commune: str | None = None,
) -> dict[str, Any]:
    """A canonical dossier record; times are Vietnam time (+07:00) unless they say otherwise."""

    def ts(t: str) -> str:
        return t if "+" in t or t.endswith("Z") else f"{t}+07:00"

    return {
        "kind": "dossier",
        "event_id": event_id or f"{dossier}:{status}",
        "unit_key": unit_key or f"2025:{province}",
        "province": province,
        "dossier_id": dossier,
        "procedure_code": procedure,
        "status": status,
        "occurred_at": ts(at),
        "due_at": ts(due) if due else None,
        "channel": channel,
        "commune_code": commune,
    }


def received(dossier: str, at: str, due: str, channel: str, **kw: Any) -> dict[str, Any]:
    return event(dossier, "received", at, due=due, channel=channel, **kw)


def stories(feed: Feed) -> None:
    """Ten dossiers of Hà Nội (01) and one of Hồ Chí Minh (79) around 2025-07-15.

    A on time · B late · C resolved at the due minute · D resolved before its receipt arrives ·
    E resolution re-sent under new event ids · F receipt sent twice (another batch), open, not
    due · G rejected · H withdrawn (past due, but closed) · I open and overdue at NOW · J open,
    not due, no commune · K another province, same dossier id as A.
    """
    a = {"procedure": P1, "commune": C1}
    b = {"procedure": P2, "commune": C1}
    c = {"procedure": P1, "commune": C2}
    d = {"procedure": P2, "commune": C2}
    feed.batch(
        received("A", "2025-07-14T09:00", "2025-07-16T17:00", "online", **a),
        received("B", "2025-07-10T09:00", "2025-07-14T17:00", "in_person", **b),
        received("C", "2025-07-15T08:00", "2025-07-15T16:00", "online", **c),
        event("D", "resolved", "2025-07-15T12:00", **d),  # before its receipt
        received("E", "2025-07-15T08:30", "2025-07-20T17:00", "online", **a),
    )
    feed.batch(
        event("A", "resolved", "2025-07-15T10:00", **a),
        event("B", "supplement_requested", "2025-07-11T10:00", **b),
        event("B", "resolved", "2025-07-15T11:00", **b),
        event("C", "resolved", "2025-07-15T16:00", **c),  # exactly at due_at: on time
        event("E", "resolved", "2025-07-15T14:00", event_id="E:res-1", **a),
        received("F", "2025-07-15T10:00", "2025-07-30T17:00", "online", **a),
        received("G", "2025-07-15T09:30", "2025-07-18T17:00", "in_person", **d),
        received("H", "2025-07-15T10:30", "2025-07-16T10:00", "online", **a),
        received("I", "2025-07-15T07:45", "2025-07-16T08:00", "in_person", **d),
        received("J", "2025-07-15T13:00", "2025-07-25T17:00", "in_person", procedure=P2),
        received("A", "2025-07-15T09:00", "2025-07-16T17:00", "online", province="79", **a),
    )
    feed.batch(
        received("D", "2025-07-15T09:00", "2025-07-17T17:00", "postal", **d),
        event("E", "resolved", "2025-07-15T14:00", event_id="E:res-2", **a),  # same, new id
        received("F", "2025-07-15T10:00", "2025-07-30T17:00", "online", **a),  # exact duplicate
        event("G", "rejected", "2025-07-15T15:00", **d),
        event("H", "withdrawn", "2025-07-15T11:00", **a),
        event("A", "resolved", "2025-07-15T10:00", province="79", **a),
    )
    # A later re-send of E's resolution, another id and another day: still counts once.
    feed.batch(event("E", "resolved", "2025-07-16T09:00", event_id="E:res-3", **a))


def figure(http: TestClient, **params: str) -> dict[str, Any]:
    r = http.get("/v1/service-index", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    # Feed folds after each batch: the answer says when from (test_fold checks the value).
    assert body.pop("as_of") is not None
    return body


HANOI_DAY = {
    "period": DAY,
    "province": "01",
    "received": 8,  # C D E F G H I J (A and B were received earlier)
    "received_online": 4,  # C E F H
    "resolved": 5,  # A B C D E
    "resolved_on_time": 4,  # A C D E
    "resolved_late": 1,  # B
    "resolved_unclassified": 0,
    "on_time_rate": 80.0,
    "late_rate": 20.0,
    "online_rate": 50.0,
    "overdue_in_progress": 1,  # I
    # receipt → resolution: A 25 h, B 122 h, C 8 h, D 3 h, E 5.5 h → 163.5 / 5
    "avg_resolution_hours": 32.7,
}


def test_province_day(http: TestClient, clean: Store) -> None:
    stories(Feed(clean))
    assert figure(http, period=DAY, province="01") == HANOI_DAY


def test_national_rates_are_ratios_of_national_sums(http: TestClient, clean: Store) -> None:
    stories(Feed(clean))
    assert figure(http, period=DAY) == {
        "period": DAY,
        "province": None,
        "received": 9,
        "received_online": 5,
        "resolved": 6,
        "resolved_on_time": 5,
        "resolved_late": 1,
        "resolved_unclassified": 0,
        "on_time_rate": 83.33,
        "late_rate": 16.67,
        "online_rate": 55.56,
        "overdue_in_progress": 1,
        "avg_resolution_hours": 27.42,  # Hà Nội's 163.5 h and 79's A 1 h, over 6
    }
    assert figure(http, period=DAY, province="79")["resolved_on_time"] == 1


def test_month_counts_receipts_and_resolutions_on_their_own_days(
    http: TestClient, clean: Store
) -> None:
    stories(Feed(clean))
    month = figure(http, period="2025-07", province="01")
    assert (month["received"], month["received_online"], month["resolved"]) == (10, 5, 5)
    assert (month["resolved_on_time"], month["resolved_late"]) == (4, 1)
    # E's resolution re-sent on the 16th counts on the 15th only.
    assert figure(http, period="2025-07-16", province="01")["resolved"] == 0
    assert figure(http, period="2025-07-14", province="01")["received"] == 1  # A
    assert figure(http, period="2025-Q3")["received"] == 11


def test_resolution_before_receipt_is_classified_when_the_receipt_arrives(
    http: TestClient, clean: Store
) -> None:
    feed = Feed(clean)
    feed.batch(event("D", "resolved", "2025-07-15T12:00"))
    early = figure(http, period=DAY, province="01")
    assert (early["resolved"], early["resolved_unclassified"], early["on_time_rate"]) == (
        1,
        1,
        None,
    )
    assert early["received"] == 0
    feed.batch(received("D", "2025-07-15T09:00", "2025-07-15T11:00", "postal"))
    late = figure(http, period=DAY, province="01")
    assert (late["resolved"], late["resolved_late"], late["resolved_unclassified"]) == (1, 1, 0)
    assert (late["received"], late["overdue_in_progress"]) == (1, 0)


def test_redelivered_batch_and_duplicates_count_once(http: TestClient, clean: Store) -> None:
    feed = Feed(clean)
    batch = (
        received("X", "2025-07-15T09:00", "2025-07-16T09:00", "online"),
        event("X", "resolved", "2025-07-15T10:00"),
    )
    feed.batch(*batch)
    feed.batch(*batch, same_offsets_as=0)  # Kafka redelivery: same offsets, same dedup token
    feed.batch(*batch)  # the province re-sent both events: new offsets, same event ids
    body = figure(http, period=DAY, province="01")
    assert (body["received"], body["resolved"], body["resolved_on_time"]) == (1, 1, 1)
    assert clean.query("SELECT count() FROM dossier_state")[1] == [(1,)]


def test_dossier_ids_are_unique_only_within_a_unit_as_it_was(
    http: TestClient, clean: Store
) -> None:
    # Bình Dương (2004:74) and Bà Rịa - Vũng Tàu (2004:77) both numbered a dossier "X1" in June
    # 2025; both now count in Hồ Chí Minh (79), as two dossiers.
    feed = Feed(clean)
    for unit in ("2004:74", "2004:77"):
        feed.batch(
            received(
                "X1", "2025-06-20T09:00", "2025-06-27T17:00", "online", province="79", unit_key=unit
            ),
            event("X1", "resolved", "2025-06-25T09:00", province="79", unit_key=unit),
        )
    body = figure(http, period="2025-06", province="79")
    assert (body["received"], body["resolved"], body["resolved_on_time"]) == (2, 2, 2)


def test_overdue_is_as_of_now(clean: Store) -> None:
    Feed(clean).batch(received("I", "2025-07-15T07:45", "2025-07-16T08:00", "in_person"))
    period = parse_period(DAY)
    before = datetime.fromisoformat("2025-07-16T07:59:59+07:00")
    after = datetime.fromisoformat("2025-07-16T08:00:01+07:00")
    assert fetch_index(clean, period, "01", before).overdue_in_progress == 0
    assert fetch_index(clean, period, "01", after).overdue_in_progress == 1


def test_group_by_procedure_best_and_worst(http: TestClient, clean: Store) -> None:
    stories(Feed(clean))
    best = figure(http, period=DAY, province="01", group_by="procedure")
    assert (best["group_by"], best["order"]) == ("procedure", "best")
    rows = {r["key"]: r for r in best["rows"]}
    assert [r["key"] for r in best["rows"]] == [P1, P2]
    assert rows[P1] | {"key": P1} == {
        "key": P1,
        "received": 4,
        "received_online": 4,
        "resolved": 3,
        "resolved_on_time": 3,
        "resolved_late": 0,
        "resolved_unclassified": 0,
        "on_time_rate": 100.0,
        "late_rate": 0.0,
        "online_rate": 100.0,
        "overdue_in_progress": 0,
        "avg_resolution_hours": 12.83,  # A 25 h, C 8 h, E 5.5 h
    }
    assert (rows[P2]["resolved"], rows[P2]["on_time_rate"], rows[P2]["overdue_in_progress"]) == (
        2,
        50.0,
        1,
    )
    worst = figure(http, period=DAY, province="01", group_by="procedure", order="worst")
    assert [r["key"] for r in worst["rows"]] == [P2, P1]


def test_group_by_commune(http: TestClient, clean: Store) -> None:
    stories(Feed(clean))
    body = figure(http, period=DAY, province="01", group_by="commune")
    assert [(r["key"], r["received"], r["resolved"], r["on_time_rate"]) for r in body["rows"]] == [
        (C2, 4, 2, 100.0),
        (C1, 3, 3, 66.67),
        ("", 1, 0, None),  # J named no commune; no rate sorts last
    ]
    worst = figure(http, period=DAY, province="01", group_by="commune", order="worst")
    assert [r["key"] for r in worst["rows"]] == [C1, C2, ""]


def test_rebuild_gives_the_same_counters(http: TestClient, clean: Store) -> None:
    stories(Feed(clean))
    rebuild(clean.client)
    assert figure(http, period=DAY, province="01") == HANOI_DAY


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"period": "2025-13"}, 400, "bad_period"),
        ({"period": "2099-01"}, 400, "future_period"),
        ({"period": DAY, "province": "10"}, 404, "unknown_province"),  # retired in 2025
        ({"period": DAY, "group_by": "procedure"}, 400, "bad_group_by"),
        ({"period": DAY, "province": "01", "group_by": "agency"}, 400, "bad_group_by"),
        ({"period": DAY, "province": "01", "group_by": "commune", "order": "up"}, 400, "bad_order"),
        ({}, 422, "bad_request"),
    ],
)
def test_bad_questions_are_4xx_json(
    http: TestClient, params: dict[str, str], status: int, error: str
) -> None:
    r = http.get("/v1/service-index", params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


def test_empty_period_has_zero_counts_and_null_rates(http: TestClient) -> None:
    body = figure(http, period="2024")
    assert (body["received"], body["on_time_rate"], body["online_rate"]) == (0, None, None)
