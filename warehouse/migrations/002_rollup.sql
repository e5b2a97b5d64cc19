-- 002: consolidation outputs (written only by warehouse.rollup.consolidate).

CREATE TABLE fct_rollup (
    unit_code           VARCHAR NOT NULL,
    level               VARCHAR NOT NULL,
    period              VARCHAR NOT NULL,
    structure           VARCHAR NOT NULL,
    indicator           VARCHAR NOT NULL,
    value               DOUBLE,              -- official value (own figure, else from children)
    numerator           DOUBLE,              -- rates: sum of numerator parts; flags: count of 1s
    denominator         DOUBLE,              -- rates: sum of denominator parts; flags: reporting communes
    share               DOUBLE,              -- flags: 100 * numerator / denominator
    children_sum        DOUBLE,              -- sums: children's sum; rates: rate of children's sums
    children_reporting  INTEGER,             -- children that gave this indicator
    source              VARCHAR NOT NULL,    -- own | children
    target              VARCHAR,             -- e.g. '>= 75'
    attainment          VARCHAR,             -- reached | exceeded | missed
    attainment_points   DOUBLE,
    change_vs_last_year DOUBLE,
    change_kind         VARCHAR,             -- percent (sums) | points (rates, flag shares)
    completeness        DOUBLE,              -- % of expected children received
    consolidated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, period, indicator)
);

CREATE TABLE fct_completeness (
    unit_code        VARCHAR NOT NULL,
    level            VARCHAR NOT NULL,
    period           VARCHAR NOT NULL,
    structure        VARCHAR NOT NULL,
    child_level      VARCHAR,
    expected         INTEGER NOT NULL,
    received         INTEGER NOT NULL,
    missing          INTEGER NOT NULL,
    on_time          INTEGER NOT NULL,
    late             INTEGER NOT NULL,
    completeness_pct DOUBLE,
    deadline         DATE,
    missing_units    VARCHAR[],
    late_units       VARCHAR[],
    consolidated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (unit_code, period)
);

CREATE TABLE fct_consolidation_issue (
    unit_code       VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    structure       VARCHAR NOT NULL,
    rule_id         VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL,
    indicator       VARCHAR,
    location        VARCHAR,
    value           VARCHAR,
    expected        VARCHAR,
    message_vi      VARCHAR NOT NULL,
    message_en      VARCHAR NOT NULL,
    hint_vi         VARCHAR,
    hint_en         VARCHAR,
    extra           VARCHAR,                 -- JSON: own, children_sum, likely_cause
    consolidated_at TIMESTAMP NOT NULL
);
