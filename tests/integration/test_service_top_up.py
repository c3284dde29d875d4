"""KafkaService's top-up on the real broker: a slow batch is followed by *everything* that arrived.

While a batch is handled, aiokafka fetches ahead once and then holds what it got; without the
top-up the next batch is that stale prefetch, and what arrived later waits one more batch.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from cchc_cli import admin
from cchc_runtime.kafka import Record
from cchc_runtime.metrics import ServiceMetrics
from cchc_runtime.service import KafkaService
from cchc_shared.settings import KafkaSettings
from kafka import KafkaProducer

from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected


def _send(bootstrap: str, topic: str, value: bytes, partition: int = 0) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(topic, value=value, partition=partition).get(timeout=10)
    finally:
        producer.close()


async def _run(
    stack: RunningStack,
    top_up_ms: int,
    handler: Callable[[list[Record]], Awaitable[None]],
    until: Callable[[], bool],
    first: bytes,
    started: Callable[[KafkaService], None] = lambda _: None,
) -> KafkaService:
    topic = f"test.topup.{uuid.uuid4().hex[:8]}"
    admin.ensure_topics(stack.bootstrap, {topic: 2})
    _send(stack.bootstrap, topic, first)
    service = KafkaService(
        "aggregate",
        KafkaSettings(bootstrap_servers=stack.bootstrap),
        [topic],
        f"g-{topic}",
        ServiceMetrics.create("aggregate"),
        top_up_ms=top_up_ms,
    )
    service.handle(handler)
    await service.start()
    started(service)
    try:
        await asyncio.to_thread(wait_until, until, 30)
    finally:
        await service.stop()
    return service


@pytest.mark.parametrize("top_up_ms", [0, 300])
async def test_the_batch_after_a_slow_one_holds_all_that_arrived_meanwhile(
    stack: RunningStack, top_up_ms: int
) -> None:
    batches: list[list[bytes]] = []
    topic_of: dict[str, str] = {}

    async def handler(records: list[Record]) -> None:
        batches.append([r.value for r in records])
        if len(batches) == 1:  # a slow insert: two records arrive while it runs
            topic = records[0].topic
            topic_of["t"] = topic
            await asyncio.sleep(0.2)
            await asyncio.to_thread(_send, stack.bootstrap, topic, b"B1")
            await asyncio.sleep(0.6)
            await asyncio.to_thread(_send, stack.bootstrap, topic, b"B2")
            await asyncio.sleep(0.8)

    def seen_both() -> bool:
        return sum(len(b) for b in batches) >= 3

    await _run(stack, top_up_ms, handler, seen_both, b"A")
    assert batches[0] == [b"A"]
    if top_up_ms:
        assert batches[1] == [b"B1", b"B2"]
    else:
        # The prefetch made right after "A" holds only B1: B2 needs a batch of its own.
        assert batches[1:] == [[b"B1"], [b"B2"]]


async def test_a_failed_batch_with_topped_up_records_of_another_partition_loses_none(
    stack: RunningStack,
) -> None:
    top_up_ms = 500  # tells the top-up's fetch from FastStream's own (batch_timeout_ms: 200)
    calls: list[list[bytes]] = []
    handled: list[bytes] = []
    inject = asyncio.Event()

    async def handler(records: list[Record]) -> None:
        calls.append([r.value for r in records])
        if len(calls) == 1:
            # C is prefetched while A is handled: FastStream hands it over next, and the top-up
            # that follows finds B, on the other partition (see `started`).
            await asyncio.to_thread(_send, stack.bootstrap, records[0].topic, b"C", 0)
            await asyncio.sleep(0.5)
            inject.set()
        elif len(calls) == 2:
            raise RuntimeError("ClickHouse is away")  # B must come back, though FastStream
            # never saw it: only the service can rewind its partition
        handled.extend(r.value for r in records)

    def started(service: KafkaService) -> None:
        consumer = service._subscriber.consumer
        assert consumer is not None
        getmany = consumer.getmany
        topic = service.topics[0]

        async def produce_b_before_the_top_up(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout_ms") == top_up_ms and inject.is_set():
                inject.clear()
                await asyncio.to_thread(_send, stack.bootstrap, topic, b"B", 1)
            return await getmany(*args, **kwargs)

        consumer.getmany = produce_b_before_the_top_up  # type: ignore[method-assign]

    await _run(stack, top_up_ms, handler, lambda: b"B" in handled, b"A", started)
    assert calls[1] == [b"C", b"B"]  # C from FastStream, B from the top-up
    assert sorted(handled) == [b"A", b"B", b"C"]
