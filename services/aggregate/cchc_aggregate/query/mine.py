"""A province's own data: `GET /v1/my/summary` and `GET /v1/my/dead-letters` (province role).

The province is the token's (`Principal.province`, a current 2025 code, put in the request's
state by `cchc_runtime.auth`) and nothing else: these routes take no province parameter and
refuse one, so a province token can never read another province's figures or dead letters.

A current province holds the data of every unit merged into it (docs/domain.md "Provinces and
the 2025 merger"): token 15 (Lào Cai) sees old Lào Cai (2004:10), old Yên Bái (2004:15) and
the new Lào Cai (2025:15). Storage already carries each row's current province (`province`,
resolved by normalize through the registry's lineage); the answer lists the units from the same
registry and breaks the counts down by unit.

Rejects come from the ClickHouse table `dead_letters` (one row per dead letter, with at least
`stage`, `reason`, `province`, `rejected_at`). Until that table exists, the summary says so in
`notes` and gives `rejects: null`, and `/v1/my/dead-letters` answers 503.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

from cchc_runtime.tokens import Principal, Role
from cchc_shared.dlq import Reason
from cchc_shared.events import DOSSIER_EVENT, FEEDBACK_EVENT, INDICATOR_REPORT, PROCEDURE_EVENT
from cchc_shared.provinces import Era, ProvinceRegistry, default_registry
from cchc_shared.reasons import describe
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, Field

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.errors import ApiError
from cchc_aggregate.query.schemas import jsonable

DEAD_LETTERS_TABLE = "dead_letters"
MAX_DEAD_LETTERS = 1000


class UnitInfo(BaseModel):
    """A unit whose data belongs to the province: itself, and the units merged into it."""

    unit_key: str = Field(description="'<era>:<code>', e.g. '2004:10' (old Lào Cai)")
    code: str
    era: str
    name: str


class SchemaCount(BaseModel):
    """How many records of one kind the pipeline holds for the province, per period and unit."""

    schema_: str = Field(alias="schema", serialization_alias="schema")
    period: str = Field(
        description="the report's period; for dossier events the month (Vietnam time)"
    )
    unit_key: str
    records: int = Field(description="records held, duplicates and replaced revisions collapsed")
    last_received_at: str | None


class SchemaTotal(BaseModel):
    """One kind of event: how many records are held, and when the last one was received."""

    schema_: str = Field(alias="schema", serialization_alias="schema")
    records: int
    last_received_at: str | None


class RejectCount(BaseModel):
    """Dead letters of the province for one reason and stage, with the reason explained."""

    reason: str
    stage: str
    count: int
    last_rejected_at: str | None
    meaning_vi: str
    fix_vi: str


class MySummary(BaseModel):
    """What the pipeline holds for the token's province."""

    province: str
    name: str
    units: list[UnitInfo]
    last_received_at: str | None = Field(description="the latest event stored, any kind")
    schemas: list[SchemaTotal]
    counts: list[SchemaCount]
    rejects: list[RejectCount] | None = Field(
        description="dead letters by reason; null while the dead_letters table does not exist"
    )
    notes: list[str]


class MyDeadLetters(BaseModel):
    """The province's own dead letters, most recent first (each row as the table stores it)."""

    province: str
    count: int
    dead_letters: list[dict[str, Any]]


def province_of(request: Request) -> str:
    """The token's province; 403 for anything but a province token (the middleware already
    refuses other roles: this guards against a route installed without it)."""
    principal = getattr(request.state, "principal", None)
    if (
        not isinstance(principal, Principal)
        or principal.role is not Role.PROVINCE
        or not principal.province
    ):
        raise ApiError(403, "forbidden", "this route needs a province token")
    if "province" in request.query_params:
        raise ApiError(
            400,
            "bad_request",
            "the province is the token's own: these routes take no province parameter",
        )
    return principal.province


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # ClickHouse DateTime64(3, 'UTC')
    text = jsonable(value)
    return str(text) if text is not None else None


def has_table(store: Store, table: str) -> bool:
    """Whether `table` exists in the current database."""
    _, rows = store.query(
        "SELECT count() FROM system.tables "
        "WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table},
    )
    return bool(rows and rows[0][0])


def _counts(store: Store, province: str, lineage: list[str]) -> list[SchemaCount]:
    # Rows carry their current province (resolved by normalize through the registry); the
    # units are checked too, so that only the registry's lineage of the province can show.
    params: dict[str, Any] = {"p": province, "u": lineage}
    mine = "province = {p:String} AND unit_key IN {u:Array(String)}"
    _, reports = store.query(
        "SELECT period, unit_key, count(), max(kafka_ts) FROM observations FINAL "
        f"WHERE {mine} GROUP BY period, unit_key ORDER BY period, unit_key",
        params,
    )
    by_month: list[tuple[str, list[tuple[Any, ...]]]] = []
    # Dossier, feedback and procedure events: by their month in Vietnam time.
    for schema, table in (
        (DOSSIER_EVENT, "dossier_events"),
        (FEEDBACK_EVENT, "feedback_events"),
        (PROCEDURE_EVENT, "procedure_events"),
    ):
        _, rows = store.query(
            "SELECT formatDateTime(toTimeZone(occurred_at, 'Asia/Ho_Chi_Minh'), '%Y-%m') AS month, "
            f"unit_key, count(), max(kafka_ts) FROM {table} FINAL "
            f"WHERE {mine} GROUP BY month, unit_key ORDER BY month, unit_key",
            params,
        )
        by_month.append((schema, rows))
    return [
        SchemaCount(
            schema=schema, period=period, unit_key=unit, records=n, last_received_at=_iso(last)
        )
        for schema, rows in ((INDICATOR_REPORT, reports), *by_month)
        for period, unit, n, last in rows
    ]


def _rejects(store: Store, province: str) -> list[RejectCount]:
    _, rows = store.query(
        f"SELECT reason, stage, count(), max(rejected_at) FROM {DEAD_LETTERS_TABLE} FINAL "
        "WHERE province = {p:String} GROUP BY reason, stage ORDER BY count() DESC, reason, stage",
        {"p": province},
    )
    result = []
    for reason, stage, n, last in rows:
        try:
            info = describe(str(reason))
            meaning, fix = info.vi_meaning, info.vi_fix
        except ValueError:  # a code this version does not know yet
            meaning, fix = "", ""
        result.append(
            RejectCount(
                reason=str(reason),
                stage=str(stage),
                count=n,
                last_rejected_at=_iso(last),
                meaning_vi=meaning,
                fix_vi=fix,
            )
        )
    return result


def summary(store: Store, registry: ProvinceRegistry, province: str) -> MySummary:
    """The summary of `province` (a current code, from the token)."""
    unit = registry.get(province, Era.POST_2025)
    if unit is None:
        raise ApiError(403, "forbidden", f"the token names {province}, not a current province")
    lineage = [*registry.predecessors(province), unit]
    counts = _counts(store, province, [u.key for u in lineage])
    totals = []
    for schema in (INDICATOR_REPORT, DOSSIER_EVENT, FEEDBACK_EVENT, PROCEDURE_EVENT):
        mine = [c for c in counts if c.schema_ == schema]
        stamps = [c.last_received_at for c in mine if c.last_received_at]
        totals.append(
            SchemaTotal(
                schema=schema,
                records=sum(c.records for c in mine),
                last_received_at=max(stamps) if stamps else None,
            )
        )
    stamps = [t.last_received_at for t in totals if t.last_received_at]
    notes = []
    rejects: list[RejectCount] | None = None
    if has_table(store, DEAD_LETTERS_TABLE):
        rejects = _rejects(store, province)
    else:
        notes.append(
            "dead letters are not stored in ClickHouse yet (no dead_letters table): rejects "
            "are unknown here; cchc.dlq still holds them"
        )
    return MySummary(
        province=province,
        name=unit.name,
        units=[
            UnitInfo(unit_key=u.key, code=u.code, era=u.era.value, name=u.name) for u in lineage
        ],
        last_received_at=max(stamps) if stamps else None,
        schemas=totals,
        counts=counts,
        rejects=rejects,
        notes=notes,
    )


def dead_letters(
    store: Store,
    province: str,
    limit: int,
    reason: Reason | None,
    since: dt.datetime | None,
) -> MyDeadLetters:
    """The latest `limit` dead letters of `province`; 503 while the table does not exist."""
    if not has_table(store, DEAD_LETTERS_TABLE):
        raise ApiError(
            503,
            "unavailable",
            "dead letters are not stored in ClickHouse yet (no dead_letters table); "
            "ask the operator (cchc dlq list --province NN reads cchc.dlq)",
        )
    where = ["province = {p:String}"]
    params: dict[str, Any] = {"p": province, "n": limit}
    if reason is not None:
        where.append("reason = {r:String}")
        params["r"] = str(reason)
    if since is not None:
        where.append("rejected_at >= toDateTime64({s:String}, 3, 'UTC')")
        aware = since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
        params["s"] = aware.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    columns, rows = store.query(
        f"SELECT * FROM {DEAD_LETTERS_TABLE} FINAL WHERE {' AND '.join(where)} "
        "ORDER BY rejected_at DESC LIMIT {n:UInt32}",
        params,
    )
    letters = []
    for row in rows:
        letter = {
            c: _iso(v) if isinstance(v, dt.datetime) else jsonable(v)
            for c, v in zip(columns, row, strict=True)
        }
        try:
            info = describe(str(letter.get("reason")))
            letter["meaning_vi"], letter["fix_vi"] = info.vi_meaning, info.vi_fix
        except ValueError:
            pass
        letters.append(letter)
    return MyDeadLetters(province=province, count=len(letters), dead_letters=letters)


def install(app: FastAPI, store: Store, registry: ProvinceRegistry | None = None) -> None:
    """Add `/v1/my/summary` and `/v1/my/dead-letters` to `app` (roles: `access.ROLES`)."""
    registry = registry or default_registry()

    @app.get("/v1/my/summary", response_model=MySummary, tags=["province"])
    async def my_summary(request: Request) -> MySummary:
        """What the pipeline holds for the token's province: records by schema, period and
        unit (merged units included), the last event received, dead letters by reason."""
        province = province_of(request)
        return await asyncio.to_thread(summary, store, registry, province)

    @app.get("/v1/my/dead-letters", response_model=MyDeadLetters, tags=["province"])
    async def my_dead_letters(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=MAX_DEAD_LETTERS)] = 100,
        reason: Annotated[Reason | None, Query(description="only this reason code")] = None,
        since: Annotated[
            dt.datetime | None, Query(description="only dead letters rejected at or after")
        ] = None,
    ) -> MyDeadLetters:
        """The token's province's own dead letters, most recent first, each with the
        Vietnamese explanation and fix of its reason (docs/vi/reasons.md)."""
        province = province_of(request)
        return await asyncio.to_thread(dead_letters, store, province, limit, reason, since)
