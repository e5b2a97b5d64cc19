"""The period report as a document: its parts in the seeds' order, its notes and its tables,
built once from a Summary and rendered as Markdown, HTML, xlsx and Word (render.py, word.py).

    BÁO CÁO
    Kết quả công tác phòng, chống tội phạm, tệ nạn xã hội và xây dựng phong trào Toàn dân bảo
    vệ an ninh Tổ quốc 6 tháng đầu năm 2024
    (opening: the period's dates and the reports it rests on)
    I.   TÌNH HÌNH TỘI PHẠM, TỆ NẠN XÃ HỘI            figures from the warehouse
    II.  KẾT QUẢ CÔNG TÁC ...                         figures from the warehouse
    III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN              written by people (a placeholder, and
                                                       the targets not met as a reminder)
    IV.  PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI         written by people (a placeholder)
    Ghi chú: a correction after the approval that the approved figures do not show (to
    reopen), the months before the 2025 reform, what last year means, months missing, figures that changed beyond the catalog's
    plausibility threshold (footnoted), the source of every target judged
    Phụ lục: the tables

A placeholder is marked as one (`Paragraph.placeholder`): the Word file highlights it, so
that nobody signs a report with a gap in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from validations.units import ReferenceUnits
from warehouse.summary.model import Summary, ok
from warehouse.summary.sentences import (
    HORIZON_VI,
    PARTS,
    completeness_sentences,
    last_year_note,
    pct,
    reform_note,
)
from warehouse.summary.tables import Cell, children_table, group_tables, headers

PART_TITLES = {
    "I": "TÌNH HÌNH TỘI PHẠM, TỆ NẠN XÃ HỘI",
    "II": (
        "KẾT QUẢ CÔNG TÁC PHÒNG, CHỐNG TỘI PHẠM, TỆ NẠN XÃ HỘI VÀ XÂY DỰNG PHONG TRÀO "
        "TOÀN DÂN BẢO VỆ AN NINH TỔ QUỐC"
    ),
    "III": "TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
    "IV": "PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
}
PLACEHOLDERS = {
    "I": "[Đơn vị soạn thảo bổ sung: nhận định chung về tình hình, các vụ việc nổi bật.]",
    "II": "[Đơn vị soạn thảo bổ sung: các mặt công tác, chuyên án, mô hình tiêu biểu.]",
    "III": (
        "[Đơn vị soạn thảo viết: những tồn tại, hạn chế và nguyên nhân (khách quan, chủ quan).]"
    ),
    "IV": "[Đơn vị soạn thảo viết: phương hướng, nhiệm vụ trọng tâm thời gian tới.]",
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Paragraph:
    text: str
    lead: str = ""  # a numbered item's title, printed in bold before the text ("1. ...")
    placeholder: bool = False  # to be written by people: highlighted in the Word file
    italic: bool = False


@dataclass(frozen=True)
class Part:
    number: str  # I, II, III, IV
    title: str
    paragraphs: list[Paragraph]


@dataclass
class Report:
    """What every format renders, in order."""

    summary: Summary
    opening: list[str]
    parts: list[Part]
    notes: list[str]  # numbered in print: plausibility footnotes first ([1]...), then the rest
    closing: str  # "Trên đây là báo cáo ...  ./." (Decree 30: the body ends with "./.")
    sources: dict[str, str]  # target source -> its mark "(a)"
    tables: list[tuple[str, list[list[Cell]]]]
    headers: list[str]
    children: tuple[list[str], list[list[Cell]]] | None = None
    footnotes: list[str] = field(default_factory=list)

    @property
    def all_notes(self) -> list[str]:
        return self.footnotes + self.notes


def _opening(s: Summary, units: ReferenceUnits) -> list[str]:
    close = s.catalog.close_day
    words = {"P": "tỉnh", "D": "huyện", "C": "xã"}[s.unit.level]
    first = (
        f"Thực hiện chế độ báo cáo định kỳ, Ban Chỉ đạo {words} báo cáo kết quả công tác phòng, "
        "chống tội phạm, tệ nạn xã hội và xây dựng phong trào Toàn dân bảo vệ an ninh Tổ quốc "
        f"{s.period.label_vi} (số liệu từ ngày {s.period.start(close):%d/%m/%Y} đến ngày "
        f"{s.period.end(close):%d/%m/%Y}) trên địa bàn {s.unit.name[0].lower()}{s.unit.name[1:]}"
        ", như sau:"
    )
    return [first, *completeness_sentences(s, units)]


def _footnotes(s: Summary) -> tuple[list[str], dict[str, str]]:
    """The consolidation's plausibility warnings, numbered, and their marks by indicator."""
    notes, marks = [], {}
    state = {
        "approved": "đã được phê duyệt",
        "accepted": "đã được phê duyệt và cấp trên tiếp nhận",
    }.get(str(s.approval), "chưa được phê duyệt")
    for n, w in enumerate(s.warnings, 1):
        marks[str(w["indicator"])] = f"[{n}]"
        notes.append(
            f"[{n}] {w['message_vi']} Số liệu kỳ này {state}; đề nghị đơn vị giải trình thay "
            "đổi này trước khi ký ban hành."
        )
    return notes, marks


def _target_notes(s: Summary) -> tuple[list[str], dict[str, str]]:
    """Which targets were judged or stated, grouped by source: '(a) Chỉ tiêu Quốc hội,
    Chính phủ giao hằng năm: Tỷ lệ điều tra, khám phá ≥ 75%; ...'."""
    rows = s.rollup.loc[s.rollup["target_source"].notna()] if "target_source" in s.rollup else []
    by_source: dict[str, list[str]] = {}
    for r in pd.DataFrame(rows).to_dict("records"):
        ind = s.catalog.indicators.get(str(r["indicator"]))
        if ind is None or not ok(r.get("target_goal")):
            continue
        op, value = str(r["target_goal"]).split(" ", 1)
        label = ind.report_label()
        goal = (
            f"kéo giảm ít nhất {pct(abs(float(value)))} số vụ phạm pháp hình sự"
            if ind.is_change and float(value) < 0
            else f"{label[0].lower()}{label[1:]} {op.replace('>=', '≥').replace('<=', '≤')} {pct(float(value))}"
        )
        horizon = HORIZON_VI.get(str(r.get("target_horizon")), "năm")
        if not (ok(r.get("target")) and r.get("target")):
            goal += f" (chỉ tiêu {horizon}, không đánh giá ở kỳ này)"
        elif str(r["target"]) != str(r["target_goal"]):
            now = float(str(r["target"]).split(" ")[1])
            goal += f" (chỉ tiêu {horizon}; kỳ này tính theo tỷ lệ thời gian: {pct(now)})"
        by_source.setdefault(str(r["target_source"]), []).append(goal)
    marks = {src: f"({LETTERS[k % 26]})" for k, src in enumerate(by_source)}
    notes = [
        f"Chỉ tiêu {marks[src]}: {src}: {'; '.join(goals)}." for src, goals in by_source.items()
    ]
    return notes, marks


def _shortfalls(s: Summary) -> list[str]:
    """The targets not met this period: a reminder for the people who write part III."""
    out = []
    for r in s.rollup.to_dict("records"):
        if r.get("attainment") != "missed":
            continue
        ind = s.catalog.indicators.get(str(r["indicator"]))
        if ind is None:
            continue
        if ind.is_change:
            out.append(
                f"số vụ phạm pháp hình sự {'tăng' if (r['value'] or 0) > 0 else 'giảm'} "
                f"{pct(abs(round(float(r['value']), 2)))} so với cùng kỳ, chưa đạt chỉ tiêu "
                f"kéo giảm {pct(abs(float(str(r['target']).split(' ')[1])))}"
            )
            continue
        out.append(
            f"{ind.report_label().lower()} {pct(round(float(r['value']), 2))}, chưa đạt chỉ tiêu "
            f"{str(r['target']).replace('>=', '≥').replace('<=', '≤')}%"
        )
    if not out:
        return []
    return ["Các chỉ tiêu chưa đạt trong kỳ (theo số liệu tổng hợp): " + "; ".join(out) + "."]


def build_report(s: Summary, units: ReferenceUnits) -> Report:
    """The report's parts, notes and tables from a Summary (no figure computed here)."""
    footnotes, marks = _footnotes(s)
    target_notes, sources = _target_notes(s)
    sentences = dict(s.sentences)
    parts = []
    for number in ("I", "II"):
        items = [
            Paragraph(text, lead=f"{k}. {PARTS[key][1]}")
            for k, (key, text) in enumerate(
                ((key, t) for key, t in sentences.items() if PARTS[key][0] == number), 1
            )
        ]
        items.append(Paragraph(PLACEHOLDERS[number], placeholder=True))
        parts.append(Part(number, PART_TITLES[number], items))
    reminders = [Paragraph(t, italic=True) for t in _shortfalls(s)]
    parts.append(
        Part(
            "III",
            PART_TITLES["III"],
            [Paragraph(PLACEHOLDERS["III"], placeholder=True), *reminders],
        )
    )
    parts.append(Part("IV", PART_TITLES["IV"], [Paragraph(PLACEHOLDERS["IV"], placeholder=True)]))
    notes = list(s.approval_notes)  # an approved period a later correction would change
    if ok(s.consolidated_at) and s.consolidated_at:
        notes.append(
            f"Số liệu do hệ thống tổng hợp lúc {pd.Timestamp(s.consolidated_at):%H:%M ngày %d/%m/%Y} "
            f"từ báo cáo của các đơn vị (kỳ {s.period.code})."
        )
    for note in (reform_note(s, units), last_year_note(s, units)):
        if note:
            notes.append(note)
    notes += target_notes
    children = children_table(s) if not s.children.empty else None
    closing = (
        f"Trên đây là báo cáo kết quả công tác phòng, chống tội phạm, tệ nạn xã hội và xây dựng "
        f"phong trào Toàn dân bảo vệ an ninh Tổ quốc {s.period.label_vi} trên địa bàn "
        f"{s.unit.name[0].lower()}{s.unit.name[1:]}./."
    )
    return Report(
        s,
        _opening(s, units),
        parts,
        notes,
        closing,
        sources,
        group_tables(s, sources, marks),
        headers(s),
        children,
        footnotes,
    )
