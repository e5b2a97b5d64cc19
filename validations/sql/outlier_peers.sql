-- Each judged value's peers (validations/outliers.py, peer_scores; outlier_stats.sql turns the
-- pairs into statistics): the values of the same period and indicator of the other units with
-- the same parent (a unit is never its own peer). One row (_row, value) per peer.
--   _values:  _row, unit_code, parent_code, period, indicator   (the values judged)
--   the sample: unit_code, parent_code, period, indicator, value   (the peers: one row per
--             unit, period and indicator; validations.outliers.Sample)
WITH sample AS (
    SELECT unit_code, period, indicator, parent_code, value
    FROM ({sample}) AS s
    WHERE value IS NOT NULL AND parent_code IS NOT NULL
)
SELECT v._row, s.value
FROM _values AS v
JOIN sample AS s
  ON s.parent_code = v.parent_code AND s.period = v.period AND s.indicator = v.indicator
 AND s.unit_code <> v.unit_code
