"""The query API's routes (docs/contract.md "Query API"): JSON in, JSON out, 4xx JSON for bad
requests, never a 500.

Each route parses its question (:mod:`.requests`), fetches the rules' inputs from ClickHouse
(:mod:`.fetch`) in a worker thread, applies the rules (:mod:`.rules`) and answers with their
result as it is (:mod:`.schemas`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import replace

from cchc_runtime.lag import LagMonitor
from cchc_shared.catalogue import Catalogue, default_catalogue
from cchc_shared.provinces import MERGER_DATE, Era, ProvinceRegistry, default_registry
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import as_of as fold_as_of
from cchc_aggregate.clickhouse.sandbox import SqlSandbox
from cchc_aggregate.query.errors import ApiError, clickhouse_error
from cchc_aggregate.query.fetch.national import fetch_history, fetch_reports
from cchc_aggregate.query.fetch.quality import fetch_period
from cchc_aggregate.query.fetch.reporting import fetch_receipts
from cchc_aggregate.query.fetch.scoreboard import fetch_counters
from cchc_aggregate.query.fetch.service_index import fetch_groups, fetch_index
from cchc_aggregate.query.limits import BodyLimit
from cchc_aggregate.query.requests import (
    BoundaryParam,
    DayPeriodParam,
    GroupByParam,
    IndicatorParam,
    OptionalPeriodParam,
    OrderParam,
    PeriodParam,
    ProvinceParam,
    ScorePeriodParam,
    parse_any_period,
    parse_province,
    parse_question,
    parse_score_question,
    parse_service_question,
)
from cchc_aggregate.query.rules import national as rules
from cchc_aggregate.query.rules import quality, reporting, targets
from cchc_aggregate.query.rules.notes import Note
from cchc_aggregate.query.rules.scoreboard import ScoringTable, build_scoreboard
from cchc_aggregate.query.schemas import (
    NationalFigure,
    NationalScoreboard,
    PipelineResponse,
    ProvinceRanking,
    ProvinceScoreboard,
    ServiceIndex,
    ServiceIndexGroups,
    SqlRequest,
    SqlResponse,
    jsonable,
)
from cchc_aggregate.query.sql_guard import RefusedSql
from cchc_aggregate.settings import AggregateSettings


def answers_as_of(store: Store, settings: AggregateSettings) -> Callable[[], dt.datetime | None]:
    """Where the answers' ``as_of`` comes from when the process has no :class:`Folder` of its own
    to ask: on a cluster each shard folds within its inserts, so an answer is as of its query;
    on one node the fold log's last completed steps (:func:`cchc_aggregate.clickhouse.fold.as_of`).
    """
    if settings.cluster:
        return lambda: dt.datetime.now(dt.UTC)
    return lambda: fold_as_of(store)


def install(
    app: FastAPI,
    store: Store,
    lag: LagMonitor | None,
    settings: AggregateSettings,
    catalogue: Catalogue | None = None,
    registry: ProvinceRegistry | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    sandbox: SqlSandbox | None = None,
    scoring: ScoringTable | None = None,
    as_of: Callable[[], dt.datetime | None] | None = None,
) -> None:
    """Add the query routes, the JSON error handlers and the body-size limit to `app`.

    ``lag`` may be None (tests without Kafka): /v1/pipeline then answers 503. ``clock`` gives
    "now" for the overdue figure of /v1/service-index (tests pass a fixed one). ``sandbox`` runs
    POST /v1/sql on a path of its own (never `store`, the writer's); without one it answers 503.
    ``scoring`` is the Bộ chỉ số 766 scoring table (default: the packaged one). ``as_of`` gives
    the answers' freshness (default: :func:`answers_as_of`).
    """
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    sql_slots = asyncio.Semaphore(settings.sql_max_concurrent)
    retry_after = str(max(1, math.ceil(settings.sql_max_seconds)))
    catalogue = catalogue or default_catalogue()
    registry = registry or default_registry()
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    fresh = as_of or answers_as_of(store, settings)
    names = {u.key: f"{u.code} {u.name}" for era in Era for u in registry.units(era)}
    table = scoring or ScoringTable.load()
    province_names = {u.code: u.name for u in registry.units(Era.POST_2025)}

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "detail": exc.detail},
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": "bad_request", "detail": detail}, status_code=422)

    @app.post("/v1/sql", response_model=SqlResponse, tags=["query"])
    async def sql(request: SqlRequest) -> SqlResponse:
        """Run one read-only SQL statement over the analyst tables, in a session of its own
        with row, byte, memory and time limits (docs/security.md "SQL sandbox")."""
        if sandbox is None:
            raise ApiError(503, "unavailable", "no SQL sandbox in this process")
        if sql_slots.locked():
            raise ApiError(
                429,
                "busy",
                f"{settings.sql_max_concurrent} SQL queries are running: retry later",
                headers={"Retry-After": retry_after},
            )
        async with sql_slots:
            try:
                columns, rows = await asyncio.to_thread(sandbox.run, request.sql)
            except RefusedSql as exc:
                raise ApiError(400, "bad_sql", str(exc)) from None
            except Exception as exc:
                raise clickhouse_error(exc) from exc
            return SqlResponse(
                columns=list(columns), rows=[[jsonable(v) for v in row] for row in rows]
            )

    @app.get("/v1/national", response_model=NationalFigure, tags=["query"])
    async def national(
        indicator: IndicatorParam, period: PeriodParam, boundary: BoundaryParam = "current"
    ) -> NationalFigure:
        """The national figure of an indicator for a period, and how complete it is."""
        ind, whole, bound = parse_question(indicator, period, boundary, catalogue)
        needed = rules.indicators_needed(ind)
        checks = [r for r in quality.default_rules(catalogue) if set(r.indicators) & set(needed)]
        partners = sorted({c for r in checks for c in r.indicators} - set(needed))

        def load() -> tuple[list[rules.Report], list[rules.Report]]:
            return (
                fetch_reports(store, needed + partners, whole, catalogue),
                fetch_history(store, needed, whole),
            )

        reports, history = await asyncio.to_thread(load)
        own = [r for r in reports if r.indicator in needed]
        findings = quality.rule_findings(reports, checks, names) + quality.outliers(
            own, history, names
        )
        return rules.national(ind, whole, bound, own, catalogue, registry, findings)

    @app.get("/v1/reporting", response_model=reporting.ReportingRate, tags=["query"])
    async def reporting_route(period: PeriodParam) -> reporting.ReportingRate:
        """Who sent the periodic report of a period, completely and on time (docs/analysts.md
        "Reporting")."""
        whole = parse_any_period(period)
        calendar = reporting.default_calendar(catalogue, settings.reporting_calendar)
        due = calendar.due(whole)
        if due is None:
            raise ApiError(
                400,
                "no_report_due",
                f"{whole.text} is a {whole.type.value}: periodic reports are due for quarters "
                "(2026-Q3), halves (2026-H1) and years (2026)",
            )
        receipts = await asyncio.to_thread(fetch_receipts, store, whole, list(due.indicators))
        return reporting.reporting(whole, calendar, receipts, registry)

    @app.get("/v1/targets", response_model=targets.TargetsAnswer, tags=["query"])
    async def targets_route(
        period: OptionalPeriodParam = None, province: ProvinceParam = None
    ) -> targets.TargetsAnswer:
        """Targets (data, with their sources) and each one's progress (docs/analysts.md
        "Targets")."""
        whole = parse_any_period(period) if period is not None else None
        code = parse_province(province, registry)
        chosen = [
            t
            for t in targets.default_targets(catalogue, registry)
            if (whole is None or parse_any_period(t.period) == whole)
            and (code is None or (t.unit is not None and _successor(t.unit) == code))
        ]
        rows = await asyncio.to_thread(lambda: [_progress(t) for t in chosen])
        return targets.answer(whole.text if whole else None, code, rows)

    def _successor(unit_key: str) -> str:
        era, code = unit_key.split(":")
        unit = registry.get(code, Era(era))
        assert unit is not None  # load_targets checked it
        return registry.successor(unit).code

    def _progress(t: targets.Target) -> targets.TargetProgress:
        ind = catalogue.get(t.indicator)
        assert ind is not None  # load_targets checked it
        whole = parse_any_period(t.period)
        reports = fetch_reports(store, rules.indicators_needed(ind), whole, catalogue)
        if t.unit is None:
            fig = rules.national(ind, whole, "current", reports, catalogue, registry)
            return targets.progress(t, "national", None, fig.value, None, fig.notes)
        era, unit_code = t.unit.split(":")
        historical = era == Era.PRE_2025.value and whole.end < MERGER_DATE
        ranking = rules.provinces(
            ind, whole, "historical" if historical else "current", reports, catalogue, registry
        )
        row = next((r for r in ranking.rows if r.province == unit_code), None)
        notes: list[Note] = []
        if row is None:
            notes.append(Note("targets.not_a_unit", unit=t.unit, period=whole.text))
        statuses = {
            r.status
            for r in reports
            if r.unit_key == t.unit and r.indicator == ind.code and r.period == whole.text
        } - {"final"}
        if statuses and row is not None and row.value is not None:
            words = tuple(Note(f"part.status.{s}") for s in sorted(statuses))
            notes.append(Note("targets.not_final", statuses=words))
        return targets.progress(
            t,
            names.get(t.unit, t.unit),
            _successor(t.unit),
            row.value if row else None,
            row.reported_rank if row else None,
            notes,
        )

    @app.get("/v1/quality", response_model=quality.QualityReport, tags=["query"])
    async def quality_route(
        period: PeriodParam, province: ProvinceParam = None
    ) -> quality.QualityReport:
        """Validation rules broken and outliers among the reports of one period (docs/analysts.md
        "Data quality"). Findings never reject data."""
        whole = parse_any_period(period)
        code = parse_province(province, registry)
        current, earlier = await asyncio.to_thread(fetch_period, store, whole, code)
        checks = quality.default_rules(catalogue)
        findings = quality.rule_findings(current, checks, names) + quality.outliers(
            current, earlier, names
        )
        findings.sort(key=lambda f: (f.province, f.unit_key, f.kind, f.rule or f.indicator or ""))
        broken = sum(1 for f in findings if f.kind == "rule")
        return quality.QualityReport(
            whole.text, code, len(checks), broken, len(findings) - broken, findings
        )

    @app.get("/v1/provinces", response_model=ProvinceRanking, tags=["query"])
    async def provinces(
        indicator: IndicatorParam, period: PeriodParam, boundary: BoundaryParam = "current"
    ) -> ProvinceRanking:
        """Every province's figure, best first (competition ranks: 1, 2, 2, 4)."""
        ind, whole, bound = parse_question(indicator, period, boundary, catalogue)
        reports = await asyncio.to_thread(
            fetch_reports, store, rules.indicators_needed(ind), whole, catalogue
        )
        return rules.provinces(ind, whole, bound, reports, catalogue, registry)

    @app.get(
        "/v1/service-index",
        response_model=ServiceIndex | ServiceIndexGroups,
        tags=["query"],
    )
    async def service_index_route(
        period: DayPeriodParam,
        province: ProvinceParam = None,
        group_by: GroupByParam = None,
        order: OrderParam = "best",
    ) -> ServiceIndex | ServiceIndexGroups:
        """Live Decision 766 figures from dossier events (docs/analysts.md "Service index")."""
        whole, code, grouping, ordering = parse_service_question(
            period, province, group_by, order, registry
        )
        as_of = await asyncio.to_thread(fresh)  # before the counters: they hold at least that
        if grouping is None:
            index = await asyncio.to_thread(fetch_index, store, whole, code, now())
            return replace(index, as_of=as_of)
        assert code is not None  # parse_service_question refuses group_by without province
        rows = await asyncio.to_thread(fetch_groups, store, whole, code, grouping, ordering, now())
        return ServiceIndexGroups(
            period=whole.text,
            province=code,
            group_by=grouping,
            order=ordering,
            rows=rows,
            as_of=as_of,
        )

    @app.get(
        "/v1/scoreboard",
        response_model=NationalScoreboard | ProvinceScoreboard,
        tags=["query"],
    )
    async def scoreboard(
        period: ScorePeriodParam, province: ProvinceParam = None
    ) -> NationalScoreboard | ProvinceScoreboard:
        """Bộ chỉ số 766 of a province or the nation over a month, quarter, half or year
        (docs/analysts.md "Bộ chỉ số 766")."""
        whole, code = parse_score_question(period, province, registry)
        # Every province's counters, also for one province: its rank is among all of them.
        as_of = await asyncio.to_thread(fresh)
        counters = await asyncio.to_thread(
            fetch_counters, store, whole, monthly=not settings.cluster
        )
        board = build_scoreboard(table, whole.text, counters, province_names, code)
        return replace(board, as_of=as_of)

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
