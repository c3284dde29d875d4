"""What the console asks ClickHouse beyond the API's own queries: which figures are stored (for
the choices a page offers) and the operators' summaries. Parameters are bound, never pasted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cchc_aggregate.clickhouse.client import Store

STORED_SQL = """
SELECT indicator, period, uniqExact(unit_key) AS units, max(period_end) AS period_end
FROM observations FINAL
WHERE level = 'all' AND agency = ''
GROUP BY indicator, period
ORDER BY indicator, period
"""

DEAD_LETTERS_SQL = """
SELECT reason, stage, province, count() AS n
FROM dead_letters FINAL
GROUP BY reason, stage, province
ORDER BY n DESC, reason, province
LIMIT 500
"""

LAST_EVENTS_SQL = """
SELECT province, max(kafka_ts), count() FROM observations FINAL GROUP BY province
"""

# count(): rows stored, without FINAL (too slow at tens of millions for a page): a batch written
# again after a failure counts again here, until a merge collapses it, which ClickHouse does not
# promise (docs/platform.md "Retried inserts"). An operator's figure of rows, not of events; the
# answers come from the fold, which counts each event once.
LAST_DOSSIERS_SQL = """
SELECT province, max(kafka_ts), count() FROM dossier_events GROUP BY province
"""


@dataclass(frozen=True)
class Stored:
    """An (indicator, period) with figures stored, and how many units reported it."""

    indicator: str
    period: str
    units: int
    period_end: dt.date


def stored(store: Store) -> list[Stored]:
    _, rows = store.query(STORED_SQL, max_seconds=10)
    return [Stored(str(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]


def dead_letters(store: Store) -> list[tuple[str, str, str, int]]:
    _, rows = store.query(DEAD_LETTERS_SQL, max_seconds=10)
    return [(str(r[0]), str(r[1]), str(r[2] or ""), int(r[3])) for r in rows]


def last_events(store: Store) -> dict[str, dict[str, tuple[dt.datetime, int]]]:
    """province → {"reports"|"dossiers": (last push time, count)}."""
    out: dict[str, dict[str, tuple[dt.datetime, int]]] = {}
    for kind, sql in (("reports", LAST_EVENTS_SQL), ("dossiers", LAST_DOSSIERS_SQL)):
        _, rows = store.query(sql, max_seconds=10)
        for province, ts, n in rows:
            out.setdefault(str(province), {})[kind] = (ts, int(n))
    return out


LATEST_SCORE_DAY_SQL = """
SELECT max(d) FROM (
    SELECT max(day) AS d FROM scoreboard_province_daily
    UNION ALL SELECT max(day) AS d FROM feedback_daily
)
"""


def latest_score_day(store: Store) -> dt.date | None:
    """The last Vietnam day with any scoreboard counter (dossiers, feedback), or None."""
    _, rows = store.query(LATEST_SCORE_DAY_SQL, max_seconds=10)
    day = rows[0][0] if rows else None
    # max() of an empty table is the epoch.
    return day if isinstance(day, dt.date) and day.year > 1970 else None
