"""Figures a province can publish: stocks and flows over a half-year, completeness through the
communes, rollups never stale (a correction or a release re-consolidates), lineage.

Expected figures are read BY HAND from the sample files (csv module), never through tonghop.
"""

from __future__ import annotations

import csv
from datetime import datetime

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

from conftest import SAMPLES, TODAY
from validations.intake import expand_paths, validate_paths
from validations.validator import Validator
from warehouse.approval import accept, approve, unaccept, unapprove
from warehouse.db import open_warehouse
from warehouse.rollup import consolidate, read_rollup, refresh, rollup
from warehouse.staging import write_staging
from warehouse.store import load_batch
from warehouse.summary import build_summary, render_markdown

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
H1 = "2024-H1"


def _province_month(period: str) -> dict[str, float]:
    with open(SAMPLES / "valid" / period / f"{PROVINCE}_{period}.csv", encoding="utf-8") as fh:
        return {r["indicator"]: float(r["value"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def half_year(tmp_path_factory):
    """Every valid sample of 2024-01..06 loaded; province 12 consolidated for the half-year."""
    root = tmp_path_factory.mktemp("h1")
    outcome = validate_paths(
        expand_paths([SAMPLES / "valid" / m for m in MONTHS]),
        Validator(catalog=CATALOG, units=UNITS, today=TODAY),
    )
    assert not outcome.unreadable
    batch = write_staging(
        outcome.results, root / "staging", "b1", outcome.hashes, datetime(2024, 6, 16)
    )
    con = open_warehouse(root / "wh.duckdb", CATALOG, UNITS)
    load_batch(con, batch)
    consolidate(con, H1, PROVINCE, CATALOG, UNITS)
    yield con
    con.close()


def test_every_stock_takes_the_last_month_and_every_flow_the_six_month_sum(half_year):
    months = [_province_month(m) for m in MONTHS]
    got = read_rollup(half_year, H1, PROVINCE).set_index("indicator")
    stocks = set(CATALOG.stocks())
    assert "wanted_existing" in stocks and "methadone_patients" in stocks
    checked = {"stock": 0, "flow": 0}
    for ind in CATALOG.for_level("P"):
        if ind.kind == "rate":
            continue
        june, total = months[-1][ind.code], sum(m[ind.code] for m in months)
        expected = june if ind.is_stock else total
        assert got.loc[ind.code, "value"] == pytest.approx(expected), ind.code
        if june != total:  # the figures tell a stock from a flow
            checked["stock" if ind.is_stock else "flow"] += 1
    assert checked["stock"] == len(stocks) - 1  # every stock but the commune-only flag
    assert checked["flow"] > 20
    # a rate is recomputed from its parts' half-year figures: a flow over a stock uses the stock
    # on the closing date (surrenders of six months over those at large in June)
    rate = got.loc["wanted_surrender_rate"]
    surrendered = sum(m["wanted_surrendered"] for m in months)
    assert (rate["numerator"], rate["denominator"]) == (surrendered, months[-1]["wanted_existing"])
    assert rate["value"] == pytest.approx(100 * surrendered / months[-1]["wanted_existing"])


def test_the_summary_of_the_half_year_says_the_june_stocks(half_year):
    s = build_summary(half_year, H1, PROVINCE, CATALOG, UNITS)
    june = _province_month("2024-06")
    wanted = dict(s.sentences)["wanted"]
    assert f"hiện có {int(june['wanted_existing'])} đối tượng" in wanted
    drugs = dict(s.sentences)["drug_work"]
    assert f"điều trị methadone {int(june['methadone_patients'])} người" in drugs
    movement = dict(s.sentences)["movement"]
    assert f"/{int(june['hotspots_total'])} địa bàn" in movement


def test_a_district_whose_communes_all_reported_is_complete_without_its_own_form(tmp_path):
    con = warehouse(tmp_path)
    communes = [
        c for d in UNITS.children(PROVINCE, LEGACY_DAY) for c in UNITS.children(d.code, LEGACY_DAY)
    ]
    assert len(communes) == 106
    load(con, tmp_path, [result(c.code, "2024-06", {"crime_cases": 1}) for c in communes], "all")
    res = consolidate(con, "2024-06", PROVINCE, CATALOG, UNITS)
    c = res.completeness
    assert (len(c.received), len(c.expected), c.pct) == (8, 8, 100.0)
    assert sorted(c.via_children) == sorted(d.code for d in UNITS.children(PROVINCE, LEGACY_DAY))
    assert (c.leaves_received, c.leaves_expected) == (106, 106)
    s = build_summary(con, "2024-06", PROVINCE, CATALOG, UNITS)
    md = render_markdown(s, UNITS)
    assert "Đã nhận báo cáo của 8/8 huyện, thành phố (100%)" in md
    assert (
        "8/8 huyện, thành phố đủ số liệu xã, phường, thị trấn; 106/106 xã, phường, thị trấn" in md
    )
    # one commune missing: its district is neither received nor complete
    con2 = warehouse(tmp_path, "w2.duckdb")
    load(con2, tmp_path, [result(c.code, "2024-06", {"crime_cases": 1}) for c in communes[1:]], "b")
    c2 = consolidate(con2, "2024-06", PROVINCE, CATALOG, UNITS).completeness
    assert (len(c2.received), c2.leaves_received, c2.leaves_missing) == (7, 105, [communes[0].code])


def _refreshing_load(con, tmp_path, results, batch_id):
    """load_batch as the ingest flow runs it: the rollups it makes stale refreshed with it."""
    batch = write_staging(
        results,
        tmp_path / "staging",
        batch_id,
        {r.path: f"h:{batch_id}:{r.path}" for r in results},
        received_at=datetime(2024, 6, 16, 9),
    )
    return load_batch(
        con, batch, after=lambda c, changed: refresh(c, changed, CATALOG, UNITS, actor="t")
    )


def test_a_correction_shows_in_the_rollup_without_consolidating_by_hand(tmp_path):
    con = warehouse(tmp_path)
    kids = [
        result(c, "2024-06", {"crime_cases": 2, "crime_solved": 1}, path=f"{c}.csv")
        for c in COMMUNES_106
    ]
    _refreshing_load(con, tmp_path, kids, "b1")
    # a period nobody consolidated stays so: the first consolidation is the steward's
    assert read_rollup(con, "2024-06", PROVINCE).empty
    consolidate(con, "2024-06", PROVINCE, CATALOG, UNITS)
    assert rollup(con, "2024-06", DISTRICT).set_index("indicator").loc["crime_cases", "value"] == 26
    assert rollup(con, "2024-06", PROVINCE).set_index("indicator").loc["crime_cases", "value"] == 26
    consolidate(con, "2024-Q2", PROVINCE, CATALOG, UNITS)  # a quarter consolidated earlier
    fixed = result(
        COMMUNES_106[0], "2024-06", {"crime_cases": 12, "crime_solved": 1}, path="fix.csv"
    )
    _refreshing_load(con, tmp_path, [fixed], "b2")
    for unit in (COMMUNES_106[0], DISTRICT, PROVINCE):
        got = rollup(con, "2024-06", unit).set_index("indicator")
        assert got.loc["crime_cases", "value"] == (12 if unit == COMMUNES_106[0] else 36), unit
    rate = rollup(con, "2024-06", DISTRICT).set_index("indicator").loc["crime_clearance_rate"]
    assert rate["value"] == pytest.approx(100 * 13 / 36)
    # the lineage names the correction, version 2, and no longer version 1
    versions = con.execute(
        "SELECT version FROM v_rollup_lineage WHERE unit_code = ? AND period = '2024-06'"
        " AND source_unit_code = ?",
        [PROVINCE, COMMUNES_106[0]],
    ).fetchall()
    assert versions == [(2,)]
    audit = con.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'consolidate' AND actor = 't'"
    ).fetchall()[0][0]
    assert audit >= 2


def test_unapprove_releasing_a_held_version_refreshes_the_rollup(tmp_path):
    con = warehouse(tmp_path)
    kids = [result(c, "2024-06", {"crime_cases": 2}, path=f"{c}.csv") for c in COMMUNES_106]
    _refreshing_load(con, tmp_path, kids, "b1")
    consolidate(con, "2024-06", PROVINCE, CATALOG, UNITS)
    approve(con, DISTRICT, "2024-06", actor="steward.106")
    accept(con, DISTRICT, "2024-06", actor="steward.12")
    held = result(COMMUNES_106[1], "2024-06", {"crime_cases": 7}, path="held.csv")
    outcome = _refreshing_load(con, tmp_path, [held], "b2")
    assert outcome[0].status == "held"
    assert rollup(con, "2024-06", DISTRICT).set_index("indicator").loc["crime_cases", "value"] == 26
    unaccept(con, DISTRICT, "2024-06", actor="steward.12")  # accepted: taken back first
    unapprove(
        con,
        DISTRICT,
        "2024-06",
        actor="steward.12",
        after=lambda c, changed: refresh(c, changed, CATALOG, UNITS),
    )
    assert rollup(con, "2024-06", DISTRICT).set_index("indicator").loc["crime_cases", "value"] == 31
    assert rollup(con, "2024-06", PROVINCE).set_index("indicator").loc["crime_cases", "value"] == 31


def test_lineage_answers_which_versions_produced_a_figure(half_year):
    # the query documented in docs/warehouse.md ("Which versions produced this figure?")
    rows = half_year.execute(
        """
        SELECT source_unit_code, source_period, version, file_name
        FROM v_rollup_lineage
        WHERE unit_code = '12' AND period = '2024-H1'
        ORDER BY source_unit_code, source_period
        """
    ).fetchall()
    assert len(rows) == 115 * 6  # every unit's six monthly reports
    assert {r[1] for r in rows} == set(MONTHS) and {r[2] for r in rows} == {1}


def test_a_correction_refreshes_the_highest_unit_that_was_consolidated(tmp_path):
    from warehouse.rollup import affected

    con = warehouse(tmp_path)
    kids = [result(c, "2024-06", {"crime_cases": 2}, path=f"{c}.csv") for c in COMMUNES_106]
    _refreshing_load(con, tmp_path, kids, "b1")
    change = [(COMMUNES_106[0], "2024-06")]
    assert affected(con, change, CATALOG, UNITS) == {}  # nothing consolidated: nothing stale
    consolidate(con, "2024-06", DISTRICT, CATALOG, UNITS)  # the district's steward, alone
    assert affected(con, change, CATALOG, UNITS) == {"2024-06": [DISTRICT]}
    consolidate(con, "2024-06", PROVINCE, CATALOG, UNITS)
    consolidate(con, "2024-H1", PROVINCE, CATALOG, UNITS)
    assert affected(con, change, CATALOG, UNITS) == {"2024-06": [PROVINCE], "2024-H1": [PROVINCE]}
    fixed = result(COMMUNES_106[0], "2024-06", {"crime_cases": 9}, path="fix.csv")
    _refreshing_load(con, tmp_path, [fixed], "b2")
    assert rollup(con, "2024-06", DISTRICT).set_index("indicator").loc["crime_cases", "value"] == 33
    # the tables have no key (migration 006): the writer keeps one row per unit, period, figure
    for table, key in (
        ("fct_rollup", "unit_code, period, indicator"),
        ("fct_rollup_lineage", "unit_code, period, submission_id"),
    ):
        twice = con.execute(f"SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1")
        assert twice.fetchall() == [], table
