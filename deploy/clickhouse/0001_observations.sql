-- Canonical indicator observations (one row per report; see README "Analysts").
-- ReplacingMergeTree keyed by the natural key: a higher version — revision first, then
-- reported_at — replaces a lower one whatever order they arrive in; an exact duplicate has the
-- same key and version and collapses to one row. Read with FINAL (or argMax by version).
-- Absent strings are '' rather than Nullable(String): cheaper to store and to filter.
-- non_replicated_deduplication_window: a batch retried with the same insert_deduplication_token
-- (derived from its Kafka offsets) is dropped instead of inserted twice. (0018 turns this off on
-- a single server: a failed insert could leave its token without its rows.)
CREATE TABLE IF NOT EXISTS observations
(
    indicator      LowCardinality(String),
    period         LowCardinality(String),
    period_type    LowCardinality(String),
    period_start   Date,
    period_end     Date,
    ytd            Bool,
    unit_key       LowCardinality(String) COMMENT 'historical unit, <era>:<code>, e.g. 2004:10',
    unit_code      LowCardinality(String),
    unit_era       LowCardinality(String) COMMENT '2004 (63 units) or 2025 (34 units)',
    province       LowCardinality(String) COMMENT 'current (2025) province code',
    level          LowCardinality(String),
    agency         String,
    value          Float64 COMMENT 'in the indicator canonical unit',
    numerator      Nullable(Float64),
    denominator    Nullable(Float64),
    unit           LowCardinality(String),
    status         LowCardinality(String),
    revision       UInt32,
    reported_at    DateTime64(3, 'UTC'),
    version        UInt64 COMMENT 'revision * 1e13 + reported_at in ms',
    event_id       String,
    rank           Nullable(UInt16),
    rank_of        Nullable(UInt16),
    source_title   String COMMENT 'empty when not given',
    source_url     String,
    kafka_ts       DateTime64(3, 'UTC') COMMENT 'when the province pushed it',
    inserted_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (indicator, period, unit_key, level, agency)
SETTINGS non_replicated_deduplication_window = 10000;
