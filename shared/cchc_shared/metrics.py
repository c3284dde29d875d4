"""The closed list of metric names every service exports (`cchc_` prefix, base units).

Dashboards, alert rules and tests refer to these names only; adding a metric means adding it here.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

MetricName = Literal[
    "cchc_messages_consumed_total",
    "cchc_messages_accepted_total",
    "cchc_messages_rejected_total",
    "cchc_messages_dead_lettered_total",
    "cchc_messages_produced_total",
    "cchc_batch_size_messages",
    "cchc_batch_duration_seconds",
    "cchc_consumer_lag_messages",
    "cchc_push_to_queryable_seconds",
    "cchc_clickhouse_insert_rows_total",
    "cchc_clickhouse_insert_errors_total",
    "cchc_clickhouse_insert_duration_seconds",
    "cchc_dlq_limit_paused",
    "cchc_dlq_limit_pauses_total",
    "cchc_service_restarts_total",
    "cchc_service_ready",
    "cchc_offset_gaps_total",
    "cchc_offset_gap_records_total",
    "cchc_province_last_event_timestamp_seconds",
    "cchc_province_quiet_threshold_seconds",
    "cchc_fold_lag_seconds",
    "cchc_fold_rows_total",
]

METRIC_NAMES: Final[frozenset[str]] = frozenset(get_args(MetricName))
