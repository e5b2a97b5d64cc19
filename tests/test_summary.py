"""The period summary: sentences and numbers checked against figures computed by hand from the
sample files, for a month and a six-month period; HTML, Markdown and XLSX outputs."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from conftest import SAMPLES
from validations.intake import validate_paths
from warehouse.db import open_warehouse
from warehouse.export import export_period
from warehouse.rollup import consolidate
from warehouse.staging import write_staging
from warehouse.store import load_batch
from warehouse.summary import (
    SummaryError,
    build_summary,
    render_html,
    render_markdown,
    vn,
    write_xlsx,
)

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]


def _ingest(con, files: list[Path], tmp: Path, validator) -> None:
    out = validate_paths(files, validator)
    batch = write_staging(
        out.results,
        tmp / "staging",
        f"b{len(list(tmp.glob('staging/*')))}",
        out.hashes,
        datetime(2024, 6, 15, 9),
    )
    load_batch(con, batch)


def _province_file(period: str) -> dict[str, float]:
    with open(SAMPLES / "valid" / period / f"12_{period}.csv", encoding="utf-8") as fh:
        return {r["indicator"]: float(r["value"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, catalog, units, validator):
    tmp = tmp_path_factory.mktemp("summary")
    con = open_warehouse(tmp / "w.duckdb", catalog, units)
    files = [f for m in MONTHS for f in sorted((SAMPLES / "valid" / m).rglob("*.*"))]
    _ingest(con, files, tmp, validator)
    for period in [*MONTHS, "2024-H1"]:
        consolidate(con, period, "12", catalog, units)
    yield con, tmp
    con.close()


def test_month_sentences_match_the_province_file(warehouse, catalog, units):
    con, _ = warehouse
    s = build_summary(con, "2024-06", "12", catalog, units)
    f = _province_file("2024-06")
    crime = dict(s.sentences)["crime"]
    rate = round(100 * f["crime_solved"] / f["crime_cases"], 2)
    change = round(100 * (f["crime_cases"] - f["crime_cases_prev"]) / f["crime_cases_prev"], 2)
    assert f"xảy ra {vn(f['crime_cases'])} vụ" in crime
    assert f"(cùng kỳ {vn(f['crime_cases_prev'])} vụ)" in crime
    word = "được kéo giảm" if change < 0 else "tăng"
    assert f"{word} {vn(abs(change))}% so với cùng kỳ" in crime
    assert f"tỷ lệ điều tra khám phá đạt {vn(rate)}%" in crime
    assert f"(vượt chỉ tiêu {vn(round(rate - 75, 2))}%)" in crime
    reports = dict(s.sentences)["reports"]
    rr = round(100 * f["reports_resolved"] / f["reports_received"], 2)
    assert f"đã giải quyết {vn(f['reports_resolved'])} tin, đạt {vn(rr)}%" in reports
    # every district reported; completeness is stated
    md = render_markdown(s, units)
    assert "Đã nhận báo cáo của 8/8 huyện, thành phố (100%)" in md
    assert "8/8 huyện, thành phố đủ số liệu xã; 106/106 xã, phường, thị trấn đã báo cáo" in md


def test_six_month_sentences_are_ratios_of_summed_months(warehouse, catalog, units):
    con, _ = warehouse
    s = build_summary(con, "2024-H1", "12", catalog, units)
    files = [_province_file(m) for m in MONTHS]
    cases = sum(f["crime_cases"] for f in files)
    solved = sum(f["crime_solved"] for f in files)
    prev = sum(f["crime_cases_prev"] for f in files)
    rate = round(100 * solved / cases, 2)
    mean_of_rates = round(sum(f["crime_clearance_rate"] for f in files) / 6, 2)
    assert rate != mean_of_rates  # the data tell the two apart
    change = round(100 * (cases - prev) / prev, 2)
    crime = dict(s.sentences)["crime"]
    assert f"xảy ra {vn(cases)} vụ" in crime and f"đạt {vn(rate)}%" in crime
    assert f"{vn(abs(change))}% so với cùng kỳ" in crime
    target_gap = round(abs(change) - 5, 2)
    assert (f"vượt chỉ tiêu {vn(target_gap)}%" in crime) == (change <= -5)
    assert "6 THÁNG ĐẦU NĂM 2024" in s.title
    # stock indicators take the last month, not the sum of six
    assert s.value("residential_areas") == files[-1]["residential_areas"]


def test_a_province_submission_alone_is_enough(tmp_path, catalog, units, validator):
    con = open_warehouse(tmp_path / "p.duckdb", catalog, units)
    _ingest(con, [SAMPLES / "valid" / "2024-06" / "12_2024-06.csv"], tmp_path, validator)
    with pytest.raises(SummaryError, match="tonghop consolidate --period 2024-06 --unit 12"):
        build_summary(con, "2024-06", "12", catalog, units)  # one truth: stored figures only
    consolidate(con, "2024-06", "12", catalog, units)
    s = build_summary(con, "2024-06", "12", catalog, units)
    f = _province_file("2024-06")
    assert s.value("crime_cases") == f["crime_cases"]
    md = render_markdown(s, units)
    assert "Đã nhận báo cáo của 0/8 huyện, thành phố" in md
    con.close()


def test_outputs_html_xlsx_and_escaping(warehouse, catalog, units, tmp_path):
    con, _ = warehouse
    s = build_summary(con, "2024-06", "12", catalog, units)
    page = render_html(s, units)
    import re

    assert page.count("<svg") >= 3 and "<script" not in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", page)  # self-contained
    from openpyxl import load_workbook

    path = write_xlsx(s, units, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert {"TongHop", "DonVi", "XuHuong"} <= set(wb.sheetnames)
    texts = [c.value for row in wb["TongHop"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("tỷ lệ điều tra khám phá đạt" in t for t in texts)
    assert not any(t.startswith("=") for t in texts)


def test_export_holds_only_the_units_tree(warehouse, tmp_path):
    import duckdb

    con, _ = warehouse
    from validations.catalog import load_catalog
    from validations.units import load_units

    consolidate(con, "2024-06", "12", load_catalog(), load_units())
    counts = export_period(con, "2024-06", "106", tmp_path / "exp")
    # 106 and its 13 communes: the district's 52 figures and each commune's own 30
    assert counts["rollup"] == 52 + 13 * 30 and counts["submission_status"] == 14
    assert counts["rollup_lineage"] == 14 + 13  # the district: its form and 13 communes
    got = duckdb.sql(
        f"SELECT DISTINCT unit_code FROM read_parquet('{tmp_path}/exp/submission_status/*/*.parquet')"
    ).fetchall()
    assert {g[0] for g in got} <= {"106"} | {
        c.code for c in load_units().children("106", datetime(2024, 6, 14).date())
    }


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _console_errors(page: Path, tmp: Path) -> list[str]:
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp / 'chrome'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "</html>" in proc.stdout  # the page loaded and rendered
    return [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_report_opens_in_headless_chromium_without_console_errors(
    warehouse, catalog, units, tmp_path
):
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!doctype html><html><body><script>throw new Error('boom')</script></body></html>"
    )
    assert _console_errors(broken, tmp_path), "the console check must see a real error"
    con, _ = warehouse
    page = tmp_path / "report.html"
    page.write_text(
        render_html(build_summary(con, "2024-06", "12", catalog, units), units), encoding="utf-8"
    )
    assert _console_errors(page, tmp_path) == []
