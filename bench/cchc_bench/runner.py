"""One benchmark run: the pipeline on a fresh embedded stack, then the two references.

Phases (each can be skipped):

1. ``latency``   — fixed offered load (default 10,000 events/s for 20 s); push-to-queryable per
                   row = ClickHouse ``inserted_at − kafka_ts`` (the record's send time);
2. ``sustained`` — N events pushed as fast as a producer can; timed from the first push until
                   every row is in ClickHouse (count = N, lags zero); per-stage rates from each
                   service's ``cchc_messages_consumed_total``; RSS sampled from /proc;
                   optionally py-spy profiles of the three services;
3. ``queries``   — national query latency over the loaded data;
4. ``https``     — events posted to ingest's ``POST /v1/events`` in 1,000-line batches, one
                   province token per province; events/s from the first request until every
                   batch was acknowledged (durable on the broker), beside the Kafka push's figure,
                   then until every row is in ClickHouse;
5. ``ceiling``   — the same N events through three pass-through hops on a fresh broker;
6. ``naive``     — a smaller number of events through per-message handlers on a fresh broker.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cchc_devstack import broker, secrets
from cchc_devstack.ports import HOST, free_port_block
from cchc_devstack.stack import Stack, StackConfig
from cchc_devstack.topics import ensure_topics, pipeline_topics
from cchc_runtime.tokens import Role, TokenStore
from cchc_shared.catalogue import default_catalogue
from cchc_shared.provinces import default_registry

from cchc_bench import ceiling, chart, https, naive, probe
from cchc_bench.events import EventFactory, generate
from cchc_bench.load import Push, PushSpec, split
from cchc_bench.profile import Profiler
from cchc_bench.stats import Results, Thresholds, active_rate, summarize

PHASES = ("latency", "sustained", "queries", "https", "ceiling", "naive")
Say = Callable[[str], None]
# Natural-key ranges of the indicator reports: sustained from 0 (province-wide keys first, so the
# national queries have data), latency and the references far above.
LATENCY_KEYS = 320_000
HTTPS_KEYS = 300_000
NATIONAL_QUESTIONS = (
    ("dossiers.received", "2025-Q4"),
    ("dossiers.received", "2026-03"),
    ("procedures.in_force", "2026-Q1"),
    ("dossiers.on_time_rate", "2025-Q3"),
    ("staff.cut", "2025-H2"),
    ("online_services.integration_rate", "2026-H1"),
)


@dataclass(frozen=True)
class BenchConfig:
    """What one run does."""

    events: int = 1_000_000
    naive_events: int = 3_000
    https_events: int = 100_000
    https_concurrency: int = 4
    latency_rate: int = 10_000
    latency_seconds: int = 20
    latency_runs: int = 5
    producers: int = 2
    query_repeats: int = 20
    profile: bool = False
    out_dir: Path = Path("bench/results")
    phases: tuple[str, ...] = PHASES
    seed: int = 8
    drain_timeout_s: float = 300.0
    partitions: int = 4
    bars: Thresholds = field(default_factory=Thresholds)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def fresh_stack(data_dir: Path, partitions: int, say: Say) -> Iterator[Stack]:
    """A full embedded stack on free ports, as tests/conftest.py starts it; stopped after."""
    base = free_port_block(HOST, 4)  # Kafka, then the API and the two services' ports
    config = StackConfig(
        data_dir=data_dir, kafka_port=base, api_port=base + 1, internal_partitions=partitions
    )
    stack = Stack(config, say=lambda line: say(f"[stack] {line}"))
    stack.start(timeout_s=120)
    try:
        yield stack
    finally:
        stack.stop()


@contextlib.contextmanager
def fresh_broker(data_dir: Path, topics: dict[str, int]) -> Iterator[str]:
    """Only the broker (same binary and flags as the stack's), with ``topics``; its bootstrap."""
    port = free_port_block(HOST)
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    server = broker.start(HOST, port, logs / "broker.log")
    try:
        bootstrap = f"{HOST}:{port}"
        ensure_topics(bootstrap, topics)
        yield bootstrap
    finally:
        server.stop(timeout_s=5)


class Api:
    """aggregate's HTTP API, as the benchmark uses it."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        # The stack's operator token: it may call every route (/v1/pipeline included).
        self.http = httpx.Client(base_url=base, timeout=60, headers=headers)

    def sql(self, query: str) -> list[list[Any]]:
        """Rows of a read-only query."""
        r = self.http.post("/v1/sql", json={"sql": query})
        r.raise_for_status()
        rows: list[list[Any]] = r.json()["rows"]
        return rows

    def pipeline(self) -> dict[str, Any]:
        """/v1/pipeline."""
        r = self.http.get("/v1/pipeline")
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    def rows(self, prefix: str) -> int:
        """Events in both tables whose event_id starts with ``prefix`` (a batch stored again
        after a failed insert is counted once: docs/platform.md "Retried inserts")."""
        where = f"startsWith(event_id, '{prefix}')"
        q = (
            f"SELECT (SELECT uniqExact(event_id) FROM observations WHERE {where}) + "
            f"(SELECT uniqExact(event_id) FROM dossier_events WHERE {where})"
        )
        return int(self.sql(q)[0][0])

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _both(where: str, select: str) -> str:
    return (
        f"SELECT {select} FROM observations WHERE {where} "
        f"UNION ALL SELECT {select} FROM dossier_events WHERE {where}"
    )


class _Stalled:
    """True once `value()` has not grown for `after_s` seconds."""

    def __init__(self, value: Callable[[], int], after_s: float) -> None:
        self.value, self.after_s = value, after_s
        self.last, self.since = -1, time.monotonic()

    def __call__(self) -> bool:
        now, current = time.monotonic(), self.value()
        if current != self.last:
            self.last, self.since = current, now
        return now - self.since > self.after_s


def _through_stages(
    procs: list[Any],
    push: Push,
    ready: Any,
    stop: Any,
    until: Callable[[], bool],
    timeout_s: float,
    progress: Callable[[], str],
) -> float:
    """Start a reference's stage processes, push once all are ready, wait until `until()`.

    Returns when the push started; the stages and producers are stopped however it ends.
    `progress()` says how far it got when `timeout_s` runs out.
    """
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=180)
        t0 = push.start()
        push.wait()
        deadline = time.monotonic() + timeout_s
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(progress())
            time.sleep(0.05)
    finally:
        push.kill()
        stop.set()
        for proc in procs:
            proc.join(timeout=20)
            if proc.is_alive():
                proc.terminate()
    return t0


def _cpu_figures(
    before: dict[str, float | None], after: dict[str, float | None], events: int
) -> dict[str, Any]:
    """CPU seconds each process spent on the sustained run, and microseconds per event."""
    per: dict[str, Any] = {}
    for name, start in before.items():
        end = after.get(name)
        if start is None or end is None:
            continue
        used = end - start
        per[name] = {"cpu_s": round(used, 2), "us_per_event": round(used / events * 1e6, 1)}
    total = sum(v["cpu_s"] for v in per.values())
    return {
        "processes": per,
        "total_cpu_s": round(total, 2),
        "total_us_per_event": round(total / events * 1e6, 1),
        "method": "utime + stime from /proc/<pid>/stat (all threads) from the first push until "
        "the run was confirmed queryable; the producers' own CPU is not included",
    }


class Runner:
    """Runs the phases and assembles :class:`Results`."""

    def __init__(self, config: BenchConfig, say: Say) -> None:
        self.config = config
        self.say = say
        self.ctx = multiprocessing.get_context("spawn")
        self.results = Results(started_at=_now())
        self.curves: dict[str, list[tuple[float, float]]] = {}
        self._broker_pid: int | None = None

    # -- helpers ----------------------------------------------------------------------------------
    def _specs(
        self, bootstrap: str, total: int, prefix: str, rate: float | None, key_offset: int
    ) -> list[PushSpec]:
        workers = max(1, min(self.config.producers, total))
        return [
            PushSpec(
                bootstrap=bootstrap,
                count=n,
                prefix=prefix,
                seed=self.config.seed + w,
                worker=w,
                workers=workers,
                key_offset=key_offset,
                rate=rate / workers if rate else None,
            )
            for w, n in enumerate(split(total, workers))
        ]

    def _prepared(self, specs: list[PushSpec]) -> tuple[Push, dict[str, Any]]:
        push = Push(self.ctx, specs)
        t = time.perf_counter()
        ready = push.prepare()
        info = {
            "events": sum(r["reports"] + r["dossiers"] for r in ready),
            "indicator_reports": sum(r["reports"] for r in ready),
            "dossier_events": sum(r["dossiers"] for r in ready),
            "mean_bytes": round(
                sum(r["bytes"] for r in ready)
                / max(1, sum(r["reports"] + r["dossiers"] for r in ready)),
                1,
            ),
            "generate_s": round(time.perf_counter() - t, 2),
            "producers": len(specs),
        }
        return push, info

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> Results:
        """Every selected phase; returns the results (also written to disk by :func:`write`)."""
        c = self.config
        r = self.results
        r.config = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(c).items() if k != "bars"
        }
        r.config["bars"] = asdict(c.bars)
        r.machine = probe.machine()
        r.machine["load_avg_start"] = probe.load_average()
        if c.profile and Profiler.available():
            r.notes.append(
                "--profile: py-spy sampled the services during the sustained phase; its own CPU "
                "use lowers the figures of this run."
            )
        r.notes.append(
            f"The machine has {r.machine['nproc']} cores shared by the broker, three services, "
            "the producers and the sampler; other work on the machine shows in the load averages."
        )
        tmp = Path(tempfile.mkdtemp(prefix="cchc-bench-"))
        try:
            if {"latency", "sustained", "queries", "https"} & set(c.phases):
                self._pipeline(tmp / "stack")
            if "ceiling" in c.phases:
                self._ceiling(tmp / "ceiling")
            if "naive" in c.phases:
                self._naive(tmp / "naive")
        except BaseException as exc:
            r.notes.append(f"run failed: {exc!r}; figures measured before the failure are kept")
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            # Also after a failure: whatever was measured is evaluated and written down.
            r.machine["load_avg_end"] = probe.load_average()
            r.finished_at = _now()
            r.evaluate(c.bars)
            self._explain()
        return r

    def _pipeline(self, data_dir: Path) -> None:
        c = self.config
        self.say("starting a fresh embedded stack …")
        with fresh_stack(data_dir, c.partitions, self.say) as stack:
            api = Api(stack.config.api_url, stack.auth())
            ports = stack.config.ports()
            pids = {n: s.proc.pid for n, s in stack.services.items() if s.proc is not None}
            sampler = probe.Sampler(ports, pids)
            if stack.broker is not None and stack.broker.proc is not None:
                self._broker_pid = stack.broker.proc.pid
            sampler.start()
            try:
                if "latency" in c.phases:
                    self._latency(stack, api)
                if "sustained" in c.phases:
                    self._sustained(stack, api, sampler)
                if "queries" in c.phases:
                    self._queries(api)
                if "https" in c.phases:
                    self._https(stack, api)
            finally:
                sampler.stop()
                api.close()
            aggregate = stack.services.get("aggregate")
            chdb_mb = (
                probe.proc_mapped_mb(aggregate.proc.pid, "chdb")
                if aggregate is not None and aggregate.proc is not None
                else None
            )
            self.results.figures["rss_mb"] = {
                name: {
                    "peak": round(sampler.hwm.get(name, 0.0), 1),
                    "max_sampled_rss": round(max((v for _, v in points), default=0.0), 1),
                    "max_sampled_anon": round(sampler.anon.get(name, 0.0), 1),
                }
                for name, points in sampler.rss.items()
            }
            if chdb_mb is not None and "aggregate" in self.results.figures["rss_mb"]:
                # chDB's library mapped into aggregate, resident at the end of the run: file
                # pages, shared and reclaimable, absent against a ClickHouse server.
                self.results.figures["rss_mb"]["aggregate"]["chdb_library_resident"] = round(
                    chdb_mb, 1
                )

    def _latency(self, stack: Stack, api: Api) -> None:
        """`latency_runs` runs of the same offered load, so p99 is a range, not one draw."""
        c = self.config
        total = c.latency_rate * c.latency_seconds
        runs = [self._latency_run(stack, api, run) for run in range(c.latency_runs)]
        p99s = sorted(r["push_to_queryable_s"]["p99"] for r in runs)
        last = runs[-1]
        self.results.figures["latency"] = {
            "offered_eps": c.latency_rate,
            "seconds": c.latency_seconds,
            "runs": len(runs),
            "rows": total,
            # The median run's quantiles (the target reads p99 from here) and the range.
            "push_to_queryable_s": {
                k: statistics.median(r["push_to_queryable_s"][k] for r in runs)
                for k in ("p50", "p95", "p99", "max", "mean")
            },
            "p99_range_s": [p99s[0], p99s[-1]],
            "p50_range_s": [
                min(r["push_to_queryable_s"]["p50"] for r in runs),
                max(r["push_to_queryable_s"]["p50"] for r in runs),
            ],
            "pushers_cores": [r["pushers"]["cores"] for r in runs],
            "load_avg_1m": [r["load_avg"][0][0] for r in runs],
            "each_run": runs,
            "method": "per row: ClickHouse inserted_at − kafka_ts (record timestamp set at send); "
            f"{len(runs)} runs of the same offered load on the same stack, each with its own "
            "events; push_to_queryable_s holds the median over runs of each quantile. "
            "pushers: CPU seconds the producer processes spent pushing (time.process_time "
            "from go to the last ack) and that as cores; cpu: the services' and broker's CPU "
            "over the run (from the go until every row was confirmed), per event",
            # Kept at the top level for the p99 explanation (the last run's).
            "stages": last["stages"],
            "offset_gaps": last["offset_gaps"],
            **{f"load_{k}": v for k, v in last["load"].items()},
        }

    def _latency_run(self, stack: Stack, api: Api, run: int) -> dict[str, Any]:
        c = self.config
        total = c.latency_rate * c.latency_seconds
        prefix = f"lat{run}x"
        self.say(
            f"latency run {run + 1}/{c.latency_runs}: {total:,} events at {c.latency_rate:,}/s …"
        )
        # Each run its own indicator-report keys (a tenth of the events are reports).
        keys = LATENCY_KEYS + run * (total // 10 + 2 * c.producers + 10)
        push, info = self._prepared(
            self._specs(stack.config.bootstrap, total, prefix, c.latency_rate, keys)
        )
        scraped = probe.scrape(stack.config.ports())
        pids = {n: s.proc.pid for n, s in stack.services.items() if s.proc is not None}
        if self._broker_pid:
            pids["broker"] = self._broker_pid
        load_before = probe.load_average()
        cpu_before = {n: probe.proc_cpu_s(pid) for n, pid in pids.items()}
        try:
            t0 = push.start()
            reports = push.wait()
        finally:
            push.kill()
        pushed_s = max(r["acked_at"] for r in reports) - t0
        self._wait_rows(api, prefix, total, t0)
        cpu_after = {n: probe.proc_cpu_s(pid) for n, pid in pids.items()}
        work = probe.batch_work(scraped, probe.scrape(stack.config.ports()), time.time() - t0)
        where = f"startsWith(event_id, '{prefix}')"
        # Each event's first insert (a batch stored again is not a second event).
        lat = "event_id, dateDiff('millisecond', kafka_ts, inserted_at) AS ms"
        first = f"SELECT min(ms) / 1000.0 AS s FROM ({_both(where, lat)}) GROUP BY event_id"
        rows = api.sql(
            f"SELECT count(), quantilesExact(0.5, 0.95, 0.99)(s), max(s), avg(s) FROM ({first})"
        )
        count, (p50, p95, p99), worst, mean = rows[0]
        gaps = probe.offset_gaps(scraped, probe.scrape(stack.config.ports()))
        if count != total:
            # Every event is unique: a missing row is a lost event, never "noise".
            raise AssertionError(f"latency: {count:,} rows for {total:,} events sent ({gaps})")
        push_cpu = sum(r.get("cpu_s", 0.0) for r in reports)
        cores = round(push_cpu / pushed_s, 2) if pushed_s > 0 else None
        figures: dict[str, Any] = {
            "achieved_eps": round(total / pushed_s, 1) if pushed_s > 0 else None,
            "push_to_queryable_s": {"p50": p50, "p95": p95, "p99": p99, "max": worst, "mean": mean},
            "pushers": {
                "processes": len(reports),
                "cpu_s": round(push_cpu, 2),
                "cores": cores,
                "us_per_event": round(push_cpu / total * 1e6, 1),
            },
            "cpu": _cpu_figures(cpu_before, cpu_after, total),
            "load_avg": [load_before, probe.load_average()],
            "stages": work,
            "offset_gaps": gaps,
            "load": info,
        }
        self.say(
            f"latency run {run + 1}: p50 {p50:.2f} s, p99 {p99:.2f} s; pushers "
            f"{cores} cores; load {load_before[0]}"
        )
        return figures

    def _wait_rows(self, api: Api, prefix: str, expected: int, t0: float) -> dict[str, Any]:
        """Poll until ``expected`` rows with ``prefix`` are in ClickHouse and every lag is 0."""
        deadline = time.monotonic() + self.config.drain_timeout_s
        seen = 0
        while True:
            seen = api.rows(prefix)
            if seen >= expected:
                state = api.pipeline()
                if not any(state["lag"].values()):
                    return {"rows": seen, "pipeline": state, "confirmed_at": time.time()}
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{prefix}: {seen:,} of {expected:,} rows after "
                    f"{self.config.drain_timeout_s:.0f}s (pipeline {api.pipeline()})"
                )
            time.sleep(0.5)

    def _sustained(self, stack: Stack, api: Api, sampler: probe.Sampler) -> None:
        c = self.config
        self.say(f"sustained: generating {c.events:,} events …")
        push, info = self._prepared(self._specs(stack.config.bootstrap, c.events, "s", None, 0))
        profiler = Profiler(c.out_dir / "profiles")
        profiles: dict[str, Any] = {}
        if c.profile:
            if profiler.available():
                profiler.start({n: s.proc.pid for n, s in stack.services.items() if s.proc})
            else:
                profiles = {"error": "py-spy is not installed (pip install py-spy)"}
        self.say("sustained: pushing …")
        before = {n: (pts[-1][1] if pts else 0.0) for n, pts in sampler.counters.items()}
        cpu_pids = {**sampler.pids, **({"broker": self._broker_pid} if self._broker_pid else {})}
        cpu_before = {n: probe.proc_cpu_s(pid) for n, pid in cpu_pids.items()}
        try:
            t0 = push.start()
            reports = push.wait()
        finally:
            push.kill()
        pushed_at = max(r["acked_at"] for r in reports)
        self.say(f"sustained: pushed in {pushed_at - t0:.1f}s, waiting until queryable …")
        try:
            done = self._wait_rows(api, "s", c.events, t0)
        finally:
            if profiler.procs:
                profiles = profiler.stop()
        cpu_after = {n: probe.proc_cpu_s(pid) for n, pid in cpu_pids.items()}
        where = "startsWith(event_id, 's')"
        last = api.sql(
            f"SELECT max(t) FROM ({_both(where, 'toUnixTimestamp64Milli(inserted_at) AS t')})"
        )
        last_insert = int(last[0][0]) / 1000
        elapsed = last_insert - t0
        window = [t0 - 1, done["confirmed_at"] + 1]
        stages = {}
        for name, points in sampler.counters.items():
            inside = [
                (t, v - before.get(name, 0.0)) for t, v in points if window[0] <= t <= window[1]
            ]
            self.curves[name] = inside
            rate = active_rate(inside)
            stages[name] = {
                k: (round(v, 1) if isinstance(v, float) else v) for k, v in rate.items()
            }
        self.results.figures["end_to_end"] = {
            "events": c.events,
            "rows": done["rows"],
            "events_per_s": round(c.events / elapsed, 1),
            "seconds": round(elapsed, 2),
            "push_seconds": round(pushed_at - t0, 2),
            "push_events_per_s": round(c.events / (pushed_at - t0), 1),
            "confirmed_seconds": round(done["confirmed_at"] - t0, 2),
            "dlq": done["pipeline"].get("dlq"),
            "method": "first push → last row's ClickHouse inserted_at; then verified: row count "
            "= events and every lag 0 on /v1/pipeline (confirmed_seconds, polled every 0.5 s)",
            **{f"load_{k}": v for k, v in info.items()},
        }
        self.results.figures["stages"] = stages
        self.results.figures["cpu"] = cpu = _cpu_figures(cpu_before, cpu_after, c.events)
        check_us = probe.contiguity_cost()
        consumers = 3  # ingest, normalize and aggregate each check every record they fetch
        self.results.figures["contiguity_check"] = {
            "us_per_record": round(check_us, 3),
            "us_per_event": round(consumers * check_us, 3),
            "share_of_cpu_per_event": round(consumers * check_us / cpu["total_us_per_event"], 4)
            if cpu.get("total_us_per_event")
            else None,
            "method": "Contiguity.check over 1M contiguous offsets in batches of 5,000, CPU time; "
            "× 3 consuming services, against figures.cpu's total µs per event",
        }
        if c.profile:
            self.results.figures["profiles"] = profiles

    def _https(self, stack: Stack, api: Api) -> None:
        c = self.config
        self.say(f"https: generating {c.https_events:,} events …")
        factory = EventFactory(default_registry(), default_catalogue(), "h0", c.seed + 100)
        messages = generate(factory, c.https_events, key_indices=itertools.count(HTTPS_KEYS))
        work = https.batches(messages)
        store = TokenStore(secrets.tokens_file(stack.config.data_dir.resolve()))
        tokens = {
            p: store.create(f"bench-https-{p}", Role.PROVINCE, province=p)
            for p in sorted({b.province for b in work})
        }
        url = f"http://{HOST}:{stack.config.ports()['ingest']}"
        self.say(
            f"https: posting {len(work)} batches of ≤ {https.BATCH_LINES:,} lines, "
            f"{c.https_concurrency} in flight …"
        )
        outcome = https.push(url, tokens, work, c.https_concurrency)
        if outcome.accepted != c.https_events:
            raise AssertionError(
                f"https: {outcome.accepted:,} of {c.https_events:,} events accepted "
                f"(statuses {outcome.statuses})"
            )
        self._wait_rows(api, "h", c.https_events, outcome.first_at)
        where = "startsWith(event_id, 'h')"
        last = api.sql(
            f"SELECT max(t) FROM ({_both(where, 'toUnixTimestamp64Milli(inserted_at) AS t')})"
        )
        elapsed = int(last[0][0]) / 1000 - outcome.first_at
        kafka = self.results.figures.get("end_to_end") or {}
        self.results.figures["https_push"] = {
            **outcome.figures(c.https_events),
            "batch_lines": https.BATCH_LINES,
            "concurrency": c.https_concurrency,
            "provinces": len(tokens),
            "kafka_push_events_per_s": kafka.get("push_events_per_s"),
            "end_to_end_seconds": round(elapsed, 2),
            "end_to_end_events_per_s": round(c.https_events / elapsed, 1),
            "method": "POST /v1/events over plain HTTP on loopback (TLS is the reverse proxy's), "
            "JSON lines, one token per province; events_per_s = events / (last 2xx − first "
            "request), each 2xx meaning every line durable on the broker (acks=all); "
            "end_to_end = until the last row's ClickHouse inserted_at. kafka_push_events_per_s "
            "is the sustained phase's push (producers straight to Kafka) on the same stack",
        }

    def _queries(self, api: Api) -> None:
        c = self.config
        self.say("queries: national figures …")
        timings: list[float] = []
        answers = []
        for indicator, period in NATIONAL_QUESTIONS:
            for i in range(c.query_repeats):
                t = time.perf_counter()
                r = api.http.get("/v1/national", params={"indicator": indicator, "period": period})
                timings.append(time.perf_counter() - t)
                if i == 0:
                    body = r.json()
                    answers.append(
                        {
                            "indicator": indicator,
                            "period": period,
                            "status": r.status_code,
                            "provinces_reported": body.get("provinces_reported"),
                        }
                    )
        observations = api.sql("SELECT count() FROM observations FINAL")[0][0]
        figures: dict[str, Any] = {
            "national_s": summarize(timings),
            "national_questions": answers,
            "observations_rows": observations,
        }
        probe_r = api.http.get("/v1/service-index", params={"period": "2025-Q4"})
        if probe_r.status_code == 404 and "error" not in probe_r.text:
            figures["service_index_s"] = None
            self.results.notes.append("GET /v1/service-index does not exist yet: not measured.")
        else:
            si: list[float] = []
            for period in ("2025-Q4", "2026-Q1", "2026"):
                for _ in range(c.query_repeats):
                    t = time.perf_counter()
                    api.http.get("/v1/service-index", params={"period": period})
                    si.append(time.perf_counter() - t)
            figures["service_index_s"] = summarize(si)
            figures["service_index_status"] = probe_r.status_code
        self.results.figures["queries"] = figures

    def _ceiling(self, data_dir: Path) -> None:
        c = self.config
        self.say(f"ceiling: {c.events:,} events through three pass-through hops …")
        topics = pipeline_topics(1, c.partitions)
        topics.update(dict.fromkeys(ceiling.TOPICS, c.partitions))
        raw = sorted(t for t in topics if t.startswith("cchc.raw."))
        with fresh_broker(data_dir, topics) as bootstrap:
            ready = self.ctx.Queue()
            stop = self.ctx.Event()
            counters = [self.ctx.Value("q", 0) for _ in range(3)]
            done_at = [self.ctx.Value("d", 0.0) for _ in range(3)]
            procs = [
                self.ctx.Process(
                    target=ceiling.stage_main,
                    args=(
                        bootstrap,
                        hop,
                        inputs,
                        output,
                        counters[hop],
                        done_at[hop],
                        c.events,
                        ready,
                        stop,
                    ),
                    daemon=True,
                )
                for hop, (inputs, output) in enumerate(ceiling.chain(raw))
            ]
            push, info = self._prepared(self._specs(bootstrap, c.events, "c", None, 0))
            t0 = _through_stages(
                procs,
                push,
                ready,
                stop,
                until=lambda: done_at[2].value != 0.0,
                timeout_s=c.drain_timeout_s,
                progress=lambda: f"ceiling: {counters[2].value:,} of {c.events:,}",
            )
        hops = [round(d.value - t0, 2) for d in done_at]
        elapsed = done_at[2].value - t0
        self.results.figures["ceiling"] = {
            "events": c.events,
            "events_per_s": round(c.events / elapsed, 1),
            "seconds": round(elapsed, 2),
            "hop_done_seconds": hops,
            "method": "34 raw topics → bench.t1 → bench.t2 → bench.t3, each hop a process with "
            "aiokafka getmany + send_batch (acks=all), commit after ack; fresh broker",
            **{f"load_{k}": v for k, v in info.items()},
        }

    def _naive(self, data_dir: Path) -> None:
        c = self.config
        n = c.naive_events
        self.say(f"naive: {n:,} events through per-message handlers …")
        topics = pipeline_topics(1, c.partitions)
        topics.update(dict.fromkeys((naive.VALIDATED, naive.NORMALIZED), c.partitions))
        raw = sorted(t for t in topics if t.startswith("cchc.raw."))
        data_dir.mkdir(parents=True, exist_ok=True)
        with fresh_broker(data_dir, topics) as bootstrap:
            ready = self.ctx.Queue()
            stop = self.ctx.Event()
            done = [self.ctx.Value("q", 0) for _ in naive.STAGES]
            last = [self.ctx.Value("d", 0.0) for _ in naive.STAGES]
            procs = [
                self.ctx.Process(
                    target=naive.stage_main,
                    args=(stage, bootstrap, raw, str(data_dir), done[i], last[i], ready, stop),
                    daemon=True,
                )
                for i, stage in enumerate(naive.STAGES)
            ]
            push, info = self._prepared(self._specs(bootstrap, n, "n", None, 0))
            stalled = _Stalled(lambda: done[2].value, after_s=30.0)
            t0 = _through_stages(
                procs,
                push,
                ready,
                stop,
                until=lambda: done[2].value >= n or stalled(),
                # Generous: under load the naive pipeline runs at ~14 events/s; a real loss is
                # caught by the stall check above, not by this bound.
                timeout_s=max(c.drain_timeout_s, n / 2),
                progress=lambda: f"naive: {done[2].value:,} of {n:,} inserted",
            )
        inserted = done[2].value
        elapsed = last[2].value - t0
        if inserted < n:
            # The naive reference consumes as a per-message FastStream handler does, without the
            # pipeline's contiguity check: the broker's fetch race can skip records for good.
            self.results.notes.append(
                f"naive: {n - inserted:,} of {n:,} events never arrived (no progress for 30 s): "
                "a consumer without the offset-contiguity check skipped them "
                '(docs/platform.md "Embedded broker"); its rate is over the events that did'
            )
        self.results.figures["naive"] = {
            "events": n,
            "inserted": inserted,
            "lost": n - inserted,
            "events_per_s": round(inserted / elapsed, 1),
            "seconds": round(elapsed, 2),
            "ms_per_event": round(1000 * elapsed / max(inserted, 1), 2),
            "method": "FastStream per-message subscribers; real validate/canonicalize steps; "
            "publish per message; one chDB insert per message; fresh broker, own chDB",
            **{f"load_{k}": v for k, v in info.items()},
        }

    def _explain(self) -> None:
        """Notes on missed targets: how far, and what the figures say about why."""
        f = self.results.figures
        for t in self.results.targets:
            if t.passed is False:
                t.note = _why(t.name, f, self.results.machine.get("nproc") or 1)
        load = self.results.machine.get("load_avg_start", [0])[0]
        if load > 0.5:
            self.results.notes.append(
                f"Load average {load} at the start: other processes shared the 2 cores, so "
                "these figures are pessimistic."
            )


def _why(name: str, f: dict[str, Any], cores: int) -> str:
    stages = f.get("stages") or {}
    rates = {s: v.get("rate") for s, v in stages.items() if v.get("rate")}
    slowest = min(rates, key=lambda s: rates[s]) if rates else None
    cpu = f.get("cpu") or {}
    if name.startswith(("end-to-end", "share of")) and slowest:
        why = (
            f"slowest stage: {slowest} at {rates[slowest]:,.0f} msg/s "
            f"(rates over each stage's active span: "
            + ", ".join(f"{s} {v:,.0f}" for s, v in rates.items())
            + "); the stages share the cores with the broker, so their rates do not add up "
            "independently."
        )
        if cpu.get("processes"):
            per = cpu["processes"]
            total = cpu["total_us_per_event"]
            why += (
                " CPU per event: "
                + ", ".join(f"{n} {v['us_per_event']} µs" for n, v in per.items())
                + f"; {total} µs in all, so {cores} cores move at most "
                f"{cores * 1e6 / total:,.0f} events/s."
            )
        return why + " See the profiles for where each stage spends its time."
    if name.startswith("p99"):
        lat = f.get("latency") or {}
        spread = ""
        if lat.get("p99_range_s"):
            lo, hi = lat["p99_range_s"]
            spread = f"the median of {lat['runs']} runs (range {lo:.2f}–{hi:.2f} s); "
        why = spread + (
            "a record waits for the batch in progress at each hop, then for its own; aggregate's "
            "batches (decode, columns, one ClickHouse insert per table, with the fold of the "
            "dossier states beside them on the same cores) are the long ones"
        )
        agg = ((f.get("latency") or {}).get("stages") or {}).get("aggregate")
        if agg:
            why += (
                f": {agg['batches']} batches of {agg['mean_batch_records']:,.0f} records on "
                f"average, {agg['mean_batch_s'] * 1000:,.0f} ms each, aggregate busy "
                f"{agg['busy_share']:.0%} of the time"
            )
        return why + "."
    if name.endswith("RSS"):
        service = name.split()[0]
        anon = ((f.get("rss_mb") or {}).get(service) or {}).get("max_sampled_anon")
        text = "peak resident memory (VmHWM) over the whole run, including the sustained burst"
        if anon:
            text += f"; of it at most {anon:,.0f} MB private (RssAnon), the rest mapped files"
            if service == "aggregate":
                text += " (chDB's library alone maps ~200 MB and allocates ~65 MB on import)"
        return text + "."
    return ""


def write(results: Results, out_dir: Path, curves: dict[str, list[tuple[float, float]]]) -> Path:
    """results.json and the chart in ``out_dir``; returns the chart's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps(results.to_json(), indent=2, ensure_ascii=False) + "\n"
    )
    return chart.write(
        out_dir / "throughput.png",
        results.figures,
        curves,
        results.config["bars"]["throughput_eps"],
    )
