"""The background fold (deploy/clickhouse/0012_fold_off_insert.sql, clickhouse/fold.py) on a real
chDB: the insert writes events only; a fold step over any number of batches gives the same states
and counters as one step per batch; a step interrupted mid-way (kill -9) is redone at the next
one and counts nothing twice.

The stories are test_scoreboard's Hà Nội October (dossiers, feedback and procedure events with
duplicates, re-sent events and late ratings), with their hand-computed answer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import (
    MONTHS,
    SOURCES,
    Folder,
    FoldMetrics,
    _fold_range,
    as_of,
    fold,
    freshness,
)
from cchc_aggregate.query import routes
from cchc_aggregate.settings import AggregateSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from tests.integration.conftest import truncating
from tests.integration.test_scoreboard import (
    HANOI_OCTOBER,
    HANOI_TOTAL,
    TABLES,
    Feed,
    app_for,
    criteria,
    hanoi_october,
    score,
    two_resolved,
)

pytestmark = pytest.mark.connected

COUNTERS = {
    "service_province_daily": "sum(received), sum(received_online), sum(resolved), "
    "sum(resolved_on_time), sum(resolved_late)",
    "service_daily": "sum(received), sum(resolved), sum(resolved_on_time)",
    "dossier_open": "sum(open)",
    "scoreboard_province_daily": "sum(received), sum(r_synced), sum(r_fee_paid), sum(resolved), "
    "sum(res_unsatisfied), sum(res_seconds)",
    "scoreboard_procedure_daily": "sum(received), sum(r_full_online)",
    "scoreboard_receipt_days": "sum(arraySum(mapValues(received))), sum(arraySum(mapValues(full)))",
    "feedback_daily": "sum(resolved), sum(classified), sum(on_time), sum(ok)",
}


clean = truncating(*TABLES)


@pytest.fixture
def http(clean: Store) -> TestClient:
    return app_for(clean)


class Unfolded(Feed):
    """Writes through the aggregate sink, as Feed, but leaves the fold to the test."""

    def batch(self, *records: dict[str, Any]) -> None:
        from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
        from cchc_runtime.records import Record
        from orjson import dumps
        from prometheus_client import CollectorRegistry

        out = [
            Record("cchc.normalized", 0, self.offset + i, b"k", dumps(r), 0)
            for i, r in enumerate(records)
        ]
        ClickHouseSink(self.db, SinkMetrics.create(CollectorRegistry())).write(out)
        self.offset += len(records)


def counters(db: Store) -> dict[str, Any]:
    return {t: db.query(f"SELECT {cols} FROM {t}")[1] for t, cols in COUNTERS.items()}


def states(db: Store) -> list[Any]:
    return [
        db.query("SELECT * EXCEPT events_seen FROM dossier_state ORDER BY dossier_key")[1],
        db.query("SELECT * EXCEPT events_seen FROM dossier_scores ORDER BY dossier_key")[1],
        db.query("SELECT * EXCEPT events_seen FROM feedback_state ORDER BY feedback_key")[1],
    ]


def test_the_insert_writes_events_only_until_the_fold(http: TestClient, clean: Store) -> None:
    hanoi_october(Unfolded(clean))
    assert clean.query("SELECT count() FROM dossier_events")[1][0][0] > 0
    assert clean.query("SELECT count() FROM dossier_scores")[1] == [(0,)]
    assert all(not any(any(v) for v in rows) for rows in counters(clean).values())
    steps = fold(clean)
    # Each source's step, then the scoreboard's months those steps changed (0015).
    assert [s.source for s in steps] == [*SOURCES, MONTHS]
    assert all(s.rows > 0 and not s.recovered for s in steps)
    body = score(http, period="2026-10", province="01")
    assert criteria(body) == HANOI_OCTOBER
    assert body["total"] == HANOI_TOTAL
    assert freshness(clean) is not None
    assert fold(clean) == []  # nothing new: no step


def test_one_step_for_many_batches_equals_one_step_per_batch(clean: Store) -> None:
    hanoi_october(Feed(clean))  # Feed folds after each batch
    per_batch = (counters(clean), states(clean))
    for table in ("dossier_events", "feedback_events", "procedure_events"):
        clean.client.command(f"TRUNCATE TABLE {table}")
    for table in (*COUNTERS, "dossier_state", "dossier_scores", "feedback_state"):
        clean.client.command(f"TRUNCATE TABLE {table}")
    feed = Unfolded(clean)
    hanoi_october(feed)
    hanoi_october(feed)  # every event again, at new offsets: duplicates
    fold(clean)
    assert (counters(clean), states(clean)) == per_batch


@pytest.mark.parametrize("crash", ["after the states", "after the counters"])
def test_an_interrupted_step_is_redone_without_counting_twice(
    http: TestClient, clean: Store, crash: str
) -> None:
    feed = Unfolded(clean)
    hanoi_october(feed)
    fold(clean)
    expected = (counters(clean), states(clean))
    # More events (the same again: duplicates), and a step that dies mid-way: 'begin' logged,
    # the views ran, 'done' never written.
    hanoi_october(feed)
    marks = dict(clean.query("SELECT source, max(hi) FROM fold_log GROUP BY source")[1])
    newest = dict(
        clean.query(
            "SELECT table, max(max_block_number) FROM system.parts WHERE active "
            "AND table IN ('dossier_events', 'feedback_events') GROUP BY table"
        )[1]
    )
    source = "dossier_events"
    lo, hi = int(marks[source]), int(newest[source])
    clean.command(
        "INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds) "
        f"VALUES ('{source}', 'begin', {lo}, {hi}, now64(3), 0, 0)"
    )
    _fold_range(clean, source, max(lo - 20, 0), hi)  # and more: a range the states had seen already
    if crash == "after the states":  # the counters' views never ran
        for table in COUNTERS:
            clean.client.command(f"TRUNCATE TABLE {table}")
    else:  # the counters written twice
        clean.client.command(
            "INSERT INTO scoreboard_province_daily (province, day, received) "
            "VALUES ('01', '2026-10-01', 7)"
        )
    assert counters(clean) != expected[0]
    steps = fold(clean)
    assert [(s.source, s.lo, s.hi, s.recovered) for s in steps if s.recovered] == [
        (source, lo, hi, True)
    ]
    assert (counters(clean), states(clean)) == expected
    assert criteria(score(http, period="2026-10", province="01")) == HANOI_OCTOBER
    assert fold(clean) == []


def _caught_up(step: Any, store: Store) -> dict[str, datetime]:
    """Fold until no backlog is left (the log was emptied: the watermark starts again at block 0
    and a step takes MAX_STEP_BLOCKS at most); each source's last cutoff."""
    cutoffs: dict[str, datetime] = {}
    while True:
        steps = step(store)
        cutoffs |= {s.source: s.cutoff for s in steps if not s.capped and s.cutoff is not None}
        if not any(s.capped for s in steps):
            assert set(cutoffs) == set(SOURCES)
            return cutoffs


def _as_of(http: TestClient, path: str, **params: str) -> datetime | None:
    r = http.get(path, params=params)
    assert r.status_code == 200, r.text
    value = r.json()["as_of"]
    return None if value is None else datetime.fromisoformat(value)


ANSWERS = (
    ("/v1/service-index", {"period": "2026-10-15", "province": "01"}),
    ("/v1/service-index", {"period": "2026-10-15", "province": "01", "group_by": "procedure"}),
    ("/v1/scoreboard", {"period": "2026-10", "province": "01"}),
    ("/v1/scoreboard", {"period": "2026-10"}),
)


def test_the_answers_are_as_of_the_last_fold_cutoff(http: TestClient, clean: Store) -> None:
    clean.client.command("TRUNCATE TABLE fold_log")  # as if no fold had ever run
    feed = Unfolded(clean)
    hanoi_october(feed)
    for path, params in ANSWERS:
        assert _as_of(http, path, **params) is None, path
    cutoff = min(_caught_up(fold, clean).values())
    for path, params in ANSWERS:
        got = _as_of(http, path, **params)
        assert got is not None, path
        assert abs(got - cutoff) < timedelta(milliseconds=1), (path, got, cutoff)  # stored in ms
    assert got is not None
    hanoi_october(feed)  # inserted after the cutoff, not folded yet: the answers still say so
    for path, params in ANSWERS:
        assert _as_of(http, path, **params) == got, path
    later = fold(clean)
    assert later
    path, params = ANSWERS[0]
    newer = _as_of(http, path, **params)
    assert newer is not None
    assert newer > got


def test_on_a_cluster_the_answers_are_as_of_the_query(clean: Store) -> None:
    clean.client.command("TRUNCATE TABLE fold_log")  # no Folder there: nothing in the log
    app = FastAPI()
    routes.install(app, clean, None, AggregateSettings(cluster="cchc"))
    before = datetime.now(UTC)
    path, params = ANSWERS[0]
    got = _as_of(TestClient(app), path, **params)
    assert got is not None
    assert got >= before - timedelta(milliseconds=1)


def test_the_folder_counts_rows_and_keeps_its_lag_while_nothing_arrives(clean: Store) -> None:
    registry = CollectorRegistry()
    folder = Folder(clean, metrics=FoldMetrics.create(registry), refresh_s=0)
    hanoi_october(Unfolded(clean))
    folded: list[Any] = []

    def tick(_: Store) -> list[Any]:
        steps = folder.tick()
        folded.extend(steps)
        return steps

    cutoffs = _caught_up(tick, clean)
    for source in SOURCES:
        labels = {"service": "aggregate", "source": source}
        rows = sum(s.rows for s in folded if s.source == source)
        assert registry.get_sample_value("cchc_fold_rows_total", labels) == rows > 0
        lag = registry.get_sample_value("cchc_fold_lag_seconds", labels)
        assert lag is not None
        assert lag >= 0
    logged = as_of(clean)
    assert logged is not None
    held = folder.as_of()  # a source with nothing new is caught up as of the later tick
    assert held is not None
    assert held >= min(cutoffs.values())
    assert held >= logged
    # Nothing new: no step, nothing logged, but the folder is caught up as of this tick.
    assert folder.tick() == []
    assert as_of(clean) == logged
    caught_up = folder.as_of()
    assert caught_up is not None
    assert caught_up > held
    assert caught_up > max(cutoffs.values())
    # The gauge is read at each scrape: a fold that stops ticking shows as a lag that grows.
    folder.caught_up["dossier_events"] = datetime.now(UTC) - timedelta(minutes=2)
    labels = {"service": "aggregate", "source": "dossier_events"}
    stale = registry.get_sample_value("cchc_fold_lag_seconds", labels)
    assert stale is not None
    assert stale >= 120


def test_one_process_folds_at_a_time(clean: Store) -> None:
    """Two aggregate processes on one database (0017): one folds, the other stands by, and takes
    over once the holder's heartbeats stop; a waiting process never displaces a holder."""
    clean.client.command("TRUNCATE TABLE fold_holders")
    holder, waiting = Folder(clean, name="b", refresh_s=0), Folder(clean, name="a", refresh_s=0)
    feed = Unfolded(clean)
    hanoi_october(feed)
    assert holder.tick()  # nobody else: it folds
    assert waiting.tick() == []  # the other one holds, although "a" sorts first
    assert waiting.holder == holder.name
    feed.batch(*two_resolved("79", 1, 1))
    assert waiting.tick() == []
    assert [s.source for s in holder.tick()] == ["dossier_events", MONTHS]
    http = app_for(clean)
    assert criteria(score(http, period="2026-10", province="01")) == HANOI_OCTOBER
    assert score(http, period="2026-10", province="79")["total"] == 16.0  # p1 10 + s3 6
    # The holder stops ticking: once its last heartbeat is older than the holding time, the
    # first by name of those waiting takes over and folds what arrived meanwhile.
    late = Folder(clean, name="c", refresh_s=0)
    assert not late.holds()
    waiting.hold_s = late.hold_s = 0.5
    time.sleep(0.6)
    feed.batch(*two_resolved("48", 1, 0))
    clean.client.command(f"INSERT INTO fold_holders VALUES ('{waiting.name}', now64(3), false)")
    assert late.tick() == []  # "a" waits too and sorts first
    assert [s.source for s in waiting.tick()] == ["dossier_events", MONTHS]
    assert waiting.holder == waiting.name
    assert score(http, period="2026-10", province="48")["total"] == 26.0  # p1 20 + s3 6
    # A process restarted under its instance name takes its own place back at once.
    restarted = Folder(clean, name="a", refresh_s=0, hold_s=0.5)
    assert restarted.holds()
    # Two that both fold (started in the same instant): the later name yields.
    clean.client.command(f"INSERT INTO fold_holders VALUES ('{late.name}', now64(3), true)")
    late.holder = late.name
    assert waiting.holds()
    assert not late.holds()


def test_the_months_are_refreshed_every_refresh_s_and_as_of_waits_for_them(clean: Store) -> None:
    clean.client.command("TRUNCATE TABLE fold_holders")
    folder, feed = Folder(clean, refresh_s=3600), Unfolded(clean)
    hanoi_october(feed)
    assert folder.tick()[-1].source == MONTHS  # the first tick refreshes
    before = folder.as_of()
    assert before is not None
    http = app_for(clean)
    assert score(http, period="2026-10", province="79")["total"] is None
    feed.batch(*two_resolved("79", 1, 1))
    # Folded, but the months wait for the next refresh, and so does as_of.
    assert [s.source for s in folder.tick()] == ["dossier_events"]
    assert score(http, period="2026-10", province="79")["total"] is None
    assert folder.as_of() == before
    logged = as_of(clean)  # the fold log's (to the millisecond) has not moved either
    assert logged is not None
    assert before - timedelta(milliseconds=1) <= logged <= before
    folder.refresh_s = 0
    assert [s.source for s in folder.tick()] == [MONTHS]
    assert score(http, period="2026-10", province="79")["total"] == 16.0
    after = folder.as_of()
    assert after is not None
    assert after > before
