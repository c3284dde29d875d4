"""The query API (CONTRACT §6): JSON in, JSON out, 4xx JSON for bad requests, never a 500."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from cchc_runtime.lag import LagMonitor
from cchc_shared.catalogue import Catalogue, Indicator, default_catalogue
from cchc_shared.periods import Period, PeriodError, parse_period
from cchc_shared.provinces import Era, ProvinceRegistry, default_registry
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cchc_aggregate import national as rules
from cchc_aggregate import service_index
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.queries import fetch_reports
from cchc_aggregate.settings import AggregateSettings


class ApiError(Exception):
    """A bad request, answered as `{"error", "detail"}` with a 4xx status."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class SqlRequest(BaseModel):
    """A read-only SQL query."""

    sql: str = Field(
        min_length=1, max_length=100_000, examples=["SELECT count() FROM observations"]
    )


class SqlResponse(BaseModel):
    """Column names and rows."""

    columns: list[str]
    rows: list[list[Any]]


class PipelineResponse(BaseModel):
    """How many messages each service still has to consume, and how many were dead-lettered."""

    lag: dict[str, int]
    dlq: int


class NationalResponse(BaseModel):
    """A national figure and how complete it is (CONTRACT §6, docs/analysts.md)."""

    indicator: str
    period: str
    unit: str = Field(description="canonical unit of value: percent for ratios")
    aggregation: str = Field(description="across provinces: sum | ratio | mean")
    value: float | None = Field(description="null when no unit reported")
    numerator: float | None = Field(description="ratios: Σ numerators of the weighted units")
    denominator: float | None = Field(description="ratios: Σ denominators of the weighted units")
    provinces_reported: int
    provinces_expected: int = Field(description="34, or 63 for historical units before 2025-07")
    boundary: str
    notes: list[str] = Field(description="everything that qualifies the value, in words")


class ProvinceRow(BaseModel):
    """One unit's figure and competition rank (ties share a rank); null when unreported."""

    province: str
    name: str
    value: float | None
    rank: int | None


class ProvincesResponse(BaseModel):
    """Every unit of the boundary, best first by the indicator's polarity."""

    indicator: str
    period: str
    boundary: str
    rows: list[ProvinceRow]
    notes: list[str]


class ServiceIndexResponse(BaseModel):
    """The live service index (Decision 766) of a province or the nation over a period."""

    period: str
    province: str | None = Field(description="2025 province code; null = national")
    received: int = Field(description="dossiers received in the period (day of receipt)")
    received_online: int
    resolved: int = Field(description="dossiers resolved in the period (day of resolution)")
    resolved_on_time: int = Field(description="resolved at or before due_at")
    resolved_late: int
    resolved_unclassified: int = Field(
        description="resolved, but the receipt (with its due date) has not arrived yet"
    )
    on_time_rate: float | None = Field(description="% of the classified resolutions")
    late_rate: float | None
    online_rate: float | None = Field(description="% of receipts that were online")
    overdue_in_progress: int = Field(
        description="received in the period, not resolved/rejected/withdrawn, past due now"
    )


class ServiceIndexGroup(BaseModel):
    """One procedure or commune of a province (the ServiceIndexResponse fields)."""

    key: str = Field(description="procedure code or commune code ('' when not given)")
    received: int
    received_online: int
    resolved: int
    resolved_on_time: int
    resolved_late: int
    resolved_unclassified: int
    on_time_rate: float | None
    late_rate: float | None
    online_rate: float | None
    overdue_in_progress: int


class ServiceIndexGroupsResponse(BaseModel):
    """A province's index per procedure or commune, best or worst on-time rate first."""

    period: str
    province: str
    group_by: str
    order: str
    rows: list[ServiceIndexGroup]


IndicatorParam = Annotated[
    str, Query(description="catalogue code (or Vietnamese alias)", examples=["dossiers.late_rate"])
]
PeriodParam = Annotated[
    str, Query(description="2022, 2022-H1, 2022-Q3, 2022-03, 2022-9M, 2016/2020", examples=["2024"])
]
BoundaryParam = Annotated[
    str, Query(description="current (34 provinces, default) or historical (units as they were)")
]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_READ_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})
# A query-level SETTINGS clause could lift the row and time limits for that query.
_SETTINGS_CLAUSE = re.compile(r"(?<![.\w])SETTINGS\s+\w+\s*=", re.I)


def check_read_only_sql(sql: str) -> None:
    """Refuse anything but a plain read statement; raises :class:`ApiError` (400 ``bad_sql``).

    ClickHouse's ``readonly`` setting refuses writes, but not ``SET``/``USE``, which would change
    the session the writer shares on chDB, nor a ``SETTINGS`` clause lifting the limits.
    """
    body = _LEADING_COMMENTS.sub("", sql, count=1).lstrip("(")
    keyword = re.split(r"[\s(]", body, maxsplit=1)[0].upper()
    if keyword not in _READ_STATEMENTS:
        raise ApiError(
            400,
            "bad_sql",
            f"only read statements are allowed ({', '.join(sorted(_READ_STATEMENTS))}), "
            f"not {keyword or 'an empty statement'}",
        )
    if _SETTINGS_CLAUSE.search(sql):
        raise ApiError(400, "bad_sql", "a SETTINGS clause is not allowed: limits are fixed")


def _clickhouse_error(exc: Exception) -> ApiError:
    text = str(exc)
    # ClickHouse reports "Code: NN. DB::Exception: …": keep the message, not the stack.
    detail = text.split("DB::Exception:", 1)[-1].strip().split("Stack trace")[0].strip()
    return ApiError(400, "bad_sql", detail[:2000])


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


def install(
    app: FastAPI,
    store: Store,
    lag: LagMonitor | None,
    settings: AggregateSettings,
    catalogue: Catalogue | None = None,
    registry: ProvinceRegistry | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> None:
    """Add the query routes and the JSON error handlers to `app`.

    ``lag`` may be None (tests without Kafka): /v1/pipeline then answers 503. ``clock`` gives
    "now" for the overdue figure of /v1/service-index (tests pass a fixed one).
    """
    catalogue = catalogue or default_catalogue()
    registry = registry or default_registry()
    now = clock or (lambda: dt.datetime.now(dt.UTC))

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": "bad_request", "detail": detail}, status_code=422)

    @app.post("/v1/sql", response_model=SqlResponse, tags=["query"])
    async def sql(request: SqlRequest) -> SqlResponse:
        """Run a read-only SQL query (readonly setting, row and time limits)."""
        check_read_only_sql(request.sql)
        try:
            columns, rows = await asyncio.to_thread(
                store.query,
                request.sql,
                readonly=True,
                max_rows=settings.sql_max_rows,
                max_seconds=settings.sql_max_seconds,
            )
        except Exception as exc:
            raise _clickhouse_error(exc) from exc
        return SqlResponse(
            columns=list(columns), rows=[[_jsonable(v) for v in row] for row in rows]
        )

    @app.get("/v1/national", response_model=NationalResponse, tags=["query"])
    async def national(
        indicator: IndicatorParam, period: PeriodParam, boundary: BoundaryParam = "current"
    ) -> NationalResponse:
        """The national figure of an indicator for a period, and how complete it is."""
        ind, whole, bound = parse_question(indicator, period, boundary, catalogue)
        reports = await asyncio.to_thread(fetch_reports, store, rules.indicators_needed(ind), whole)
        figure = rules.national(ind, whole, bound, reports, catalogue, registry)
        return NationalResponse(**asdict(figure))

    @app.get("/v1/provinces", response_model=ProvincesResponse, tags=["query"])
    async def provinces(
        indicator: IndicatorParam, period: PeriodParam, boundary: BoundaryParam = "current"
    ) -> ProvincesResponse:
        """Every province's figure, best first (competition ranks: 1, 2, 2, 4)."""
        ind, whole, bound = parse_question(indicator, period, boundary, catalogue)
        reports = await asyncio.to_thread(fetch_reports, store, rules.indicators_needed(ind), whole)
        ranking = rules.provinces(ind, whole, bound, reports, catalogue, registry)
        return ProvincesResponse(**asdict(ranking))

    @app.get(
        "/v1/service-index",
        response_model=ServiceIndexResponse | ServiceIndexGroupsResponse,
        tags=["query"],
    )
    async def service_index_route(
        period: Annotated[
            str, Query(description="2025-07-15, 2025-07, 2025-Q3, 2025 …", examples=["2025-07"])
        ],
        province: Annotated[
            str | None, Query(description="2025 province code; omitted = national")
        ] = None,
        group_by: Annotated[
            str | None, Query(description="procedure | commune (needs province)")
        ] = None,
        order: Annotated[str, Query(description="best | worst on-time rate first")] = "best",
    ) -> ServiceIndexResponse | ServiceIndexGroupsResponse:
        """Live Decision 766 figures from dossier events (docs/analysts.md "Service index")."""
        whole, code, grouping, ordering = parse_service_question(
            period, province, group_by, order, registry
        )
        if grouping is None:
            figure = await asyncio.to_thread(service_index.fetch_index, store, whole, code, now())
            return ServiceIndexResponse(**figure.as_json())
        assert code is not None  # parse_service_question refuses group_by without province
        rows = await asyncio.to_thread(
            service_index.fetch_groups, store, whole, code, grouping, ordering, now()
        )
        return ServiceIndexGroupsResponse(
            period=whole.text,
            province=code,
            group_by=grouping,
            order=ordering,
            rows=[ServiceIndexGroup(**r.as_json()) for r in rows],
        )

    @app.get("/v1/pipeline", response_model=PipelineResponse, tags=["operations"])
    async def pipeline() -> PipelineResponse:
        """Per-service lag (all zero: everything pushed so far is queryable) and DLQ count."""
        if lag is None:
            raise ApiError(503, "unavailable", "no lag monitor in this process")
        snapshot = await asyncio.to_thread(lag.measure_now)
        return PipelineResponse(
            lag={service: snapshot.total(service) for service in lag.groups},
            dlq=snapshot.dlq,
        )
