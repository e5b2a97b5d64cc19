"""The summary's tables: one per indicator group, only indicators, as an official writes them.

Columns: the indicator, its unit, this period, the same period last year (the year named),
the change (a percentage for counts, points for rates and shares), the target (its source
referenced by a letter) and the judgement. Rows of the form that are not indicators of their
own are folded into the row they belong to (catalog: `last_year_of`, a rate of formula
`change`): "Số vụ cùng kỳ năm trước" is the last-year cell of the cases' row, the change's
target is judged in the cases' row; never a change of a change. A flag reads as officials
write it: "20/104 (19,23%)". Each change carries its tone (good, bad, neutral) from the
indicator's `direction`, for the colours of HTML and xlsx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from warehouse.summary.build import SIDE_BY_SIDE
from warehouse.summary.model import Summary, ok
from warehouse.summary.sentences import HORIZON_VI, pct, vn

OPS_VI = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
# Excel number formats: the separators are the reader's locale's (a Vietnamese Excel shows
# 5.100 and 92,86%); a percentage is stored as a fraction (0.9286).
XL_COUNT = "#,##0"
XL_DECIMAL = "#,##0.00"
XL_PCT = "0.00%"
XL_CHANGE_PCT = "+0.00%;-0.00%;0.00%"
XL_CHANGE_POINTS = '+0.00" điểm";-0.00" điểm";0.00" điểm"'


@dataclass(frozen=True)
class Cell:
    """A table cell: what people read, and for a workbook the number and its format; `tone`
    says whether a change is good or bad news (the indicator's direction), for colours."""

    text: str
    number: float | None = None
    fmt: str | None = None
    tone: str | None = None  # good | bad | neutral


def headers(s: Summary) -> list[str]:
    return [
        "Chỉ tiêu",
        "Đơn vị tính",
        "Kỳ này",
        f"Cùng kỳ năm {s.last_year}",
        "Tăng (+), giảm (-)",
        "Chỉ tiêu giao",
        "Đánh giá",
    ]


def tone(direction: str, change: float | None) -> str | None:
    """good / bad / neutral news, from the indicator's direction, never from the sign alone."""
    if change is None or round(change, 2) == 0 or direction == "neutral":
        return "neutral" if change is not None else None
    good = (change < 0) == (direction == "down_is_good")
    return "good" if good else "bad"


def _figure(kind: str, v: float) -> Cell:
    if kind in ("rate", "flag"):
        return Cell(pct(round(v, 2)), round(v, 2) / 100, XL_PCT)
    if float(v).is_integer():
        return Cell(vn(v), v, XL_COUNT)
    return Cell(vn(v), round(v, 2), XL_DECIMAL)


def _change(change: float | None, kind: str | None, direction: str) -> Cell:
    if change is None:
        return Cell("")
    change = round(change, 2)
    sign = "+" if change > 0 else ""
    t = tone(direction, change)
    if kind == "points":
        return Cell(f"{sign}{vn(change)} điểm", change, XL_CHANGE_POINTS, t)
    return Cell(f"{sign}{vn(change)}%", change / 100, XL_CHANGE_PCT, t)


def _num(x: object) -> float | None:
    return float(x) if ok(x) else None  # type: ignore[arg-type]


def _goal_text(target: str, *, change: bool = False) -> str:
    op, value = target.split(" ", 1)
    v = float(value)
    if change and v < 0 and op in ("<=", "<"):
        return f"kéo giảm ≥ {pct(abs(v))}"
    return f"{OPS_VI.get(op, op)} {pct(v)}"


def _judgement(row: dict[str, Any], period_kind: str) -> str:
    """'Vượt (10,94 điểm)', 'Đạt', 'Chưa đạt (thiếu 15,57 điểm)'; for a '<' goal 'Đạt (thấp
    hơn 4,81 điểm)' / 'Chưa đạt (cao hơn 1,2 điểm)'; a goal of another horizon: when it is
    judged."""
    state = row.get("attainment")
    if not ok(state) or not state:
        horizon = row.get("target_horizon")
        if ok(row.get("target_goal")) and horizon and horizon != period_kind:
            if horizon == "Y":
                return "Đánh giá khi tổng kết năm"
            return f"Đánh giá theo kỳ {HORIZON_VI.get(str(horizon), str(horizon))}"
        return ""
    points = vn(row.get("attainment_points"))
    op = str(row.get("target") or "").split(" ")[0]
    if op in ("<", "<=") and not str(row.get("target", "")).split(" ")[-1].startswith("-"):
        if state == "missed":
            return f"Chưa đạt (cao hơn {points} điểm)"
        return f"Đạt (thấp hơn {points} điểm)" if state == "exceeded" else "Đạt"
    if state == "exceeded":
        return f"Vượt ({points} điểm)"
    if state == "reached":
        return "Đạt"
    return f"Chưa đạt (thiếu {points} điểm)"


def _target_cell(row: dict[str, Any], source_mark: str, *, change: bool = False) -> Cell:
    goal = row.get("target") if ok(row.get("target")) and row.get("target") else None
    goal = goal or (row.get("target_goal") if ok(row.get("target_goal")) else None)
    if not goal:
        return Cell("")
    text = _goal_text(str(goal), change=change)
    set_as = row.get("target_goal")
    horizon = row.get("target_horizon")
    if ok(set_as) and set_as and str(set_as) != str(goal):  # pro rata of the year's goal
        text += f" (năm {_goal_text(str(set_as), change=change)})"
    elif not ok(row.get("target")) or not row.get("target"):
        text += f" ({HORIZON_VI.get(str(horizon), '')})" if horizon else ""
    return Cell(f"{text} {source_mark}".strip())


def group_tables(
    s: Summary, sources: dict[str, str] | None = None, marks: dict[str, str] | None = None
) -> list[tuple[str, list[list[Cell]]]]:
    """One table per indicator group (headers(s)); `sources` maps a target's source to its
    mark ("(a)"), `marks` an indicator to its footnote mark ("[1]")."""
    cat = s.catalog
    sources, marks = sources or {}, marks or {}
    by_code = {r["indicator"]: r for r in s.rollup.to_dict("records")}
    helpers = [i for i in cat.indicators.values() if i.is_helper]
    out = []
    for group, labels in cat.groups.items():
        rows = []
        for ind in cat.indicators.values():
            r = by_code.get(ind.code)
            if ind.group != group or ind.is_helper or r is None or not ok(r.get("value")):
                continue
            v = float(r["value"])
            if ind.is_flag and ok(r.get("share")) and ok(r.get("denominator")):
                value = Cell(
                    f"{vn(v)}/{vn(r['denominator'])} ({pct(r['share'])})",
                )
            else:
                value = _figure(ind.kind, v)
            if ind.code in marks:
                value = Cell(f"{value.text} {marks[ind.code]}", value.number, value.fmt)
            then = _num(r.get("last_year_value"))
            change = _num(r.get("change_vs_last_year"))
            kind = r.get("change_kind") if ok(r.get("change_kind")) else None
            target_row = r
            is_change_target = False
            for h in helpers:  # the form's own last-year figure and change, and their target
                if h.subject != ind.code or (hr := by_code.get(h.code)) is None:
                    continue
                if h.last_year_of and then is None:
                    then = _num(hr.get("value"))
                if h.is_change:
                    if change is None and ok(hr.get("value")):
                        change, kind = float(hr["value"]), "percent"
                    if ok(hr.get("target_goal")) and hr.get("target_goal"):
                        target_row, is_change_target = hr, True
            last = (
                _figure("rate" if ind.is_flag else ind.kind, then) if then is not None else Cell("")
            )
            source = str(target_row.get("target_source") or "")
            rows.append(
                [
                    Cell(ind.report_label()),
                    Cell("xã" if ind.is_flag else ind.unit_vi),
                    value,
                    last,
                    _change(change, kind, ind.direction),
                    _target_cell(target_row, sources.get(source, ""), change=is_change_target),
                    Cell(_judgement(target_row, s.period.kind)),
                ]
            )
        if rows:
            out.append((labels["vi"], rows))
    return out


def children_pivot(s: Summary) -> pd.DataFrame:
    """The children's figures of SIDE_BY_SIDE, one row per unit."""
    piv = s.children.pivot_table(
        index=["unit_code", "unit_name"], columns="indicator", values="value", aggfunc="first"
    )
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    return piv[cols].reset_index()


def child_cell(s: Summary, code: str, v: object) -> Cell:
    if not ok(v):
        return Cell("—")
    return _figure(s.catalog.indicators[code].kind, float(v))  # type: ignore[arg-type]


def children_table(s: Summary) -> tuple[list[str], list[list[Cell]]]:
    """'Đơn vị' and the SIDE_BY_SIDE indicators, one row per unit below."""
    piv = children_pivot(s)
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    head = ["Đơn vị"] + [s.catalog.indicators[c].report_label() for c in cols]
    rows = [
        [Cell(str(r["unit_name"]))] + [child_cell(s, c, r[c]) for c in cols]
        for r in piv.to_dict("records")
    ]
    return head, rows
