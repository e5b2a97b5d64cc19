"""Output safety: whatever a submitter wrote (formula/DDE payloads, HTML) is shown as text in every
output: the submitter's HTML and JSON, the period summary (HTML, Markdown, XLSX) and
`tonghop rollup --format csv`. HTML is escaped; CSV text cells starting with = + - @ tab CR get a
leading apostrophe; XLSX text cells are text cells (never formulas, Excel's hidden quote prefix
instead of a visible apostrophe); numbers stay numbers."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from test_hostile import DDE, HYPERLINK, PAYLOADS, canon_rows, csv_text, html_is_inert
from typer.testing import CliRunner

from conftest import SAMPLES
from validations.intake import expand_paths, validate_paths
from validations.report import csv_safe, render_html, render_json, render_text
from warehouse.db import connect, open_warehouse
from warehouse.staging import write_staging
from warehouse.store import load_batch
from warehouse.summary import build_summary, render_markdown, write_xlsx
from warehouse.summary import render_html as summary_html

JUNE_105 = SAMPLES / "valid" / "2024-06" / "105"
SVG_TAGS = {"svg", "g", "rect", "line", "polyline", "circle", "text", "title", "figure", "div"}
SUMMARY_TAGS = {"ul", "li", "h3", "strong"} | SVG_TAGS


def test_csv_safe_quotes_formula_text_and_leaves_numbers_alone():
    for p in PAYLOADS + ["\t=1", "\r=1", "-5", "+5", "@x"]:
        assert csv_safe(p) == "'" + p if p[0] in "=+-@\t\r" else csv_safe(p) == p
    for n in (-4.87, -1, 0, 3.5, 1250):
        assert csv_safe(n) == n and type(csv_safe(n)) is type(n)
    assert csv_safe("Phường Quyết Thắng") == "Phường Quyết Thắng"
    assert csv_safe(None) is None


def test_submitter_reports_escape_every_value(tmp_path, validator, catalog):
    rows = canon_rows()
    for r in rows[1:]:  # unit code: unit_unknown, quoted in the issue
        r[0] = "<img src=x onerror=alert(1)>"
    rows[2][3] = HYPERLINK  # a value: value_not_number
    rows[3][2] = "<script>alert(1)</script>"  # an indicator: indicator_unknown
    rows[4][3] = "\x1b[2J\x1b[31mOK\nFAKE: accepted"  # terminal codes and a line break
    path = tmp_path / "<b>bao cao<%2fb>.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    res = validator.validate_file(path)
    for lang in ("vi", "en"):
        page = render_html(res, catalog, lang)
        html_is_inert(page)
        assert (
            "<script>" not in page
            and "<img" not in page
            and "<b>bao" not in page
            and "&lt;b&gt;bao" in page
        )
        assert html.escape(HYPERLINK) in page and "&lt;script&gt;" in page
        data = json.loads(render_json(res, lang))
        assert HYPERLINK in {i["value"] for i in data["issues"]}  # JSON: data, as written
    text = render_text(res, catalog, "en")
    assert all(line.isprintable() for line in text.splitlines())
    assert "\\x1b[2J" in text and "\\nFAKE: accepted" in text  # shown, escaped


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory, catalog, units, validator):
    """District 105's June with commune 03386's notes all payloads, consolidated; a copy of the
    reference dimensions with payloads in a unit name and an indicator label (as if the
    reference data itself were hostile)."""
    from warehouse.rollup import consolidate

    tmp = tmp_path_factory.mktemp("safety")
    files = [f for f in expand_paths([JUNE_105]) if not f.name.startswith("03386")]
    rows = canon_rows()
    for i, r in enumerate(rows[1:]):
        r[4] = PAYLOADS[i % len(PAYLOADS)]
    notes = tmp / "03386_2024-06.csv"
    notes.write_text(csv_text(rows), encoding="utf-8")
    out = validate_paths([*files, notes], validator)
    assert all(r.status != "rejected" for r in out.results)
    con = open_warehouse(tmp / "w.duckdb", catalog, units)
    batch = write_staging(out.results, tmp / "staging", "b1", out.hashes, datetime(2024, 6, 15, 9))
    load_batch(con, batch)
    consolidate(con, "2024-06", "105", catalog, units)
    stored = {r[0] for r in con.execute("SELECT note FROM fct_value WHERE note <> ''").fetchall()}
    assert {p for p in PAYLOADS} <= stored  # stored verbatim, as text
    con.close()
    return tmp / "w.duckdb"


def _all_texts(path: Path) -> list[tuple[object, str, bool]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return [
        (c.value, c.data_type, bool(c.quotePrefix))
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]


def test_summary_outputs_never_carry_a_live_payload(hostile_warehouse, catalog, units, tmp_path):
    con = connect(hostile_warehouse, read_only=True)
    try:
        s = build_summary(con, "2024-06", "105", catalog, units)
    finally:
        con.close()
    # notes are not part of the summary: no payload reaches it from the submissions
    page, md = summary_html(s, units), render_markdown(s, units)
    for p in PAYLOADS:
        assert p not in page and html.escape(p) not in page and p not in md
    # now as if names and sentences themselves were hostile: still inert
    s.children = pd.DataFrame(
        [("03386", HYPERLINK, "crime_cases", 3.0), ("03387", DDE, "crime_cases", -1.0)],
        columns=["unit_code", "unit_name", "indicator", "value"],
    )
    s.sentences = [*s.sentences, ("crime", "<script>alert(1)</script> " + DDE)]
    s.unit = dataclasses.replace(s.unit, name='"><img src=x onerror=alert(1)>')
    page = summary_html(s, units)
    html_is_inert(page, extra=SUMMARY_TAGS)
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    cells = _all_texts(write_xlsx(s, units, tmp_path / "s.xlsx"))
    assert not [v for v, t, _ in cells if t == "f"]  # not one formula cell
    texts = [(v, q) for v, t, q in cells if isinstance(v, str)]
    assert (HYPERLINK, True) in texts  # shown as typed, quote-prefixed, no visible apostrophe
    assert all(q for v, q in texts if v[0] in "=+-@\t\r")
    assert not [v for v, _ in texts if v.startswith("'")]
    numbers = [v for v, t, _ in cells if t == "n"]
    assert numbers and all(isinstance(v, int | float) for v in numbers)


def test_summary_xlsx_keeps_a_negative_change_readable(hostile_warehouse, catalog, units, tmp_path):
    """'-4,87%' in the province's workbook used to read "'-4,87%" (a visible apostrophe); it is
    now a number (-0.0487) shown with a signed percentage format, never text."""
    con = connect(hostile_warehouse, read_only=True)
    try:
        s = build_summary(con, "2024-06", "105", catalog, units)
    finally:
        con.close()
    s.rollup = s.rollup.assign(change_vs_last_year=-4.87, change_kind="percent")
    path = write_xlsx(s, units, tmp_path / "s.xlsx")
    cells = _all_texts(path)
    assert (-0.0487, "n", False) in cells
    assert not [v for v, _, _ in cells if isinstance(v, str) and v.startswith("'")]
    from openpyxl import load_workbook

    formats = {c.number_format for row in load_workbook(path)["TongHop"].iter_rows() for c in row
               if c.value == -0.0487}  # fmt: skip
    assert formats == {"+0.00%;-0.00%;0.00%"}


def test_rollup_csv_quotes_text_but_not_numbers(hostile_warehouse, tmp_path):
    from tonghop.cli import app

    db = tmp_path / "w.duckdb"
    shutil.copy(hostile_warehouse, db)
    con = connect(db)
    con.execute("UPDATE dim_indicator SET label_vi = ? WHERE code = 'crime_cases'", [HYPERLINK])
    con.execute("UPDATE dim_indicator SET label_vi = ? WHERE code = 'crime_solved'", [DDE])
    con.execute(
        "UPDATE fct_rollup SET value = -4.87 WHERE unit_code = '105' AND period = '2024-06'"
        " AND indicator = 'crime_change_rate'"
    )
    con.close()
    res = CliRunner().invoke(
        app, ["rollup", "--period", "2024-06", "--unit", "105", "--format", "csv",
              "--warehouse", str(db)]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    labels = {r["indicator"]: r["label_vi"] for r in rows}
    assert labels["crime_cases"] == "'" + HYPERLINK and labels["crime_solved"] == "'" + DDE
    df = pd.read_csv(io.StringIO(res.stdout))
    assert pd.api.types.is_float_dtype(df["value"])  # numbers stay numbers
    change = df.loc[df["indicator"] == "crime_change_rate", "value"]
    assert change.tolist() == [-4.87]  # a negative number, not "'-4.87"
    assert not any(c.startswith(("=", "+", "@")) for line in rows for c in line.values() if c)
