-- Reference dimensions an analyst joins in SQL. Their rows come from the shared reference data
-- (cchc_shared/data: provinces_2004.csv, provinces_2025.csv, indicators.toml) and are replaced
-- by `python -m cchc_aggregate migrate` (store.sync_reference) after every migration run, so the
-- tables always match the code that reads them. Never edit their rows by hand.
CREATE TABLE IF NOT EXISTS provinces
(
    key            LowCardinality(String) COMMENT '<era>:<code>, e.g. 2004:10 (old Lào Cai), 2025:15 (Lào Cai)',
    era            LowCardinality(String) COMMENT '2004 (63 units until 2025-06-30) or 2025 (34 units from 2025-07-01)',
    code           LowCardinality(String) COMMENT 'two-digit GSO code; reused across eras, so join on key',
    name           String COMMENT 'official Vietnamese name without the type prefix',
    type           LowCardinality(String) COMMENT 'tỉnh or thành phố trực thuộc trung ương',
    successor_code LowCardinality(String) COMMENT '2025 code the unit is or merged into (observations.province)',
    successor_name String COMMENT 'name of the 2025 successor'
)
ENGINE = MergeTree
ORDER BY key
COMMENT 'Province-level units of both eras (Resolution 202/2025/QH15, Decisions 124/2004 and 19/2025/QĐ-TTg)';

CREATE TABLE IF NOT EXISTS province_lineage
(
    unit_key       LowCardinality(String) COMMENT 'historical unit, as observations.unit_key',
    unit_code      LowCardinality(String),
    unit_name      String,
    province       LowCardinality(String) COMMENT '2025 province code, as observations.province',
    province_name  String,
    merged         Bool COMMENT 'true when the 2025 province has more than one predecessor'
)
ENGINE = MergeTree
ORDER BY (province, unit_key)
COMMENT 'Every unit of either era and the 2025 province it belongs to: 63 + 34 rows';

CREATE TABLE IF NOT EXISTS indicators
(
    code             LowCardinality(String) COMMENT 'stable public code (docs/contract.md "Indicator catalogue")',
    name_vi          String,
    aliases          Array(String),
    unit             LowCardinality(String) COMMENT 'canonical unit of observations.value',
    min              Nullable(Float64),
    max              Nullable(Float64),
    across_provinces LowCardinality(String) COMMENT 'sum | ratio | mean',
    across_time      LowCardinality(String) COMMENT 'sum (flow) | last (stock) | none',
    numerator        String COMMENT 'ratio numerator: indicator code, own, or empty',
    denominator      String COMMENT 'ratio denominator: indicator code, own, or empty',
    higher_is_better Bool,
    source           String
)
ENGINE = MergeTree
ORDER BY code
COMMENT 'The indicator catalogue (cchc_shared/data/indicators.toml)';
