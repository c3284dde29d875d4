"""Scale benchmark of the live service index and the Bộ chỉ số 766 scoreboard: N dossier events,
with feedback and procedure events beside them, into a fresh embedded chDB.

Not a test. Bypasses Kafka: columns are generated in bulk with numpy per batch and inserted with
``insert_arrow`` into ``dossier_events`` with every production migration applied, while a fold
thread does what aggregate's :class:`~cchc_aggregate.clickhouse.fold.Folder` does (every
``--fold-interval`` seconds, the rows inserted since its last step through the transition views
into dossier_state, dossier_scores, feedback_state and their counters). It reports the insert's
own cost per event, the fold's, and the freshness: for every dossier insert, the time from its
acknowledgement to the end of the first fold step that covers it. Then it times the national
monthly service-index query (the SQL of
``GET /v1/service-index``, :mod:`cchc_aggregate.query.fetch.service_index`) and the scoreboard
(``GET /v1/scoreboard``'s fetch and rules, national and one province), and reports load rate and
storage per million events (``system.parts`` bytes_on_disk, plus the RocksDB directories of
dossier_state, dossier_scores, feedback_state and scoreboard_receipt_days).

    .venv/bin/python bench/dossier_scale.py --events 5000000
    make bench-dossiers BENCH_DOSSIER_EVENTS=5000000

Event stream per batch: the receipts of one slice of dossiers and the later steps (supplement,
resolution, rejection, withdrawal) of the previous slice, so most dossiers are folded across two
insert blocks (the key-lookup path). 2 % of resolutions arrive one block *before* their receipt,
1 % of events are sent twice (another block), 4 % of dossiers stay open. The 766 flags are set
on the receipts (synced 93 %, fee 40 % — paid online 50 % of those —, digitised 65 %, reused
35 %) and the resolutions (electronic result 70 %); 30 % of resolutions are rated (92 %
satisfied). One feedback per 25 dossiers (received, then answered: 85 % on time, 85 %
satisfied); every procedure of every province published 60 days before the stream, and one
announcement and one publication per province per block.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from cchc_aggregate.clickhouse.client import Store, connect
from cchc_aggregate.clickhouse.fold import MONTHS, Step, fold
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.query.fetch.scoreboard import fetch_counters
from cchc_aggregate.query.fetch.service_index import fetch_index
from cchc_aggregate.query.rules.scoreboard import ScoringTable, build_scoreboard
from cchc_shared.periods import parse_period

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "deploy" / "clickhouse"
RESULTS = ROOT / "bench" / "results" / "dossier_scale.json"
STREAM_START = datetime(2025, 7, 1, tzinfo=UTC)
"""The first day of the generated stream (a year of it)."""

PROVINCES = np.array(
    [
        "01",
        "04",
        "08",
        "11",
        "12",
        "14",
        "15",
        "19",
        "20",
        "22",
        "24",
        "25",
        "31",
        "33",
        "37",
        "38",
        "40",
        "42",
        "44",
        "46",
        "48",
        "51",
        "52",
        "56",
        "66",
        "68",
        "75",
        "79",
        "80",
        "82",
        "86",
        "91",
        "92",
        "96",
    ]
)
PROCEDURES = np.array([f"{kind}.{n:06d}" for kind in (1, 2) for n in range(1000, 1060)])
DAY_MS = 86_400_000
# The key-value tables (their RocksDB directories are not in system.parts).
ROCKSDB = ("dossier_state", "dossier_scores", "feedback_state", "scoreboard_receipt_days")
TS = pa.timestamp("ms", tz="UTC")


def _batch(
    rng: np.random.Generator, first: int, n: int, start_ms: int, span_days: int
) -> dict[str, dict[str, np.ndarray]]:
    """Columns for n dossiers numbered from `first`: their receipts and their later steps."""
    ids = np.arange(first, first + n)
    province = PROVINCES[rng.integers(0, len(PROVINCES), n)]
    unit_key = np.char.add("2025:", province)
    # Dossier ids as one-stop systems number them: unit, receipt date, sequence.
    received = start_ms + np.sort(rng.integers(0, span_days * DAY_MS, n))
    dossier_id = np.char.add("H-", ids.astype(str))
    procedure = PROCEDURES[rng.integers(0, len(PROCEDURES), n)]
    commune = np.char.zfill(rng.integers(1, 3400, n).astype(str), 5)
    sla_days = rng.choice(np.array([1, 3, 5, 7, 10, 15, 20]), n)
    due = received + sla_days * DAY_MS
    channel = np.array(["online", "in_person", "postal"])[rng.choice(3, n, p=[0.5, 0.45, 0.05])]
    outcome = rng.choice(4, n, p=[0.93, 0.02, 0.01, 0.04])  # resolved, rejected, withdrawn, open
    late = rng.random(n) < 0.035
    took = np.where(
        late,
        due - received + rng.integers(1, 5 * DAY_MS, n),
        ((due - received) * rng.random(n)).astype(np.int64),
    )
    closed_at = received + took
    status = np.array(["resolved", "rejected", "withdrawn", ""])[outcome]
    has_step = outcome < 3
    fee = rng.random(n) < 0.40
    flags = {
        "fee_required": fee,
        "synced_national": rng.random(n) < 0.93,
        "paid_online": fee & (rng.random(n) < 0.5),
        "digitized": rng.random(n) < 0.65,
        "reused_data": rng.random(n) < 0.35,
    }
    rated = has_step & (outcome == 0) & (rng.random(n) < 0.30)
    receipts = {
        "province": province,
        "unit_key": unit_key,
        "dossier_id": dossier_id,
        "event_id": np.char.add(dossier_id, "-r"),
        "procedure_code": procedure,
        "status": np.full(n, "received"),
        "occurred_at": received,
        "due_at": due,
        "channel": channel,
        "commune_code": commune,
        **flags,
    }
    steps = {
        "province": province[has_step],
        "unit_key": unit_key[has_step],
        "dossier_id": dossier_id[has_step],
        "event_id": np.char.add(dossier_id[has_step], "-c"),
        "procedure_code": procedure[has_step],
        "status": status[has_step],
        "occurred_at": closed_at[has_step],
        "due_at": None,
        "channel": np.full(int(has_step.sum()), ""),
        "commune_code": commune[has_step],
        "result_electronic": (outcome[has_step] == 0) & (rng.random(int(has_step.sum())) < 0.7),
    }
    m = int(rated.sum())
    ratings = {
        "province": province[rated],
        "unit_key": unit_key[rated],
        "dossier_id": dossier_id[rated],
        "event_id": np.char.add(dossier_id[rated], "-v"),
        "procedure_code": procedure[rated],
        "status": np.full(m, "rated"),
        "occurred_at": closed_at[rated] + rng.integers(600_000, DAY_MS, m),
        "due_at": None,
        "channel": np.full(m, ""),
        "commune_code": commune[rated],
        "satisfied": rng.random(m) < 0.92,
    }
    return {"receipts": receipts, "steps": steps, "ratings": ratings}


_BOOLS = (
    "paid_online",
    "digitized",
    "result_electronic",
    "fee_required",
    "synced_national",
    "reused_data",
    "satisfied",
)


def _feedback(
    rng: np.random.Generator, first: int, n: int, start_ms: int, span_days: int
) -> pa.Table:
    """n feedback: their receipts and (95 %) answers, in one block."""
    ids = np.char.add("PA-", np.arange(first, first + n).astype(str))
    province = PROVINCES[rng.integers(0, len(PROVINCES), n)]
    received = start_ms + rng.integers(0, span_days * DAY_MS, n)
    due = received + 10 * DAY_MS
    answered = rng.random(n) < 0.95
    late = rng.random(n) < 0.15
    at = np.where(
        late, due + rng.integers(1, 3 * DAY_MS, n), received + rng.integers(1, 10 * DAY_MS, n)
    )
    k = int(answered.sum())
    satisfied = rng.random(k) < 0.85
    return pa.table(
        {
            "province": np.concatenate([province, province[answered]]),
            "unit_key": np.char.add("2025:", np.concatenate([province, province[answered]])),
            "feedback_id": np.concatenate([ids, ids[answered]]),
            "event_id": np.concatenate([np.char.add(ids, "-r"), np.char.add(ids[answered], "-a")]),
            "status": np.concatenate([np.full(n, "received"), np.full(k, "resolved")]),
            "occurred_at": pa.array(np.concatenate([received, at[answered]]), TS),
            "due_at": pa.array(
                np.concatenate([due, np.zeros(k, dtype=np.int64)]),
                TS,
                mask=np.concatenate([np.zeros(n, bool), np.ones(k, bool)]),
            ),
            "satisfied": pa.array(
                np.concatenate([np.zeros(n, bool), satisfied]),
                pa.bool_(),
                mask=np.concatenate([np.ones(n, bool), np.zeros(k, bool)]),
            ),
            "kafka_ts": pa.array(np.concatenate([received, at[answered]]), TS),
        }
    )


def _procedures(
    rng: np.random.Generator,
    tag: str,
    at_ms: np.ndarray,
    provinces: np.ndarray,
    procedures: np.ndarray,
    action: str,
) -> pa.Table:
    """One act per (province, procedure, time) given."""
    n = len(at_ms)
    on_time = rng.random(n) < 0.9
    due = np.where(on_time, at_ms + rng.integers(1, 5 * DAY_MS, n), at_ms - DAY_MS)
    published = action == "published"
    online = np.array(["full", "partial", "none"])[rng.choice(3, n, p=[0.7, 0.25, 0.05])]
    return pa.table(
        {
            "province": provinces,
            "unit_key": np.char.add("2025:", provinces),
            "procedure_code": procedures,
            "event_id": np.char.add(f"TT-{tag}-", np.arange(n).astype(str)),
            "action": np.full(n, action),
            "occurred_at": pa.array(at_ms, TS),
            "due_at": pa.array(due, TS),
            "complete": pa.array(rng.random(n) < 0.85, pa.bool_(), mask=np.full(n, not published)),
            "online": online if published else np.full(n, ""),
            "kafka_ts": pa.array(at_ms, TS),
        }
    )


def _table(cols: dict[str, np.ndarray], rows: slice | np.ndarray | None = None) -> pa.Table:
    def pick(a: np.ndarray) -> np.ndarray:
        return a if rows is None else a[rows]

    n = len(pick(cols["province"]))
    due = cols["due_at"]
    return pa.table(
        {
            "province": pick(cols["province"]),
            "unit_key": pick(cols["unit_key"]),
            "dossier_id": pick(cols["dossier_id"]),
            "event_id": pick(cols["event_id"]),
            "procedure_code": pick(cols["procedure_code"]),
            "status": pick(cols["status"]),
            "occurred_at": pa.array(pick(cols["occurred_at"]), TS),
            "due_at": pa.nulls(n, TS) if due is None else pa.array(pick(due), TS),
            "channel": pick(cols["channel"]),
            "online_mode": np.full(n, ""),
            "level": np.full(n, ""),
            "commune_code": pick(cols["commune_code"]),
            "agency": np.full(n, ""),
            **{
                name: pa.array(pick(cols[name]), pa.bool_())
                if name in cols
                else pa.nulls(n, pa.bool_())
                for name in _BOOLS
            },
            "kafka_ts": pa.array(pick(cols["occurred_at"]), TS),
        }
    )


class Timed:
    """Inserts through the Store (serialised with the fold), timing each; remembers when each
    dossier insert was acknowledged (for the freshness)."""

    def __init__(self, db: Store, rate: float = 0.0) -> None:
        self.db = db
        self.rate = rate
        self.offered = 0
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self.acked: list[datetime] = []

    def insert_arrow(self, table: str, block: pa.Table) -> None:
        if self.rate:  # paced: the offered rate, as a live stream would
            self.offered += block.num_rows
            ahead = self.offered / self.rate - (time.perf_counter() - self.started)
            if ahead > 0:
                time.sleep(ahead)
        with self.db.inserts, self.db._lock:  # the insert's own time, not a wait for the lock
            t = time.perf_counter()
            self.db.client.insert_arrow(table, block)
            self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - t
        self.rows[table] = self.rows.get(table, 0) + block.num_rows
        if table == "dossier_events":
            self.acked.append(datetime.now(UTC))


class FoldThread:
    """aggregate's Folder, recording every step and when it ended."""

    def __init__(self, db: Store, interval_s: float) -> None:
        self.db = db
        self.interval_s = interval_s
        self.steps: list[tuple[Step, datetime]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def step(self) -> list[Step]:
        steps = fold(self.db)
        ended = datetime.now(UTC)
        self.steps.extend((s, ended) for s in steps)
        return steps

    def run(self) -> None:
        while not self.stop.is_set():
            if not any(s.capped for s in self.step()):
                self.stop.wait(self.interval_s)

    def drain(self) -> None:
        self.stop.set()
        self.thread.join()
        while self.step():
            pass

    def freshness_s(self, acked: list[datetime]) -> list[float]:
        """For each acknowledged insert: seconds until the end of the first step covering it."""
        done = sorted(
            (s.cutoff.replace(tzinfo=UTC) if s.cutoff.tzinfo is None else s.cutoff, end)
            for s, end in self.steps
            if s.source == "dossier_events" and s.cutoff is not None
        )
        out = []
        for t in acked:
            ends = [end for cutoff, end in done if cutoff >= t]
            if ends:
                out.append((min(ends) - t).total_seconds())
        return out


def load(client: Timed, events: int, batch_events: int, seed: int) -> tuple[int, float, date]:
    """Insert about `events` events; returns (events inserted, seconds, first day)."""
    rng = np.random.default_rng(seed)
    per_dossier = 1.97  # receipt + 0.96 later step + 1 % duplicates
    dossiers = int(events / per_dossier)
    per_batch = max(1, int(batch_events / per_dossier))
    span_days = 365
    start = STREAM_START
    start_ms = int(start.timestamp() * 1000)
    days_per_batch = span_days * per_batch / max(dossiers, 1)
    inserted = 0
    pending: pa.Table | None = None  # the previous slice's later steps
    t0 = time.perf_counter()
    # Every procedure of every province published 60 days before the stream: the offers (o1).
    pairs = np.array([(p, c) for p in PROVINCES for c in PROCEDURES])
    initial = np.full(len(pairs), start_ms - 60 * DAY_MS, dtype=np.int64)
    block = _procedures(rng, "initial", initial, pairs[:, 0], pairs[:, 1], "published")
    client.insert_arrow("procedure_events", block)
    inserted += block.num_rows
    feedback_first = 0
    first = 0
    batch_no = 0
    while first < dossiers:
        n = min(per_batch, dossiers - first)
        slice_start = start_ms + int(batch_no * days_per_batch * DAY_MS)
        cols = _batch(rng, first, n, slice_start, max(1, int(np.ceil(days_per_batch))))
        receipts = _table(cols["receipts"])
        steps = _table(cols["steps"])
        # 2 % of the steps overtake their receipt (sent in this block, before it).
        early = rng.random(steps.num_rows) < 0.02
        parts = [receipts, steps.filter(pa.array(early))]
        if pending is not None:
            parts.append(pending)
            dup = rng.random(pending.num_rows) < 0.01
            parts.append(pending.filter(pa.array(dup)))  # re-sent copies, same event ids
        block = pa.concat_tables(parts)
        client.insert_arrow("dossier_events", block)
        inserted += block.num_rows
        pending = pa.concat_tables([steps.filter(pa.array(~early)), _table(cols["ratings"])])
        span = max(1, int(np.ceil(days_per_batch)))
        k = max(1, n // 25)
        feedback = _feedback(rng, feedback_first, k, slice_start, span)
        feedback_first += k
        client.insert_arrow("feedback_events", feedback)
        acts = []
        for action in ("announced", "published"):
            at = slice_start + rng.integers(0, span * DAY_MS, len(PROVINCES))
            codes = PROCEDURES[rng.integers(0, len(PROCEDURES), len(PROVINCES))]
            acts.append(_procedures(rng, f"{batch_no}-{action}", at, PROVINCES, codes, action))
        for act in acts:
            client.insert_arrow("procedure_events", act)
        inserted += feedback.num_rows + sum(a.num_rows for a in acts)
        first += n
        batch_no += 1
        if batch_no % 20 == 0:
            rate = inserted / (time.perf_counter() - t0)
            print(f"  {inserted:>12,} events  {rate:,.0f}/s", file=sys.stderr, flush=True)
    if pending is not None and pending.num_rows:
        client.insert_arrow("dossier_events", pending)
        inserted += pending.num_rows
    return inserted, time.perf_counter() - t0, start.date()


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


LOAD_KEYS = (
    "events_loaded", "load_seconds", "load_events_per_s", "load_note", "insert_us_per_event",
    "batch_events", "offered_events_per_s", "fold", "load_measured_at",
)  # fmt: skip
"""What the load phase measured: kept from the earlier results file by ``--reuse``."""


def _load_phase(args: argparse.Namespace, client: Any, db: Store, data_dir: Path) -> dict[str, Any]:
    """Load ``--events`` events with the fold thread beside the inserts, until all are folded."""
    has_fold = bool(client.query("EXISTS TABLE fold_log").result_rows[0][0])
    print(f"loading ~{args.events:,} events into {data_dir} …", file=sys.stderr)
    t_load = time.perf_counter()
    timed = Timed(db, args.rate)
    # The fold on its own connection, as in aggregate (cchc_aggregate.__main__).
    folds = Store(connect(f"chdb://{data_dir}"), inserts=db.inserts)
    folder = FoldThread(folds, args.fold_interval)
    if has_fold:
        folder.thread.start()
    events, _, _ = load(timed, args.events, args.batch, args.seed)
    if has_fold:
        folder.drain()  # the events inserted last, folded: the figures are complete
    seconds = time.perf_counter() - t_load
    fresh = folder.freshness_s(timed.acked)
    folded = [s for s, _ in folder.steps if s.source != MONTHS]
    months = [s for s, _ in folder.steps if s.source == MONTHS]
    folds.client.close()
    return {
        "events_loaded": events,
        "load_seconds": round(seconds, 1),
        "load_events_per_s": round(events / seconds),
        "load_note": "inserts and the fold thread, until the last event is folded",
        "insert_us_per_event": {
            t: round(timed.seconds[t] * 1e6 / max(timed.rows[t], 1), 2) for t in timed.seconds
        },
        "batch_events": args.batch,
        "offered_events_per_s": args.rate or None,
        "fold": {
            "interval_s": args.fold_interval,
            "steps": len(folded),
            "rows": sum(s.rows for s in folded),
            "seconds": round(sum(s.seconds for s in folded), 2),
            "us_per_event": {
                src: round(
                    sum(s.seconds for s in folded if s.source == src)
                    * 1e6
                    / max(sum(s.rows for s in folded if s.source == src), 1),
                    2,
                )
                for src in ("dossier_events", "feedback_events")
            },
            "scoreboard_months": {
                "what": "after fold steps, the province-months they changed recomputed (0015)",
                "refreshes": len(months),
                "province_months": sum(s.rows for s in months),
                "seconds": round(sum(s.seconds for s in months), 2),
            },
            "freshness_s": {
                "what": "dossier insert acknowledged → end of the fold step that counts it",
                "inserts": len(fresh),
                "p50": round(statistics.median(fresh), 3) if fresh else None,
                "p95": round(statistics.quantiles(fresh, n=20)[18], 3) if len(fresh) > 1 else None,
                "max": round(max(fresh), 3) if fresh else None,
            },
        },
        "load_measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _query_phase(
    args: argparse.Namespace,
    client: Any,
    db: Store,
    events: int,
    counted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Time the service index and the scoreboard on what is stored; storage per million events.

    ``counted``: the storage of an earlier run on the same data (``--reuse``): the rows of its
    key-value tables are taken from there (counting one means reading it whole: minutes at 25 M
    keys), new ones are counted."""
    client.command("SYSTEM FLUSH LOGS")
    # The third month of the stream: full of receipts and of resolutions both.
    third = STREAM_START.date() + timedelta(days=62)
    month = parse_period(f"{third:%Y-%m}")
    now = datetime(2026, 7, 1, tzinfo=UTC)
    timings: list[float] = []
    answer = None
    for _ in range(args.runs + 2):
        t = time.perf_counter()
        answer = fetch_index(db, month, None, now)
        timings.append((time.perf_counter() - t) * 1000)
    timings = timings[2:]  # the first runs warm caches
    scoring = ScoringTable.load()
    names = {str(p): str(p) for p in PROVINCES}
    board: dict[str, list[float]] = {"national": [], "province": []}
    boards: dict[str, object] = {}
    for _ in range(args.runs + 2):
        for scope, code in (("national", None), ("province", "01")):
            t = time.perf_counter()
            # As GET /v1/scoreboard: every province's counters (a province is ranked among all).
            counters = fetch_counters(db, month)
            boards[scope] = build_scoreboard(scoring, month.text, counters, names, code)
            board[scope].append((time.perf_counter() - t) * 1000)
    # A year (twelve months summed), and the month from the daily tables (as a cluster, or a
    # question before 0015) — whose counters must be the months' exactly.
    year = parse_period(f"{third:%Y}")
    extra: dict[str, list[float]] = {"national_year": [], "national_from_days": []}
    same: dict[str, bool] = {}
    for _ in range(args.runs + 2):
        t = time.perf_counter()
        counters = fetch_counters(db, year)
        build_scoreboard(scoring, year.text, counters, names, None)
        extra["national_year"].append((time.perf_counter() - t) * 1000)
    for _ in range(min(args.runs, 10) + 2):
        t = time.perf_counter()
        days = fetch_counters(db, month, monthly=False)
        build_scoreboard(scoring, month.text, days, names, None)
        extra["national_from_days"].append((time.perf_counter() - t) * 1000)
    same[month.text] = days == fetch_counters(db, month)
    same[year.text] = fetch_counters(db, year, monthly=False) == fetch_counters(db, year)
    board.update(extra)
    board = {k: v[2:] for k, v in board.items()}
    parts = client.query(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts "
        "WHERE active AND database = currentDatabase() GROUP BY table"
    ).result_rows
    storage = {t: {"rows": int(r), "bytes_on_disk": int(b)} for t, r, b in parts}
    known = (counted or {}).get("dossier_state (rocksdb)")
    state_rows = (
        known["rows"]
        if known
        else client.query("SELECT count() FROM dossier_state").result_rows[0][0]
    )
    rocksdb = client.query(
        "SELECT name, data_paths FROM system.tables "
        "WHERE database = currentDatabase() AND engine = 'EmbeddedRocksDB'"
    ).result_rows
    for rocks, paths in rocksdb:
        known = (counted or {}).get(f"{rocks} (rocksdb)")
        rows = (
            known["rows"]
            if known
            else client.query(f"SELECT count() FROM {rocks}").result_rows[0][0]
        )
        rocks_bytes = sum(_dir_bytes(Path(p)) for p in paths if Path(p).exists())
        storage[f"{rocks} (rocksdb)"] = {"rows": int(rows), "bytes_on_disk": rocks_bytes}
    kinds = client.query(
        "SELECT (SELECT count() FROM dossier_events), (SELECT count() FROM feedback_events), "
        "(SELECT count() FROM procedure_events)"
    ).result_rows[0]
    total = sum(v["bytes_on_disk"] for v in storage.values())
    q = statistics.quantiles(timings, n=20)
    return {
        "dossiers": int(state_rows),
        "query": f"national service index, month {month.text}",
        "query_runs": len(timings),
        "query_ms_p50": round(statistics.median(timings), 2),
        "query_ms_p95": round(q[18], 2),
        "query_ms_max": round(max(timings), 2),
        "answer": answer.as_json() if answer else None,
        "events_by_kind": {
            "dossier": int(kinds[0]),
            "feedback": int(kinds[1]),
            "procedure": int(kinds[2]),
        },
        "scoreboard_months_equal_days": same,
        "scoreboard": {
            scope: {
                "query": f"GET /v1/scoreboard?period={year.text if 'year' in scope else month.text}"
                + ("&province=01" if scope == "province" else "")
                + (" read from the daily tables" if "days" in scope else ""),
                "runs": len(ts),
                "ms_p50": round(statistics.median(ts), 2),
                "ms_p95": round(statistics.quantiles(ts, n=20)[18], 2),
                "ms_max": round(max(ts), 2),
            }
            for scope, ts in board.items()
        },
        "scoreboard_answer": {
            "total": getattr(boards.get("national"), "total", None),
            "province_mean": getattr(boards.get("national"), "province_mean", None),
            "rank_of": getattr(boards.get("national"), "rank_of", None),
        },
        "storage": storage,
        "bytes_per_million_events": round(total * 1_000_000 / max(events, 1)),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
            "note": "shared 2-core machine; other engineers ran tests concurrently",
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write bench/results/dossier_scale.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="events per insert")
    parser.add_argument("--runs", type=int, default=30, help="timed query runs (≥ 20)")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument(
        "--migrations",
        type=Path,
        default=MIGRATIONS,
        help="A/B: an older deploy/clickhouse (before 0012 the views run inside the insert)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="events/s offered (0: as fast as it goes); the freshness of a live stream",
    )
    parser.add_argument(
        "--fold-interval", type=float, default=1.0, help="seconds between fold steps (aggregate's)"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="no load: apply the migrations not yet applied to the database in --data-dir (kept "
        "from an earlier run) and time the queries again; the load figures are kept from "
        "--output (a large load is slow, a query change is not)",
    )
    args = parser.parse_args(argv)
    if args.reuse and (args.data_dir is None or not args.output.exists()):
        parser.error("--reuse needs --data-dir of an earlier run and its --output file")

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="cchc-dossier-bench-"))
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    client = connect(f"chdb://{data_dir}")
    db = Store(client)
    earlier: dict[str, Any] = {}
    try:
        applied = migrate(client, args.migrations)
        if args.reuse:
            earlier = json.loads(args.output.read_text())
            loaded = {k: earlier[k] for k in LOAD_KEYS if k in earlier}
            loaded["migrations_applied_after_load"] = [str(m) for m in applied]
            if applied:
                started = time.perf_counter()
                steps = fold(db)  # a migration may have re-pointed what the fold feeds
                loaded["fold_after_migrations"] = {
                    "seconds": round(time.perf_counter() - started, 2),
                    "steps": {s.source: [s.rows, round(s.seconds, 2)] for s in steps},
                    "what": "source → [rows (scoreboard_monthly: province-months), seconds]",
                }
        else:
            loaded = _load_phase(args, client, db, data_dir)
        result = {
            "benchmark": "dossier_scale",
            **loaded,
            **_query_phase(
                args,
                client,
                db,
                int(loaded["events_loaded"]),
                earlier.get("storage") if args.reuse else None,
            ),
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "answer"}, indent=2))
    finally:
        client.close()
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
