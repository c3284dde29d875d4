"""Reporting periods and the calendar arithmetic time aggregation needs.

The grammar (field ``period`` of docs/contract.md "Raw events"; surrounding white space
ignored; the letters H, Q, M in either case, written upper case in the canonical text):

============== ======== ===========================================================
text           type     span
============== ======== ===========================================================
``2022``       year     1 Jan – 31 Dec
``2022-H1``    half     H1 Jan–Jun, H2 Jul–Dec
``2022-Q3``    quarter  Q1..Q4
``2022-03``    month    01..12, always two digits
``2022-9M``    ytd      1M..11M: year to date, 1 Jan – end of month N (lũy kế,
                        "9 tháng đầu năm"); ``2022-12M`` is the year and reads as ``2022``
``2016/2020``  phase    multi-year phase, first year < last year (giai đoạn 2016–2020)
``2025-07-15`` day      one day (ISO date), for the live dossier index
============== ======== ===========================================================

Years are 1990–2100. Anything else ("2022-13", "2022-Q5", "2022-H3", "2020/2016", "22",
"2022-1", "2016-2020") is ``bad_period``; a period that starts after today is ``future_period``.

A YTD period covers the same days as a month, quarter or half when N is 1, 3 or 6, but it stays a
YTD period: a cumulative figure is not additive with monthly ones (docs/domain.md "How indicators
aggregate"), so it keeps its own canonical text and ``ytd=True``. Compare spans with
``(p.start, p.end)`` when that matters.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "Period",
    "PeriodError",
    "PeriodType",
    "covers",
    "parse_period",
    "reporting_window",
    "sub_periods",
]

MIN_YEAR = 1990
MAX_YEAR = 2100

PeriodErrorReason = Literal["bad_period", "future_period"]


class PeriodError(ValueError):
    """A period that does not parse (``bad_period``) or starts after today (``future_period``)."""

    def __init__(self, reason: PeriodErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: PeriodErrorReason = reason


class PeriodType(StrEnum):
    """Kind of period, from shortest to longest."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YTD = "ytd"
    YEAR = "year"
    PHASE = "phase"


@dataclass(frozen=True, slots=True)
class Period:
    """A parsed period: canonical ``text``, its ``type`` and its inclusive ``start``–``end`` days.

    Sort periods with ``key=lambda p: (p.start, p.end)``; equality is on all fields, so the
    YTD ``2022-3M`` differs from ``2022-Q1`` although both span 1 Jan – 31 Mar.
    """

    text: str
    type: PeriodType
    start: date
    end: date
    ytd: bool = False

    def contains(self, other: Period) -> bool:
        """Whether every day of ``other`` lies within this period."""
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share at least one day."""
        return self.start <= other.end and other.start <= self.end

    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def months(self) -> int:
        """Number of calendar months in the period; ValueError for a day."""
        if self.type is PeriodType.DAY:
            raise ValueError(f"{self.text} is a day, not a whole number of months")
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def __str__(self) -> str:
        return self.text


def _year(y: int) -> Period:
    return Period(str(y), PeriodType.YEAR, date(y, 1, 1), date(y, 12, 31))


def _months(y: int, first: int, last: int) -> tuple[date, date]:
    return date(y, first, 1), date(y, last, calendar.monthrange(y, last)[1])


def _half(y: int, h: int) -> Period:
    return Period(f"{y}-H{h}", PeriodType.HALF, *_months(y, 6 * h - 5, 6 * h))


def _quarter(y: int, q: int) -> Period:
    return Period(f"{y}-Q{q}", PeriodType.QUARTER, *_months(y, 3 * q - 2, 3 * q))


def _month(y: int, m: int) -> Period:
    return Period(f"{y}-{m:02d}", PeriodType.MONTH, *_months(y, m, m))


def _ytd(y: int, n: int) -> Period:
    return Period(f"{y}-{n}M", PeriodType.YTD, *_months(y, 1, n), ytd=True)


def _day(d: date) -> Period:
    return Period(d.isoformat(), PeriodType.DAY, d, d)


def _phase(first: int, last: int) -> Period:
    return Period(f"{first}/{last}", PeriodType.PHASE, date(first, 1, 1), date(last, 12, 31))


_GRAMMAR = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:"
    r"/(?P<last>[0-9]{4})"
    r"|-(?:"
    r"[Hh](?P<half>[0-9])"
    r"|[Qq](?P<quarter>[0-9])"
    r"|(?P<ytd>[0-9]{1,2})[Mm]"
    r"|(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?"
    r")"
    r")?",
    re.ASCII,
)


def _bad(text: str, why: str) -> PeriodError:
    return PeriodError("bad_period", f"bad period {text!r}: {why}")


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Period:
    # Cached: a stream carries few distinct periods, and a Period is immutable.
    m = _GRAMMAR.fullmatch(text.strip())
    if m is None:
        raise _bad(
            text,
            "expected YYYY, YYYY-H1..H2, YYYY-Q1..Q4, YYYY-MM, YYYY-1M..12M, YYYY/YYYY "
            "or YYYY-MM-DD",
        )
    y = int(m["year"])
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise _bad(text, f"year must be {MIN_YEAR}–{MAX_YEAR}")
    if m["last"] is not None:
        last = int(m["last"])
        if not MIN_YEAR <= last <= MAX_YEAR:
            raise _bad(text, f"year must be {MIN_YEAR}–{MAX_YEAR}")
        if last <= y:
            raise _bad(text, "a phase's first year must come before its last year")
        return _phase(y, last)
    if m["half"] is not None:
        h = int(m["half"])
        if h not in (1, 2):
            raise _bad(text, "half must be H1 or H2")
        return _half(y, h)
    if m["quarter"] is not None:
        q = int(m["quarter"])
        if not 1 <= q <= 4:
            raise _bad(text, "quarter must be Q1..Q4")
        return _quarter(y, q)
    if m["ytd"] is not None:
        n = int(m["ytd"])
        if m["ytd"].startswith("0") or not 1 <= n <= 12:
            raise _bad(text, "year-to-date must be 1M..12M")
        # Twelve months to date is the whole year: one canonical text for one figure.
        return _year(y) if n == 12 else _ytd(y, n)
    if m["month"] is not None:
        mo = int(m["month"])
        if not 1 <= mo <= 12:
            raise _bad(text, "month must be 01..12")
        if m["day"] is None:
            return _month(y, mo)
        try:
            return _day(date(y, mo, int(m["day"])))
        except ValueError as exc:
            raise _bad(text, str(exc)) from None
    return _year(y)


def parse_period(text: str, *, today: date | None = None) -> Period:
    """Parse a period of the grammar of docs/contract.md "Raw events" (see the module docstring).

    Raises :class:`PeriodError` with ``reason`` ``"bad_period"`` when the text does not parse
    and ``"future_period"`` when the period starts after ``today`` (default: ``date.today()``).
    A period that has started but not ended (the current year) is accepted.
    """
    if not isinstance(text, str):
        raise PeriodError("bad_period", f"bad period {text!r}: expected a string")
    period = _parse(text)
    if period.start > (today if today is not None else date.today()):
        raise PeriodError(
            "future_period", f"period {period.text} starts on {period.start}, in the future"
        )
    return period


def covers(parts: Iterable[Period], whole: Period) -> bool:
    """Whether ``parts`` tile ``whole`` exactly: no gap, no overlap, nothing outside, day-exact.

    Order does not matter; an empty collection covers nothing. A duplicated part is an overlap.
    """
    ordered = sorted(parts, key=lambda p: (p.start, p.end))
    if not ordered or ordered[0].start != whole.start or ordered[-1].end != whole.end:
        return False
    one_day = timedelta(days=1)
    return all(b.start == a.end + one_day for a, b in itertools.pairwise(ordered))


def sub_periods(whole: Period, type: PeriodType) -> list[Period]:
    """The periods of ``type`` that exactly tile ``whole``, in order.

    E.g. the 4 quarters, 2 halves or 12 months of a year, the 3 months of a quarter, the years of
    a phase, the quarters of ``2022-9M``, the days of a month. ``type`` equal to the whole's type
    gives ``[whole]``. Raises ValueError when ``type`` cannot tile ``whole`` (quarters of
    ``2022-8M``, months of a day) or is YTD/PHASE (cumulative and multi-year periods are never
    parts).
    """
    if type is whole.type:
        return [whole]
    if type in (PeriodType.YTD, PeriodType.PHASE):
        raise ValueError(f"{type} periods are never sub-periods")
    if type is PeriodType.DAY:
        n = whole.days()
        return [_day(whole.start + timedelta(days=i)) for i in range(n)]
    if whole.type is PeriodType.DAY:
        raise ValueError(f"a day cannot be split into {type} periods")
    # Every other period is a run of whole months starting on the 1st.
    size = {
        PeriodType.MONTH: 1,
        PeriodType.QUARTER: 3,
        PeriodType.HALF: 6,
        PeriodType.YEAR: 12,
    }[type]
    first = whole.start.year * 12 + whole.start.month - 1
    count = whole.months()
    if first % size or count % size:
        raise ValueError(f"{whole.text} is not a whole number of {type} periods")
    out: list[Period] = []
    for k in range(first, first + count, size):
        y, idx = divmod(k, 12)
        if type is PeriodType.MONTH:
            out.append(_month(y, idx + 1))
        elif type is PeriodType.QUARTER:
            out.append(_quarter(y, idx // 3 + 1))
        elif type is PeriodType.HALF:
            out.append(_half(y, idx // 6 + 1))
        else:
            out.append(_year(y))
    return out


# Periods a periodic report covers under Decree 09/2019/NĐ-CP (docs/domain.md "Reporting and
# data quality"): made of whole quarters.
_QUARTERLY = frozenset({PeriodType.QUARTER, PeriodType.HALF, PeriodType.YEAR, PeriodType.PHASE})


def reporting_window(period: Period) -> tuple[date, date]:
    """The days of data a report of ``period`` covers (inclusive).

    Decree 09/2019/NĐ-CP, Article 12: a periodic report's data run from the 15th of the month
    before the period starts to the 14th of the period's last month (a yearly report: 15
    December of the year before to 14 December). Applied to every period made of whole quarters
    (quarter, half, year, phase, and year-to-date periods ending on a quarter); a month, a day or
    another year-to-date period is its own calendar span.
    """
    whole_quarters = period.type in _QUARTERLY or (period.ytd and period.end.month % 3 == 0)
    if not whole_quarters:
        return period.start, period.end
    before = period.start.replace(day=1) - timedelta(days=1)
    return before.replace(day=15), period.end.replace(day=14)
