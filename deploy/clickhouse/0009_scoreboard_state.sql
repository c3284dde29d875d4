-- Bộ chỉ số 766 state and counters (docs/analysts.md "Bộ chỉ số 766"; the reading side:
-- services/aggregate/cchc_aggregate/query/fetch/scoreboard.py).
--
-- dossier_events ─▶ dossier_score_transitions_mv ─▶ dossier_score_transitions (Null)
--                                                     ├─▶ dossier_scores_mv ─▶ dossier_scores
--                                                     ├─▶ scoreboard_daily_mv ─▶ scoreboard_daily
--                                                     │     ├─▶ scoreboard_province_daily_mv ─▶ scoreboard_province_daily
--                                                     │     └─▶ scoreboard_procedure_daily_mv ─▶ scoreboard_procedure_daily
--                                                     └─▶ scoreboard_receipts_mv ─▶ scoreboard_receipts
-- feedback_events ─▶ feedback_transitions_mv ─▶ feedback_transitions (Null)
--                                                 ├─▶ feedback_state_mv ─▶ feedback_state
--                                                 └─▶ feedback_daily_mv ─▶ feedback_daily
--
-- The same design as the service index (0005): each insert block is folded per dossier (per
-- feedback) into its stored state by a direct key lookup, and what the change does to the
-- counters is written as signed deltas (old contribution −1, new +1, only where they differ).
-- Every fold is order-free and idempotent: the earliest receipt and resolution (min), the flags
-- (OR: max), the latest rating (max of occurred_at, then event_id). Duplicates, re-sent events
-- and late ratings change the state once, so the counters never count twice; a rating that
-- arrives after its period closed moves the dossier's contribution on its resolution day.
--
-- A separate state from dossier_state (0005) on purpose: the fold's SELECT reads only
-- `dossier_events` (the block) and `dossier_scores`, so it can run from a background refresh
-- over any set of new events as well as from the insert. The backfill at the end of this file
-- is that same fold over every stored event.

-- One row per dossier (province|unit_key|dossier_id): what the scoreboard needs of it.
CREATE TABLE IF NOT EXISTS dossier_scores
(
    dossier_key       String COMMENT 'province|unit_key|dossier_id',
    province          LowCardinality(String),
    unit_key          LowCardinality(String),
    dossier_id        String,
    procedure_code    LowCardinality(String) COMMENT 'of the earliest receipt, else of any event',
    commune_code      LowCardinality(String),
    received_at       Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest received event',
    channel           LowCardinality(String) COMMENT 'of that receipt',
    online_mode       LowCardinality(String) COMMENT 'of that receipt',
    resolved_at       Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest resolved event',
    fee_required      Bool COMMENT 'true when any event of the dossier said so',
    synced_national   Bool,
    paid_online       Bool,
    digitized         Bool,
    reused_data       Bool,
    result_electronic Bool,
    rated_at          Nullable(DateTime64(3, 'UTC')) COMMENT 'latest rating',
    rating_event_id   String COMMENT 'breaks a tie of two ratings at the same instant',
    satisfied         Nullable(Bool) COMMENT 'of the latest rating; NULL: not rated',
    events_seen       UInt32
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY dossier_key
COMMENT 'Per dossier: flags (OR), latest rating, receipt and resolution, for Bộ chỉ số 766';

-- The new state of every dossier a block touches, with the old and new contributions as rows
-- (day, procedure_code, commune_code, received, r_synced, r_fee, r_fee_paid, r_digitized,
--  r_reused, r_full_online, resolved, res_electronic, res_unsatisfied, res_timed, res_seconds).
CREATE TABLE IF NOT EXISTS dossier_score_transitions
(
    dossier_key       String,
    province          LowCardinality(String),
    unit_key          LowCardinality(String),
    dossier_id        String,
    procedure_code    String,
    commune_code      String,
    received_at       Nullable(DateTime64(3, 'UTC')),
    channel           String,
    online_mode       String,
    resolved_at       Nullable(DateTime64(3, 'UTC')),
    fee_required      Bool,
    synced_national   Bool,
    paid_online       Bool,
    digitized         Bool,
    reused_data       Bool,
    result_electronic Bool,
    rated_at          Nullable(DateTime64(3, 'UTC')),
    rating_event_id   String,
    satisfied         Nullable(Bool),
    events_seen       UInt32,
    o_procedure_code  String,
    o_received_at     Nullable(DateTime64(3, 'UTC')),
    o_full_online     Bool,
    old_rows Array(Tuple(Date, String, String, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)),
    new_rows Array(Tuple(Date, String, String, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64))
)
ENGINE = Null;

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
    FROM dossier_events
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

CREATE MATERIALIZED VIEW IF NOT EXISTS dossier_scores_mv TO dossier_scores AS
SELECT
    dossier_key, province, unit_key, dossier_id, procedure_code, commune_code, received_at,
    channel, online_mode, resolved_at, fee_required, synced_national, paid_online, digitized,
    reused_data, result_electronic, rated_at, rating_event_id, satisfied, events_seen
FROM dossier_score_transitions;

-- Per province, Vietnam day, procedure and commune: the receipt-side counters on the day of
-- receipt (t4, o1, pay1, d2, d3), the resolution-side ones on the day of resolution (d1, s3,
-- and the processing time). Signed deltas: read with sum() … GROUP BY.
CREATE TABLE IF NOT EXISTS scoreboard_daily
(
    province        LowCardinality(String),
    day             Date COMMENT 'Vietnam (UTC+7) calendar day',
    procedure_code  LowCardinality(String),
    commune_code    LowCardinality(String),
    received        Int64 COMMENT 'dossiers received',
    r_synced        Int64 COMMENT 'received, synced_national',
    r_fee           Int64 COMMENT 'received, fee_required',
    r_fee_paid      Int64 COMMENT 'received, fee_required and paid_online',
    r_digitized     Int64 COMMENT 'received, digitized',
    r_reused        Int64 COMMENT 'received, reused_data',
    r_full_online   Int64 COMMENT 'received online with online_mode full',
    resolved        Int64 COMMENT 'dossiers resolved',
    res_electronic  Int64 COMMENT 'resolved, result_electronic',
    res_unsatisfied Int64 COMMENT 'resolved, latest rating satisfied = false',
    res_timed       Int64 COMMENT 'resolved whose receipt is known',
    res_seconds     Int64 COMMENT 'Σ seconds from receipt to resolution of those'
)
ENGINE = SummingMergeTree
ORDER BY (province, day, procedure_code, commune_code)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Bộ chỉ số 766 dossier counters per province, day, procedure and commune (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_daily_mv TO scoreboard_daily AS
SELECT
    province,
    c.1 AS day, c.2 AS procedure_code, c.3 AS commune_code,
    c.4 * c.16 AS received, c.5 * c.16 AS r_synced, c.6 * c.16 AS r_fee, c.7 * c.16 AS r_fee_paid,
    c.8 * c.16 AS r_digitized, c.9 * c.16 AS r_reused, c.10 * c.16 AS r_full_online,
    c.11 * c.16 AS resolved, c.12 * c.16 AS res_electronic, c.13 * c.16 AS res_unsatisfied,
    c.14 * c.16 AS res_timed, c.15 * c.16 AS res_seconds
FROM
(
    SELECT
        province,
        arrayJoin(arrayConcat(
            arrayMap(r -> tupleConcat(r, tuple(toInt64(-1))), arrayFilter(r -> NOT has(new_rows, r), old_rows)),
            arrayMap(r -> tupleConcat(r, tuple(toInt64(1))), arrayFilter(r -> NOT has(old_rows, r), new_rows))
        )) AS c
    FROM dossier_score_transitions
);

-- Per province and day: what the scoreboard reads (34 × 31 rows for a national month).
CREATE TABLE IF NOT EXISTS scoreboard_province_daily
(
    province        LowCardinality(String),
    day             Date,
    received        Int64,
    r_synced        Int64,
    r_fee           Int64,
    r_fee_paid      Int64,
    r_digitized     Int64,
    r_reused        Int64,
    r_full_online   Int64,
    resolved        Int64,
    res_electronic  Int64,
    res_unsatisfied Int64,
    res_timed       Int64,
    res_seconds     Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, day)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Bộ chỉ số 766 dossier counters per province and day (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_province_daily_mv TO scoreboard_province_daily AS
SELECT
    province, day,
    sum(received) AS received, sum(r_synced) AS r_synced, sum(r_fee) AS r_fee,
    sum(r_fee_paid) AS r_fee_paid, sum(r_digitized) AS r_digitized, sum(r_reused) AS r_reused,
    sum(r_full_online) AS r_full_online, sum(resolved) AS resolved,
    sum(res_electronic) AS res_electronic, sum(res_unsatisfied) AS res_unsatisfied,
    sum(res_timed) AS res_timed, sum(res_seconds) AS res_seconds
FROM scoreboard_daily
GROUP BY province, day;

-- Per province, procedure and day, the receipts criterion o1 needs: the offer of a procedure
-- (its latest publication before the receipt) is the same all day on a day without a
-- publication of it, so those days are read here.
CREATE TABLE IF NOT EXISTS scoreboard_procedure_daily
(
    province       LowCardinality(String),
    procedure_code LowCardinality(String),
    day            Date,
    received       Int64,
    r_full_online  Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, procedure_code, day)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Receipts per province, procedure and day, for criterion o1 (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_procedure_daily_mv TO scoreboard_procedure_daily AS
SELECT province, procedure_code, day, sum(received) AS received, sum(r_full_online) AS r_full_online
FROM scoreboard_daily
GROUP BY province, procedure_code, day
HAVING received != 0 OR r_full_online != 0;

-- Receipts by instant, for the few (province, procedure, day) on which the procedure was
-- published: there the offer changes within the day, and each receipt is compared with the
-- publication's instant.
CREATE TABLE IF NOT EXISTS scoreboard_receipts
(
    province       LowCardinality(String),
    procedure_code LowCardinality(String),
    received_at    DateTime64(3, 'UTC'),
    received       Int64,
    r_full_online  Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, procedure_code, received_at)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Receipts per province, procedure and instant, for criterion o1 (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_receipts_mv TO scoreboard_receipts AS
SELECT province, c.1 AS procedure_code, c.2 AS received_at, c.3 * c.5 AS received, c.4 * c.5 AS r_full_online
FROM
(
    SELECT
        province,
        if(o_received_at IS NULL, [],
           [(o_procedure_code, assumeNotNull(o_received_at), toInt64(1), toInt64(o_full_online))]) AS o,
        if(received_at IS NULL, [],
           [(procedure_code, assumeNotNull(received_at), toInt64(1), toInt64(channel = 'online' AND online_mode = 'full'))]) AS n,
        arrayJoin(arrayConcat(
            arrayMap(r -> tupleConcat(r, tuple(toInt64(-1))), arrayFilter(r -> NOT has(n, r), o)),
            arrayMap(r -> tupleConcat(r, tuple(toInt64(1))), arrayFilter(r -> NOT has(o, r), n))
        )) AS c
    FROM dossier_score_transitions
);

-- One row per feedback (province|unit_key|feedback_id).
CREATE TABLE IF NOT EXISTS feedback_state
(
    feedback_key String COMMENT 'province|unit_key|feedback_id',
    province     LowCardinality(String),
    unit_key     LowCardinality(String),
    feedback_id  String,
    received_at  Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest received event',
    due_at       Nullable(DateTime64(3, 'UTC')) COMMENT 'answer deadline, of that receipt',
    resolved_at  Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest resolved event',
    rated_at     Nullable(DateTime64(3, 'UTC')) COMMENT 'latest resolved event that carried satisfied',
    rating_event_id String,
    satisfied    Nullable(Bool),
    events_seen  UInt32
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY feedback_key
COMMENT 'Per feedback: receipt with its deadline, resolution, latest reaction';

-- Rows: (day, resolved, classified, on_time, ok): a feedback is classified once its resolution
-- and its deadline are both known; ok = on time and not unsatisfied (s2 counts each failure once).
CREATE TABLE IF NOT EXISTS feedback_transitions
(
    feedback_key    String,
    province        LowCardinality(String),
    unit_key        LowCardinality(String),
    feedback_id     String,
    received_at     Nullable(DateTime64(3, 'UTC')),
    due_at          Nullable(DateTime64(3, 'UTC')),
    resolved_at     Nullable(DateTime64(3, 'UTC')),
    rated_at        Nullable(DateTime64(3, 'UTC')),
    rating_event_id String,
    satisfied       Nullable(Bool),
    events_seen     UInt32,
    old_rows        Array(Tuple(Date, Int64, Int64, Int64, Int64)),
    new_rows        Array(Tuple(Date, Int64, Int64, Int64, Int64))
)
ENGINE = Null;

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
    FROM feedback_events
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

CREATE MATERIALIZED VIEW IF NOT EXISTS feedback_state_mv TO feedback_state AS
SELECT
    feedback_key, province, unit_key, feedback_id, received_at, due_at, resolved_at, rated_at,
    rating_event_id, satisfied, events_seen
FROM feedback_transitions;

CREATE TABLE IF NOT EXISTS feedback_daily
(
    province   LowCardinality(String),
    day        Date COMMENT 'Vietnam (UTC+7) day of the resolution',
    resolved   Int64 COMMENT 'feedback resolved',
    classified Int64 COMMENT 'resolved whose deadline is known (its receipt arrived)',
    on_time    Int64 COMMENT 'resolved at or before due_at',
    ok         Int64 COMMENT 'on time and not satisfied = false'
)
ENGINE = SummingMergeTree
ORDER BY (province, day)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Feedback (PAKN) counters per province and day of resolution (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS feedback_daily_mv TO feedback_daily AS
SELECT province, c.1 AS day, c.2 * c.6 AS resolved, c.3 * c.6 AS classified, c.4 * c.6 AS on_time, c.5 * c.6 AS ok
FROM
(
    SELECT
        province,
        arrayJoin(arrayConcat(
            arrayMap(r -> tupleConcat(r, tuple(toInt64(-1))), arrayFilter(r -> NOT has(new_rows, r), old_rows)),
            arrayMap(r -> tupleConcat(r, tuple(toInt64(1))), arrayFilter(r -> NOT has(old_rows, r), new_rows))
        )) AS c
    FROM feedback_transitions
);

-- Backfill: the dossiers stored before this migration, folded in one pass (every fold above is
-- a min, a max or an arg-max, so one pass over all events gives the state the views would have
-- built), then their counters. Run with the services stopped, as every migration.
INSERT INTO dossier_scores
SELECT
    concat(province, '|', unit_key, '|', dossier_id) AS x_dossier_key,
    province,
    unit_key,
    dossier_id,
    if(countIf(status = 'received') > 0,
       argMinIf(procedure_code, tuple(occurred_at, event_id), status = 'received'),
       max(procedure_code)) AS x_procedure_code,
    max(commune_code) AS x_commune_code,
    if(countIf(status = 'received') > 0, minIf(occurred_at, status = 'received'), NULL) AS x_received_at,
    argMinIf(channel, tuple(occurred_at, event_id), status = 'received') AS x_channel,
    argMinIf(online_mode, tuple(occurred_at, event_id), status = 'received') AS x_online_mode,
    if(countIf(status = 'resolved') > 0, minIf(occurred_at, status = 'resolved'), NULL) AS x_resolved_at,
    max(ifNull(fee_required, false)) AS x_fee_required,
    max(ifNull(synced_national, false)) AS x_synced_national,
    max(ifNull(paid_online, false)) AS x_paid_online,
    max(ifNull(digitized, false)) AS x_digitized,
    max(ifNull(reused_data, false)) AS x_reused_data,
    max(ifNull(result_electronic, false)) AS x_result_electronic,
    if(countIf(status = 'rated' AND satisfied IS NOT NULL) > 0,
       maxIf(occurred_at, status = 'rated' AND satisfied IS NOT NULL), NULL) AS x_rated_at,
    argMaxIf(event_id, tuple(occurred_at, event_id), status = 'rated' AND satisfied IS NOT NULL) AS x_rating_event_id,
    argMaxIf(satisfied, tuple(occurred_at, event_id), status = 'rated' AND satisfied IS NOT NULL) AS x_satisfied,
    toUInt32(count()) AS x_events_seen
FROM dossier_events FINAL
GROUP BY province, unit_key, dossier_id;

INSERT INTO scoreboard_daily
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
                 toInt64(channel = 'online' AND online_mode = 'full'), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0))]),
            if(resolved_at IS NULL, [],
               [(toDate(resolved_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
                 toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
                 toInt64(1), toInt64(result_electronic), toInt64(ifNull(satisfied, true) = false),
                 toInt64(received_at IS NOT NULL),
                 if(received_at IS NULL, toInt64(0), greatest(toInt64(0), dateDiff('second', assumeNotNull(received_at), assumeNotNull(resolved_at)))))])
        )) AS r
    FROM dossier_scores
)
GROUP BY province, r.1, r.2, r.3;

INSERT INTO scoreboard_receipts
SELECT province, procedure_code, assumeNotNull(received_at), count(),
       countIf(channel = 'online' AND online_mode = 'full')
FROM dossier_scores
WHERE received_at IS NOT NULL
GROUP BY province, procedure_code, received_at;

-- The scoring table (services/aggregate/cchc_aggregate/query/rules/scoreboard_766.json), loaded
-- by `migrate` with the other reference data, so that SQL (the Grafana dashboard "Bộ chỉ số
-- 766") scores with the same maxima as GET /v1/scoreboard.
CREATE TABLE IF NOT EXISTS scoreboard_criteria
(
    code        String,
    group_code  LowCardinality(String),
    group_name  String,
    name        String,
    name_en     String,
    max         Float64,
    assumption  Bool COMMENT 'this project''s split of its group, not the ministry''s',
    source      String,
    position    UInt8 COMMENT 'order in the table'
)
ENGINE = MergeTree
ORDER BY position
COMMENT 'Bộ chỉ số 766 criteria, groups and maxima (reference data)';
