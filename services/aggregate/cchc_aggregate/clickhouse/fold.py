"""The background fold: dossier and feedback events into their states and counters, off the insert
(deploy/clickhouse/0012_fold_off_insert.sql; docs/architecture.md "The fold").

An insert writes ``dossier_events`` / ``feedback_events`` only. A :class:`Folder` thread in
aggregate then, every ``interval_s``, takes each source's rows inserted since its last step — a
range of ``_block_number``, the number of the insert that wrote them — and inserts them into the
Null table the transition views of 0005/0009 (re-pointed by 0012) read: the same per-dossier fold,
in steps of everything that arrived meanwhile instead of one per insert. New ``procedure_events``
rows are a third source: their step marks the scoreboard months they change (0015). After the
steps, the scoreboard's marked months are recomputed (:mod:`.scoreboard_months`).

Exactness:

* any arrival order, duplicates, re-sent events: the fold itself (a min, a max, an OR or an arg-max
  per dossier), as before;
* nothing missed: a step reads the newest committed block holding the inserts' lock
  (``Store.inserts``, shared with the writer's store when the fold has its own connection), so no
  insert is half-done then; block numbers only grow. The step itself runs on its own connection
  in aggregate: inserts and queries go on meanwhile;
* kill -9: ``fold_log`` records ``begin`` (lo, hi) before a step and ``done`` after. A ``begin``
  above the last ``done`` is a step interrupted mid-way: its range is folded again (folding an event
  twice leaves the state as it was) and every counter is recomputed from the states
  (:func:`cchc_aggregate.clickhouse.rebuild.rebuild`), since the views may have written the states
  and not all the counters. A step of ``procedure_events`` writes marks only: it is redone alone.

Freshness: an answer counts every event inserted before the last ``done`` step's ``cutoff``
(:func:`freshness`): at most ``interval_s`` plus one step's duration behind the inserts. A tick
that finds nothing new is caught up as of its own cutoff; the :class:`Folder` keeps that time per
source (:meth:`Folder.as_of`, the answers' ``as_of``) and exports ``now − it``, computed at each
scrape, as ``cchc_fold_lag_seconds{source}`` (the FoldBehind alert); it takes the time once the
scoreboard's months are refreshed too. While months are marked and not refreshed (a process that
died between its steps and the refresh, a refresh that failed), the log's steps are ahead of
``scoreboard_monthly``: :func:`as_of` then says the last refresh's cutoff (:func:`months_held`).
On a cluster there is no Folder: each shard folds within its inserts (docs/cluster.md) and an
answer is as of its query.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from cchc_runtime.metrics import counter, gauge
from prometheus_client import CollectorRegistry, Counter, Gauge

from cchc_aggregate.clickhouse import scoreboard_months
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.errors import is_latched
from cchc_aggregate.clickhouse.rebuild import REBUILD_SQL
from cchc_aggregate.sink.writer import SERVICE

log = logging.getLogger(__name__)

SOURCES = {
    "dossier_events": "INSERT INTO dossier_fold_input SELECT * FROM dossier_events",
    "feedback_events": "INSERT INTO feedback_fold_input SELECT * FROM feedback_events",
    "procedure_events": (
        "INSERT INTO scoreboard_dirty SELECT DISTINCT province, "
        "toStartOfMonth(occurred_at, 'Asia/Ho_Chi_Minh'), action = 'published' "
        "FROM procedure_events"
    ),
}
"""Each source table and what a step does with its new rows (``… WHERE <the step's range>``):
dossiers and feedback go into the Null tables their transition views read (0012); a procedure act
marks its month of the scoreboard dirty, a publication every later one too (0015)."""

MONTHS = "scoreboard_monthly"
"""The fold log's source of the scoreboard's monthly refresh (rows: province-months written)."""

STATES = ("dossier_events", "feedback_events")
"""The sources whose steps write states and counters (an interrupted one calls for a rebuild)."""

MAX_STEP_BLOCKS = 25
"""Inserts per step at most (aggregate inserts ≤ 20,000 rows per table: ≤ 500,000 rows a step)."""

# A step must reach the views as ONE block: the views of one block read the states as they were
# before it, and two blocks of one INSERT … SELECT are not guaranteed to see each other's state
# writes (measured: 20,000-row blocks in one step miscounted one resolution in 240,000 events).
# So no squashing threshold below the step's size, one insert thread, no parallel views, and no
# deduplication (a delta block may equal an earlier one: Store.no_dedup, per server version).
_FOLD_SETTINGS = {
    "max_insert_threads": 1,
    "parallel_view_processing": 0,
    "min_insert_block_size_rows": 100_000_000,
    "min_insert_block_size_bytes": 0,
}

# Per source, the latest step begun and the latest done: (lo, hi, logged_at, cutoff) each.
_WATERMARKS = """
SELECT source,
       argMaxIf((lo, hi, logged_at, cutoff), logged_at, phase = 'begin') AS begun,
       argMaxIf((lo, hi, logged_at, cutoff), logged_at, phase = 'done') AS done
FROM fold_log GROUP BY source"""

_NEWEST = """
SELECT table, max(max_block_number) FROM system.parts
WHERE database = currentDatabase() AND active
  AND table IN ('dossier_events', 'feedback_events', 'procedure_events')
GROUP BY table"""


@dataclass(frozen=True)
class Step:
    """One fold step of one source."""

    source: str
    lo: int
    hi: int
    rows: int
    seconds: float
    recovered: bool = False
    cutoff: datetime | None = None  # every row inserted before it is folded once the step is done
    capped: bool = False  # more was waiting than one step takes: fold again at once


def _log(store: Store, phase: str, step: Step, cutoff: datetime) -> None:
    store.command(
        "INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds) VALUES "
        f"('{step.source}', '{phase}', {step.lo}, {step.hi}, "
        f"toDateTime64('{cutoff:%Y-%m-%d %H:%M:%S.%f}', 3, 'UTC'), {step.rows}, {step.seconds})"
    )


def _fold_range(store: Store, source: str, lo: int, hi: int) -> int:
    # `_block_number` prunes no part: without the first condition every step would read the whole
    # table (0.85 s for 1.1 M events, measured). A part is named <partition>_<min block>_<max
    # block>_<level> (the partition ids of 0012's toYear have no '_'), and a condition on `_part`
    # alone is applied when the query picks its parts, from its own snapshot: parts whose newest
    # block is folded already are not opened at all.
    where = (
        f"toUInt64(splitByChar('_', _part)[3]) > {lo} "
        f"AND _block_number > {lo} AND _block_number <= {hi}"
    )
    _, rows = store.query(f"SELECT count() FROM {source} WHERE {where}", readonly=False)
    store.command(f"{SOURCES[source]} WHERE {where}", {**_FOLD_SETTINGS, **store.no_dedup()})
    return int(rows[0][0])


def fold(
    store: Store,
    caught_up: MutableMapping[str, datetime] | None = None,
    refresh: bool = True,
) -> list[Step]:
    """Fold every source's rows inserted since its last step, then recompute the scoreboard's
    months those steps changed (:func:`scoreboard_months.refresh`); returns the steps taken (the
    refresh last, as a step of :data:`MONTHS` whose rows are the province-months written).

    ``refresh`` False leaves the marked months for a later call (the :class:`Folder` refreshes
    every ``refresh_s``): ``caught_up`` then moves only if no month is waiting.

    ``caught_up`` (when given) receives, per source left with nothing waiting, the time before
    which every insert is folded: the step's cutoff, or this call's when there was nothing new.
    Not re-entrant: one folder per ClickHouse database (aggregate's :class:`Folder`, or a test).
    """
    caught_up = caught_up if caught_up is not None else {}
    folded: dict[str, datetime] = {}  # per source, before when every insert is folded (capped too)
    behind: set[str] = set()  # the sources with more waiting than their step took
    reached: dict[str, int] = {}  # per source, the newest block stepped over
    _, rows = store.query(_WATERMARKS, readonly=False)
    begun = {str(r[0]): r[1] for r in rows}
    done = {str(r[0]): r[2] for r in rows}
    marks = {source: int(d[1]) for source, d in done.items()}
    steps: list[Step] = []
    # A step begun after the last one done was interrupted (kill -9): fold its range again (the
    # states absorb it; marks are marks), then, if it wrote states, recompute every counter from
    # them.
    for source in SOURCES:
        b, d = begun.get(source), done.get(source)
        if b is None or d is None or b[2] <= d[2]:
            continue
        lo, hi = int(b[0]), int(b[1])
        log.warning("fold of %s blocks (%d, %d] was interrupted: redoing it", source, lo, hi)
        started = time.monotonic()
        n = _fold_range(store, source, lo, hi)
        steps.append(Step(source, lo, hi, n, time.monotonic() - started, True, b[3]))
        marks[source] = hi
    if any(step.source in STATES for step in steps):
        for statement in REBUILD_SQL:
            store.command(statement)
    for step in steps:  # a redone step of procedure_events (marks only) is done too
        _log(store, "done", step, step.cutoff or datetime.now(UTC))
    with store.inserts:  # no insert half-done: every block up to the newest is committed
        cutoff = datetime.now(UTC)  # every insert acknowledged by now is in the blocks read
        _, newest_rows = store.query(_NEWEST, readonly=False)
    newest = {str(table): int(block) for table, block in newest_rows}
    for source in SOURCES:
        lo, hi = marks.get(source, 0), newest.get(source, 0)
        if hi < lo:
            # The table lost its parts and the server restarted (block numbers begin again after
            # the newest remaining part): everything there is came after the last step.
            log.warning("%s: newest block %d below the fold watermark %d", source, hi, lo)
            lo = 0
        if hi <= lo:
            folded[source] = cutoff
            reached[source] = lo
            continue
        step_cutoff, capped = cutoff, hi - lo > MAX_STEP_BLOCKS
        if capped:  # a backlog, taken in over several steps: the cutoff moves with the last one
            hi = lo + MAX_STEP_BLOCKS
            previous = done.get(source)
            step_cutoff = _utc(previous[3] if previous is not None else datetime(1970, 1, 1))
        started = time.monotonic()
        _log(store, "begin", Step(source, lo, hi, 0, 0.0), step_cutoff)
        n = _fold_range(store, source, lo, hi)
        step = Step(source, lo, hi, n, time.monotonic() - started, False, step_cutoff, capped)
        _log(store, "done", step, step_cutoff)
        steps.append(step)
        folded[source] = step_cutoff
        reached[source] = hi
        if capped:
            behind.add(source)
    # caught_up moves once the scoreboard's months hold the steps too
    now_caught_up = {source: t for source, t in folded.items() if source not in behind}
    if not refresh:
        if not _months_waiting(store):
            caught_up.update(now_caught_up)
        return steps
    started = time.monotonic()
    months = scoreboard_months.refresh(store, reached["procedure_events"])
    if months:
        # Its cutoff: every insert before it is in the months (a capped source's is its step's).
        refreshed = Step(MONTHS, 0, 0, months, time.monotonic() - started)
        _log(store, "done", refreshed, min(folded.values(), default=cutoff))
        steps.append(refreshed)
    caught_up.update(now_caught_up)
    return steps


def freshness(store: Store, source: str = "dossier_events") -> datetime | None:
    """The cutoff of ``source``'s last completed fold step: every event inserted before it is in the
    states and counters (None before the first step)."""
    _, rows = store.query(
        "SELECT argMax(cutoff, logged_at) FROM fold_log "
        "WHERE source = {s:String} AND phase = 'done'",
        {"s": source},
    )
    found = rows[0][0] if rows and rows[0][0] and rows[0][0].year > 1970 else None
    return None if found is None else _utc(found)


def _utc(t: datetime) -> datetime:
    """A time of ``fold_log`` (UTC; chDB gives it without its zone) with its zone."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def as_of(store: Store) -> datetime | None:
    """Every dossier, feedback and procedure event inserted before this time is in the states and
    counters (the oldest of the sources' :func:`freshness`; None before any's first step), and in
    the scoreboard's months (:func:`months_held`)."""
    times = [freshness(store, source) for source in SOURCES]
    if any(t is None for t in times):
        return None
    return months_held(store, min(t for t in times if t is not None))


def months_held(store: Store, folded: datetime) -> datetime | None:
    """``folded`` (a time before which the steps have folded every insert), or, while months are
    marked and not recomputed yet, the older cutoff of the last refresh of the months (None: none
    yet). The marks of a step wait in ``scoreboard_dirty`` until the refresh that follows it: a
    process that died in between, or a refresh that failed, has steps logged done whose events
    are not in ``scoreboard_monthly``, and an answer must not claim them."""
    if not _months_waiting(store):
        return folded
    refreshed = freshness(store, MONTHS)
    return None if refreshed is None else min(folded, refreshed)


def _months_waiting(store: Store) -> bool:
    """Some province-month is marked and not recomputed yet."""
    _, rows = store.query("SELECT count() FROM scoreboard_dirty", readonly=False)
    return bool(rows[0][0])


@dataclass(frozen=True)
class FoldMetrics:
    """The fold's lag (now − the time before which every insert is folded) and rows, per source."""

    lag: Gauge
    rows: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> FoldMetrics:
        return cls(
            lag=gauge(
                registry,
                "cchc_fold_lag_seconds",
                "Seconds since the time before which every inserted event of the source is "
                "folded into the states and counters (the answers' as_of)",
                ["source"],
            ),
            rows=counter(
                registry, "cchc_fold_rows_total", "Source rows folded (redone too)", ["source"]
            ),
        )


REFRESH_S = 5.0
"""Seconds between two recomputations of the scoreboard's marked months at most (the fold steps
every ``interval_s`` meanwhile). A month of 34 provinces costs 0.16–0.3 s at 59 M events
(bench/README.md): every second, a live stream would spend a fifth of a core on it. The answers'
``as_of`` moves with the refresh."""

HOLD_S = 120.0
"""Seconds after another process's last fold heartbeat during which a Folder stands by: longer
than any one step (a capped step is at most 25 inserts), so a holder busy with a long step is not
taken over; a holder that stopped is, within this time."""

_HOLDERS = """
SELECT folder, argMax(holding, seen) FROM fold_holders
WHERE seen > now64(3) - toIntervalMillisecond({hold_ms:UInt64})
GROUP BY folder"""


class Folder:
    """A daemon thread that calls :func:`fold` every ``interval_s`` seconds until stopped.

    One process folds a database at a time (two folds of one step would both apply their deltas):
    each tick writes this process's heartbeat in ``fold_holders`` (0017), saying whether it folds
    (:meth:`holds`). A process that folded keeps on unless another one with an earlier name folds
    too (two that started together); one that waited takes over once no other process has folded
    within ``hold_s``, if its name is the first of those waiting. Two processes that start in the
    same instant can still both fold that first tick; ``CCHC_AGGREGATE_FOLD=false`` on every
    aggregate instance but one rules even that out (docs/runbook.md "Several instances per
    service")."""

    def __init__(
        self,
        store: Store,
        interval_s: float = 1.0,
        metrics: FoldMetrics | None = None,
        name: str | None = None,
        hold_s: float = HOLD_S,
        refresh_s: float = REFRESH_S,
        stop_when_latched: bool = False,
    ) -> None:
        """``stop_when_latched``: a key-value table that refuses every write after a failed file
        write (:func:`errors.is_latched`) stops the folder (``failure``, ``on_failure``), so
        that the service exits and its supervisor restarts it — a new process opens the table
        afresh. For an embedded store; a server's tables are not reopened by restarting aggregate
        (docs/runbook.md "The disk under the data is full or read-only")."""
        self.store = store
        self.interval_s = interval_s
        self.refresh_s = refresh_s
        self._refreshed = float("-inf")  # time.monotonic() of the last refresh of the months
        self.metrics = metrics
        self.name = re.sub(r"[^A-Za-z0-9_.:/-]", "_", name or "aggregate")
        """This process's name in ``fold_holders``: its instance (unique per aggregate process;
        the host name by default). A process restarted under its name takes its own place back at
        once; another instance would wait ``hold_s``."""
        self.hold_s = hold_s
        self.holder: str | None = None
        """The process that folds, as the last tick saw it (None before the first)."""
        self.caught_up: dict[str, datetime] = {}
        """Per source, the time before which every insert is folded (set by each tick)."""
        self.stop_when_latched = stop_when_latched
        self.failure: BaseException | None = None
        self.on_failure: Callable[[BaseException], None] = lambda _: None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fold", daemon=True)
        if metrics is not None:
            for source in SOURCES:
                metrics.lag.labels(SERVICE, source).set_function(partial(self.lag, source))

    def as_of(self) -> datetime | None:
        """What :func:`as_of` reads from ``fold_log``, but current while nothing arrives: a tick
        with nothing new is caught up as of itself (and logs no step)."""
        known = [self.caught_up.get(source) for source in SOURCES]
        if all(t is not None for t in known):
            return min(t for t in known if t is not None)
        return as_of(self.store)

    def holds(self) -> bool:
        """Whether this process is the one to fold now (see the class); writes its heartbeat."""
        _, rows = self.store.query(_HOLDERS, {"hold_ms": int(self.hold_s * 1000)}, readonly=False)
        others = {str(folder): bool(holding) for folder, holding in rows if folder != self.name}
        holders = sorted(folder for folder, holding in others.items() if holding)
        if self.holder == self.name:  # it held: it keeps on unless an earlier name holds too
            hold = not holders or self.name < holders[0]
        else:  # it waited: it takes over when nobody holds, the first by name of those waiting
            hold = not holders and all(self.name < folder for folder in others)
        self.store.command(
            "INSERT INTO fold_holders (folder, seen, holding) VALUES "
            f"('{self.name}', now64(3), {int(hold)})"  # the name: [A-Za-z0-9_.:/-] only (init)
        )
        holder = self.name if hold else (holders[0] if holders else None)
        if hold and self.holder != self.name:
            log.info("fold: this process (%s) folds the database", self.name)
        elif not hold and (self.holder == self.name or self.holder is None):
            log.warning(
                "fold: %s folds this database; this process (%s) stands by (one aggregate process "
                'folds at a time: docs/runbook.md "Several instances per service")',
                holder or "another process",
                self.name,
            )
        self.holder = holder or ""
        return hold

    def tick(self) -> list[Step]:
        """One :func:`fold` call, its rows counted — if this process is the one to fold."""
        if not self.holds():
            self.caught_up.clear()  # the answers' as_of: the holder's, from the fold log
            return []
        if len(self.caught_up) < len(SOURCES):
            self._from_log()
        due = time.monotonic() - self._refreshed >= self.refresh_s
        steps = fold(self.store, self.caught_up, refresh=due)
        if due:
            self._refreshed = time.monotonic()
        if self.metrics is not None:
            for step in steps:
                if step.source in SOURCES:  # not the scoreboard's months
                    self.metrics.rows.labels(SERVICE, step.source).inc(step.rows)
        return steps

    def lag(self, source: str) -> float:
        """Seconds since every insert of ``source`` before them was folded (NaN: not known yet).
        Read at each scrape: a fold that fails or hangs shows as a lag that grows."""
        since = self.caught_up.get(source)
        return (datetime.now(UTC) - since).total_seconds() if since else float("nan")

    def _from_log(self) -> None:
        # At start, before a tick has caught up: the log's last completed steps say since when,
        # no later than the scoreboard's months hold.
        try:
            logged = {s: freshness(self.store, s) for s in SOURCES if s not in self.caught_up}
            known = [t for t in logged.values() if t is not None]
            held = months_held(self.store, max(known)) if known else None
        except Exception:  # ClickHouse away: fold() fails too, and says so
            log.debug("fold log unreadable", exc_info=True)
            return
        if held is not None:
            for source, since in logged.items():
                if since is not None:
                    self.caught_up.setdefault(source, min(since, held))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            backlog = False
            try:
                for step in self.tick():
                    log.debug("folded %s: %d rows in %.3f s", step.source, step.rows, step.seconds)
                    backlog = backlog or step.capped
            except Exception as exc:  # an outage: the next tick tries again from the same watermark
                if self.stop_when_latched and is_latched(exc):
                    log.critical(
                        "fold step failed in a key-value table, which refuses writes until it is "
                        "opened again: exiting so the service restarts",
                        exc_info=True,
                    )
                    self.failure = exc
                    self.on_failure(exc)
                    return
                log.exception("fold step failed")
            if not backlog:
                self._stop.wait(self.interval_s)
