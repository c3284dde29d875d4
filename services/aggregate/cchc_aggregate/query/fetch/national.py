"""The reports a national figure is computed from (:mod:`cchc_aggregate.query.rules.national`).

One query per national figure: the latest province-wide report of each unit for the
indicator(s) and every period inside the one asked (its finer parts too), read with FINAL so
revisions and duplicates are resolved exactly as in ``v_observations_latest``.
"""

from __future__ import annotations

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.rules.national import Report

# The ORDER BY key starts (indicator, period, …): the IN filters use the primary index.
REPORTS_SQL = """
SELECT indicator, period, unit_key, province, value, numerator, denominator
FROM observations FINAL
WHERE indicator IN {indicators:Array(String)}
  AND period_start >= {start:Date}
  AND period_end <= {end:Date}
  AND level = 'all'
  AND agency = ''
"""


def fetch_reports(store: Store, indicators: list[str], whole: Period) -> list[Report]:
    """The latest province-wide reports of ``indicators`` for periods inside ``whole``."""
    _, rows = store.query(
        REPORTS_SQL,
        {"indicators": indicators, "start": whole.start, "end": whole.end},
        # Our own statement with bound parameters: no read-only guard needed, and skipping the
        # per-call settings saves the backend's SET/restore round trips.
        readonly=False,
    )
    return [
        Report(
            indicator=str(r[0]),
            period=str(r[1]),
            unit_key=str(r[2]),
            province=str(r[3]),
            value=float(r[4]),
            numerator=None if r[5] is None else float(r[5]),
            denominator=None if r[6] is None else float(r[6]),
        )
        for r in rows
    ]
