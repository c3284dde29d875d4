-- A rank without a score ("xếp hạng 50/63", docs/domain.md "Figures in the seeds", seed 004) is a
-- report of its own: `value` is null and `rank`/`rank_of` carry the figure. Only index.*
-- indicators may carry a rank (normalize checks it), so only their rows can have a null value.
ALTER TABLE observations MODIFY COLUMN value Nullable(Float64) COMMENT 'in the indicator canonical unit; null for a rank-only report (rank/rank_of given)';

-- National means count the units that gave a score, not those that gave only a rank.
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
