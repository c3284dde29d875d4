"""Period grammar of docs/contract.md "Raw events" and the calendar helpers of time aggregation."""

from __future__ import annotations

from datetime import date

import pytest
from cchc_shared.periods import (
    Period,
    PeriodError,
    PeriodType,
    covers,
    parse_period,
    sub_periods,
)
from hypothesis import given
from hypothesis import strategies as st

TODAY = date(2025, 8, 1)


def p(text: str) -> Period:
    return parse_period(text, today=TODAY)


@pytest.mark.parametrize(
    ("text", "canonical", "type_", "start", "end", "ytd"),
    [
        ("2022", "2022", PeriodType.YEAR, date(2022, 1, 1), date(2022, 12, 31), False),
        ("2022-H1", "2022-H1", PeriodType.HALF, date(2022, 1, 1), date(2022, 6, 30), False),
        ("2022-H2", "2022-H2", PeriodType.HALF, date(2022, 7, 1), date(2022, 12, 31), False),
        ("2022-h2", "2022-H2", PeriodType.HALF, date(2022, 7, 1), date(2022, 12, 31), False),
        ("2017-Q1", "2017-Q1", PeriodType.QUARTER, date(2017, 1, 1), date(2017, 3, 31), False),
        ("2022-Q3", "2022-Q3", PeriodType.QUARTER, date(2022, 7, 1), date(2022, 9, 30), False),
        ("2022-q4", "2022-Q4", PeriodType.QUARTER, date(2022, 10, 1), date(2022, 12, 31), False),
        ("2022-03", "2022-03", PeriodType.MONTH, date(2022, 3, 1), date(2022, 3, 31), False),
        ("2024-02", "2024-02", PeriodType.MONTH, date(2024, 2, 1), date(2024, 2, 29), False),
        ("2023-02", "2023-02", PeriodType.MONTH, date(2023, 2, 1), date(2023, 2, 28), False),
        ("2022-12", "2022-12", PeriodType.MONTH, date(2022, 12, 1), date(2022, 12, 31), False),
        ("2022-9M", "2022-9M", PeriodType.YTD, date(2022, 1, 1), date(2022, 9, 30), True),
        ("2022-1M", "2022-1M", PeriodType.YTD, date(2022, 1, 1), date(2022, 1, 31), True),
        ("2022-11m", "2022-11M", PeriodType.YTD, date(2022, 1, 1), date(2022, 11, 30), True),
        ("2022-12M", "2022", PeriodType.YEAR, date(2022, 1, 1), date(2022, 12, 31), False),
        ("2016/2020", "2016/2020", PeriodType.PHASE, date(2016, 1, 1), date(2020, 12, 31), False),
        ("2025-07-15", "2025-07-15", PeriodType.DAY, date(2025, 7, 15), date(2025, 7, 15), False),
        ("2024-02-29", "2024-02-29", PeriodType.DAY, date(2024, 2, 29), date(2024, 2, 29), False),
        (" 2022-Q3 ", "2022-Q3", PeriodType.QUARTER, date(2022, 7, 1), date(2022, 9, 30), False),
        ("1990", "1990", PeriodType.YEAR, date(1990, 1, 1), date(1990, 12, 31), False),
    ],
)
def test_grammar(
    text: str, canonical: str, type_: PeriodType, start: date, end: date, ytd: bool
) -> None:
    got = p(text)
    assert got == Period(canonical, type_, start, end, ytd)
    assert str(got) == canonical
    assert p(got.text) == got, "canonical text parses to itself"


@pytest.mark.parametrize(
    "text",
    [
        "2022-13",
        "2022-00",
        "2022-Q5",
        "2022-Q0",
        "2022-H3",
        "2022-H0",
        "2020/2016",
        "2020/2020",
        "22",
        "2022-1",
        "2022-001",
        "2022-0M",
        "2022-01M",
        "2022-13M",
        "2022-M9",
        "2016-2020",
        "2016 - 2020",
        "2016/20",
        "1989",
        "2101",
        "1989/2020",
        "2020/2101",
        "2023-02-29",
        "2022-04-31",
        "2022-4-1",
        "2022/Q1",
        "Q1-2022",
        "",
        " ",
        "năm 2022",
        "２０２２",  # full-width digits
        "2022-Q1x",
    ],
)
def test_bad_period(text: str) -> None:
    with pytest.raises(PeriodError) as info:
        p(text)
    assert info.value.reason == "bad_period"
    assert isinstance(info.value, ValueError)


def test_non_string_is_bad_period() -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(2022, today=TODAY)  # type: ignore[arg-type]
    assert info.value.reason == "bad_period"


@pytest.mark.parametrize(
    ("text", "today", "future"),
    [
        ("2026", date(2025, 12, 31), True),
        ("2026", date(2026, 1, 1), False),
        ("2025", date(2025, 8, 1), False),  # started, not ended: accepted
        ("2025-Q4", date(2025, 9, 30), True),
        ("2025-Q4", date(2025, 10, 1), False),
        ("2025-08", date(2025, 7, 31), True),
        ("2025-07-16", date(2025, 7, 15), True),
        ("2025-07-15", date(2025, 7, 15), False),
        ("2025-9M", date(2024, 12, 31), True),
        ("2025/2030", date(2025, 1, 1), False),
        ("2026/2030", date(2025, 6, 1), True),
    ],
)
def test_future_period(text: str, today: date, future: bool) -> None:
    if future:
        with pytest.raises(PeriodError) as info:
            parse_period(text, today=today)
        assert info.value.reason == "future_period"
    else:
        assert parse_period(text, today=today).text == text


def test_today_defaults_to_the_real_date() -> None:
    assert parse_period("2022").type is PeriodType.YEAR
    with pytest.raises(PeriodError) as info:
        parse_period("2100")
    assert info.value.reason == "future_period"


def test_contains_overlaps_days_months() -> None:
    year = p("2022")
    assert year.contains(p("2022-Q3"))
    assert year.contains(year)
    assert not p("2022-Q3").contains(year)
    assert p("2016/2020").contains(p("2018"))
    assert not p("2016/2020").contains(p("2021-01"))
    assert p("2022-9M").contains(p("2022-Q3"))
    assert not p("2022-9M").contains(p("2022-Q4"))
    assert p("2022-H1").overlaps(p("2022-06"))
    assert not p("2022-H1").overlaps(p("2022-07"))
    assert year.days() == 365
    assert p("2024").days() == 366
    assert p("2025-07-15").days() == 1
    assert [p(t).months() for t in ("2022", "2022-H2", "2022-Q1", "2022-03", "2022-9M")] == [
        12,
        6,
        3,
        1,
        9,
    ]
    assert p("2016/2020").months() == 60
    with pytest.raises(ValueError, match="day"):
        p("2025-07-15").months()


def test_ytd_is_not_the_same_period_as_the_quarter() -> None:
    ytd, q1 = p("2022-3M"), p("2022-Q1")
    assert (ytd.start, ytd.end) == (q1.start, q1.end)
    assert ytd != q1
    assert ytd.ytd
    assert not q1.ytd


# --- covers -------------------------------------------------------------------------------------


def ps(*texts: str) -> list[Period]:
    return [p(t) for t in texts]


def test_four_quarters_cover_the_year() -> None:
    assert covers(ps("2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"), p("2022"))
    assert covers(ps("2022-Q4", "2022-Q2", "2022-Q1", "2022-Q3"), p("2022")), "any order"


def test_three_quarters_do_not_cover_the_year() -> None:
    assert not covers(ps("2022-Q1", "2022-Q2", "2022-Q3"), p("2022"))
    assert not covers(ps("2022-Q1", "2022-Q2", "2022-Q4"), p("2022"))
    assert not covers(ps("2022-Q2", "2022-Q3", "2022-Q4"), p("2022"))


def test_twelve_months_cover_the_year() -> None:
    assert covers([p(f"2022-{m:02d}") for m in range(1, 13)], p("2022"))
    assert not covers([p(f"2022-{m:02d}") for m in range(1, 12)], p("2022"))


def test_mixed_parts_cover() -> None:
    assert covers(ps("2022-H1", "2022-Q3", "2022-10", "2022-11", "2022-12"), p("2022"))
    assert covers(ps("2022-9M", "2022-Q4"), p("2022"))
    assert covers(ps("2016", "2017", "2018", "2019", "2020"), p("2016/2020"))
    assert covers(ps("2022-Q1"), p("2022-Q1"))
    assert covers(ps("2022-3M"), p("2022-Q1")), "day-exact spans"


def test_overlapping_parts_are_not_a_cover() -> None:
    assert not covers(ps("2022-H1", "2022-Q2", "2022-H2"), p("2022"))
    assert not covers(ps("2022-9M", "2022-Q3", "2022-Q4"), p("2022"))
    assert not covers(ps("2022-Q1", "2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"), p("2022"))


def test_parts_outside_the_whole_are_not_a_cover() -> None:
    assert not covers(ps("2021-Q4", "2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"), p("2022"))
    assert not covers(ps("2022"), p("2022-H1"))
    assert not covers([], p("2022"))


# --- sub_periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("whole", "type_", "texts"),
    [
        ("2022", PeriodType.QUARTER, ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"]),
        ("2022", PeriodType.HALF, ["2022-H1", "2022-H2"]),
        ("2022", PeriodType.MONTH, [f"2022-{m:02d}" for m in range(1, 13)]),
        ("2022", PeriodType.YEAR, ["2022"]),
        ("2022-H2", PeriodType.QUARTER, ["2022-Q3", "2022-Q4"]),
        ("2022-Q3", PeriodType.MONTH, ["2022-07", "2022-08", "2022-09"]),
        ("2022-9M", PeriodType.QUARTER, ["2022-Q1", "2022-Q2", "2022-Q3"]),
        ("2022-8M", PeriodType.MONTH, [f"2022-{m:02d}" for m in range(1, 9)]),
        ("2016/2020", PeriodType.YEAR, ["2016", "2017", "2018", "2019", "2020"]),
        ("2024-02", PeriodType.DAY, [f"2024-02-{d:02d}" for d in range(1, 30)]),
    ],
)
def test_sub_periods(whole: str, type_: PeriodType, texts: list[str]) -> None:
    parts = sub_periods(p(whole), type_)
    assert [x.text for x in parts] == texts
    assert parts == [p(t) for t in texts]
    assert all(x.type is type_ for x in parts)
    assert covers(parts, p(whole))


def test_sub_periods_of_a_phase() -> None:
    assert len(sub_periods(p("2016/2020"), PeriodType.QUARTER)) == 20
    assert len(sub_periods(p("2016/2020"), PeriodType.MONTH)) == 60
    assert len(sub_periods(p("2022"), PeriodType.DAY)) == 365


@pytest.mark.parametrize(
    ("whole", "type_"),
    [
        ("2022-8M", PeriodType.QUARTER),
        ("2022-Q1", PeriodType.HALF),
        ("2022-03", PeriodType.QUARTER),
        ("2022-H1", PeriodType.YEAR),
        ("2022", PeriodType.YTD),
        ("2022", PeriodType.PHASE),
        ("2025-07-15", PeriodType.MONTH),
    ],
)
def test_sub_periods_that_cannot_tile(whole: str, type_: PeriodType) -> None:
    with pytest.raises(ValueError, match=r"never sub-periods|not a whole number|cannot be split"):
        sub_periods(p(whole), type_)


@given(st.integers(min_value=1990, max_value=2100), st.sampled_from(list(PeriodType)))
def test_every_year_tiles_into_its_sub_periods(year: int, type_: PeriodType) -> None:
    whole = parse_period(str(year), today=date(2100, 12, 31))
    if type_ in (PeriodType.YTD, PeriodType.PHASE):
        with pytest.raises(ValueError, match="never sub-periods"):
            sub_periods(whole, type_)
        return
    parts = sub_periods(whole, type_)
    assert covers(parts, whole)
    assert not covers(parts[:-1], whole)
    for part in parts:
        assert parse_period(part.text, today=date(2100, 12, 31)) == part
