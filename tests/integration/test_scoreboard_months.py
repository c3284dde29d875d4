"""The scoreboard's months kept by the fold (deploy/clickhouse/0015_scoreboard_monthly.sql) on a
real chDB: what a question reads from ``scoreboard_monthly`` is what the daily tables give for the
same period, whatever arrives late — a publication before months already scored, a rating of an
old month, an earlier receipt in another month — and after a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from cchc_aggregate.clickhouse import scoreboard_months
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import MAX_STEP_BLOCKS, SOURCES, Folder, fold, freshness
from cchc_aggregate.clickhouse.fold import as_of as fold_as_of
from cchc_aggregate.clickhouse.migrations import statements
from cchc_aggregate.clickhouse.rebuild import rebuild
from cchc_aggregate.query.fetch.scoreboard import fetch_counters, whole_months
from cchc_shared.periods import Period, parse_period

from tests.integration.conftest import MIGRATIONS
from tests.integration.test_fold import Unfolded
from tests.integration.test_scoreboard import (
    P1,
    P2,
    Feed,
    clean,  # noqa: F401 (fixture)
    dossier,
    feedback,
    procedure,
)

pytestmark = pytest.mark.connected

MONTHS = ("2026-08", "2026-09", "2026-10", "2026-Q3", "2026-H2", "2026", "2026-10M", "2025/2026")
ONLINE = {"channel": "online", "online_mode": "full"}


def period(text: str) -> Period:
    return parse_period(text, today=date(2026, 11, 29))


def both(db: Store, text: str, province: str | None = None) -> tuple[Any, Any]:
    """(what the question reads from the months, what the daily tables give)."""
    p = period(text)
    assert whole_months(p)
    return (
        fetch_counters(db, p, province),
        fetch_counters(db, p, province, monthly=False),
    )


def assert_months_agree(db: Store) -> None:
    for text in MONTHS:
        kept, live = both(db, text)
        assert kept == live, text
        kept, live = both(db, text, "01")
        assert kept == live, (text, "01")


def test_a_late_publication_rescores_every_later_month(clean: Store) -> None:  # noqa: F811
    # Dossiers of P2, online-full, received in August, September and October; P2 never published:
    # no offer, o1's denominator is 0 in every month.
    feed = Feed(clean)
    feed.batch(
        *[
            dossier(f"L{m}", "received", f"2026-{m:02d}-15T09:00", procedure=P2, **ONLINE)
            for m in (8, 9, 10)
        ]
    )
    assert "o1_offered" not in fetch_counters(clean, period("2026-10")).get("01", {})
    # Then the publication of 1 August arrives: the offer of all three receipts. Its own month
    # and both later ones change.
    feed.batch(procedure(P2, "published", "2026-08-01T08:00", "2026-08-10T17:00", online="full"))
    for month in ("2026-08", "2026-09", "2026-10"):
        got = fetch_counters(clean, period(month))["01"]
        assert (got["o1_offered"], got["o1_full_online"]) == (1, 1), month
    assert fetch_counters(clean, period("2026-Q3"))["01"]["o1_offered"] == 2
    assert_months_agree(clean)


def test_late_events_of_old_months(clean: Store) -> None:  # noqa: F811
    feed = Feed(clean)
    due = {"due": "2026-08-20T17:00"}
    feed.batch(
        dossier("A", "received", "2026-08-10T09:00", **due, **ONLINE),
        dossier("A", "resolved", "2026-08-18T09:00"),
        feedback("F", "received", "2026-08-01T09:00", due="2026-08-05T17:00"),
        feedback("F", "resolved", "2026-08-04T09:00"),
    )
    # October: an unsatisfied rating of A and of F (resolved in August: August's counts move),
    # and A's earlier receipt, in July (A leaves August's receipts for July's).
    feed.batch(
        dossier("A", "rated", "2026-10-02T09:00", satisfied=False),
        feedback("F", "resolved", "2026-10-02T10:00", satisfied=False),
    )
    august = fetch_counters(clean, period("2026-08"))["01"]
    assert august["res_unsatisfied"] == 1
    assert (august["fb_on_time"], august.get("fb_ok", 0)) == (1, 0)
    assert "res_unsatisfied" not in fetch_counters(clean, period("2026-10")).get("01", {})
    feed.batch(dossier("A", "received", "2026-07-30T09:00", **due, **ONLINE))
    july, august = (fetch_counters(clean, period(m))["01"] for m in ("2026-07", "2026-08"))
    assert july["received"] == 1
    assert "received" not in august
    assert_months_agree(clean)


def test_rebuild_recomputes_the_months(clean: Store) -> None:  # noqa: F811
    feed = Feed(clean)
    feed.batch(
        dossier("A", "received", "2026-09-10T09:00", due="2026-09-20T17:00"),
        dossier("A", "resolved", "2026-09-12T09:00"),
    )
    right = fetch_counters(clean, period("2026-09"))
    # A month row gone wrong (as after a crash between the states and the counters), and one for
    # a month with no data at all: rebuild marks every month with data or with a row, and the
    # next fold step writes them again.
    clean.client.command(
        "INSERT INTO scoreboard_monthly (key, province, month, counters) VALUES "
        "('01|2026-09-01', '01', '2026-09-01', map('received', 7)), "
        "('01|2026-06-01', '01', '2026-06-01', map('received', 3))"
    )
    assert fetch_counters(clean, period("2026-09")) != right
    rebuild(clean.client)
    fold(clean)
    assert fetch_counters(clean, period("2026-09")) == right
    assert fetch_counters(clean, period("2026-06")) == {}
    assert_months_agree(clean)


def test_random_arrivals_keep_the_months_equal_to_the_days(clean: Store) -> None:  # noqa: F811
    """Seeded: dossiers, ratings, feedback and publications of three provinces over three months,
    sent in shuffled batches with duplicates; after every batch the months agree with the days."""
    rng = random.Random(766)
    events: list[dict[str, Any]] = []
    for n in range(120):
        province = rng.choice(("01", "79", "48"))
        month = rng.choice((8, 9, 10))
        day = rng.randint(1, 28)
        received = f"2026-{month:02d}-{day:02d}T{rng.randint(7, 17):02d}:00"
        fields: dict[str, Any] = {
            "province": province,
            "procedure": rng.choice((P1, P2)),
            "due": f"2026-{month:02d}-{min(day + 5, 28):02d}T17:00",
            "channel": rng.choice(("online", "in_person")),
            "online_mode": rng.choice(("full", "partial", None)),
            "fee_required": rng.choice((True, None)),
            "paid_online": rng.choice((True, None)),
        }
        events.append(dossier(f"R{n}", "received", received, **fields))
        if rng.random() < 0.7:
            resolved = (
                f"2026-{min(month + rng.randint(0, 1), 11):02d}-{rng.randint(1, 28):02d}T10:00"
            )
            events.append(dossier(f"R{n}", "resolved", resolved, province=province))
            if rng.random() < 0.5:
                events.append(
                    dossier(
                        f"R{n}",
                        "rated",
                        f"2026-11-{rng.randint(1, 28):02d}T10:00",
                        province=province,
                        satisfied=rng.random() < 0.6,
                    )
                )
    for n in range(30):
        province = rng.choice(("01", "79", "48"))
        month = rng.choice((8, 9, 10))
        events.append(
            feedback(
                f"F{n}",
                "received",
                f"2026-{month:02d}-02T09:00",
                province=province,
                due=f"2026-{month:02d}-12T17:00",
            )
        )
        events.append(
            feedback(
                f"F{n}",
                "resolved",
                f"2026-{month:02d}-{rng.randint(3, 20):02d}T09:00",
                province=province,
                satisfied=rng.choice((True, False, None)),
            )
        )
    for _ in range(24):
        events.append(
            procedure(
                rng.choice((P1, P2)),
                rng.choice(("published", "announced")),
                f"2026-{rng.choice((7, 8, 9, 10)):02d}-{rng.randint(1, 28):02d}T08:00",
                "2026-10-15T17:00",
                province=rng.choice(("01", "79", "48")),
                complete=rng.choice((True, False)),
                online=rng.choice(("full", "full", "partial", "none")),
            )
        )
    events += rng.sample(events, 20)  # duplicates
    rng.shuffle(events)
    feed = Feed(clean)
    for start in range(0, len(events), 40):
        feed.batch(*events[start : start + 40])
        assert_months_agree(clean)
    national = fetch_counters(clean, period("2026-H2"))
    assert set(national) == {"01", "79", "48"}
    assert sum(c.get("o1_offered", 0) for c in national.values()) > 0


# ---- Adversarial review (wt/review): each test is one way the months could part from the days.


def test_acts_of_two_old_units_with_one_event_id_survive_a_merge(clean: Store) -> None:  # noqa: F811
    # Two old units of one new province announce the same procedure at the same instant, and
    # their producers derive the event id from the act ("P1:announced"), as 0012 says dossier
    # producers do. The live SQL counts acts per unit: two. A merge of procedure_events must not
    # collapse them into one after the fold has written the month.
    acts = []
    for unit in ("2023:01", "2023:26"):
        act = procedure(P1, "announced", "2026-09-05T08:00", "2026-09-10T17:00", event_id="a")
        act["unit_key"] = unit
        acts.append(act)
    feed = Feed(clean)
    feed.batch(acts[0])
    feed.batch(acts[1])
    assert fetch_counters(clean, period("2026-09"), monthly=False)["01"]["t1_announced"] == 2
    clean.client.command("OPTIMIZE TABLE procedure_events FINAL")
    assert fetch_counters(clean, period("2026-09"), monthly=False)["01"]["t1_announced"] == 2
    assert_months_agree(clean)


def test_months_are_vietnam_months(clean: Store) -> None:  # noqa: F811
    # Instants in UTC that are already the next month in Vietnam (UTC+7): each act, receipt,
    # resolution and feedback belongs to September, not August.
    feed = Feed(clean)
    feed.batch(
        dossier("Z", "received", "2026-08-31T18:30Z", due="2026-09-05T17:00", **ONLINE),
        dossier("Z", "resolved", "2026-09-30T17:30Z"),  # 1 October in Vietnam
        feedback("G", "received", "2026-08-31T17:10Z", due="2026-09-05T17:00"),
        feedback("G", "resolved", "2026-08-31T17:20Z"),
        procedure(P1, "announced", "2026-08-31T20:00Z", "2026-09-10T17:00"),
        procedure(P2, "published", "2026-08-31T20:00Z", "2026-09-10T17:00", online="full"),
    )
    september = fetch_counters(clean, period("2026-09"))["01"]
    assert september["received"] == 1
    assert september["t1_announced"] == 1
    assert fetch_counters(clean, period("2026-08")) == {}
    assert fetch_counters(clean, period("2026-10"))["01"]["resolved"] == 1
    assert_months_agree(clean)


def fold_dying_before_the_refresh(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold whose steps are logged done and whose process dies before the months' refresh."""

    def crash(store: Store, acts_upto: int) -> int:
        raise RuntimeError("killed before the months were refreshed")

    with monkeypatch.context() as patched:
        patched.setattr(scoreboard_months, "refresh", crash)
        with pytest.raises(RuntimeError):
            fold(store)


def test_an_answer_is_not_as_of_a_step_whose_months_are_not_refreshed(
    clean: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A step logged done, then the process dies (or the refresh fails) before the months are
    # recomputed: the marks wait for the next fold. Meanwhile the answers, and a new process
    # reading the fold log, must not claim the step's cutoff for the months.
    feed = Unfolded(clean)
    feed.batch(dossier("B", "received", "2026-09-03T09:00", **ONLINE))
    fold(clean)
    held = fold_as_of(clean)
    assert held is not None
    # Every source has a step in the fold that dies: the log's as_of moves past `held`.
    feed.batch(
        dossier("C", "received", "2026-09-04T09:00", **ONLINE),
        feedback("H", "received", "2026-09-04T09:00", due="2026-09-08T17:00"),
        procedure(P1, "announced", "2026-09-04T08:00", "2026-09-10T17:00"),
    )
    fold_dying_before_the_refresh(clean, monkeypatch)
    step = freshness(clean, "dossier_events")
    assert step is not None
    assert step > held
    assert all(freshness(clean, source) == step for source in SOURCES)
    assert fetch_counters(clean, period("2026-09"))["01"]["received"] == 1  # not in the months
    for claimed in (fold_as_of(clean), Folder(clean).as_of()):
        assert claimed is not None
        assert claimed < step
    folder = Folder(clean)
    folder.tick()  # the restarted process's first tick recomputes the marked months
    assert fetch_counters(clean, period("2026-09"))["01"]["received"] == 2
    after = (fold_as_of(clean), folder.as_of())
    assert all(t is not None and t >= step for t in after)


def test_a_question_during_the_refresh_never_counts_a_moved_dossier_twice(
    clean: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A's receipt moves from September to August (an earlier receipt arrives late): both months
    # change in one step. A question of the quarter asked while the refresh writes the months
    # must see both old or both new, never August new and September old (A received twice).
    feed = Feed(clean)
    feed.batch(
        dossier("A", "received", "2026-09-10T09:00", due="2026-09-20T17:00", **ONLINE),
        dossier("A", "resolved", "2026-09-12T09:00"),
    )
    seen: list[int] = []
    write = clean.insert

    def watched(table: str, columns: dict[str, list[Any]], token: str) -> None:
        write(table, columns, token)
        if table == "scoreboard_monthly":  # a question between this write and the next
            seen.append(fetch_counters(clean, period("2026-Q3"))["01"]["received"])

    monkeypatch.setattr(clean, "insert", watched)
    feed.batch(dossier("A", "received", "2026-08-30T09:00", due="2026-09-20T17:00", **ONLINE))
    assert seen
    assert set(seen) == {1}
    assert fetch_counters(clean, period("2026-08"))["01"]["received"] == 1
    assert_months_agree(clean)


def test_migrating_a_database_with_data_fills_the_months(clean: Store) -> None:  # noqa: F811
    # A database of 0014 with data: states and daily tables folded, procedure acts, a dossier event
    # not folded yet; no months and no marks. 0015 (and 0016) are applied, then the fold runs.
    feed = Unfolded(clean)
    feed.batch(
        procedure(P2, "published", "2026-07-20T08:00", "2026-07-25T17:00", online="full"),
        procedure(P1, "announced", "2026-08-05T08:00", "2026-08-10T17:00"),
        *[
            dossier(f"M{m}", "received", f"2026-{m:02d}-15T09:00", procedure=P2, **ONLINE)
            for m in (8, 9, 10)
        ],
        dossier("M8", "resolved", "2026-09-02T09:00"),
        feedback("K", "received", "2026-08-01T09:00", due="2026-08-05T17:00"),
        feedback("K", "resolved", "2026-08-04T09:00", satisfied=False),
    )
    fold(clean)
    feed.batch(dossier("M9", "resolved", "2026-10-20T09:00"))  # not folded before the upgrade
    for table in ("scoreboard_dirty", "scoreboard_monthly"):
        clean.client.command(f"TRUNCATE TABLE {table}")
    for name in ("0015_scoreboard_monthly.sql", "0016_procedure_events_unit_key.sql"):
        for statement in statements((MIGRATIONS / name).read_text()):
            clean.client.command(statement)
    fold(clean)
    assert fetch_counters(clean, period("2026-10"))["01"]["resolved"] == 1
    assert_months_agree(clean)
    # After the upgrade the fold goes on from the copy's watermark: a later publication of the
    # same offer, in August, is folded once and rescores August onward.
    feed.batch(procedure(P2, "published", "2026-08-01T08:00", "2026-08-02T17:00", online="none"))
    steps = fold(clean)
    assert [s.rows for s in steps if s.source == "procedure_events"] == [1]
    assert "o1_full_online" not in fetch_counters(clean, period("2026-10"))["01"]
    assert_months_agree(clean)


def test_an_interrupted_step_of_procedure_events_is_redone_once(clean: Store) -> None:  # noqa: F811
    # The step over new procedure acts died after 'begin' (its marks never written): the next
    # fold redoes it, the months change, and the one after has nothing left to do.
    feed = Unfolded(clean)
    feed.batch(dossier("D", "received", "2026-10-15T09:00", procedure=P2, **ONLINE))
    fold(clean)
    feed.batch(procedure(P2, "published", "2026-08-01T08:00", "2026-08-10T17:00", online="full"))
    _, rows = clean.query(
        "SELECT max(hi) FROM fold_log WHERE source = 'procedure_events' AND phase = 'done'"
    )
    lo = int(rows[0][0])
    _, rows = clean.query(
        "SELECT max(max_block_number) FROM system.parts "
        "WHERE active AND database = currentDatabase() AND table = 'procedure_events'"
    )
    hi = int(rows[0][0])
    clean.command(
        "INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds) "
        f"VALUES ('procedure_events', 'begin', {lo}, {hi}, now64(3), 0, 0)"
    )
    steps = fold(clean)
    assert [(s.source, s.recovered) for s in steps if s.source == "procedure_events"] == [
        ("procedure_events", True)
    ]
    assert fetch_counters(clean, period("2026-10"))["01"]["o1_offered"] == 1
    assert_months_agree(clean)
    assert fold(clean) == []


def test_a_publication_written_during_the_refresh_waits_for_its_own_step(
    clean: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Receipts of P2 in August, September and October (each month marked), then the writer
    # inserts P2's publication of 1 August while the fold recomputes those months. Months
    # computed before the insert lack it, later ones would have it: the quarter would count the
    # offer in September and not in August, a state of the data that never was. The refresh reads
    # the acts its steps have marked, no newer ones; the next step marks the publication onward.
    feed = Unfolded(clean)
    feed.batch(
        *[
            dossier(f"W{m}", "received", f"2026-{m:02d}-15T09:00", procedure=P2, **ONLINE)
            for m in (8, 9, 10)
        ]
    )
    ask = clean.query
    written: list[bool] = []

    def writer_meanwhile(sql: str, parameters: Any = None, **kw: Any) -> Any:
        out = ask(sql, parameters, **kw)
        if parameters and "provinces" in parameters and not written:  # the first month's query
            written.append(True)
            feed.batch(
                procedure(P2, "published", "2026-08-01T08:00", "2026-08-10T17:00", online="full")
            )
        return out

    monkeypatch.setattr(clean, "query", writer_meanwhile)
    fold(clean)
    monkeypatch.undo()
    assert written
    for month in ("2026-08", "2026-09", "2026-10"):
        assert "o1_offered" not in fetch_counters(clean, period(month))["01"], month
    fold(clean)  # the publication's own step
    assert fetch_counters(clean, period("2026-Q3"))["01"]["o1_offered"] == 2
    assert_months_agree(clean)


def test_a_backlog_taken_in_over_several_steps_is_not_claimed_by_the_months(
    clean: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # More dossier inserts wait than one step takes: the first fold takes MAX_STEP_BLOCKS of them
    # (its cutoff stays the previous step's) and refreshes their months; the second takes the
    # rest and dies before its refresh. The months then hold only the first part of the backlog:
    # the answers' as_of must not be past the backlog's first insert.
    feed = Unfolded(clean)
    feed.batch(feedback("Q", "received", "2026-09-01T09:00", due="2026-09-05T17:00"))
    fold(clean)
    before = datetime.now(UTC)
    for n in range(MAX_STEP_BLOCKS + 3):
        feed.batch(dossier(f"K{n}", "received", "2026-09-10T09:00", **ONLINE))
    feed.batch(feedback("Q", "resolved", "2026-09-02T09:00"))  # another source, not capped
    first = fold(clean)
    assert any(s.capped for s in first)
    assert fetch_counters(clean, period("2026-09"))["01"]["received"] == MAX_STEP_BLOCKS
    feed.batch(  # every source has a step in the fold that dies
        feedback("Q", "rated", "2026-09-03T09:00"),
        procedure(P1, "announced", "2026-09-04T08:00", "2026-09-10T17:00"),
    )
    fold_dying_before_the_refresh(clean, monkeypatch)
    assert all(t is not None and t > before for t in (freshness(clean, s) for s in SOURCES))
    claimed = fold_as_of(clean)
    assert claimed is None or claimed < before
    fold(clean)
    assert fetch_counters(clean, period("2026-09"))["01"]["received"] == MAX_STEP_BLOCKS + 3
    assert_months_agree(clean)


def test_an_earlier_resolution_moves_a_dossier_between_months(clean: Store) -> None:  # noqa: F811
    # Resolved late in October; then the first resolution, on time in September, arrives: every
    # resolution-side counter (p1's on time / late, res_seconds, ratings) leaves October.
    feed = Feed(clean)
    feed.batch(
        dossier("E", "received", "2026-09-01T09:00", due="2026-09-20T17:00", **ONLINE),
        dossier("E", "resolved", "2026-10-05T09:00"),
        dossier("E", "rated", "2026-10-06T09:00", satisfied=False),
        feedback("J", "received", "2026-09-01T09:00", due="2026-09-20T17:00"),
        feedback("J", "resolved", "2026-10-05T09:00"),
    )
    assert fetch_counters(clean, period("2026-10"))["01"]["res_late"] == 1
    feed.batch(
        dossier("E", "resolved", "2026-09-15T09:00"),
        feedback("J", "resolved", "2026-09-15T09:00"),
    )
    september = fetch_counters(clean, period("2026-09"))["01"]
    assert (september["res_on_time"], september["res_unsatisfied"], september["fb_ok"]) == (1, 1, 1)
    assert fetch_counters(clean, period("2026-10")) == {}
    assert_months_agree(clean)
