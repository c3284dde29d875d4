"""The live service index (Decision 766/QĐ-TTg, CONTRACT §6) from dossier events.

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
counters leaves them apart; :data:`REBUILD_SQL` (docs/analysts.md) recomputes the counters from
the state. The state table is local to one server (EmbeddedRocksDB is not replicated); normalize
keys a dossier's records by province and dossier id, so one consumer owns each dossier and two
inserts never race on one key.

Everything here but :func:`fetch_index` / :func:`fetch_groups` is pure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store

__all__ = [
    "GROUPS",
    "ORDERS",
    "GroupBy",
    "GroupRow",
    "Order",
    "ServiceIndex",
    "Totals",
    "build_index",
    "fetch_groups",
    "fetch_index",
    "groups_sql",
    "index_sql",
    "order_groups",
    "rate",
]

GroupBy = Literal["procedure", "commune"]
GROUPS: tuple[GroupBy, ...] = ("procedure", "commune")
Order = Literal["best", "worst"]
ORDERS: tuple[Order, ...] = ("best", "worst")
_GROUP_COLUMN: dict[GroupBy, str] = {"procedure": "procedure_code", "commune": "commune_code"}

_COUNTS = (
    "sum(received) AS received, sum(received_online) AS received_online, "
    "sum(resolved) AS resolved, sum(resolved_on_time) AS resolved_on_time, "
    "sum(resolved_late) AS resolved_late"
)


@dataclass(frozen=True, slots=True)
class Totals:
    """The counts of one province, group or the nation over a period."""

    received: int = 0
    received_online: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    overdue_in_progress: int = 0


def rate(numerator: int, denominator: int) -> float | None:
    """100 × numerator / denominator, rounded to 2 decimals; None when the denominator is 0."""
    if denominator <= 0:
        return None
    return round(100 * numerator / denominator, 2)


@dataclass(frozen=True, slots=True)
class ServiceIndex:
    """The answer of ``GET /v1/service-index`` (CONTRACT §6); rates in percent.

    ``on_time_rate`` and ``late_rate`` are over the *classified* resolutions
    (``resolved_on_time + resolved_late``): a resolution whose receipt has not arrived yet has no
    due date to be judged by, and counts only in ``resolved`` (``resolved_unclassified``).
    National rates are ratios of national sums, never means of provincial rates.
    """

    period: str
    province: str | None
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

    def as_json(self) -> dict[str, Any]:
        """The JSON object of the API."""
        return asdict(self)


def build_index(period: str, province: str | None, totals: Totals) -> ServiceIndex:
    """Counts → the published figure with its rates."""
    classified = totals.resolved_on_time + totals.resolved_late
    return ServiceIndex(
        period=period,
        province=province,
        received=totals.received,
        received_online=totals.received_online,
        resolved=totals.resolved,
        resolved_on_time=totals.resolved_on_time,
        resolved_late=totals.resolved_late,
        resolved_unclassified=max(0, totals.resolved - classified),
        on_time_rate=rate(totals.resolved_on_time, classified),
        late_rate=rate(totals.resolved_late, classified),
        online_rate=rate(totals.received_online, totals.received),
        overdue_in_progress=totals.overdue_in_progress,
    )


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One procedure or commune of a province: its key and its figure."""

    key: str
    index: ServiceIndex

    def as_json(self) -> dict[str, Any]:
        """``{"key": …, <the ServiceIndex fields but period/province>}``."""
        body = self.index.as_json()
        del body["period"], body["province"]
        return {"key": self.key, **body}


def order_groups(rows: list[GroupRow], order: Order) -> list[GroupRow]:
    """Best (highest on-time rate) or worst first; groups without a rate last either way.

    Ties: more resolutions first (a rate over more dossiers says more), then the key.
    """
    sign = -1 if order == "best" else 1

    def key(row: GroupRow) -> tuple[int, float, int, str]:
        r = row.index.on_time_rate
        return (r is None, sign * (r or 0.0), -row.index.resolved, row.key)

    return sorted(rows, key=key)


# --- SQL ----------------------------------------------------------------------------------------

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


def _sql(template: str, key: str, province: bool, table: str = "service_daily") -> str:
    return template.format(
        key=key,
        table=table,
        counts=_COUNTS,
        province_filter="\n  AND province = {province:String}" if province else "",
    )


def index_sql(province: bool) -> tuple[str, str]:
    """The counts query and the overdue query of one province (True) or the nation."""
    daily = _sql(_DAILY_SQL, "''", province, "service_province_daily")
    return daily, _sql(_OPEN_SQL, "''", province)


def groups_sql(group_by: GroupBy) -> tuple[str, str]:
    """The counts and overdue queries of one province, per procedure or commune."""
    column = _GROUP_COLUMN[group_by]
    return _sql(_DAILY_SQL, column, True), _sql(_OPEN_SQL, column, True)


def _params(period: Period, province: str | None, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"start": period.start, "end": period.end, "now": now}
    if province is not None:
        params["province"] = province
    return params


def _totals(
    store: Store, counts_sql: str, open_sql: str, params: dict[str, Any]
) -> dict[str, Totals]:
    # One round trip: on chDB each query costs a few ms of overhead whatever it reads.
    sql = (
        "SELECT 'counts' AS part, key, received, received_online, resolved, resolved_on_time, "
        f"resolved_late, 0 AS overdue FROM ({counts_sql})\nUNION ALL\n"
        "SELECT 'open' AS part, key, 0, 0, 0, 0, 0, overdue "
        f"FROM ({open_sql})"
    )
    # Our own statement with bound parameters: no read-only guard (it costs SET round trips).
    _, rows = store.query(sql, params, readonly=False)
    counts: dict[str, tuple[int, ...]] = {}
    overdue: dict[str, int] = {}
    for part, key, *values in rows:
        if part == "open":
            overdue[str(key)] = int(values[-1])
        else:
            counts[str(key)] = tuple(int(v) for v in values[:5])
    out: dict[str, Totals] = {}
    for key in counts.keys() | overdue.keys():
        received, online, resolved, on_time, late = counts.get(key, (0, 0, 0, 0, 0))
        out[key] = Totals(
            received=received,
            received_online=online,
            resolved=resolved,
            resolved_on_time=on_time,
            resolved_late=late,
            overdue_in_progress=overdue.get(key, 0),
        )
    return out


def fetch_index(store: Store, period: Period, province: str | None, now: datetime) -> ServiceIndex:
    """The index of ``province`` (None: national) over ``period``; overdue as of ``now``."""
    counts_sql, open_sql = index_sql(province is not None)
    totals = _totals(store, counts_sql, open_sql, _params(period, province, now))
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
    counts_sql, open_sql = groups_sql(group_by)
    totals = _totals(store, counts_sql, open_sql, _params(period, province, now))
    rows = [
        GroupRow(key, build_index(period.text, province, t))
        for key, t in totals.items()
        if t != Totals()
    ]
    return order_groups(rows, order)


REBUILD_SQL = (
    "TRUNCATE TABLE service_daily",
    "TRUNCATE TABLE service_province_daily",
    "TRUNCATE TABLE dossier_open",
    """INSERT INTO service_daily
SELECT province, day, procedure_code, commune_code,
       sum(rc), sum(ro), sum(rs), sum(ot), sum(lt)
FROM
(
    SELECT province, toDate(received_at, 'Asia/Ho_Chi_Minh') AS day, procedure_code, commune_code,
           1 AS rc, toInt64(channel = 'online') AS ro, 0 AS rs, 0 AS ot, 0 AS lt
    FROM dossier_state WHERE received_at IS NOT NULL
    UNION ALL
    SELECT province, toDate(resolved_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
           0, 0, 1, toInt64(due_at IS NOT NULL AND resolved_at <= due_at),
           toInt64(due_at IS NOT NULL AND resolved_at > due_at)
    FROM dossier_state WHERE resolved_at IS NOT NULL
)
GROUP BY province, day, procedure_code, commune_code""",
    """INSERT INTO dossier_open
SELECT province, toDate(received_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
       assumeNotNull(due_at), count()
FROM dossier_state
WHERE received_at IS NOT NULL AND due_at IS NOT NULL AND resolved_at IS NULL
  AND rejected_at IS NULL AND withdrawn_at IS NULL
GROUP BY ALL""",
)
"""Recompute ``service_daily`` (and through its view ``service_province_daily``) and
``dossier_open`` from ``dossier_state`` (run with no
dossier inserts in flight): the repair after a crash between the views, see the module doc."""
