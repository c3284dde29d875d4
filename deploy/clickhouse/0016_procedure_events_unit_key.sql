-- procedure_events is keyed by its unit too, as dossier_events and feedback_events since 0012.
--
-- ReplacingMergeTree keeps one row per sorting key once parts merge, and 0008's key
-- (province, procedure_code, action, occurred_at, event_id) has no unit: two old units of one new
-- province whose producers derive the event id from the act (`<procedure>:announced`) and act at
-- the same instant were two acts until a merge and one after it. The scoreboard counts each act of
-- each unit (query/fetch/scoreboard.py `_ACTS`), and since 0015 the fold keeps the months it
-- computed before such a merge (scoreboard_monthly): the answer then depended on the merges. The
-- table is small (provinces × procedures × acts): rebuilt whole, as in 0015.
RENAME TABLE procedure_events TO procedure_events_0016;

CREATE TABLE procedure_events AS procedure_events_0016
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, unit_key, procedure_code, action, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000, enable_block_number_column = 1;

INSERT INTO procedure_events SELECT * FROM procedure_events_0016;

DROP TABLE procedure_events_0016;

-- The block numbers begin again: the fold's watermark is the copy's newest block. Rows the fold
-- had not stepped over yet are copied below it, so every act's month is marked here instead (a
-- publication onward, as the fold's step marks it).
INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds)
SELECT 'procedure_events', 'done', 0, max(max_block_number), now64(3), 0, 0
FROM system.parts
WHERE database = currentDatabase() AND table = 'procedure_events' AND active;

INSERT INTO scoreboard_dirty
SELECT DISTINCT province, toStartOfMonth(occurred_at, 'Asia/Ho_Chi_Minh'), action = 'published'
FROM procedure_events;
