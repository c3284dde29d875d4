"""The first arrival of each unit's province-wide reports for a period (`GET /v1/reporting`).

Every version of a report counts: the first one to reach the pipeline — the Kafka record's
timestamp — is when the province sent it, whatever revisions followed. ``observations`` keeps
only the latest version, so the first receipt is kept apart, in ``report_receipts``
(deploy/clickhouse/0011).
"""

from __future__ import annotations

import datetime as dt

from cchc_shared.periods import Period

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.rules.reporting import Receipt

RECEIPTS_SQL = """
SELECT unit_key, indicator, min(received_at)
FROM report_receipts
WHERE period = {period:String}
  AND indicator IN {indicators:Array(String)}
  AND level = 'all'
  AND agency = ''
GROUP BY unit_key, indicator
"""


def _utc(value: dt.datetime) -> dt.datetime:
    # DateTime64(3, 'UTC'): the client may hand it back naive.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def fetch_receipts(store: Store, period: Period, indicators: list[str]) -> list[Receipt]:
    """One :class:`Receipt` per unit and required indicator it reported for ``period``."""
    _, rows = store.query(
        RECEIPTS_SQL, {"period": period.text, "indicators": indicators}, readonly=False
    )
    return [Receipt(str(r[0]), str(r[1]), _utc(r[2])) for r in rows]
