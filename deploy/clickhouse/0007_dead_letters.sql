-- Dead letters (docs/contract.md "Dead letters"): one row per record of cchc.dlq, written by
-- aggregate, which consumes cchc.dlq beside cchc.normalized (services/aggregate/cchc_aggregate/
-- sink/dead_letters.py). They outlive the embedded broker, which keeps topics in memory only, and
-- can be counted by reason and province in SQL and Grafana; `cchc dlq list` reads them through
-- GET /v1/dead-letters (operators only).
--
-- A record that is not an envelope is kept too, as stage = reason = 'unreadable' with its bytes
-- as the payload: it is never dead-lettered again (no loop through cchc.dlq).
-- Payloads are bounded as in the envelope: at most 64 KiB of the original message
-- (payload_truncated, payload_bytes and payload_sha256 describe the whole message).
--
-- Deduplicated on the record's place on cchc.dlq: a batch read again after a crash is the same
-- records at the same offsets. rejected_at is in the key as well because the embedded broker
-- starts from empty topics after a restart while this table stays: offsets begin again at 0, and
-- a new dead letter must not replace an old one at the same offset. Read with FINAL.
-- non_replicated_deduplication_window: a retried insert (same insert_deduplication_token, which
-- for this table also hashes the records' bytes) is dropped instead of stored twice. (0018 turns
-- this off on a single server: a failed insert could leave its token without its rows.)
CREATE TABLE IF NOT EXISTS dead_letters
(
    stage               LowCardinality(String) COMMENT 'ingest, normalize, aggregate; unreadable when the record was not an envelope',
    reason              LowCardinality(String) COMMENT 'reason code (docs/contract.md); unreadable when the record was not an envelope',
    source_topic        LowCardinality(String) COMMENT 'where the rejected message was read',
    source_partition    Int32,
    source_offset       Int64,
    source_key          String COMMENT 'as in the envelope: text, or base64 when source_key_encoding says so; empty when none',
    source_key_encoding LowCardinality(String) COMMENT 'utf-8, base64, or empty when there is no key',
    source_key_truncated Bool,
    province            LowCardinality(String) COMMENT '2025 province code from the source: cchc.raw.NN gives NN, cchc.validated and cchc.normalized their key; empty when unknown',
    error_loc           String COMMENT 'the first error: dotted field path, or $ for the whole message',
    error_msg           String,
    errors              String COMMENT 'the envelope errors as a JSON array of {loc, msg} (capped)',
    errors_total        UInt32 COMMENT 'how many errors the stage found',
    payload             String COMMENT 'the original message, at most 64 KiB of it; base64 when payload_encoding says so',
    payload_encoding    LowCardinality(String) COMMENT 'utf-8 or base64',
    payload_truncated   Bool COMMENT 'true when payload holds only the start of the message (or none of it)',
    payload_bytes       UInt64 COMMENT 'length of the whole original message',
    payload_sha256      String COMMENT 'SHA-256 (hex) of the whole original message',
    rejected_at         DateTime64(3, 'UTC') COMMENT 'when the stage rejected it (for unreadable records: the record timestamp)',
    dlq_partition       Int32 COMMENT 'where the envelope sits on cchc.dlq',
    dlq_offset          Int64,
    kafka_ts            DateTime64(3, 'UTC') COMMENT 'the cchc.dlq record timestamp (the rejected message push time)',
    inserted_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(rejected_at)
ORDER BY (dlq_partition, dlq_offset, rejected_at)
SETTINGS non_replicated_deduplication_window = 10000;
