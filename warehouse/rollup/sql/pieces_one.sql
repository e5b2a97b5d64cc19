-- Each unit's piece of a month (warehouse/rollup/pieces.py): the month itself, no period
-- inside it, no mapping; the same CTEs as sql/pieces.sql (piece, chosen, covered), cheaper
-- (a national month reads 10,035 communes).
-- Parameters: $units, $pieces, $piece_months, $piece_order, $piece_mapped.
WITH piece AS (
    SELECT unnest($pieces::VARCHAR[]) AS period, unnest($piece_months::INTEGER[]) AS months,
           unnest($piece_order::INTEGER[]) AS ord, unnest($piece_mapped::BOOLEAN[]) AS mapped
),
chosen AS (
    SELECT s.unit_code, s.period, s.submission_id, 1.0::DOUBLE AS share,
           s.unit_code AS source_code
    FROM fct_submission s
    WHERE s.is_current AND s.period IN (SELECT unnest($pieces::VARCHAR[]))
      AND s.unit_code IN (SELECT unnest($units::VARCHAR[]))
),
covered AS (
    SELECT c.unit_code, sum(p.months) AS months
    FROM chosen c JOIN piece p ON p.period = c.period
    GROUP BY c.unit_code
)
