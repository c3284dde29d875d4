-- Bộ chỉ số 766 inputs (docs/contract.md "Raw events", docs/analysts.md "Bộ chỉ số 766"):
-- the dossier event's later optional fields, and the feedback and procedure events.
-- Optional text fields are '' when absent (see 0001); booleans stay NULL when absent.

-- Added later to cchc.dossier_event/1, all optional: NULL for every event stored before.
ALTER TABLE dossier_events
    ADD COLUMN IF NOT EXISTS fee_required    Nullable(Bool) AFTER result_electronic,
    ADD COLUMN IF NOT EXISTS synced_national Nullable(Bool) AFTER fee_required,
    ADD COLUMN IF NOT EXISTS reused_data     Nullable(Bool) AFTER synced_national,
    ADD COLUMN IF NOT EXISTS satisfied       Nullable(Bool) COMMENT 'the citizen''s rating, status rated only' AFTER reused_data;

-- Feedback events (cchc.feedback_event/1), deduplicated by event_id at merge / FINAL.
CREATE TABLE IF NOT EXISTS feedback_events
(
    province       LowCardinality(String) COMMENT 'current (2025) province code',
    unit_key       LowCardinality(String),
    feedback_id    String,
    event_id       String,
    status         LowCardinality(String) COMMENT 'received | resolved',
    occurred_at    DateTime64(3, 'UTC'),
    due_at         Nullable(DateTime64(3, 'UTC')) COMMENT 'answer deadline, with received',
    satisfied      Nullable(Bool) COMMENT 'the sender''s reaction, with resolved',
    procedure_code LowCardinality(String),
    agency         String,
    kafka_ts       DateTime64(3, 'UTC'),
    inserted_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, feedback_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- Procedure announcements and publications (cchc.procedure_event/1), deduplicated by event_id.
-- Few rows (provinces × procedures × a few acts a year): read directly, deduplicated again on
-- the act itself (province, unit, procedure, action, occurred_at) so that an act re-sent under
-- another event id counts once (services/aggregate/cchc_aggregate/query/fetch/scoreboard.py).
CREATE TABLE IF NOT EXISTS procedure_events
(
    province       LowCardinality(String) COMMENT 'current (2025) province code',
    unit_key       LowCardinality(String),
    procedure_code LowCardinality(String),
    event_id       String,
    action         LowCardinality(String) COMMENT 'announced | published',
    occurred_at    DateTime64(3, 'UTC') COMMENT 'when it was done',
    due_at         DateTime64(3, 'UTC') COMMENT 'the legal deadline for doing it',
    complete       Nullable(Bool) COMMENT 'published: every required component is public',
    online         LowCardinality(String) COMMENT 'published: none | partial | full, from then on',
    kafka_ts       DateTime64(3, 'UTC'),
    inserted_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, procedure_code, action, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
