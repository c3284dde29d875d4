"""The seam between the runtime and a service's own logic.

A service is one step: a `Stage` (ingest, normalize) turns a batch of records into messages for
the next topic, or a `Sink` (aggregate) writes a batch somewhere durable. Either one sees only
its input and answers with a `Result`; it never touches Kafka, metrics of the runtime, offsets or
dead-letter envelopes. The runtime (`cchc_runtime.processor`) produces the output, dead-letters
the rejects, holds back what the step asked to hold, and commits — in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

from cchc_shared.dlq import ErrorDetail, Reason

from cchc_runtime.records import Outgoing, Record

TopicPartition = tuple[str, int]


class Reject(NamedTuple):
    """A record the step refuses: the runtime writes its dead letter (stage = service name)."""

    record: Record
    reason: Reason
    errors: list[ErrorDetail]


@dataclass(frozen=True)
class Pause:
    """Stop fetching every partition of `topic` for `seconds`, then call `on_resume`.

    Records of the topic that the step did not process must also be listed in `Result.held`, so
    that they are re-read when the pause ends.
    """

    topic: str
    seconds: float
    on_resume: Callable[[], None] = lambda: None


@dataclass
class Result:
    """What a step made of a batch.

    Every record of the batch is exactly one of: the source of messages in `out` (or of none,
    when a sink wrote it), a `Reject`, or held back — at or after its partition's offset in
    `held`, not processed, not committed, and read again later.
    """

    out: list[Outgoing] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    held: dict[TopicPartition, int] = field(default_factory=dict)
    pauses: list[Pause] = field(default_factory=list)

    def processed(self, records: Sequence[Record]) -> int:
        """How many of `records` were processed (not held back)."""
        if not self.held:
            return len(records)
        held = self.held
        return sum(
            1
            for r in records
            if (r.topic, r.partition) not in held or r.offset < held[(r.topic, r.partition)]
        )


class Stage(Protocol):
    """A pure transformation of a batch, run on the event loop (it must not block for I/O)."""

    def process(self, records: Sequence[Record]) -> Result:
        """Outputs, rejects and held-back records of `records`."""
        ...


@runtime_checkable
class Sink(Protocol):
    """A step that writes a batch to storage, run in a worker thread.

    `write` returns once the batch is durable (a `Result` with the records it refused as rejects),
    or raises. An exception for which `is_transient` is true (storage unreachable, overloaded) is
    retried with backoff and the batch is not committed meanwhile; any other exception is a bug:
    the service stops rather than loop on it, and the batch is read again after the restart.
    """

    def write(self, records: Sequence[Record]) -> Result:
        """Write `records` durably; raises on failure."""
        ...

    def is_transient(self, exc: BaseException) -> bool:
        """Whether `exc` is an outage worth retrying, rather than a bug."""
        ...

    def is_ready(self) -> bool:
        """Whether the storage answers (blocking; for /readyz)."""
        ...
