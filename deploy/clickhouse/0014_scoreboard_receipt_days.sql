-- Criterion o1 (full-online offer) at scale (docs/analysts.md "Bộ chỉ số 766"; the reading side:
-- services/aggregate/cchc_aggregate/query/fetch/scoreboard.py; bench/README.md "Dossier scale").
--
-- On a day on which a procedure was published in a province, o1 compares each receipt of that
-- procedure with the publication's instant. Until now those receipts came from
-- `scoreboard_receipts` (0009), one row per province, procedure and instant sorted by procedure:
-- the few publication days of a period are scattered over the whole table, and each question read
-- it all (0.6 M rows at 1.2 M events, 25 M at 50 M). Here the receipts of one province, procedure
-- and Vietnam day are one value of a key-value table, so a question reads exactly the days on
-- which something was published (a point lookup per day, whatever the table's size).
--
-- dossier_score_transitions ─▶ scoreboard_receipt_days_mv ─▶ scoreboard_receipt_days
--
-- The view folds each fold step's signed receipt deltas (the same as scoreboard_receipts_mv: a
-- dossier's old receipt −1, its new one +1, only where they differ) into the stored maps by a
-- direct key lookup, like dossier_scores: a step reaches the views as one block
-- (cchc_aggregate.clickhouse.fold), so each key is read and written once per step. Instants whose
-- count falls to 0 are dropped. A step interrupted mid-way is redone and every counter, this one
-- included, recomputed from dossier_scores (cchc_aggregate.clickhouse.rebuild).

CREATE TABLE IF NOT EXISTS scoreboard_receipt_days
(
    key            String COMMENT 'province|procedure_code|day',
    province       LowCardinality(String),
    procedure_code LowCardinality(String),
    day            Date COMMENT 'Vietnam day of the receipts',
    received       Map(Int64, Int64) COMMENT 'receipt instant (Unix ms, UTC) → dossiers received then',
    full           Map(Int64, Int64) COMMENT 'receipt instant → of those, online with a full online mode'
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY key
COMMENT 'Receipts per province, procedure and day by instant, for criterion o1 (publication days)';

CREATE MATERIALIZED VIEW IF NOT EXISTS scoreboard_receipt_days_mv TO scoreboard_receipt_days AS
WITH d AS
(
    SELECT key, province, procedure_code, day,
           sumMap(map(at_ms, received)) AS d_received, sumMap(map(at_ms, full)) AS d_full
    FROM
    (
        SELECT province, c.1 AS procedure_code, toDate(c.2, 'Asia/Ho_Chi_Minh') AS day,
               concat(province, '|', procedure_code, '|', toString(day)) AS key,
               toUnixTimestamp64Milli(c.2) AS at_ms, c.3 * c.5 AS received, c.4 * c.5 AS full
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
        )
    )
    GROUP BY key, province, procedure_code, day
)
SELECT
    d.key AS key,
    d.province AS province,
    d.procedure_code AS procedure_code,
    d.day AS day,
    mapFilter((k, v) -> v != 0, mapAdd(s.received, d.d_received)) AS received,
    mapFilter((k, v) -> v != 0, mapAdd(s.full, d.d_full)) AS full
FROM d
LEFT JOIN scoreboard_receipt_days AS s ON s.key = d.key
SETTINGS join_algorithm = 'direct', join_use_nulls = 0;

INSERT INTO scoreboard_receipt_days
SELECT
    concat(province, '|', procedure_code, '|', toString(day)),
    province,
    procedure_code,
    day,
    mapFilter((k, v) -> v != 0, sumMap(map(toUnixTimestamp64Milli(received_at), received))),
    mapFilter((k, v) -> v != 0, sumMap(map(toUnixTimestamp64Milli(received_at), r_full_online)))
FROM
(
    SELECT province, procedure_code, received_at, toDate(received_at, 'Asia/Ho_Chi_Minh') AS day,
           received, r_full_online
    FROM scoreboard_receipts
)
GROUP BY province, procedure_code, day;

DROP VIEW IF EXISTS scoreboard_receipts_mv;

DROP TABLE IF EXISTS scoreboard_receipts;
