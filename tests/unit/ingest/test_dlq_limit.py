"""The dead-letter limit step: windows, both rules, hold and release."""

from __future__ import annotations

import pytest
from cchc_ingest.steps.dlq_limit import DlqLimit, DlqLimiter, Window


def feed(window: Window, outcomes: str) -> list[str | None]:
    """'x' = rejected, '.' = accepted."""
    return [window.observe(c == "x") for c in outcomes]


def test_consecutive_rule_trips_on_more_than_the_limit() -> None:
    window = Window(DlqLimit(max_ratio=1, max_consecutive=3))
    assert feed(window, "xxx") == [None, None, None]
    assert window.observe(True) == "consecutive"


def test_a_good_message_resets_the_run() -> None:
    window = Window(DlqLimit(max_ratio=1, max_consecutive=3))
    assert set(feed(window, "xxx.xxx.xxx.")) == {None}


def test_ratio_rule_waits_for_the_minimum_sample() -> None:
    window = Window(DlqLimit(max_ratio=0.5, window=10, min_sample=4, max_consecutive=0))
    assert feed(window, "xxx") == [None, None, None]  # 100 % but only 3 seen
    assert window.observe(True) == "ratio"


def test_ratio_rule_trips_only_above_the_share() -> None:
    window = Window(DlqLimit(max_ratio=0.5, window=10, min_sample=4, max_consecutive=0))
    assert set(feed(window, ".x.x.x.x.x")) == {None}  # exactly half: not more
    assert window.observe(True) == "ratio"  # 6 of the last 10


def test_old_outcomes_leave_the_window() -> None:
    window = Window(DlqLimit(max_ratio=0.5, window=4, min_sample=4, max_consecutive=0))
    feed(window, "xx..")  # 2 of 4
    assert window.rejected == 2
    feed(window, "..")  # the two x fell out
    assert window.rejected == 0
    assert window.share() == 0
    assert feed(window, "xx") == [None, None]  # 2 of 4 again
    assert window.observe(True) == "ratio"


def test_switched_off() -> None:
    window = Window(DlqLimit(max_ratio=1, window=10, min_sample=1, max_consecutive=0))
    assert set(feed(window, "x" * 100)) == {None}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_ratio": 1.5},
        {"max_ratio": -0.1},
        {"window": 0},
        {"window": 10, "min_sample": 11},
        {"max_consecutive": -1},
    ],
)
def test_invalid_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        DlqLimit(**kwargs)  # type: ignore[arg-type]


def test_limiter_keeps_provinces_apart_and_holds_the_tripped_one() -> None:
    limiter = DlqLimiter(DlqLimit(max_ratio=1, max_consecutive=2))
    assert limiter.observe("14", True) is None
    assert limiter.observe("15", True) is None
    assert limiter.observe("14", True) is None
    trip = limiter.observe("14", True)
    assert trip is not None
    assert (trip.province, trip.cause, trip.consecutive, trip.share) == ("14", "consecutive", 3, 1)
    assert limiter.is_held("14")
    assert not limiter.is_held("15")
    assert limiter.held == {"14"}
    assert limiter.observe("15", False) is None  # the other province keeps flowing


def test_a_held_province_must_not_be_observed() -> None:
    limiter = DlqLimiter(DlqLimit(max_ratio=1, max_consecutive=1))
    limiter.observe("14", True)
    assert limiter.observe("14", True) is not None
    with pytest.raises(ValueError, match="held"):
        limiter.observe("14", False)


def test_release_starts_a_fresh_window() -> None:
    limiter = DlqLimiter(DlqLimit(max_ratio=1, max_consecutive=2))
    for _ in range(2):
        limiter.observe("14", True)
    assert limiter.observe("14", True) is not None
    limiter.release("14")
    assert not limiter.is_held("14")
    # The held-back bad messages come first again: a full limit's worth passes before a new trip.
    assert limiter.observe("14", True) is None
    assert limiter.observe("14", True) is None
    assert limiter.observe("14", True) is not None
