"""Plausibility before approval: a consolidated figure that moves too far from the same
territory's figure last year, or from its own history.

A district's or a province's count (or decimal) is compared with the same period last year
(across the 2025 reform: the sum of the territory's predecessors, change.py), else with the
median of its own previous periods of the same kind in the same structure (at least
MIN_HISTORY of them). A departure beyond the indicator's `plausible_change` (catalog: more
than `ratio` times the reference or less than 1/ratio of it, and by more than `abs`) is a
warning of the consolidation (fct_consolidation_issue,
rule `implausible_change`): the steward's grid names it before approval, and the period report
footnotes it if the period is approved anyway. Rates move with their parts and flags are
counted, so only counts and decimals are judged. Nothing is rejected: an explained change
(a merged province, a real surge) stays, with its explanation.
"""

from __future__ import annotations

import math

import duckdb

from validations.catalog import Catalog, Formula, Indicator, PlausibleChange
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI
from warehouse.rollup.aggregation import is_missing
from warehouse.rollup.consistency import histories
from warehouse.rollup.scope import Scope, previous_periods, same_structure

RULE_IMPLAUSIBLE = "implausible_change"
MIN_HISTORY = 3  # previous periods needed before a unit's own history is a reference


def check_plausibility(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    catalog: Catalog,
    rows: list[list[dict[str, object]]],
    history: int = 12,
) -> list[list[Issue]]:
    """One list of warnings per scope: its figures that moved beyond `plausible_change`
    against last year (their `last_year_value`, filled by change.py) or, without one, against
    the median of the unit's own previous periods (one query for all)."""
    wanted: list[tuple[str, str, str]] = []
    for s, unit_rows in zip(scopes, rows, strict=True):
        periods = same_structure(
            previous_periods(s.period, history), s.structure, catalog.close_day
        )
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            if ind.plausible_change and is_missing(r.get("last_year_value")):
                wanted += [(s.unit.code, ind.code, p.code) for p in periods]
    hist = histories(con, wanted)
    out: list[list[Issue]] = [[] for _ in scopes]
    for k, (s, unit_rows) in enumerate(zip(scopes, rows, strict=True)):
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            tol = ind.plausible_change
            value = r.get("value")
            if tol is None or is_missing(value):
                continue
            then = r.get("last_year_value")
            basis, n = "last_year", 1
            if is_missing(then):
                median, n = hist.get((s.unit.code, ind.code), (math.nan, 0))
                if n < MIN_HISTORY:
                    continue
                then, basis = median, "history"
            if tol.allows(float(value), float(then)):  # type: ignore[arg-type]
                continue
            out[k].append(_issue(s, ind, float(value), float(then), basis, n, tol, r))  # type: ignore[arg-type]
    return out


def _issue(
    s: Scope,
    ind: Indicator,
    value: float,
    then: float,
    basis: str,
    n: int,
    tol: PlausibleChange,
    row: dict[str, object],
) -> Issue:
    change = Formula.CHANGE.of(value, then)
    unit = s.unit
    year = s.period.same_period_last_year().year
    if basis == "last_year":
        ref_vi = f"cùng kỳ năm {year} của cùng địa bàn ({fmt_num(then, 'vi')})"
        ref_en = (
            f"the same territory's figure for the same period of {year} ({fmt_num(then, 'en')})"
        )
    else:
        ref_vi = f"trung vị {n} kỳ trước của đơn vị ({fmt_num(then, 'vi')})"
        ref_en = f"its median over the previous {n} periods ({fmt_num(then, 'en')})"
    if change is None:
        how_vi, how_en = "khác", "departs from"
    else:
        verb_vi = "tăng" if change > 0 else "giảm"
        how_vi = f"{verb_vi} {fmt_num(round(abs(change), 2), 'vi')}% so với"
        how_en = f"{'up' if change > 0 else 'down'} {fmt_num(round(abs(change), 2), 'en')}% on"
    limit_vi = _limit(tol, "vi")
    limit_en = _limit(tol, "en")
    return Issue(
        rule_id=RULE_IMPLAUSIBLE,
        severity=Severity.WARNING,
        unit_code=unit.code,
        period=s.period.code,
        indicator=ind.code,
        location=None,
        value=value,
        expected=f"~ {fmt_num(then, 'en').replace(',', '')}",
        message_vi=(
            f"{ind.label_vi} của {unit.name}: {fmt_num(value, 'vi')}, {how_vi} {ref_vi}; "
            f"vượt ngưỡng kiểm tra của danh mục ({limit_vi})."
        ),
        message_en=(
            f"{ind.label_en} of {unit.name}: {fmt_num(value, 'en')}, {how_en} {ref_en}; beyond "
            f"the catalog's plausibility threshold ({limit_en})."
        ),
        hint_vi=(
            f"Xác minh số liệu của {LEVEL_NAMES_VI[unit.level]} trước khi phê duyệt: đối chiếu "
            "với các đơn vị trực thuộc và báo cáo kỳ trước; nếu số liệu đúng, ghi giải trình "
            "(báo cáo sẽ ghi chú thay đổi này)."
        ),
        hint_en=(
            f"Check the {LEVEL_NAMES_EN[unit.level]}'s figure before approving it: compare "
            "with the units below it and the previous reports; if it is right, write the "
            "explanation (the report footnotes this change)."
        ),
        extra={
            "basis": basis,
            "then": then,
            "history_periods": n if basis == "history" else None,
            "change_pct": change,
            "threshold": tol.text(),
            "last_year_units": list(row.get("last_year_units") or []) or None,  # type: ignore[call-overload]
        },
    )


def _limit(tol: PlausibleChange, lang: str) -> str:
    ratio = fmt_num(tol.ratio, lang)
    size = fmt_num(tol.abs, lang)
    if lang == "vi":
        return f"gấp hơn {ratio} lần hoặc dưới 1/{ratio}, và chênh lệch quá {size}"
    return f"more than {ratio} times or below 1/{ratio}, and by more than {size}"
