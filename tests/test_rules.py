"""The catalog compiles into pandera schemas whose checks are named after rule ids."""

import numpy as np
import pandas as pd

from validations.rules import failures, long_checks, long_schema, wide_checks, wide_schema


def test_every_domain_and_cross_rule_is_compiled_once(catalog):
    names = {c.name for c in long_checks(catalog)}
    assert names == {
        "count_not_integer",
        "value_negative",
        "rate_out_of_range",
        "flag_not_binary",
        "value_implausible",
    }
    wide = {c.name for c in wide_checks(catalog)}
    compare = {r.id for r in catalog.rules_of_kind("compare")}
    assert compare <= wide
    rates = {f"rate_mismatch:{i.code}" for i in catalog.rates() if i.formula == "ratio"}
    assert rates <= wide and "change_rate_mismatch:crime_change_rate" in wide
    schema = wide_schema(catalog)
    assert {c.name for c in schema.checks} == wide


def test_wide_checks_flag_exactly_the_failing_rows_and_skip_missing_values(catalog):
    wide = pd.DataFrame(
        {
            "crime_cases": [40, 10, np.nan, 0],
            "crime_solved": [45, 5, 3, 0],
            "crime_clearance_rate": [100.0, 50.0, 1.0, 0.0],
            "drug_cases": [0, 2, 0, 0],
            "drug_suspects": [0, 1, 5, 0],
        }
    )
    got = failures(wide_schema(catalog), wide)
    assert got == {
        "crime_solved_le_cases": [0],
        "rate_mismatch:crime_clearance_rate": [0],
        "drug_suspects_ge_cases": [1],
    }


def test_long_checks_flag_domain_failures_once_per_row(catalog):
    frame = pd.DataFrame(
        {
            "sub": [0, 0, 0, 1, 1],
            "indicator": [
                "crime_cases",
                "crime_clearance_rate",
                "drug_free_commune",
                "assets_lost_mvnd",
                "crime_change_rate",
            ],
            "kind": ["count", "rate", "flag", "decimal", "rate"],
            "value": [1.5, 120.0, 2.0, -3.0, -40.0],
            "min": [0.0, 0.0, 0.0, 0.0, -100.0],
            "max": [np.nan, 100.0, 1.0, np.nan, np.nan],
        }
    )
    assert failures(long_schema(catalog), frame) == {
        "count_not_integer": [0],
        "rate_out_of_range": [1],
        "flag_not_binary": [2],
        "value_negative": [3],
    }


def test_the_ceiling_check_flags_values_above_it_and_frames_without_the_column_pass(catalog):
    frame = pd.DataFrame(
        {
            "sub": [0, 0, 0, 0],
            "indicator": [
                "crime_cases",
                "crime_cases",
                "poppy_destroyed_m2",
                "crime_clearance_rate",
            ],
            "kind": ["count", "count", "decimal", "rate"],
            "value": [1e8, 1e8 + 1, 2e10, 50.0],
            "min": [0.0, 0.0, 0.0, 0.0],
            "max": [np.nan, np.nan, np.nan, 100.0],
            "ceiling": [1e8, 1e8, 1e10, np.nan],
        }
    )
    assert failures(long_schema(catalog), frame) == {"value_implausible": [1, 2]}
    # a frame built without the column (bench/baselines.py) is not bound by it
    assert failures(long_schema(catalog), frame.drop(columns="ceiling")) == {}


def test_the_same_checks_run_directly_or_through_pandera_give_the_same_failures(validator):
    """Small batches run the checks' functions directly (the submitter path), large ones
    through pandera: one registration, two backends, the same Issues on every sample."""
    from conftest import SAMPLES
    from validations import rules
    from validations.readers import read_submission

    files = sorted((SAMPLES / "invalid").glob("*.*")) + sorted((SAMPLES / "messy").glob("*.*"))
    files += sorted((SAMPLES / "valid" / "2024-06" / "106").glob("*.*"))
    raws = [read_submission(p) for p in files]

    def issues(limit: int) -> list[list[tuple]]:
        saved = rules.DIRECT_MAX_ROWS
        rules.DIRECT_MAX_ROWS = limit
        try:
            return [
                sorted((i.rule_id, i.indicator or "", i.location or "") for i in r.issues)
                for r in validator.validate([*raws])
            ]
        finally:
            rules.DIRECT_MAX_ROWS = saved

    direct, through_pandera = issues(10**9), issues(-1)
    assert direct == through_pandera
    assert sum(map(len, direct)) >= 30  # the invalid samples do fail
