"""warehouse.quality: the Great Expectations checkpoint over a consolidated period.

One warehouse is built per module from the real 2024-06 samples of Lai Châu (intake, staging,
load, consolidate: no Prefect); each test works on its own copy. Great Expectations is imported
once per process (the first checkpoint run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime

import pytest

from conftest import ROOT, SAMPLES, TODAY
from validations.catalog import load_catalog
from validations.intake import expand_paths, validate_paths
from validations.units import load_units
from validations.validator import Validator
from warehouse.db import connect, open_warehouse
from warehouse.quality import (
    ENV_DOCS,
    build_suite,
    data_docs_dir,
    quality_frame,
    run_checkpoint,
    suite_name,
)
from warehouse.rollup import consolidate
from warehouse.staging import write_staging
from warehouse.store import load_batch

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

P = "2024-06"
PROVINCE = "12"
CATALOG = load_catalog()
UNITS = load_units()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse holding every valid 2024-06 sample, province 12 consolidated."""
    root = tmp_path_factory.mktemp("quality")
    outcome = validate_paths(
        expand_paths([SAMPLES / "valid" / P]),
        Validator(catalog=CATALOG, units=UNITS, today=TODAY),
    )
    assert not outcome.unreadable and len(outcome.results) == 115
    batch = write_staging(
        outcome.results, root / "staging", "b1", outcome.hashes, received_at=datetime(2024, 6, 16)
    )
    con = open_warehouse(root / "wh.duckdb", CATALOG, UNITS)
    try:
        load_batch(con, batch)
        consolidate(con, P, PROVINCE, CATALOG, UNITS)
    finally:
        con.close()
    return root / "wh.duckdb"


@pytest.fixture
def con(built, tmp_path):
    db = tmp_path / "wh.duckdb"
    shutil.copy(built, db)
    c = connect(db)
    yield c
    c.close()


def gx_issues(con):
    return con.execute(
        "SELECT unit_code, indicator, rule_id, severity, value, message_vi, message_en, extra"
        " FROM v_issues WHERE starts_with(rule_id, 'gx_') AND period = ? ORDER BY ALL",
        [P],
    ).fetchall()


def test_importing_the_module_does_not_import_great_expectations():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import warehouse.quality, sys; print('great_expectations' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_the_suite_is_generated_from_the_catalog():
    specs = build_suite(CATALOG)
    by_check = {s.check: s for s in specs}
    assert len(by_check) == len(specs)  # check names are unique
    assert all(s.rule_id == "gx_" + s.type for s in specs)
    rates = {i.code for i in CATALOG.rates()}
    flags = {i.code for i in CATALOG.indicators.values() if i.kind == "flag"}
    parts = by_check["rate_equals_parts"]
    assert set(parts.indicators) == rates | flags
    # the formula and the tolerance are the catalog's: the frame carries the excess over it
    assert parts.kwargs == {"column": "rate_excess", "min_value": None, "max_value": 0.0}
    assert by_check["indicator_known"].kwargs["value_set"] == sorted(CATALOG.indicators)
    assert by_check["unit_known"].kwargs["value_set"] == {"$PARAMETER": "tree_unit_codes"}
    assert by_check["key_unique"].kwargs["column_list"] == ["unit_code", "period", "indicator"]
    # every count, decimal and rate is in exactly one value-domain group with its own bounds
    domains = [s for s in specs if s.check.startswith("value_domain:")]
    seen = [code for s in domains for code in s.indicators]
    assert sorted(seen) == sorted(i.code for i in CATALOG.indicators.values() if i.kind != "flag")
    for s in domains:
        for code in s.indicators:
            ind = CATALOG.indicators[code]
            assert (s.kwargs["min_value"], s.kwargs["max_value"]) == (ind.min, ind.max)
    change = next(s for s in domains if "crime_change_rate" in s.indicators)
    assert change.kwargs["min_value"] == -100 and change.kwargs["max_value"] is None
    assert set(by_check["count_integer"].indicators) == {
        i.code for i in CATALOG.indicators.values() if i.kind in ("count", "flag")
    }
    json.dumps([s.to_dict() for s in specs])  # plain data


def test_data_docs_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_DOCS, raising=False)
    assert data_docs_dir(None, tmp_path / "w" / "t.duckdb") == tmp_path / "w" / "data_docs"
    monkeypatch.setenv(ENV_DOCS, str(tmp_path / "env_docs"))
    assert data_docs_dir(None, tmp_path / "t.duckdb") == tmp_path / "env_docs"
    assert data_docs_dir(str(tmp_path / "x"), tmp_path / "t.duckdb") == tmp_path / "x"


def test_the_consolidated_samples_pass_and_data_docs_are_written(con, tmp_path):
    frame = quality_frame(con, P, PROVINCE, CATALOG, UNITS)
    communes = {u.code for d in range(105, 113) for u in UNITS.children(str(d), date(2024, 6, 14))}
    assert set(frame["unit_code"]) == {PROVINCE, *(f"{c}" for c in range(105, 113)), *communes}
    rated = frame[frame["rate_expected"].notna()]
    assert len(rated) and rated["rate_diff"].abs().max() < 1e-9

    docs = tmp_path / "docs"
    res = run_checkpoint(con, P, PROVINCE, CATALOG, docs, UNITS)
    assert res.success, [i.message_en for i in res.issues]
    assert res.issues == []
    assert res.statistics["evaluated_expectations"] == len(build_suite(CATALOG))
    assert res.statistics["unsuccessful_expectations"] == 0
    assert res.statistics["rows"] == len(frame) and res.statistics["units"] == 9 + 106
    assert res.docs_index == docs / "index.html" and res.docs_index.is_file()
    index = res.docs_index.read_text(encoding="utf-8")
    assert suite_name(CATALOG) in index
    pages = list((docs / "validations" / suite_name(CATALOG)).rglob("*.html"))
    assert len(pages) == 1 and f"{PROVINCE}_{P}" in str(pages[0])
    assert (docs / "expectations" / f"{suite_name(CATALOG)}.html").is_file()
    assert gx_issues(con) == []
    summary = res.summary()
    assert summary["success"] and summary["failed_expectations"] == 0 and summary["issues"] == []
    assert summary["docs_index"] == str(docs / "index.html")


def test_corrupted_rollup_fails_and_yields_issues_that_are_replaced(con, tmp_path):
    where = "period = '2024-06' AND unit_code = ? AND indicator = ?"
    con.execute(f"UPDATE fct_rollup SET value = 150 WHERE {where}", ["105", "crime_clearance_rate"])
    con.execute(f"UPDATE fct_rollup SET value = -1 WHERE {where}", ["106", "crime_cases"])
    con.execute(f"UPDATE fct_rollup SET unit_code = '99999' WHERE {where}", ["107", "drug_cases"])
    con.execute(f"UPDATE fct_rollup SET value = 2.5 WHERE {where}", ["108", "drug_suspects"])
    con.execute(f"UPDATE fct_rollup SET indicator = 'bogus' WHERE {where}", ["109", "drug_cases"])
    docs = tmp_path / "docs"
    res = run_checkpoint(con, P, PROVINCE, CATALOG, docs, UNITS)
    assert not res.success
    failed = set(res.statistics["failed_checks"])
    assert {"unit_known", "value_domain:count:>=0", "rate_equals_parts"} <= failed
    assert {"value_domain:rate:in[0,100]", "count_integer", "indicator_known"} <= failed
    got = {(i.rule_id, i.unit_code, i.indicator) for i in res.issues}
    assert ("gx_expect_column_values_to_be_between", "105", "crime_clearance_rate") in got
    assert ("gx_expect_column_values_to_be_between", "106", "crime_cases") in got
    assert ("gx_expect_column_values_to_be_in_set", "99999", "drug_cases") in got
    assert ("gx_expect_column_values_to_be_in_set", "109", "bogus") in got
    fraction = next(i for i in res.issues if i.extra["check"] == "count_integer")
    assert (fraction.unit_code, fraction.indicator, fraction.value) == ("108", "drug_suspects", 2.5)
    assert all(i.severity == "error" for i in res.issues)
    orphan = next(i for i in res.issues if i.unit_code == "99999")
    assert "99999" in orphan.message_vi and "orphan" in orphan.message_en
    negative = next(i for i in res.issues if i.indicator == "crime_cases")
    assert negative.value == -1 and "Huyện Tam Đường (106)" in negative.message_vi
    assert "tonghop consolidate --period 2024-06 --unit 12" in negative.hint_en
    rate = [i for i in res.issues if i.indicator == "crime_clearance_rate"]
    assert {i.extra["check"] for i in rate} == {"value_domain:rate:in[0,100]", "rate_equals_parts"}
    assert res.docs_index is not None and res.docs_index.is_file()
    summary = res.summary()
    assert not summary["success"] and summary["failed_expectations"] == len(failed)
    assert len(summary["issues"]) == len(res.issues)
    assert {i["rule"] for i in summary["issues"]} == {i.rule_id for i in res.issues}
    json.dumps(summary)

    stored = gx_issues(con)  # v_issues shows them like any other issue
    assert len(stored) == len(res.issues)
    assert {(r[0], r[1]) for r in stored} >= {
        ("105", "crime_clearance_rate"),
        ("106", "crime_cases"),
        ("99999", "drug_cases"),
        ("108", "drug_suspects"),
        ("109", "bogus"),
    }
    assert all(json.loads(r[7])["checkpoint_root"] == PROVINCE for r in stored)

    # the steward consolidates again and removes the orphan row: the next checkpoint passes and
    # replaces the previous gx_ issues of the tree, the orphan's included
    consolidate(con, P, PROVINCE, CATALOG, UNITS)
    con.execute("DELETE FROM fct_rollup WHERE unit_code = '99999' OR indicator = 'bogus'")
    again = run_checkpoint(con, P, PROVINCE, CATALOG, docs, UNITS)
    assert again.success and again.issues == []
    assert gx_issues(con) == []
    assert len(list((docs / "validations").rglob("*.html"))) == 2  # both runs in the docs
