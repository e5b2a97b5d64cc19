-- Each judged value's history (validations/outliers.py, history_scores; outlier_stats.sql turns
-- the pairs into statistics): the unit's values of the previous $n_periods periods of the same
-- kind (months with months), in the same structure where both say theirs (after the 2025
-- reform a code may name another commune). One row (_row, value) per value of the history.
--   _values:  _row, unit_code, period, indicator, structure   (the values judged)
--   _periods: period, kind, ord   (consecutive periods of a kind have consecutive ords)
--   the sample: unit_code, period, structure, indicator, value   (the history: one row per
--             unit, period, indicator and structure; validations.outliers.Sample)
-- Both sides are materialised with their period's kind and order first, so that DuckDB joins
-- them on the unit and indicator, never on every pair of periods.
WITH history AS MATERIALIZED (
    SELECT s.unit_code, s.structure, s.indicator, p.kind, p.ord, s.value
    FROM ({sample}) AS s JOIN _periods AS p ON p.period = s.period
    WHERE s.value IS NOT NULL
),
judged AS MATERIALIZED (
    SELECT v._row, v.unit_code, v.structure, v.indicator, p.kind, p.ord
    FROM _values AS v JOIN _periods AS p ON p.period = v.period
)
SELECT v._row, h.value
FROM judged AS v
JOIN history AS h
  ON h.unit_code = v.unit_code AND h.indicator = v.indicator AND h.kind = v.kind
 AND h.structure IS NOT DISTINCT FROM v.structure
WHERE h.ord < v.ord AND h.ord >= v.ord - $n_periods
