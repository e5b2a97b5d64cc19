-- rollup_as_of(target): every consolidated figure of either structure, for every period, given
-- as units of the structure the caller names ('legacy' or '2025'). Installed by
-- warehouse.db.load_reference with the catalog's rate formulas ({formula_case}, the SQL twin of
-- validations.catalog.Formula). Columns: unit_code, period, period_structure, indicator, value,
-- numerator, denominator, share, source_units (the units whose figures make it up),
-- approximate (a divided commune contributes a share), mapped (false: the unit's own row).
--   target = '2025', a period before the reform: a new unit's territory is the sum of its
--     predecessors (dim_unit_crosswalk, shares applied), given only when every predecessor has
--     the figure; rates from the mapped parts; flags' shares from the mapped counts.
--   target = 'legacy', a period from the reform on: an old unit whose territory is exactly one
--     new unit (not merged, not divided) takes that unit's figures; the others have none
--     (a new unit's figures cannot be split back between the old units it joined).
CREATE OR REPLACE MACRO rollup_as_of(target) AS TABLE
WITH links AS (
    SELECT * FROM dim_unit_crosswalk WHERE share > 0
),
n_links AS (
    SELECT new_code, count(*) AS n, bool_or(approximate) AS approx,
           list(old_code ORDER BY old_code) AS olds
    FROM links GROUP BY new_code
),
own AS (
    SELECT unit_code, period, structure AS period_structure, indicator, value, numerator,
           denominator, share, [unit_code] AS source_units, false AS approximate, false AS mapped
    FROM fct_rollup WHERE structure = target
),
old_sums AS (  -- counts and decimals of the predecessors, shares applied
    SELECT l.new_code AS unit_code, r.period, r.indicator, sum(l.share * r.value) AS value,
           count(r.value) AS n
    FROM links l
    JOIN fct_rollup r ON r.unit_code = l.old_code AND r.structure = 'legacy'
    JOIN dim_indicator i ON i.code = r.indicator AND i.aggregation = 'sum'
    WHERE target = '2025'
    GROUP BY ALL
),
mapped_sums AS (
    SELECT s.unit_code, s.period, s.indicator, s.value
    FROM old_sums s JOIN n_links k ON k.new_code = s.unit_code WHERE s.n = k.n
),
mapped_rates AS (
    SELECT nu.unit_code, nu.period, i.code AS indicator, {formula_case} AS value,
           nu.value AS numerator, de.value AS denominator
    FROM dim_indicator i
    JOIN mapped_sums nu ON nu.indicator = i.numerator
    JOIN mapped_sums de ON de.indicator = i.denominator AND de.unit_code = nu.unit_code
                       AND de.period = nu.period
    WHERE i.aggregation = 'ratio'
),
mapped_flags AS (
    SELECT l.new_code AS unit_code, r.period, r.indicator,
           sum(l.share * r.numerator) AS numerator, sum(l.share * r.denominator) AS denominator,
           count(r.denominator) AS n
    FROM links l
    JOIN fct_rollup r ON r.unit_code = l.old_code AND r.structure = 'legacy'
    JOIN dim_indicator i ON i.code = r.indicator AND i.aggregation = 'count_share'
    WHERE target = '2025'
    GROUP BY ALL
),
mapped AS (
    SELECT unit_code, period, indicator, value, NULL::DOUBLE AS numerator,
           NULL::DOUBLE AS denominator, NULL::DOUBLE AS share FROM mapped_sums
    UNION ALL
    SELECT unit_code, period, indicator, value, numerator, denominator, NULL FROM mapped_rates
    UNION ALL
    SELECT f.unit_code, f.period, f.indicator, f.numerator, f.numerator, f.denominator,
           {share_sql}
    FROM mapped_flags f JOIN n_links k ON k.new_code = f.unit_code WHERE f.n = k.n
),
unchanged AS (  -- old units whose territory is exactly one new unit
    SELECT l.old_code, l.new_code FROM links l JOIN n_links k ON k.new_code = l.new_code
    WHERE k.n = 1 AND l.share = 1 AND NOT l.approximate
      AND (SELECT count(*) FROM links o WHERE o.old_code = l.old_code
           AND o.old_level = l.old_level) = 1
)
SELECT * FROM own
UNION ALL
SELECT m.unit_code, m.period, 'legacy', m.indicator, m.value, m.numerator, m.denominator,
       m.share, k.olds, k.approx, true
FROM mapped m JOIN n_links k ON k.new_code = m.unit_code
UNION ALL
SELECT u.old_code, r.period, r.structure, r.indicator, r.value, r.numerator, r.denominator,
       r.share, [r.unit_code], false, true
FROM unchanged u JOIN fct_rollup r ON r.unit_code = u.new_code AND r.structure = '2025'
WHERE target = 'legacy';
