-- The effective values of some units for one period, and the submissions they come from.
-- A unit's values are those of its current accepted submission for the period ('direct'); else,
-- for a quarter, half-year or year it did not submit, values built from its current monthly
-- submissions when at least $min_months of the months are there ('months'): flows summed,
-- stocks the last month's value (the catalog says which), rates left out (they are recomputed
-- from their parts). $min_months is every month (calendar.partial_months: leave_out) or one
-- (sum_reported, DHIS2's rule: the months sent, the unit flagged incomplete by the caller).
-- Rows with origin 'source' carry (unit_code, submission_id) of every submission used.
-- Parameters: $period, $units, $months (the buildable months, [''] for none), $min_months,
-- $stocks, $rates.
-- A value's period is its submission's (warehouse.store loads them so): filtering fct_value on
-- it too lets DuckDB skip the row groups of other periods instead of joining them all.
WITH direct_subs AS (
    SELECT submission_id, unit_code FROM fct_submission
    WHERE is_current AND period = $period AND unit_code IN (SELECT unnest($units))
),
direct AS (
    SELECT s.unit_code, v.indicator, v.value
    FROM direct_subs s JOIN fct_value v ON v.submission_id = s.submission_id
    WHERE v.period = $period
),
month_subs AS (
    SELECT submission_id, unit_code, period FROM fct_submission
    WHERE is_current AND period IN (SELECT unnest($months))
      AND unit_code IN (SELECT unnest($units))
      AND unit_code NOT IN (SELECT unit_code FROM direct_subs)
),
complete AS (
    SELECT unit_code FROM month_subs GROUP BY unit_code
    HAVING count(DISTINCT period) >= $min_months
),
derived AS (
    SELECT m.unit_code, v.indicator,
           CASE WHEN v.indicator IN (SELECT unnest($stocks))
                THEN arg_max(v.value, m.period) ELSE sum(v.value) END AS value
    FROM month_subs m JOIN fct_value v ON v.submission_id = m.submission_id
    WHERE m.unit_code IN (SELECT unit_code FROM complete)
      AND v.indicator NOT IN (SELECT unnest($rates))
      AND v.period IN (SELECT unnest($months))
    GROUP BY m.unit_code, v.indicator
)
SELECT unit_code, indicator, value, 'direct' AS origin, NULL AS submission_id FROM direct
UNION ALL
SELECT unit_code, indicator, value, 'months' AS origin, NULL AS submission_id FROM derived
UNION ALL
SELECT unit_code, NULL, NULL, 'source', submission_id FROM direct_subs
UNION ALL
SELECT unit_code, NULL, NULL, 'source', submission_id FROM month_subs
WHERE unit_code IN (SELECT unit_code FROM complete)
ORDER BY origin, unit_code, indicator, submission_id
