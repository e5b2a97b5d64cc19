"""The Excel form one unit fills in for one period (sheet "BaoCao"), written with openpyxl.

Layout (columns A-F; `validations.readers` finds the cells by their labels, not by position,
so an officer inserting a row does not break the form):

    A1   title (merged A1:F1)                 A2   catalog name (merged A2:F2)
    B4   "Mã đơn vị"        D4  unit code, text cell ("@"), leading zeros kept
    B5   "Tên đơn vị"       D5  unit name
    B6   "Cấp"              D6  level ("xã (C)")
    B7   "Kỳ báo cáo"       D7  period code, text cell ("2024-06")
    B8   "Tên kỳ"           D8  period label ("tháng 06/2024")
    B9   "Ngày chốt số liệu" D9 closing date (a date, dd/mm/yyyy)
    B10  "Hạn gửi báo cáo"  D10 deadline (closing date + the level's deadline days)
    A11  how to fill in the form (merged A11:F11)
    row 12  header: STT | Mã chỉ tiêu | Chỉ tiêu | Đơn vị tính | Số liệu | Ghi chú
    row 13+ for each group in catalog order: a heading row (merged A:F, no code), then one row
            per indicator of the unit's level: STT, code, label, unit, value (E, yellow, the
            input cell, with a data validation), note (F).

Panes are frozen under the header (A13).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from validations.catalog import Catalog, Indicator, load_catalog
from validations.errors import TonghopError
from validations.period import PeriodError, parse_period
from validations.units import LEVEL_NAMES_VI, ReferenceUnits, load_units

SHEET = "BaoCao"
TITLE = "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÒNG, CHỐNG TỘI PHẠM VÀ TỆ NẠN XÃ HỘI"
LABELS = {  # row -> label; the value is in column D of the same row
    4: "Mã đơn vị",
    5: "Tên đơn vị",
    6: "Cấp",
    7: "Kỳ báo cáo",
    8: "Tên kỳ",
    9: "Ngày chốt số liệu",
    10: "Hạn gửi báo cáo",
}
UNIT_CELL = "D4"
PERIOD_CELL = "D7"
HEADER_ROW = 12
HEADERS = ("STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú")
WIDTHS = {"A": 6, "B": 30, "C": 62, "D": 14, "E": 16, "F": 36}
VALUE_COL = "E"
NOTE_COL = "F"
INSTRUCTIONS = (
    "Hướng dẫn: chỉ nhập vào cột 'Số liệu' (ô nền vàng) và 'Ghi chú'; không sửa mã chỉ tiêu. "
    "Số đếm là số nguyên, không gõ dấu chấm phân cách hàng nghìn; tỷ lệ nhập số phần trăm "
    "(92,86), không gõ dấu %. Xã không có ma túy: 1 = đạt, 0 = không đạt."
)

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_GROUP_FILL = PatternFill("solid", fgColor="EDEDED")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII")


class TemplateError(TonghopError, ValueError):
    """A template cannot be generated for this unit and period."""


@dataclass(frozen=True)
class Section:
    """A group of the form as the template lays it out: its Roman number, its group, and its
    rows (the running number STT, the indicator)."""

    number: str
    group: str
    labels: dict[str, str]
    rows: list[tuple[int, Indicator]]

    def label(self, lang: str = "vi") -> str:
        return self.labels.get(lang) or self.labels["vi"]


def form_sections(catalog: Catalog, indicators: list[Indicator]) -> list[Section]:
    """The form's groups in catalog order, each with its indicators numbered 1, 2, ... across
    the form: the one layout of the Excel template and the web form."""
    out: list[Section] = []
    n = 0
    for gi, group in enumerate(dict.fromkeys(i.group for i in indicators)):
        rows = []
        for ind in (i for i in indicators if i.group == group):
            n += 1
            rows.append((n, ind))
        number = _ROMAN[gi] if gi < len(_ROMAN) else str(gi + 1)
        out.append(Section(number, group, dict(catalog.groups[group]), rows))
    return out


def write_template(
    unit_code: str,
    period: str,
    path: str | Path,
    *,
    catalog: Catalog | None = None,
    units: ReferenceUnits | None = None,
    values: dict[str, object] | None = None,
    notes: dict[str, str] | None = None,
) -> Path:
    """Write the form of `unit_code` for `period` to `path` (prefilled with values/notes)."""
    catalog = catalog or load_catalog()
    units = units or load_units()
    try:
        per = parse_period(period)
    except PeriodError as exc:
        raise TemplateError("template.bad_period", period=str(period)) from exc
    closing = per.end(catalog.close_day)
    code = str(unit_code).strip()
    unit = units.get(code, on=closing)
    if unit is None:
        if units.versions(code):
            raise TemplateError("template.unit_not_on", unit=code, closing=closing, period=per.code)
        hint = units.pad(code, on=closing)
        raise TemplateError(
            "template.unit_unknown.hint" if hint else "template.unit_unknown", unit=code, hint=hint
        )
    indicators = catalog.for_level(unit.level, per.end(catalog.close_day))
    on_form = {i.code for i in indicators}
    for given in (values or {}, notes or {}):
        unknown = sorted(set(given) - on_form)
        if unknown:
            raise TemplateError("template.not_on_form", level=unit.level, codes=unknown)

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    _heading(ws, catalog, unit.code, unit.name, unit.level, per.code, per.label_vi, closing)
    ws["D10"] = catalog.deadline(per, unit.level)
    ws["D10"].number_format = "dd/mm/yyyy"
    ws["D10"].alignment = Alignment(horizontal="left")
    _table(ws, catalog, indicators, values or {}, notes or {})
    out = Path(path)
    wb.save(out)
    return out


def _heading(
    ws: Worksheet,
    catalog: Catalog,
    code: str,
    name: str,
    level: str,
    period_code: str,
    period_label: str,
    closing: date,
) -> None:
    ws["A1"] = TITLE
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:F1")
    ws["A2"] = catalog.name
    ws["A2"].font = Font(italic=True)
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:F2")
    shown = {
        4: code,
        5: name,
        6: f"{LEVEL_NAMES_VI[level]} ({level})",
        7: period_code,
        8: period_label,
        9: closing,
    }
    for row, label in LABELS.items():
        ws.cell(row=row, column=2, value=label).font = Font(bold=True)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        cell = ws.cell(row=row, column=4, value=shown.get(row))
        cell.alignment = Alignment(horizontal="left")
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=6)
    for ref in (UNIT_CELL, PERIOD_CELL):
        ws[ref].number_format = "@"  # text: Excel keeps "03386" and does not make a date
        ws[ref].font = Font(bold=True)
    ws["D9"].number_format = "dd/mm/yyyy"
    ws["A11"] = INSTRUCTIONS
    ws["A11"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A11"].font = Font(italic=True, size=9)
    ws.merge_cells("A11:F11")
    ws.row_dimensions[11].height = 42


def _table(
    ws: Worksheet,
    catalog: Catalog,
    indicators: list[Indicator],
    values: dict[str, object],
    notes: dict[str, str],
) -> None:
    for col, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    validations: dict[tuple[str, float | None, float | None], DataValidation] = {}
    row = HEADER_ROW + 1
    for section in form_sections(catalog, indicators):
        cell = ws.cell(row=row, column=1, value=f"{section.number}. {section.label('vi')}")
        cell.font = Font(bold=True)
        for col in range(1, 7):
            ws.cell(row=row, column=col).fill = _GROUP_FILL
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        row += 1
        for n, ind in section.rows:
            _indicator_row(ws, row, n, ind, values.get(ind.code), notes.get(ind.code))
            key = (ind.kind, ind.min, ind.max)
            if key not in validations:
                validations[key] = _validation(ind)
                ws.add_data_validation(validations[key])
            validations[key].add(f"{VALUE_COL}{row}")
            row += 1


def _indicator_row(
    ws: Worksheet, row: int, n: int, ind: Indicator, value: object, note: str | None
) -> None:
    texts = (n, ind.code, ind.label_vi, ind.unit_vi)
    for col, text in enumerate(texts, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.border = _BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=col == 3)
    vcell = ws[f"{VALUE_COL}{row}"]
    vcell.value = value  # a str starting with "=" is stored as a formula by openpyxl
    vcell.fill = _INPUT_FILL
    vcell.border = _BORDER
    vcell.protection = Protection(locked=False)
    vcell.number_format = {"count": "#,##0", "rate": "0.00", "flag": "0"}.get(ind.kind, "General")
    ncell = ws[f"{NOTE_COL}{row}"]
    ncell.value = note
    ncell.border = _BORDER
    ncell.protection = Protection(locked=False)
    ncell.alignment = Alignment(wrap_text=True)


def _validation(ind: Indicator) -> DataValidation:
    """Excel's cell check for an indicator's kind and bounds, with Vietnamese messages."""
    lo, hi = ind.min, ind.max
    common = {
        "allow_blank": True,
        "showErrorMessage": True,
        "showInputMessage": True,
        "errorTitle": "Số liệu không hợp lệ",
    }
    if ind.kind == "flag":
        return DataValidation(
            type="list",
            formula1='"0,1"',
            error="Chỉ nhập 1 (đạt) hoặc 0 (không đạt).",
            promptTitle="Đạt / không đạt",
            prompt="1 = đạt, 0 = không đạt.",
            **common,
        )
    kind = "whole" if ind.kind == "count" else "decimal"
    if lo is not None and hi is not None:
        bounds = {"operator": "between", "formula1": _num(lo), "formula2": _num(hi)}
        rule = f"từ {_num(lo)} đến {_num(hi)}"
    elif lo is not None:
        bounds = {"operator": "greaterThanOrEqual", "formula1": _num(lo)}
        rule = f"không nhỏ hơn {_num(lo)}"
    elif hi is not None:
        bounds = {"operator": "lessThanOrEqual", "formula1": _num(hi)}
        rule = f"không lớn hơn {_num(hi)}"
    else:
        bounds = {"operator": "between", "formula1": "-1E+15", "formula2": "1E+15"}
        rule = "là một số"
    if ind.kind == "count":
        error = f"Nhập số nguyên {rule}, không gõ dấu chấm hay dấu phẩy."
        title = "Số nguyên"
    elif ind.kind == "rate":
        error = f"Nhập tỷ lệ phần trăm {rule}, không gõ dấu %."
        title = "Tỷ lệ (%)"
    else:
        error = f"Nhập một số {rule}."
        title = "Số (cho phép thập phân)"
    return DataValidation(
        type=kind, error=error, promptTitle=title, prompt=error, **bounds, **common
    )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
