"""The query API's parameters and their validation into the rules' terms.

Raises :class:`~cchc_aggregate.query.errors.ApiError` (4xx) for a bad question, so a route never
answers 500 for bad input.
"""

from __future__ import annotations

from typing import Annotated

from cchc_shared.catalogue import Catalogue, Indicator
from cchc_shared.periods import Period, PeriodError, PeriodType, parse_period
from cchc_shared.provinces import Era, ProvinceRegistry
from fastapi import Query

from cchc_aggregate.query.errors import ApiError
from cchc_aggregate.query.rules import national as rules
from cchc_aggregate.query.rules import service_index

IndicatorParam = Annotated[
    str, Query(description="catalogue code (or Vietnamese alias)", examples=["dossiers.late_rate"])
]
PeriodParam = Annotated[
    str, Query(description="2022, 2022-H1, 2022-Q3, 2022-03, 2022-9M, 2016/2020", examples=["2024"])
]
OptionalPeriodParam = Annotated[
    str | None, Query(description="a period (2023, 2016/2020 …); omitted: every period")
]
BoundaryParam = Annotated[
    str, Query(description="current (34 provinces, default) or historical (units as they were)")
]
DayPeriodParam = Annotated[
    str, Query(description="2025-07-15, 2025-07, 2025-Q3, 2025 …", examples=["2025-07"])
]
ProvinceParam = Annotated[str | None, Query(description="2025 province code; omitted = national")]
GroupByParam = Annotated[str | None, Query(description="procedure | commune (needs province)")]
OrderParam = Annotated[str, Query(description="best | worst on-time rate first")]
ScorePeriodParam = Annotated[
    str, Query(description="a month, quarter, half or year: 2026-10, 2026-Q3, 2026-H2, 2026")
]

SCORE_PERIODS = (PeriodType.MONTH, PeriodType.QUARTER, PeriodType.HALF, PeriodType.YEAR)


def parse_question(
    indicator: str, period: str, boundary: str, catalogue: Catalogue
) -> tuple[Indicator, Period, rules.Boundary]:
    """Validate a national question; raises :class:`ApiError` (4xx) on bad input."""
    ind = catalogue.resolve(indicator)
    if ind is None:
        raise ApiError(404, "unknown_indicator", f"no indicator {indicator!r} in the catalogue")
    try:
        whole = parse_period(period)
    except PeriodError as exc:
        raise ApiError(400, exc.reason, str(exc)) from None
    if boundary not in rules.BOUNDARIES:
        raise ApiError(
            400,
            "bad_boundary",
            f"boundary must be one of {list(rules.BOUNDARIES)}, not {boundary!r}",
        )
    return ind, whole, boundary


def parse_any_period(period: str) -> Period:
    """A period of any kind; raises :class:`ApiError` (400) on a bad one."""
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise ApiError(400, exc.reason, str(exc)) from None


def parse_province(province: str | None, registry: ProvinceRegistry) -> str | None:
    """One of the 34 current (2025) province codes, or None; raises :class:`ApiError` (404)."""
    if province is None:
        return None
    code = province.strip().zfill(2)
    if registry.get(code, Era.POST_2025) is None:
        raise ApiError(404, "unknown_province", f"{code!r} is not one of the 34 current provinces")
    return code


def parse_service_question(
    period: str,
    province: str | None,
    group_by: str | None,
    order: str,
    registry: ProvinceRegistry,
) -> tuple[Period, str | None, service_index.GroupBy | None, service_index.Order]:
    """Validate a service-index question; raises :class:`ApiError` (4xx) on bad input.

    Dossiers are counted under their current (2025) province, so ``province`` is one of the
    34 current codes.
    """
    try:
        whole = parse_period(period)
    except PeriodError as exc:
        raise ApiError(400, exc.reason, str(exc)) from None
    if province is not None:
        province = province.strip().zfill(2)
        if registry.get(province, Era.POST_2025) is None:
            raise ApiError(
                404, "unknown_province", f"{province!r} is not one of the 34 current provinces"
            )
    grouping: service_index.GroupBy | None = None
    if group_by is not None:
        if group_by not in service_index.GROUPS:
            raise ApiError(
                400, "bad_group_by", f"group_by must be one of {list(service_index.GROUPS)}"
            )
        if province is None:
            raise ApiError(400, "bad_group_by", "group_by needs a province")
        grouping = "procedure" if group_by == "procedure" else "commune"
    if order not in service_index.ORDERS:
        raise ApiError(400, "bad_order", f"order must be one of {list(service_index.ORDERS)}")
    return whole, province, grouping, "best" if order == "best" else "worst"


def _current_province(province: str | None, registry: ProvinceRegistry) -> str | None:
    if province is None:
        return None
    code = province.strip().zfill(2)
    if registry.get(code, Era.POST_2025) is None:
        raise ApiError(404, "unknown_province", f"{code!r} is not one of the 34 current provinces")
    return code


def parse_score_question(
    period: str, province: str | None, registry: ProvinceRegistry
) -> tuple[Period, str | None]:
    """Validate a scoreboard question: a month, quarter, half or year, and a current province
    (None: national). Raises :class:`ApiError` (4xx) on bad input."""
    try:
        whole = parse_period(period)
    except PeriodError as exc:
        raise ApiError(400, exc.reason, str(exc)) from None
    if whole.type not in SCORE_PERIODS or whole.ytd:
        raise ApiError(
            400,
            "bad_period",
            f"the scoreboard is for a month, quarter, half or year (2026-10, 2026-Q3, 2026-H2, "
            f"2026), not {whole.text!r}",
        )
    return whole, _current_province(province, registry)
