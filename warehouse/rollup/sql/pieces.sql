-- Each unit's pieces of a period (warehouse/rollup/pieces.py): the period itself and the
-- half-years, quarters and months inside it that the unit has a current version of, keeping
-- only the pieces that lie inside no other piece the unit has (the coarser report wins).
-- A mapped piece (closed before the 2025 reform, in a period closing after it) is the unit's
-- predecessors' (link: unit_code, old_code, share), counted only when every predecessor has a
-- current version of it. `chosen` has one row per (unit, piece, submission used), with its
-- share and the unit whose submission it is (source_code).
-- Parameters: $units, $pieces, $piece_months, $piece_order, $piece_mapped (the pieces, in
-- parallel lists), $inner, $outer (piece $inner lies inside piece $outer), $link_unit,
-- $link_old, $link_share (the predecessors of the units, for mapped pieces).
WITH piece AS (
    SELECT unnest($pieces::VARCHAR[]) AS period, unnest($piece_months::INTEGER[]) AS months,
           unnest($piece_order::INTEGER[]) AS ord, unnest($piece_mapped::BOOLEAN[]) AS mapped
),
inside AS (
    SELECT unnest($inner::VARCHAR[]) AS inner_p, unnest($outer::VARCHAR[]) AS outer_p
),
link AS (
    SELECT unnest($link_unit::VARCHAR[]) AS unit_code, unnest($link_old::VARCHAR[]) AS old_code,
           unnest($link_share::DOUBLE[]) AS share
),
n_links AS (
    SELECT unit_code, count(*) AS n FROM link GROUP BY unit_code
),
own AS (
    SELECT s.unit_code, s.period, s.submission_id, 1.0::DOUBLE AS share,
           s.unit_code AS source_code
    FROM fct_submission s JOIN piece p ON p.period = s.period AND NOT p.mapped
    WHERE s.is_current AND s.period IN (SELECT unnest($pieces::VARCHAR[]))
      AND s.unit_code IN (SELECT unnest($units::VARCHAR[]))
),
theirs AS (
    SELECT l.unit_code, s.period, s.submission_id, l.share, s.unit_code AS source_code
    FROM link l
    JOIN fct_submission s ON s.unit_code = l.old_code
    JOIN piece p ON p.period = s.period AND p.mapped
    WHERE s.is_current AND s.period IN (SELECT unnest($pieces::VARCHAR[]))
),
whole AS (
    SELECT t.unit_code, t.period FROM theirs t JOIN n_links n ON n.unit_code = t.unit_code
    GROUP BY t.unit_code, t.period, n.n
    HAVING count(DISTINCT t.source_code) = n.n
),
has AS (
    SELECT * FROM own
    UNION ALL
    SELECT t.* FROM theirs t
    SEMI JOIN whole w ON w.unit_code = t.unit_code AND w.period = t.period
),
covered_by_more AS (  -- (unit, piece) inside a coarser piece the unit has
    SELECT DISTINCT o.unit_code, i.inner_p AS period
    FROM has o JOIN inside i ON i.outer_p = o.period
),
chosen AS (
    SELECT h.* FROM has h
    ANTI JOIN covered_by_more x ON x.unit_code = h.unit_code AND x.period = h.period
),
covered AS (
    SELECT c.unit_code, sum(p.months) AS months
    FROM (SELECT DISTINCT unit_code, period FROM chosen) c JOIN piece p ON p.period = c.period
    GROUP BY c.unit_code
)
