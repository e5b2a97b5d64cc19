-- 007: what the period report needs to say what a figure means.
-- - dim_indicator.direction: which way is good (down_is_good | up_is_good | neutral), so that
--   every reader colours and words a change by its meaning, never by its sign alone;
-- - fct_rollup: the target a figure was judged against is the unit's own (its province's
--   resolution, else the form's national goal): its source, the goal as set and its horizon
--   (`target` stays the goal this period is judged on: a year's 30 % is 15 % in a half-year
--   judged pro rata; NULL when the period is not judged, e.g. a year's goal in a month);
-- - fct_completeness: a quarter, half-year or year counts months: the communes' monthly
--   reports expected and received, and the units whose figures sum only some of the months
--   (catalog calendar.partial_months: sum_reported), with how many months each sent.

ALTER TABLE dim_indicator ADD COLUMN direction VARCHAR;

ALTER TABLE fct_rollup ADD COLUMN target_source VARCHAR;
ALTER TABLE fct_rollup ADD COLUMN target_goal VARCHAR;       -- e.g. '>= 30', on its horizon
ALTER TABLE fct_rollup ADD COLUMN target_horizon VARCHAR;    -- Y | H | Q | M

ALTER TABLE fct_completeness ADD COLUMN months INTEGER;                  -- months in the period
ALTER TABLE fct_completeness ADD COLUMN leaves_months_expected INTEGER;  -- communes x months
ALTER TABLE fct_completeness ADD COLUMN leaves_months_received INTEGER;
ALTER TABLE fct_completeness ADD COLUMN partial_units VARCHAR[];   -- some months only
ALTER TABLE fct_completeness ADD COLUMN partial_months INTEGER[];  -- months each of them sent

CREATE OR REPLACE VIEW v_rollup AS
SELECT r.unit_code, u.name AS unit_name, r.level, r.period, r.structure,
       r.indicator, i.grp, i.label_vi, i.label_en, i.unit_vi, i.unit_en, i.kind,
       r.value, r.numerator, r.denominator, r.share, r.children_sum, r.children_reporting,
       r.source, r.target, r.attainment, r.attainment_points,
       r.change_vs_last_year, r.change_kind, r.completeness, r.consolidated_at,
       i.over_time, i.aggregation, r.last_year_value, r.last_year_units, r.last_year_approx,
       i.direction, r.target_source, r.target_goal, r.target_horizon
FROM fct_rollup r
LEFT JOIN dim_unit u ON u.unit_code = r.unit_code AND u.structure = r.structure
LEFT JOIN dim_indicator i ON i.code = r.indicator;

CREATE OR REPLACE VIEW v_completeness AS
SELECT c.unit_code, u.name AS unit_name, c.level, c.period, c.structure, c.child_level,
       c.expected, c.received, c.missing, c.on_time, c.late, c.completeness_pct,
       c.deadline, c.missing_units, c.late_units, c.consolidated_at,
       c.via_children, c.children_complete, c.leaves_expected, c.leaves_received,
       c.leaves_missing, c.months, c.leaves_months_expected, c.leaves_months_received,
       c.partial_units, c.partial_months
FROM fct_completeness c
LEFT JOIN dim_unit u ON u.unit_code = c.unit_code AND u.structure = c.structure;
