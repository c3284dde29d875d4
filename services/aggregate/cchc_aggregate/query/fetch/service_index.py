"""The service index's inputs read from the dossier tables (the rules:
:mod:`cchc_aggregate.query.rules.service_index`; Decision 766/QĐ-TTg, docs/domain.md
"Bộ chỉ số 766").

Storage (``deploy/clickhouse/0005_dossier_state.sql``; docs/analysts.md "Service index"):

* ``dossier_events`` — every event as received, deduplicated by event id at merge (0002).
* ``dossier_state`` — one row per dossier ``(province, unit_key, dossier_id)``, in an
  EmbeddedRocksDB key-value table: received_at (earliest receipt) with that receipt's due_at,
  channel and online mode; resolved_at, rejected_at, withdrawn_at (the earliest of each).
* ``dossier_transitions_mv`` folds each insert block per dossier and merges it with the stored
  state by a direct key lookup (cost ∝ block, not table). Every fold is a min, so a duplicate,
  a resolution re-sent under a new event id, or a receipt arriving after its resolution leaves
  the state as it would have been in order. The old and the new state go on as one row.
* ``service_daily`` (SummingMergeTree, per province, Vietnam day, procedure, commune) receives
  the *difference* between the dossier's old and new contribution: +1 received on the receipt
  day; +1 resolved and +1 on time or late on the resolution day — classified once both the
  resolution and the receipt's due date are known, whichever came first. Nothing changes → no
  row, so duplicates never count twice.
  ``service_province_daily`` sums the same per province and day: national and province
  questions read it (34 × 31 rows for a national month); ``group_by`` reads ``service_daily``.
* ``dossier_open`` (SummingMergeTree) holds +1 per dossier in progress by receipt day and due
  instant, −1 when it closes: overdue-now is a sum over ``due_at < now``.

Why this and not the alternatives (prototypes measured on 1 M dossiers / 2 M events here;
bench/dossier_scale.py measures this design): computing on-time from a per-dossier
AggregatingMergeTree (minState/argMinState per dossier) at query time needs a GROUP BY over
every dossier ever stored (~150 ms per million dossiers, growing with history, because a
dossier's key says nothing about its dates); per-day ``uniqExact`` states are idempotent but
merged ~80k hashes per national month in ~20 ms, i.e. hundreds of ms at national volume, and
still cannot classify a resolution that arrived before its receipt. Signed deltas keep the
query at a few thousand summed rows whatever the volume; the price is a key lookup per dossier
per insert block, paid once at ingest (load ~40–50k events/s on this 2-core machine).

Caveats: the views are not transactional. A crash between writing ``dossier_state`` and the
counters leaves them apart; :mod:`cchc_aggregate.clickhouse.rebuild` (docs/analysts.md)
recomputes the counters from the state. The state table is local to one server (EmbeddedRocksDB
is not replicated); normalize keys a dossier's records by province and dossier id, so one
consumer owns each dossier and two inserts never race on one key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.rules.service_index import (
    GroupBy,
    GroupRow,
    Order,
    ServiceIndex,
    Totals,
    build_group,
    build_index,
    order_groups,
)

__all__ = ["fetch_groups", "fetch_index", "groups_sql", "index_sql"]

_GROUP_COLUMN: dict[GroupBy, str] = {"procedure": "procedure_code", "commune": "commune_code"}

_COUNTS = (
    "sum(received) AS received, sum(received_online) AS received_online, "
    "sum(resolved) AS resolved, sum(resolved_on_time) AS resolved_on_time, "
    "sum(resolved_late) AS resolved_late"
)

# service_daily and service_province_daily are ordered (province, day, …): both filters use
# the primary index. Their rows are signed deltas, so they are summed, never counted
# (fetch_groups drops the groups that sum to zero).
_DAILY_SQL = """
SELECT {key} AS key, {counts}
FROM {table}
WHERE day BETWEEN {{start:Date}} AND {{end:Date}}{province_filter}
GROUP BY key
"""
_OPEN_SQL = """
SELECT {key} AS key, sum(open) AS overdue
FROM dossier_open
WHERE received_day BETWEEN {{start:Date}} AND {{end:Date}}
  AND due_at < {{now:DateTime64(3, 'UTC')}}{province_filter}
GROUP BY key
"""


# Processing time (receipt → resolution) from the scoreboard's counters (0009), per the same keys.
_TIME_SQL = """
SELECT {key} AS key, sum(res_timed) AS timed, sum(res_seconds) AS seconds
FROM {table}
WHERE day BETWEEN {{start:Date}} AND {{end:Date}}{province_filter}
GROUP BY key
"""


def _sql(template: str, key: str, province: bool, table: str = "service_daily") -> str:
    return template.format(
        key=key,
        table=table,
        counts=_COUNTS,
        province_filter="\n  AND province = {province:String}" if province else "",
    )


def index_sql(province: bool) -> tuple[str, str, str]:
    """The counts, overdue and processing-time queries of one province (True) or the nation."""
    daily = _sql(_DAILY_SQL, "''", province, "service_province_daily")
    time = _sql(_TIME_SQL, "''", province, "scoreboard_province_daily")
    return daily, _sql(_OPEN_SQL, "''", province), time


def groups_sql(group_by: GroupBy) -> tuple[str, str, str]:
    """The counts, overdue and processing-time queries of one province, per procedure or
    commune."""
    column = _GROUP_COLUMN[group_by]
    time = _sql(_TIME_SQL, column, True, "scoreboard_daily")
    return _sql(_DAILY_SQL, column, True), _sql(_OPEN_SQL, column, True), time


def _params(period: Period, province: str | None, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"start": period.start, "end": period.end, "now": now}
    if province is not None:
        params["province"] = province
    return params


def _totals(
    store: Store, counts_sql: str, open_sql: str, time_sql: str, params: dict[str, Any]
) -> dict[str, Totals]:
    # One round trip: on chDB each query costs a few ms of overhead whatever it reads.
    sql = (
        "SELECT 'counts' AS part, key, toInt64(received), toInt64(received_online), "
        "toInt64(resolved), toInt64(resolved_on_time), toInt64(resolved_late), "
        f"toInt64(0) AS overdue FROM ({counts_sql})\nUNION ALL\n"
        "SELECT 'open' AS part, key, 0, 0, 0, 0, 0, toInt64(overdue) "
        f"FROM ({open_sql})\nUNION ALL\n"
        "SELECT 'time' AS part, key, toInt64(timed), toInt64(seconds), 0, 0, 0, 0 "
        f"FROM ({time_sql})"
    )
    # Our own statement with bound parameters: no read-only guard (it costs SET round trips).
    _, rows = store.query(sql, params, readonly=False)
    counts: dict[str, tuple[int, ...]] = {}
    overdue: dict[str, int] = {}
    times: dict[str, tuple[int, int]] = {}
    for part, key, *values in rows:
        if part == "open":
            overdue[str(key)] = int(values[-1])
        elif part == "time":
            if int(values[0]):
                times[str(key)] = (int(values[0]), int(values[1]))
        else:
            counts[str(key)] = tuple(int(v) for v in values[:5])
    out: dict[str, Totals] = {}
    for key in counts.keys() | overdue.keys():
        timed, seconds = times.get(key, (0, 0))
        received, online, resolved, on_time, late = counts.get(key, (0, 0, 0, 0, 0))
        out[key] = Totals(
            received=received,
            received_online=online,
            resolved=resolved,
            resolved_on_time=on_time,
            resolved_late=late,
            overdue_in_progress=overdue.get(key, 0),
            resolved_timed=timed,
            resolved_seconds=seconds,
        )
    return out


def fetch_index(store: Store, period: Period, province: str | None, now: datetime) -> ServiceIndex:
    """The index of ``province`` (None: national) over ``period``; overdue as of ``now``."""
    counts_sql, open_sql, time_sql = index_sql(province is not None)
    totals = _totals(store, counts_sql, open_sql, time_sql, _params(period, province, now))
    return build_index(period.text, province, totals.get("", Totals()))


def fetch_groups(
    store: Store,
    period: Period,
    province: str,
    group_by: GroupBy,
    order: Order,
    now: datetime,
) -> list[GroupRow]:
    """One row per procedure or commune of ``province`` over ``period``, best or worst first."""
    counts_sql, open_sql, time_sql = groups_sql(group_by)
    totals = _totals(store, counts_sql, open_sql, time_sql, _params(period, province, now))
    rows = [build_group(key, t) for key, t in totals.items() if t != Totals()]
    return order_groups(rows, order)
