"""Rendering a period report (document.py): Markdown, one self-contained HTML page (inline CSS
and SVG, no script, no external resource) and an Excel workbook whose figures are numbers in
Vietnamese display formats ("5.100", "92,86%"), with labels rather than codes. The Word file
is word.py's. Changes are coloured by what they mean (the indicator's direction), never by
their sign alone: a falling clearance rate is bad news in red, fewer cases good news in green.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from validations.fmt import fmt_num
from validations.units import LEVEL_NAMES_VI, ReferenceUnits
from warehouse import charts as svg
from warehouse.summary.build import TREND_INDICATORS, months_back
from warehouse.summary.document import Report, build_report
from warehouse.summary.model import Summary, ok
from warehouse.summary.tables import (
    XL_COUNT,
    Cell,
    child_cell,
    children_pivot,
)

TONE_COLOURS = {"good": "1B7F3B", "bad": "B00020"}  # green, red; neutral stays ink


def _intro(s: Summary) -> str:
    close = s.catalog.close_day
    return (
        f"{s.unit.name} ({LEVEL_NAMES_VI[s.unit.level]}, mã {s.unit.code}), kỳ {s.period.code}: "
        f"từ {s.period.start(close):%d/%m/%Y} đến {s.period.end(close):%d/%m/%Y}"
    )


# --- markdown ------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(head: list[str], rows: list[list[Cell]]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c.text) for c in row) + " |" for row in rows]
    return out


def render_markdown(s: Summary, units: ReferenceUnits, report: Report | None = None) -> str:
    r = report or build_report(s, units)
    lines = [
        "# BÁO CÁO",
        "",
        f"**{s.summary_line}**",
        "",
        f"_{_intro(s)}._",
        "",
    ]
    lines += [p for t in r.opening for p in (t, "")]
    for part in r.parts:
        lines += [f"## {part.number}. {part.title}", ""]
        for p in part.paragraphs:
            text = f"**{p.lead}.** {p.text}" if p.lead else p.text
            lines += [f"_{text}_" if p.placeholder or p.italic else text, ""]
    if r.all_notes:
        lines += ["## Ghi chú", ""] + [f"- {n}" for n in r.all_notes] + [""]
    lines += [r.closing, ""]
    lines += ["## Phụ lục: Số liệu chủ yếu"]
    for title, rows in r.tables:
        lines += ["", f"### {title}", ""] + _md_table(r.headers, rows)
    if r.children:
        lines += ["", "## Các đơn vị trực thuộc", ""] + _md_table(*r.children)
    return "\n".join(lines) + "\n"


# --- html with inline SVG charts -----------------------------------------------------------------
def _fmt(v: float) -> str:
    return fmt_num(v, "vi")


def charts(s: Summary) -> list[str]:
    """The monthly trend of TREND_INDICATORS with last year's months, and the units below
    side by side (sorted, at most warehouse.charts.BAR_LIMIT bars, last year's marks), each
    with its target line where the indicator has one for this period."""
    cat = s.catalog
    out = []
    months = list(reversed(months_back(s.period, 12)))
    for code in TREND_INDICATORS:
        ind = cat.indicators[code]
        rows = s.trend.loc[s.trend["indicator"] == code]
        values = {str(p): float(v) for p, v in zip(rows["period"], rows["value"], strict=True)}
        shown = [m for m in months if m in values]
        now = [(f"{m[5:]}/{m[:4]}", values[m]) for m in shown]
        before = [f"{int(m[:4]) - 1}{m[4:]}" for m in shown]
        last = [(f"{m[5:]}/{m[:4]}", values[m]) for m in before if m in values]
        target, label = _target_line(s, code)
        unit = "%" if ind.kind == "rate" else ind.unit_vi
        if len(now) < 2:
            continue
        out.append(
            svg.line_chart(
                f"{ind.report_label()}: diễn biến theo tháng",
                now,
                x_label="Tháng",
                y_label=f"{ind.report_label()} ({unit})",
                fmt=_fmt,
                target=target,
                target_label=label,
                last_year=last if len(last) == len(now) else None,
            )
        )
    if not s.children.empty:
        piv = children_pivot(s)
        last = (
            s.children.dropna(subset=["last_year_value"])
            if "last_year_value" in s.children
            else s.children.iloc[0:0].assign(last_year_value=[])
        )
        for code in TREND_INDICATORS:
            if code not in piv.columns:
                continue
            ind = cat.indicators[code]
            items = [
                (r["unit_name"], float(r[code])) for r in piv.to_dict("records") if ok(r[code])
            ]
            before = {
                str(n): float(v)
                for n, i, v in zip(
                    last["unit_name"], last["indicator"], last["last_year_value"], strict=True
                )
                if i == code
            }
            target, label = _target_line(s, code)
            unit = "%" if ind.kind == "rate" else ind.unit_vi
            out.append(
                svg.bar_chart(
                    f"{ind.report_label()} theo đơn vị, kỳ {s.period.code}",
                    items,
                    category_label="Đơn vị",
                    value_label=f"{ind.report_label()} ({unit})",
                    fmt=_fmt,
                    target=target,
                    target_label=label,
                    last_year=before or None,
                )
            )
    return [c for c in out if c]


def _target_line(s: Summary, code: str) -> tuple[float | None, str]:
    """The target a chart draws: the one this period is judged on, when it is not a pro-rata
    share of a longer horizon's (a monthly chart of a yearly 30 % would mislead)."""
    row = s.row(code) or {}
    target, goal = row.get("target"), row.get("target_goal")
    if not (ok(target) and target) or str(target) != str(goal):
        return None, ""
    op, value = str(target).split(" ", 1)
    sym = {">=": "≥", "<=": "≤"}.get(op, op)
    return float(value), f"chỉ tiêu {sym} {fmt_num(float(value), 'vi')}"


def _html_cell(c: Cell) -> str:
    e = html.escape
    cls = ["num"] if c.number is not None else []
    if c.tone in ("good", "bad"):
        cls.append(c.tone)
    attr = f' class="{" ".join(cls)}"' if cls else ""
    return f"<td{attr}>{e(c.text)}</td>"


def _html_table(head: list[str], rows: list[list[Cell]]) -> str:
    e = html.escape
    return (
        '<div class="wide"><table><thead><tr>'
        + "".join(f"<th>{e(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in rows)
        + "</tbody></table></div>"
    )


def render_html(s: Summary, units: ReferenceUnits, report: Report | None = None) -> str:
    """One self-contained page (inline CSS and SVG, no script, no external resource)."""
    e = html.escape
    r = report or build_report(s, units)
    body = [
        "<h1>BÁO CÁO</h1>",
        f'<p class="subject">{e(s.summary_line)}</p>',
        f'<p class="meta">{e(_intro(s))}.</p>',
    ]
    body += [f"<p>{e(t)}</p>" for t in r.opening]
    for part in r.parts:
        body.append(f"<h2>{e(part.number)}. {e(part.title)}</h2>")
        for p in part.paragraphs:
            lead = f"<strong>{e(p.lead)}.</strong> " if p.lead else ""
            cls = ' class="placeholder"' if p.placeholder else ' class="note"' if p.italic else ""
            body.append(f"<p{cls}>{lead}{e(p.text)}</p>")
    if r.all_notes:
        body.append(
            "<h2>Ghi chú</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in r.all_notes) + "</ul>"
        )
    body.append(f"<p>{e(r.closing)}</p>")
    body.append("<h2>Phụ lục: Số liệu chủ yếu</h2>")
    for title, rows in r.tables:
        body.append(f"<h3>{e(title)}</h3>" + _html_table(r.headers, rows))
    figures = charts(s)
    if figures:
        body.append('<h2>Biểu đồ</h2><div class="charts">')
        body += [f"<figure>{c}</figure>" for c in figures]
        body.append("</div>")
    if r.children:
        body.append("<h2>Các đơn vị trực thuộc</h2>" + _html_table(*r.children))
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(s.title)} — {e(s.unit.name)}</title>
<style>
body{{font-family:"Times New Roman",serif;margin:2rem auto;max-width:60rem;line-height:1.45;padding:0 1rem}}
h1{{text-align:center;margin-bottom:.2rem}} .subject{{text-align:center;font-weight:bold}}
.wide{{overflow-x:auto}} table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}
td,th{{border:1px solid #999;padding:.25rem .45rem;text-align:left;vertical-align:top}}
td.num{{text-align:right;white-space:nowrap}} td.good{{color:#1b7f3b}} td.bad{{color:#b00020}}
th{{background:#eef2f7}} figure{{margin:1rem 0}} svg{{max-width:100%;height:auto}}
.note{{font-style:italic;color:#555}} .meta{{color:#555;text-align:center}}
.placeholder{{font-style:italic;background:#fff3b0;padding:.2rem .4rem}}
</style></head><body>
{"".join(body)}
</body></html>
"""


# --- xlsx ----------------------------------------------------------------------------------------
def write_xlsx(
    s: Summary, units: ReferenceUnits, path: str | Path, report: Report | None = None
) -> Path:
    """The same report as a workbook: figures are numbers with Vietnamese display formats, text
    cells are text (never a formula), labels rather than codes, changes coloured by meaning."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from validations.report import xlsx_text

    r = report or build_report(s, units)
    wb = Workbook()
    ws = wb.active
    ws.title = "TongHop"

    def put(sheet: Any, cells: list[Cell | str | float | None], bold: bool = False) -> None:
        sheet.append([None] * len(cells))
        for cell, c in zip(sheet[sheet.max_row], cells, strict=False):
            colour = None
            if isinstance(c, Cell):
                colour = TONE_COLOURS.get(c.tone or "")
                if c.number is not None:
                    cell.value, cell.number_format = c.number, c.fmt or XL_COUNT
                else:
                    cell.value = c.text
                    xlsx_text(cell)
            elif isinstance(c, str):
                cell.value = c
                xlsx_text(cell)  # text stays text: never a formula, no visible apostrophe
            else:
                cell.value = c
            if bold or colour:
                cell.font = Font(bold=bold, color=colour)

    put(ws, [s.title], bold=True)
    put(ws, [_intro(s)])
    put(ws, [])
    for t in r.opening:
        put(ws, [t])
    for part in r.parts:
        put(ws, [f"{part.number}. {part.title}"], bold=True)
        for p in part.paragraphs:
            put(ws, [f"{p.lead}. {p.text}" if p.lead else p.text])
    if r.all_notes:
        put(ws, ["Ghi chú"], bold=True)
        for n in r.all_notes:
            put(ws, [n])
    put(ws, [r.closing])
    for title, rows in r.tables:
        put(ws, [])
        put(ws, [title], bold=True)
        put(ws, list(r.headers), bold=True)
        for row in rows:
            put(ws, list(row))
    ws.column_dimensions["A"].width = 60
    for col in "BCDEFG":
        ws.column_dimensions[col].width = 18
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if not s.children.empty:
        cs = wb.create_sheet("DonVi")
        piv = children_pivot(s)
        cols = [c for c in piv.columns if c not in ("unit_code", "unit_name")]
        put(
            cs,
            ["Mã", "Đơn vị"] + [s.catalog.indicators[c].report_label() for c in cols],
            bold=True,
        )
        for row in piv.to_dict("records"):
            put(cs, [row["unit_code"], row["unit_name"]] + [child_cell(s, c, row[c]) for c in cols])
        cs.column_dimensions["B"].width = 28
    ts = wb.create_sheet("XuHuong")
    put(ts, ["Kỳ", "Chỉ tiêu", "Giá trị"], bold=True)
    for t in s.trend.itertuples():
        put(
            ts,
            [
                t.period,
                s.catalog.indicators[t.indicator].report_label(),
                child_cell(s, t.indicator, t.value),
            ],
        )
    ts.column_dimensions["B"].width = 40
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
