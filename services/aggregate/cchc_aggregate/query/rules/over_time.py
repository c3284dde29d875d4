"""Rule 2 of :mod:`cchc_aggregate.query.rules.national`, across time, for one unit: a figure
for a period from the unit's reports of that period or of finer ones. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cchc_shared.catalogue import AcrossTime
from cchc_shared.periods import Period, PeriodType, covers, parse_period, sub_periods

# Period types that can be parts of a longer period, coarsest first (YTD and phases never are,
# days are not used by indicator reports).
_PART_TYPES = (PeriodType.YEAR, PeriodType.HALF, PeriodType.QUARTER, PeriodType.MONTH)
_SPAN_RANK = {
    PeriodType.DAY: 0,
    PeriodType.MONTH: 1,
    PeriodType.QUARTER: 2,
    PeriodType.HALF: 3,
    PeriodType.YTD: 4,
    PeriodType.YEAR: 5,
    PeriodType.PHASE: 6,
}


@dataclass(frozen=True, slots=True)
class Derived:
    """A unit's figure for a period and the reports it came from."""

    value: float
    parts: tuple[Period, ...]
    """The reports used: ``(whole,)`` for an exact report."""


def stored_period(text: str) -> Period:
    """The period of a stored report's text."""
    # Stored periods were validated by normalize; date.max only skips the "future" check.
    return parse_period(text, today=date.max)


def _flow(
    reports: dict[str, float], whole: Period, memo: dict[str, Derived | None]
) -> Derived | None:
    """The flow over ``whole``: its exact report, else the sum of finer reports tiling it."""
    if whole.text in memo:
        return memo[whole.text]
    found: Derived | None = None
    if whole.text in reports:
        found = Derived(reports[whole.text], (whole,))
    else:
        for part_type in _PART_TYPES:
            if _SPAN_RANK[part_type] >= _SPAN_RANK[whole.type]:
                continue
            try:
                parts = sub_periods(whole, part_type)
            except ValueError:
                continue
            derived = [_flow(reports, p, memo) for p in parts]
            if all(d is not None for d in derived):
                used = tuple(p for d in derived if d is not None for p in d.parts)
                if covers(used, whole):  # tiles by construction; checked because it is cheap
                    found = Derived(sum(d.value for d in derived if d is not None), used)
                    break
    memo[whole.text] = found
    return found


def _stock(reports: dict[str, float], whole: Period) -> Derived | None:
    """The stock over ``whole``: its exact report, else the latest report inside it."""
    if whole.text in reports:
        return Derived(reports[whole.text], (whole,))
    inside = [p for p in map(stored_period, reports) if whole.contains(p)]
    if not inside:
        return None
    # Latest end first; among reports ending the same day the most specific (shortest) one.
    latest = max(inside, key=lambda p: (p.end, -p.days()))
    return Derived(reports[latest.text], (latest,))


def over_time(reports: dict[str, float], whole: Period, how: AcrossTime) -> Derived | None:
    """One unit's figure for ``whole`` from its reports (period text → value), or None.

    Flows (``sum``) add finer reports that tile the period, stocks (``last``) take the latest
    report inside it; anything else needs a report for exactly ``whole``.
    """
    if how is AcrossTime.SUM:
        return _flow(reports, whole, {})
    if how is AcrossTime.LAST:
        return _stock(reports, whole)
    return Derived(reports[whole.text], (whole,)) if whole.text in reports else None
