"""A test per rule: it fires on its own sample file and stays silent on every valid one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from conftest import SAMPLES
from validations.readers import read_submission

INVALID = sorted((SAMPLES / "invalid").iterdir())
# rules the default form cannot break: their sample is checked with a provincial catalog
CATALOG_FOR = {"indicator_not_in_force": SAMPLES / "catalogs" / "lai_chau.yaml"}
# rules checked against the warehouse (by the ingest flow): their sample is checked with the
# samples of last year loaded and consolidated
WAREHOUSE_RULES = {"previous_year_mismatch"}


@pytest.fixture(scope="module")
def last_year(tmp_path_factory, validator, catalog, units):
    """A warehouse holding every valid 2023-06 sample, province 12 consolidated."""
    from validations.intake import expand_paths, validate_paths
    from warehouse.db import open_warehouse
    from warehouse.rollup import consolidate
    from warehouse.staging import write_staging
    from warehouse.store import load_batch

    root = tmp_path_factory.mktemp("last_year")
    out = validate_paths(expand_paths([SAMPLES / "valid" / "2023-06"]), validator)
    con = open_warehouse(root / "wh.duckdb", catalog, units)
    load_batch(con, write_staging(out.results, root / "st", "b", out.hashes, None))
    consolidate(con, "2023-06", "12", catalog, units)
    yield con
    con.close()


VALID = sorted((SAMPLES / "valid").rglob("*.*"))
MESSY = sorted(p for p in (SAMPLES / "messy").iterdir() if p.name != "canonical.csv")


def test_every_catalog_rule_has_exactly_one_invalid_sample(catalog):
    assert {p.stem for p in INVALID} == set(catalog.rules)


def test_indicators_outside_their_validity_are_neither_asked_nor_taken(validator, tmp_path):
    """A provincial indicator valid from 2025-07-01: not demanded of 2024, refused in it,
    demanded (when required) from 2025-07 on."""
    from validations.catalog import load_catalog
    from validations.validator import Validator

    cat = load_catalog(CATALOG_FOR["indicator_not_in_force"])
    v = Validator(catalog=cat, units=validator.units, today=validator.today)
    june_2024 = sorted((SAMPLES / "valid" / "2024-06" / "105").glob("0*.csv"))[0]
    assert str(v.validate_file(june_2024).status) == "accepted"  # not asked of 2024
    bad = v.validate_file(SAMPLES / "invalid" / "indicator_not_in_force.csv")
    (issue,) = bad.issues
    assert issue.indicator == "cyber_fraud_cases" and "2025-07-01" in issue.message_en
    required = tmp_path / "req.yaml"
    required.write_text(
        f"include: {CATALOG_FOR['indicator_not_in_force'].resolve()}\n"
        "indicators:\n  - code: cyber_fraud_cases\n    required: true\n",
        encoding="utf-8",
    )
    v2 = Validator(catalog=load_catalog(required), units=validator.units, today=validator.today)
    assert str(v2.validate_file(june_2024).status) == "accepted"
    july_2025 = sorted((SAMPLES / "valid" / "2025-07" / "communes_12").glob("*.csv"))[0]
    missing = v2.validate_file(july_2025).issues
    assert [(i.rule_id, i.indicator) for i in missing] == [
        ("indicator_missing", "cyber_fraud_cases")
    ]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_rule_fires_on_its_sample_and_nothing_else_does(
    validator, catalog, units, path: Path, request
):
    if path.stem in CATALOG_FOR:
        from validations.catalog import load_catalog
        from validations.validator import Validator

        catalog = load_catalog(CATALOG_FOR[path.stem])
        validator = Validator(catalog=catalog, units=validator.units, today=validator.today)
    result = validator.validate_file(path)
    if path.stem in WAREHOUSE_RULES:
        from warehouse.previous_year import add_previous_year_warnings

        con = request.getfixturevalue("last_year")
        assert add_previous_year_warnings(con, [result], catalog, units) == 1
    fired = Counter(i.rule_id for i in result.issues)
    assert fired == Counter({path.stem: fired[path.stem]}) and fired[path.stem] >= 1
    expected_status = (
        "rejected" if catalog.rule(path.stem).severity == "error" else "accepted_with_warnings"
    )
    assert str(result.status) == expected_status
    issue = result.issues[0]
    assert issue.message_vi and issue.message_en and issue.hint_vi
    assert "{" not in issue.message_vi + issue.message_en + issue.hint_vi  # all placeholders filled


def test_valid_samples_fire_nothing(validator):
    raws = [read_submission(p) for p in VALID]
    results = validator.validate(raws)
    noisy = {r.path: [i.rule_id for i in r.issues] for r in results if r.issues}
    assert noisy == {}
    assert len(results) == len(VALID) >= 2 * 106 + 2 * 8 + 2  # two months of Lai Châu at least
    levels = Counter(r.level for r in results)
    assert levels["C"] >= 212 and levels["D"] >= 16 and levels["P"] >= 2


def test_batch_and_single_file_validation_agree(validator):
    paths = INVALID[:10] + VALID[:5]
    batch = validator.validate([read_submission(p) for p in paths])
    for path, res in zip(paths, batch, strict=True):
        one = validator.validate_file(path)
        assert [i.rule_id for i in res.issues] == [i.rule_id for i in one.issues], path
        assert res.values.equals(one.values)


def _values(result) -> pd.DataFrame:
    return result.values.set_index("indicator")[
        ["unit_code", "period", "value", "note"]
    ].sort_index()


@pytest.mark.parametrize("path", MESSY, ids=lambda p: p.name)
def test_messy_variants_parse_to_the_canonical_values(validator, path: Path):
    canonical = validator.validate_file(SAMPLES / "messy" / "canonical.csv")
    result = validator.validate_file(path)
    assert str(result.status) == "accepted", [i.message_en for i in result.issues]
    pd.testing.assert_frame_equal(_values(result), _values(canonical))
    assert _values(result).loc["propaganda_participants", "value"] == 1250
    assert _values(result).loc["crime_cases", "note"] == "Ghi chú: đã xác minh"


def test_issue_locations_point_at_rows_and_cells(validator):
    csv_issue = validator.validate_file(SAMPLES / "invalid" / "crime_solved_le_cases.csv").issues[0]
    rows = (SAMPLES / "invalid" / "crime_solved_le_cases.csv").read_text().splitlines()
    line = int(csv_issue.location.split()[1])
    assert rows[line - 1].split(",")[2] == "crime_solved"
    assert (csv_issue.value, csv_issue.expected) == (5, "≤ 3")
    assert "Số vụ điều tra, khám phá = 5 lớn hơn" in csv_issue.message_vi
    assert "correct one of them and resubmit" in csv_issue.hint_en
    xlsx_issue = validator.validate_file(SAMPLES / "invalid" / "value_formula.xlsx").issues[0]
    assert xlsx_issue.location.startswith("BaoCao!E") and xlsx_issue.value == "=1+1"


def test_rate_is_not_demanded_when_the_denominator_is_zero(validator, tmp_path):
    src = (SAMPLES / "messy" / "canonical.csv").read_text(encoding="utf-8").splitlines()
    rows = [r for r in src if ",crime_clearance_rate," not in r]
    rows = [
        r.replace(",crime_cases,", ",crime_cases,X").replace(",crime_solved,", ",crime_solved,X")
        for r in rows
    ]
    fixed = []
    for r in rows:
        parts = r.split(",")
        if parts[2] in ("crime_cases", "crime_solved"):
            parts[3] = "0"
        fixed.append(",".join(parts))
    path = tmp_path / "zero.csv"
    path.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    result = validator.validate_file(path)
    assert [i.rule_id for i in result.issues] == []


def test_rate_tolerance_is_the_two_decimal_rounding(validator, tmp_path):
    base = (SAMPLES / "invalid" / "rate_mismatch.csv").read_text(encoding="utf-8")
    # 6 of 7 solved = 85.714...%: 85.71 is right, 85.7 is not
    for reported, ok in (("85.71", True), ("85.72", False), ("85.7", False)):
        path = tmp_path / f"r{reported}.csv"
        path.write_text(
            base.replace(",crime_clearance_rate,50,", f",crime_clearance_rate,{reported},")
        )
        fired = [i.rule_id for i in validator.validate_file(path).issues]
        assert fired == ([] if ok else ["rate_mismatch"]), reported


def test_count_written_with_a_decimal_comma_gets_a_helpful_hint(validator):
    issue = validator.validate_file(SAMPLES / "invalid" / "count_not_integer.csv").issues[0]
    assert issue.value == 2.5 and "1.250" in issue.hint_vi


def test_last_years_figure_is_checked_against_the_warehouse(last_year, validator, catalog, units):
    from warehouse.previous_year import add_previous_year_warnings

    result = validator.validate_file(SAMPLES / "invalid" / "previous_year_mismatch.csv")
    add_previous_year_warnings(last_year, [result], catalog, units)
    (issue,) = result.issues
    assert (issue.rule_id, issue.severity, issue.indicator) == (
        "previous_year_mismatch",
        "warning",
        "crime_cases_prev",
    )
    assert issue.value == 8 and issue.expected == "3" and issue.location == "row 4"
    assert "Phường Quyết Thắng (03386)" in issue.message_vi and "2023-06" in issue.message_en
    assert str(result.status) == "accepted_with_warnings"  # a warning never rejects
    # the valid June reports of Lai Châu agree with their 2023-06 figures
    june = [
        validator.validate_file(p) for p in sorted((SAMPLES / "valid" / "2024-06").rglob("*.csv"))
    ]
    assert add_previous_year_warnings(last_year, june, catalog, units) == 0
    assert sum(r.checked.get("previous_year_mismatch", 0) for r in june) == len(june)
