"""The scoreboard per province and month, kept by the fold
(deploy/clickhouse/0015_scoreboard_monthly.sql; docs/architecture.md "The fold").

Every Bộ chỉ số 766 counter is a sum over days, so a month, quarter, half or year is the sum of
its months. After each fold step, :func:`refresh` recomputes the province-months the step marked
dirty in ``scoreboard_dirty`` with the query questions used to run on the daily tables
(:func:`cchc_aggregate.query.fetch.scoreboard.counters_sql`), writes them to
``scoreboard_monthly`` (a province-month left with no counter is written empty) and clears the
marks. A question then reads one small table
(:func:`cchc_aggregate.query.fetch.scoreboard.fetch_counters`).

Exactness: the marks are written by the fold's own inserts (the transition views of a step, and
the fold's step over new ``procedure_events``) and cleared only here, in the fold's thread, after
the months are written — a crash in between recomputes them again at the next step, to the same
answer. A publication marks its month *onward*: every later month of its province that has a row
is recomputed too, since the publication is the offer of the province's later receipts (o1).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.fetch.scoreboard import counters_sql

log = logging.getLogger(__name__)

_SQL = counters_sql(
    end="toLastDayOfMonth({start:Date})",
    province="IN {provinces:Array(String)}",
    acts_upto="{acts:UInt64}",
)
"""The counters of one month (``start``: its first day) of some provinces."""


def dirty(store: Store) -> dict[date, set[str]]:
    """The province-months marked dirty, with each *onward* mark spread over the later months of
    its province that have a row: month → provinces."""
    _, rows = store.query(
        "SELECT DISTINCT province, month, onward FROM scoreboard_dirty", readonly=False
    )
    months: dict[date, set[str]] = defaultdict(set)
    onward: dict[str, date] = {}
    for province, month, since in rows:
        months[month].add(str(province))
        if since:
            onward[str(province)] = min(month, onward.get(str(province), month))
    if onward:
        _, later = store.query(
            "SELECT province, month FROM scoreboard_monthly WHERE province IN {p:Array(String)}",
            {"p": sorted(onward)},
            readonly=False,
        )
        for province, month in later:
            if month >= onward[str(province)]:
                months[month].add(str(province))
    return dict(months)


def refresh(store: Store, acts_upto: int) -> int:
    """Recompute every dirty province-month into ``scoreboard_monthly``, then clear the marks;
    returns how many province-months were written. Run by the fold, after its steps (one writer:
    not re-entrant), with ``acts_upto`` the newest insert of ``procedure_events`` its steps have
    marked: an act the writer inserts meanwhile is read by none of the months (it waits for its
    own step, which marks all it changes), never by some and not others.

    Every month is computed first and all are written in one insert (one RocksDB write batch): a
    step that moves a dossier from one month to another (an earlier receipt) changes both, and a
    question of a quarter must not read one month new and the other old (the dossier twice)."""
    months = dirty(store)
    if not months:
        return 0
    rows: dict[str, list[Any]] = {"key": [], "province": [], "month": [], "counters": []}
    for month in sorted(months):
        provinces = sorted(months[month])
        _, found = store.query(
            _SQL,
            {"start": month, "provinces": provinces, "acts": acts_upto},
            readonly=False,
        )
        counters: dict[str, dict[str, int]] = {p: {} for p in provinces}
        for _, province, counter, value in found:
            if value:
                counters[str(province)][str(counter)] = int(value)
        rows["key"] += [f"{p}|{month.isoformat()}" for p in provinces]
        rows["province"] += provinces
        rows["month"] += [month] * len(provinces)
        rows["counters"] += [counters[p] for p in provinces]
    store.insert("scoreboard_monthly", rows, token="")
    store.command("TRUNCATE TABLE scoreboard_dirty")
    written = len(rows["key"])
    log.debug("scoreboard: %d province-months recomputed", written)
    return written
