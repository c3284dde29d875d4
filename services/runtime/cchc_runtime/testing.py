"""Stage tests without a broker: records built in memory, a step run on them, its result read.

For unit tests of a step's logic only; delivery (commit, re-read, holds) is proven on the real
broker in tests/integration and tests/e2e.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cchc_shared import dlq

from cchc_runtime.dlq import envelope
from cchc_runtime.records import Outgoing, Record
from cchc_runtime.stage import Result, Sink, Stage


def records(
    topic: str,
    values: Iterable[bytes],
    *,
    partition: int = 0,
    start: int = 0,
    key: bytes | None = b"k",
    timestamp_ms: int = 0,
) -> list[Record]:
    """Records of `values` on one partition, with consecutive offsets from `start`."""
    return [
        Record(topic, partition, start + i, key, value, timestamp_ms)
        for i, value in enumerate(values)
    ]


def run(step: Stage | Sink, batch: Sequence[Record]) -> Result:
    """What `step` makes of `batch`, as the processor would call it (a sink in this thread)."""
    if isinstance(step, Sink):
        return step.write(batch)
    return step.process(batch)


def letters(result: Result, stage: str) -> list[dlq.DeadLetter]:
    """The dead letters the runtime would write for `result`'s rejects (its own envelopes)."""
    return [
        dlq.DeadLetter.model_validate_json(envelope(stage, r.record, r.reason, r.errors).value)
        for r in result.rejects
    ]


def topics(messages: Iterable[Outgoing]) -> list[str]:
    """The topic of each message, in order."""
    return [m.topic for m in messages]
