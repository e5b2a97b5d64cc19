"""A test per rule: it fires on its own sample file and stays silent on every valid one."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
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


# --- nothing read is dropped, mis-filed or guessed (issue 13 part 2, issue 9 part 5) -----------
CANON_CSV = SAMPLES / "messy" / "canonical.csv"


def _rows() -> list[list[str]]:
    import csv

    with CANON_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]], sep: str = ",", bare: bool = False) -> Path:
    """Rows as CSV; `bare`: joined with the separator, no quoting (as a careless export)."""
    import csv
    import io

    if bare:
        text = "".join(sep.join(r) + "\n" for r in rows)
    else:
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
        text = buf.getvalue()
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_of_a_second_spelling_are_kept_and_checked(validator, tmp_path):
    """`2024-06` and `6/2024`, `03386` and `3386` in one file: every row is read, and a wrong
    rate on a row of the second spelling is still caught."""
    rows = _rows()
    for i, r in enumerate(rows[1:], 1):
        if i % 2:
            r[0], r[1] = "3386", "6/2024"
    res = validator.validate_file(_write_rows(tmp_path / "mixed.csv", rows))
    canon = validator.validate_file(CANON_CSV)
    assert str(res.status) == "accepted" and res.n_values == canon.n_values == len(rows) - 1
    pd.testing.assert_frame_equal(_values(res), _values(canon))
    rows.append(["3386", "T6/2024", "crime_clearance_rate", "12.5", ""])  # 4 of 8 is 50
    for r in rows[1:]:
        if r[2] == "crime_cases":
            r[3] = "8"
        elif r[2] == "crime_solved":
            r[3] = "4"
        elif r[2] == "crime_change_rate":  # 8 cases against last year's
            prev = float(next(x[3] for x in rows if x[2] == "crime_cases_prev"))
            r[3] = f"{100 * (8 - prev) / prev:.2f}"
    res = validator.validate_file(_write_rows(tmp_path / "rate.csv", rows))
    assert [i.rule_id for i in res.issues] == ["rate_mismatch"]


def test_two_spellings_that_still_differ_are_one_error_naming_them(validator, tmp_path):
    rows = _rows()
    rows[3][1] = "5/2024"
    res = validator.validate_file(_write_rows(tmp_path / "two.csv", rows))
    assert [i.rule_id for i in res.issues] == ["file_several_submissions"]  # no false missing
    assert "2024-05 ('5/2024')" in res.issues[0].message_en
    assert "2024-06" in res.issues[0].message_en


@pytest.mark.parametrize(
    ("period", "rule"),
    [("2024.1", "period_ambiguous"), ("2024,1", "period_ambiguous"), ("2024.10", None)],
)
def test_a_period_excel_kept_as_a_number_is_read_only_when_unambiguous(
    validator, tmp_path, period, rule
):
    rows = _rows()
    for r in rows[1:]:
        r[1] = period
    res = validator.validate_file(_write_rows(tmp_path / "p.csv", rows))
    if rule is None:
        assert res.period == "2024-10" and not res.errors
        return
    assert [i.rule_id for i in res.issues] == [rule]
    assert "January or October 2024" in res.issues[0].message_en
    assert "tháng 01/2024 hoặc tháng 10/2024" in res.issues[0].message_vi


def test_a_numeric_period_cell_of_a_form(validator, tmp_path):
    from openpyxl import load_workbook

    for value, expected in ((2024.1, "period_ambiguous"), (2024.06, None), (2024.12, None)):
        wb = load_workbook(SAMPLES / "messy" / "form.xlsx")
        ws = wb["BaoCao"]
        cell = next(c for row in ws.iter_rows(max_row=10) for c in row if c.value == "Kỳ báo cáo")
        target = next(x for x in ws[cell.row][cell.column :] if x.value not in (None, ""))
        target.value = value
        path = tmp_path / f"p{value}.xlsx"
        wb.save(path)
        res = validator.validate_file(path)
        if expected:
            assert [(i.rule_id, i.location) for i in res.issues] == [
                (expected, target.coordinate)
            ] or [i.rule_id for i in res.issues] == [expected]
        else:
            assert res.period == f"2024-{round((value - 2024) * 100):02d}"


@pytest.mark.parametrize(
    ("cells", "sep", "rule"),
    [
        (["2", "5"], ",", "value_split_decimal"),  # 2,5 unquoted before a note column
        (["1.234", "5"], ",", "value_split_decimal"),  # 1.234,5
        (["2", "5", "x"], ",", "row_extra_fields"),
        (["2", "", "5"], ",", "row_extra_fields"),
        (["2", "5"], ";", None),  # the note really is 5: a ';' file cannot split a decimal
        (["2", "ghi chú 5"], ",", None),
        (['"2,5"', ""], ",", None),  # quoted: the value is 2.5
        (["2", "", "", ""], ",", None),  # trailing separators are nothing
    ],
)
def test_a_row_whose_cells_do_not_line_up_is_an_error_on_that_row(
    validator, tmp_path, cells, sep, rule
):
    rows = _rows()
    for r in rows[1:]:
        if r[2] == "poppy_destroyed_m2":
            r[3:] = cells
            line = rows.index(r) + 1
    res = validator.validate_file(_write_rows(tmp_path / "r.csv", rows, sep=sep, bare=True))
    if rule is None:
        assert res.errors == [], [i.message_en for i in res.errors]
        return
    assert [(i.rule_id, i.location, i.indicator) for i in res.errors] == [
        (rule, f"row {line}", "poppy_destroyed_m2")
    ]
    assert str(res.status) == "rejected"


def test_a_header_without_note_column_and_an_unquoted_decimal(validator, tmp_path):
    """The issue's example with a four-column header: the 5 is a cell beyond the header."""
    rows = [r[:4] for r in _rows()]
    for r in rows[1:]:
        if r[2] == "poppy_destroyed_m2":
            r[3:] = ["2", "5"]
    res = validator.validate_file(_write_rows(tmp_path / "r.csv", rows, bare=True))
    assert [i.rule_id for i in res.issues] == ["row_extra_fields"]
    assert "'5'" in res.issues[0].message_en


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("100000000", True),  # the count ceiling of the default catalog, exactly
        ("100000001", False),
        ("100.000.001", False),
        ("9" * 400, False),  # +inf as a float: too large, never stored
        ("1" + ".000" * 110, False),
        ("1e400", False),  # not a number at all (value_not_number)
    ],
)
def test_every_value_is_finite_and_counts_have_a_ceiling(validator, tmp_path, text, ok):
    rows = _rows()
    for r in rows[1:]:
        if r[2] == "rehab_voluntary":
            r[3] = text
    res = validator.validate_file(_write_rows(tmp_path / "c.csv", rows))
    assert np.isfinite(res.values["value"]).all()
    fired = [i.rule_id for i in res.issues]
    if ok:
        assert fired == []
    elif text == "1e400":
        assert fired == ["value_not_number"]
    else:
        assert fired == ["value_implausible"]
        issue = res.issues[0]
        assert issue.indicator == "rehab_voluntary" and issue.expected == "≤ 100,000,000"
        assert len(issue.message_en) < 300  # the 400 digits are shortened


def test_ceilings_come_from_the_catalog_and_a_provincial_one_may_change_them(tmp_path):
    from validations.catalog import CatalogError, load_catalog
    from validations.validator import Validator

    base = load_catalog()
    assert base.indicators["crime_cases"].ceiling == 1e8
    assert base.indicators["poppy_destroyed_m2"].ceiling == 1e10
    assert base.indicators["crime_clearance_rate"].ceiling is None  # bounded by its range
    prov = tmp_path / "province.yaml"
    prov.write_text(
        f"include: {base.path}\ndefaults: {{ceiling: {{count: 1000}}}}\n"
        "indicators:\n  - {code: propaganda_participants, ceiling: 500000}\n",
        encoding="utf-8",
    )
    cat = load_catalog(prov)
    assert cat.indicators["crime_cases"].ceiling == 1000
    assert cat.indicators["propaganda_participants"].ceiling == 500_000
    rows = _rows()
    for r in rows[1:]:
        if r[2] == "rehab_voluntary":
            r[3] = "1001"
    path = _write_rows(tmp_path / "c.csv", rows)
    res = Validator(catalog=cat, today=date(2026, 11, 22)).validate_file(path)
    assert [(i.rule_id, i.expected) for i in res.issues] == [("value_implausible", "≤ 1,000")]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"include: {base.path}\ndefaults: {{ceiling: {{count: -1}}}}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="defaults: ceiling: count must be a positive number"):
        load_catalog(bad)
