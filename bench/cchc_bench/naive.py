"""The naive pipeline: what a first attempt looks like, as a reference for the real one.

Per-message FastStream handlers (``@broker.subscriber(topic)``, no batching): each message is
validated with the real steps (orjson, pydantic), published on its own and awaited, and the
aggregate stage does one ClickHouse insert per message into its own chDB (~9 ms each:
docs/platform.md "Embedded ClickHouse").
Same steps, same broker, same events: only the per-message shape differs.
"""

from __future__ import annotations

import asyncio
import time
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

STAGES = ("ingest", "normalize", "aggregate")
VALIDATED = "bench.naive.validated"
NORMALIZED = "bench.naive.normalized"


def stage_main(
    stage: str,
    bootstrap: str,
    raw_topics: list[str],
    data_dir: str,
    done: Synchronized[int],
    last_at: Synchronized[float],
    ready: Queue[Any],
    stop: Event,
) -> None:
    """Process entry of one naive stage."""
    asyncio.run(_stage(stage, bootstrap, raw_topics, Path(data_dir), done, last_at, ready, stop))


async def _stage(
    stage: str,
    bootstrap: str,
    raw_topics: list[str],
    data_dir: Path,
    done: Synchronized[int],
    last_at: Synchronized[float],
    ready: Queue[Any],
    stop: Event,
) -> None:
    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage

    broker = KafkaBroker(bootstrap, client_id=f"bench-naive-{stage}", logger=None)
    topics = {"ingest": raw_topics, "normalize": [VALIDATED], "aggregate": [NORMALIZED]}[stage]
    subscriber = broker.subscriber(
        *topics,
        group_id=f"bench-naive-{stage}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        done.value = count
        last_at.value = time.time()

    if stage == "ingest":
        from cchc_ingest.steps.validate import Accepted, validate
        from cchc_shared.provinces import default_registry
        from cchc_shared.topics import province_of_raw_topic

        registry = default_registry()

        @subscriber
        async def ingest(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            result = validate(msg.body, province_of_raw_topic(raw.topic), registry)  # type: ignore[union-attr]
            if isinstance(result, Accepted):
                await broker.publish(msg.body, VALIDATED, key=result.province.encode())
            tick()

    elif stage == "normalize":
        from cchc_normalize.steps.canonicalize import (
            Reference,
            Rejected,
            canonicalize,
            vietnam_today,
        )
        from cchc_shared.hotpath import encoder

        reference = Reference.load()
        encode = encoder()

        @subscriber
        async def normalize(msg: KafkaMessage) -> None:
            result = canonicalize(msg.body, reference, vietnam_today())
            key: Any = msg.raw_message.key  # type: ignore[union-attr]
            if not isinstance(result, Rejected):
                await broker.publish(encode(result), NORMALIZED, key=key)
            tick()

    else:
        from cchc_aggregate.clickhouse.client import Store, connect
        from cchc_aggregate.clickhouse.migrations import migrate
        from cchc_aggregate.settings import AggregateSettings
        from cchc_aggregate.sink.rows import to_columns

        client = connect(f"chdb://{(data_dir / 'clickhouse').resolve()}")
        migrate(client, AggregateSettings().migrations_dir)
        store = Store(client)

        @subscriber
        async def aggregate(msg: KafkaMessage) -> None:
            raw: Any = msg.raw_message
            columns = to_columns([(msg.body, raw.timestamp)])
            token = f"{raw.topic}/{raw.partition}/{raw.offset}"
            # One blocking insert per message, on the event loop: the first attempt's shape.
            if columns.observation_count:
                store.insert("observations", columns.observations, token)
            if columns.dossier_count:
                store.insert("dossier_events", columns.dossiers, token)
            tick()

    await broker.start()
    # Polling another library's state and a process-shared event: nothing to await on.
    while subscriber.consumer is None or not subscriber.consumer.assignment():  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    ready.put(stage)
    await asyncio.to_thread(stop.wait)
    await broker.stop()
