"""Offsets must be contiguous: the check that no fetched record is jumped over.

Why: the embedded broker (Tansu 0.6, memory storage) reserves a batch's offsets before it stores
the batch. When two producers write one partition at once and the later-reserved batch is stored
first, a fetch at the tail returns that later batch; a Kafka client then moves its position past
the earlier one for good, and the group commits past records it never saw (docs/platform.md
"Embedded broker"). On Apache Kafka the only gaps are compacted records and transaction markers,
which this project's topics do not have.

So, per partition, the consumer knows the next offset it expects. A fetch that starts beyond it,
or that has a hole inside, is cut at the hole: what comes before is handed on, the partition is
sought back to the hole and fetched again after a short wait, until the missing records arrive.
A hole that persists past `give_up_after_s` is accepted — loudly: counted as given up, logged,
and alerted on. Nothing here talks to Kafka: `cchc_runtime.consumer` applies the verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

TopicPartition = tuple[str, int]


@dataclass
class Gap:
    """A hole being waited for: offsets `expected` … `found - 1` have not been seen yet."""

    expected: int
    found: int
    since: float
    retries: int = 0

    @property
    def size(self) -> int:
        """Records missing."""
        return self.found - self.expected


@dataclass(frozen=True)
class Verdict:
    """What to do with one partition's fetched records (offsets ascending).

    Hand on `records[start:stop]`; if `seek_to` is set, read the partition again from there
    (after waiting `retry_in_s`). `new_gap`: a hole was found now; `recovered`: records that had
    been missing and arrived; `given_up`: records declared lost after the bound.
    """

    start: int
    stop: int
    seek_to: int | None = None
    retry_in_s: float = 0.0
    new_gap: Gap | None = None
    recovered: int = 0
    given_up: int = 0
    gave_up: Gap | None = None


@dataclass
class Contiguity:
    """Per partition: the next offset expected, and the hole waited for, if any."""

    give_up_after_s: float = 30.0
    first_retry_s: float = 0.02
    max_retry_s: float = 0.5
    clock: Callable[[], float] = time.monotonic
    expected: dict[TopicPartition, int] = field(default_factory=dict)
    gaps: dict[TopicPartition, Gap] = field(default_factory=dict)

    def expect(self, tp: TopicPartition, offset: int) -> None:
        """The next record of `tp` to hand on is `offset` (assignment, or a seek by the runtime)."""
        self.expected[tp] = offset
        gap = self.gaps.get(tp)
        if gap is not None and offset != gap.expected:
            del self.gaps[tp]

    def forget(self, tp: TopicPartition) -> None:
        """`tp` was revoked: nothing is known of it any more."""
        self.expected.pop(tp, None)
        self.gaps.pop(tp, None)

    def check(self, tp: TopicPartition, offsets: Sequence[int]) -> Verdict:
        """The verdict on a fetch of `tp` that returned records with these offsets."""
        n = len(offsets)
        expected = self.expected.get(tp)
        if expected is None:
            # Assigned without a known start (cannot happen once the assignment listener ran):
            # trust the fetch, and check from here on.
            if n:
                self.expected[tp] = offsets[-1] + 1
            return Verdict(0, n)
        start = 0
        while start < n and offsets[start] < expected:
            start += 1  # already handed on (a fetch from before a seek): never twice
        stop = start
        while stop < n and offsets[stop] == expected:
            expected += 1
            stop += 1
        recovered = self._recovered(tp, expected)
        self.expected[tp] = expected
        if stop == n:
            return Verdict(start, stop, recovered=recovered)
        return self._hole(tp, offsets, start, stop, expected, recovered)

    def _recovered(self, tp: TopicPartition, expected: int) -> int:
        """Records of a waited-for hole that have now arrived (the hole shrinks or closes)."""
        gap = self.gaps.get(tp)
        if gap is None or expected <= gap.expected:
            return 0
        arrived = min(expected, gap.found) - gap.expected
        if expected >= gap.found:
            del self.gaps[tp]
        else:
            gap.expected = expected
        return arrived

    def _hole(
        self,
        tp: TopicPartition,
        offsets: Sequence[int],
        start: int,
        stop: int,
        expected: int,
        recovered: int,
    ) -> Verdict:
        found = offsets[stop]
        now = self.clock()
        gap = self.gaps.get(tp)
        if gap is None or gap.expected != expected:
            gap = Gap(expected, found, now)
            self.gaps[tp] = gap
            return Verdict(
                start,
                stop,
                seek_to=expected,
                retry_in_s=self.first_retry_s,
                new_gap=gap,
                recovered=recovered,
            )
        # `gap.found` keeps the first record seen after the hole: the hole can only shrink (a
        # record once stored stays), and every record below it counts as recovered on arrival.
        if now - gap.since < self.give_up_after_s:
            gap.retries += 1
            wait = min(self.first_retry_s * 2**gap.retries, self.max_retry_s)
            return Verdict(start, stop, seek_to=expected, retry_in_s=wait, recovered=recovered)
        # The hole outlived the bound: accept it, and go on checking after it.
        del self.gaps[tp]
        self.expected[tp] = found
        given_up = found - expected
        rest = self.check(tp, offsets[stop:])
        return Verdict(
            start,
            stop + rest.stop,
            seek_to=rest.seek_to,
            retry_in_s=rest.retry_in_s,
            new_gap=rest.new_gap,
            recovered=recovered + rest.recovered,
            given_up=given_up + rest.given_up,
            gave_up=Gap(expected, found, gap.since, gap.retries),
        )
