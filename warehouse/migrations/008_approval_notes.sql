-- 008: an approved period does not move; what would move it is noted.
-- An approved or accepted period (and the units and periods it locks) is never consolidated
-- again: its figures stay as approved, the comparisons shown with them included (last year's
-- figure, the change, the targets' judgements). When a later consolidation computes other
-- figures for it (the refresh after a correction of last year's figures it compares with, a
-- release, the consolidation of the unit above), the difference is recorded here, with the
-- submission version that caused it, and shown beside the period (rollup, report, portal)
-- until the period is unapproved: the refresh then consolidates it again and the note goes
-- (warehouse/rollup/notes.py).

CREATE TABLE fct_approval_note (
    unit_code        VARCHAR NOT NULL,  -- the locked unit and period
    period           VARCHAR NOT NULL,
    structure        VARCHAR NOT NULL,
    source_unit_code VARCHAR,           -- whose new version changed its inputs (NULL: unknown)
    source_period    VARCHAR,
    submission_id    VARCHAR,
    version          INTEGER,
    received_at      TIMESTAMP,
    units            VARCHAR[],         -- the units whose figures would change (it, communes)
    indicators       VARCHAR[],         -- the indicators whose figures would change
    noted_at         TIMESTAMP NOT NULL
);
