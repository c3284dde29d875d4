"""The query API (CONTRACT §6): JSON in, JSON out, 4xx JSON for bad requests, never a 500."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import re
from dataclasses import asdict
from typing import Annotated, Any

from cchc_runtime.lag import LagMonitor
from cchc_shared.catalogue import Catalogue, Indicator, default_catalogue
from cchc_shared.periods import Period, PeriodError, parse_period
from cchc_shared.provinces import ProvinceRegistry, default_registry
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cchc_aggregate import national as rules
from cchc_aggregate.queries import fetch_reports
from cchc_aggregate.settings import AggregateSettings
from cchc_aggregate.store import Store


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


def install(
    app: FastAPI,
    store: Store,
    lag: LagMonitor | None,
    settings: AggregateSettings,
    catalogue: Catalogue | None = None,
    registry: ProvinceRegistry | None = None,
) -> None:
    """Add the query routes and the JSON error handlers to `app`.

    ``lag`` may be None (tests without Kafka): /v1/pipeline then answers 503.
    """
    catalogue = catalogue or default_catalogue()
    registry = registry or default_registry()

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
