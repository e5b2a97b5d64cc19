-- The statistics an outlier rule scores a value with (validations/outliers.py, _scores): n,
-- mean, sample standard deviation, median and median absolute deviation of its sample, from
-- the (_row, value) pairs of the rule's own query (outlier_history.sql, outlier_peers.sql).
SELECT _row,
       count(*) AS n,
       avg(value) AS mean,
       stddev_samp(value) AS std,
       median(value) AS median,
       mad(value) AS mad
FROM ({pairs}) AS pairs
GROUP BY _row
