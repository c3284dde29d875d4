"""What flows through a service: records consumed, messages to produce."""

from __future__ import annotations

from typing import NamedTuple


class Record(NamedTuple):
    """One consumed Kafka record, reduced to what the steps need.

    A named tuple, not a frozen dataclass: one is built per consumed record, and a tuple is
    built several times faster.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


class Outgoing(NamedTuple):
    """A message to produce.

    `timestamp_ms` carries the input record's timestamp forward, so every record downstream
    keeps the time the province pushed it: push-to-queryable latency is measured end to end.
    """

    topic: str
    key: bytes | None
    value: bytes
    timestamp_ms: int | None = None
