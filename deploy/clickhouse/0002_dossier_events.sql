-- Dossier events (cchc.dossier_event/1), deduplicated by event_id at merge / FINAL.
-- Optional text fields are '' when absent (see 0001).
CREATE TABLE IF NOT EXISTS dossier_events
(
    province          LowCardinality(String) COMMENT 'current (2025) province code',
    unit_key          LowCardinality(String),
    dossier_id        String,
    event_id          String,
    procedure_code    LowCardinality(String),
    status            LowCardinality(String),
    occurred_at       DateTime64(3, 'UTC'),
    due_at            Nullable(DateTime64(3, 'UTC')),
    channel           LowCardinality(String),
    online_mode       LowCardinality(String),
    level             LowCardinality(String),
    commune_code      LowCardinality(String),
    agency            String,
    paid_online       Nullable(Bool),
    digitized         Nullable(Bool),
    result_electronic Nullable(Bool),
    kafka_ts          DateTime64(3, 'UTC'),
    inserted_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (province, dossier_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
