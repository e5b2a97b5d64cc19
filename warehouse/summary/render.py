"""Rendering a Summary: Markdown, one self-contained HTML page (inline CSS and SVG, no script,
no external resource) and an Excel workbook whose figures are numbers in Vietnamese display
formats ("5.100", "92,86%"), with labels rather than codes."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from validations.units import LEVEL_NAMES_VI, ReferenceUnits
from warehouse.summary.build import SIDE_BY_SIDE, TREND_INDICATORS, Summary
from warehouse.summary.build import ok as _ok
from warehouse.summary.sentences import completeness_sentences, last_year_note, pct, vn

TABLE_HEADERS = [
    "Chỉ tiêu",
    "Đơn vị tính",
    "Kỳ này",
    "Tăng/giảm so với cùng kỳ",
    "Chỉ tiêu giao",
    "Đánh giá",
]
ATTAIN_VI = {"exceeded": "Vượt", "reached": "Đạt", "missed": "Chưa đạt"}
# Excel number formats: the separators are the reader's locale's (a Vietnamese Excel shows
# 5.100 and 92,86%); a percentage is stored as a fraction (0.9286).
XL_COUNT = "#,##0"
XL_DECIMAL = "#,##0.00"
XL_PCT = "0.00%"
XL_CHANGE_PCT = "+0.00%;-0.00%;0.00%"
XL_CHANGE_POINTS = '+0.00" điểm";-0.00" điểm";0.00" điểm"'


@dataclass(frozen=True)
class Cell:
    """A table cell: what people read, and for a workbook the number and its format."""

    text: str
    number: float | None = None
    fmt: str | None = None


def _value_cell(s: Summary, kind: str, r: dict[str, Any]) -> Cell:
    v = float(r["value"])
    if kind == "rate":
        return Cell(pct(round(v, 2)), round(v, 2) / 100, XL_PCT)
    if kind == "flag" and _ok(r.get("share")):
        return Cell(f"{vn(v)} ({pct(r['share'])})", v, XL_COUNT)
    if float(v).is_integer():
        return Cell(vn(v), v, XL_COUNT)
    return Cell(vn(v), round(v, 2), XL_DECIMAL)


def _change_cell(r: dict[str, Any]) -> Cell:
    change = r.get("change_vs_last_year")
    if not _ok(change):
        return Cell("")
    change = round(float(change), 2)
    sign = "+" if change > 0 else ""
    if r.get("change_kind") == "points":
        return Cell(f"{sign}{vn(change)} điểm", change, XL_CHANGE_POINTS)
    return Cell(f"{sign}{vn(change)}%", change / 100, XL_CHANGE_PCT)


def group_tables(s: Summary) -> list[tuple[str, list[list[Cell]]]]:
    """One table per indicator group: label, unit, value, change, target, attainment."""
    cat = s.catalog
    by_code = {r["indicator"]: r for r in s.rollup.to_dict("records")}
    out = []
    for group, labels in cat.groups.items():
        rows = []
        for ind in cat.indicators.values():
            r = by_code.get(ind.code)
            if ind.group != group or r is None or not _ok(r.get("value")):
                continue
            target = ind.target
            target_c = (
                Cell(f"{target.op} {vn(target.value)}%", target.value / 100, XL_PCT)
                if target
                else Cell("")
            )
            attain = Cell("")
            if _ok(r.get("attainment")) and r.get("attainment"):
                attain = Cell(
                    f"{ATTAIN_VI.get(r['attainment'], r['attainment'])} "
                    f"({vn(r['attainment_points'])} điểm)"
                )
            rows.append(
                [
                    Cell(ind.label_vi),
                    Cell(ind.unit_vi),
                    _value_cell(s, ind.kind, r),
                    _change_cell(r),
                    Cell(target_c.text) if not target else target_c,
                    attain,
                ]
            )
        if rows:
            out.append((labels["vi"], rows))
    return out


def _intro(s: Summary) -> str:
    close = s.catalog.close_day
    return (
        f"{s.unit.name} ({LEVEL_NAMES_VI[s.unit.level]}, mã {s.unit.code}), kỳ {s.period.code}: "
        f"từ {s.period.start(close):%d/%m/%Y} đến {s.period.end(close):%d/%m/%Y}"
    )


def _consolidated(s: Summary) -> str:
    at = s.consolidated_at
    return f"Số liệu tổng hợp lúc {pd.Timestamp(at):%H:%M %d/%m/%Y}." if _ok(at) and at else ""


# --- markdown ------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(s: Summary, units: ReferenceUnits) -> str:
    lines = [f"# {s.title}", "", f"**{s.unit.name}**" + _intro(s)[len(s.unit.name) :] + ".", ""]
    if _consolidated(s):
        lines += [_consolidated(s), ""]
    lines += ["## Tình hình báo cáo", ""] + [f"- {t}" for t in completeness_sentences(s, units)]
    lines += ["", "## Kết quả chủ yếu", ""] + [f"- {t}" for _, t in s.sentences]
    note = last_year_note(s, units)
    if note:
        lines += ["", f"_{note}_"]
    for title, rows in group_tables(s):
        lines += [
            "",
            f"### {title}",
            "",
            "| " + " | ".join(TABLE_HEADERS) + " |",
            "|" + "---|" * len(TABLE_HEADERS),
        ]
        lines += ["| " + " | ".join(_md_cell(c.text) for c in row) + " |" for row in rows]
    if not s.children.empty:
        lines += ["", "## Các đơn vị trực thuộc", ""] + _children_md(s)
    return "\n".join(lines) + "\n"


def _children_pivot(s: Summary) -> pd.DataFrame:
    piv = s.children.pivot_table(
        index=["unit_code", "unit_name"], columns="indicator", values="value", aggfunc="first"
    )
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    return piv[cols].reset_index()


def _child_cell(s: Summary, code: str, v: object) -> Cell:
    if not _ok(v):
        return Cell("—")
    if s.catalog.indicators[code].kind == "rate":
        return Cell(pct(round(float(v), 2)), round(float(v), 2) / 100, XL_PCT)  # type: ignore[arg-type]
    return Cell(vn(v), float(v), XL_COUNT if float(v).is_integer() else XL_DECIMAL)  # type: ignore[arg-type]


def _children_md(s: Summary) -> list[str]:
    piv = _children_pivot(s)
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    head = ["Đơn vị"] + [s.catalog.indicators[c].label_vi for c in cols]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in piv.to_dict("records"):
        cells = [_md_cell(r["unit_name"])] + [_child_cell(s, c, r[c]).text for c in cols]
        out.append("| " + " | ".join(cells) + " |")
    return out


# --- html with inline SVG charts -------------------------------------------------------------
def _svg_bars(title: str, items: list[tuple[str, float]], unit: str) -> str:
    if not items:
        return ""
    e = html.escape
    width, bar_h, left = 640, 22, 190
    height = 40 + bar_h * len(items)
    top = max(v for _, v in items) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{e(title)}</text>',
    ]
    for i, (label, v) in enumerate(items):
        y = 28 + i * bar_h
        w = (width - left - 80) * (v / top)
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{e(label)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="#2f6db5"/>'
        )
        parts.append(
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{e(vn(v))}{e(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_line(title: str, points: list[tuple[str, float]], unit: str) -> str:
    if len(points) < 2:
        return ""
    e = html.escape
    width, height, pad = 640, 220, 40
    vals = [v for _, v in points]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / (len(points) - 1)
    xy = [
        (pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad - 20))
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{e(title)}</text>',
        f'<path d="{path}" fill="none" stroke="#b5462f" stroke-width="2"/>',
    ]
    for (label, v), (x, y) in zip(points, xy, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#b5462f"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle">{e(vn(v))}{e(unit)}</text>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" font-size="11" text-anchor="middle">{e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(s: Summary) -> list[str]:
    cat = s.catalog
    out = []
    for code in TREND_INDICATORS:
        pts = [
            (r.period[5:] + "/" + r.period[:4], r.value)
            for r in s.trend.itertuples()
            if r.indicator == code
        ]
        unit = "%" if cat.indicators[code].kind == "rate" else ""
        out.append(_svg_line(f"{cat.indicators[code].label_vi}: diễn biến theo tháng", pts, unit))
    if not s.children.empty:
        piv = _children_pivot(s)
        for code in ("crime_cases", "crime_clearance_rate"):
            if code in piv.columns:
                items = [
                    (r["unit_name"], float(r[code])) for r in piv.to_dict("records") if _ok(r[code])
                ]
                unit = "%" if cat.indicators[code].kind == "rate" else ""
                out.append(_svg_bars(f"{cat.indicators[code].label_vi} theo đơn vị", items, unit))
    return [c for c in out if c]


def render_html(s: Summary, units: ReferenceUnits) -> str:
    """One self-contained page (inline CSS and SVG, no script, no external resource)."""
    e = html.escape
    body = [
        f"<h1>{e(s.title)}</h1>",
        f"<p><strong>{e(s.unit.name)}</strong>{e(_intro(s)[len(s.unit.name) :])}.</p>",
    ]
    if _consolidated(s):
        body.append(f'<p class="meta">{e(_consolidated(s))}</p>')
    body.append("<h2>Tình hình báo cáo</h2><ul>")
    body += [f"<li>{e(t)}</li>" for t in completeness_sentences(s, units)]
    body += (
        ["</ul><h2>Kết quả chủ yếu</h2><ul>"]
        + [f"<li>{e(t)}</li>" for _, t in s.sentences]
        + ["</ul>"]
    )
    note = last_year_note(s, units)
    if note:
        body.append(f'<p class="note">{e(note)}</p>')
    body += (
        ['<h2>Biểu đồ</h2><div class="charts">']
        + [f"<figure>{c}</figure>" for c in charts(s)]
        + ["</div>"]
    )
    for title, rows in group_tables(s):
        body.append(
            f"<h3>{e(title)}</h3><table><thead><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in TABLE_HEADERS)
            + "</tr></thead><tbody>"
        )
        body += [
            "<tr>"
            + "".join(
                f'<td class="num">{e(c.text)}</td>'
                if c.number is not None
                else f"<td>{e(c.text)}</td>"
                for c in row
            )
            + "</tr>"
            for row in rows
        ]
        body.append("</tbody></table>")
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(s.title)} — {e(s.unit.name)}</title>
<style>
body{{font-family:"Times New Roman",serif;margin:2rem auto;max-width:60rem;line-height:1.45;padding:0 1rem}}
table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}
td,th{{border:1px solid #999;padding:.25rem .45rem;text-align:left;vertical-align:top}}
td.num{{text-align:right;white-space:nowrap}}
th{{background:#eef2f7}} figure{{margin:1rem 0}} svg{{max-width:100%;height:auto}}
.note{{font-style:italic;color:#555}} .meta{{color:#555}}
</style></head><body>
{"".join(body)}
</body></html>
"""


# --- xlsx ----------------------------------------------------------------------------------------
def write_xlsx(s: Summary, units: ReferenceUnits, path: str | Path) -> Path:
    """The same tables as a workbook: figures are numbers with Vietnamese display formats, text
    cells are text (never a formula), labels rather than codes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from validations.report import xlsx_text

    wb = Workbook()
    ws = wb.active
    ws.title = "TongHop"

    def put(sheet: Any, cells: list[Cell | str | float | None], bold: bool = False) -> None:
        sheet.append([None] * len(cells))
        for cell, c in zip(sheet[sheet.max_row], cells, strict=False):
            if isinstance(c, Cell):
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
            if bold:
                cell.font = Font(bold=True)

    put(ws, [s.title], bold=True)
    put(ws, [_intro(s)])
    if _consolidated(s):
        put(ws, [_consolidated(s)])
    put(ws, [])
    for t in completeness_sentences(s, units):
        put(ws, [t])
    for _, t in s.sentences:
        put(ws, [t])
    note = last_year_note(s, units)
    if note:
        put(ws, [note])
    for title, rows in group_tables(s):
        put(ws, [])
        put(ws, [title], bold=True)
        put(ws, list(TABLE_HEADERS), bold=True)
        for row in rows:
            put(ws, list(row))
    ws.column_dimensions["A"].width = 60
    for col in "BCDEF":
        ws.column_dimensions[col].width = 18
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if not s.children.empty:
        cs = wb.create_sheet("DonVi")
        piv = _children_pivot(s)
        cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
        put(cs, ["Mã", "Đơn vị"] + [s.catalog.indicators[c].label_vi for c in cols], bold=True)
        for r in piv.to_dict("records"):
            put(cs, [r["unit_code"], r["unit_name"]] + [_child_cell(s, c, r[c]) for c in cols])
        cs.column_dimensions["B"].width = 28
    ts = wb.create_sheet("XuHuong")
    put(ts, ["Kỳ", "Chỉ tiêu", "Giá trị"], bold=True)
    for r in s.trend.itertuples():
        put(
            ts,
            [
                r.period,
                s.catalog.indicators[r.indicator].label_vi,
                _child_cell(s, r.indicator, r.value),
            ],
        )
    ts.column_dimensions["B"].width = 40
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
