"""Across the 2025 reform: the crosswalk on real mapped units, and comparisons with the same
territory the year before (a new unit against the sum of its predecessors)."""

from __future__ import annotations

from datetime import date

import pytest
from test_warehouse_support import CATALOG, UNITS, load, result, warehouse

from validations.crosswalk import CrosswalkError, load_crosswalk
from warehouse.rollup import consolidate, rollup
from warehouse.summary import build_summary, render_markdown

OLD, NEW = date(2025, 6, 14), date(2025, 12, 14)


def test_a_province_merge_maps_both_old_provinces_whole():
    xw = load_crosswalk()
    links = xw.predecessors("08")  # new Tuyên Quang
    assert sorted((x.old_code, x.share, x.method) for x in links) == [
        ("02", 1.0, "merged"),
        ("08", 1.0, "merged"),
    ]
    assert UNITS.get("02", OLD).name == "Tỉnh Hà Giang" and UNITS.get("02", NEW) is None
    assert xw.unchanged("12") == "12" and xw.unchanged("02") is None  # Lai Châu was not merged
    assert len({x.old_code for x in xw.links if x.old_level == "P"}) == 63
    assert len({x.new_code for x in xw.links if x.new_level == "P"}) == 34


def test_commune_merges_cover_every_old_commune_once_or_as_a_divided_one():
    xw = load_crosswalk()
    # Phường Tân Phong (Lai Châu, 2025) is a merge of old communes, each whole
    new = UNITS.get("03408", NEW)
    links = xw.predecessors(new.code)
    assert len(links) >= 2 and all(x.share == 1 and x.method == "merged" for x in links)
    assert all(UNITS.get(x.old_code, OLD).province_code == "12" for x in links)
    old_communes = [u for u in UNITS.units if u.structure == "legacy" and u.level == "C"]
    assert len(old_communes) == 10035
    for u in old_communes[::97]:  # every old commune goes somewhere, its shares summing to 1
        assert sum(x.share for x in xw.successors(u.code) if x.old_level == "C") == pytest.approx(1)


def test_a_divided_commune_goes_to_its_default_unit_or_is_split_and_is_approximate():
    # Xã Yên Định (Hà Giang) was divided between Xã Ngọc Đường (default) and Xã Minh Ngọc
    old = UNITS.get("00988", OLD)
    assert old.name == "Xã Yên Định" and old.province_code == "02"
    default = {x.new_code: x for x in load_crosswalk("default").successors("00988")}
    assert {c: (x.share, x.is_default) for c, x in default.items()} == {
        "00700": (1.0, True),
        "00994": (0.0, False),
    }
    assert all(x.method == "divided" and x.approximate for x in default.values())
    assert UNITS.get("00700", NEW).name == "Xã Ngọc Đường"
    equal = {x.new_code: x.share for x in load_crosswalk("equal").successors("00988")}
    assert equal == {"00700": 0.5, "00994": 0.5}
    area = {x.new_code: x.share for x in load_crosswalk("area").successors("00988")}
    assert sum(area.values()) == pytest.approx(1) and 0 < area["00994"] < 1
    with pytest.raises(CrosswalkError, match="default, area or equal"):
        load_crosswalk("nearest")


def test_tuyen_quang_2025_h2_is_compared_with_old_tuyen_quang_plus_ha_giang(tmp_path):
    con = warehouse(tmp_path)
    load(
        con,
        tmp_path,
        [
            result("08", "2024-H2", {"crime_cases": 400, "crime_solved": 300}, path="08o.csv"),
            result("02", "2024-H2", {"crime_cases": 300, "crime_solved": 250}, path="02.csv"),
            result("08", "2025-H2", {"crime_cases": 630, "crime_solved": 600}, path="08n.csv"),
        ],
        "b",
    )
    # the old provinces were never consolidated: their figures are computed from what is stored
    got = consolidate(con, "2025-H2", "08", CATALOG, UNITS).rollup.set_index("indicator")
    cases = got.loc["crime_cases"]
    assert cases["change_vs_last_year"] == pytest.approx(-10.0)  # 630 vs 400 + 300, not vs 400
    assert (cases["last_year_value"], cases["last_year_units"]) == (700, ["02", "08"])
    assert not cases["last_year_approx"]
    rate = got.loc["crime_clearance_rate"]  # a rate from the mapped parts: 550 / 700
    assert rate["change_vs_last_year"] == pytest.approx(100 * 600 / 630 - 100 * 550 / 700)
    # the same once the old provinces are consolidated (their stored rows are read)
    consolidate(con, "2024-H2", "08", CATALOG, UNITS)
    consolidate(con, "2024-H2", "02", CATALOG, UNITS)
    again = consolidate(con, "2025-H2", "08", CATALOG, UNITS).rollup.set_index("indicator")
    assert again.loc["crime_cases", "change_vs_last_year"] == pytest.approx(-10.0)
    # the views and the summary say it, and which units the comparison covers
    viewed = con.execute(
        "SELECT change_vs_last_year, last_year_units FROM v_rollup"
        " WHERE unit_code = '08' AND period = '2025-H2' AND indicator = 'crime_cases'"
    ).fetchall()
    assert viewed[0][0] == pytest.approx(-10.0) and viewed[0][1] == ["02", "08"]
    md = render_markdown(build_summary(con, "2025-H2", "08", CATALOG, UNITS), UNITS)
    assert "được kéo giảm 10% so với cùng kỳ năm 2024 (cùng kỳ 700 vụ)" in md
    assert "Tỉnh Hà Giang (02)" in md and "Tỉnh Tuyên Quang (08)" in md


def test_a_merged_commune_is_compared_with_the_sum_of_its_predecessors(tmp_path):
    con = warehouse(tmp_path)
    new = UNITS.get("03408", NEW)  # Phường Tân Phong, Lai Châu
    olds = [x.old_code for x in load_crosswalk().predecessors(new.code)]
    before = [
        result(c, "2024-08", {"crime_cases": 10 + k}, path=f"{c}.csv") for k, c in enumerate(olds)
    ]
    now = [result(new.code, "2025-08", {"crime_cases": 5}, path="n.csv")]
    load(con, tmp_path, before + now, "b")
    consolidate(con, "2025-08", "12", CATALOG, UNITS)
    row = rollup(con, "2025-08", new.code).set_index("indicator").loc["crime_cases"]
    then = sum(10 + k for k in range(len(olds)))
    assert row["last_year_value"] == then and sorted(row["last_year_units"]) == sorted(olds)
    assert row["change_vs_last_year"] == pytest.approx(100 * (5 - then) / then)


def test_a_comparison_through_a_divided_commune_is_flagged_approximate(tmp_path):
    con = warehouse(tmp_path)
    xw = load_crosswalk()
    olds = xw.predecessors("00700")  # Xã Ngọc Đường: Xã Yên Định (divided) among others
    assert any(x.method == "divided" for x in olds)
    load(
        con,
        tmp_path,
        [result(x.old_code, "2024-09", {"crime_cases": 4}, path=f"{x.old_code}.csv") for x in olds]
        + [result("00700", "2025-09", {"crime_cases": 3}, path="n.csv")],
        "b",
    )
    consolidate(con, "2025-09", "08", CATALOG, UNITS)
    row = rollup(con, "2025-09", "00700").set_index("indicator").loc["crime_cases"]
    assert row["last_year_approx"] and row["last_year_value"] == 4 * len(olds)


def test_rollup_as_of_gives_any_unit_of_either_structure_on_any_period(tmp_path):
    con = warehouse(tmp_path)
    load(
        con,
        tmp_path,
        [
            result("08", "2024-H2", {"crime_cases": 400, "crime_solved": 300}, path="a.csv"),
            result("02", "2024-H2", {"crime_cases": 300, "crime_solved": 250}, path="b.csv"),
            result("12", "2024-H2", {"crime_cases": 90, "crime_solved": 80}, path="c.csv"),
            result("08", "2025-H2", {"crime_cases": 630, "crime_solved": 600}, path="d.csv"),
            result("12", "2025-H2", {"crime_cases": 81, "crime_solved": 70}, path="e.csv"),
        ],
        "b",
    )
    for period, unit in (
        ("2024-H2", "08"),
        ("2024-H2", "02"),
        ("2024-H2", "12"),
        ("2025-H2", "08"),
        ("2025-H2", "12"),
    ):
        consolidate(con, period, unit, CATALOG, UNITS)
    # the README's example: new Tuyên Quang, both half-years, in the present structure
    rows = con.execute(
        """
        SELECT period, value, source_units, approximate
        FROM rollup_as_of('2025')
        WHERE unit_code = '08' AND indicator = 'crime_cases' ORDER BY period
        """
    ).fetchall()
    assert rows == [("2024-H2", 700.0, ["02", "08"], False), ("2025-H2", 630.0, ["08"], False)]
    rate = con.execute(
        "SELECT value, numerator, denominator FROM rollup_as_of('2025') WHERE unit_code = '08'"
        " AND period = '2024-H2' AND indicator = 'crime_clearance_rate'"
    ).fetchall()
    assert rate[0][0] == pytest.approx(100 * 550 / 700) and rate[0][1:] == (550, 700)
    # the old structure: Lai Châu (not merged) is given for 2025-H2; old Hà Giang is not
    old = dict(
        con.execute(
            "SELECT unit_code, value FROM rollup_as_of('legacy') WHERE period = '2025-H2'"
            " AND indicator = 'crime_cases' AND unit_code IN ('12', '02', '08')"
        ).fetchall()
    )
    assert old == {"12": 81.0}


def test_a_2025_report_claiming_the_old_provinces_figure_gets_a_warning(tmp_path):
    from warehouse.previous_year import add_previous_year_warnings

    con = warehouse(tmp_path)
    load(
        con,
        tmp_path,
        [
            result("08", "2024-H2", {"crime_cases": 400}, path="a.csv"),
            result("02", "2024-H2", {"crime_cases": 300}, path="b.csv"),
        ],
        "b",
    )
    consolidate(con, "2024-H2", "08", CATALOG, UNITS)
    consolidate(con, "2024-H2", "02", CATALOG, UNITS)
    wrong = result("08", "2025-H2", {"crime_cases": 630, "crime_cases_prev": 400}, path="w.csv")
    right = result("08", "2025-H2", {"crime_cases": 630, "crime_cases_prev": 700}, path="r.csv")
    assert add_previous_year_warnings(con, [wrong, right], CATALOG, UNITS) == 1
    (issue,) = wrong.issues
    assert issue.rule_id == "previous_year_mismatch" and issue.expected == "700"
    assert "400" in issue.message_vi and "700" in issue.message_vi
    assert "Tỉnh Hà Giang (02)" in issue.message_vi and "Tỉnh Tuyên Quang (08)" in issue.message_vi
    assert issue.extra["source_units"] == ["02", "08"] and right.issues == []


def test_the_outlier_history_of_a_merged_commune_is_its_predecessors(tmp_path):
    from warehouse.history import add_outlier_warnings

    con = warehouse(tmp_path)
    new = UNITS.get("03408", NEW)  # Phường Tân Phong: a merge of old communes of Lai Châu
    olds = [x.old_code for x in load_crosswalk().predecessors(new.code)]
    months = [f"2025-0{m}" for m in range(1, 7)]  # before the reform: the old communes report
    load(
        con,
        tmp_path,
        [
            result(c, m, {"drug_users_managed": 10 + k}, path=f"{c}_{m}.csv")
            for m in months
            for k, c in enumerate(olds)
        ],
        "history",
    )
    usual = sum(10 + k for k in range(len(olds)))
    typo = result(new.code, "2025-08", {"drug_users_managed": usual * 10}, path="typo.csv")
    fine = result(new.code, "2025-09", {"drug_users_managed": usual + 1}, path="fine.csv")
    assert add_outlier_warnings(con, [typo], CATALOG, UNITS) == 1
    (issue,) = typo.issues
    assert issue.rule_id == "outlier_history" and issue.indicator == "drug_users_managed"
    assert f"trung vị {len(months)} kỳ trước: {usual}" in issue.message_vi.replace(".", "")
    assert add_outlier_warnings(con, [fine], CATALOG, UNITS) == 0
