"""Output sends each batch closed: complete, so aiokafka does not hold it for linger_ms."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.producer.message_accumulator import BatchBuilder
from cchc_runtime.producer import Output
from cchc_runtime.records import Outgoing


class _Producer:
    """Records whether each batch handed to send_batch was closed (the real BatchBuilder)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bool, int]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(64 * 1024, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        self.sent.append((topic, partition, batch.closed(), 0))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_every_batch_is_sent_closed() -> None:
    output = Output("127.0.0.1:1", client_id="t")
    producer = _Producer()
    output._producer = producer
    # Enough bytes for one partition to need more than one 64 KiB batch.
    messages = [Outgoing("t", f"k{i % 7}".encode(), b"x" * 900, 1) for i in range(300)]
    assert asyncio.run(output.send_all(messages)) == 300
    assert len(producer.sent) > 3
    assert all(closed for _, _, closed, _ in producer.sent)
