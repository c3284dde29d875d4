"""Unit-test stand-ins for the Kafka side of a StreamProcessor, recorded in memory.

For unit tests of the processor's bookkeeping only; delivery (fetch, re-read, commit) is proven
on the real broker in tests/integration and tests/e2e.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from cchc_runtime.records import Outgoing, Record


@dataclass
class RecordingOutput:
    """Remembers what would have been produced; `fail` raises this many times first."""

    sent: list[Outgoing] = field(default_factory=list)
    fail: int = 0
    error: type[BaseException] = ConnectionError
    attempts: int = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_all(self, messages: Iterable[Outgoing]) -> int:
        self.attempts += 1
        if self.fail:
            self.fail -= 1
            raise self.error("broker away")
        batch = list(messages)
        self.sent.extend(batch)
        return len(batch)


@dataclass
class RecordingConsumer:
    """Hands out no records; remembers commits, holds and pauses."""

    commits: list[set[tuple[str, int]]] = field(default_factory=list)
    holds: dict[tuple[str, int], int] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    generation: int = 0
    give_up_batch: asyncio.Event = field(default_factory=asyncio.Event)
    failure: BaseException | None = None

    @asynccontextmanager
    async def batch(self, fetched_in: int) -> AsyncIterator[bool]:
        yield fetched_in == self.generation

    async def fetch(self, max_records: int, timeout_ms: int) -> list[Record]:
        return []

    async def commit(self, partitions: Iterable[tuple[str, int]]) -> None:
        self.commits.append(set(partitions))

    def unread(self, records: Iterable[Record]) -> None:
        pass

    def hold(self, topic: str, partition: int, offset: int) -> None:
        self.holds[(topic, partition)] = offset

    def pause_topic(self, topic: str) -> None:
        self.paused.add(topic)

    def release_topic(self, topic: str) -> None:
        self.paused.discard(topic)
