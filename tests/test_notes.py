"""An approved period does not move: a correction of the figures it compares with (last
year's) is noted beside it, never applied, until the period is unapproved.

Tam Đường (106) of Lai Châu reports June 2023 and June 2024; the province is consolidated
for both months and the district approves June 2024. Then a commune corrects its June 2023.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_warehouse_support import (
    CATALOG,
    COMMUNES_106,
    DISTRICT,
    PROVINCE,
    UNITS,
    refreshing_load,
    result,
    warehouse,
)
from typer.testing import CliRunner

from service import approval as service_approval
from service import consolidation as service_consolidation
from tonghop.cli import app
from validations.validator import default_today
from warehouse.access import WarehouseFile
from warehouse.approval import approve
from warehouse.rollup import consolidate, rollup
from warehouse.rollup.notes import notes
from warehouse.summary import build_summary, render_markdown

THEN, NOW = "2023-06", "2024-06"
FIXED = COMMUNES_106[0]
# what an approval locks, the comparisons included: every table a consolidation writes
LOCKED_SQL = {
    "fct_rollup": "SELECT * EXCLUDE (consolidated_at) FROM fct_rollup",
    "fct_completeness": "SELECT * FROM fct_completeness",
    "fct_consolidation_issue": "SELECT * FROM fct_consolidation_issue",
    "fct_rollup_lineage": "SELECT * FROM fct_rollup_lineage",
}


def _cases(k: int, year_ago: bool) -> dict[str, float]:
    cases = 10 + k if year_ago else 12 + k
    return {"crime_cases": cases, "crime_solved": cases - 2}


@pytest.fixture
def approved(tmp_path):
    """June 2023 and 2024 of Tam Đường's communes, the province consolidated for both, the
    district's June 2024 approved."""
    con = warehouse(tmp_path)
    refreshing_load(
        con,
        tmp_path,
        [
            result(c, p, _cases(k, p == THEN), path=f"{c}_{p}.csv")
            for p in (THEN, NOW)
            for k, c in enumerate(COMMUNES_106)
        ],
        "season",
        received_at=datetime(2024, 6, 16, 9),
    )
    for p in (THEN, NOW):
        consolidate(con, p, PROVINCE, CATALOG, UNITS)
    approve(con, DISTRICT, NOW, actor="huyen.106")
    yield con, tmp_path
    con.close()


def _locked_rows(con: duckdb.DuckDBPyConnection, units: list[str], period: str) -> dict:
    """Every stored row of the units' period, as a reader would see it."""
    out = {}
    for table, sql in LOCKED_SQL.items():
        out[table] = con.execute(
            f"SELECT * FROM ({sql}) WHERE period = ? AND unit_code IN (SELECT unnest(?))"
            " ORDER BY ALL",
            [period, units],
        ).fetchall()
    return out


def _correct_last_year(con, tmp_path, version_cases: int = 40) -> None:
    fixed = result(FIXED, THEN, {"crime_cases": version_cases, "crime_solved": 30}, path="v.csv")
    at = datetime(2024, 7, 2, 10, 15)
    refreshing_load(con, tmp_path, [fixed], f"fix{version_cases}", received_at=at)


def test_a_correction_of_last_year_leaves_the_approved_period_as_approved_with_a_note(approved):
    con, tmp_path = approved
    tree = [DISTRICT, *COMMUNES_106]
    before = _locked_rows(con, tree, NOW)
    assert before["fct_rollup"] and before["fct_completeness"]
    _correct_last_year(con, tmp_path)
    # last year itself moved (it is not approved), and the province above (not approved)
    assert (
        rollup(con, THEN, DISTRICT).set_index("indicator").loc["crime_cases", "value"]
        == sum(10 + k for k in range(1, len(COMMUNES_106))) + 40
    )
    province = rollup(con, NOW, PROVINCE).set_index("indicator").loc["crime_cases"]
    assert province["last_year_value"] == sum(10 + k for k in range(1, len(COMMUNES_106))) + 40
    # the approved district's period did not move: its figures, comparisons and all
    assert _locked_rows(con, tree, NOW) == before
    # and it says what changed, and which approval to reopen
    (note,) = notes(con, DISTRICT, NOW)
    assert (note["source_unit_code"], note["source_period"], note["version"]) == (FIXED, THEN, 2)
    assert FIXED in note["units"] and "crime_cases" in note["indicators"]
    summary = build_summary(con, NOW, DISTRICT, CATALOG, UNITS)
    # the chart's last year is the base the period was approved with, not the corrected month
    approved_base = sum(10 + k for k in range(len(COMMUNES_106)))
    trend = summary.trend.set_index(["period", "indicator"])["value"]
    assert trend[(THEN, "crime_cases")] == approved_base
    md = render_markdown(summary, UNITS)
    said = (
        f"Số liệu cùng kỳ năm 2023 đã được sửa sau khi phê duyệt ({FIXED} kỳ 2023-06, v2 ngày "
        "02/07/2024 10:15): số liệu 106 kỳ 2024-06 vẫn là số liệu đã phê duyệt; mở lại kỳ (hủy "
        "phê duyệt 106 kỳ 2024-06) để cập nhật."
    )
    assert said in md
    # a second correction of the same month: one note, naming the newest version
    _correct_last_year(con, tmp_path, 41)
    (note,) = notes(con, DISTRICT, NOW)
    assert note["version"] == 3
    assert _locked_rows(con, tree, NOW) == before


def test_the_cli_says_the_note_and_unapproving_brings_the_new_base_in(approved):
    con, tmp_path = approved
    _correct_last_year(con, tmp_path)
    con.close()
    wh = str(tmp_path / "wh.duckdb")
    run = CliRunner()
    out = run.invoke(app, ["rollup", "--period", NOW, "--unit", DISTRICT, "--warehouse", wh])
    assert out.exit_code == 0
    assert out.output.startswith("! Số liệu cùng kỳ năm 2023 đã được sửa sau khi phê duyệt")
    js = run.invoke(
        app,
        ["rollup", "--period", NOW, "--unit", DISTRICT, "--warehouse", wh, "--format", "json"],
        env={"TONGHOP_LANG": "en"},
    )
    assert "Last year's figures (2023) were corrected after the approval" in js.stderr
    assert js.stdout.lstrip().startswith("[")  # the records stay parseable
    report = run.invoke(app, ["report", "--period", NOW, "--unit", DISTRICT, "--warehouse", wh])
    assert "đã được sửa sau khi phê duyệt" in report.output
    done = run.invoke(
        app, ["unapprove", "--period", NOW, "--unit", DISTRICT, "--actor", "huyen.106", "--warehouse", wh]
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    con = duckdb.connect(wh, read_only=True)
    try:
        assert notes(con, DISTRICT, NOW) == []
        row = rollup(con, NOW, FIXED).set_index("indicator").loc["crime_cases"]
        assert (row["last_year_value"], row["change_vs_last_year"]) == (40, pytest.approx(-70.0))
        district = rollup(con, NOW, DISTRICT).set_index("indicator").loc["crime_cases"]
        assert district["last_year_value"] == sum(10 + k for k in range(1, 13)) + 40
    finally:
        con.close()
    out = run.invoke(app, ["rollup", "--period", NOW, "--unit", DISTRICT, "--warehouse", wh])
    assert "!" not in out.output.splitlines()[0]


def test_consolidating_the_unit_above_leaves_an_approved_district_as_it_is(approved):
    con, tmp_path = approved
    _correct_last_year(con, tmp_path)
    tree = [DISTRICT, *COMMUNES_106]
    before = _locked_rows(con, tree, NOW)
    con.close()
    wh = WarehouseFile(tmp_path / "wh.duckdb", CATALOG, UNITS)
    (done,) = service_consolidation.consolidate(
        wh, [NOW], [PROVINCE], CATALOG, UNITS, default_today(), quality=False
    )
    kept = {ch["unit_code"]: ch["kept"] for ch in done["children"]}
    assert (
        kept[DISTRICT] and not done["kept"] and not any(v for k, v in kept.items() if k != DISTRICT)
    )
    with wh.reading() as c:
        assert _locked_rows(c, tree, NOW) == before
        assert len(notes(c, DISTRICT, NOW)) == 1  # the steward's consolidation is no cause
    # the district's own consolidation is refused, as before: it is approved
    with pytest.raises(service_consolidation.LockedPeriodError):
        service_consolidation.consolidate(
            wh, [NOW], [DISTRICT], CATALOG, UNITS, default_today(), quality=False
        )
    service_approval.unapprove(wh, DISTRICT, NOW, "huyen.106", CATALOG, UNITS)
    with wh.reading() as c:
        assert notes(c, DISTRICT, NOW) == []
        assert _locked_rows(c, tree, NOW) != before


def test_a_month_inside_an_approved_half_year_is_locked_too(tmp_path):
    """The months of an approved half-year do not move either: the note is on both."""
    con = warehouse(tmp_path)
    months = [f"2024-0{m}" for m in range(1, 7)]
    refreshing_load(
        con,
        tmp_path,
        [
            result(c, p, _cases(k, p.startswith("2023")), path=f"{c}_{p}.csv")
            for p in ("2023-03", *months)
            for k, c in enumerate(COMMUNES_106)
        ],
        "season",
    )
    for p in ("2024-03", "2024-H1"):
        consolidate(con, p, DISTRICT, CATALOG, UNITS)
    approve(con, DISTRICT, "2024-H1", actor="huyen.106")
    march = _locked_rows(con, [DISTRICT, *COMMUNES_106], "2024-03")
    fixed = result(FIXED, "2023-03", {"crime_cases": 40, "crime_solved": 30}, path="v2.csv")
    refreshing_load(con, tmp_path, [fixed], "fix")
    assert _locked_rows(con, [DISTRICT, *COMMUNES_106], "2024-03") == march
    (note,) = notes(con, DISTRICT, "2024-03")
    assert note["source_period"] == "2023-03"
    from warehouse.rollup.notes import messages

    (said,) = messages(con, DISTRICT, "2024-03", CATALOG.close_day)
    assert "hủy phê duyệt 106 kỳ 2024-H1" in said.render("vi")  # the approval that locks it
    con.close()


def _rollup_rows(con: duckdb.DuckDBPyConnection, units: list[str], period: str) -> list:
    return con.execute(
        "SELECT * EXCLUDE (consolidated_at) FROM fct_rollup WHERE period = ?"
        " AND unit_code IN (SELECT unnest(?)) ORDER BY ALL",
        [period, units],
    ).fetchall()


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    corrections=st.lists(
        st.tuples(st.sampled_from(COMMUNES_106), st.integers(0, 60)), min_size=1, max_size=4
    )
)
def test_any_corrections_of_last_year_leave_the_approved_period_then_unapproving_catches_up(
    tmp_path_factory, corrections
):
    """Whatever corrections of last year arrive, one by one: the approved period's rows stay
    as approved; once unapproved, they are what a fresh consolidation gives."""
    root = tmp_path_factory.mktemp("prop")
    con = warehouse(root)
    try:
        refreshing_load(
            con,
            root,
            [
                result(c, p, _cases(k, p == THEN), path=f"{c}_{p}.csv")
                for p in (THEN, NOW)
                for k, c in enumerate(COMMUNES_106)
            ],
            "season",
        )
        for p in (THEN, NOW):
            consolidate(con, p, PROVINCE, CATALOG, UNITS)
        approve(con, DISTRICT, NOW, actor="huyen.106")
        tree = [DISTRICT, *COMMUNES_106]
        before = _locked_rows(con, tree, NOW)
        for n, (commune, cases) in enumerate(corrections):
            fix = result(commune, THEN, {"crime_cases": cases, "crime_solved": 0}, path=f"f{n}.csv")
            refreshing_load(con, root, [fix], f"fix{n}")
            assert _locked_rows(con, tree, NOW) == before
        con.close()
        wh = WarehouseFile(root / "wh.duckdb", CATALOG, UNITS)
        service_approval.unapprove(wh, DISTRICT, NOW, "huyen.106", CATALOG, UNITS)
        con = duckdb.connect(str(root / "wh.duckdb"))
        assert notes(con, DISTRICT, NOW) == []
        after = _rollup_rows(con, tree, NOW)
        consolidate(con, NOW, PROVINCE, CATALOG, UNITS)  # what a fresh consolidation gives
        assert _rollup_rows(con, tree, NOW) == after
    finally:
        con.close()
