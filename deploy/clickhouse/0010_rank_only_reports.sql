-- A rank without a score ("xếp hạng 50/63", docs/domain.md "Figures in the seeds", seed 004) is a
-- report of its own: `value` is null and `rank`/`rank_of` carry the figure. Only index.*
-- indicators may carry a rank (normalize checks it), so only their rows can have a null value.
ALTER TABLE observations MODIFY COLUMN value Nullable(Float64) COMMENT 'in the indicator canonical unit; null for a rank-only report (rank/rank_of given)';

-- A view keeps the column types it was created with: the views of 0004 are created again, as
-- they were, so that a null value reaches them (v_national_mean also leaves rank-only reports
-- out: they are not scores).
CREATE OR REPLACE VIEW v_observations_latest AS
SELECT *
FROM observations FINAL
COMMENT 'The latest report per natural key (indicator, period, unit_key, level, agency): higher revision wins, then later reported_at; exact duplicates counted once. Same as argMax(…, version) per key.';

CREATE OR REPLACE VIEW v_province_figures AS
SELECT
    o.indicator AS indicator,
    i.name_vi AS indicator_name,
    o.period AS period,
    o.period_type AS period_type,
    o.period_start AS period_start,
    o.period_end AS period_end,
    o.ytd AS ytd,
    o.province AS province,
    p.name AS province_name,
    o.unit_key AS unit_key,
    u.name AS unit_name,
    o.value AS value,
    i.unit AS unit,
    o.numerator AS numerator,
    o.denominator AS denominator,
    o.status AS status,
    o.revision AS revision,
    o.reported_at AS reported_at,
    o.rank AS rank,
    o.rank_of AS rank_of
FROM v_observations_latest AS o
LEFT JOIN indicators AS i ON i.code = o.indicator
LEFT JOIN provinces AS p ON p.key = concat('2025:', o.province)
LEFT JOIN provinces AS u ON u.key = o.unit_key
WHERE o.level = 'all' AND o.agency = ''
COMMENT 'Latest province-wide figures (level all, no agency) with indicator, province and historical unit names: the rows every national figure is computed from.';

CREATE OR REPLACE VIEW v_national_sum AS
SELECT
    o.indicator AS indicator,
    o.period AS period,
    any(i.unit) AS unit,
    sum(o.value) AS value,
    uniqExact(o.province) AS provinces_reported,
    34 AS provinces_expected,
    uniqExact(o.unit_key) AS units_reported
FROM v_province_figures AS o
INNER JOIN indicators AS i ON i.code = o.indicator
WHERE i.across_provinces = 'sum'
GROUP BY o.indicator, o.period
COMMENT 'National totals of sum indicators (counts, money) per exactly reported period under current boundaries: predecessors count into their 2025 successor. No time derivation: a year is not built from quarters here.';

CREATE OR REPLACE VIEW v_ratio_units AS
SELECT
    i.code AS indicator,
    o.period AS period,
    o.unit_key AS unit_key,
    any(o.province) AS province,
    anyIf(o.numerator, o.indicator = i.code) AS own_numerator,
    anyIf(o.denominator, o.indicator = i.code) AS own_denominator,
    anyIf(toNullable(o.value), o.indicator = i.numerator) AS component_numerator,
    anyIf(toNullable(o.value), o.indicator = i.denominator) AS component_denominator,
    anyIf(toNullable(o.value), o.indicator = i.code) AS percent,
    if(own_numerator IS NOT NULL AND own_denominator IS NOT NULL, own_numerator, component_numerator) AS numerator,
    if(own_numerator IS NOT NULL AND own_denominator IS NOT NULL, own_denominator, component_denominator) AS denominator,
    numerator IS NOT NULL AND denominator IS NOT NULL AND denominator > 0 AS weighted
FROM
(
    SELECT code, numerator, denominator, arrayJoin([code, numerator, denominator]) AS member
    FROM indicators
    WHERE across_provinces = 'ratio'
) AS i
INNER JOIN v_province_figures AS o ON o.indicator = i.member
GROUP BY i.code, o.period, o.unit_key
HAVING weighted OR percent IS NOT NULL
COMMENT 'One row per ratio indicator, exact period and historical unit: its numerator and denominator (the unit''s own fields, else its reports of the component indicators for the same period) or, failing both, only its percentage (weighted = false).';

CREATE OR REPLACE VIEW v_national_ratio AS
SELECT
    indicator,
    period,
    if(sumIf(d, weighted) > 0, 100 * sumIf(n, weighted) / sumIf(d, weighted),
       avgIf(percent, NOT weighted)) AS value,
    countIf(weighted) > 0 AS is_weighted,
    sumIf(n, weighted) AS numerator,
    sumIf(d, weighted) AS denominator,
    uniqExactIf(province, weighted) AS provinces_weighted,
    uniqExactIf(province, NOT weighted) AS provinces_percentage_only,
    avgIf(percent, NOT weighted) AS percentage_only_mean,
    34 AS provinces_expected
FROM
(
    SELECT indicator, period, province, weighted, percent, numerator AS n, denominator AS d
    FROM v_ratio_units
)
GROUP BY indicator, period
COMMENT 'National rates per exactly reported period under current boundaries: 100 × Σnumerators / Σdenominators over the units that gave components; percentage-only units are left out of that and averaged unweighted in percentage_only_mean, which becomes value only when no unit gave components (is_weighted = false).';

CREATE OR REPLACE VIEW v_national_mean AS
SELECT
    o.indicator AS indicator,
    o.period AS period,
    any(i.unit) AS unit,
    avg(o.value) AS value,
    uniqExact(o.unit_key) AS units_reported,
    if(any(o.period_end) < toDate('2025-07-01'), 63, 34) AS units_expected
FROM v_province_figures AS o
INNER JOIN indicators AS i ON i.code = o.indicator
WHERE i.across_provinces = 'mean' AND o.value IS NOT NULL
GROUP BY o.indicator, o.period
COMMENT 'National means of scores and indices (index.*) per reported period, on the units as they were: scores are never re-based onto 2025 provinces, so pre-merger periods average the 63 historical units. Rank-only reports (value null) are not scores and are left out.';
