"""The query API (CONTRACT §6): JSON in, JSON out, 4xx JSON for bad requests, never a 500."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from typing import Any

from cchc_runtime.lag import LagMonitor
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _clickhouse_error(exc: Exception) -> ApiError:
    text = str(exc)
    # ClickHouse reports "Code: NN. DB::Exception: …": keep the message, not the stack.
    detail = text.split("DB::Exception:", 1)[-1].strip().split("Stack trace")[0].strip()
    return ApiError(400, "bad_sql", detail[:2000])


def install(app: FastAPI, store: Store, lag: LagMonitor, settings: AggregateSettings) -> None:
    """Add the query routes and the JSON error handlers to `app`."""

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

    @app.get("/v1/pipeline", response_model=PipelineResponse, tags=["operations"])
    async def pipeline() -> PipelineResponse:
        """Per-service lag (all zero: everything pushed so far is queryable) and DLQ count."""
        snapshot = await asyncio.to_thread(lag.measure_now)
        return PipelineResponse(
            lag={service: snapshot.total(service) for service in lag.groups},
            dlq=snapshot.dlq,
        )
