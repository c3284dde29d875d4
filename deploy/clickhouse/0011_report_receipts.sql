-- When each report first reached the pipeline (docs/analysts.md "Reporting"): the Kafka
-- timestamp of the first version of a province's figure for an indicator, period, level and
-- agency. observations cannot tell: it keeps only the latest version (ReplacingMergeTree
-- collapses a revision onto the first one, already within one insert), so a province that sent
-- on time and revised after the deadline would look late. The view sees every inserted row.
-- One row per version received (indicator reports are few; a plain MergeTree, an engine the
-- production writer may create); readers take min(), so retried and duplicate inserts are
-- harmless.
CREATE TABLE IF NOT EXISTS report_receipts
(
    period            LowCardinality(String),
    unit_key          LowCardinality(String),
    indicator         LowCardinality(String),
    level             LowCardinality(String),
    agency            String,
    received_at       DateTime64(3, 'UTC') COMMENT 'Kafka timestamp of one version'
)
ENGINE = MergeTree
ORDER BY (period, unit_key, indicator, level, agency)
COMMENT 'Kafka timestamp of every version of every report; min() is its first receipt: GET /v1/reporting';

CREATE MATERIALIZED VIEW IF NOT EXISTS report_receipts_mv TO report_receipts AS
SELECT period, unit_key, indicator, level, agency, kafka_ts AS received_at
FROM observations;

-- Reports stored before this migration: the earliest version still held.
INSERT INTO report_receipts
SELECT period, unit_key, indicator, level, agency, min(kafka_ts)
FROM observations
GROUP BY period, unit_key, indicator, level, agency;
