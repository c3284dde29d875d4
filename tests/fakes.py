"""Unit-test stand-ins for a KafkaService: what a handler uses of it, recorded in memory.

For unit tests only; delivery is proven on the real broker (tests/integration, tests/e2e).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cchc_runtime.dead_letters import dead_letter
from cchc_runtime.kafka import Outgoing, Record
from cchc_runtime.metrics import ServiceMetrics
from cchc_shared.dlq import ErrorDetail, Reason


@dataclass
class RecordingOutput:
    """Remembers what would have been produced; `fail` simulates a broker outage."""

    sent: list[Outgoing] = field(default_factory=list)
    fail: bool = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_all(self, messages: Iterable[Outgoing]) -> int:
        if self.fail:
            raise ConnectionError("broker away")
        batch = list(messages)
        self.sent.extend(batch)
        return len(batch)

    def topics(self) -> list[str]:
        """Topics of the sent messages, in order."""
        return [m.topic for m in self.sent]


@dataclass
class FakeService:
    """A KafkaService without Kafka: publish, metrics, and the partition controls ingest uses."""

    name: str
    metrics: ServiceMetrics = field(init=False)
    output: RecordingOutput = field(default_factory=RecordingOutput)
    partitions: list[int] = field(default_factory=lambda: [0, 1])
    seeks: dict[tuple[str, int], int] = field(default_factory=dict)
    paused: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.metrics = ServiceMetrics.create(self.name)

    def dead_letter(self, record: Record, reason: Reason, errors: list[ErrorDetail]) -> Outgoing:
        return dead_letter(self.name, self.metrics, record, reason, errors)

    async def publish(self, messages: list[Outgoing]) -> None:
        await self.output.send_all(messages)

    def assigned(self, topic: str) -> list[int]:
        return list(self.partitions)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self.seeks[(topic, partition)] = offset

    def pause(self, topic: str, partitions: Any) -> None:
        self.paused |= {(topic, p) for p in partitions}

    def resume(self, topic: str) -> None:
        self.paused = {tp for tp in self.paused if tp[0] != topic}

    def sample(self, name: str, **labels: str) -> float | None:
        """A metric sample of this service."""
        return self.metrics.registry.get_sample_value(name, {"service": self.name, **labels})
