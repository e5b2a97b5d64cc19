import json

from conftest import SAMPLES
from validations.report import render_html, render_json, render_text


def test_text_report_has_a_rule_summary_and_one_line_per_problem(validator, catalog):
    result = validator.validate_file(SAMPLES / "invalid" / "wanted_resolved_le_existing.csv")
    text = render_text(result, catalog, "vi")
    assert "BỊ TỪ CHỐI" in text and "Quy tắc" in text
    summary = [ln for ln in text.splitlines() if ln.startswith("wanted_resolved_le_existing ")]
    assert summary and summary[0].split()[-2:] == ["1", "1"]
    problem = [ln for ln in text.splitlines() if "[wanted_resolved_le_existing]" in ln]
    assert len(problem) == 1 and "Dòng" in problem[0] and "gửi lại" in problem[0]
    en = render_text(result, catalog, "en")
    assert "REJECTED" in en and "Row" in en and "resubmit" in en


def test_json_report_carries_the_issue_record(validator):
    result = validator.validate_file(SAMPLES / "invalid" / "value_ambiguous.csv")
    data = json.loads(render_json(result, "en"))
    assert data["status"] == "accepted_with_warnings"
    assert (data["unit_code"], data["period"]) == ("03386", "2024-06")
    issue = data["issues"][0]
    for key in (
        "rule",
        "severity",
        "indicator",
        "location",
        "value",
        "expected",
        "message",
        "message_vi",
        "message_en",
        "unit_code",
        "period",
    ):
        assert key in issue
    assert issue["rule"] == "value_ambiguous" and issue["expected"] == "1250"


def test_html_report_escapes_what_the_submitter_wrote(validator, catalog, tmp_path):
    src = (SAMPLES / "invalid" / "indicator_unknown.csv").read_text(encoding="utf-8")
    path = tmp_path / "x.csv"
    path.write_text(src.replace("crime_casess", "<script>alert(1)</script>"), encoding="utf-8")
    page = render_html(validator.validate_file(path), catalog, "vi")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
