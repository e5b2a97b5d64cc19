-- 001: dimensions, submissions, values, issues, approvals, audit.
-- Conventions: unit codes are zero-padded VARCHAR; periods are canonical codes ('2024-06',
-- '2024-Q2', '2024-H1', '2024'); timestamps are naive local time (Asia/Ho_Chi_Minh).
-- No foreign keys: the single writer (warehouse.store / warehouse.rollup) keeps references
-- consistent, and DuckDB foreign keys would block the set-based replace-in-one-transaction loads.

CREATE TABLE dim_unit (
    unit_code     VARCHAR NOT NULL,
    structure     VARCHAR NOT NULL,          -- 'legacy' (3 levels, <= 2025-06-30) | '2025'
    name          VARCHAR NOT NULL,
    level         VARCHAR NOT NULL,          -- 'P' | 'D' | 'C'
    parent_code   VARCHAR,
    province_code VARCHAR NOT NULL,
    valid_from    DATE,
    valid_to      DATE,
    PRIMARY KEY (unit_code, structure)
);

CREATE TABLE dim_indicator (
    code            VARCHAR PRIMARY KEY,
    grp             VARCHAR NOT NULL,
    label_vi        VARCHAR NOT NULL,
    label_en        VARCHAR NOT NULL,
    unit_vi         VARCHAR,
    unit_en         VARCHAR,
    levels          VARCHAR[] NOT NULL,
    kind            VARCHAR NOT NULL,        -- count | decimal | rate | flag
    aggregation     VARCHAR NOT NULL,        -- sum | ratio | count_share
    parent_relation VARCHAR NOT NULL,        -- '=' | '>=' | '-'
    numerator       VARCHAR,
    denominator     VARCHAR,
    formula         VARCHAR,                 -- ratio | change (rates only)
    target_op       VARCHAR,
    target_value    DOUBLE,
    target_source   VARCHAR
);

CREATE TABLE fct_submission (
    submission_id     VARCHAR PRIMARY KEY,   -- '<unit>:<period>:v<version>'
    unit_code         VARCHAR,               -- NULL when the file named no readable unit
    period            VARCHAR,
    structure         VARCHAR,               -- structure in force at the period's closing date
    level             VARCHAR,
    version           INTEGER NOT NULL,      -- 1, 2, ... per unit + period
    content_hash      VARCHAR NOT NULL,
    file_name         VARCHAR,
    batch_id          VARCHAR NOT NULL,
    received_at       TIMESTAMP NOT NULL,
    validation_status VARCHAR NOT NULL,      -- the validator's verdict
    status            VARCHAR NOT NULL,      -- accepted | accepted_with_warnings | rejected | held
    supersedes        VARCHAR,               -- submission_id it replaced as current
    is_current        BOOLEAN NOT NULL DEFAULT false,
    n_values          INTEGER NOT NULL DEFAULT 0,
    n_errors          INTEGER NOT NULL DEFAULT 0,
    n_warnings        INTEGER NOT NULL DEFAULT 0,
    loaded_at         TIMESTAMP NOT NULL
);

CREATE TABLE fct_value (
    submission_id VARCHAR NOT NULL,
    unit_code     VARCHAR,
    period        VARCHAR,
    indicator     VARCHAR NOT NULL,
    value         DOUBLE,
    note          VARCHAR,
    location      VARCHAR
);

CREATE TABLE fct_issue (
    submission_id VARCHAR NOT NULL,
    rule_id       VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,
    unit_code     VARCHAR,
    period        VARCHAR,
    indicator     VARCHAR,
    location      VARCHAR,
    value         VARCHAR,
    expected      VARCHAR,
    message_vi    VARCHAR NOT NULL,
    message_en    VARCHAR NOT NULL,
    hint_vi       VARCHAR,
    hint_en       VARCHAR,
    extra         VARCHAR                    -- JSON
);

CREATE TABLE audit_log (
    "at"          TIMESTAMP NOT NULL,   -- quoted: AT is a keyword in DuckDB 2
    actor         VARCHAR NOT NULL,
    action        VARCHAR NOT NULL,          -- ingest | supersede | release | approve | accept | unapprove | consolidate
    unit_code     VARCHAR,
    period        VARCHAR,
    submission_id VARCHAR,
    from_status   VARCHAR,
    to_status     VARCHAR,
    detail        VARCHAR
);

CREATE TABLE fct_approval (
    unit_code VARCHAR NOT NULL,
    period    VARCHAR NOT NULL,
    state     VARCHAR NOT NULL,              -- approved | accepted
    actor     VARCHAR NOT NULL,
    "at"      TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, period)
);

CREATE INDEX idx_submission_key ON fct_submission (unit_code, period);
CREATE INDEX idx_value_submission ON fct_value (submission_id);
CREATE INDEX idx_issue_submission ON fct_issue (submission_id);
