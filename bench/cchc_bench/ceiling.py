"""The ceiling: pass-through stages chained like the pipeline, no parsing at all.

raw (34 province topics) → t1 → t2 → t3, each hop a separate process with an aiokafka consumer
(``getmany``) and producer (``send_batch``, acks=all), committing after the produce is
acknowledged — the pipeline's delivery discipline without any of its work. What this chain moves
per second is what the broker and the Python client can move on this machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

from cchc_bench.load import BATCH_BYTES, bench_producer

TOPICS = ("bench.t1", "bench.t2", "bench.t3")
MAX_RECORDS = 5000


def chain(raw_topics: Sequence[str]) -> list[tuple[list[str], str]]:
    """(input topics, output topic) of each of the three hops."""
    return [(list(raw_topics), TOPICS[0]), ([TOPICS[0]], TOPICS[1]), ([TOPICS[1]], TOPICS[2])]


def stage_main(
    bootstrap: str,
    hop: int,
    inputs: list[str],
    output: str,
    forwarded: Synchronized[int],
    done_at: Synchronized[float],
    target: int,
    ready: Queue[Any],
    stop: Event,
) -> None:
    """Process entry of one hop."""
    asyncio.run(_stage(bootstrap, hop, inputs, output, forwarded, done_at, target, ready, stop))


async def _stage(
    bootstrap: str,
    hop: int,
    inputs: list[str],
    output: str,
    forwarded: Synchronized[int],
    done_at: Synchronized[float],
    target: int,
    ready: Queue[Any],
    stop: Event,
) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *inputs,
        bootstrap_servers=bootstrap,
        group_id=f"bench-ceiling-{hop}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_partition_fetch_bytes=BATCH_BYTES,
        client_id=f"bench-ceiling-{hop}",
    )
    producer = bench_producer(bootstrap, client_id=f"bench-ceiling-{hop}")
    await producer.start()
    await consumer.start()
    await producer.client._wait_on_metadata(output)
    out_partitions = sorted(producer.client.cluster.partitions_for_topic(output) or {0})
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    ready.put(hop)
    count = 0
    turn = 0
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=100, max_records=MAX_RECORDS)
            if not fetched:
                continue
            futures = []
            n = 0
            for records in fetched.values():
                # One output partition per input partition batch, rotating: no per-record work.
                partition = out_partitions[turn % len(out_partitions)]
                turn += 1
                batch = producer.create_batch()
                for r in records:
                    if batch.append(key=r.key, value=r.value, timestamp=None) is None:
                        batch.close()
                        futures.append(
                            await producer.send_batch(batch, output, partition=partition)
                        )
                        batch = producer.create_batch()
                        batch.append(key=r.key, value=r.value, timestamp=None)
                    n += 1
                batch.close()
                futures.append(await producer.send_batch(batch, output, partition=partition))
            await asyncio.gather(*futures)
            await consumer.commit()
            count += n
            forwarded.value = count
            if count >= target and done_at.value == 0.0:
                done_at.value = time.time()
    finally:
        await consumer.stop()
        await producer.stop()
