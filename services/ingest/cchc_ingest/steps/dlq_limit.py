"""The dead-letter limit: when a province sends mostly garbage, stop reading it for a while.

Modelled on arroyo's ``DlqLimit``. Without it, a broken provincial system would have all its
traffic dead-lettered silently; with it, the province's consumption pauses, a metric and a log say
so, and the held-back messages are read again after a cool-down (nothing is lost or skipped).

Pure: no I/O and no clock. The handler feeds each message's outcome to :meth:`DlqLimiter.observe`
and acts on the returned :class:`Trip`; it tells the limiter when the cool-down is over with
:meth:`DlqLimiter.release`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

TripCause = Literal["ratio", "consecutive"]


@dataclass(frozen=True, slots=True)
class DlqLimit:
    """When a province's dead letters are too many.

    Trips when, among the last ``window`` messages of a province (and at least ``min_sample`` of
    them), the share of rejected ones *exceeds* ``max_ratio``; or when *more than*
    ``max_consecutive`` messages in a row are rejected. ``max_ratio=1`` or ``max_consecutive=0``
    switch the respective rule off.
    """

    max_ratio: float = 0.5
    window: int = 1000
    min_sample: int = 100
    max_consecutive: int = 200

    def __post_init__(self) -> None:
        if not 0 <= self.max_ratio <= 1:
            raise ValueError("max_ratio must be within [0, 1]")
        if self.window < 1 or not 1 <= self.min_sample <= self.window:
            raise ValueError("window must be ≥ 1 and 1 ≤ min_sample ≤ window")
        if self.max_consecutive < 0:
            raise ValueError("max_consecutive must be ≥ 0")


@dataclass(slots=True)
class Window:
    """The outcomes of a province's last messages (True = rejected)."""

    limit: DlqLimit
    outcomes: deque[bool] = field(init=False)
    rejected: int = 0
    consecutive: int = 0

    def __post_init__(self) -> None:
        self.outcomes = deque(maxlen=self.limit.window)

    def observe(self, rejected: bool) -> TripCause | None:
        """Add one outcome; the rule it breaks, if any."""
        if len(self.outcomes) == self.outcomes.maxlen and self.outcomes[0]:
            self.rejected -= 1  # the oldest outcome falls out of the window
        self.outcomes.append(rejected)
        self.rejected += rejected
        self.consecutive = self.consecutive + 1 if rejected else 0
        limit = self.limit
        if limit.max_consecutive and self.consecutive > limit.max_consecutive:
            return "consecutive"
        if (
            limit.max_ratio < 1
            and len(self.outcomes) >= limit.min_sample
            and self.rejected > limit.max_ratio * len(self.outcomes)
        ):
            return "ratio"
        return None

    def share(self) -> float:
        """Share of rejected messages in the window (0 when empty)."""
        return self.rejected / len(self.outcomes) if self.outcomes else 0.0


@dataclass(frozen=True, slots=True)
class Trip:
    """A province just went over its limit."""

    province: str
    cause: TripCause
    share: float
    consecutive: int
    window: int


class DlqLimiter:
    """A :class:`Window` per province, and which provinces are held back (paused)."""

    def __init__(self, limit: DlqLimit) -> None:
        """Apply ``limit`` to every province separately."""
        self.limit = limit
        self._windows: dict[str, Window] = {}
        self._held: set[str] = set()

    def is_held(self, province: str) -> bool:
        """Whether ``province``'s messages must not be processed now (cooling down)."""
        return province in self._held

    @property
    def held(self) -> frozenset[str]:
        """The provinces cooling down."""
        return frozenset(self._held)

    def observe(self, province: str, rejected: bool) -> Trip | None:
        """Record one processed message; a :class:`Trip` when it puts the province over the limit.

        From a trip on, the province is held until :meth:`release`: the caller must neither
        process nor commit the tripping message or any later one of that province.
        """
        if province in self._held:
            raise ValueError(f"province {province} is held; its messages must not be processed")
        window = self._windows.get(province)
        if window is None:
            window = self._windows[province] = Window(self.limit)
        cause = window.observe(rejected)
        if cause is None:
            return None
        self._held.add(province)
        return Trip(province, cause, window.share(), window.consecutive, len(window.outcomes))

    def release(self, province: str) -> None:
        """End the cool-down: the province is read again, judged on a fresh window.

        A fresh window, because the held-back messages come first and would otherwise trip the
        limit again at once; with it, a still-broken province gets through at most one limit's
        worth of dead letters per cool-down.
        """
        self._held.discard(province)
        self._windows.pop(province, None)
