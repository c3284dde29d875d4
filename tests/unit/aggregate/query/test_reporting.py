"""Reporting rate and timeliness (docs/domain.md "Reporting and data quality"): the quarter of
the story, computed by hand, and the calendar's rules."""

from __future__ import annotations

import datetime as dt

import pytest
from cchc_aggregate.query.rules.reporting import (
    Receipt,
    default_calendar,
    load_calendar,
    reporting,
)
from cchc_shared.catalogue import default_catalogue
from cchc_shared.periods import parse_period
from cchc_shared.provinces import VIETNAM_TZ, Era, default_registry

CAT = default_catalogue()
REG = default_registry()
CALENDAR = default_calendar(CAT)
Q3 = parse_period("2026-Q3")
REQUIRED = list(CALENDAR.reports["quarter"].indicators)
ON_TIME = dt.datetime(2026, 9, 15, 10, tzinfo=VIETNAM_TZ)
LATE = dt.datetime(2026, 9, 21, 0, 0, 1, tzinfo=VIETNAM_TZ)  # a second after 20/9 ended


def test_deadline_is_the_20th_of_the_last_month_in_vietnam_time() -> None:
    assert CALENDAR.deadline(Q3) == dt.datetime(2026, 9, 20, 23, 59, 59, 999000, tzinfo=VIETNAM_TZ)
    assert CALENDAR.deadline(parse_period("2026")).date() == dt.date(2026, 12, 20)
    assert CALENDAR.due(parse_period("2026-07")) is None


def test_the_quarter_of_the_story() -> None:
    """34 provinces: 30 complete (3 of them late), 2 partial, 2 missing."""
    codes = [u.code for u in REG.units(Era.POST_2025)]
    complete, partial, missing = codes[:30], codes[30:32], codes[32:]
    late = set(complete[:3])
    receipts = []
    for code in complete:
        for i, ind in enumerate(REQUIRED):
            # One indicator of each late province arrives after the deadline.
            when = LATE if code in late and i == 0 else ON_TIME
            receipts.append(Receipt(f"2025:{code}", ind, when))
    for code in partial:
        receipts.append(Receipt(f"2025:{code}", REQUIRED[0], ON_TIME))
    # Not required for the quarter: does not make a missing province partial.
    receipts.append(Receipt(f"2025:{missing[0]}", "staff.cut", ON_TIME))
    answer = reporting(Q3, CALENDAR, receipts, REG)
    assert (answer.expected, answer.complete, answer.partial, answer.missing) == (34, 30, 2, 2)
    assert answer.on_time == 27
    assert answer.reporting_rate == 88.24  # 30 / 34
    assert answer.on_time_rate == 79.41  # 27 / 34
    rows = {r.province: r for r in answer.provinces}
    first_late = rows[complete[0]]
    assert (first_late.status, first_late.on_time) == ("complete", False)
    assert first_late.late_indicators == [REQUIRED[0]]
    assert first_late.first_received_at == ON_TIME
    assert rows[complete[5]].on_time is True
    assert rows[partial[0]].missing_indicators == REQUIRED[1:]
    assert rows[missing[0]].status == "missing"
    assert rows[missing[0]].missing_indicators == REQUIRED
    assert rows[missing[0]].first_received_at is None
    assert (answer.data_from, answer.data_to) == (dt.date(2026, 6, 15), dt.date(2026, 9, 14))


def test_before_the_merger_the_63_old_units_are_expected() -> None:
    q2 = parse_period("2025-Q2")
    receipts = [Receipt("2004:15", ind, ON_TIME.replace(year=2025, month=6)) for ind in REQUIRED]
    answer = reporting(q2, CALENDAR, receipts, REG)
    assert answer.expected == 63
    yen_bai = next(r for r in answer.provinces if r.province == "15")
    assert (yen_bai.name, yen_bai.status, yen_bai.on_time) == ("Yên Bái", "complete", True)
    assert answer.notes == []


def test_the_year_2025_straddles_the_merger_and_is_owed_by_the_34() -> None:
    answer = reporting(parse_period("2025"), CALENDAR, [], REG)
    assert answer.expected == 34
    assert answer.missing == 34
    assert "straddles the merger" in answer.notes[0]


def test_calendar_is_data_with_its_own_deadline_day() -> None:
    text = (
        "schema_version: 1\ndeadline_day: 25\nreports:\n"
        "  quarter: {name_vi: q, indicators: [staff.cut], deadline_day: 10}\n"
        "  year: {name_vi: y, indicators: [staff.cut]}\n"
    )
    calendar = load_calendar(text, CAT)
    assert calendar.deadline(Q3).date() == dt.date(2026, 9, 10)
    assert calendar.deadline(parse_period("2026")).date() == dt.date(2026, 12, 25)
    assert calendar.due(parse_period("2026-H1")) is None
    with pytest.raises(ValueError, match="unknown indicator"):
        load_calendar(text.replace("staff.cut]", "staff.nope]", 1), CAT)
