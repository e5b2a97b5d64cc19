"""A verdict with one wrong cell leads with that cell, then the broken rules grouped under it:
the CLI's text and JSON, the outbox's HTML and JSON, the portal's verdict page; and the ingest
names it with the unit's history."""

from __future__ import annotations

import json
import re

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    base_warehouse,
    client,
    login,
    portal_root,
    settings,
    text_of,
    upload,
)
from test_warehouse_support import CATALOG, load, result, warehouse
from typer.testing import CliRunner

from conftest import SAMPLES
from tonghop.cli import app
from validations.outbox import write_reports
from validations.period import parse_period
from validations.report import render_html, render_text
from warehouse.rollup import previous_periods
from warehouse.suspects import relocate_with_history

PROVINCE = SAMPLES / "valid" / "2024-06" / "12_2024-06.csv"
LEAD_VI = (
    "Số liệu có thể sai: Số vụ phạm pháp hình sự (tội phạm về TTXH) (dòng 2) = 21; "
    "giá trị làm mọi quy tắc thỏa mãn: 215"
)
LEAD_EN = (
    "Figure likely wrong: Criminal cases (crime against social order) (row 2) = 21; "
    "the value that satisfies every rule: 215"
)


@pytest.fixture
def slipped(tmp_path):
    """Lai Châu's June province file with crime_cases 21 instead of 215 (the issue's case)."""
    path = tmp_path / "12_2024-06.csv"
    text = PROVINCE.read_text(encoding="utf-8").replace(",crime_cases,215,", ",crime_cases,21,")
    path.write_text(text, encoding="utf-8")
    return path


class _Out:
    def __init__(self, res) -> None:
        self.returncode, self.stdout = res.exit_code, res.output


def _cli(*args: str) -> _Out:
    """`tonghop ARGS` as the submitter runs it (in this process: typer's runner)."""
    return _Out(CliRunner().invoke(app, list(args)))


def test_the_cli_text_and_json_lead_with_the_wrong_cell(slipped):
    out = _cli("validate", str(slipped))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    verdict = next(n for n, ln in enumerate(lines) if ln.startswith("Kết quả: BỊ TỪ CHỐI"))
    assert lines[verdict + 2] == LEAD_VI  # right after the verdict
    problems = lines[lines.index("Các vấn đề:") :]
    assert problems[1].strip() == (
        "Bắt nguồn từ Số vụ phạm pháp hình sự (tội phạm về TTXH) (dòng 2) = 21:"
    )
    rules = [re.search(r"\[([a-z_]+)\]", ln)[1] for ln in problems[2:5]]
    assert sorted(rules) == ["change_rate_mismatch", "crime_solved_le_cases", "rate_mismatch"]
    assert "Các vấn đề khác" not in out.stdout
    en = _cli("validate", str(slipped), "--lang", "en")
    assert LEAD_EN in en.stdout and "Stemming from Criminal cases" in en.stdout
    data = json.loads(_cli("validate", str(slipped), "--json").stdout)
    (s,) = data["suspects"]
    assert (s["indicator"], s["location"], s["value"], s["fits"], s["certain"]) == (
        "crime_cases",
        "row 2",
        21,
        215,
        True,
    )
    assert sorted(s["rules"]) == sorted(i["rule"] for i in data["issues"])
    assert s["message"] == LEAD_VI and len(data["issues"]) == 3  # one Issue is one record


def test_the_html_and_the_outbox_lead_with_it_and_other_problems_follow(
    validator, catalog, slipped, tmp_path
):
    # a second, unrelated problem: a required indicator left out
    text = slipped.read_text(encoding="utf-8")
    slipped.write_text(
        "\n".join(ln for ln in text.splitlines() if ",media_items," not in ln) + "\n",
        encoding="utf-8",
    )
    r = validator.validate_file(slipped)
    page = render_html(r, catalog, "vi")
    lead = page.index('<p class="suspects">')
    assert lead < page.index("<table>") and LEAD_VI in page
    assert page.index("Bắt nguồn từ") < page.index("Các vấn đề khác:")
    assert page.index("crime_solved_le_cases") < page.index("Các vấn đề khác:")
    assert page.index("indicator_missing") > page.index("Các vấn đề khác:")
    text_report = render_text(r, catalog, "en")
    assert "Other problems:" in text_report and LEAD_EN in text_report
    written = write_reports(tmp_path / "outbox", [r], {}, catalog)
    record = json.loads(next(p for p in written if p.suffix == ".json").read_text("utf-8"))
    assert record["suspects"][0]["fits"] == 215
    assert LEAD_VI in next(p for p in written if p.suffix == ".html").read_text("utf-8")


def test_the_portals_verdict_leads_with_the_wrong_cell(client, slipped):  # noqa: F811
    login(client, "tinh.12")
    r = upload(client, slipped)
    assert re.fullmatch(r"/uploads/\d+", r.url.path)
    page = text_of(r.text)
    assert "BỊ TỪ CHỐI" in page and LEAD_VI in page
    assert page.index(LEAD_VI) < page.index("crime_solved_le_cases")
    en = text_of(client.get(f"/lang/en?next={r.url.path}").text)
    assert LEAD_EN in en and LEAD_VI not in en


def test_the_ingest_names_the_figure_ten_times_its_usual_size(validator, tmp_path):
    """resolved 360 for 36 with received 40 (a 90 % rate): received 400 would fit as well, and
    the form alone cannot tell; the unit's history (about 40 and 36 a month) can."""
    src = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
    rows = [ln.split(",") for ln in src.read_text(encoding="utf-8").splitlines()]
    values = {r[2]: r[3] for r in rows[1:]}
    values |= {"reports_received": "40", "reports_resolved": "360", "reports_resolution_rate": "90"}
    path = tmp_path / "03386_2024-06.csv"
    path.write_text(
        "unit_code,period,indicator,value,note\n"
        + "".join(f"03386,2024-06,{k},{v},\n" for k, v in values.items()),
        encoding="utf-8",
    )
    r = validator.validate_file(path)
    assert {s.indicator for s in r.suspects} == {"reports_received", "reports_resolved"}
    assert not any(s.certain for s in r.suspects)  # one of these two
    con = warehouse(tmp_path)
    months = [p.code for p in previous_periods(parse_period("2024-06"), 6)]
    load(
        con,
        tmp_path,
        [
            result("03386", m, {"reports_received": 38 + k, "reports_resolved": 35 + k})
            for k, m in enumerate(months)
        ],
        "history",
    )
    assert relocate_with_history(con, [r], CATALOG) == 1
    (s,) = r.suspects
    assert (s.indicator, s.fits, s.certain) == ("reports_resolved", 36, True)
