"""Outliers (validations/outliers.py, warehouse/history.py, the ingest flow's `outliers` task):
warnings on values far from the unit's own history or from its peers, never rejections."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from conftest import SAMPLES
from validations.catalog import DEFAULT_CATALOG, CatalogError, load_catalog
from validations.intake import expand_paths, validate_paths
from validations.outliers import (
    find_outliers,
    history_outliers,
    history_scores,
    peer_outliers,
)
from warehouse.db import connect, load_reference, migrate
from warehouse.history import add_outlier_warnings, load_history, load_peers
from warehouse.staging import write_staging
from warehouse.store import load_batch

CAT = load_catalog()
HIST = CAT.outlier_rules["outlier_history"]
PEERS = CAT.outlier_rules["outlier_peers"]
UNIT = "03478"


def months(n: int, last: str = "2024-05") -> list[str]:
    """The n months up to `last`, oldest first."""
    y, m = map(int, last.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def history(series: list[float], indicator: str = "drug_users_managed", unit: str = UNIT):
    periods = months(len(series))
    return pd.DataFrame(
        {"unit_code": unit, "period": periods, "indicator": indicator, "value": series}
    )


def new(value: float, indicator: str = "drug_users_managed", unit: str = UNIT, period="2024-06"):
    return pd.DataFrame(
        {
            "unit_code": [unit],
            "period": [period],
            "indicator": [indicator],
            "value": [float(value)],
            "location": ["row 11"],
        }
    )


def judged(values, hist, rule=HIST):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division or empty-slice warnings, ever
        issues, ok = history_outliers(values, hist, rule, CAT)
    return list(issues), ok


# --- the unit's own history -----------------------------------------------------------------
def test_eight_times_the_usual_value_is_a_warning_in_plain_words():
    usual = [14, 15, 16, 15, 15, 14, 16, 15, 17, 13, 15, 15]
    (issue,), ok = judged(new(120), history([400, 400, *usual]))  # 14 months: the last 12 count
    assert ok.tolist() == [True]
    assert (issue.rule_id, str(issue.severity), issue.unit_code, issue.period) == (
        "outlier_history",
        "warning",
        UNIT,
        "2024-06",
    )
    assert (issue.indicator, issue.location, issue.value) == ("drug_users_managed", "row 11", 120)
    assert "gấp 8 lần mức thường thấy của đơn vị (trung vị 12 kỳ trước: 15)" in issue.message_vi
    assert "8 times your usual value (median of the last 12 periods: 15)" in issue.message_en
    assert "xác nhận hoặc sửa lại" in issue.message_vi and "confirm or correct" in issue.message_en
    assert issue.message_vi.startswith("Người nghiện") and issue.hint_vi and issue.hint_en
    assert "{" not in issue.message_vi + issue.message_en + issue.hint_vi + issue.hint_en
    x = issue.extra
    assert (x["method"], x["direction"], x["n"], x["median"], x["ratio"]) == (
        "history",
        "high",
        12,
        15,
        8,
    )
    assert x["z"] > 3 and x["modified_z"] > 3.5
    assert issue.to_dict("en")["severity"] == "warning"


def test_a_stable_series_and_ordinary_ups_and_downs_give_nothing():
    series = [29, 30, 29, 29, 27, 31, 28, 30]
    for value in (27, 31, 35, 22, 45):
        assert judged(new(value), history(series))[0] == []
    # small counts drawn from a Poisson(1.6): 0 -> 3 or 1 -> 6 is no outlier (absolute floor)
    assert judged(new(6, "crime_cases"), history([1, 0, 2, 1, 1], "crime_cases"))[0] == []
    assert judged(new(1, "crime_cases"), history([0, 0, 0, 0, 0], "crime_cases"))[0] == []


def test_mad_zero_and_std_zero_fall_back_without_warnings_or_division_errors():
    # MAD = 0 (29, 30, 29, 29, 27): the modified z is undefined, the z-score decides
    (issue,), _ = judged(new(270), history([29, 30, 29, 29, 27]))
    assert issue.extra["modified_z"] is None and issue.extra["z"] > 100
    assert "gấp 9,3 lần" in issue.message_vi and "9.3 times" in issue.message_en
    # std = 0 and MAD = 0: a constant history, the ratio test decides alone
    (issue,), _ = judged(new(60), history([12.0] * 6))
    assert issue.extra["z"] is None and issue.extra["modified_z"] is None
    assert "gấp 5 lần" in issue.message_vi
    assert judged(new(13), history([12.0] * 6))[0] == []
    # equal decimals whose std is floating-point noise are a constant history too
    scores = history_scores(
        new(267.9, "poppy_destroyed_m2"), history([267.9] * 5, "poppy_destroyed_m2")
    )
    assert scores[["z", "modified_z"]].isna().all(axis=None) and scores["ratio"].iloc[0] == 1
    # a constant zero history with a value of 0 is no outlier, nor a ratio of 0/0
    assert judged(new(0, "crime_cases"), history([0] * 6, "crime_cases"))[0] == []


def test_too_little_history_is_not_judged():
    issues, ok = judged(new(300), history([29, 30, 29]))  # 3 points, min_history 4
    assert issues == [] and ok.tolist() == [False]
    # no history at all, or only other kinds of period (quarters) or later months
    later = history([29, 30, 29, 29, 29]).assign(period=months(5, "2024-12"))
    quarters = history([29, 30, 29, 29, 29]).assign(
        period=["2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2"]
    )
    for hist in (history([])[:0], later, quarters):
        issues, ok = judged(new(300), hist)
        assert issues == [] and ok.tolist() == [False]
    # min_history is configurable
    (issue,), _ = judged(new(300), history([29, 30, 29]), replace(HIST, min_history=3))
    assert issue.extra["n"] == 3


def test_low_values_say_which_fraction_of_the_usual_value():
    series = [150, 148, 152, 151, 149, 150]
    (issue,), _ = judged(new(15), history(series))
    assert "chỉ bằng 1/10 mức thường thấy của đơn vị (trung vị 6 kỳ trước: 150)" in issue.message_vi
    assert "only 1/10 of your usual value" in issue.message_en
    assert issue.extra["direction"] == "low"
    (issue,), _ = judged(new(0), history(series))
    assert issue.message_vi.endswith(
        "= 0, trong khi mức thường thấy của đơn vị là 150 (trung vị 6 kỳ trước): xác nhận hoặc sửa lại."
    )
    assert "while your usual value is 150" in issue.message_en
    # from a usual 0 to many: said as such, never "inf times"
    (issue,), _ = judged(new(40, "crime_cases"), history([0, 0, 1, 0, 0, 0], "crime_cases"))
    assert "thường báo 0" in issue.message_vi and "usually report 0" in issue.message_en
    assert issue.extra["ratio"] is None  # inf is not JSON


def test_rates_and_flags_are_never_judged():
    hist = pd.concat(
        [history([50] * 6, "crime_clearance_rate"), history([0] * 6, "drug_free_commune")]
    )
    values = pd.concat([new(100, "crime_clearance_rate"), new(1, "drug_free_commune")])
    issues, ok = judged(values, hist)
    assert issues == [] and len(ok) == 0


# --- peers: the other units of the same district, same period --------------------------------
def district(values: list[float], indicator: str = "drug_users_managed") -> pd.DataFrame:
    codes = [f"0340{k}" for k in range(len(values))]
    return pd.DataFrame(
        {
            "unit_code": codes,
            "parent_code": "108",
            "period": "2024-06",
            "indicator": indicator,
            "value": [float(v) for v in values],
            "location": "row 11",
        }
    )


def test_one_commune_at_ten_times_its_peers_is_a_warning():
    batch = district([20, 22, 19, 21, 200, 20])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        issues, ok = peer_outliers(batch, batch, PEERS, CAT, parent_names={"108": "Huyện Sìn Hồ"})
    (issue,) = list(issues)
    assert issues.index.tolist() == [4] and ok.tolist() == [True] * 6
    assert (issue.rule_id, issue.unit_code, str(issue.severity)) == (
        "outlier_peers",
        "03404",
        "warning",
    )
    assert "gấp 10 lần mức của các đơn vị cùng cấp thuộc Huyện Sìn Hồ" in issue.message_vi
    assert "(trung vị của 5 đơn vị: 20)" in issue.message_vi
    assert "10 times the value of the other units of Huyện Sìn Hồ" in issue.message_en
    assert issue.extra["parent_code"] == "108" and issue.extra["n"] == 5
    # the same district a tenth of the usual value: the low direction
    (low,) = list(peer_outliers(district([20, 22, 19, 21, 2, 20]), batch, PEERS, CAT)[0])
    assert low.unit_code == "03404" and "chỉ bằng 1/10" in low.message_vi


def test_peers_need_five_of_them_and_a_material_difference():
    few = district([20, 22, 19, 200, 20])  # 4 peers each
    issues, ok = peer_outliers(few, few, PEERS, CAT)
    assert len(issues) == 0 and not ok.any()
    # peers mostly at 0 (MAD = 0): 3 cases is no outlier (floor), 40 is
    zeros = district([0, 0, 1, 0, 3, 0], "crime_cases")
    assert len(peer_outliers(zeros, zeros, PEERS, CAT)[0]) == 0
    zeros = district([0, 0, 1, 0, 40, 0], "crime_cases")
    (issue,) = list(peer_outliers(zeros, zeros, PEERS, CAT)[0])
    assert issue.unit_code == "03404" and "hầu hết báo 0" in issue.message_vi
    # the parent may come from a mapping; peers of another district do not count
    other = district([20, 22, 19, 21, 20, 20]).assign(parent_code="109", unit_code=list("abcdef"))
    values = new(200, unit="03404")
    issues, ok = peer_outliers(
        values, pd.concat([few, other]), PEERS, CAT, parents={"03404": "108"}
    )
    assert len(issues) == 0 and not ok.any()


def test_find_outliers_runs_every_rule_of_the_catalog_one_warning_per_value():
    batch = district([20, 22, 19, 21, 200, 20]).set_axis(list("pqrstu"))
    hist = pd.concat([history([20, 21, 20, 19, 20], unit=u) for u in batch["unit_code"]])
    issues, ok = find_outliers(batch, hist, batch, CAT)
    # the history rule comes first; the peers rule does not flag the same value again
    assert [i.rule_id for i in issues] == ["outlier_history"] and issues.index.tolist() == ["t"]
    assert list(ok.columns) == list(CAT.outlier_rules) and ok.all(axis=None)
    # without enough history the peers rule speaks
    issues, ok = find_outliers(batch, hist[hist["period"] > "2024-02"], batch, CAT)
    assert [i.rule_id for i in issues] == ["outlier_peers"] and issues.index.tolist() == ["t"]
    assert not ok["outlier_history"].any() and ok["outlier_peers"].all()
    issues, ok = find_outliers(batch, hist, None, CAT)  # no peers: the peer rule is skipped
    assert [i.rule_id for i in issues] == ["outlier_history"]
    assert list(ok.columns) == ["outlier_history"]


def test_peers_judge_communes_only_by_default():
    # eight districts of one province (parent 12): sizes differ, a city has no poppy fields
    districts = district([0, 1300, 1900, 257.7, 1500, 1200, 2400, 900], "poppy_destroyed_m2")
    districts = districts.assign(unit_code=[str(c) for c in range(105, 113)], parent_code="12")
    issues, ok = peer_outliers(districts, districts, PEERS, CAT)
    assert len(issues) == 0 and len(ok) == 0
    everyone = replace(PEERS, levels=("C", "D", "P"))
    assert len(peer_outliers(districts, districts, everyone, CAT)[1]) == 8
    # an explicit level column wins over the code's width
    as_communes = districts.assign(level="C")
    assert len(peer_outliers(as_communes, districts, PEERS, CAT)[1]) == 8


# --- the catalog's `outliers:` section ---------------------------------------------------------
def test_the_outlier_rules_and_their_thresholds_come_from_the_catalog():
    assert list(CAT.outlier_rules) == ["outlier_history", "outlier_peers"]
    assert (HIST.method, HIST.severity, HIST.history_periods, HIST.min_history) == (
        "history",
        "warning",
        12,
        4,
    )
    assert (HIST.z, HIST.modified_z, HIST.ratio, HIST.min_difference) == (3, 3.5, 5, 10)
    assert (PEERS.method, PEERS.min_peers, PEERS.modified_z, PEERS.levels) == (
        "peers",
        5,
        3.5,
        ("C",),
    )
    assert HIST.levels == ("C", "D", "P")
    assert HIST.min_difference_for["poppy_destroyed_m2"] == 1000
    assert not set(CAT.outlier_rules) & set(CAT.rules)  # rules keep one invalid sample each


def _catalog(tmp_path, text: str, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        (("method: history", "method: trend"), "method 'trend'"),
        (
            ("    min_history: 4\n", "    min_histroy: 4\n"),
            "unknown key 'min_histroy' (did you mean 'min_history'?)",
        ),
        (("    z: 3.0\n", "    z: high\n"), "z must be a number"),
        (("    ratio: 5\n", "    ratio: 0.5\n"), "ratio must be above 1"),
        (
            (
                "id: outlier_peers\n    method: peers\n    severity: warning",
                "id: outlier_peers\n    method: peers\n    severity: error",
            ),
            "severity must be 'warning'",
        ),
        (("id: outlier_peers", "id: crime_solved_le_cases"), "duplicate rule id"),
        (("{poppy_destroyed_m2: 1000,", "{poppy_m2: 1000,"), "unknown indicator 'poppy_m2'"),
        (("levels: [C]  ", "levels: [X]  "), "level 'X' is not C, D or P"),
        (
            (
                '    message_low_en: "{label} = {value}: only',
                '    message_lo_en: "{label} = {value}: only',
            ),
            "unknown key",
        ),
    ],
)
def test_a_bad_outlier_entry_fails_loudly_naming_file_and_entry(tmp_path, patch, needle):
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    assert patch[0] in text
    path = _catalog(tmp_path, text.replace(*patch, 1))
    with pytest.raises(CatalogError) as exc:
        load_catalog(path)
    assert str(path) in str(exc.value) and "outliers[" in str(exc.value)
    assert needle in str(exc.value)


def test_a_provincial_catalog_overrides_one_threshold_by_id(tmp_path):
    path = _catalog(
        tmp_path,
        f"include: {DEFAULT_CATALOG}\noutliers:\n  - id: outlier_history\n    min_history: 6\n",
    )
    cat = load_catalog(path)
    assert cat.outlier_rules["outlier_history"].min_history == 6
    assert cat.outlier_rules["outlier_history"].text("message", "vi") == HIST.text("message", "vi")
    assert cat.outlier_rules["outlier_peers"] == PEERS and cat.rules.keys() == CAT.rules.keys()


# --- a real warehouse: Lai Châu 2024-01..05, then June ------------------------------------------
@pytest.fixture(scope="module")
def lai_chau(tmp_path_factory, validator, catalog, units):
    """A warehouse file with every valid sample file of 2024-01..2024-05 loaded."""
    root = tmp_path_factory.mktemp("outliers")
    path = root / "wh.duckdb"
    con = connect(path)
    try:
        migrate(con)
        load_reference(con, catalog, units)
        files = expand_paths([SAMPLES / "valid" / f"2024-0{m}" for m in range(1, 6)])
        out = validate_paths(files, validator)
        batch = write_staging(out.results, root / "staging", "history", out.hashes, None)
        assert {o.status for o in load_batch(con, batch)} == {"accepted"}
    finally:
        con.close()
    return path


def test_history_and_peers_are_read_in_one_query_each(lai_chau, units):
    con = connect(lai_chau, read_only=True)
    try:
        hist = load_history(con, [UNIT, "03386"], ["drug_users_managed"], "2024-06", 12)
        assert sorted(set(hist["period"])) == months(5)
        assert hist.loc[hist["unit_code"] == UNIT, "value"].tolist() == [29, 30, 29, 29, 27]
        assert set(hist["structure"]) == {"legacy"}
        assert load_history(con, [UNIT], None, "2024-03", 2)["period"].unique().tolist() == [
            "2024-01",
            "2024-02",
        ]
        # no history crosses the 2025 reform (a code may name another commune after it)
        assert load_history(con, [UNIT], None, "2025-07", 24).empty
        peers = load_peers(con, ["108"], "2024-05", ["drug_users_managed"])
        communes = {u.code for u in units.children("108", date(2024, 5, 14))}
        assert set(peers["unit_code"]) == communes and len(peers) == len(communes)
        assert set(peers["parent_code"]) == {"108"} and UNIT in communes
    finally:
        con.close()


def test_the_typo_is_flagged_against_five_months_of_history(
    lai_chau, validator, catalog, units, tmp_path
):
    typo = SAMPLES / "anomalies" / f"{UNIT}_2024-06.csv"
    valid = SAMPLES / "valid" / "2024-06" / "108" / f"{UNIT}_2024-06.csv"
    out = validate_paths([typo, valid], validator)
    assert [str(r.status) for r in out.results] == ["accepted", "accepted"]
    con = connect(lai_chau, read_only=True)
    try:
        assert add_outlier_warnings(con, out.results, catalog, units) == 1
    finally:
        con.close()
    flagged, clean = out.results
    (issue,) = flagged.issues
    assert (issue.rule_id, issue.indicator, issue.value, issue.location) == (
        "outlier_history",
        "drug_users_managed",
        270,
        "row 11",
    )
    assert "lần" in issue.message_vi and "times" in issue.message_en
    assert "trung vị 5 kỳ trước: 29" in issue.message_vi
    assert str(flagged.status) == "accepted_with_warnings"  # a warning never rejects
    assert flagged.checked["outlier_history"] == 23  # the commune's counts and decimals
    assert clean.issues == [] and str(clean.status) == "accepted"

    # staged and loaded like any other Issue: fct_issue, n_warnings, accepted_with_warnings
    staged = write_staging([flagged], tmp_path / "staging", "typo", out.hashes, None)
    shutil.copy(lai_chau, tmp_path / "wh.duckdb")
    con = connect(tmp_path / "wh.duckdb")
    try:
        (o,) = load_batch(con, staged)
        assert (o.status, o.version) == ("accepted_with_warnings", 1)
        assert con.execute(
            "SELECT s.status, s.n_warnings, i.rule_id, i.severity, i.message_en"
            " FROM fct_issue i JOIN fct_submission s USING (submission_id)"
            " WHERE s.unit_code = ? AND s.period = '2024-06'",
            [UNIT],
        ).fetchall() == [
            ("accepted_with_warnings", 1, "outlier_history", "warning", issue.message_en)
        ]
    finally:
        con.close()


def test_the_106_valid_communes_of_june_get_few_warnings(lai_chau, validator, catalog, units):
    files = [
        f for f in expand_paths([SAMPLES / "valid" / "2024-06"]) if len(f.stem.split("_")[0]) == 5
    ]
    out = validate_paths(files, validator)
    assert len(out.results) == 106
    con = connect(lai_chau, read_only=True)
    try:
        n = add_outlier_warnings(con, out.results, catalog, units)
    finally:
        con.close()
    found = [i for r in out.results for i in r.issues]
    assert len(found) == n
    # two of ~2,400 values: participants 612 and 774 where 100 is usual (sessions x 25..140)
    assert n <= 3 and {i.rule_id for i in found} <= {"outlier_history"}
    assert all(str(r.status) != "rejected" for r in out.results)
    judged = Counter()
    for r in out.results:
        judged.update({k: v for k, v in r.checked.items() if k.startswith("outlier_")})
    assert judged["outlier_history"] > 2000 and judged["outlier_peers"] > 2000


# --- the ingest's outlier step: never fails the ingest -----------------------------------------
def _task(outcome, warehouse):
    from warehouse.ingest_settings import IngestSettings
    from warehouse.reading import add_outliers

    return add_outliers(outcome, IngestSettings.resolve(warehouse))


def test_the_outlier_step_skips_without_a_warehouse_or_while_another_process_writes_it(
    lai_chau, validator, tmp_path
):
    typo = SAMPLES / "anomalies" / f"{UNIT}_2024-06.csv"
    # no warehouse file yet
    outcome = validate_paths([typo], validator)
    assert _task(outcome, tmp_path / "none.duckdb") is outcome and outcome.results[0].issues == []
    # another process holds the warehouse open for writing
    copy = tmp_path / "wh.duckdb"
    shutil.copy(lai_chau, copy)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import duckdb, sys, time
                con = duckdb.connect({str(copy)!r})
                print("open", flush=True)
                sys.stdin.read()
            """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        outcome = validate_paths([typo], validator)
        assert _task(outcome, copy).results[0].issues == []
    finally:
        holder.communicate("", timeout=30)
    # not a DuckDB file: skipped as well
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database", encoding="utf-8")
    outcome = validate_paths([typo], validator)
    assert _task(outcome, junk).results[0].issues == []
    # the warehouse free again: the warning is added
    outcome = validate_paths([typo], validator)
    (issue,) = _task(outcome, copy).results[0].issues
    assert issue.rule_id == "outlier_history"
