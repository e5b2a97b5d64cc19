-- Which units have a period, and since when (after sql/pieces.sql): per unit, the months its
-- chosen pieces cover and the time the last of them was first accepted (a piece's first
-- accepted version: a correction sent later does not make it late; a mapped piece: the last
-- of its predecessors').
, firsts AS (
    SELECT s.unit_code, s.period,
           min(s.received_at) FILTER (WHERE s.validation_status IN {accepted}) AS first_at
    FROM fct_submission s
    SEMI JOIN chosen c ON c.source_code = s.unit_code AND c.period = s.period
    WHERE s.period IN (SELECT unnest($pieces::VARCHAR[]))
    GROUP BY s.unit_code, s.period
)
SELECT v.unit_code, v.months, t.first_at
FROM covered v JOIN (
    SELECT c.unit_code, max(f.first_at) AS first_at
    FROM chosen c LEFT JOIN firsts f ON f.unit_code = c.source_code AND f.period = c.period
    GROUP BY c.unit_code
) t ON t.unit_code = v.unit_code
