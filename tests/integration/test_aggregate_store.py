"""aggregate on a real chDB: migrations, reference tables, revisions, dedup, DLQ, query API.

chDB opens one path per process at a time (docs/platform.md "Embedded ClickHouse"), so this
module shares one client on its own tmp path (the session `stack` runs its aggregate in another
process) and empties the fact tables before each test.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.clickhouse.reference import sync_reference
from cchc_aggregate.clickhouse.sandbox import SqlSandbox
from cchc_aggregate.query import routes
from cchc_aggregate.settings import AggregateSettings
from cchc_aggregate.sink.tokens import dedup_token
from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
from cchc_runtime.records import Record
from cchc_runtime.stage import Result
from cchc_shared.periods import parse_period
from cchc_shared.provinces import Era, default_registry
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from tests.integration.conftest import MIGRATIONS

pytestmark = pytest.mark.connected


@pytest.fixture
def clean(db: Store) -> Store:
    for table in ("observations", "dossier_events"):
        db.client.command(f"TRUNCATE TABLE {table}")
    return db


@pytest.fixture
def http(clean: Store) -> TestClient:
    app = FastAPI()
    sandbox = SqlSandbox(f"chdb://{clean.client.path}")  # type: ignore[attr-defined]
    routes.install(app, clean, None, AggregateSettings(), sandbox=sandbox)
    return TestClient(app)


def observation(event_id: str, **fields: Any) -> dict[str, Any]:
    """A canonical observation (what normalize publishes); unit '2004:14' (Sơn La) by default."""
    period = parse_period(str(fields.get("period", "2024")))
    unit_key = str(fields.pop("unit_key", "2004:14"))
    era, code = unit_key.split(":")
    unit = default_registry().get(code, Era(era))
    assert unit is not None
    record: dict[str, Any] = {
        "kind": "observation",
        "event_id": event_id,
        "indicator": "dossiers.received",
        "period": period.text,
        "period_type": period.type.value,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "ytd": period.ytd,
        "unit_key": unit_key,
        "unit_code": code,
        "unit_era": era,
        "province": unit.successor_code,
        "value": 1.0,
        "unit": "dossier",
        "reported_at": "2025-01-10T09:00:00+07:00",
    }
    record.update(fields)
    record["period"] = period.text
    return record


def records(payloads: list[dict[str, Any]], first_offset: int = 0) -> list[Record]:
    return [
        Record("cchc.normalized", 0, first_offset + i, p["event_id"].encode(), orjson.dumps(p), 0)
        for i, p in enumerate(payloads)
    ]


def sink(db: Store) -> ClickHouseSink:
    return ClickHouseSink(db, SinkMetrics.create(CollectorRegistry()))


def write(db: Store, payloads: list[dict[str, Any]], first_offset: int = 0) -> Result:
    return sink(db).write(records(payloads, first_offset))


def count(db: Store, sql: str) -> Any:
    return db.query(sql)[1][0][0]


# --- storage ---------------------------------------------------------------------------------


def test_migrations_are_idempotent_and_reference_tables_are_loaded(db: Store) -> None:
    assert migrate(db.client, MIGRATIONS) == []
    assert sync_reference(db.client) == {
        "provinces": 97,
        "province_lineage": 97,
        "indicators": 39,
        "scoreboard_criteria": 13,
    }
    assert count(db, "SELECT count() FROM provinces") == 97
    assert db.query(
        "SELECT name, successor_code, successor_name FROM provinces WHERE key = '2004:02'"
    )[1] == [("Hà Giang", "08", "Tuyên Quang")]
    assert count(db, "SELECT count() FROM province_lineage WHERE province = '25'") == 4
    assert (
        count(db, "SELECT numerator FROM indicators WHERE code = 'dossiers.late_rate'")
        == "dossiers.resolved_late"
    )
    comments = dict(
        db.query(
            "SELECT name, comment FROM system.tables WHERE database = currentDatabase() "
            "AND name LIKE 'v\\_%'"
        )[1]
    )
    assert set(comments) >= {"v_observations_latest", "v_national_sum", "v_national_ratio"}
    assert all(comments.values())


@pytest.mark.parametrize("order", ["low_first", "high_first"])
def test_higher_revision_wins_in_either_arrival_order(clean: Store, order: str) -> None:
    low = observation("r0", value=10.0, revision=0, reported_at="2025-02-01T00:00:00+07:00")
    high = observation("r1", value=20.0, revision=1, reported_at="2025-01-01T00:00:00+07:00")
    batches = [[low], [high]] if order == "low_first" else [[high], [low]]
    for offset, batch in enumerate(batches):
        write(clean, batch, first_offset=offset)
    assert clean.query("SELECT value FROM v_observations_latest")[1] == [(20.0,)]


@pytest.mark.parametrize("order", ["early_first", "late_first"])
def test_equal_revision_later_reported_at_wins(clean: Store, order: str) -> None:
    early = observation("a", value=10.0, reported_at="2025-01-01T00:00:00+07:00")
    late = observation("b", value=30.0, reported_at="2025-01-02T00:00:00+07:00")
    batches = [[early], [late]] if order == "early_first" else [[late], [early]]
    for offset, batch in enumerate(batches):
        write(clean, batch, first_offset=offset)
    assert clean.query("SELECT value FROM v_observations_latest")[1] == [(30.0,)]


def test_exact_duplicates_are_counted_once(http: TestClient, clean: Store) -> None:
    same = observation("dup", value=5.0)
    write(clean, [same], first_offset=0)
    write(clean, [same], first_offset=1)  # redelivered later, another offset
    assert count(clean, "SELECT value FROM v_national_sum WHERE period = '2024'") == 5.0
    body = http.get("/v1/national", params={"indicator": "dossiers.received", "period": "2024"})
    assert body.json()["value"] == 5.0


def test_batch_retried_after_failure_between_insert_and_commit_is_counted_once(
    clean: Store,
) -> None:
    payloads = [observation(f"b{i}", unit_key=f"2004:{c}") for i, c in enumerate(["01", "14"])]
    batch = records(payloads)
    sink(clean).write(batch)  # inserted, then the process "dies" before the commit
    sink(clean).write(batch)  # read again from the same offsets after the restart
    # Stored again (a single server deduplicates no insert: Store.deduplicate), counted once.
    assert count(clean, "SELECT count() FROM observations FINAL") == 2
    assert count(clean, "SELECT count() FROM v_observations_latest") == 2


def _failed_attempt(store: Store, batch: list[Record]) -> None:
    """What an insert whose part was never renamed into place leaves behind: its token in the
    deduplication log (if the table keeps one), and no rows. Modelled exactly: the batch written
    through `store`, then its rows deleted (the log is untouched)."""
    sink(store).write(batch)
    store.client.command("DELETE FROM observations WHERE startsWith(event_id, 'retry-')")
    assert count(store, "SELECT count() FROM observations") == 0


def test_a_retried_batch_is_stored_though_clickhouse_kept_the_token_of_its_failed_attempt(
    clean: Store,
) -> None:
    """A plain MergeTree writes an insert's token to its deduplication log before it renames the
    part into place: when the rename fails (a disk refusing writes, a kill), the log keeps the
    token and the table has no rows. Retried with that token, the batch would be dropped as a
    copy of itself — lost. Two defences, each shown alone: the tables keep no log (0018), and
    aggregate's store asks for no deduplication (Store.deduplicate)."""
    batch = records(
        [observation(f"retry-{i}", unit_key=f"2004:{c}") for i, c in enumerate(["01", "14"])]
    )
    deduplicating = Store(clean.client, deduplicate=True)  # sends the batch's token
    # The engine: since 0018 even a writer that sends a token has its retry stored.
    _failed_attempt(deduplicating, batch)
    sink(deduplicating).write(batch)
    assert count(clean, "SELECT count() FROM observations FINAL") == 2
    # The store, on a table that keeps a log (as before 0018, or one made by hand).
    clean.client.command("TRUNCATE TABLE observations")
    clean.client.command(
        "ALTER TABLE observations MODIFY SETTING non_replicated_deduplication_window = 10000"
    )
    try:
        _failed_attempt(deduplicating, batch)
        sink(deduplicating).write(batch)  # the hazard: the retry is taken for a copy
        assert count(clean, "SELECT count() FROM observations") == 0, dedup_token(batch)
        sink(clean).write(batch)  # aggregate's store on a single server
        assert count(clean, "SELECT count() FROM observations FINAL") == 2
        # And when its own attempt failed: no token, but ClickHouse would hash the same rows.
        clean.client.command("TRUNCATE TABLE observations")
        _failed_attempt(clean, batch)
        sink(clean).write(batch)
        assert count(clean, "SELECT count() FROM observations FINAL") == 2
    finally:
        clean.client.command(
            "ALTER TABLE observations MODIFY SETTING non_replicated_deduplication_window = 0"
        )


def test_new_records_at_offsets_seen_before_are_stored(clean: Store) -> None:
    """After an embedded-broker restart offsets begin at 0 again: not mistaken for retries."""
    first = records([observation("r1", unit_key="2004:01")])
    later = [
        r._replace(value=orjson.dumps(observation("r2", unit_key="2004:14")), timestamp_ms=5)
        for r in records([observation("r2", unit_key="2004:14")])
    ]
    assert (first[0].offset, later[0].offset) == (0, 0)
    sink(clean).write(first)
    sink(clean).write(later)
    assert count(clean, "SELECT count() FROM observations") == 2


def test_rows_clickhouse_refuses_are_dead_lettered_and_the_rest_inserted(
    clean: Store,
) -> None:
    good = [observation(f"g{i}", unit_key=f"2004:{c}") for i, c in enumerate(["01", "12", "14"])]
    bad = observation("bad", unit_key="2004:02", revision=10**7)  # version overflows UInt64
    result = write(clean, [good[0], bad, good[1], good[2]])
    assert count(clean, "SELECT count() FROM observations") == 3
    [reject] = result.rejects
    assert (reject.record.key, reject.record.offset) == (b"bad", 1)
    assert reject.reason == "storage_rejected"
    assert reject.errors[0].msg


# --- views and the query API -------------------------------------------------------------------


def late_rate_data() -> list[dict[str, Any]]:
    return [
        observation(
            "hn", unit_key="2004:01", indicator="dossiers.late_rate", unit="percent",
            value=1.0, numerator=1_000.0, denominator=100_000.0,
        ),
        observation("sl-l", unit_key="2004:14", indicator="dossiers.resolved_late", value=200.0),
        observation("sl-r", unit_key="2004:14", indicator="dossiers.resolved", value=1_000.0),
        observation(
            "lc", unit_key="2004:12", indicator="dossiers.late_rate", unit="percent", value=50.0
        ),
    ]  # fmt: skip


def test_national_ratio_view_and_api_agree(http: TestClient, clean: Store) -> None:
    write(clean, late_rate_data())
    r = http.get("/v1/national", params={"indicator": "dossiers.late_rate", "period": "2024"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == pytest.approx(100 * 1_200 / 101_000)
    assert (body["numerator"], body["denominator"]) == (1_200.0, 101_000.0)
    assert (body["provinces_reported"], body["provinces_expected"]) == (2, 34)
    assert any("only a percentage" in n for n in body["notes"])
    view = clean.query(
        "SELECT value, numerator, denominator, provinces_weighted, provinces_percentage_only "
        "FROM v_national_ratio WHERE indicator = 'dossiers.late_rate' AND period = '2024'"
    )[1]
    assert view == [(pytest.approx(body["value"]), 1_200.0, 101_000.0, 2, 1)]


def test_provinces_route_ranks_best_first(http: TestClient, clean: Store) -> None:
    write(clean, late_rate_data())
    r = http.get("/v1/provinces", params={"indicator": "dossiers.late_rate", "period": "2024"})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(x["province"], x["rank"]) for x in rows[:3]] == [("01", 1), ("14", 2), ("12", 3)]
    assert rows[0]["name"] == "Hà Nội"


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"indicator": "nope", "period": "2024"}, 404, "unknown_indicator"),
        ({"indicator": "staff.cut", "period": "2024-Q5"}, 400, "bad_period"),
        ({"indicator": "staff.cut", "period": "2099"}, 400, "future_period"),
        ({"indicator": "staff.cut", "period": "2024", "boundary": "x"}, 400, "bad_boundary"),
        ({"indicator": "staff.cut"}, 422, "bad_request"),
    ],
)
def test_bad_questions_are_4xx_json(
    http: TestClient, params: dict[str, str], status: int, error: str
) -> None:
    for route in ("/v1/national", "/v1/provinces"):
        r = http.get(route, params=params)
        assert r.status_code == status, r.text
        assert r.json()["error"] == error
        assert r.json()["detail"]


def test_sql_is_read_only_and_errors_are_4xx(http: TestClient) -> None:
    ok = http.post("/v1/sql", json={"sql": "SELECT count() AS n FROM provinces"})
    assert ok.json() == {"columns": ["n"], "rows": [[97]]}
    for sql in (
        "DROP TABLE observations",
        "SELECT nope FROM nowhere",
        "INSERT INTO provinces VALUES",
    ):
        r = http.post("/v1/sql", json={"sql": sql})
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_sql"
    assert http.post("/v1/sql", json={}).status_code == 422
    assert http.get("/docs").status_code == 200


def test_national_ratio_derived_from_every_provinces_monthly_components(
    http: TestClient, clean: Store
) -> None:
    # Every 2025 province reports 12 months of both components: 34 × 12 × 2 rows, and more noise.
    payloads = []
    for unit in default_registry().units(Era.POST_2025):
        for month in range(7, 13):
            for code, value in (("dossiers.resolved_late", 3.0), ("dossiers.resolved", 100.0)):
                payloads.append(
                    observation(
                        f"{unit.code}-{month}-{code}", unit_key=unit.key, indicator=code,
                        period=f"2025-{month:02d}", value=value,
                    )
                )  # fmt: skip
    write(clean, payloads)
    params = {"indicator": "dossiers.late_rate", "period": "2025-H2"}
    # Latency is measured by `make bench`, never asserted in a test.
    body = http.get("/v1/national", params=params).json()
    assert body["value"] == pytest.approx(3.0)
    assert body["provinces_reported"] == 34


def test_sql_cannot_change_the_writer_session(http: TestClient, clean: Store) -> None:
    for sql in ("SET insert_deduplicate = 0", "USE system", "SELECT 1 SETTINGS max_result_rows=0"):
        r = http.post("/v1/sql", json={"sql": sql})
        assert r.status_code == 400, r.text
    # system.* is not an analyst table (docs/security.md "SQL sandbox")
    assert (
        http.post("/v1/sql", json={"sql": "SELECT name FROM system.settings LIMIT 1"}).json()[
            "error"
        ]
        == "bad_sql"
    )
    # After analysts' queries the writer still writes (they run in sessions of their own).
    write(clean, [observation("after-sql")])
    assert count(clean, "SELECT count() FROM observations") == 1
