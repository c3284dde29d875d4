"""The query API's request and response models.

The figures are answered as the rules' own dataclasses — :class:`NationalFigure`,
:class:`ProvinceRanking`, :class:`ServiceIndex`, :class:`ServiceIndexGroups`,
:class:`NationalScoreboard`, :class:`ProvinceScoreboard` — which FastAPI
validates, serialises and documents like pydantic models: one definition per answer, its fields
in order the JSON object's. Only the SQL and operations endpoints have models of their own.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from pydantic import BaseModel, Field

from cchc_aggregate.query.rules.national import NationalFigure, ProvinceFigure, ProvinceRanking
from cchc_aggregate.query.rules.scoreboard import NationalScoreboard, ProvinceScoreboard
from cchc_aggregate.query.rules.service_index import GroupRow, ServiceIndex, ServiceIndexGroups

__all__ = [
    "GroupRow",
    "NationalFigure",
    "NationalScoreboard",
    "PipelineResponse",
    "ProvinceFigure",
    "ProvinceRanking",
    "ProvinceScoreboard",
    "ServiceIndex",
    "ServiceIndexGroups",
    "SqlRequest",
    "SqlResponse",
    "jsonable",
]


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


def jsonable(value: Any) -> Any:
    """A value of a SQL result row as JSON can carry it (dates as ISO text, decimals as floats)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
