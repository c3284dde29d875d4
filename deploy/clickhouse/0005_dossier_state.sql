-- The live service index (Decision 766/QĐ-TTg) from dossier events: docs/analysts.md
-- "Service index" and services/aggregate/cchc_aggregate/service_index.py explain the design.
--
-- dossier_events (0002) ─▶ dossier_transitions_mv ─▶ dossier_transitions (Null: nothing stored)
--                                                      ├─▶ dossier_state_mv   ─▶ dossier_state
--                                                      ├─▶ service_daily_mv   ─▶ service_daily
--                                                      │     └─▶ service_province_daily_mv ─▶ service_province_daily
--                                                      └─▶ dossier_open_mv    ─▶ dossier_open
--
-- Each insert block of dossier_events is folded, per dossier, into the dossier's state (a direct
-- key lookup in dossier_state), and what changed is emitted as signed deltas: the counters are
-- plain sums, so a national month reads ~1,000 rows however many events there are. Duplicates,
-- a resolution re-sent under another event id, and events arriving out of order change no state,
-- so they emit nothing. A dossier is (province, unit_key, dossier_id): ids are unique only within
-- a unit as it was before the 2025 merger.

-- One row per dossier: its merged state. EmbeddedRocksDB is a key-value table: the transition
-- view joins each block against it by key (join_algorithm = 'direct', point lookups) in time
-- proportional to the block, not to the table. An insert replaces the row of its key.
CREATE TABLE IF NOT EXISTS dossier_state
(
    dossier_key    String COMMENT 'province|unit_key|dossier_id',
    province       LowCardinality(String) COMMENT 'current (2025) province code',
    unit_key       LowCardinality(String) COMMENT 'historical unit that numbered the dossier',
    dossier_id     String,
    procedure_code LowCardinality(String) COMMENT 'of the earliest receipt, else of any event',
    commune_code   LowCardinality(String) COMMENT 'empty when no event named one',
    received_at    Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest received event; NULL until it arrives',
    due_at         Nullable(DateTime64(3, 'UTC')) COMMENT 'legal deadline, from that receipt',
    channel        LowCardinality(String) COMMENT 'online | in_person | postal, from that receipt',
    online_mode    LowCardinality(String) COMMENT 'full | partial | empty',
    resolved_at    Nullable(DateTime64(3, 'UTC')) COMMENT 'earliest resolved event: a re-sent resolution counts once',
    rejected_at    Nullable(DateTime64(3, 'UTC')),
    withdrawn_at   Nullable(DateTime64(3, 'UTC')),
    events_seen    UInt32 COMMENT 'event copies folded in, duplicates included'
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY dossier_key
COMMENT 'The state of every dossier, whatever the arrival order of its events';

-- The old and the new state of every dossier touched by an insert block. Null engine: the rows
-- only feed the views below.
CREATE TABLE IF NOT EXISTS dossier_transitions
(
    dossier_key      String,
    province         LowCardinality(String),
    unit_key         LowCardinality(String),
    dossier_id       String,
    o_procedure_code String,
    o_commune_code   String,
    o_received_at    Nullable(DateTime64(3, 'UTC')),
    o_due_at         Nullable(DateTime64(3, 'UTC')),
    o_channel        String,
    o_resolved_at    Nullable(DateTime64(3, 'UTC')),
    o_open           Bool,
    take_receipt     Bool,
    procedure_code   String,
    commune_code     String,
    received_at      Nullable(DateTime64(3, 'UTC')),
    due_at           Nullable(DateTime64(3, 'UTC')),
    channel          String,
    online_mode      String,
    resolved_at      Nullable(DateTime64(3, 'UTC')),
    rejected_at      Nullable(DateTime64(3, 'UTC')),
    withdrawn_at     Nullable(DateTime64(3, 'UTC')),
    events_seen      UInt32
)
ENGINE = Null;

-- Fold the block per dossier (min of each step's time: idempotent and order-free; the receipt's
-- due date, channel and procedure come with the earliest receipt), then merge with the stored
-- state. Inside a materialized view, `dossier_events` is the inserted block only.
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
    FROM dossier_events
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

CREATE MATERIALIZED VIEW IF NOT EXISTS dossier_state_mv TO dossier_state AS
SELECT
    dossier_key, province, unit_key, dossier_id, procedure_code, commune_code, received_at, due_at,
    channel, online_mode, resolved_at, rejected_at, withdrawn_at, events_seen
FROM dossier_transitions;

-- Per province, Vietnam day, procedure and commune: receipts counted on the day of receipt,
-- resolutions (on time: at or before due_at; late: after; neither while the receipt has not
-- arrived) on the day of resolution. Rows are signed deltas: a dossier's old contribution
-- minus, its new one plus, only where they differ. Read with sum() … GROUP BY.
CREATE TABLE IF NOT EXISTS service_daily
(
    province         LowCardinality(String),
    day              Date COMMENT 'Vietnam (UTC+7) calendar day',
    procedure_code   LowCardinality(String),
    commune_code     LowCardinality(String),
    received         Int64,
    received_online  Int64,
    resolved         Int64,
    resolved_on_time Int64,
    resolved_late    Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, day, procedure_code, commune_code)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Decision 766 service counters per province, day, procedure and commune (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS service_daily_mv TO service_daily AS
SELECT
    province,
    c.1 AS day,
    c.2 AS procedure_code,
    c.3 AS commune_code,
    c.4 * c.9 AS received,
    c.5 * c.9 AS received_online,
    c.6 * c.9 AS resolved,
    c.7 * c.9 AS resolved_on_time,
    c.8 * c.9 AS resolved_late
FROM
(
    SELECT
        province,
        arrayConcat(
            if(o_received_at IS NULL, [],
               [(toDate(o_received_at, 'Asia/Ho_Chi_Minh'), o_procedure_code, o_commune_code,
                 toInt64(1), toInt64(o_channel = 'online'), toInt64(0), toInt64(0), toInt64(0))]),
            if(o_resolved_at IS NULL, [],
               [(toDate(o_resolved_at, 'Asia/Ho_Chi_Minh'), o_procedure_code, o_commune_code,
                 toInt64(0), toInt64(0), toInt64(1),
                 toInt64(o_due_at IS NOT NULL AND o_resolved_at <= o_due_at),
                 toInt64(o_due_at IS NOT NULL AND o_resolved_at > o_due_at))])
        ) AS old_rows,
        arrayConcat(
            if(received_at IS NULL, [],
               [(toDate(received_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
                 toInt64(1), toInt64(channel = 'online'), toInt64(0), toInt64(0), toInt64(0))]),
            if(resolved_at IS NULL, [],
               [(toDate(resolved_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code,
                 toInt64(0), toInt64(0), toInt64(1),
                 toInt64(due_at IS NOT NULL AND resolved_at <= due_at),
                 toInt64(due_at IS NOT NULL AND resolved_at > due_at))])
        ) AS new_rows,
        arrayJoin(arrayConcat(
            arrayMap(r -> tupleConcat(r, tuple(toInt64(-1))), arrayFilter(r -> NOT has(new_rows, r), old_rows)),
            arrayMap(r -> tupleConcat(r, tuple(toInt64(1))), arrayFilter(r -> NOT has(old_rows, r), new_rows))
        )) AS c
    FROM dossier_transitions
);

-- The same counters per province and day only: what national and province questions read
-- (a national month is 34 × 31 rows). Fed from each block inserted into service_daily.
CREATE TABLE IF NOT EXISTS service_province_daily
(
    province         LowCardinality(String),
    day              Date COMMENT 'Vietnam (UTC+7) calendar day',
    received         Int64,
    received_online  Int64,
    resolved         Int64,
    resolved_on_time Int64,
    resolved_late    Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, day)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Decision 766 service counters per province and day (sum the columns)';

CREATE MATERIALIZED VIEW IF NOT EXISTS service_province_daily_mv TO service_province_daily AS
SELECT
    province,
    day,
    sum(received) AS received,
    sum(received_online) AS received_online,
    sum(resolved) AS resolved,
    sum(resolved_on_time) AS resolved_on_time,
    sum(resolved_late) AS resolved_late
FROM service_daily
GROUP BY province, day;

-- Dossiers in progress (received; not resolved, rejected or withdrawn) by receipt day and due
-- instant, so that "overdue now" is a sum over due_at < now at query time. A dossier leaves
-- (−1) when it closes; SummingMergeTree drops the rows that sum to zero when it merges.
CREATE TABLE IF NOT EXISTS dossier_open
(
    province       LowCardinality(String),
    received_day   Date COMMENT 'Vietnam (UTC+7) day of receipt',
    procedure_code LowCardinality(String),
    commune_code   LowCardinality(String),
    due_at         DateTime64(3, 'UTC'),
    open           Int64
)
ENGINE = SummingMergeTree
ORDER BY (province, received_day, procedure_code, commune_code, due_at)
SETTINGS non_replicated_deduplication_window = 10000
COMMENT 'Dossiers still in progress per province, receipt day, procedure, commune and due instant (sum open)';

CREATE MATERIALIZED VIEW IF NOT EXISTS dossier_open_mv TO dossier_open AS
SELECT
    province,
    c.1 AS received_day,
    c.2 AS procedure_code,
    c.3 AS commune_code,
    c.4 AS due_at,
    c.5 AS open
FROM
(
    SELECT
        province,
        if(o_open AND o_due_at IS NOT NULL,
           [(toDate(o_received_at, 'Asia/Ho_Chi_Minh'), o_procedure_code, o_commune_code, assumeNotNull(o_due_at))],
           []) AS old_rows,
        if(received_at IS NOT NULL AND due_at IS NOT NULL AND resolved_at IS NULL AND rejected_at IS NULL AND withdrawn_at IS NULL,
           [(toDate(received_at, 'Asia/Ho_Chi_Minh'), procedure_code, commune_code, assumeNotNull(due_at))],
           []) AS new_rows,
        arrayJoin(arrayConcat(
            arrayMap(r -> tupleConcat(r, tuple(toInt64(-1))), arrayFilter(r -> NOT has(new_rows, r), old_rows)),
            arrayMap(r -> tupleConcat(r, tuple(toInt64(1))), arrayFilter(r -> NOT has(old_rows, r), new_rows))
        )) AS c
    FROM dossier_transitions
);
