"""Rebuild the service-index counters from the per-dossier state (docs/analysts.md "Service
index").

The materialized views that fill ``service_daily`` and ``dossier_open`` from ``dossier_state`` are
not transactional (:mod:`cchc_aggregate.query.fetch.service_index` describes them): a crash between
writing the state and the counters leaves them apart. :data:`REBUILD_SQL` recomputes
``service_daily`` (and through its view ``service_province_daily``) and ``dossier_open`` from
``dossier_state``. Run it with no dossier inserts in flight.
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
)
"""The statements of :func:`rebuild`, in order."""


def rebuild(client: Client) -> None:
    """Run :data:`REBUILD_SQL` on ``client`` (no dossier inserts may be in flight)."""
    for statement in REBUILD_SQL:
        client.command(statement)
