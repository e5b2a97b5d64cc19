-- 005: indicator semantics in dim_indicator, commune-credited completeness, rollup lineage,
-- views rebuilt. Status literals come from warehouse/status.py: the runner replaces
-- {{accepted}} with ('accepted', 'accepted_with_warnings') and {{held}} / {{rejected}} with
-- the quoted state.

ALTER TABLE dim_indicator ADD COLUMN over_time VARCHAR;          -- flow | stock | derived
ALTER TABLE dim_indicator ADD COLUMN over_time_reason VARCHAR;
ALTER TABLE dim_indicator ADD COLUMN tolerance_abs DOUBLE;
ALTER TABLE dim_indicator ADD COLUMN tolerance_rel DOUBLE;
ALTER TABLE dim_indicator ADD COLUMN valid_from DATE;
ALTER TABLE dim_indicator ADD COLUMN valid_to DATE;

-- what "so với cùng kỳ" compared with: last year's figure, the units it sums (the same code, or
-- across the 2025 reform the predecessors of the unit's territory) and whether a divided unit
-- made it approximate
ALTER TABLE fct_rollup ADD COLUMN last_year_value DOUBLE;
ALTER TABLE fct_rollup ADD COLUMN last_year_units VARCHAR[];
ALTER TABLE fct_rollup ADD COLUMN last_year_approx BOOLEAN;

ALTER TABLE fct_completeness ADD COLUMN expected_units VARCHAR[];
ALTER TABLE fct_completeness ADD COLUMN via_children VARCHAR[];      -- received through all their children
ALTER TABLE fct_completeness ADD COLUMN children_complete VARCHAR[]; -- children whose children all reported
ALTER TABLE fct_completeness ADD COLUMN leaves_expected INTEGER;     -- communes under the unit
ALTER TABLE fct_completeness ADD COLUMN leaves_received INTEGER;
ALTER TABLE fct_completeness ADD COLUMN leaves_missing VARCHAR[];

-- The 2025 reform's crosswalk (validations/crosswalk.py, loaded with the reference units):
-- a share of an old unit's figures belongs to a new unit's territory, from valid_from on.
CREATE TABLE dim_unit_crosswalk (
    old_code      VARCHAR NOT NULL,
    old_structure VARCHAR NOT NULL,     -- 'legacy'
    old_level     VARCHAR NOT NULL,     -- P | D (island district) | C
    new_code      VARCHAR NOT NULL,
    new_structure VARCHAR NOT NULL,     -- '2025'
    new_level     VARCHAR NOT NULL,     -- P | C
    share         DOUBLE NOT NULL,      -- 1 for whole units; a divided commune's rule otherwise
    method        VARCHAR NOT NULL,     -- same | merged | divided
    approximate   BOOLEAN NOT NULL,     -- a divided commune: any split is an estimate
    is_default    BOOLEAN NOT NULL,     -- the divided commune's default new unit
    valid_from    DATE NOT NULL,
    PRIMARY KEY (old_code, old_level, new_code)
);

-- Which submission versions produced each consolidated figure: for each (unit, period) of
-- fct_rollup, every current submission of the unit and of the units below it that was read
-- (the period's own, or the months a longer period was built from). Replaced with the rollup.
CREATE TABLE fct_rollup_lineage (
    unit_code       VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    submission_id   VARCHAR NOT NULL,
    consolidated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, period, submission_id)
);

CREATE OR REPLACE VIEW v_rollup AS
SELECT r.unit_code, u.name AS unit_name, r.level, r.period, r.structure,
       r.indicator, i.grp, i.label_vi, i.label_en, i.unit_vi, i.unit_en, i.kind,
       r.value, r.numerator, r.denominator, r.share, r.children_sum, r.children_reporting,
       r.source, r.target, r.attainment, r.attainment_points,
       r.change_vs_last_year, r.change_kind, r.completeness, r.consolidated_at,
       i.over_time, i.aggregation, r.last_year_value, r.last_year_units, r.last_year_approx
FROM fct_rollup r
LEFT JOIN dim_unit u ON u.unit_code = r.unit_code AND u.structure = r.structure
LEFT JOIN dim_indicator i ON i.code = r.indicator;

CREATE OR REPLACE VIEW v_completeness AS
SELECT c.unit_code, u.name AS unit_name, c.level, c.period, c.structure, c.child_level,
       c.expected, c.received, c.missing, c.on_time, c.late, c.completeness_pct,
       c.deadline, c.missing_units, c.late_units, c.consolidated_at,
       c.via_children, c.children_complete, c.leaves_expected, c.leaves_received,
       c.leaves_missing
FROM fct_completeness c
LEFT JOIN dim_unit u ON u.unit_code = c.unit_code AND u.structure = c.structure;

CREATE OR REPLACE VIEW v_rollup_lineage AS
SELECT l.unit_code, l.period, l.submission_id, s.unit_code AS source_unit_code,
       su.name AS source_unit_name, s.period AS source_period, s.version, s.status,
       s.file_name, s.received_at, s.content_hash, l.consolidated_at
FROM fct_rollup_lineage l
JOIN fct_submission s ON s.submission_id = l.submission_id
LEFT JOIN dim_unit su ON su.unit_code = s.unit_code AND su.structure = s.structure;

CREATE OR REPLACE VIEW v_submission_status AS
SELECT s.unit_code, any_value(u.name) AS unit_name, any_value(s.level) AS level, s.period,
       any_value(s.structure) AS structure,
       count(*) AS n_versions,
       max(s.version) AS latest_version,
       arg_max(s.status, s.version) AS latest_status,
       max(CASE WHEN s.is_current THEN s.submission_id END) AS current_submission_id,
       max(CASE WHEN s.is_current THEN s.version END) AS current_version,
       max(CASE WHEN s.is_current THEN s.status END) AS current_status,
       count(*) FILTER (WHERE s.status = {{rejected}}) AS n_rejected,
       count(*) FILTER (WHERE s.status = {{held}}) AS n_held,
       min(s.received_at) FILTER (WHERE s.validation_status IN {{accepted}}) AS first_accepted_at,
       max(s.received_at) AS last_received_at,
       any_value(a.state) AS approval_state
FROM fct_submission s
LEFT JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
LEFT JOIN fct_approval a ON a.unit_code = s.unit_code AND a.period = s.period
GROUP BY s.unit_code, s.period;
