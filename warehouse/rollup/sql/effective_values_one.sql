-- The effective values of some units for a month (after sql/pieces_one.sql): the values of
-- each unit's current version ('direct'), and the submissions they come from ('source').
-- Parameters (besides pieces_one.sql's): $period.
, direct AS (
    SELECT c.unit_code, v.indicator, v.value
    FROM chosen c JOIN fct_value v ON v.submission_id = c.submission_id
    WHERE v.period = $period
)
SELECT unit_code, indicator, value, 'direct' AS origin, NULL AS submission_id FROM direct
UNION ALL
SELECT unit_code, NULL, NULL, 'source', submission_id FROM chosen
ORDER BY origin, unit_code, indicator, submission_id
