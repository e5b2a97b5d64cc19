-- The statistics of each judged value against its peers (validations/outliers.py, peer_scores):
-- n, mean, sample std, median and MAD of the values of the same period and indicator of the
-- other units with the same parent (a unit is never its own peer).
--   _values:  _row, unit_code, parent_code, period, indicator   (the values judged)
--   the sample: unit_code, parent_code, period, indicator, value, seq   (the peers; of several
--             rows for one unit, period and indicator the highest seq counts)
WITH sample AS (
    SELECT unit_code, period, indicator,
           arg_max(parent_code, seq) AS parent_code, arg_max(value, seq) AS value
    FROM ({sample}) AS s
    WHERE value IS NOT NULL AND parent_code IS NOT NULL
    GROUP BY unit_code, period, indicator
)
SELECT v._row,
       count(*) AS n,
       avg(s.value) AS mean,
       stddev_samp(s.value) AS std,
       median(s.value) AS median,
       mad(s.value) AS mad
FROM _values AS v
JOIN sample AS s
  ON s.parent_code = v.parent_code AND s.period = v.period AND s.indicator = v.indicator
 AND s.unit_code <> v.unit_code
GROUP BY v._row
