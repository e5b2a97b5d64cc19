"""Web data entry's application layer (service/entry.py) and what it adds to the libraries:
the canonical CSV, the check as typed (the validator's own Issues, the history check's), the
usual range ("thường 12-30": exactly the values the history rule does not flag), a field's
history across the 2025 reform."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pandas as pd
import pytest
from test_warehouse_support import CATALOG, UNITS, load, result, warehouse

from conftest import SAMPLES, TODAY
from service import entry
from service.check import check
from validations.crosswalk import load_crosswalk
from validations.outliers import STAT_COLUMNS, _scores, judge, usual_range
from validations.readers import read_csv_bytes, read_submission
from validations.validator import Validator

JUNE = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
RULE = CATALOG.outlier_rules["outlier_history"]


def june_entries(**changes: str) -> list[entry.Entry]:
    with open(JUNE, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    values = {r["indicator"]: r["value"] for r in rows} | changes
    return [entry.Entry(code, text) for code, text in values.items()]


@pytest.fixture(scope="module")
def validator():
    return Validator(catalog=CATALOG, units=UNITS, today=TODAY)


# --- the canonical CSV ---------------------------------------------------------------------------
def test_vietnamese_numbers_are_written_as_their_canonical_reading():
    data = entry.canonical_csv(
        "03386",
        "2024-06",
        [
            entry.Entry("propaganda_participants", "1.234"),
            entry.Entry("poppy_destroyed_m2", "12,5", "phá 2 nương"),
            entry.Entry("crime_cases", "abc"),  # as typed: the validator says what is wrong
            entry.Entry("crime_solved", ""),  # blank: not written
        ],
        CATALOG,
    )
    assert data.decode() == (
        "unit_code,period,indicator,value,note\n"
        "03386,2024-06,propaganda_participants,1234,\n"
        "03386,2024-06,poppy_destroyed_m2,12.5,phá 2 nương\n"
        "03386,2024-06,crime_cases,abc,\n"
    )


def test_the_csv_in_memory_reads_as_the_same_file_on_disk(tmp_path):
    data = entry.canonical_csv("03386", "2024-06", june_entries(), CATALOG)
    path = tmp_path / "03386_2024-06.csv"
    path.write_bytes(data)
    mem, disk = read_csv_bytes(path.name, data), read_submission(path)
    assert mem.columns == disk.columns and mem.sha256 == disk.sha256


# --- the check as typed ------------------------------------------------------------------------------
def test_a_part_greater_than_its_whole_is_the_validators_own_issue(validator, tmp_path):
    typed = june_entries(crime_cases="3", crime_solved="5")
    chk = entry.check_draft("03386", "2024-06", typed, validator, CATALOG)
    path = tmp_path / "03386_2024-06.csv"
    path.write_bytes(entry.canonical_csv("03386", "2024-06", typed, CATALOG))
    file = validator.validate_file(path)
    assert [i.to_dict() for i in chk.issues] == [i.to_dict() for i in file.issues]
    (issue,) = [i for i in chk.issues if i.rule_id == "crime_solved_le_cases"]
    assert issue.indicator == "crime_solved"
    assert issue.message_vi.endswith("= 5 lớn hơn Số vụ phạm pháp hình sự (tội phạm về TTXH) = 3.")
    fixed = entry.check_draft("03386", "2024-06", june_entries(crime_cases="3", crime_solved="2"),
                              validator, CATALOG)  # fmt: skip
    assert not [i for i in fixed.issues if i.rule_id == "crime_solved_le_cases"]
    assert fixed.rates["crime_clearance_rate"] == pytest.approx(200 / 3)


def test_nothing_typed_is_no_check(validator):
    chk = entry.check_draft("03386", "2024-06", [entry.Entry("crime_cases")], validator, CATALOG)
    assert chk.result is None and chk.issues == []


def test_totals_of_parts_are_shown_beside_the_whole():
    read = entry.readings(
        [entry.Entry("wanted_surrendered", "3"), entry.Entry("wanted_arrested", "4")], CATALOG
    )
    _, totals = entry.derived(read, CATALOG)
    assert totals["wanted_existing"] == (("wanted_surrendered", "wanted_arrested"), 7.0)


# --- usual ranges ------------------------------------------------------------------------------------
def brute_flags(row: pd.Series, xs: np.ndarray) -> np.ndarray:
    v = pd.DataFrame({"indicator": row["indicator"], "value": xs, "_row": 0})
    stats = pd.DataFrame([row[STAT_COLUMNS].astype(float)]).set_axis([0])
    return (judge(_scores(v, stats), RULE) != "").to_numpy()


def test_the_usual_range_is_exactly_what_the_history_rule_does_not_flag():
    rng = np.random.default_rng(7)
    rows = []
    for k in range(120):
        sample = rng.poisson(rng.choice([0.3, 2, 10, 40, 300]), size=rng.integers(2, 13))
        sample = sample.astype(float) if k % 6 else np.full(len(sample), float(sample[0]))
        rows.append(
            {
                "indicator": "poppy_destroyed_m2" if k % 5 == 0 else "crime_cases",
                "n": len(sample),
                "mean": sample.mean(),
                "std": sample.std(ddof=1),
                "median": np.median(sample),
                "mad": np.median(abs(sample - np.median(sample))),
            }
        )
    stats = pd.DataFrame(rows)
    whole = (stats["indicator"] == "crime_cases").to_numpy()
    got = usual_range(stats, RULE, whole)
    for k, row in stats.iterrows():
        low, high = got.loc[k, "low"], got.loc[k, "high"]
        if row["n"] < RULE.min_history:
            assert np.isnan(low) and np.isnan(high)
            continue
        top = (high if not np.isnan(high) else 3 * row["median"]) + 50
        xs = np.arange(0, top) if whole[k] else np.round(np.arange(0, top * 100) / 100, 2)
        inside = (xs >= low) & ((xs <= high) if not np.isnan(high) else True)
        assert (brute_flags(row, xs) == ~inside).all(), (dict(row), low, high)


def test_a_merged_communes_usual_range_and_history_are_its_predecessors(tmp_path):
    con = warehouse(tmp_path)
    new = UNITS.get("03408", date(2025, 12, 14))  # Phường Tân Phong: old communes merged
    olds = [x.old_code for x in load_crosswalk().predecessors(new.code)]
    months = [f"2025-0{m}" for m in range(1, 7)]
    load(
        con,
        tmp_path,
        [
            result(c, m, {"drug_users_managed": 10 + k + (m == "2025-03")}, path=f"{c}_{m}.csv")
            for m in months
            for k, c in enumerate(olds)
        ],
        "history",
    )
    usual = sum(10 + k for k in range(len(olds)))
    ref = entry.reference(con, new.code, "2025-08", CATALOG, UNITS)
    rng = ref.ranges["drug_users_managed"]
    assert rng.n == 6 and rng.median == usual and rng.holds(usual) and not rng.holds(usual * 10)
    hist = entry.field_history(con, new.code, "2025-08", "drug_users_managed", CATALOG)
    assert [p["period"] for p in hist["periods"]] == months
    assert all(p["mapped"] for p in hist["periods"])
    assert hist["periods"][2]["value"] == usual + len(olds)


def test_the_history_warning_as_typed_is_the_dry_runs(validator, tmp_path):
    """A value far above the unit's history: the warning shown as it is typed is the one the
    whole dry run (service.check, what the stored version gets) gives."""
    con = warehouse(tmp_path)
    for m in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05"):
        raws = [read_submission(p) for p in (SAMPLES / "valid" / m).rglob("033*.csv")]
        load(con, tmp_path, validator.validate(raws), f"b{m}")
    con.close()
    from warehouse.access import WarehouseFile

    wh = WarehouseFile(tmp_path / "wh.duckdb")
    with wh.reading() as ro:
        ref = entry.reference(ro, "03386", "2024-06", CATALOG, UNITS)
    high = ref.ranges["propaganda_participants"].high
    typed = june_entries(propaganda_participants=str(int(high) + 1))
    chk = entry.check_draft("03386", "2024-06", typed, validator, CATALOG, ref)
    path = tmp_path / "03386_2024-06.csv"
    path.write_bytes(entry.canonical_csv("03386", "2024-06", typed, CATALOG))
    (verdict,) = check([path], validator, CATALOG, UNITS, wh)
    as_typed = [i.to_dict() for i in chk.issues if i.rule_id == "outlier_history"]
    dry_run = [i.to_dict() for i in verdict.result.issues if i.rule_id == "outlier_history"]
    assert len(as_typed) == 1 and as_typed == dry_run
    inside = june_entries(propaganda_participants=str(int(high)))
    chk = entry.check_draft("03386", "2024-06", inside, validator, CATALOG, ref)
    assert not [i for i in chk.issues if i.rule_id == "outlier_history"]


def test_checking_the_values_as_typed_is_checking_the_canonical_csv(validator, tmp_path):
    """The check as typed validates the typed text; the submission writes the canonical
    reading: the same Issues either way, whatever the clerk typed."""
    typed = june_entries(
        propaganda_participants="1.234",  # thousands
        poppy_destroyed_m2="12,5",  # a decimal comma
        security_models_new="1.250",  # a count: thousands
        drug_users_managed=" 19 ",
        crime_cases="abc",  # not a number
        crime_cases_prev="3,5",  # not a whole number
    ) + [entry.Entry("assets_lost_mvnd", "1.250")]  # ambiguous, and not on a commune's form
    chk = entry.check_draft("03386", "2024-06", typed, validator, CATALOG)
    path = tmp_path / "03386_2024-06.csv"
    path.write_bytes(entry.canonical_csv("03386", "2024-06", typed, CATALOG))
    file = validator.validate_file(path)
    assert [i.to_dict() for i in chk.issues] == [i.to_dict() for i in file.issues]
    assert {i.rule_id for i in chk.issues} >= {"value_not_number", "count_not_integer"}
    assert chk.readings["propaganda_participants"].value == 1234
    assert chk.readings["poppy_destroyed_m2"].value == 12.5
