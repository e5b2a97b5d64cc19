-- 003: stable views for readers (dashboards, reports, ad-hoc DuckDB queries).
-- Readers should query these, not the fct_ tables, whose extra columns may change.

CREATE OR REPLACE VIEW v_rollup AS
SELECT r.unit_code, u.name AS unit_name, r.level, r.period, r.structure,
       r.indicator, i.grp, i.label_vi, i.label_en, i.unit_vi, i.unit_en, i.kind,
       r.value, r.numerator, r.denominator, r.share, r.children_sum, r.children_reporting,
       r.source, r.target, r.attainment, r.attainment_points,
       r.change_vs_last_year, r.change_kind, r.completeness, r.consolidated_at
FROM fct_rollup r
LEFT JOIN dim_unit u ON u.unit_code = r.unit_code AND u.structure = r.structure
LEFT JOIN dim_indicator i ON i.code = r.indicator;

CREATE OR REPLACE VIEW v_completeness AS
SELECT c.unit_code, u.name AS unit_name, c.level, c.period, c.structure, c.child_level,
       c.expected, c.received, c.missing, c.on_time, c.late, c.completeness_pct,
       c.deadline, c.missing_units, c.late_units, c.consolidated_at
FROM fct_completeness c
LEFT JOIN dim_unit u ON u.unit_code = c.unit_code AND u.structure = c.structure;

-- One row per unit + period that sent anything.
CREATE OR REPLACE VIEW v_submission_status AS
SELECT s.unit_code, any_value(u.name) AS unit_name, any_value(s.level) AS level, s.period,
       any_value(s.structure) AS structure,
       count(*) AS n_versions,
       max(s.version) AS latest_version,
       arg_max(s.status, s.version) AS latest_status,
       max(CASE WHEN s.is_current THEN s.submission_id END) AS current_submission_id,
       max(CASE WHEN s.is_current THEN s.version END) AS current_version,
       max(CASE WHEN s.is_current THEN s.status END) AS current_status,
       count(*) FILTER (WHERE s.status = 'rejected') AS n_rejected,
       count(*) FILTER (WHERE s.status = 'held') AS n_held,
       min(s.received_at) FILTER (
           WHERE s.validation_status IN ('accepted', 'accepted_with_warnings')
       ) AS first_accepted_at,
       max(s.received_at) AS last_received_at,
       any_value(a.state) AS approval_state
FROM fct_submission s
LEFT JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
LEFT JOIN fct_approval a ON a.unit_code = s.unit_code AND a.period = s.period
GROUP BY s.unit_code, s.period;

CREATE OR REPLACE VIEW v_issues AS
SELECT 'submission' AS origin, i.submission_id, s.file_name, s.status AS submission_status,
       s.is_current, i.unit_code, u.name AS unit_name, i.period, i.rule_id, i.severity,
       i.indicator, i.location, i.value, i.expected, i.message_vi, i.message_en,
       i.hint_vi, i.hint_en, i.extra
FROM fct_issue i
JOIN fct_submission s ON s.submission_id = i.submission_id
LEFT JOIN dim_unit u ON u.unit_code = i.unit_code AND u.structure = s.structure
UNION ALL
SELECT 'consolidation' AS origin, NULL, NULL, NULL, NULL, c.unit_code, u.name, c.period,
       c.rule_id, c.severity, c.indicator, c.location, c.value, c.expected,
       c.message_vi, c.message_en, c.hint_vi, c.hint_en, c.extra
FROM fct_consolidation_issue c
LEFT JOIN dim_unit u ON u.unit_code = c.unit_code AND u.structure = c.structure;
