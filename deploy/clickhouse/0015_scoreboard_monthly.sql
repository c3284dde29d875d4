-- The scoreboard's answer per province and month, kept by the fold (docs/analysts.md "Bộ chỉ số
-- 766"; docs/architecture.md "The fold"; the reading side:
-- services/aggregate/cchc_aggregate/query/fetch/scoreboard.py; bench/README.md "Dossier scale").
--
-- Every scoreboard counter is a sum over days, so the counters of a month, quarter, half or year
-- are the sums of its months'. `scoreboard_monthly` holds them per province and month; a question
-- reads that one small table (34 provinces × the months asked) instead of five parts over the
-- daily tables, the procedure acts and the ASOF join of criterion o1.
--
-- What the fold changes marks its (province, month) dirty; after each fold step the fold
-- recomputes the dirty months from the daily tables with the very query a question used to run
-- (cchc_aggregate.query.fetch.scoreboard.counters_sql), writes them here and clears the marks:
--
-- dossier_transitions ───────┐
-- dossier_score_transitions ─┼─▶ scoreboard_dirty_*_mv ─▶ scoreboard_dirty
-- feedback_transitions ──────┘                              ▲
-- procedure_events (new blocks, read by the fold) ──────────┘ (a publication: its month onward)
--
-- * a dossier: the months of its old and new receipt and resolution (its counters move between
--   them: a late rating changes its resolution month, an earlier receipt its receipt month);
-- * a feedback: the months of its old and new resolution;
-- * a procedure act: its month; a publication also every later month of its province, since it
--   is the offer of that province's later receipts of the procedure (criterion o1).
--
-- Only the fold writes the marks (its own inserts fire the views) and only the fold clears them,
-- after the months are written: a crash in between leaves them marked, and they are recomputed
-- (the same answer) at the next step. On a cluster there is no fold: the marks are merged away by
-- their key and questions read the daily tables (docs/cluster.md).

-- procedure_events gains `_block_number` (the fold's watermark, as dossier_events in 0012). The
-- table is small (provinces × procedures × acts): rebuilt whole.
RENAME TABLE procedure_events TO procedure_events_0015;

CREATE TABLE procedure_events AS procedure_events_0015
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, procedure_code, action, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000, enable_block_number_column = 1;

INSERT INTO procedure_events SELECT * FROM procedure_events_0015;

DROP TABLE procedure_events_0015;

INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds)
SELECT 'procedure_events', 'done', 0, max(max_block_number), now64(3), 0, 0
FROM system.parts
WHERE database = currentDatabase() AND table = 'procedure_events' AND active;

CREATE TABLE IF NOT EXISTS scoreboard_dirty
(
    province LowCardinality(String),
    month    Date COMMENT 'first day of the Vietnam calendar month',
    onward   Bool COMMENT 'this month and every later one of the province (a publication)'
)
ENGINE = ReplacingMergeTree
ORDER BY (province, month, onward)
COMMENT 'Province-months whose scoreboard counters the fold has changed and not yet recomputed';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_dirty_dossiers_mv TO scoreboard_dirty AS
SELECT DISTINCT province, toStartOfMonth(assumeNotNull(at), 'Asia/Ho_Chi_Minh') AS month, false AS onward
FROM dossier_transitions
ARRAY JOIN [o_resolved_at, resolved_at] AS at
WHERE at IS NOT NULL;

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_dirty_scores_mv TO scoreboard_dirty AS
SELECT DISTINCT province, toStartOfMonth(r.1) AS month, false AS onward
FROM dossier_score_transitions
ARRAY JOIN arrayConcat(old_rows, new_rows) AS r;

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_dirty_feedback_mv TO scoreboard_dirty AS
SELECT DISTINCT province, toStartOfMonth(r.1) AS month, false AS onward
FROM feedback_transitions
ARRAY JOIN arrayConcat(old_rows, new_rows) AS r;

CREATE TABLE IF NOT EXISTS scoreboard_monthly
(
    key          String COMMENT 'province|month',
    province     LowCardinality(String),
    month        Date COMMENT 'first day of the Vietnam calendar month',
    counters     Map(String, Int64) COMMENT 'every scoreboard counter of the province and month (0: absent)',
    refreshed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY key
COMMENT 'Bộ chỉ số 766 counters per province and month, recomputed by the fold from the daily tables';

-- Everything there is now: every province-month with any counter, recomputed at the first step.
INSERT INTO scoreboard_dirty
SELECT DISTINCT province, toStartOfMonth(day), false
FROM
(
    SELECT province, day FROM scoreboard_province_daily
    UNION ALL SELECT province, day FROM service_province_daily
    UNION ALL SELECT province, day FROM feedback_daily
    UNION ALL SELECT province, toDate(occurred_at, 'Asia/Ho_Chi_Minh') FROM procedure_events
);
