"""warehouse.rollup: completeness, ratio-of-sums rollups, cross-level checks, targets, 2025 structure."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
from test_warehouse_support import (
    CATALOG,
    COMMUNES_106,
    DISTRICT,
    LEGACY_DAY,
    PROVINCE,
    UNITS,
    load,
    result,
    warehouse,
)

from validations.catalog import DEFAULT_CATALOG, Target, load_catalog
from validations.period import parse_period
from warehouse.rollup import (
    RULE_CROSS_LEVEL,
    RollupError,
    completeness,
    consolidate,
    pieces,
    preview,
    previous_periods,
    read_completeness,
    rollup,
    straddles,
)

P = "2024-06"
COMMUNES_105 = [u.code for u in UNITS.children("105", LEGACY_DAY)]
# (cases, solved) per commune of Tam Đường: rates 100%, 50%, 0%, ... chosen so the mean of the
# rates is far from the ratio of the sums
CASES_106 = [1, 20, 4, 2, 10, 3, 1, 6, 8, 2, 5, 1, 7]
SOLVED_106 = [1, 2, 0, 2, 9, 3, 1, 3, 8, 1, 5, 0, 7]


def row(df, indicator):
    hit = df[df["indicator"] == indicator]
    assert len(hit) == 1, f"{indicator}: {len(hit)} rows"
    return hit.iloc[0]


def commune_results(period=P, scale=1):
    return [
        result(
            c,
            period,
            {
                "crime_cases": CASES_106[i] * scale,
                "crime_solved": SOLVED_106[i] * scale,
                "crime_cases_prev": CASES_106[i] + 1,
                "residential_areas": 10 + i,
                "drug_free_commune": 1 if i % 3 == 0 else 0,
            },
        )
        for i, c in enumerate(COMMUNES_106)
    ]


def test_district_rate_is_the_ratio_of_sums_not_the_mean_of_rates(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, commune_results(), "b1")
    res = consolidate(con, P, DISTRICT, CATALOG, UNITS, actor="steward")
    df = res.rollup
    by_hand = 100 * sum(SOLVED_106) / sum(CASES_106)
    mean_of_rates = sum(100 * s / c for s, c in zip(SOLVED_106, CASES_106, strict=True)) / 13
    rate = row(df, "crime_clearance_rate")
    assert rate["value"] == pytest.approx(by_hand)
    assert abs(rate["value"] - mean_of_rates) > 5  # the data make the two differ
    assert (rate["numerator"], rate["denominator"]) == (sum(SOLVED_106), sum(CASES_106))
    assert rate["source"] == "children" and rate["children_reporting"] == 13
    assert by_hand == 60.0 and mean_of_rates > 69
    assert (rate["target"], rate["attainment"], rate["attainment_points"]) == (
        ">= 75",
        "missed",
        15,
    )
    prev = [c + 1 for c in CASES_106]
    change = row(df, "crime_change_rate")
    assert change["value"] == pytest.approx(100 * (sum(CASES_106) - sum(prev)) / sum(prev))
    assert row(df, "crime_cases")["value"] == sum(CASES_106)
    # the same numbers are readable through the view
    viewed = con.execute(
        "SELECT value, unit_name, label_vi FROM v_rollup WHERE unit_code = ? AND period = ?"
        " AND indicator = 'crime_clearance_rate'",
        [DISTRICT, P],
    ).fetchall()
    assert viewed[0][0] == pytest.approx(by_hand) and viewed[0][1] == "Huyện Tam Đường"
    # rollup() reads back what was stored; preview() computes the same without writing
    stored = rollup(con, P, DISTRICT).set_index("indicator")["value"]
    assert stored.to_dict() == df.set_index("indicator")["value"].to_dict()
    assert preview(con, P, DISTRICT, CATALOG, UNITS)["value"].tolist() == df["value"].tolist()
    # every commune has rows of its own figures, and the lineage names the 13 submissions
    commune = rollup(con, P, COMMUNES_106[0]).set_index("indicator")
    assert commune.loc["crime_cases", "value"] == CASES_106[0]
    assert commune.loc["crime_clearance_rate", "source"] == "own"
    assert pd.isna(commune.loc["crime_cases", "children_reporting"])
    lineage = con.execute(
        "SELECT source_unit_code, version FROM v_rollup_lineage"
        " WHERE unit_code = ? AND period = ? ORDER BY 1",
        [DISTRICT, P],
    ).fetchall()
    assert lineage == [(c, 1) for c in COMMUNES_106]


def test_flags_count_ones_and_share_of_reporting_children(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, commune_results(), "b1")
    res = consolidate(con, P, PROVINCE, CATALOG, UNITS)
    ones = sum(1 for i in range(13) if i % 3 == 0)
    d = row(next(c for c in res.children if c.unit_code == DISTRICT).rollup, "drug_free_commune")
    assert (d["value"], d["numerator"], d["denominator"]) == (ones, ones, 13)
    assert d["share"] == pytest.approx(100 * ones / 13)
    p = row(res.rollup, "drug_free_commune")  # the district's counts carry up
    assert (p["numerator"], p["denominator"]) == (ones, 13)


def test_province_rate_from_districts_is_ratio_of_sums(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, commune_results(), "b1")
    # Thành phố Lai Châu's communes report, and the city reports its own (official) figures
    c105 = [(3, 3), (2, 1), (9, 9), (1, 1), (4, 4), (2, 2), (5, 5)]
    load(
        con,
        tmp_path,
        [
            result(code, P, {"crime_cases": c, "crime_solved": s})
            for code, (c, s) in zip(COMMUNES_105, c105, strict=True)
        ]
        + [result("105", P, {"crime_cases": 40, "crime_solved": 38})],
        "b2",
    )
    res = consolidate(con, P, PROVINCE, CATALOG, UNITS)
    assert sorted(c.unit_code for c in res.children) == [str(d) for d in range(105, 113)]
    d105 = row(next(c for c in res.children if c.unit_code == "105").rollup, "crime_cases")
    assert (d105["value"], d105["source"], d105["children_sum"]) == (40, "own", 26)
    solved = 38 + sum(SOLVED_106)
    cases = 40 + sum(CASES_106)
    rate = row(res.rollup, "crime_clearance_rate")
    assert rate["value"] == pytest.approx(100 * solved / cases)
    average = (100 * 38 / 40 + 100 * sum(SOLVED_106) / sum(CASES_106)) / 2
    assert abs(rate["value"] - average) > 1
    assert rate["children_reporting"] == 2
    stored = con.execute(
        "SELECT DISTINCT unit_code FROM fct_rollup WHERE period = ? ORDER BY 1", [P]
    ).fetchall()
    assert ("106",) in stored and ("12",) in stored
    comp = con.execute(
        "SELECT expected, received, missing, child_level, via_children, leaves_expected,"
        " leaves_received FROM v_completeness WHERE unit_code = '12'"
    ).fetchall()
    # Thành phố Lai Châu sent a report of its own; Tam Đường none, but all its 13 communes did
    assert comp == [(8, 2, 6, "D", [DISTRICT], 106, 20)]


def test_completeness_and_late_reports(tmp_path):
    con = warehouse(tmp_path)
    # deadline: closing 2024-06-14 + 3 days for communes = 2024-06-17
    at = {}
    results = []
    for c in COMMUNES_106[:10]:
        r = result(c, P, {"crime_cases": 1, "crime_solved": 1})
        results.append(r)
        at[r.path] = datetime(2024, 6, 16, 10)
    at[results[0].path] = datetime(2024, 6, 18, 8)  # late
    at[results[1].path] = datetime(2024, 6, 20, 8)  # late
    at[results[2].path] = datetime(2024, 6, 17, 23, 59)  # last minute, on time
    rejected = result(COMMUNES_106[10], P, {"crime_cases": 1}, errors=1)
    at[rejected.path] = datetime(2024, 6, 16)
    load(con, tmp_path, [*results, rejected], "b1", received_at=at)
    # a late correction does not make an on-time commune late (first accepted version counts)
    load(
        con,
        tmp_path,
        [result(COMMUNES_106[3], P, {"crime_cases": 2, "crime_solved": 1})],
        "b2",
        received_at=datetime(2024, 7, 2),
    )
    comp = completeness(con, P, DISTRICT, CATALOG, UNITS)
    assert len(comp.expected) == 13 and comp.child_level == "C"
    assert comp.deadline == date(2024, 6, 17)
    assert comp.received == COMMUNES_106[:10]
    assert comp.missing == COMMUNES_106[10:]  # the rejected one counts as missing
    assert comp.late == COMMUNES_106[:2]
    assert len(comp.on_time) == 8 and comp.pct == pytest.approx(1000 / 13)
    consolidate(con, P, DISTRICT, CATALOG, UNITS)
    stored = con.execute(
        "SELECT expected, received, missing, on_time, late, missing_units, late_units"
        " FROM fct_completeness WHERE unit_code = ? AND period = ?",
        [DISTRICT, P],
    ).fetchall()
    assert stored == [(13, 10, 3, 8, 2, COMMUNES_106[10:], COMMUNES_106[:2])]
    assert row(rollup(con, P, DISTRICT, CATALOG, UNITS), "crime_cases")["completeness"] == (
        pytest.approx(1000 / 13)
    )


def _history(con, tmp_path, spike_index):
    months = [p.code for p in previous_periods(parse_period(P), 12)]
    hist = [
        result(c, m, {"crime_cases": 2 + (i % 2), "residential_areas": 10})
        for m in months
        for i, c in enumerate(COMMUNES_106)
    ]
    load(con, tmp_path, hist, "history")
    now = [
        result(
            c,
            P,
            {"crime_cases": 40 if i == spike_index else 2 + (i % 2), "residential_areas": 10},
        )
        for i, c in enumerate(COMMUNES_106)
    ]
    load(con, tmp_path, now, "now")
    return sum(r.values.set_index("indicator").loc["crime_cases", "value"] for r in now)


def test_cross_level_failure_names_the_departing_child(tmp_path):
    con = warehouse(tmp_path)
    spike = 4
    kids_sum = _history(con, tmp_path, spike)
    # the district's own count is below its communes' sum: crime_cases is ">="
    load(con, tmp_path, [result(DISTRICT, P, {"crime_cases": 30, "residential_areas": 128})], "d")
    res = consolidate(con, P, DISTRICT, CATALOG, UNITS, severity="error")
    (issue,) = [i for i in res.issues if i.indicator == "crime_cases"]
    child = UNITS.get(COMMUNES_106[spike], LEGACY_DAY)
    assert issue.rule_id == "cross_level_total" and str(issue.severity) == "error"
    assert issue.value == 30 and issue.expected == f">= {int(kids_sum)}"
    assert issue.extra["likely_cause"][0]["unit_code"] == child.code
    assert issue.extra["likely_cause"][0]["basis"] == "history"
    for text in (issue.message_vi, issue.message_en):
        assert child.name in text and child.code in text and str(int(kids_sum)) in text
    assert "30" in issue.message_vi and "Huyện Tam Đường" in issue.message_vi
    # residential_areas "=": 128 vs 130 fails exactly, passes within a tolerance
    assert [i.indicator for i in res.issues] == ["crime_cases", "residential_areas"]
    tolerant = consolidate(con, P, DISTRICT, CATALOG, UNITS, abs_tol=2)
    assert [i.indicator for i in tolerant.issues] == ["crime_cases"]
    assert str(tolerant.issues[0].severity) == "warning"
    stored = con.execute(
        "SELECT origin, unit_code, indicator, severity, extra FROM v_issues"
        " WHERE rule_id = 'cross_level_total'"
    ).fetchall()
    assert [(o, u, i, s) for o, u, i, s, _ in stored] == [
        ("consolidation", DISTRICT, "crime_cases", "warning")
    ]  # the second consolidation replaced the first one's issues
    assert json.loads(stored[0][4])["likely_cause"][0]["unit_code"] == child.code


def _with_district_history(con, tmp_path, spike, own):
    """Communes reporting 2 or 3 crimes a month and their district its communes' sum, for a
    year; this month commune `spike` (if any) reports 40 and the district `own`."""
    months = [p.code for p in previous_periods(parse_period(P), 12)]
    usual = [2 + (i % 2) for i in range(len(COMMUNES_106))]
    hist = [
        result(c, m, {"crime_cases": usual[i], "residential_areas": 10})
        for m in months
        for i, c in enumerate(COMMUNES_106)
    ]
    hist += [result(DISTRICT, m, {"crime_cases": sum(usual)}) for m in months]
    load(con, tmp_path, hist, "history")
    now = [
        result(c, P, {"crime_cases": 40 if i == spike else usual[i], "residential_areas": 10})
        for i, c in enumerate(COMMUNES_106)
    ]
    load(con, tmp_path, now, "now")
    load(con, tmp_path, [result(DISTRICT, P, {"crime_cases": own})], "own")
    return sum(usual), usual


def test_the_localisation_says_whether_the_parent_or_a_child_is_the_likelier_culprit(tmp_path):
    # a child's slip: the district reported its usual total, one commune 40 instead of 2 or 3
    con = warehouse(tmp_path)
    usual = [2 + (i % 2) for i in range(len(COMMUNES_106))]
    total, _ = _with_district_history(con, tmp_path, spike=4, own=sum(usual))
    res = consolidate(con, P, DISTRICT, CATALOG, UNITS)
    (issue,) = [
        i for i in res.issues if i.indicator == "crime_cases" and i.rule_id == RULE_CROSS_LEVEL
    ]
    culprit = issue.extra["culprit"]
    child = COMMUNES_106[4]
    assert culprit["certain"] and culprit["culprits"][0]["unit_code"] == child
    assert not culprit["culprits"][0]["own"] and culprit["culprits"][0]["usual"] == usual[4]
    # the sum is 40 - usual[4] above the district's figure: the commune back to its usual
    assert culprit["culprits"][0]["fits_max"] == usual[4]
    assert child in culprit["text_vi"] and "Số liệu có thể sai" in culprit["text_vi"]
    assert "likely wrong" in culprit["text_en"]
    # kept where the steward grid reads it, beside the likely cause
    stored = con.execute(
        "SELECT extra FROM v_issues WHERE rule_id = 'cross_level_total'"
    ).fetchone()
    assert json.loads(stored[0])["culprit"]["culprits"][0]["unit_code"] == child


def test_the_parents_own_slip_is_named_when_every_child_reports_its_usual(tmp_path):
    con = warehouse(tmp_path)
    total, _ = _with_district_history(con, tmp_path, spike=None, own=3)  # 3 for 32
    res = consolidate(con, P, DISTRICT, CATALOG, UNITS)
    (issue,) = [
        i for i in res.issues if i.indicator == "crime_cases" and i.rule_id == RULE_CROSS_LEVEL
    ]
    culprit = issue.extra["culprit"]
    (own,) = culprit["culprits"]
    assert culprit["certain"] and own["own"] and own["unit_code"] == DISTRICT
    assert (own["value"], own["fits_min"], own["fits_max"]) == (3, total, None)
    assert "số tự báo của Huyện Tam Đường" in culprit["text_vi"]


def test_equal_relation_is_not_checked_while_children_are_missing(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, {"residential_areas": 10}) for c in COMMUNES_106[:5]], "c")
    load(con, tmp_path, [result(DISTRICT, P, {"residential_areas": 130})], "d")
    assert consolidate(con, P, DISTRICT, CATALOG, UNITS).issues == []


def test_two_level_period_rolls_communes_straight_into_the_province(tmp_path):
    con = warehouse(tmp_path)
    period = "2025-08"
    day = parse_period(period).end(CATALOG.close_day)
    communes = UNITS.children(PROVINCE, day)
    assert communes and {u.level for u in communes} == {"C"}
    sent = communes[:10]
    load(
        con,
        tmp_path,
        [
            result(u.code, period, {"crime_cases": 4, "crime_solved": k % 4})
            for k, u in enumerate(sent)
        ],
        "b2025",
        received_at=datetime(2025, 8, 16),
    )
    res = consolidate(con, period, PROVINCE, CATALOG, UNITS)
    assert res.structure == "2025" and res.children == []
    assert res.completeness.child_level == "C"
    assert len(res.completeness.expected) == len(communes)
    assert res.completeness.received == [u.code for u in sent]
    rate = row(res.rollup, "crime_clearance_rate")
    assert rate["value"] == pytest.approx(100 * sum(k % 4 for k in range(10)) / 40)
    assert rate["children_reporting"] == 10
    units_written = con.execute("SELECT DISTINCT unit_code FROM fct_rollup ORDER BY 1").fetchall()
    assert units_written == sorted([(PROVINCE,)] + [(u.code,) for u in sent])
    name = con.execute("SELECT DISTINCT unit_name FROM v_rollup WHERE level = 'P'").fetchall()
    assert name == [("Tỉnh Lai Châu",)]
    # the district was abolished by the reform: said so, with who took over
    with pytest.raises(RollupError, match="no longer exists since 2025-07-01.*Tỉnh Lai Châu"):
        consolidate(con, period, DISTRICT, CATALOG, UNITS)


def test_quarter_built_from_monthly_reports(tmp_path):
    con = warehouse(tmp_path)
    months = parse_period("2024-Q2").month_codes()
    results = []
    for m_index, m in enumerate(months):
        for i, c in enumerate(COMMUNES_106):
            if i == 12 and m_index == 1:
                continue  # the last commune missed May: its quarter is April + June
            results.append(
                result(
                    c,
                    m,
                    {
                        "crime_cases": CASES_106[i] + m_index,
                        "crime_solved": SOLVED_106[i],
                        "residential_areas": 10 + m_index,  # a stock: the last month counts
                    },
                )
            )
    load(con, tmp_path, results, "months", received_at=datetime(2024, 6, 15))
    # the catalog's default (calendar.partial_months: sum_reported, as DHIS2): the commune that
    # missed May keeps its April and June in the quarter, and is listed as partial (2 of 3)
    res = consolidate(con, "2024-Q2", DISTRICT, CATALOG, UNITS)
    assert res.completeness.received == COMMUNES_106[:12]
    assert res.completeness.partial == {COMMUNES_106[12]: 2}
    assert res.completeness.months == 3
    assert (res.completeness.leaves_months_expected, res.completeness.leaves_months_received) == (
        3 * 13,
        3 * 13 - 1,
    )
    cases = sum(3 * CASES_106[i] + 3 for i in range(12))
    solved = sum(3 * SOLVED_106[i] for i in range(12))
    last = 2 * CASES_106[12] + 2  # April (+0) and June (+2)
    assert row(res.rollup, "crime_cases")["value"] == cases + last
    assert row(res.rollup, "residential_areas")["value"] == 13 * 12  # June's, the last sent
    solved_all = solved + 2 * SOLVED_106[12]
    assert row(res.rollup, "crime_clearance_rate")["value"] == pytest.approx(
        100 * solved_all / (cases + last)
    )
    stored = read_completeness(con, "2024-Q2", DISTRICT)
    assert stored.partial == {COMMUNES_106[12]: 2} and stored.leaves_months_received == 38
    # leave_out: the commune has no figure for the quarter (the rule before issue 20)
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        f"include: {DEFAULT_CATALOG}\ncalendar: {{partial_months: leave_out}}\n", encoding="utf-8"
    )
    res = consolidate(con, "2024-Q2", DISTRICT, load_catalog(strict), UNITS)
    assert row(res.rollup, "crime_cases")["value"] == cases
    assert row(res.rollup, "residential_areas")["value"] == 12 * 12
    assert row(res.rollup, "crime_clearance_rate")["value"] == pytest.approx(100 * solved / cases)
    # a unit that sent the quarter itself is taken as sent, not rebuilt
    load(con, tmp_path, [result(COMMUNES_106[12], "2024-Q2", {"crime_cases": 1000})], "q")
    again = consolidate(con, "2024-Q2", DISTRICT, CATALOG, UNITS)
    assert row(again.rollup, "crime_cases")["value"] == cases + 1000
    assert again.completeness.partial == {}


def test_own_figures_are_official_and_targets_and_change_are_reported(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, commune_results("2023-06"), "ly")
    load(con, tmp_path, commune_results(), "ty")
    consolidate(con, "2023-06", DISTRICT, CATALOG, UNITS)
    own = {
        "crime_cases": 363,
        "crime_solved": 337,
        "crime_cases_prev": 400,
        "crime_clearance_rate": 92.84,
    }
    load(con, tmp_path, [result(DISTRICT, P, own)], "district")
    df = consolidate(con, P, DISTRICT, CATALOG, UNITS).rollup
    cases = row(df, "crime_cases")
    assert (cases["value"], cases["source"], cases["children_sum"]) == (363, "own", sum(CASES_106))
    assert cases["change_vs_last_year"] == pytest.approx(
        100 * (363 - sum(CASES_106)) / sum(CASES_106)
    )
    assert cases["change_kind"] == "percent"
    rate = row(df, "crime_clearance_rate")  # recomputed from the parts, not the typed 92.84
    assert rate["value"] == pytest.approx(100 * 337 / 363)
    assert (rate["attainment"], rate["attainment_points"]) == ("exceeded", 17.84)
    assert rate["children_sum"] == pytest.approx(100 * sum(SOLVED_106) / sum(CASES_106))
    assert rate["change_kind"] == "points"
    last_rate = 100 * sum(SOLVED_106) / sum(CASES_106)
    assert rate["change_vs_last_year"] == pytest.approx(100 * 337 / 363 - last_rate)
    change = row(df, "crime_change_rate")  # (363 - 400) / 400 = -9.25% vs target <= -5
    assert change["value"] == pytest.approx(-9.25)
    assert (change["attainment"], change["attainment_points"]) == ("exceeded", 4.25)


@pytest.mark.parametrize(
    ("op", "target", "value", "expected"),
    [
        (">=", 75, 92.86, ("exceeded", 17.86)),
        (">=", 75, 100 * 13 / 14, ("exceeded", 17.86)),
        ("<=", -5, -9.25, ("exceeded", 4.25)),
        (">=", 90, 88.5, ("missed", 1.5)),
        (">=", 75, 75.0, ("reached", 0.0)),
        ("<", 15, 15.0, ("missed", 0.0)),
        ("<", 15, 12.0, ("exceeded", 3.0)),
        ("<=", -5, 2.0, ("missed", 7.0)),
    ],
)
def test_target_attainment(op, target, value, expected):
    assert Target(op, target, "test").attainment(value) == expected


def test_consolidation_is_replaced_not_appended_and_audited(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, commune_results(), "b1")
    consolidate(con, P, DISTRICT, CATALOG, UNITS, actor="a")
    n = con.execute("SELECT count(*) FROM fct_rollup WHERE unit_code = ?", [DISTRICT]).fetchall()
    load(con, tmp_path, [result(COMMUNES_106[0], P, {"crime_cases": 5, "crime_solved": 5})], "b2")
    res = consolidate(con, P, DISTRICT, CATALOG, UNITS, actor="b")
    assert (
        con.execute("SELECT count(*) FROM fct_rollup WHERE unit_code = ?", [DISTRICT]).fetchall()
        == n
    )
    assert row(res.rollup, "crime_cases")["value"] == sum(CASES_106) - 1 + 5
    actors = con.execute(
        "SELECT actor FROM audit_log WHERE action = 'consolidate' ORDER BY \"at\""
    ).fetchall()
    assert actors == [("a",), ("b",)]
    with pytest.raises(RollupError):
        consolidate(con, P, COMMUNES_106[0], CATALOG, UNITS)


def test_likely_cause_falls_back_to_peers_and_is_omitted_without_departure(tmp_path):
    con = warehouse(tmp_path)
    spike = COMMUNES_106[7]
    load(
        con,
        tmp_path,
        [
            result(c, P, {"crime_cases": 25 if c == spike else 3, "residential_areas": 5})
            for c in COMMUNES_106
        ],
        "c",
    )
    load(con, tmp_path, [result(DISTRICT, P, {"crime_cases": 20, "residential_areas": 60})], "d")
    by_indicator = {i.indicator: i for i in consolidate(con, P, DISTRICT, CATALOG, UNITS).issues}
    cause = by_indicator["crime_cases"].extra["likely_cause"][0]
    assert (cause["unit_code"], cause["basis"], cause["baseline"]) == (spike, "peers", 3.0)
    assert "trung vị của các đơn vị cùng cấp" in by_indicator["crime_cases"].message_vi
    # 60 vs 13 x 5 = 65: every commune reported its usual 5, so no single one is blamed
    areas = by_indicator["residential_areas"]
    assert areas.extra["likely_cause"] == [] and "Nguyên nhân" not in areas.message_vi


@pytest.mark.parametrize(
    ("period", "inside", "mapped"),
    [
        ("2024-06", [], []),
        ("2024-Q2", ["2024-04", "2024-05", "2024-06"], []),
        ("2025-Q2", ["2025-04", "2025-05", "2025-06"], []),  # all legacy
        ("2025-Q3", ["2025-07", "2025-08", "2025-09"], []),  # all two-level (closing the 14th)
        (  # the first half closed before the reform: mapped through the crosswalk
            "2025",
            ["2025-H1", "2025-H2", *(f"2025-Q{q}" for q in range(1, 5))]
            + [f"2025-{m:02d}" for m in range(1, 13)],
            ["2025-H1", "2025-Q1", "2025-Q2"] + [f"2025-{m:02d}" for m in range(1, 7)],
        ),
    ],
)
def test_multi_month_periods_are_built_from_the_periods_inside_them(period, inside, mapped):
    parts = pieces(parse_period(period), CATALOG.close_day)
    assert [p.code for p in parts] == [period, *inside]
    assert [p.code for p in parts if p.mapped] == mapped
    assert straddles(parse_period(period), CATALOG.close_day) == bool(mapped)
