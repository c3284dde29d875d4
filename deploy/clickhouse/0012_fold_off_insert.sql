-- The dossier and feedback folds off the synchronous insert (issue 19, step 2; docs/architecture.md
-- "The fold", docs/analysts.md "Freshness").
--
-- Until now every insert into dossier_events ran, inside the insert, the service-index chain (0005)
-- and the Bộ chỉ số 766 chain (0009): two key lookups per dossier and nine counter tables, most
-- of the insert's cost (bench/README.md). From here on an insert writes dossier_events (feedback_events) only. The
-- same three transition views read instead a Null table, `dossier_fold_input`
-- (`feedback_fold_input`), which aggregate's background fold
-- (services/aggregate/cchc_aggregate/clickhouse/fold.py) fills, every second or so, with the rows
-- inserted since its last step:
--
--   INSERT INTO dossier_fold_input SELECT * FROM dossier_events
--   WHERE _block_number > <folded through> AND _block_number <= <newest committed block>
--
-- `_block_number` (enable_block_number_column) is the number of the insert that wrote the row; it
-- survives merges, so "rows inserted since the last fold" is a range of it. `fold_log` holds, per
-- source table, the last range begun and the last one done: a fold interrupted mid-way (kill -9)
-- is found at the next start, redone (each state is a min, a max, an OR or an arg-max of its
-- events: folding an event twice changes nothing) and the counters are recomputed from the states
-- (clickhouse/rebuild.py), so nothing is counted twice or lost.
--
-- Run with the services stopped, as every migration: every row stored so far has been folded by
-- the views being replaced, so the watermark starts at the newest block of the rebuilt tables.

DROP VIEW IF EXISTS dossier_transitions_mv;

DROP VIEW IF EXISTS dossier_score_transitions_mv;

DROP VIEW IF EXISTS feedback_transitions_mv;

-- The events are now read back by the fold, after ClickHouse may have merged them: their sorting
-- key is what identifies an event, and it must name the unit. A dossier is (province, unit_key,
-- dossier_id) — ids are unique only within a unit as it was before the 2025 merger — and producers
-- often derive event ids from the dossier's (`<dossier_id>:received`): two old units of one new
-- province sending `15/M0:received` are two events. The tables are rebuilt with the unit in their
-- key, and with `_block_number` stored (the fold's watermark). The views were dropped above, so
-- copying the rows folds nothing a second time.
RENAME TABLE dossier_events TO dossier_events_0011;

CREATE TABLE dossier_events AS dossier_events_0011
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, unit_key, dossier_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000, enable_block_number_column = 1;

INSERT INTO dossier_events SELECT * FROM dossier_events_0011;

DROP TABLE dossier_events_0011;

RENAME TABLE feedback_events TO feedback_events_0011;

CREATE TABLE feedback_events AS feedback_events_0011
ENGINE = ReplacingMergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (province, unit_key, feedback_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000, enable_block_number_column = 1;

INSERT INTO feedback_events SELECT * FROM feedback_events_0011;

DROP TABLE feedback_events_0011;

-- Per source table and phase ('begin' | 'done') the latest fold step. A ReplacingMergeTree keeps
-- the latest row of each; readers take argMax(…, logged_at), merged or not.
CREATE TABLE IF NOT EXISTS fold_log
(
    source    LowCardinality(String) COMMENT 'dossier_events | feedback_events',
    phase     LowCardinality(String) COMMENT 'begin: the step started; done: its rows are folded',
    lo        UInt64 COMMENT 'the step folds the rows with _block_number > lo …',
    hi        UInt64 COMMENT '… and <= hi',
    cutoff    DateTime64(3, 'UTC') COMMENT 'when the step read hi: every row inserted before is in it',
    rows      UInt64 COMMENT 'source rows folded by the step (done)',
    seconds   Float64 COMMENT 'how long the step took (done)',
    logged_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(logged_at)
ORDER BY (source, phase)
COMMENT 'Fold watermarks: dossier and feedback events folded into their states and counters';

INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds)
SELECT 'dossier_events', 'done', 0, max(max_block_number), now64(3), 0, 0
FROM system.parts
WHERE database = currentDatabase() AND table = 'dossier_events' AND active;

INSERT INTO fold_log (source, phase, lo, hi, cutoff, rows, seconds)
SELECT 'feedback_events', 'done', 0, max(max_block_number), now64(3), 0, 0
FROM system.parts
WHERE database = currentDatabase() AND table = 'feedback_events' AND active;

-- What the fold inserts: the same columns as the events (Null: nothing is stored; it only feeds
-- the views below).
CREATE TABLE IF NOT EXISTS dossier_fold_input AS dossier_events ENGINE = Null;

CREATE TABLE IF NOT EXISTS feedback_fold_input AS feedback_events ENGINE = Null;

-- The three transition views, exactly as in 0006 and 0009 but for the table they read. Inside a
-- materialized view the table it reads is the inserted block: here one fold step.

CREATE MATERIALIZED VIEW IF NOT EXISTS dossier_transitions_mv TO dossier_transitions AS
WITH b AS
(
    SELECT
        province,
        unit_key,
        dossier_id,
        concat(province, '|', unit_key, '|', dossier_id) AS dossier_key,
        countIf(status = 'received') > 0 AS b_has_received,
        minIf(occurred_at, status = 'received') AS b_received_at,
        argMinIf(tuple(due_at, channel, online_mode, procedure_code), tuple(occurred_at, event_id), status = 'received') AS b_receipt,
        max(procedure_code) AS b_procedure_code,
        max(commune_code) AS b_commune_code,
        countIf(status = 'resolved') > 0 AS b_has_resolved,
        minIf(occurred_at, status = 'resolved') AS b_resolved_at,
        countIf(status = 'rejected') > 0 AS b_has_rejected,
        minIf(occurred_at, status = 'rejected') AS b_rejected_at,
        countIf(status = 'withdrawn') > 0 AS b_has_withdrawn,
        minIf(occurred_at, status = 'withdrawn') AS b_withdrawn_at,
        count() AS b_events
    FROM dossier_fold_input
    GROUP BY province, unit_key, dossier_id
)
SELECT
    b.dossier_key AS dossier_key,
    b.province AS province,
    b.unit_key AS unit_key,
    b.dossier_id AS dossier_id,
    ifNull(s.procedure_code, '') AS o_procedure_code,
    ifNull(s.commune_code, '') AS o_commune_code,
    s.received_at AS o_received_at,
    s.due_at AS o_due_at,
    ifNull(s.channel, '') AS o_channel,
    s.resolved_at AS o_resolved_at,
    s.received_at IS NOT NULL AND s.resolved_at IS NULL AND s.rejected_at IS NULL AND s.withdrawn_at IS NULL AS o_open,
    b_has_received AND (s.received_at IS NULL OR b_received_at < s.received_at) AS take_receipt,
    if(take_receipt, b_receipt.4, if(o_procedure_code != '', o_procedure_code, b_procedure_code)) AS procedure_code,
    greatest(o_commune_code, b_commune_code) AS commune_code,
    if(take_receipt, b_received_at, s.received_at) AS received_at,
    if(take_receipt, b_receipt.1, s.due_at) AS due_at,
    if(take_receipt, b_receipt.2, o_channel) AS channel,
    if(take_receipt, b_receipt.3, ifNull(s.online_mode, '')) AS online_mode,
    if(b_has_resolved AND (s.resolved_at IS NULL OR b_resolved_at < s.resolved_at), b_resolved_at, s.resolved_at) AS resolved_at,
    if(b_has_rejected AND (s.rejected_at IS NULL OR b_rejected_at < s.rejected_at), b_rejected_at, s.rejected_at) AS rejected_at,
    if(b_has_withdrawn AND (s.withdrawn_at IS NULL OR b_withdrawn_at < s.withdrawn_at), b_withdrawn_at, s.withdrawn_at) AS withdrawn_at,
    toUInt32(ifNull(s.events_seen, 0) + b_events) AS events_seen
FROM b
LEFT JOIN dossier_state AS s ON s.dossier_key = b.dossier_key
SETTINGS join_algorithm = 'direct', join_use_nulls = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS dossier_score_transitions_mv TO dossier_score_transitions AS
WITH b AS
(
    SELECT
        concat(province, '|', unit_key, '|', dossier_id) AS dossier_key,
        province,
        unit_key,
        dossier_id,
        countIf(status = 'received') > 0 AS b_has_received,
        minIf(occurred_at, status = 'received') AS b_received_at,
        argMinIf(tuple(channel, online_mode, procedure_code), tuple(occurred_at, event_id), status = 'received') AS b_receipt,
        max(procedure_code) AS b_procedure_code,
        max(commune_code) AS b_commune_code,
        countIf(status = 'resolved') > 0 AS b_has_resolved,
        minIf(occurred_at, status = 'resolved') AS b_resolved_at,
        max(ifNull(fee_required, false)) AS b_fee_required,
        max(ifNull(synced_national, false)) AS b_synced_national,
        max(ifNull(paid_online, false)) AS b_paid_online,
        max(ifNull(digitized, false)) AS b_digitized,
        max(ifNull(reused_data, false)) AS b_reused_data,
        max(ifNull(result_electronic, false)) AS b_result_electronic,
        countIf(status = 'rated' AND satisfied IS NOT NULL) > 0 AS b_has_rating,
        argMaxIf(tuple(occurred_at, event_id, satisfied), tuple(occurred_at, event_id), status = 'rated' AND satisfied IS NOT NULL) AS b_rating,
        count() AS b_events
    FROM dossier_fold_input
    GROUP BY province, unit_key, dossier_id
),
f AS
(
    SELECT
        b.dossier_key AS dossier_key,
        b.province AS province,
        b.unit_key AS unit_key,
        b.dossier_id AS dossier_id,
        ifNull(s.procedure_code, '') AS o_procedure_code,
        ifNull(s.commune_code, '') AS o_commune_code,
        s.received_at AS o_received_at,
        ifNull(s.channel, '') AS o_channel,
        ifNull(s.online_mode, '') AS o_online_mode,
        s.resolved_at AS o_resolved_at,
        ifNull(s.fee_required, false) AS o_fee_required,
        ifNull(s.synced_national, false) AS o_synced_national,
        ifNull(s.paid_online, false) AS o_paid_online,
        ifNull(s.digitized, false) AS o_digitized,
        ifNull(s.reused_data, false) AS o_reused_data,
        ifNull(s.result_electronic, false) AS o_result_electronic,
        s.rated_at AS o_rated_at,
        ifNull(s.rating_event_id, '') AS o_rating_event_id,
        s.satisfied AS o_satisfied,
        o_channel = 'online' AND o_online_mode = 'full' AS o_full_online,
        b_has_received AND (s.received_at IS NULL OR b_received_at < s.received_at) AS take_receipt,
        if(take_receipt, b_receipt.3, if(o_procedure_code != '', o_procedure_code, b_procedure_code)) AS procedure_code,
        greatest(o_commune_code, b_commune_code) AS commune_code,
        if(take_receipt, b_received_at, s.received_at) AS received_at,
        if(take_receipt, b_receipt.1, o_channel) AS channel,
        if(take_receipt, b_receipt.2, o_online_mode) AS online_mode,
        if(b_has_resolved AND (s.resolved_at IS NULL OR b_resolved_at < s.resolved_at), b_resolved_at, s.resolved_at) AS resolved_at,
        o_fee_required OR b_fee_required AS fee_required,
        o_synced_national OR b_synced_national AS synced_national,
        o_paid_online OR b_paid_online AS paid_online,
        o_digitized OR b_digitized AS digitized,
        o_reused_data OR b_reused_data AS reused_data,
        o_result_electronic OR b_result_electronic AS result_electronic,
        b_has_rating AND (s.rated_at IS NULL OR tuple(b_rating.1, b_rating.2) > tuple(assumeNotNull(s.rated_at), o_rating_event_id)) AS take_rating,
        if(take_rating, b_rating.1, s.rated_at) AS rated_at,
        if(take_rating, b_rating.2, o_rating_event_id) AS rating_event_id,
        if(take_rating, b_rating.3, s.satisfied) AS satisfied,
        toUInt32(ifNull(s.events_seen, 0) + b_events) AS events_seen
    FROM b
    LEFT JOIN dossier_scores AS s ON s.dossier_key = b.dossier_key
    SETTINGS join_algorithm = 'direct', join_use_nulls = 1
)
SELECT
    dossier_key, province, unit_key, dossier_id, procedure_code, commune_code, received_at,
    channel, online_mode, resolved_at, fee_required, synced_national, paid_online, digitized,
    reused_data, result_electronic, rated_at, rating_event_id, satisfied, events_seen,
    o_procedure_code, o_received_at, o_full_online,
    arrayConcat(
        if(o_received_at IS NULL, [],
           [(toDate(o_received_at, 'Asia/Ho_Chi_Minh'), o_procedure_code, o_commune_code,
             toInt64(1), toInt64(o_synced_national), toInt64(o_fee_required),
             toInt64(o_fee_required AND o_paid_online), toInt64(o_digitized), toInt64(o_reused_data),
             toInt64(o_full_online), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0))]),
        if(o_resolved_at IS NULL, [],
           [(toDate(o_resolved_at, 'Asia/Ho_Chi_Minh'), o_procedure_code, o_commune_code,
             toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
             toInt64(1), toInt64(o_result_electronic), toInt64(ifNull(o_satisfied, true) = false),
             toInt64(o_received_at IS NOT NULL),
             if(o_received_at IS NULL, toInt64(0), greatest(toInt64(0), dateDiff('second', assumeNotNull(o_received_at), assumeNotNull(o_resolved_at)))))])
    ) AS old_rows,
    arrayConcat(
        if(received_at IS NULL, [],
           [(toDate(received_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
             toInt64(1), toInt64(synced_national), toInt64(fee_required),
             toInt64(fee_required AND paid_online), toInt64(digitized), toInt64(reused_data),
             toInt64(channel = 'online' AND online_mode = 'full'), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0))]),
        if(resolved_at IS NULL, [],
           [(toDate(resolved_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
             toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
             toInt64(1), toInt64(result_electronic), toInt64(ifNull(satisfied, true) = false),
             toInt64(received_at IS NOT NULL),
             if(received_at IS NULL, toInt64(0), greatest(toInt64(0), dateDiff('second', assumeNotNull(received_at), assumeNotNull(resolved_at)))))])
    ) AS new_rows
FROM f;

CREATE MATERIALIZED VIEW IF NOT EXISTS feedback_transitions_mv TO feedback_transitions AS
WITH b AS
(
    SELECT
        concat(province, '|', unit_key, '|', feedback_id) AS feedback_key,
        province,
        unit_key,
        feedback_id,
        countIf(status = 'received') > 0 AS b_has_received,
        minIf(occurred_at, status = 'received') AS b_received_at,
        argMinIf(due_at, tuple(occurred_at, event_id), status = 'received') AS b_due_at,
        countIf(status = 'resolved') > 0 AS b_has_resolved,
        minIf(occurred_at, status = 'resolved') AS b_resolved_at,
        countIf(status = 'resolved' AND satisfied IS NOT NULL) > 0 AS b_has_rating,
        argMaxIf(tuple(occurred_at, event_id, satisfied), tuple(occurred_at, event_id), status = 'resolved' AND satisfied IS NOT NULL) AS b_rating,
        count() AS b_events
    FROM feedback_fold_input
    GROUP BY province, unit_key, feedback_id
),
f AS
(
    SELECT
        b.feedback_key AS feedback_key,
        b.province AS province,
        b.unit_key AS unit_key,
        b.feedback_id AS feedback_id,
        s.due_at AS o_due_at,
        s.resolved_at AS o_resolved_at,
        s.satisfied AS o_satisfied,
        ifNull(s.rating_event_id, '') AS o_rating_event_id,
        b_has_received AND (s.received_at IS NULL OR b_received_at < s.received_at) AS take_receipt,
        if(take_receipt, b_received_at, s.received_at) AS received_at,
        if(take_receipt, b_due_at, s.due_at) AS due_at,
        if(b_has_resolved AND (s.resolved_at IS NULL OR b_resolved_at < s.resolved_at), b_resolved_at, s.resolved_at) AS resolved_at,
        b_has_rating AND (s.rated_at IS NULL OR tuple(b_rating.1, b_rating.2) > tuple(assumeNotNull(s.rated_at), o_rating_event_id)) AS take_rating,
        if(take_rating, b_rating.1, s.rated_at) AS rated_at,
        if(take_rating, b_rating.2, o_rating_event_id) AS rating_event_id,
        if(take_rating, b_rating.3, s.satisfied) AS satisfied,
        toUInt32(ifNull(s.events_seen, 0) + b_events) AS events_seen
    FROM b
    LEFT JOIN feedback_state AS s ON s.feedback_key = b.feedback_key
    SETTINGS join_algorithm = 'direct', join_use_nulls = 1
)
SELECT
    feedback_key, province, unit_key, feedback_id, received_at, due_at, resolved_at, rated_at,
    rating_event_id, satisfied, events_seen,
    if(o_resolved_at IS NULL, [],
       [(toDate(o_resolved_at, 'Asia/Ho_Chi_Minh'), toInt64(1), toInt64(o_due_at IS NOT NULL),
         toInt64(o_due_at IS NOT NULL AND o_resolved_at <= o_due_at),
         toInt64(o_due_at IS NOT NULL AND o_resolved_at <= o_due_at AND ifNull(o_satisfied, true)))]) AS old_rows,
    if(resolved_at IS NULL, [],
       [(toDate(resolved_at, 'Asia/Ho_Chi_Minh'), toInt64(1), toInt64(due_at IS NOT NULL),
         toInt64(due_at IS NOT NULL AND resolved_at <= due_at),
         toInt64(due_at IS NOT NULL AND resolved_at <= due_at AND ifNull(satisfied, true)))]) AS new_rows
FROM f;
