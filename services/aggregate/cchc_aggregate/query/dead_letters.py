"""GET /v1/dead-letters: the dead letters stored in ClickHouse (operators only).

Rows of `dead_letters` (deploy/clickhouse/0007_dead_letters.sql), filtered by province, reason,
stage, time and place on cchc.dlq; the most recent `limit`, returned oldest first, shaped like
the envelope (docs/contract.md "Dead letters") plus where each sits on cchc.dlq. `cchc dlq list`
and `cchc dlq replay` read them from here. The filters are bound as query parameters, never
pasted into the SQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.errors import ApiError

PATH = "/v1/dead-letters"
MAX_LIMIT = 1000
MAX_REFS = 100
PREVIEW_CHARS = 200
STAGES = ("ingest", "normalize", "aggregate", "unreadable")

_COLUMNS = (
    "dlq_partition", "dlq_offset", "stage", "reason", "province", "source_topic",
    "source_partition", "source_offset", "source_key", "source_key_encoding",
    "source_key_truncated", "error_loc", "error_msg", "errors", "errors_total", "payload",
    "payload_encoding", "payload_truncated", "payload_bytes", "payload_sha256", "rejected_at",
)  # fmt: skip
_REF = re.compile(r"^(?:(\d{1,9}):)?(\d{1,18})$")


def install(app: FastAPI, store: Store) -> None:
    """Add GET /v1/dead-letters to `app` (its role: `access.ROLES`)."""

    @app.get(PATH, tags=["operations"])
    async def dead_letters(
        province: Annotated[
            str | None, Query(pattern=r"^\d{2}$", description="2025 province code")
        ] = None,
        reason: Annotated[list[str] | None, Query(description="reason code (repeatable)")] = None,
        stage: Annotated[list[str] | None, Query(description="stage (repeatable)")] = None,
        since: Annotated[dt.datetime | None, Query(description="rejected at or after")] = None,
        ref: Annotated[
            list[str] | None, Query(description="PARTITION:OFFSET or OFFSET on cchc.dlq")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        preview: Annotated[
            bool, Query(description=f"payload cut to {PREVIEW_CHARS} characters")
        ] = False,
    ) -> dict[str, Any]:
        where, params = _where(province, reason or [], stage or [], since, ref or [])
        payload = "payload" if not preview else f"substringUTF8(payload, 1, {PREVIEW_CHARS})"
        columns = ", ".join(c if c != "payload" else f"{payload} AS payload" for c in _COLUMNS)
        sql = (
            f"SELECT {columns} FROM dead_letters FINAL WHERE {where} "
            "ORDER BY rejected_at DESC, dlq_partition DESC, dlq_offset DESC LIMIT {limit:UInt32}"
        )
        count_sql = f"SELECT count() FROM dead_letters FINAL WHERE {where}"

        def run() -> tuple[list[tuple[Any, ...]], int]:
            _, rows = store.query(sql, {**params, "limit": limit}, max_seconds=30)
            _, counted = store.query(count_sql, params, max_seconds=30)
            return rows, int(counted[0][0])

        rows, matched = await asyncio.to_thread(run)
        return {"matched": matched, "rows": [_row(r) for r in reversed(rows)]}


def _where(
    province: str | None,
    reasons: list[str],
    stages: list[str],
    since: dt.datetime | None,
    refs: list[str],
) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = ["1"]
    params: dict[str, Any] = {}
    if province is not None:
        clauses.append("province = {province:String}")
        params["province"] = province
    if reasons:
        clauses.append("reason IN {reasons:Array(String)}")
        params["reasons"] = reasons
    if stages:
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            raise ApiError(422, "bad_request", f"stage: unknown {unknown}; one of {STAGES}")
        clauses.append("stage IN {stages:Array(String)}")
        params["stages"] = stages
    if since is not None:
        since = since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
        clauses.append("rejected_at >= fromUnixTimestamp64Milli({since:Int64})")
        params["since"] = int(since.timestamp() * 1000)
    if refs:
        if len(refs) > MAX_REFS:
            raise ApiError(422, "bad_request", f"ref: at most {MAX_REFS}")
        alternatives = []
        for i, text in enumerate(refs):
            match = _REF.match(text)
            if match is None:
                raise ApiError(422, "bad_request", f"ref: {text!r} is not PARTITION:OFFSET")
            partition, offset = match.groups()
            alternative = f"dlq_offset = {{o{i}:Int64}}"
            params[f"o{i}"] = int(offset)
            if partition is not None:
                alternative += f" AND dlq_partition = {{p{i}:Int32}}"
                params[f"p{i}"] = int(partition)
            alternatives.append(f"({alternative})")
        clauses.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(clauses), params


def _row(values: tuple[Any, ...]) -> dict[str, Any]:
    r = dict(zip(_COLUMNS, values, strict=True))
    rejected_at = r["rejected_at"]
    if isinstance(rejected_at, dt.datetime) and rejected_at.tzinfo is None:
        rejected_at = rejected_at.replace(tzinfo=dt.UTC)
    return {
        "dlq_partition": r["dlq_partition"],
        "dlq_offset": r["dlq_offset"],
        "stage": r["stage"],
        "reason": r["reason"],
        "province": r["province"] or None,
        "errors": orjson.loads(r["errors"]) if r["errors"] else [],
        "errors_total": r["errors_total"],
        "source": {
            "topic": r["source_topic"],
            "partition": r["source_partition"],
            "offset": r["source_offset"],
            "key": r["source_key"] if r["source_key_encoding"] else None,
            "key_encoding": r["source_key_encoding"] or "utf-8",
            "key_truncated": bool(r["source_key_truncated"]),
        },
        "payload": r["payload"],
        "payload_encoding": r["payload_encoding"],
        "payload_truncated": bool(r["payload_truncated"]),
        "payload_bytes": r["payload_bytes"],
        "payload_sha256": r["payload_sha256"],
        "rejected_at": rejected_at.isoformat() if isinstance(rejected_at, dt.datetime) else None,
    }
