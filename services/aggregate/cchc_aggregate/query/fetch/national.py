"""The reports a national figure is computed from (:mod:`cchc_aggregate.query.rules.national`).

One query per national figure: the latest report of each unit, at each level (province-wide and
per tier), for the indicator(s) and every period inside the one asked (its finer parts too), read
with FINAL so revisions and duplicates are resolved exactly as in ``v_observations_latest``;
:func:`~cchc_aggregate.query.rules.national.province_wide` keeps one per unit, adding tiers up
only where the unit gave no province-wide figure.
"""

from __future__ import annotations

from typing import Any

from cchc_shared.catalogue import Catalogue, default_catalogue
from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.rules.national import Report, TierRow, province_wide

# The ORDER BY key starts (indicator, period, …): the IN filters use the primary index.
REPORTS_SQL = """
SELECT indicator, period, unit_key, province, value, numerator, denominator, status, rank,
       rank_of, level
FROM observations FINAL
WHERE indicator IN {indicators:Array(String)}
  AND period_start >= {start:Date}
  AND period_end <= {end:Date}
  AND agency = ''
"""

# Earlier province-wide values, for outliers against a unit's own history.
HISTORY_SQL = """
SELECT indicator, period, unit_key, province, value
FROM observations FINAL
WHERE indicator IN {indicators:Array(String)}
  AND period_end < {before:Date}
  AND level = 'all'
  AND agency = ''
  AND value IS NOT NULL
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def tier_rows(rows: list[Any]) -> list[TierRow]:
    """Rows of :data:`REPORTS_SQL` (or the same columns) → :class:`TierRow`."""
    return [
        TierRow(
            Report(
                indicator=str(r[0]),
                period=str(r[1]),
                unit_key=str(r[2]),
                province=str(r[3]),
                value=_float(r[4]),
                numerator=_float(r[5]),
                denominator=_float(r[6]),
                status=str(r[7]),
                rank=None if r[8] is None else int(r[8]),
                rank_of=None if r[9] is None else int(r[9]),
            ),
            str(r[10]),
        )
        for r in rows
    ]


def fetch_reports(
    store: Store, indicators: list[str], whole: Period, catalogue: Catalogue | None = None
) -> list[Report]:
    """One report per unit, indicator and period inside ``whole`` (province-wide, else tiers)."""
    _, rows = store.query(
        REPORTS_SQL,
        {"indicators": indicators, "start": whole.start, "end": whole.end},
        # Our own statement with bound parameters: no read-only guard needed, and skipping the
        # per-call settings saves the backend's SET/restore round trips.
        readonly=False,
    )
    return province_wide(tier_rows(rows), catalogue or default_catalogue())


def fetch_history(store: Store, indicators: list[str], before: Period) -> list[Report]:
    """Province-wide values of ``indicators`` for periods that end before ``before`` ends."""
    _, rows = store.query(
        HISTORY_SQL, {"indicators": indicators, "before": before.end}, readonly=False
    )
    return [Report(str(r[0]), str(r[1]), str(r[2]), str(r[3]), _float(r[4])) for r in rows]
