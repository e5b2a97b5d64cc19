"""The year 2025 across the reform: a period is built from the periods inside it (its pieces),
those before 1 July 2025 through the crosswalk, with completeness counted in months; a unit
the reform abolished says so wherever it is named for a period after it.

The warehouse (built once, synthetic values on real units): Lai Châu (12, not merged) sent
monthly, its old communes and old province January to June 2025, its new communes and new
province July to December, except that one old commune never sent March; Tuyên Quang (08:
the old 08 plus the old Hà Giang 02) sent half-years, the old provinces and their communes
2025-H1, the new province and its communes 2025-H2.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_warehouse_support import CATALOG, UNITS, load, refreshing_load, result, warehouse
from typer.testing import CliRunner

from service.consolidation import summarise
from tonghop.cli import _print_consolidation, app
from validations.crosswalk import load_crosswalk
from warehouse.rollup import RollupError, consolidate, read_completeness, rollup
from warehouse.summary import build_summary, render_markdown

OLD, NEW = date(2025, 6, 14), date(2025, 12, 14)
XW = load_crosswalk(CATALOG.divided_communes)
FIRST = [f"2025-{m:02d}" for m in range(1, 7)]
SECOND = [f"2025-{m:02d}" for m in range(7, 13)]


def communes(province: str, on: date) -> list[str]:
    return sorted(u.code for u in UNITS.units if u.level == "C" and u.province_code == province
                  and u.valid_on(on))  # fmt: skip


OLD_12, NEW_12 = communes("12", OLD), communes("12", NEW)
OLD_TQ, NEW_08 = communes("02", OLD) + communes("08", OLD), communes("08", NEW)
LATE = OLD_12[0]  # never sent March 2025 (at first)
LATE_NEW = next(x.new_code for x in XW.successors(LATE) if x.share > 0)


def wanted(m: str) -> int:
    return 20 + int(m[5:])  # the province's persons at large: a stock, one a month more


def season() -> list:
    out = []
    for m in FIRST:
        out += [
            result(c, m, {"crime_cases": 2, "crime_solved": 1, "drug_free_commune": 1})
            for c in OLD_12
            if not (c == LATE and m == "2025-03")
        ]
        out.append(
            result("12", m, {"crime_cases": 250, "crime_solved": 200, "wanted_existing": wanted(m)})
        )
    for m in SECOND:
        out += [
            result(c, m, {"crime_cases": 3, "crime_solved": 3, "drug_free_commune": 0})
            for c in NEW_12
        ]
        out.append(
            result("12", m, {"crime_cases": 300, "crime_solved": 270, "wanted_existing": wanted(m)})
        )
    out += [result(c, "2025-H1", {"crime_cases": 5, "crime_solved": 4}) for c in OLD_TQ]
    out.append(
        result("02", "2025-H1", {"crime_cases": 300, "crime_solved": 240, "wanted_existing": 50})
    )
    out.append(
        result("08", "2025-H1", {"crime_cases": 400, "crime_solved": 300, "wanted_existing": 70})
    )
    out += [result(c, "2025-H2", {"crime_cases": 7, "crime_solved": 6}) for c in NEW_08]
    out.append(
        result("08", "2025-H2", {"crime_cases": 650, "crime_solved": 600, "wanted_existing": 110})
    )
    return out  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("year2025")
    con = warehouse(root)
    load(con, root, season(), "season")
    con.close()
    return root / "wh.duckdb"


@pytest.fixture
def con(built, tmp_path):
    shutil.copy(built, tmp_path / "wh.duckdb")
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield c
    c.close()


def figures(con, period: str, unit: str) -> dict:
    return rollup(con, period, unit).set_index("indicator").to_dict("index")


def test_a_merged_province_s_year_2025_is_its_old_provinces_first_half_and_its_own_second(con):
    res = consolidate(con, "2025", "08", CATALOG, UNITS)
    c = res.completeness
    assert (len(c.received), len(c.expected), c.missing, c.partial) == (124, 124, [], {})
    assert (c.months, c.leaves_months_received, c.leaves_months_expected) == (12, 1488, 1488)
    got = figures(con, "2025", "08")
    assert got["crime_cases"]["value"] == 300 + 400 + 650  # flows: both halves summed
    assert got["wanted_existing"]["value"] == 110  # a stock: the period's end, not a sum
    rate = got["crime_clearance_rate"]  # a rate: the ratio of the sums
    assert (rate["numerator"], rate["denominator"]) == (240 + 300 + 600, 1350)
    assert rate["value"] == pytest.approx(100 * 1140 / 1350)
    # a new commune: its predecessors' first half (shares applied), its own second half
    for new in NEW_08[::17]:
        then = sum(5 * x.share for x in XW.predecessors(new))
        assert figures(con, "2025", new)["crime_cases"]["value"] == pytest.approx(then + 7)
    # the lineage names the old units' reports it rests on
    sources = {
        r[0]
        for r in con.execute(
            "SELECT source_unit_code FROM v_rollup_lineage WHERE unit_code = '08' AND period = '2025'"
        ).fetchall()
    }
    assert {"02", "08"} <= sources and set(OLD_TQ[:5]) <= sources
    # what the steward reads: every commune reported, all twelve months
    line = _printed(res)
    assert (
        line.startswith("08 2025: 124/124 reported all 12 months (100.0%)")
        and "missing" not in line
    )


def test_an_unmerged_province_s_year_2025_counts_months_and_names_the_partial_commune(
    con, tmp_path
):
    res = consolidate(con, "2025", "12", CATALOG, UNITS)
    c = res.completeness
    assert len(c.expected) == 38 and c.partial == {LATE_NEW: 11}
    assert len(c.received) == 37 and c.missing == [LATE_NEW]
    assert (c.leaves_months_received, c.leaves_months_expected) == (38 * 12 - 1, 38 * 12)
    got = figures(con, "2025", "12")
    assert got["crime_cases"]["value"] == 6 * 250 + 6 * 300
    assert got["wanted_existing"]["value"] == wanted("2025-12")
    # the flag is a stock: December's (the new communes' 0), never the old communes' 1
    assert (got["drug_free_commune"]["numerator"], got["drug_free_commune"]["denominator"]) == (
        0,
        38,
    )
    late = figures(con, "2025", LATE_NEW)["crime_cases"]["value"]
    olds = [x for x in XW.predecessors(LATE_NEW)]
    # sum_reported: the months it has (March missing: LATE's March is not there)
    assert late == pytest.approx(sum(2 * x.share for x in olds) * 5 + 3 * 6)
    assert "1 sent 11/12 months (" + LATE_NEW + ")" in _printed(res)
    # the missing month arrives: the year is consolidated again at once (the refresh maps the
    # old commune to its new one), complete
    late_march = result(LATE, "2025-03", {"crime_cases": 2, "crime_solved": 1}, path="late.csv")
    refreshing_load(con, tmp_path, [late_march], "late")
    again = read_completeness(con, "2025", "12")
    assert len(again.received) == 38 and again.partial == {}
    assert figures(con, "2025", LATE_NEW)["crime_cases"]["value"] == pytest.approx(
        sum(2 * x.share for x in olds) * 6 + 3 * 6
    )


def test_the_report_of_2025_says_which_months_are_the_old_units(con):
    consolidate(con, "2025", "08", CATALOG, UNITS)
    md = render_markdown(build_summary(con, "2025", "08", CATALOG, UNITS), UNITS)
    assert "Đã nhận báo cáo của 124/124 xã, phường đủ 12 tháng (100%)" in md
    assert "Năm 2025 trải qua sắp xếp đơn vị hành chính ngày 01/7/2025" in md
    assert "tổng số liệu của Tỉnh Hà Giang (02), Tỉnh Tuyên Quang (08)" in md
    assert "Xảy ra 1.350 vụ" in md


def test_the_third_quarter_is_two_level_and_a_quarter_nobody_sent_says_so(con, tmp_path):
    res = consolidate(con, "2025-Q3", "12", CATALOG, UNITS)  # closes 14/9: months 7-9, new units
    assert (len(res.completeness.received), res.completeness.months) == (38, 3)
    assert figures(con, "2025-Q3", "12")["crime_cases"]["value"] == 3 * 300
    assert figures(con, "2025-Q3", NEW_12[0])["crime_cases"]["value"] == 9
    # Tuyên Quang sent half-years only: no quarter can be cut from them
    q3 = consolidate(con, "2025-Q3", "08", CATALOG, UNITS).completeness
    assert (len(q3.received), q3.leaves_months_received) == (0, 0)
    con.close()
    wh = str(tmp_path / "wh.duckdb")
    out = CliRunner().invoke(
        app, ["rollup", "--period", "2025-Q3", "--unit", "08", "--warehouse", wh]
    )
    assert out.exit_code == 1
    assert "đã được tổng hợp lúc" in out.output and "0/124" in out.output
    assert "chạy tonghop consolidate" not in out.output  # no advice that cannot help
    report = CliRunner().invoke(
        app, ["report", "--period", "2025-Q3", "--unit", "08", "--warehouse", wh]
    )
    assert report.exit_code != 0 and "0/124" in report.output  # fmt: skip


@pytest.mark.parametrize(
    ("unit", "words"),
    [
        ("106", "106 Huyện Tam Đường không còn từ 01/07/2025 (bỏ cấp huyện"),
        ("02", "02 Tỉnh Hà Giang không còn từ 01/07/2025 (sắp xếp đơn vị hành chính năm 2025)"),
    ],
)
def test_a_unit_the_reform_abolished_says_so_for_a_later_period_everywhere(
    con, tmp_path, unit, words
):
    successor = "12 Tỉnh Lai Châu" if unit == "106" else "08 Tỉnh Tuyên Quang"
    with pytest.raises(RollupError) as err:
        consolidate(con, "2025", unit, CATALOG, UNITS)
    assert words in err.value.message("vi") and successor in err.value.message("vi")
    con.close()
    wh = str(tmp_path / "wh.duckdb")
    for cmd in ("rollup", "report", "status", "consolidate", "export"):
        more = ["-o", str(tmp_path / "out")] if cmd == "export" else []
        out = CliRunner().invoke(
            app, [cmd, "--period", "2026-03", "--unit", unit, "--warehouse", wh, *more]
        )
        assert out.exit_code != 0, cmd
        assert words in out.output and successor in out.output, (cmd, out.output)
        assert "Traceback" not in out.output and "tonghop consolidate" not in out.output
    # before the reform the unit is itself
    out = CliRunner().invoke(
        app, ["rollup", "--period", "2025-03", "--unit", unit, "--warehouse", wh]
    )
    assert "không còn" not in out.output


def _printed(res) -> str:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        _print_consolidation(summarise(res))
    return buf.getvalue().splitlines()[0]
