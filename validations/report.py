"""The submitter's report: what was checked, the verdict, and one line per problem to fix.

Text (terminal), JSON and a self-contained HTML page, Vietnamese by default. Every line
prints the same Issue record (validations.issue.Issue).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validations.catalog import Catalog
from validations.fmt import fmt_location, fmt_num, one_line
from validations.issue import Issue, Severity, Status
from validations.localise import Suspect, group_heading, issue_groups, lead_lines
from validations.result import ValidationResult
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI, load_units

STATUS_TEXT = {
    "vi": {
        Status.ACCEPTED: "ĐƯỢC CHẤP NHẬN",
        Status.ACCEPTED_WITH_WARNINGS: "ĐƯỢC CHẤP NHẬN, CÓ CẢNH BÁO",
        Status.REJECTED: "BỊ TỪ CHỐI",
    },
    "en": {
        Status.ACCEPTED: "ACCEPTED",
        Status.ACCEPTED_WITH_WARNINGS: "ACCEPTED WITH WARNINGS",
        Status.REJECTED: "REJECTED",
    },
}
WORDS = {
    "vi": {
        "file": "Tệp",
        "unit": "Đơn vị",
        "period": "Kỳ",
        "verdict": "Kết quả",
        "errors": "lỗi",
        "warnings": "cảnh báo",
        "rule": "Quy tắc",
        "checked": "Đã kiểm tra",
        "failed": "Không đạt",
        "problems": "Các vấn đề",
        "error": "LỖI",
        "warning": "CẢNH BÁO",
        "value": "giá trị",
        "expected": "yêu cầu",
        "none": "Không phát hiện vấn đề nào.",
        "next_rejected": "Sửa các lỗi trên rồi gửi lại toàn bộ tệp.",
        "next_warn": "Số liệu đã được chấp nhận; hãy xác nhận hoặc sửa các điểm cảnh báo ở lần gửi sau.",
        "unknown": "không xác định",
    },
    "en": {
        "file": "File",
        "unit": "Unit",
        "period": "Period",
        "verdict": "Verdict",
        "errors": "errors",
        "warnings": "warnings",
        "rule": "Rule",
        "checked": "Checked",
        "failed": "Failed",
        "problems": "Problems",
        "error": "ERROR",
        "warning": "WARNING",
        "value": "value",
        "expected": "expected",
        "none": "No problems found.",
        "next_rejected": "Correct the errors above and resubmit the whole file.",
        "next_warn": "The figures are accepted; confirm or correct the warnings in your next submission.",
        "unknown": "unknown",
    },
}


def unit_line(result: ValidationResult, lang: str) -> str:
    w = WORDS[lang]
    if not result.unit_code:
        return w["unknown"]
    names = LEVEL_NAMES_VI if lang == "vi" else LEVEL_NAMES_EN
    unit = next(iter(load_units().versions(result.unit_code)), None)
    level = names.get(result.level or (unit.level if unit else ""), "")
    name = unit.name if unit else ""
    return f"{result.unit_code} {name} ({level})".replace(" ()", "")


def issue_line(issue: Issue, catalog: Catalog, lang: str) -> str:
    """'Dòng 14 — Số vụ điều tra, khám phá: <message> <hint>'."""
    parts = [fmt_location(issue.location, lang)]
    if issue.indicator and issue.indicator in catalog.indicators:
        label = catalog.indicators[issue.indicator].label(lang)
        # the message names the indicator already where it starts with its label
        parts.append(
            issue.indicator
            if issue.message(lang).startswith(label)
            else f"{label} ({issue.indicator})"
        )
    head = " — ".join(p for p in parts if p)
    text = f"{issue.message(lang)} {issue.hint(lang)}".strip()
    return f"{head}: {text}" if head else text


def render_text(result: ValidationResult, catalog: Catalog, lang: str = "vi") -> str:
    w = WORDS[lang]
    status = result.status
    lines = [
        f"{w['file']}: {one_line(result.path)}",
        f"{w['unit']}: {unit_line(result, lang)}    {w['period']}: {result.period or w['unknown']}",
        f"{w['verdict']}: {STATUS_TEXT[lang][status]} "
        f"({len(result.errors)} {w['errors']}, {len(result.warnings)} {w['warnings']})",
        "",
    ]
    lead = lead_lines(result.suspects, lang)  # which figure is wrong, first
    if lead:
        lines += [one_line(ln) for ln in lead] + [""]
    failed = result.failed()
    rows = [(r, n, failed.get(r, 0)) for r, n in result.checked.items() if n or failed.get(r)]
    width = max([len(w["rule"])] + [len(r) for r, _, _ in rows])
    lines.append(f"{w['rule']:<{width}}  {w['checked']:>12}  {w['failed']:>10}")
    for rule, n, f in rows:
        lines.append(f"{rule:<{width}}  {n:>12}  {f:>10}")
    lines.append("")
    if not result.issues:
        lines.append(w["none"])
        return "\n".join(lines)
    lines.append(f"{w['problems']}:")
    n = 0
    groups = grouped(result)
    for head, members in groups:
        heading = group_heading(head, lang, alone=len(groups) == 1)
        if heading:
            lines.append(f"  {one_line(heading)}")
        for issue in members:
            n += 1
            tag = w["error"] if issue.severity == Severity.ERROR else w["warning"]
            line = one_line(issue_line(issue, catalog, lang))  # no control codes to the terminal
            lines.append(f"{n:>3}. [{tag}] [{issue.rule_id}] {line}")
    lines.append("")
    lines.append(w["next_rejected"] if status == Status.REJECTED else w["next_warn"])
    return "\n".join(lines)


def grouped(result: ValidationResult) -> list[tuple[list[Suspect], list[Issue]]]:
    """The result's Issues under the cells they stem from (validations.localise.issue_groups);
    one group of every Issue, in order, when no figure is suspected."""
    if not result.suspects:
        return [([], list(result.issues))]
    keys = [(i.rule_id, i.indicator) for i in result.issues]
    return [
        (head, [result.issues[k] for k in idx]) for head, idx in issue_groups(keys, result.suspects)
    ]


def render_json(result: ValidationResult, lang: str = "vi") -> str:
    return render_record(result.to_dict(lang))


def render_record(record: Mapping[str, Any]) -> str:
    """A verdict's JSON record as `tonghop validate --json` prints it."""
    return json.dumps(record, ensure_ascii=False, indent=2, default=_json_default)


def _issue_row(issue: Issue, catalog: Catalog, lang: str) -> str:
    w = WORDS[lang]
    e = html.escape
    tag = w["error"] if issue.severity == Severity.ERROR else w["warning"]
    label = (
        catalog.indicators[issue.indicator].label(lang)
        if issue.indicator in catalog.indicators
        else (issue.indicator or "")
    )
    return (
        "<tr>"
        f"<td>{e(tag)}</td><td>{e(fmt_location(issue.location, lang))}</td>"
        f"<td>{e(label)}</td><td>{e(fmt_num(issue.value, lang))}</td>"
        f"<td>{e(issue.expected or '')}</td>"
        f"<td>{e(issue.message(lang))} <em>{e(issue.hint(lang))}</em></td>"
        f"<td><code>{e(issue.rule_id)}</code></td></tr>"
    )


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


WAREHOUSE_TEXT = {
    "vi": {
        "duplicate": "Tệp này đã được nhận trước đó (phiên bản {version}); không có gì thay đổi.",
        "held": "Số liệu kỳ này đã được phê duyệt và khóa: phiên bản {version} được giữ lại chờ mở khóa.",
        "stored": "Đã lưu thành phiên bản {version}.",
        "superseded": "Đã lưu thành phiên bản {version}, thay thế phiên bản {superseded}.",
        "rejected": "Phiên bản {version} bị từ chối; phiên bản đã chấp nhận trước đó (nếu có) vẫn được giữ.",
    },
    "en": {
        "duplicate": "This file was received before (version {version}); nothing changed.",
        "held": "This period is approved and locked: version {version} is held until it is unlocked.",
        "stored": "Stored as version {version}.",
        "superseded": "Stored as version {version}, replacing version {superseded}.",
        "rejected": "Version {version} is rejected; the previously accepted version (if any) is kept.",
    },
}


PREDICTION_TEXT = {
    "vi": {
        "duplicate": "Tệp này đã được nhận trước đó (phiên bản {version}): gửi lại sẽ không "
        "thay đổi gì.",
        "held": "Số liệu kỳ này đã được phê duyệt và khóa: tệp sẽ được lưu thành phiên bản "
        "{version} và giữ lại chờ mở khóa.",
        "stored": "Tệp sẽ được lưu thành phiên bản {version}.",
        "superseded": "Tệp sẽ được lưu thành phiên bản {version}, thay thế phiên bản {superseded}.",
        "rejected": "Tệp sẽ được lưu thành phiên bản {version} bị từ chối; phiên bản đã chấp "
        "nhận trước đó (nếu có) vẫn được giữ.",
    },
    "en": {
        "duplicate": "This file was received before (version {version}): sending it again "
        "changes nothing.",
        "held": "This period is approved and locked: the file will be stored as version "
        "{version} and held until it is unlocked.",
        "stored": "The file will be stored as version {version}.",
        "superseded": "The file will be stored as version {version}, replacing version "
        "{superseded}.",
        "rejected": "The file will be stored as rejected version {version}; the previously "
        "accepted version (if any) is kept.",
    },
}


def warehouse_line(
    done: Mapping[str, Any] | None, lang: str = "vi", predicted: bool = False
) -> str:
    """One sentence on what the warehouse did with the submission (`predicted`: what it
    will do, for a dry run)."""
    if not done or not done.get("version"):
        return ""
    t = (PREDICTION_TEXT if predicted else WAREHOUSE_TEXT)[lang]
    if done.get("duplicate"):
        key = "duplicate"
    elif done.get("status") == "held":
        key = "held"
    elif done.get("status") == "rejected":
        key = "rejected"
    elif done.get("superseded"):
        key = "superseded"
    else:
        key = "stored"
    return t[key].format(version=done.get("version"), superseded=done.get("superseded"))


def render_html(
    result: ValidationResult,
    catalog: Catalog,
    lang: str = "vi",
    warehouse: Mapping[str, Any] | None = None,
) -> str:
    """A self-contained page for the submitter's outbox; every value is HTML-escaped."""
    w = WORDS[lang]
    e = html.escape
    status = result.status
    color = {"accepted": "#1b7f3b", "accepted_with_warnings": "#a66a00", "rejected": "#b00020"}[
        str(status)
    ]
    rows = []
    groups = grouped(result)
    for head, members in groups:
        heading = group_heading(head, lang, alone=len(groups) == 1)
        if heading:
            rows.append(f'<tr class="stems"><th colspan="7">{e(heading)}</th></tr>')
        rows += [_issue_row(issue, catalog, lang) for issue in members]
    lead = lead_lines(result.suspects, lang)
    # only the report's own few tags (tests/test_hostile.py): a paragraph per line
    suspects = "".join(f'<p class="suspects">{e(ln)}</p>' for ln in lead)
    table = (
        "<table><thead><tr>"
        + "".join(
            f"<th>{e(h)}</th>"
            for h in (
                "",
                "Vị trí" if lang == "vi" else "Location",
                "Chỉ tiêu" if lang == "vi" else "Indicator",
                w["value"],
                w["expected"],
                "Cần làm" if lang == "vi" else "What to do",
                w["rule"],
            )
        )
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else f"<p>{e(w['none'])}</p>"
    )
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{e(w["verdict"])}: {e(result.unit_code or "")} {e(result.period or "")}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}
.verdict{{color:#fff;background:{color};padding:.4rem .8rem;border-radius:4px;display:inline-block}}
.suspects{{font-weight:600;border-left:4px solid #b00020;padding:.2rem .8rem;margin:.3rem 0}}
tr.stems th{{background:#f4f4f4}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}}
</style></head><body>
<h1>{e(w["verdict"])}: <span class="verdict">{e(STATUS_TEXT[lang][status])}</span></h1>
<p>{e(w["file"])}: {e(Path(result.path).name)}<br>{e(w["unit"])}: {e(unit_line(result, lang))}<br>
{e(w["period"])}: {e(result.period or w["unknown"])}<br>
{len(result.errors)} {e(w["errors"])}, {len(result.warnings)} {e(w["warnings"])}</p>
<p class="warehouse">{e(warehouse_line(warehouse, lang))}</p>
{suspects}
<h2>{e(w["problems"])}</h2>
{table}
<p>{e(w["next_rejected"] if status == Status.REJECTED else w["next_warn"])}</p>
</body></html>
"""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (CSV/DDE injection).

    For CSV: a text starting with = + - @ tab or CR gets a leading apostrophe; numbers (int,
    float) are never touched."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xlsx_text(cell: Any) -> None:
    """Make an openpyxl cell holding text a plain text cell, never a formula.

    openpyxl stores a str starting with "=" as a formula: the cell is set back to text, and a
    text starting with = + - @ tab or CR gets Excel's own quote prefix (the hidden leading
    apostrophe: shown as typed, "-4,87%" stays "-4,87%", and editing it cannot turn it into a
    formula). Numbers and empty cells are left alone."""
    if isinstance(cell.value, str):
        if cell.data_type == "f":
            cell.data_type = "s"
        if cell.value.startswith(_FORMULA_START):
            cell.quotePrefix = True
