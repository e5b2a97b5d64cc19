-- 006: fct_rollup and fct_rollup_lineage without PRIMARY KEY.
--
-- Since 005 fct_rollup holds every commune's rows too: about 340,000 rows a national month,
-- 41 million over ten years. Its ART index (unit_code, period, indicator) was maintained at
-- every insert and at COMMIT: 2 of the 5 seconds of a national consolidation, measured
-- (bench/run.py --scale national). Nothing reads through it (reads filter on period, where
-- the row groups' min-max prune), and uniqueness is kept by the only writer
-- (warehouse.rollup.writing.write_levels: DELETE then INSERT of each consolidated
-- (unit, period) in one transaction, rows deduplicated before the INSERT), checked by
-- tests/test_rollup_figures.py and by the GX suite (warehouse/quality).
-- Columns, order and NOT NULLs as before; the views read the new tables by name.

CREATE TABLE fct_rollup_006 (
    unit_code           VARCHAR NOT NULL,
    level               VARCHAR NOT NULL,
    period              VARCHAR NOT NULL,
    structure           VARCHAR NOT NULL,
    indicator           VARCHAR NOT NULL,
    value               DOUBLE,
    numerator           DOUBLE,
    denominator         DOUBLE,
    share               DOUBLE,
    children_sum        DOUBLE,
    children_reporting  INTEGER,
    source              VARCHAR NOT NULL,
    target              VARCHAR,
    attainment          VARCHAR,
    attainment_points   DOUBLE,
    change_vs_last_year DOUBLE,
    change_kind         VARCHAR,
    completeness        DOUBLE,
    consolidated_at     TIMESTAMP NOT NULL,
    last_year_value     DOUBLE,
    last_year_units     VARCHAR[],
    last_year_approx    BOOLEAN
);
INSERT INTO fct_rollup_006 SELECT * FROM fct_rollup ORDER BY period, unit_code;
DROP TABLE fct_rollup;
ALTER TABLE fct_rollup_006 RENAME TO fct_rollup;

CREATE TABLE fct_rollup_lineage_006 (
    unit_code       VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    submission_id   VARCHAR NOT NULL,
    consolidated_at TIMESTAMP NOT NULL
);
INSERT INTO fct_rollup_lineage_006 SELECT * FROM fct_rollup_lineage ORDER BY period, unit_code;
DROP TABLE fct_rollup_lineage;
ALTER TABLE fct_rollup_lineage_006 RENAME TO fct_rollup_lineage;
