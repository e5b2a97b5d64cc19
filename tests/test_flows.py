"""End to end: the Prefect flows (ingest_submissions, consolidate_period), the CLI and the demo
on the real sample files, real DuckDB files in tmp_path and the session's Prefect test server.

Expected figures are computed BY HAND from the sample files (csv module, openpyxl), never
through tonghop's readers or the warehouse.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from test_warehouse_support import snapshot
from typer.testing import CliRunner

from conftest import SAMPLES
from flows.consolidate import consolidate_period
from flows.ingest import ingest_submissions
from tonghop.cli import app
from warehouse.approval import approval_state, approve, unapprove
from warehouse.db import connect

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

P = "2024-06"
CLOSING = date(2024, 6, 14)
JUNE = SAMPLES / "valid" / P
REFORM = SAMPLES / "valid" / "2025-07"
REJECTED = SAMPLES / "invalid" / "crime_solved_le_cases.csv"  # commune 03386, 2024-06
UNREADABLE = SAMPLES / "unreadable" / "binary.csv"
DISTRICTS = ["105", "106", "107", "108", "109", "110", "111", "112"]
VI_STATUS = {
    "accepted": "ĐƯỢC CHẤP NHẬN",
    "accepted_with_warnings": "ĐƯỢC CHẤP NHẬN, CÓ CẢNH BÁO",
    "rejected": "BỊ TỪ CHỐI",
}

runner = CliRunner()


@pytest.fixture(autouse=True)
def _prefect(prefect_harness):
    """Every test here runs its flows against the session's Prefect test server."""
    yield


# --- reading the sample files by hand ---------------------------------------------------------
def _number(x: object) -> float | None:
    if x is None or (isinstance(x, str) and not x.strip()):
        return None
    return float(x)  # the valid samples write plain numbers (English decimal point)


def read_form(path: Path) -> dict[str, float | None]:
    """indicator -> value of one sample file: csv module for CSV, openpyxl for the Excel form."""
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return {r["indicator"]: _number(r["value"]) for r in csv.DictReader(fh)}
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb["BaoCao"].iter_rows(values_only=True))
    finally:
        wb.close()
    head = next(i for i, r in enumerate(rows) if "Mã chỉ tiêu" in r)
    code, value = rows[head].index("Mã chỉ tiêu"), rows[head].index("Số liệu")
    return {r[code]: _number(r[value]) for r in rows[head + 1 :] if r[code]}


def unit_of(path: Path) -> str:
    """Sample files are named <unit_code>_<period>.<ext>."""
    return path.stem.split("_", 1)[0]


def sample_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".xlsx"))


def commune_files(district: str, folder: Path = JUNE) -> list[Path]:
    return [f for f in sample_files(folder / district) if len(unit_of(f)) == 5]


def own_file(unit: str, folder: Path = JUNE) -> Path:
    (hit,) = [f for f in sample_files(folder) if unit_of(f) == unit]
    return hit


def total(files: list[Path], indicator: str) -> float:
    return sum(read_form(f)[indicator] or 0.0 for f in files)


def rate_of_sums(files: list[Path]) -> float:
    return 100 * total(files, "crime_solved") / total(files, "crime_cases")


def mean_of_rates(files: list[Path]) -> float:
    forms = [read_form(f) for f in files]
    rates = [100 * f["crime_solved"] / f["crime_cases"] for f in forms if f["crime_cases"]]
    return sum(rates) / len(rates)


# --- warehouse helpers ------------------------------------------------------------------------
def where(root: Path) -> dict[str, str]:
    return {
        "warehouse": str(root / "wh.duckdb"),
        "outbox": str(root / "outbox"),
        "staging": str(root / "staging"),
    }


def query(loc: dict[str, str], sql: str, params: list | None = None) -> list[tuple]:
    con = connect(loc["warehouse"])
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def tables(loc: dict[str, str]) -> dict[str, list]:
    con = connect(loc["warehouse"])
    try:
        return snapshot(con)
    finally:
        con.close()


def rollup_row(loc: dict[str, str], unit: str, indicator: str, period: str = P) -> dict:
    con = connect(loc["warehouse"])
    try:
        df = con.execute(
            "SELECT * FROM v_rollup WHERE unit_code = ? AND period = ? AND indicator = ?",
            [unit, period, indicator],
        ).df()
    finally:
        con.close()
    assert len(df) == 1, f"{unit} {period} {indicator}: {len(df)} rows"
    return df.iloc[0].to_dict()


def current_values(loc: dict[str, str], unit: str, period: str = P) -> dict[str, float | None]:
    rows = query(
        loc,
        "SELECT v.indicator, v.value FROM fct_value v JOIN fct_submission s USING (submission_id)"
        " WHERE s.is_current AND s.unit_code = ? AND s.period = ?",
        [unit, period],
    )
    return {i: (None if v is None else float(v)) for i, v in rows}


def copy_of(src: dict[str, str], root: Path) -> dict[str, str]:
    """A copy of a warehouse file (closed) with its own staging and outbox."""
    loc = where(root)
    shutil.copy(src["warehouse"], loc["warehouse"])
    return loc


@pytest.fixture(scope="module")
def june(prefect_harness, tmp_path_factory):
    """June 2024 ingested once: every valid file, the rejected 03386 file, one unreadable file.

    Tests that write copy the warehouse first (copy_of)."""
    loc = where(tmp_path_factory.mktemp("june"))
    # Files are versioned in order of arrival (modification time): the rejected file of 03386
    # arrives after its valid report, so it is version 2.
    later = time.time() + 60
    os.utime(REJECTED, (later, later))
    paths = [str(JUNE), str(REJECTED), str(UNREADABLE)]
    res = ingest_submissions(paths, **loc)
    return {"loc": loc, "paths": paths, "res": res}


# --- 1. ingest ------------------------------------------------------------------------------
def test_ingest_summary_outbox_and_warehouse(june):
    res, loc = june["res"], june["loc"]
    valid = sample_files(JUNE)
    assert len(valid) == 115  # 106 communes, 8 districts, the province
    assert res["files"] == len(valid) + 2
    subs = res["submissions"]
    assert len(subs) == len(valid) + 1
    assert Counter(s["status"] for s in subs) == {"accepted": 115, "rejected": 1}
    assert not any(s["duplicate"] for s in subs)
    assert {s["unit_code"] for s in subs} == {unit_of(f) for f in valid}
    assert {s["period"] for s in subs} == {P}
    (rej,) = [s for s in subs if s["status"] == "rejected"]
    assert (rej["file"], rej["unit_code"], rej["version"], rej["superseded"]) == (
        str(REJECTED),
        "03386",
        2,
        None,
    )
    assert all(s["version"] == 1 for s in subs if s is not rej)
    assert res["other_batches_loaded"] == []
    (unr,) = res["unreadable"]
    assert (unr["file"], unr["status"]) == (str(UNREADABLE), "unreadable")

    # each submitter's report: HTML and JSON, in Vietnamese, with what the warehouse did
    out = Path(loc["outbox"])
    for s in subs:
        stem = out / s["unit_code"] / f"{P}_v{s['version']}"
        data = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        assert data["status"] == s["status"]
        assert (data["unit_code"], data["period"]) == (s["unit_code"], P)
        wh = data["warehouse"]
        assert (wh["version"], wh["status"], wh["duplicate"]) == (s["version"], s["status"], False)
        html = stem.with_suffix(".html").read_text(encoding="utf-8")
        assert VI_STATUS[s["status"]] in html
        if s["status"] != "rejected":
            assert "BỊ TỪ CHỐI" not in html
    reports = [p for p in out.rglob("*") if p.is_file() and p.parent.name != "_unreadable"]
    assert Counter(p.suffix for p in reports) == {".json": len(subs), ".html": len(subs)}
    rejected = json.loads((out / "03386" / f"{P}_v2.json").read_text(encoding="utf-8"))
    (issue,) = rejected["issues"]
    assert (issue["rule"], issue["severity"], issue["location"], issue["indicator"]) == (
        "crime_solved_le_cases",
        "error",
        "row 3",
        "crime_solved",
    )
    assert "lớn hơn" in issue["message_vi"] and issue["hint_vi"]
    unreadable = json.loads((out / "_unreadable" / "binary.csv.json").read_text("utf-8"))
    assert unreadable["status"] == "unreadable" and "binary.csv" in unreadable["message_vi"]

    # the warehouse: one row per submission, every value of every file, one current per unit
    assert query(loc, "SELECT count(*), count(*) FILTER (WHERE is_current) FROM fct_submission")[
        0
    ] == (116, 115)
    # blank cells of the Excel forms (a rate left empty when its denominator is 0) are no values
    n_values = sum(v is not None for f in [*valid, REJECTED] for v in read_form(f).values())
    assert query(loc, "SELECT count(*) FROM fct_value")[0][0] == n_values
    assert query(
        loc,
        "SELECT n_versions, current_version, current_status, latest_status, n_rejected"
        " FROM v_submission_status WHERE unit_code = '03386' AND period = ?",
        [P],
    ) == [(2, 1, "accepted", "rejected", 1)]
    assert query(loc, "SELECT batch_id, submissions, new_versions, duplicates FROM stg_batch") == [
        (res["batch_id"], 116, 116, 0)
    ]


# --- 2. warehouse invariants ------------------------------------------------------------------
def test_reingesting_the_same_files_changes_nothing(june, tmp_path):
    loc = copy_of(june["loc"], tmp_path)
    before = tables(loc)
    # the same files again, plus a copy of one of them under another name
    copy = tmp_path / "renamed.xlsx"
    shutil.copy(JUNE / "106" / "03390_2024-06.xlsx", copy)
    last = os.stat(REJECTED).st_mtime + 60  # arrives last
    os.utime(copy, (last, last))
    res = ingest_submissions([*june["paths"], str(copy)], **loc)
    after = tables(loc)
    for table in ("fct_submission", "fct_value", "fct_issue", "audit_log", "fct_approval"):
        assert after[table] == before[table], table
    assert {t: r for t, r in after.items() if t != "stg_batch"} == {
        t: r for t, r in before.items() if t != "stg_batch"
    }
    assert [r for r in after["stg_batch"] if r[0] != res["batch_id"]] == before["stg_batch"]
    new = [r for r in after["stg_batch"] if r[0] == res["batch_id"]]
    assert [r[-3:] for r in new] == [(117, 0, 117)]  # submissions, new versions, duplicates

    subs = res["submissions"]
    assert all(s["duplicate"] for s in subs)
    strip = lambda s: (s["file"], s["unit_code"], s["version"], s["status"])  # noqa: E731
    assert [strip(s) for s in subs[:-1]] == [strip(s) for s in june["res"]["submissions"]]
    assert (subs[-1]["file"], subs[-1]["unit_code"], subs[-1]["version"]) == (
        str(copy),
        "03390",
        1,
    )
    report = json.loads((Path(loc["outbox"]) / "03390" / f"{P}_v1.json").read_text("utf-8"))
    assert report["warehouse"]["duplicate"] is True


def test_a_corrected_file_becomes_version_2_and_supersedes_version_1(june, tmp_path):
    loc = copy_of(june["loc"], tmp_path)
    fix = SAMPLES / "corrections" / "03387_2024-06.csv"
    consolidate_period([P], "12", warehouse=loc["warehouse"], quality=False)  # the steward's
    before = {u: rollup_row(loc, u, "crime_cases") for u in ("03387", "105", "12")}
    (s,) = ingest_submissions([str(fix)], **loc)["submissions"]
    # the rollups are never stale: the load re-consolidated the commune, its district and its
    # province in its own transaction, without anyone running `consolidate`
    after = {u: rollup_row(loc, u, "crime_cases") for u in ("03387", "105", "12")}
    assert after["03387"]["value"] == before["03387"]["value"] + 1
    assert after["105"]["children_sum"] == before["105"]["children_sum"] + 1  # 105: own figure
    assert all(after[u]["consolidated_at"] > before[u]["consolidated_at"] for u in after)
    assert query(
        loc,
        "SELECT version FROM v_rollup_lineage WHERE unit_code = '12' AND period = ?"
        " AND source_unit_code = '03387'",
        [P],
    ) == [(2,)]
    assert (s["unit_code"], s["version"], s["status"], s["superseded"], s["duplicate"]) == (
        "03387",
        2,
        "accepted",
        1,
        False,
    )
    assert query(
        loc,
        "SELECT version, is_current, status, supersedes FROM fct_submission"
        " WHERE unit_code = '03387' ORDER BY version",
    ) == [(1, False, "accepted", None), (2, True, "accepted", "03387:2024-06:v1")]
    assert query(
        loc,
        "SELECT n_versions, current_version, current_submission_id, current_status"
        " FROM v_submission_status WHERE unit_code = '03387' AND period = ?",
        [P],
    ) == [(2, 2, "03387:2024-06:v2", "accepted")]
    assert current_values(loc, "03387") == read_form(fix)
    assert read_form(fix)["crime_cases"] == read_form(own_file("03387"))["crime_cases"] + 1
    assert ("ingest", "supersede", "03387:2024-06:v1", "current", "superseded") in query(
        loc, "SELECT actor, action, submission_id, from_status, to_status FROM audit_log"
    )
    report = json.loads((Path(loc["outbox"]) / "03387" / f"{P}_v2.json").read_text("utf-8"))
    assert (report["warehouse"]["version"], report["warehouse"]["superseded"]) == (2, 1)

    # the original file sent again is a duplicate of v1: v2 stays current
    (again,) = ingest_submissions([str(own_file("03387"))], **loc)["submissions"]
    assert (again["duplicate"], again["version"]) == (True, 1)
    assert query(
        loc, "SELECT version FROM fct_submission WHERE unit_code = '03387' AND is_current"
    ) == [(2,)]


def test_a_rejected_resubmission_keeps_the_current_accepted_version(tmp_path):
    loc = where(tmp_path)
    first = ingest_submissions([str(JUNE / "105")], **loc)
    assert Counter(s["status"] for s in first["submissions"]) == {"accepted": 8}
    valid = own_file("03386")
    before = current_values(loc, "03386")
    assert before == read_form(valid)

    (s,) = ingest_submissions([str(REJECTED)], **loc)["submissions"]
    assert (s["unit_code"], s["version"], s["status"], s["superseded"]) == (
        "03386",
        2,
        "rejected",
        None,
    )
    assert current_values(loc, "03386") == before
    assert query(
        loc,
        "SELECT version, is_current, status FROM fct_submission WHERE unit_code = '03386'"
        " ORDER BY version",
    ) == [(1, True, "accepted"), (2, False, "rejected")]
    assert query(
        loc,
        "SELECT current_version, latest_status, n_rejected FROM v_submission_status"
        " WHERE unit_code = '03386'",
    ) == [(1, "rejected", 1)]
    assert query(loc, "SELECT submission_id, rule_id, location FROM fct_issue") == [
        ("03386:2024-06:v2", "crime_solved_le_cases", "row 3")
    ]
    # the rejected figures never reach a rollup
    consolidate_period([P], "105", warehouse=loc["warehouse"])
    communes = commune_files("105")
    row = rollup_row(loc, "105", "crime_cases")
    assert row["children_sum"] == total(communes, "crime_cases")
    assert read_form(REJECTED)["crime_cases"] != read_form(valid)["crime_cases"]


# --- 3. rollups against a computation by hand -------------------------------------------------
def test_children_sums_and_rates_of_units_with_their_own_figures(june, tmp_path):
    loc = copy_of(june["loc"], tmp_path)
    consolidate_period([P], "12", warehouse=loc["warehouse"])
    districts = [own_file(d) for d in DISTRICTS]
    for unit, children in (("106", commune_files("106")), ("12", districts)):
        own = read_form(own_file(unit))
        for ind in ("crime_cases", "crime_solved"):
            row = rollup_row(loc, unit, ind)
            assert row["children_sum"] == total(children, ind), (unit, ind)
            assert row["children_reporting"] == len(children)
            assert (row["value"], row["source"]) == (own[ind], "own")
        rate = rollup_row(loc, unit, "crime_clearance_rate")
        # children_sum of a rate is the rate of the children's sums
        assert rate["children_sum"] == pytest.approx(rate_of_sums(children), abs=1e-9)
        assert rate["source"] == "own"
        assert (rate["numerator"], rate["denominator"]) == (
            own["crime_solved"],
            own["crime_cases"],
        )
        assert round(rate["value"], 2) == own["crime_clearance_rate"]
    assert len(commune_files("106")) == 13 and all(
        f.suffix == ".xlsx" for f in commune_files("106")
    )


def test_units_without_their_own_figures_are_built_from_their_children(tmp_path, catalog):
    loc = where(tmp_path)
    communes = {d: commune_files(d) for d in DISTRICTS}
    every = [f for d in DISTRICTS for f in communes[d]]
    assert len(every) == 106
    res = ingest_submissions([str(f) for f in every], **loc)
    assert Counter(s["status"] for s in res["submissions"]) == {"accepted": 106}
    (summary,) = consolidate_period([P], "12", warehouse=loc["warehouse"])
    assert [(c["unit_code"], c["expected"], c["received"]) for c in summary["children"]] == [
        (d, len(communes[d]), len(communes[d])) for d in DISTRICTS
    ]

    # district 105: its 7 communes
    files = communes["105"]
    assert len(files) == 7
    by_hand = rate_of_sums(files)
    rate = rollup_row(loc, "105", "crime_clearance_rate")
    assert rate["source"] == "children"
    assert rate["value"] == pytest.approx(by_hand, abs=1e-9)
    assert round(rate["value"], 2) == round(by_hand, 2) == 75.0
    assert (rate["numerator"], rate["denominator"]) == (
        total(files, "crime_solved"),
        total(files, "crime_cases"),
    )
    assert round(mean_of_rates(files), 2) != round(by_hand, 2)  # 73.33: never the mean
    cases = rollup_row(loc, "105", "crime_cases")
    assert (cases["value"], cases["source"]) == (total(files, "crime_cases"), "children")

    # the province, built only from the district rollups: every commune file by hand
    by_hand = rate_of_sums(every)
    rate = rollup_row(loc, "12", "crime_clearance_rate")
    assert rate["source"] == "children"
    assert rate["value"] == pytest.approx(by_hand, abs=1e-9)
    assert round(rate["value"], 2) == round(by_hand, 2)
    assert round(mean_of_rates(every), 2) != round(by_hand, 2)
    district_rates = [rate_of_sums(communes[d]) for d in DISTRICTS]
    assert round(sum(district_rates) / 8, 2) != round(by_hand, 2)
    change = rollup_row(loc, "12", "crime_change_rate")
    prev = total(every, "crime_cases_prev")
    assert change["value"] == pytest.approx(100 * (total(every, "crime_cases") - prev) / prev)
    # every summed indicator the communes report, and the drug-free-commune flag share
    summed = [
        i.code for i in catalog.indicators.values() if i.aggregation == "sum" and "C" in i.levels
    ]
    assert len(summed) > 20
    for ind in summed:
        row = rollup_row(loc, "12", ind)
        assert (row["source"], row["children_reporting"]) == ("children", 8), ind
        assert row["value"] == pytest.approx(total(every, ind), rel=1e-12), ind
    flag = rollup_row(loc, "12", "drug_free_commune")
    yes = sum(1 for f in every if read_form(f)["drug_free_commune"] == 1)
    assert (flag["value"], flag["numerator"], flag["denominator"]) == (yes, yes, 106)
    assert flag["share"] == pytest.approx(100 * yes / 106)


# --- 4. consolidate_period --------------------------------------------------------------------
def test_consolidate_period_completeness_lateness_and_the_two_level_structure(tmp_path, catalog):
    loc = where(tmp_path)
    withheld = {"03394", "03430"}  # two communes of Tam Đường never report
    files = [f for f in sample_files(JUNE) if unit_of(f) not in withheld]
    deadline_c = CLOSING + timedelta(days=catalog.deadline_days["C"])
    deadline_d = CLOSING + timedelta(days=catalog.deadline_days["D"])
    on_time = datetime(2024, 6, 15, 9)
    special = {
        "03400": datetime.combine(deadline_c + timedelta(days=1), datetime.min.time()),
        "03421": datetime.combine(deadline_c + timedelta(days=5), datetime.min.time()),
        "03424": datetime.combine(deadline_c, datetime.max.time()).replace(microsecond=0),
        "112": datetime.combine(deadline_d + timedelta(days=1), datetime.min.time()),
        "111": datetime.combine(deadline_d, datetime.min.time()).replace(hour=23),
    }
    received = {str(f): special.get(unit_of(f), on_time) for f in files}
    reform = sample_files(REFORM)
    received |= {str(f): datetime(2025, 7, 15, 9) for f in reform}
    res = ingest_submissions([str(f) for f in files + reform], received_at=received, **loc)
    assert Counter(s["status"] for s in res["submissions"]) == {"accepted": len(files) + 39}
    stored = dict(query(loc, "SELECT file_name, received_at FROM fct_submission"))
    assert stored == received

    june, july = consolidate_period([P, "2025-07"], "12", warehouse=loc["warehouse"])
    assert (june["period"], june["structure"], june["expected"], june["received"]) == (
        P,
        "legacy",
        8,
        8,
    )
    assert (june["missing"], june["late"]) == ([], ["112"])
    d106 = next(c for c in june["children"] if c["unit_code"] == "106")
    assert (d106["expected"], d106["received"]) == (13, 11)
    assert d106["missing"] == sorted(withheld)
    assert d106["late"] == ["03400", "03421"]  # 03424 arrived on the deadline day: on time
    assert d106["completeness_pct"] == pytest.approx(100 * 11 / 13)
    assert query(
        loc,
        "SELECT expected, received, missing, on_time, late, deadline, missing_units, late_units"
        " FROM v_completeness WHERE unit_code = '106' AND period = ?",
        [P],
    ) == [(13, 11, 2, 9, 2, deadline_c, sorted(withheld), ["03400", "03421"])]
    assert query(
        loc, "SELECT deadline FROM fct_completeness WHERE unit_code = '12' AND period = ?", [P]
    ) == [(deadline_d,)]
    got = [f for f in commune_files("106") if unit_of(f) not in withheld]
    cases = rollup_row(loc, "106", "crime_cases")
    assert (cases["children_sum"], cases["children_reporting"]) == (
        total(got, "crime_cases"),
        11,
    )
    assert cases["completeness"] == pytest.approx(100 * 11 / 13)
    assert all(c["late"] == [] for c in june["children"] if c["unit_code"] != "106")

    # 2025-07: two levels, the 38 communes straight into the province
    communes = [f for f in reform if len(unit_of(f)) == 5]
    assert len(communes) == 38
    assert (july["structure"], july["level"], july["expected"], july["received"]) == (
        "2025",
        "P",
        38,
        38,
    )
    assert (july["missing"], july["late"], july["children"]) == ([], [], [])
    assert query(
        loc,
        "SELECT child_level, expected, received FROM fct_completeness WHERE period = '2025-07'",
    ) == [("C", 38, 38)]
    own = read_form(own_file("12", REFORM))
    for ind in ("crime_cases", "crime_solved"):
        row = rollup_row(loc, "12", ind, "2025-07")
        assert (row["children_sum"], row["children_reporting"]) == (total(communes, ind), 38)
        assert (row["value"], row["source"]) == (own[ind], "own")
    rate = rollup_row(loc, "12", "crime_clearance_rate", "2025-07")
    assert rate["children_sum"] == pytest.approx(rate_of_sums(communes))
    # no district level in 2025-07 (the province and its communes' own rows), and the 2024
    # figures are not compared across the reform
    assert query(
        loc, "SELECT DISTINCT level FROM fct_rollup WHERE period = '2025-07' ORDER BY 1"
    ) == [("C",), ("P",)]
    assert rollup_row(loc, "12", "crime_cases", "2025-07")["change_kind"] is None


# --- 5. approval ------------------------------------------------------------------------------
def test_a_correction_after_approval_is_held_until_unapproved(june, tmp_path, units):
    assert units.get("03388", CLOSING).parent_code == "105"
    loc = copy_of(june["loc"], tmp_path)
    consolidate_period([P], "105", warehouse=loc["warehouse"])
    cases_before = rollup_row(loc, "105", "crime_cases")["children_sum"]
    con = connect(loc["warehouse"])
    try:
        approve(con, "105", P, actor="steward.105")
    finally:
        con.close()

    fix = SAMPLES / "corrections" / "03388_2024-06.csv"
    (s,) = ingest_submissions([str(fix)], **loc)["submissions"]
    assert (s["unit_code"], s["version"], s["status"], s["superseded"]) == (
        "03388",
        2,
        "held",
        None,
    )
    assert query(
        loc,
        "SELECT version, status, validation_status, is_current FROM fct_submission"
        " WHERE unit_code = '03388' ORDER BY version",
    ) == [(1, "accepted", "accepted", True), (2, "held", "accepted", False)]
    assert query(
        loc,
        "SELECT current_version, n_held FROM v_submission_status WHERE unit_code = '03388'",
    ) == [(1, 1)]
    report = json.loads((Path(loc["outbox"]) / "03388" / f"{P}_v2.json").read_text("utf-8"))
    assert (report["status"], report["warehouse"]["status"]) == ("accepted", "held")

    con = connect(loc["warehouse"])
    try:
        released = unapprove(con, "105", P, actor="steward.105")
        assert approval_state(con, "105", P) is None
    finally:
        con.close()
    assert released == ["03388:2024-06:v2"]
    assert query(
        loc,
        "SELECT version, status, is_current, supersedes FROM fct_submission"
        " WHERE unit_code = '03388' ORDER BY version",
    ) == [(1, "accepted", False, None), (2, "accepted", True, "03388:2024-06:v1")]
    assert current_values(loc, "03388") == read_form(fix)
    audit = query(
        loc,
        "SELECT actor, action, unit_code, submission_id, from_status, to_status FROM audit_log"
        " WHERE action <> 'consolidate' AND (unit_code = '105' OR submission_id LIKE '03388%')",
    )
    for row in [
        ("steward.105", "approve", "105", None, None, "approved"),
        ("ingest", "ingest", "03388", "03388:2024-06:v2", None, "held"),
        ("steward.105", "unapprove", "105", None, "approved", None),
        ("steward.105", "release", "03388", "03388:2024-06:v2", "held", "accepted"),
        ("steward.105", "supersede", "03388", "03388:2024-06:v1", "current", "superseded"),
    ]:
        assert row in audit, row
    # the released correction now counts in the district's rollup
    consolidate_period([P], "105", warehouse=loc["warehouse"])
    assert rollup_row(loc, "105", "crime_cases")["children_sum"] == cases_before + 1


def test_the_html_report_says_what_the_warehouse_did(june, tmp_path):
    loc = copy_of(june["loc"], tmp_path)
    con = connect(loc["warehouse"])
    try:
        from validations.catalog import load_catalog
        from validations.units import load_units
        from warehouse.rollup import consolidate

        consolidate(con, P, "106", load_catalog(), load_units())  # approval needs it first
        approve(con, "106", P, actor="steward.106")
    finally:
        con.close()
    fix = SAMPLES / "corrections" / "03387_2024-06.csv"
    resent = JUNE / "106" / "03390_2024-06.xlsx"
    held = tmp_path / "03394_held.csv"  # an accepted new version of a locked Tam Đường commune
    held.write_text(
        own_file("03387").read_text("utf-8").replace("03387,", "03394,"), encoding="utf-8"
    )
    subs = ingest_submissions([str(fix), str(resent), str(held)], **loc)["submissions"]
    assert sorted((s["unit_code"], s["version"], s["status"]) for s in subs) == [
        ("03387", 2, "accepted"),
        ("03390", 1, "accepted"),
        ("03394", 2, "held"),
    ]
    out = Path(june["loc"]["outbox"])
    mine = Path(loc["outbox"])
    expected = {
        out / "03389" / f"{P}_v1.html": "Đã lưu thành phiên bản 1.",
        out / "03386" / f"{P}_v2.html": "Phiên bản 2 bị từ chối",
        mine / "03387" / f"{P}_v2.html": "thay thế phiên bản 1",
        mine / "03390" / f"{P}_v1.html": "đã được nhận trước đó",
        mine / "03394" / f"{P}_v2.html": "được giữ lại chờ mở khóa",
    }
    missing = [p.parent.name for p, text in expected.items() if text not in p.read_text("utf-8")]
    assert missing == []


# --- 6. the CLI -------------------------------------------------------------------------------
def cli(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_cli_ingest_consolidate_rollup_approve_status(tmp_path):
    wh, outbox = str(tmp_path / "wh.duckdb"), str(tmp_path / "outbox")
    res = cli("ingest", str(JUNE / "105"), "--warehouse", wh, "--outbox", outbox, "--json")
    assert res.exit_code == 0, res.output
    subs = json.loads(res.stdout)["submissions"]
    assert [(s["unit_code"], s["period"], s["version"], s["status"]) for s in subs] == [
        (unit_of(f), P, 1, "accepted") for f in sample_files(JUNE / "105")
    ]
    assert (Path(outbox) / "105" / f"{P}_v1.html").is_file()

    res = cli("consolidate", "--period", P, "--unit", "105", "--warehouse", wh)
    assert res.exit_code == 0, res.output
    assert "105 2024-06: 7/7 reported" in res.stdout

    res = cli("rollup", "--period", P, "--unit", "105", "--warehouse", wh, "--format", "json")
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert isinstance(records, list) and len(records) == 52
    assert all({"unit_code", "period", "indicator", "value"} <= set(r) for r in records)
    by_ind = {r["indicator"]: r for r in records}
    assert {r["unit_code"] for r in records} == {"105"} and {r["period"] for r in records} == {P}
    own = read_form(own_file("105"))
    assert by_ind["crime_cases"]["value"] == own["crime_cases"]
    assert by_ind["crime_cases"]["children_sum"] == total(commune_files("105"), "crime_cases")

    res = cli("rollup", "--period", P, "--unit", "105", "--warehouse", wh, "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["indicator"] for r in rows] == [r["indicator"] for r in records]
    assert float(next(r for r in rows if r["indicator"] == "crime_cases")["value"]) == float(
        own["crime_cases"]
    )

    res = cli("rollup", "--period", P, "--unit", "106", "--warehouse", wh)
    assert res.exit_code == 1
    assert "tonghop consolidate --period 2024-06 --unit 106" in res.output
    assert "Traceback" not in res.output

    res = cli(
        "approve", "--period", P, "--unit", "105", "--actor", "steward.105", "--warehouse", wh
    )
    assert res.exit_code == 0, res.output
    assert "approved: 105 2024-06 by steward.105" in res.stdout
    res = cli(
        "approve", "--period", P, "--unit", "105", "--actor", "steward.105", "--warehouse", wh
    )
    assert res.exit_code == 1
    assert res.output.strip() == "105 kỳ 2024-06 đã được phê duyệt rồi"
    assert "Traceback" not in res.output
    res = cli(
        "unapprove", "--period", P, "--unit", "105", "--actor", "steward.105", "--warehouse", wh
    )
    assert res.exit_code == 0, res.output
    assert "unapproved: 105 2024-06 by steward.105" in res.stdout

    # $TONGHOP_WAREHOUSE instead of --warehouse
    res = cli("status", "--period", P, env={"TONGHOP_WAREHOUSE": wh})
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == "8 units sent something for 2024-06"
    assert [line.split()[0] for line in lines[:-1]] == [
        unit_of(f) for f in sample_files(JUNE / "105")
    ]
    assert query(
        {"warehouse": wh},
        "SELECT actor, action FROM audit_log WHERE unit_code = '105'"
        " AND action IN ('approve', 'unapprove') ORDER BY \"at\"",
    ) == [
        ("steward.105", "approve"),
        ("steward.105", "unapprove"),
    ]


# --- 7. the demo ------------------------------------------------------------------------------
def test_demo_runs_and_says_where_everything_is(tmp_path):
    root = tmp_path / "demo"
    res = cli("demo", "--root", str(root), "--samples", str(SAMPLES))
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "12 2024-06: 8/8 reported (100.0%), late 112" in out
    assert "2024-06 correction after approval: 1 files -> held 1" in out
    assert "missing 03394, 03430" in out
    (warning,) = [line for line in out.splitlines() if "cross_level_total" in line]
    assert "Huyện Sìn Hồ" in warning and "(03478)" in warning
    assert f"Province 12 rollup for {P}" in out
    assert f"Warehouse: {root / 'tonghop.duckdb'}" in out
    assert f"Submitters' reports: {root / 'outbox'}/" in out
    assert (root / "tonghop.duckdb").is_file()
    assert (root / "outbox" / "03388" / f"{P}_v2.json").is_file()
    assert "Traceback" not in res.output
    # a report per summary in four formats, the Word one in the form of Decree 30 with the
    # office's profile (issue 20), and no figure in them that moved beyond the catalog's
    # plausibility threshold without a word (the merged Tuyên Quang's 2026-H1 among them)
    from docx import Document

    reports = root / "reports"
    which = [("12", "2024-06"), ("12", "2024-H1"), ("12", "2026-10"), ("08", "2026-H1")]
    for unit, period in which:
        for ext in ("md", "html", "xlsx", "docx"):
            assert (reports / f"{unit}_{period}.{ext}").is_file(), (unit, period, ext)
        doc = Document(str(reports / f"{unit}_{period}.docx"))
        heading = doc.tables[0].rows[0].cells[0].paragraphs[0].text
        assert heading == ("UBND TỈNH LAI CHÂU" if unit == "12" else "UBND TỈNH TUYÊN QUANG")
        assert "BÁO CÁO" in [p.text for p in doc.paragraphs]
        md = (reports / f"{unit}_{period}.md").read_text(encoding="utf-8")
        assert "[1]" not in md, (unit, period)  # no plausibility footnote to explain away
    implausible = query(
        {"warehouse": str(root / "tonghop.duckdb")},
        "SELECT unit_code, period, indicator FROM fct_consolidation_issue"
        " WHERE rule_id = 'implausible_change' AND unit_code IN ('12', '08')",
    )
    assert implausible == []
    tq = (reports / "08_2026-H1.md").read_text(encoding="utf-8")
    assert "| Số đối tượng truy nã hiện có | đối tượng | 420 | 434 | -3,23% |" in tq
