"""Cross-level consistency: a parent's own figures against the sum of its children's.

The catalog says, per indicator, how a parent's own reported value relates to the sum of its
children's (`parent_relation`): "=" equal (checked once every expected child reported: a
partial sum cannot be equal), ">=" at least (the district police also handle cases of their
own), "-" not checked; and how far they may differ (`tolerance`). Each failure names the
children whose value departs most from their own history (the median of their previous
periods of the same kind), or from their peers when they have none: the likely cause; and the
error localisation (validations.localise.totals) says whether the parent's own figure or one
child's is the likelier culprit, with each one's history (`extra["culprit"]`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import duckdb
import pandas as pd

from validations.catalog import Catalog, Indicator, Tolerance
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.localise import Culprit, Localiser, locate_total, range_text
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI
from warehouse.rollup.aggregation import is_missing
from warehouse.rollup.completeness import Completeness
from warehouse.rollup.scope import Scope, previous_periods, same_structure

RULE_CROSS_LEVEL = "cross_level_total"
MIN_DEPARTURE = 0.2  # a likely cause is at least 20% above (or below) its own baseline
MIN_HISTORY = 3  # periods of history a figure needs before its usual value weighs


def histories(
    con: duckdb.DuckDBPyConnection, wanted: list[tuple[str, str, str]]
) -> dict[tuple[str, str], tuple[float, int]]:
    """(unit, indicator) -> (median, n) of the unit's values of the indicator over the periods
    asked for, for every (unit_code, indicator, period) of `wanted`, in one query: a unit's
    consolidated value where it has one, else its current submission's."""
    if not wanted:
        return {}
    req = pd.DataFrame(wanted, columns=["unit_code", "indicator", "period"]).drop_duplicates()
    con.register("_hist_req", req)
    try:
        rows = con.execute(
            """
            WITH h AS (
                SELECT q.unit_code, q.indicator, r.value
                FROM _hist_req q JOIN fct_rollup r
                  ON r.unit_code = q.unit_code AND r.indicator = q.indicator
                 AND r.period = q.period
                UNION ALL
                SELECT q.unit_code, q.indicator, v.value
                FROM _hist_req q
                JOIN fct_submission s ON s.unit_code = q.unit_code AND s.period = q.period
                JOIN fct_value v ON v.submission_id = s.submission_id
                 AND v.indicator = q.indicator AND v.period = q.period
                WHERE s.is_current
                  AND v.period IN (SELECT DISTINCT period FROM _hist_req)
                  AND NOT EXISTS (SELECT 1 FROM fct_rollup r WHERE r.unit_code = q.unit_code
                                  AND r.period = q.period AND r.indicator = q.indicator)
            )
            SELECT unit_code, indicator, median(value), count(value) FROM h
            WHERE value IS NOT NULL GROUP BY unit_code, indicator
            """
        ).fetchall()
    finally:
        con.unregister("_hist_req")
    return {(u, i): (float(m), int(n)) for u, i, m, n in rows}


def child_values(kids: pd.DataFrame, indicator: str) -> dict[str, float]:
    part = kids[(kids["indicator"] == indicator) & kids["value"].notna()] if len(kids) else kids
    if not len(part):
        return {}
    return dict(zip(part["unit_code"], part["value"].astype(float), strict=True))


def rank_causes(
    vals: dict[str, float],
    hist: dict[str, tuple[float, int]],
    too_high: bool,
    names: dict[str, str],
) -> list[dict[str, object]]:
    """The children of `vals` that depart most from their history (`hist`), else peers.

    Departure = (value + 1) / (baseline + 1), baseline = the median of the child's values over
    its previous periods, or, for a child without history, the median of its siblings'."""
    peers = float(pd.Series(list(vals.values())).median())
    scored = []
    for unit, v in vals.items():
        if unit in hist:
            base, basis, n = hist[unit][0], "history", hist[unit][1]
        else:
            base, basis, n = peers, "peers", len(vals) - 1
        ratio = (v + 1.0) / (base + 1.0)
        scored.append(
            {
                "unit_code": unit,
                "name": names.get(unit, unit),
                "value": v,
                "baseline": base,
                "basis": basis,
                "n": n,
                "ratio": round(ratio, 3),
                "score": math.log(ratio),
            }
        )
    # a cause departs in the direction of the failure (too high when the children's sum is
    # above the parent's figure) by more than MIN_DEPARTURE; otherwise none is named
    wanted = [
        c
        for c in scored
        if abs(float(c["ratio"]) - 1) > MIN_DEPARTURE  # type: ignore[arg-type]
        and (float(c["score"]) > 0) == too_high  # type: ignore[arg-type]
    ]
    wanted.sort(key=lambda c: float(c["score"]), reverse=too_high)  # type: ignore[arg-type]
    return wanted[:3]


def cause_text(c: dict[str, object], lang: str) -> str:
    v, base, ratio = float(c["value"]), float(c["baseline"]), float(c["ratio"])  # type: ignore[arg-type]
    name, code, n = c["name"], c["unit_code"], c["n"]
    if c["basis"] == "history":
        ref_vi, ref_en = (
            f"trung vị {n} kỳ trước của đơn vị",
            f"its median over the previous {n} periods",
        )
    else:
        ref_vi, ref_en = "trung vị của các đơn vị cùng cấp", "the median of its peers"
    if lang == "vi":
        how = (
            f"gấp {fmt_num(round(ratio, 1), 'vi')} lần"
            if ratio >= 1
            else f"chỉ bằng {fmt_num(round(100 * ratio), 'vi')}%"
        )
        return f"{name} ({code}) báo {fmt_num(v, 'vi')}, {how} {ref_vi} ({fmt_num(base, 'vi')})"
    how = f"{ratio:.1f} times" if ratio >= 1 else f"only {round(100 * ratio)}% of"
    return f"{name} ({code}) reported {fmt_num(v, 'en')}, {how} {ref_en} ({fmt_num(base, 'en')})"


def _failed(
    ind: Indicator, row: dict[str, object], comp: Completeness, tolerance: Tolerance | None
) -> tuple[float, float] | None:
    """(own, children's sum) when the row breaks its indicator's parent relation."""
    rel = ind.parent_relation
    if (
        ind.aggregation != "sum"
        or rel == "-"
        or row["source"] != "own"
        or is_missing(row["children_sum"])
    ):
        return None
    own, kids_sum = float(row["value"]), float(row["children_sum"])  # type: ignore[arg-type]
    tol = tolerance or ind.tolerance
    if rel == "=":
        if not comp.complete:  # a partial sum cannot be equal: checked once all reported
            return None
        return None if tol.allows(own, kids_sum) else (own, kids_sum)
    return (own, kids_sum) if own < kids_sum - tol.limit(kids_sum) else None


def check_consistency(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    catalog: Catalog,
    rows: list[list[dict[str, object]]],
    kids: Callable[[str], pd.DataFrame],
    comps: list[Completeness],
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
    tolerance: Tolerance | None = None,
) -> list[list[Issue]]:
    """Cross-level checks of several units' rollup rows, one list of Issues per unit.

    `kids(unit_code)` gives a unit's children's rows; it is only asked for when a check of that
    unit fails, to name the likely cause. The children's histories of every failure are read
    in one query. `tolerance` overrides every indicator's own (catalog) tolerance."""
    sev = Severity(severity)
    fails: list[tuple[int, Indicator, float, float]] = []
    for k, (unit_rows, comp) in enumerate(zip(rows, comps, strict=True)):
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            hit = _failed(ind, r, comp, tolerance)
            if hit:
                fails.append((k, ind, *hit))
    vals: dict[tuple[int, str], dict[str, float]] = {}
    wanted: list[tuple[str, str, str]] = []
    for k, ind, _, _ in fails:
        s = scopes[k]
        got = child_values(kids(s.unit.code), ind.code)
        vals[(k, ind.code)] = got
        periods = same_structure(
            previous_periods(s.period, history), s.structure, catalog.close_day
        )
        wanted += [(u, ind.code, p.code) for u in [s.unit.code, *got] for p in periods]
    hist = histories(con, wanted)
    out: list[list[Issue]] = [[] for _ in scopes]
    localiser = Localiser(catalog, []) if fails else None
    for k, ind, own, kids_sum in fails:
        got = vals[(k, ind.code)]
        causes = (
            rank_causes(
                got,
                {u: hist[(u, ind.code)] for u in got if (u, ind.code) in hist},
                kids_sum > own,
                {c.code: c.name for c in scopes[k].children},
            )
            if got
            else []
        )
        names = {c.code: c.name for c in scopes[k].children} | {scopes[k].unit.code: ""}
        usual = {
            u: hist[(u, ind.code)][0]
            for u in names
            if (u, ind.code) in hist and hist[(u, ind.code)][1] >= MIN_HISTORY
        }
        culprits = (
            locate_total(catalog, ind, scopes[k].unit.code, own, got, usual, localiser)
            if got
            else []
        )
        issue = _issue(scopes[k], comps[k], ind, own, kids_sum, causes, sev)
        issue.extra["culprit"] = culprit_record(culprits, scopes[k], names)
        out[k].append(issue)
    return out


def culprit_record(culprits: list[Culprit], s: Scope, names: dict[str, str]) -> dict[str, object]:
    """The localisation's answer for a failure, as the consolidation issue's extra keeps it:
    the culprits (one when certain) and a sentence in each language."""
    rows = [
        {
            "unit_code": c.unit_code,
            "name": s.unit.name if c.own else names.get(c.unit_code, c.unit_code),
            "own": c.own,
            "value": c.value,
            "fits_min": c.low,
            "fits_max": c.high,
            "usual": c.usual,
        }
        for c in culprits
    ]
    out: dict[str, object] = {"certain": len(rows) == 1, "culprits": rows}
    for lang in ("vi", "en"):
        out[f"text_{lang}"] = culprit_text(rows, lang)
    return out


def culprit_text(rows: list[dict[str, object]], lang: str) -> str:
    """'Số liệu có thể sai: số của Huyện Tam Đường (105) = 30; giá trị làm tổng khớp: ≥ 71'."""
    if not rows:
        return ""
    parts = []
    for r in rows:
        who = f"{r['name']} ({r['unit_code']})"
        fits = range_text(r["fits_min"], r["fits_max"], lang)  # type: ignore[arg-type]
        value = fmt_num(r["value"], lang)
        if lang == "vi":
            whose = f"số tự báo của {who}" if r["own"] else f"số của {who}"
            parts.append(f"{whose} = {value}; giá trị làm tổng khớp: {fits}")
        else:
            whose = f"the own figure of {who}" if r["own"] else f"the figure of {who}"
            parts.append(f"{whose} = {value}; the value that makes the total agree: {fits}")
    if len(parts) == 1:
        head = "Số liệu có thể sai: " if lang == "vi" else "Figure likely wrong: "
        return head + parts[0]
    head = (
        "Một trong các số liệu sau có thể sai: "
        if lang == "vi"
        else "One of these is likely wrong: "
    )
    return head + (" | ".join(parts))


def _issue(
    s: Scope,
    comp: Completeness,
    ind: Indicator,
    own: float,
    kids_sum: float,
    causes: list[dict[str, object]],
    sev: Severity,
) -> Issue:
    rel = ind.parent_relation
    rel_vi = "không bằng" if rel == "=" else "nhỏ hơn"
    rel_en = "differs from" if rel == "=" else "is below"
    need_vi = "phải bằng" if rel == "=" else "phải lớn hơn hoặc bằng"
    need_en = "must equal" if rel == "=" else "must be at least"
    cause_vi = f" Nguyên nhân có thể: {cause_text(causes[0], 'vi')}." if causes else ""
    cause_en = f" Likely cause: {cause_text(causes[0], 'en')}." if causes else ""
    unit = s.unit
    kids_vi = LEVEL_NAMES_VI.get(comp.child_level or "", "đơn vị")
    kids_en = LEVEL_NAMES_EN.get(comp.child_level or "", "unit")
    return Issue(
        rule_id=RULE_CROSS_LEVEL,
        severity=sev,
        unit_code=unit.code,
        period=s.period.code,
        indicator=ind.code,
        location=None,
        value=own,
        expected=f"{rel} {fmt_num(kids_sum, 'en').replace(',', '')}",
        message_vi=(
            f"{ind.label_vi}: số của {unit.name} ({fmt_num(own, 'vi')}) {rel_vi} tổng số của "
            f"các {kids_vi} trực thuộc ({fmt_num(kids_sum, 'vi')}); số của "
            f"{LEVEL_NAMES_VI[unit.level]} {need_vi} tổng này.{cause_vi}"
        ),
        message_en=(
            f"{ind.label_en}: the figure of {unit.name} ({fmt_num(own, 'en')}) {rel_en} the sum "
            f"of its {kids_en}s ({fmt_num(kids_sum, 'en')}); the {LEVEL_NAMES_EN[unit.level]} "
            f"figure {need_en} that sum.{cause_en}"
        ),
        hint_vi="Đối chiếu số liệu với đơn vị được nêu, sửa và gửi lại báo cáo sai.",
        hint_en="Check the figures with the unit named, correct and resend the wrong report.",
        extra={
            "relation": rel,
            "own": own,
            "children_sum": kids_sum,
            "difference": own - kids_sum,
            "tolerance": ind.tolerance.text(),
            "complete": comp.complete,
            "likely_cause": causes,
        },
    )
