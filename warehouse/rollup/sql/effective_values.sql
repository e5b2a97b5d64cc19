-- The effective values of some units for one period, and the submissions they come from
-- (after sql/pieces.sql, which chooses each unit's pieces).
-- A unit that sent the period itself has that version's values ('direct'). Else, when its
-- pieces cover at least $min_months months, values built from them ('months'): flows summed,
-- stocks the last piece's value (the catalog says which), rates left out (they are recomputed
-- from their parts). A mapped piece's figure is its predecessors' sum, shares applied (a
-- flag: their minimum), given only when every predecessor gave it. $min_months is every
-- month (calendar.partial_months: leave_out) or one (sum_reported, DHIS2's rule: the months
-- sent, the unit flagged incomplete by the caller).
-- Rows with origin 'source' carry (unit_code, submission_id) of every submission used.
-- Parameters (besides pieces.sql's): $period, $min_months, $stocks, $rates, $flags.
-- A value's period is its submission's (warehouse.store loads them so): filtering fct_value on
-- it too lets DuckDB skip the row groups of other periods instead of joining them all.
, complete AS (
    SELECT unit_code FROM covered WHERE months >= $min_months
),
used AS (
    SELECT c.* FROM chosen c SEMI JOIN complete k ON k.unit_code = c.unit_code
),
direct AS (
    SELECT u.unit_code, v.indicator, v.value
    FROM used u JOIN fct_value v ON v.submission_id = u.submission_id
    WHERE u.period = $period AND v.period = $period
),
sources AS (
    SELECT unit_code, period, count(*) AS n FROM used GROUP BY unit_code, period
),
piece_values AS (
    SELECT u.unit_code, u.period, v.indicator,
           CASE WHEN v.indicator IN (SELECT unnest($flags::VARCHAR[])) THEN min(v.value)
                ELSE sum(v.value * u.share) END AS value,
           count(v.value) AS n
    FROM used u JOIN fct_value v ON v.submission_id = u.submission_id
    WHERE u.period <> $period AND v.period IN (SELECT unnest($pieces::VARCHAR[]))
      AND v.indicator NOT IN (SELECT unnest($rates::VARCHAR[]))
    GROUP BY u.unit_code, u.period, v.indicator
),
derived AS (
    SELECT pv.unit_code, pv.indicator,
           CASE WHEN pv.indicator IN (SELECT unnest($stocks::VARCHAR[]))
                THEN arg_max(pv.value, p.ord) ELSE sum(pv.value) END AS value
    FROM piece_values pv
    JOIN sources s ON s.unit_code = pv.unit_code AND s.period = pv.period
    JOIN piece p ON p.period = pv.period
    WHERE pv.n = s.n
    GROUP BY pv.unit_code, pv.indicator
)
SELECT unit_code, indicator, value, 'direct' AS origin, NULL AS submission_id FROM direct
UNION ALL
SELECT unit_code, indicator, value, 'months' AS origin, NULL AS submission_id FROM derived
UNION ALL
SELECT DISTINCT unit_code, NULL, NULL, 'source', submission_id FROM used
ORDER BY origin, unit_code, indicator, submission_id
