"""The reports `GET /v1/quality` checks: every latest province-wide report of one period, and
the earlier values of the same indicators for the outlier test."""

from __future__ import annotations

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.fetch.national import _float
from cchc_aggregate.query.rules.national import Report

PERIOD_SQL = """
SELECT indicator, period, unit_key, province, value
FROM observations FINAL
WHERE period = {period:String}
  AND level = 'all'
  AND agency = ''
  AND value IS NOT NULL
  AND ({province:String} = '' OR province = {province:String})
"""

EARLIER_SQL = """
SELECT indicator, period, unit_key, province, value
FROM observations FINAL
WHERE indicator IN {indicators:Array(String)}
  AND period_type = {period_type:String}
  AND period_end < {start:Date}
  AND level = 'all'
  AND agency = ''
  AND value IS NOT NULL
  AND ({province:String} = '' OR province = {province:String})
"""


def fetch_period(
    store: Store, period: Period, province: str | None
) -> tuple[list[Report], list[Report]]:
    """(the period's reports, the earlier reports of the same indicators and period type)."""
    where = {"period": period.text, "province": province or ""}
    _, rows = store.query(PERIOD_SQL, where, readonly=False)
    current = [Report(str(r[0]), str(r[1]), str(r[2]), str(r[3]), _float(r[4])) for r in rows]
    indicators = sorted({r.indicator for r in current})
    if not indicators:
        return current, []
    _, rows = store.query(
        EARLIER_SQL,
        {
            "indicators": indicators,
            "period_type": period.type.value,
            "start": period.start,
            "province": province or "",
        },
        readonly=False,
    )
    earlier = [Report(str(r[0]), str(r[1]), str(r[2]), str(r[3]), _float(r[4])) for r in rows]
    return current, earlier
