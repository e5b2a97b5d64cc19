"""The period report as the Word document an office edits and signs (Decree 30/2020/NĐ-CP,
Appendix I), written with python-docx.

- A4, margins 20 mm top and bottom, 30 mm left, 15 mm right; Times New Roman, 14 pt body
  (13 pt for the heading's bodies, 12 pt for the recipients, 11 pt in the appendix tables);
  page numbers from page 2, centred at the top.
- Top: a two-column table without borders. Left: the body above ("UBND TỈNH LAI CHÂU"), the
  issuing body in bold capitals with a short rule under it, "Số: .../BC-BCĐ". Right: the
  national heading in bold capitals, the motto in bold with a rule under it, the place and
  date in italics.
- "BÁO CÁO" in bold, its summary line in bold, a short rule; the body in numbered parts I-IV
  (document.py), justified, first lines indented; what people must write is highlighted.
- The notes, then the ending table: "Nơi nhận:" and its list ending "- Lưu: VT." on the left,
  the signer's capacity, title and name on the right.
- The appendix (a new page): the tables of figures.
The heading's names, number, place, date, recipients and signer are the unit's profile's
(profile.py); every figure is the warehouse's (build.py).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from validations.units import ReferenceUnits
from warehouse.summary.document import Report, build_report
from warehouse.summary.model import Summary
from warehouse.summary.profile import Profile, defaults
from warehouse.summary.render import TONE_COLOURS
from warehouse.summary.tables import Cell

FONT = "Times New Roman"
PAGE = (Mm(210), Mm(297))
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
TEXT_WIDTH = Mm(165)  # 210 - 30 - 15
NATIONAL = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PLACEHOLDER_NAME = "[Họ và tên người ký]"
# appendix tables: indicator, unit, this period, last year, change, target, judgement (mm)
TABLE_WIDTHS = (50, 15, 20, 20, 18, 22, 20)
TABLE_PT = Pt(11)


def date_line(place: str, day: date | None) -> str:
    """'Lai Châu, ngày 05 tháng 7 năm 2024' (Decree 30: a day below 10 and the months 1 and 2
    take a leading zero); without a date, blanks for the signing day."""
    if day is None:
        return f"{place}, ngày      tháng      năm 20    "
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _para(
    container,  # type: ignore[no-untyped-def]
    text: str = "",
    size: float = 14,
    *,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    after: float = 6,
    before: float = 0,
    first: bool = False,
) -> Paragraph:
    """A paragraph of the document (or of a table cell: `first` reuses the cell's own)."""
    p = container.paragraphs[0] if first else container.add_paragraph()
    fmt = p.paragraph_format
    fmt.space_after, fmt.space_before, fmt.line_spacing = Pt(after), Pt(before), 1.0
    if indent:
        fmt.first_line_indent = Mm(12.7)
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), size, bold=bold, italic=italic)
    return p


def _rule(p: Paragraph, inset_mm: float) -> None:
    """A short horizontal rule under a paragraph (a bottom border between indents), as the
    decree draws under the issuing body, the motto and the summary line."""
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = Mm(inset_mm)
    if not p.text:  # a paragraph of its own: as thin as a line
        fmt.line_spacing = Pt(3)
    ppr = p._element.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.insert_element_before(
        bdr, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc"
    )


def _no_borders(table: Table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.append(borders)


def _widths(table: Table, widths_mm: tuple[float, ...]) -> None:
    """Fixed column widths (the grid LibreOffice reads and the cells Word reads)."""
    table.autofit = False
    for col, w in zip(table.columns, widths_mm, strict=False):
        col.width = Mm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(w)


def _page_numbers(section) -> None:  # type: ignore[no-untyped-def]
    """Page numbers centred at the top from the second page (the first has none)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)


def _heading(doc, s: Summary, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, (65, 100))
    left, right = table.rows[0].cells
    c = WD_ALIGN_PARAGRAPH.CENTER
    _para(left, profile.body_above.upper(), 12, align=c, after=0, first=True)
    _para(left, profile.issuing_body.upper(), 13, bold=True, align=c, after=0)
    _rule(_para(left, "", 2, align=c, after=0), 20)
    number = profile.number or "      "
    _para(left, f"Số: {number}/{profile.symbol}", 13, align=c, before=8, after=0)
    _para(right, NATIONAL, 12.5, bold=True, align=c, after=0, first=True)
    _para(right, MOTTO, 14, bold=True, align=c, after=0)
    _rule(_para(right, "", 2, align=c, after=0), 20)
    _para(right, date_line(profile.place, profile.date), 14, italic=True, align=c, before=8)


def _title(doc, s: Summary) -> None:  # type: ignore[no-untyped-def]
    c = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "BÁO CÁO", 14, bold=True, align=c, before=18, after=0)
    line = _para(doc, s.summary_line, 14, bold=True, align=c, after=4)
    line.paragraph_format.left_indent = line.paragraph_format.right_indent = Mm(10)
    rule = _para(doc, "", 6, align=c, after=12)
    _rule(rule, 62)


def _body(doc, r: Report) -> None:  # type: ignore[no-untyped-def]
    j = WD_ALIGN_PARAGRAPH.JUSTIFY
    for text in r.opening:
        _para(doc, text, align=j, indent=True)
    for part in r.parts:
        _para(doc, f"{part.number}. {part.title}", bold=True, align=j, indent=True, before=6)
        for item in part.paragraphs:
            if item.lead:
                _para(doc, item.lead, bold=True, align=j, indent=True)
            p = _para(doc, "", align=j, indent=True)
            run = p.add_run(item.text)
            _font(run, 14, italic=item.placeholder or item.italic)
            if item.placeholder:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    if r.all_notes:
        _para(doc, "Ghi chú:", 13, bold=True, italic=True, indent=True, before=6)
        for note in r.all_notes:
            _para(doc, note, 13, italic=True, align=j, indent=True, after=3)
    _para(doc, r.closing, align=j, indent=True, before=6)


def _ending(doc, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (85, 80))
    left, right = table.rows[0].cells
    _para(left, "Nơi nhận:", 12, bold=True, italic=True, after=0, first=True, before=12)
    lines = list(profile.recipients)
    for k, line in enumerate(lines):
        end = "." if k == len(lines) - 1 else ";"
        _para(left, f"- {line.rstrip('.;')}{end}", 11, after=0)
    c = WD_ALIGN_PARAGRAPH.CENTER
    _para(
        right,
        profile.signer.on_behalf.upper(),
        14,
        bold=True,
        align=c,
        after=0,
        first=True,
        before=12,
    )
    _para(right, profile.signer.title.upper(), 14, bold=True, align=c, after=0)
    for _ in range(4):
        _para(right, "", 14, after=0)
    name = _para(right, "", 14, align=c, after=0)
    run = name.add_run(profile.signer.name or PLACEHOLDER_NAME)
    _font(run, 14, bold=True)
    if not profile.signer.name:
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _cell(cell, c: Cell | str, *, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    """A table cell's text at TABLE_PT; the font's name comes from the Normal style (set once
    for the thousand cells of a province's communes, not once per run)."""
    text = c.text if isinstance(c, Cell) else c
    p = cell.paragraphs[0]
    if isinstance(c, Cell) and c.number is not None:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    run.font.size = TABLE_PT
    if bold:
        run.bold = True
    colour = TONE_COLOURS.get(c.tone or "") if isinstance(c, Cell) else None
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)


def _table(doc, head: list[str], rows: list[list[Cell]], widths: tuple[float, ...]) -> None:  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for col, w in zip(table.columns, widths, strict=True):
        col.width = Mm(w)
    # one pass over the cells (python-docx's row.cells walks the row's XML each time)
    for cell, h, w in zip(table.rows[0].cells, head, widths, strict=True):
        cell.width = Mm(w)
        _cell(cell, h, bold=True)
    for row in rows:
        for cell, c, w in zip(table.add_row().cells, row, widths, strict=True):
            cell.width = Mm(w)
            _cell(cell, c)
    # the header row repeats on every page of a long table
    trpr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _appendix(doc, s: Summary, r: Report, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    brk = _para(doc, "", after=0)
    brk.add_run().add_break(WD_BREAK.PAGE)
    c = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "PHỤ LỤC", 14, bold=True, align=c, after=0)
    _para(doc, f"SỐ LIỆU CHỦ YẾU {s.period.label_vi.upper()}", 14, bold=True, align=c, after=0)
    _para(
        doc,
        f"(Kèm theo Báo cáo số {profile.number or '      '}/{profile.symbol})",
        13,
        italic=True,
        align=c,
        after=12,
    )
    for title, rows in r.tables:
        _para(doc, title, 13, bold=True, before=6, after=3)
        _table(doc, r.headers, rows, TABLE_WIDTHS)
    if r.children:
        head, rows = r.children
        _para(doc, f"Số liệu của các {s.child_words}", 13, bold=True, before=12, after=3)
        first = 45.0
        rest = (165 - first) / max(1, len(head) - 1)
        _table(doc, head, rows, (first, *([rest] * (len(head) - 1))))


def document(
    s: Summary,
    units: ReferenceUnits,
    profile: Profile | None = None,
    report: Report | None = None,
) -> DocxDocument:
    """The Word document of the period report (see the module's docstring), unsaved."""
    r = report or build_report(s, units)
    profile = profile or defaults(s.unit)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE
    for side, value in MARGINS.items():
        setattr(section, f"{side}_margin", value)
    section.header_distance = Mm(10)
    _page_numbers(section)
    props = doc.core_properties
    props.title = f"Báo cáo {s.summary_line}"
    props.subject = f"{s.unit.name}, kỳ {s.period.code}"
    props.author = profile.issuing_body
    props.language = "vi-VN"
    _heading(doc, s, profile)
    _title(doc, s)
    _body(doc, r)
    _ending(doc, profile)
    _appendix(doc, s, r, profile)
    return doc


def write_docx(
    s: Summary,
    units: ReferenceUnits,
    path: str | Path,
    profile: Profile | None = None,
    report: Report | None = None,
) -> Path:
    """The Word document of the period report, written to `path`."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    document(s, units, profile, report).save(str(out))
    return out


def docx_bytes(
    s: Summary, units: ReferenceUnits, profile: Profile | None = None, report: Report | None = None
) -> bytes:
    """The Word document of the period report, as bytes (the portal's download)."""
    buf = io.BytesIO()
    document(s, units, profile, report).save(buf)
    return buf.getvalue()
