"""Producer processes: pre-generate their share of events, wait for "go", push, report.

Each worker is a separate OS process (multiprocessing, spawn) so that generating and pushing do
not compete with the measuring process for the GIL. Two modes:

* burst — as fast as a real producer can: aiokafka ``send_batch`` of ~1 MiB batches, round-robin
  over the province topics (~1M msg/s, docs/platform.md "Dependencies");
* paced — a fixed offered load: aiokafka ``send`` with a 5 ms linger, ``rate`` events/s; each
  record's timestamp is its send time (ClickHouse stores it as ``kafka_ts``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from cchc_bench.events import EventFactory, Message, count_kinds, generate

BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PushSpec:
    """One worker's share of a push."""

    bootstrap: str
    count: int
    prefix: str
    seed: int
    worker: int
    workers: int
    key_offset: int = 0
    rate: float | None = None
    """events/s of this worker; None: as fast as possible."""


def key_indices(offset: int, worker: int, workers: int) -> Iterator[int]:
    """Natural-key numbers of one worker: disjoint from every other worker's."""
    return itertools.count(offset + worker, workers)


def messages_for(spec: PushSpec) -> list[Message]:
    """The events worker ``spec.worker`` sends (deterministic from the seed)."""
    from cchc_shared.catalogue import default_catalogue
    from cchc_shared.provinces import default_registry

    factory = EventFactory(
        default_registry(), default_catalogue(), f"{spec.prefix}{spec.worker}", spec.seed
    )
    return generate(
        factory, spec.count, key_indices=key_indices(spec.key_offset, spec.worker, spec.workers)
    )


def worker_main(spec: PushSpec, ready: Queue[Any], go: Event, results: Queue[Any]) -> None:
    """Process entry: generate, say ready, wait for go, push, put the report."""
    started = time.perf_counter()
    messages = messages_for(spec)
    reports, dossiers = count_kinds(messages)
    ready.put(
        {
            "worker": spec.worker,
            "generate_s": time.perf_counter() - started,
            "bytes": sum(len(v) for _, _, v in messages),
            "reports": reports,
            "dossiers": dossiers,
        }
    )
    go.wait()
    cpu = time.process_time()
    try:
        report = asyncio.run(_push(spec, messages))
        # The push's own CPU (all threads of this process), generation excluded.
        report["cpu_s"] = time.process_time() - cpu
    except Exception as exc:  # report it to the runner rather than die silently
        report = {"worker": spec.worker, "error": repr(exc), "sent": 0}
    results.put(report)


def bench_producer(bootstrap: str, linger_ms: int = 5, client_id: str = "cchc-bench") -> Any:
    """The bench's producer (loads and the ceiling's hops): acks=all, ~1 MiB batches."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,  # Tansu 0.6 refuses InitProducerId from aiokafka
        linger_ms=linger_ms,
        max_batch_size=BATCH_BYTES,
        max_request_size=8 * BATCH_BYTES,
        client_id=client_id,
    )


async def _push(spec: PushSpec, messages: list[Message]) -> dict[str, Any]:
    producer = bench_producer(spec.bootstrap)
    await producer.start()
    try:
        if spec.rate is None:
            first, last = await _burst(producer, messages)
        else:
            first, last = await _paced(producer, messages, spec.rate)
    finally:
        await producer.stop()
    return {"worker": spec.worker, "sent": len(messages), "first_at": first, "acked_at": last}


async def _burst(producer: Any, messages: list[Message]) -> tuple[float, float]:
    from aiokafka.partitioner import DefaultPartitioner

    partitioner = DefaultPartitioner()
    by_tp: dict[tuple[str, int], list[tuple[bytes | None, bytes]]] = defaultdict(list)
    for topic in {t for t, _, _ in messages}:
        await producer.client._wait_on_metadata(topic)
    partitions = {
        t: sorted(producer.client.cluster.partitions_for_topic(t) or {0})
        for t in {t for t, _, _ in messages}
    }
    for topic, key, value in messages:
        parts = partitions[topic]
        p = partitioner(key, parts, parts) if key is not None and len(parts) > 1 else parts[0]
        by_tp[(topic, p)].append((key, value))
    first = time.time()
    futures = []
    # Round-robin over partitions, one ~1 MiB batch at a time, as many provinces push at once.
    cursors = dict.fromkeys(by_tp, 0)
    while cursors:
        for tp in list(cursors):
            items, i = by_tp[tp], cursors[tp]
            batch = producer.create_batch()
            while i < len(items):
                key, value = items[i]
                if batch.append(key=key, value=value, timestamp=None) is None:
                    break
                i += 1
            batch.close()
            futures.append(await producer.send_batch(batch, tp[0], partition=tp[1]))
            if i >= len(items):
                del cursors[tp]
            else:
                cursors[tp] = i
    await asyncio.gather(*futures)
    return first, time.time()


async def _paced(producer: Any, messages: list[Message], rate: float) -> tuple[float, float]:
    first = time.time()
    start = time.perf_counter()
    futures = []
    sent = 0
    while sent < len(messages):
        due = min(len(messages), int(rate * (time.perf_counter() - start)) + 1)
        while sent < due:
            topic, key, value = messages[sent]
            futures.append(await producer.send(topic, value=value, key=key))
            sent += 1
        await asyncio.sleep(0.002)
    await asyncio.gather(*futures)
    return first, time.time()


@dataclass
class Push:
    """Running producer workers of one push."""

    ctx: SpawnContext
    specs: list[PushSpec]

    def __post_init__(self) -> None:
        self.ready: Queue[Any] = self.ctx.Queue()
        self.results: Queue[Any] = self.ctx.Queue()
        self.go = self.ctx.Event()
        self.procs = [
            self.ctx.Process(
                target=worker_main, args=(s, self.ready, self.go, self.results), daemon=True
            )
            for s in self.specs
        ]

    def prepare(self, timeout_s: float = 300) -> list[dict[str, Any]]:
        """Start the workers; returns once each has generated its events."""
        for p in self.procs:
            p.start()
        return [self.ready.get(timeout=timeout_s) for _ in self.procs]

    def start(self) -> float:
        """Release the workers; returns the wall-clock time of the release."""
        now = time.time()
        self.go.set()
        return now

    def wait(self, timeout_s: float = 600) -> list[dict[str, Any]]:
        """Every worker's report (raises RuntimeError if one failed)."""
        reports = [self.results.get(timeout=timeout_s) for _ in self.procs]
        for p in self.procs:
            p.join(timeout=10)
        failed = [r for r in reports if "error" in r]
        if failed:
            raise RuntimeError(f"producer failed: {failed}")
        return reports

    def kill(self) -> None:
        """Stop workers still running (after an error)."""
        for p in self.procs:
            if p.is_alive():
                p.terminate()


def split(total: int, workers: int) -> list[int]:
    """``total`` events over ``workers``, as even as possible."""
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]
