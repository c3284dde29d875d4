"""Rebuild the service-index and scoreboard counters from the per-dossier (per-feedback) state
(docs/analysts.md "Service index", "Bộ chỉ số 766").

The materialized views that fill ``service_daily`` and ``dossier_open`` from ``dossier_state`` are
not transactional (:mod:`cchc_aggregate.query.fetch.service_index` describes them): a crash between
writing the state and the counters leaves them apart. :data:`REBUILD_SQL` recomputes
``service_daily`` (and through its view ``service_province_daily``) and ``dossier_open`` from
``dossier_state``; and the Bộ chỉ số 766 counters (0009: ``scoreboard_daily`` with its views
``scoreboard_province_daily`` and ``scoreboard_procedure_daily``, 0014's
``scoreboard_receipt_days``, ``feedback_daily``) from ``dossier_scores`` and ``feedback_state``,
and marks every province-month dirty for the next fold step to recompute ``scoreboard_monthly``
(0015).
Since 0012 the views run in the background fold (:mod:`cchc_aggregate.clickhouse.fold`), which
calls this itself when it finds a step interrupted mid-way; by hand, run it with no fold running
(aggregate stopped, or every instance at ``CCHC_AGGREGATE_FOLD=false``: the fold clears the
scoreboard's marks after its refresh, and would clear these unread); inserts may go on, they no
longer touch the states or the counters.
"""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

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
    "TRUNCATE TABLE scoreboard_daily",
    "TRUNCATE TABLE scoreboard_province_daily",
    "TRUNCATE TABLE scoreboard_procedure_daily",
    "TRUNCATE TABLE scoreboard_receipt_days",
    "TRUNCATE TABLE feedback_daily",
    # As the backfill at the end of deploy/clickhouse/0009_scoreboard_state.sql.
    """INSERT INTO scoreboard_daily
SELECT province, r.1, r.2, r.3, sum(r.4), sum(r.5), sum(r.6), sum(r.7), sum(r.8), sum(r.9),
       sum(r.10), sum(r.11), sum(r.12), sum(r.13), sum(r.14), sum(r.15)
FROM
(
    SELECT
        province,
        arrayJoin(arrayConcat(
            if(received_at IS NULL, [],
               [(toDate(received_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
                 toInt64(1), toInt64(synced_national), toInt64(fee_required),
                 toInt64(fee_required AND paid_online), toInt64(digitized), toInt64(reused_data),
                 toInt64(channel = 'online' AND online_mode = 'full'), toInt64(0), toInt64(0),
                 toInt64(0), toInt64(0), toInt64(0))]),
            if(resolved_at IS NULL, [],
               [(toDate(resolved_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
                 toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
                 toInt64(0), toInt64(1), toInt64(result_electronic),
                 toInt64(ifNull(satisfied, true) = false), toInt64(received_at IS NOT NULL),
                 if(received_at IS NULL, toInt64(0),
                    greatest(toInt64(0), dateDiff('second', assumeNotNull(received_at),
                                                  assumeNotNull(resolved_at)))))])
        )) AS r
    FROM dossier_scores
)
GROUP BY province, r.1, r.2, r.3""",
    # As the backfill of deploy/clickhouse/0014_scoreboard_receipt_days.sql.
    """INSERT INTO scoreboard_receipt_days
SELECT concat(province, '|', procedure_code, '|', toString(day)), province, procedure_code, day,
       sumMap(map(toUnixTimestamp64Milli(at), toInt64(1))),
       mapFilter((k, v) -> v != 0, sumMap(map(toUnixTimestamp64Milli(at), toInt64(full))))
FROM
(
    SELECT province, procedure_code, assumeNotNull(received_at) AS at,
           toDate(at, 'Asia/Ho_Chi_Minh') AS day,
           channel = 'online' AND online_mode = 'full' AS full
    FROM dossier_scores
    WHERE received_at IS NOT NULL
)
GROUP BY province, procedure_code, day""",
    """INSERT INTO feedback_daily
SELECT province, toDate(assumeNotNull(resolved_at), 'Asia/Ho_Chi_Minh'), count(),
       countIf(due_at IS NOT NULL),
       countIf(due_at IS NOT NULL AND resolved_at <= due_at),
       countIf(due_at IS NOT NULL AND resolved_at <= due_at AND ifNull(satisfied, true))
FROM feedback_state
WHERE resolved_at IS NOT NULL
GROUP BY ALL""",
    # Every province-month with a counter, or with a row already, is recomputed by the next
    # fold step into scoreboard_monthly (0015).
    """INSERT INTO scoreboard_dirty
SELECT DISTINCT province, month, false
FROM
(
    SELECT province, toStartOfMonth(day) AS month FROM scoreboard_province_daily
    UNION ALL SELECT province, toStartOfMonth(day) FROM service_province_daily
    UNION ALL SELECT province, toStartOfMonth(day) FROM feedback_daily
    UNION ALL SELECT province, toStartOfMonth(occurred_at, 'Asia/Ho_Chi_Minh') FROM procedure_events
    UNION ALL SELECT province, month FROM scoreboard_monthly
)""",
)
"""The statements of :func:`rebuild`, in order."""


def rebuild(client: Client) -> None:
    """Run :data:`REBUILD_SQL` on ``client`` (no fold step may be in flight)."""
    for statement in REBUILD_SQL:
        client.command(statement)
