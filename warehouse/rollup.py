"""Consolidation maths: completeness, rollups, cross-level consistency, targets, year-on-year.

Every function takes (con, period, unit_code, catalog, units). The hierarchy comes from the
reference units valid at the period's closing date (Period.end(catalog.close_day)): a district
consolidates its communes; a province its districts in the legacy three-level structure, or its
communes directly in the 2025 two-level structure (closing date >= 2025-07-01).

Values a unit "has" for a period (its effective values, `unit_values`): those of its current
accepted submission for that period; else, for a quarter, half-year or year that it did not
submit directly, values built from its current monthly submissions when ALL the months are
there (a partial sum would silently understate the counts) and the period does not straddle
the 2025 reform (the year 2025 closes in the two-level structure, but its first months were
reported by legacy units, some of whose codes now name other communes). Flows are summed over
the months, stocks take the last month. Stock is decided without a catalog field: an indicator
whose parent_relation is "=" (drug users under management, residential areas, safe areas,
released prisoners, reoffenders: a parent must equal the sum of its children, which only holds
for a head-count at a date) or a flag (drug-free commune: a state) is a stock; `stocks=` overrides
the rule. Rates are never summed or averaged: they are recomputed from the summed parts.

Aggregation over children:
- sum (counts, decimals): sum of the children's values;
- ratio: 100 * sum(numerator) / sum(denominator) over children having both parts (formula
  change: 100 * (sum(n) - sum(d)) / sum(d)); NULL when sum(denominator) is 0;
- count_share (flags): numerator = number of children with 1, denominator = children that
  reported the flag, value = numerator, share = 100 * numerator / denominator; a district's
  (numerator, denominator) carry up to the province.
A child's value is its consolidated value (fct_rollup) when it has children itself, else its
effective values. Where the unit has an effective value of its own, that figure is official
(source "own") and the children's aggregate is the check (children_sum); otherwise the value is
the children's aggregate (source "children").

Across the reform: change vs the same period last year is left empty when that period was in
the other structure, and a child's history (for the likely cause of a cross-level failure) only
uses periods of the current structure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog, Indicator, Target
from validations.errors import TonghopError
from validations.issue import Issue, Severity
from validations.period import Period, PeriodError, parse_period
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI, ReferenceUnits, Unit, structure_on
from warehouse.db import now, transaction
from warehouse.store import pause_for_test

RULE_CROSS_LEVEL = "cross_level_total"
MIN_DEPARTURE = 0.2  # a likely cause is at least 20% above (or below) its own baseline
ROLLUP_COLUMNS = [
    "unit_code",
    "level",
    "period",
    "structure",
    "indicator",
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "children_reporting",
    "source",
    "target",
    "attainment",
    "attainment_points",
    "change_vs_last_year",
    "change_kind",
    "completeness",
]


FLOAT_EPS = 1e-9


class RollupError(TonghopError, ValueError):
    """A unit or period that cannot be consolidated."""


@dataclass(frozen=True)
class Completeness:
    """Which expected children of a unit reported for a period, and when."""

    unit_code: str
    level: str
    period: str
    structure: str
    child_level: str | None
    deadline: date | None
    expected: list[str]
    received: list[str]
    on_time: list[str]
    late: list[str]

    @property
    def missing(self) -> list[str]:
        got = set(self.received)
        return [c for c in self.expected if c not in got]

    @property
    def pct(self) -> float | None:
        return 100.0 * len(self.received) / len(self.expected) if self.expected else None

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class ConsolidationResult:
    """What consolidating one unit and period wrote (children consolidated first)."""

    unit_code: str
    level: str
    period: str
    structure: str
    rollup: pd.DataFrame
    completeness: Completeness
    issues: list[Issue]
    children: list[ConsolidationResult] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    period: Period
    closing: date
    structure: str
    unit: Unit
    children: list[Unit]


# --- small helpers ----------------------------------------------------------------------------
def is_stock(indicator: Indicator) -> bool:
    """Stock-like (last month of a multi-month period) rather than a flow (summed)."""
    return indicator.parent_relation == "=" or indicator.aggregation == "count_share"


def previous_periods(period: Period, n: int) -> list[Period]:
    """The n periods of the same kind before `period`, most recent first."""
    per_year = {"M": 12, "Q": 4, "H": 2, "Y": 1}[period.kind]
    out = []
    idx = period.year * per_year + period.index - 1
    for k in range(1, n + 1):
        y, i = divmod(idx - k, per_year)
        out.append(Period(y, period.kind, i + 1))
    return out


def buildable_months(period: Period, close_day: int) -> list[str]:
    """The months a multi-month period can be built from: none for a month, and none when the
    period straddles the 2025 reform (a code may name another commune before and after it)."""
    if period.kind == "M":
        return []
    own = structure_on(period.end(close_day))
    months = period.month_codes()
    if any(structure_on(parse_period(m).end(close_day)) != own for m in months):
        return []
    return months


def _same_structure(periods: list[Period], structure: str, close_day: int) -> list[Period]:
    return [p for p in periods if structure_on(p.end(close_day)) == structure]


def _ratio(formula: str | None, n: float, d: float) -> float | None:
    if d == 0 or _nan(n) or _nan(d):
        return None
    if formula == "change":
        return 100.0 * (n - d) / d
    return 100.0 * n / d


def _nan(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _num(x: object) -> float | None:
    return None if _nan(x) else float(x)  # type: ignore[arg-type]


def attainment(target: Target | None, value: float | None) -> tuple[str | None, float | None]:
    """reached / exceeded / missed and by how many points (value rounded to 2 decimals).

    92.86 with target >= 75 -> ("exceeded", 17.86); -9.25 with target <= -5 -> ("exceeded",
    4.25); 15 with target < 15 -> ("missed", 0.0).
    """
    if target is None or value is None:
        return None, None
    v = round(value, 2)
    diff = round(abs(v - target.value), 2)
    if not target.reached(v):
        return "missed", diff
    if diff == 0:
        return "reached", 0.0
    if target.op == "==":
        return "reached", 0.0
    return "exceeded", diff


def _target_text(target: Target | None) -> str | None:
    return f"{target.op} {target.value:g}" if target else None


def fmt_vi(x: float | None) -> str:
    """Vietnamese number: '.' groups thousands, ',' marks decimals (5.100; 92,86; 7,8)."""
    if x is None:
        return "-"
    if float(x).is_integer():
        return f"{int(x):,}".replace(",", ".")
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def fmt_en(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def _context(period: str, unit_code: str, catalog: Catalog, units: ReferenceUnits) -> _Context:
    try:
        p = parse_period(period)
    except PeriodError as exc:
        raise RollupError(str(exc)) from exc
    closing = p.end(catalog.close_day)
    unit = units.get(unit_code, closing)
    if unit is None:
        raise RollupError(
            f"Unit {unit_code} does not exist on {closing.isoformat()} (closing date of {p.code}; "
            "districts were abolished on 2025-07-01)"
        )
    if unit.level == "C":
        raise RollupError(f"Commune {unit_code} has no units below it to consolidate")
    return _Context(p, closing, structure_on(closing), unit, units.children(unit_code, closing))


# --- effective values -------------------------------------------------------------------------
def unit_values(
    con: duckdb.DuckDBPyConnection,
    unit_codes: list[str],
    period: Period,
    catalog: Catalog,
    stocks: Collection[str] | None = None,
) -> pd.DataFrame:
    """Effective values [unit_code, indicator, value, origin direct|months] of units for a period."""
    cols = ["unit_code", "indicator", "value", "origin"]
    if not unit_codes:
        return pd.DataFrame(columns=cols)
    if stocks is None:
        stocks = [i.code for i in catalog.indicators.values() if is_stock(i)]
    rates = [i.code for i in catalog.indicators.values() if i.aggregation == "ratio"]
    months = buildable_months(period, catalog.close_day)
    # A value's period is its submission's (warehouse.store loads them so): filtering fct_value
    # on it too lets DuckDB skip the row groups of other periods instead of joining them all.
    df = con.execute(
        """
        WITH direct_units AS (
            SELECT DISTINCT unit_code FROM fct_submission
            WHERE is_current AND period = $period AND unit_code IN (SELECT unnest($units))
        ),
        direct AS (
            SELECT s.unit_code, v.indicator, v.value
            FROM fct_submission s JOIN fct_value v ON v.submission_id = s.submission_id
            WHERE s.is_current AND s.period = $period AND s.unit_code IN (SELECT unnest($units))
              AND v.period = $period
        ),
        month_subs AS (
            SELECT submission_id, unit_code, period FROM fct_submission
            WHERE is_current AND period IN (SELECT unnest($months))
              AND unit_code IN (SELECT unnest($units))
              AND unit_code NOT IN (SELECT unit_code FROM direct_units)
        ),
        complete AS (
            SELECT unit_code FROM month_subs GROUP BY unit_code
            HAVING count(DISTINCT period) = $n_months
        ),
        derived AS (
            SELECT m.unit_code, v.indicator,
                   CASE WHEN v.indicator IN (SELECT unnest($stocks))
                        THEN arg_max(v.value, m.period) ELSE sum(v.value) END AS value
            FROM month_subs m JOIN fct_value v ON v.submission_id = m.submission_id
            WHERE m.unit_code IN (SELECT unit_code FROM complete)
              AND v.indicator NOT IN (SELECT unnest($rates))
              AND v.period IN (SELECT unnest($months))
            GROUP BY m.unit_code, v.indicator
        )
        SELECT unit_code, indicator, value, 'direct' AS origin FROM direct
        UNION ALL
        SELECT unit_code, indicator, value, 'months' AS origin FROM derived
        ORDER BY unit_code, indicator
        """,
        {
            "period": period.code,
            "units": list(unit_codes),
            "months": months or [""],
            "n_months": len(months),
            "stocks": list(stocks) or [""],
            "rates": rates or [""],
        },
    ).df()
    return df.reindex(columns=cols)


def _first_accepted(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, close_day: int
) -> dict[str, datetime | None]:
    """Received units (current accepted version, or all months) -> first acceptance time."""
    if not unit_codes:
        return {}
    months = buildable_months(period, close_day)
    rows = con.execute(
        """
        SELECT unit_code, period,
               bool_or(is_current) AS has_current,
               min(received_at) FILTER (
                   WHERE validation_status IN ('accepted', 'accepted_with_warnings')
               ) AS first_at
        FROM fct_submission
        WHERE unit_code IN (SELECT unnest($units)) AND period IN (SELECT unnest($periods))
        GROUP BY unit_code, period
        """,
        {
            "units": list(unit_codes),
            "periods": [period.code, *months],
        },
    ).fetchall()
    direct: dict[str, datetime | None] = {}
    by_month: dict[str, dict[str, datetime | None]] = {}
    for unit, per, has_current, first_at in rows:
        if not has_current:
            continue
        if per == period.code:
            direct[unit] = first_at
        else:
            by_month.setdefault(unit, {})[per] = first_at
    out = dict(direct)
    for unit, got in by_month.items():
        if unit not in out and months and len(got) == len(months):
            times = [t for t in got.values() if t is not None]
            out[unit] = max(times) if times else None
    return out


def _completeness_many(
    con: duckdb.DuckDBPyConnection, ctxs: list[_Context], catalog: Catalog
) -> list[Completeness]:
    """Completeness of several units of one period, with one query for all their children."""
    if not ctxs:
        return []
    everyone = list(dict.fromkeys(c.code for ctx in ctxs for c in ctx.children))
    got = _first_accepted(con, everyone, ctxs[0].period, catalog.close_day)
    out = []
    for ctx in ctxs:
        expected = [c.code for c in ctx.children]
        child_level = ctx.children[0].level if ctx.children else None
        deadline = (
            ctx.closing + timedelta(days=catalog.deadline_days.get(child_level, 0))
            if child_level
            else None
        )
        received = [c for c in expected if c in got]
        late = [
            c
            for c in received
            if deadline is not None and got[c] is not None and got[c].date() > deadline
        ]
        late_set = set(late)
        on_time = [c for c in received if c not in late_set]
        out.append(
            Completeness(
                ctx.unit.code,
                ctx.unit.level,
                ctx.period.code,
                ctx.structure,
                child_level,
                deadline,
                expected,
                received,
                on_time,
                late,
            )
        )
    return out


def _completeness(con: duckdb.DuckDBPyConnection, ctx: _Context, catalog: Catalog) -> Completeness:
    return _completeness_many(con, [ctx], catalog)[0]


def completeness(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Completeness:
    """Expected children, received (current accepted version), missing, late vs on time.

    Deadline = closing date + catalog.deadline_days[child level]; a child is late when its
    first accepted version arrived after that day (for a multi-month period built from months,
    the latest month's first acceptance counts).
    """
    return _completeness(con, _context(period, unit_code, catalog, units), catalog)


# --- rollup -----------------------------------------------------------------------------------
KID_COLUMNS = ["unit_code", "indicator", "value", "numerator", "denominator"]


def _children_frame(
    con: duckdb.DuckDBPyConnection,
    ctxs: list[_Context],
    catalog: Catalog,
    stocks: Collection[str] | None,
) -> pd.DataFrame:
    """[parent, unit_code, indicator, value, numerator, denominator] contributed by each child
    of each unit (one query per kind of child for all the units), grouped by parent in the
    order of `ctxs`: children's rollups first, then children's own values."""
    parent_of: dict[str, str] = {}
    leaves: list[str] = []
    inner: list[str] = []
    for ctx in ctxs:
        for c in ctx.children:
            parent_of[c.code] = ctx.unit.code
            (leaves if c.level == "C" else inner).append(c.code)
    frames = []
    fallback = list(leaves)
    if inner:
        rolled = con.execute(
            "SELECT unit_code, indicator, value, numerator, denominator FROM fct_rollup"
            " WHERE period = $p AND unit_code IN (SELECT unnest($u))"
            " ORDER BY unit_code, indicator",
            {"p": ctxs[0].period.code, "u": inner},
        ).df()
        frames.append(rolled)
        have = set(rolled["unit_code"])
        fallback += [c for c in inner if c not in have]
    own = unit_values(con, fallback, ctxs[0].period, catalog, stocks) if ctxs else pd.DataFrame()
    if len(own):
        own = own.drop(columns="origin")
        own["numerator"] = float("nan")
        own["denominator"] = float("nan")
        flags = [i.code for i in catalog.indicators.values() if i.aggregation == "count_share"]
        is_flag = own["indicator"].isin(flags) & own["value"].notna()
        own.loc[is_flag, "numerator"] = own.loc[is_flag, "value"]
        own.loc[is_flag, "denominator"] = 1.0
        frames.append(own)
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["parent", *KID_COLUMNS])
    out = pd.concat(frames, ignore_index=True).reindex(columns=KID_COLUMNS)
    for c in ("value", "numerator", "denominator"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    rank = {ctx.unit.code: n for n, ctx in enumerate(ctxs)}
    parents = [parent_of[u] for u in out["unit_code"].tolist()]
    order = np.argsort(np.array([rank[p] for p in parents], dtype="int64"), kind="stable")
    out.insert(0, "parent", parents)
    return out.take(order).reset_index(drop=True)


def _kids_of(kids: pd.DataFrame, unit_code: str) -> pd.DataFrame:
    """One unit's children's rows of a _children_frame (columns KID_COLUMNS)."""
    part = kids.loc[kids["parent"] == unit_code, KID_COLUMNS] if len(kids) else kids
    return part.reset_index(drop=True).reindex(columns=KID_COLUMNS)


@dataclass
class _Stats:
    """The children's aggregates of several units, keyed by (unit, indicator)."""

    sums: dict[tuple[str, str], tuple[int, float]]  # -> (children reporting, sum)
    ratios: dict[tuple[str, str], tuple[int, float, float]]  # -> (reporting, sum n, sum d)
    shares: dict[tuple[str, str], tuple[int, float, float]]  # -> (reporting, ones, reporting)


def _stats(kids: pd.DataFrame, catalog: Catalog) -> _Stats:
    """Sums, ratio parts and flag counts over each unit's children, for all units at once."""
    out = _Stats({}, {}, {})
    if not len(kids):
        return out
    inds = catalog.indicators.values()
    # a child's value of an indicator (its first non-empty one, as a pivot would take it)
    kv = kids.loc[kids["value"].notna()].drop_duplicates(["parent", "unit_code", "indicator"])
    sum_codes = [i.code for i in inds if i.aggregation == "sum"]
    part = kv.loc[kv["indicator"].isin(sum_codes)]
    g = part.groupby(["parent", "indicator"], sort=False)["value"].agg(["count", "sum"])
    for (p, code), n, total in zip(g.index, g["count"], g["sum"], strict=True):
        out.sums[(p, code)] = (int(n), float(total))
    rates = [i for i in inds if i.aggregation == "ratio" and i.numerator and i.denominator]
    parts = {i.numerator for i in rates} | {i.denominator for i in rates}
    wide = kv.loc[kv["indicator"].isin(parts)].pivot(
        index=["parent", "unit_code"], columns="indicator", values="value"
    )
    for ind in rates:
        num, den = ind.numerator, ind.denominator
        if num not in wide or den not in wide:
            continue
        both = wide.loc[wide[num].notna() & wide[den].notna(), [num, den]]
        if not len(both):
            continue
        g = both.groupby(level="parent", sort=False)
        n_rep, n_sum, d_sum = g.size(), g[num].sum(), g[den].sum()
        for p in n_rep.index:
            out.ratios[(p, ind.code)] = (int(n_rep[p]), float(n_sum[p]), float(d_sum[p]))
    flags = [i.code for i in inds if i.aggregation == "count_share"]
    rep = kids.loc[kids["indicator"].isin(flags) & kids["denominator"].notna()]
    g = rep.groupby(["parent", "indicator"], sort=False).agg(
        n=("denominator", "size"), yes=("numerator", "sum"), total=("denominator", "sum")
    )
    for (p, code), n, yes, total in zip(g.index, g["n"], g["yes"], g["total"], strict=True):
        out.shares[(p, code)] = (int(n), float(yes), float(total))
    return out


def _aggregate(
    ctx: _Context,
    catalog: Catalog,
    own: dict[str, float],
    stats: _Stats,
    pct: float | None,
) -> list[dict[str, object]]:
    """One row (ROLLUP_COLUMNS) per indicator the unit has a value for."""
    p = ctx.unit.code
    rows = []
    for ind in catalog.indicators.values():
        code = ind.code
        row: dict[str, object] = {"numerator": None, "denominator": None, "share": None}
        if ind.aggregation == "sum":
            n_rep, kids_sum = stats.sums.get((p, code), (0, None))
            mine = _num(own.get(code))
            if mine is not None:
                value, source = mine, "own"
            elif n_rep:
                value, source = kids_sum, "children"
            else:
                value, source = None, None
            row |= {"children_sum": kids_sum, "children_reporting": n_rep}
        elif ind.aggregation == "ratio":
            num, den = ind.numerator, ind.denominator
            n_rep, n_sum, d_sum = stats.ratios.get((p, code), (0, None, None))
            kids_rate = _ratio(ind.formula, n_sum, d_sum) if n_rep else None  # type: ignore[arg-type]
            own_n, own_d = _num(own.get(num)), _num(own.get(den))  # type: ignore[arg-type]
            row |= {"children_sum": kids_rate, "children_reporting": n_rep}
            if own_n is not None and own_d is not None:
                value, source = _ratio(ind.formula, own_n, own_d), "own"
                row |= {"numerator": own_n, "denominator": own_d}
            elif _num(own.get(code)) is not None:
                value, source = _num(own.get(code)), "own"
            elif n_rep:
                value, source = kids_rate, "children"
                row |= {"numerator": n_sum, "denominator": d_sum}
            else:
                value, source = None, None
        else:  # count_share
            n_rep, yes, total = stats.shares.get((p, code), (0, None, None))
            if n_rep:
                value, source = yes, "children"
                row |= {
                    "numerator": yes,
                    "denominator": total,
                    "share": 100.0 * yes / total if total else None,  # type: ignore[operator]
                    "children_sum": yes,
                    "children_reporting": n_rep,
                }
            else:
                value, source = None, None
        if source is None:
            continue
        shown = row["share"] if ind.aggregation == "count_share" else value
        att, points = attainment(ind.target, shown)  # type: ignore[arg-type]
        row |= {
            "unit_code": ctx.unit.code,
            "level": ctx.unit.level,
            "period": ctx.period.code,
            "structure": ctx.structure,
            "indicator": code,
            "value": value,
            "source": source,
            "target": _target_text(ind.target),
            "attainment": att,
            "attainment_points": points,
            "change_vs_last_year": None,
            "change_kind": None,
            "completeness": pct,
        }
        rows.append(row)
    return rows


def _rollup_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows of _aggregate as a DataFrame with the columns' types (ROLLUP_COLUMNS)."""
    df = pd.DataFrame(rows, columns=ROLLUP_COLUMNS)
    for c in ("value", "numerator", "denominator", "share", "children_sum", "attainment_points"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["children_reporting"] = df["children_reporting"].astype("Int64")
    df["change_vs_last_year"] = pd.Series(
        [r["change_vs_last_year"] for r in rows], index=df.index, dtype="float64"
    )
    df["change_kind"] = pd.Series([r["change_kind"] for r in rows], index=df.index, dtype=object)
    return df


@dataclass
class _Computed:
    """What _compute_many works out for several units of one period."""

    ctxs: list[_Context]
    rows: list[list[dict[str, object]]]  # per unit, ROLLUP_COLUMNS dicts
    kids: pd.DataFrame  # _children_frame of all of them
    comps: list[Completeness]


def _compute_many(
    con: duckdb.DuckDBPyConnection,
    ctxs: list[_Context],
    catalog: Catalog,
    units: ReferenceUnits,
    stocks: Collection[str] | None,
    with_change: bool = True,
) -> _Computed:
    """Completeness, children's aggregates, own figures and rollup rows of several units of the
    same period: a handful of set-based queries whatever the number of units."""
    if not ctxs:
        return _Computed([], [], pd.DataFrame(columns=["parent", *KID_COLUMNS]), [])
    comps = _completeness_many(con, ctxs, catalog)
    kids = _children_frame(con, ctxs, catalog, stocks)
    own_df = unit_values(con, [c.unit.code for c in ctxs], ctxs[0].period, catalog, stocks)
    own: dict[str, dict[str, float]] = {}
    for u, code, v in zip(
        own_df["unit_code"].tolist(),
        own_df["indicator"].tolist(),
        own_df["value"].tolist(),
        strict=True,
    ):
        if not _nan(v):
            own.setdefault(u, {})[code] = v
    stats = _stats(kids, catalog)
    rows = [
        _aggregate(ctx, catalog, own.get(ctx.unit.code, {}), stats, comp.pct)
        for ctx, comp in zip(ctxs, comps, strict=True)
    ]
    if with_change:
        _add_change(con, ctxs, rows, catalog, units, stocks)
    return _Computed(ctxs, rows, kids, comps)


def _compute(
    con: duckdb.DuckDBPyConnection,
    ctx: _Context,
    catalog: Catalog,
    units: ReferenceUnits,
    stocks: Collection[str] | None,
    with_change: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, Completeness]:
    c = _compute_many(con, [ctx], catalog, units, stocks, with_change)
    return _rollup_frame(c.rows[0]), _kids_of(c.kids, ctx.unit.code), c.comps[0]


def _add_change(
    con: duckdb.DuckDBPyConnection,
    ctxs: list[_Context],
    rows: list[list[dict[str, object]]],
    catalog: Catalog,
    units: ReferenceUnits,
    stocks: Collection[str] | None,
) -> None:
    """Fill change_vs_last_year: % for sums, percentage points for rates and flag shares.

    Last year's figures are its consolidation (fct_rollup), else computed from what the
    warehouse holds for it (without writing), for all the units at once."""
    todo = [(ctx, r) for ctx, r in zip(ctxs, rows, strict=True) if r]
    if not todo:
        return
    last = todo[0][0].period.same_period_last_year()
    if structure_on(last.end(catalog.close_day)) != todo[0][0].structure:
        return  # across the 2025 reform the same code may cover another territory
    before: dict[str, dict[str, float | None]] = {}
    for u, code, value, share in con.execute(
        "SELECT unit_code, indicator, value, share FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
        {"p": last.code, "u": [ctx.unit.code for ctx, _ in todo]},
    ).fetchall():
        before.setdefault(u, {})[code] = share if not _nan(share) else value
    lctxs = []
    for ctx, _ in todo:
        if ctx.unit.code in before:
            continue
        try:
            lctxs.append(_context(last.code, ctx.unit.code, catalog, units))
        except RollupError:
            continue
    if lctxs:
        prev = _compute_many(con, lctxs, catalog, units, stocks, with_change=False)
        for lctx, prows in zip(prev.ctxs, prev.rows, strict=True):
            before[lctx.unit.code] = {
                str(r["indicator"]): r["share"] if not _nan(r["share"]) else r["value"]
                for r in prows
            }
    for ctx, unit_rows in todo:
        then_of = before.get(ctx.unit.code)
        if not then_of:
            continue
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            then = _num(then_of.get(ind.code))
            current = _num(r["share"] if ind.aggregation == "count_share" else r["value"])
            if then is None or current is None:
                continue
            if ind.aggregation == "sum":
                if then != 0:
                    r["change_vs_last_year"] = 100.0 * (current - then) / then
                    r["change_kind"] = "percent"
            else:
                r["change_vs_last_year"] = current - then
                r["change_kind"] = "points"


def rollup(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    stocks: Collection[str] | None = None,
) -> pd.DataFrame:
    """One row per indicator (ROLLUP_COLUMNS) for the unit and period, without writing.

    Children with children of their own contribute their fct_rollup rows (consolidate them
    first; `consolidate` does), else their own current submission.
    """
    ctx = _context(period, unit_code, catalog, units)
    df, _, _ = _compute(con, ctx, catalog, units, stocks)
    return df


# --- cross-level consistency ------------------------------------------------------------------
def _histories(
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


def _history(
    con: duckdb.DuckDBPyConnection,
    unit_codes: list[str],
    indicator: str,
    periods: list[Period],
) -> dict[str, tuple[float, int]]:
    """unit -> (median, n) of its values for the indicator over the given periods."""
    got = _histories(con, [(u, indicator, p.code) for u in unit_codes for p in periods])
    return {u: got[(u, indicator)] for u in unit_codes if (u, indicator) in got}


def _likely_causes(
    con: duckdb.DuckDBPyConnection,
    ctx: _Context,
    indicator: str,
    kids: pd.DataFrame,
    too_high: bool,
    history: int,
    names: dict[str, str],
    close_day: int,
) -> list[dict[str, object]]:
    """Children ranked by how far their value departs from their own history (else peers).

    Departure = (value + 1) / (baseline + 1), baseline = the median of the child's values over
    the previous `history` periods of the same kind in the warehouse, or, for a child without
    history, the median of its siblings' current values.
    """
    vals = _child_values(kids, indicator)
    if not vals:
        return []
    periods = _same_structure(previous_periods(ctx.period, history), ctx.structure, close_day)
    return _rank_causes(vals, _history(con, list(vals), indicator, periods), too_high, names)


def _child_values(kids: pd.DataFrame, indicator: str) -> dict[str, float]:
    part = kids[(kids["indicator"] == indicator) & kids["value"].notna()] if len(kids) else kids
    if not len(part):
        return {}
    return dict(zip(part["unit_code"], part["value"].astype(float), strict=True))


def _rank_causes(
    vals: dict[str, float],
    hist: dict[str, tuple[float, int]],
    too_high: bool,
    names: dict[str, str],
) -> list[dict[str, object]]:
    """The children of `vals` that depart most from their history (`hist`), else peers."""
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


def _cause_text(c: dict[str, object], lang: str) -> str:
    v, base, ratio = float(c["value"]), float(c["baseline"]), float(c["ratio"])  # type: ignore[arg-type]
    name, code, n = c["name"], c["unit_code"], c["n"]
    fmt = fmt_vi if lang == "vi" else fmt_en
    if c["basis"] == "history":
        ref_vi, ref_en = (
            f"trung vị {n} kỳ trước của đơn vị",
            f"its median over the previous {n} periods",
        )
    else:
        ref_vi, ref_en = "trung vị của các đơn vị cùng cấp", "the median of its peers"
    if lang == "vi":
        how = (
            f"gấp {fmt_vi(round(ratio, 1))} lần"
            if ratio >= 1
            else f"chỉ bằng {fmt_vi(round(100 * ratio))}%"
        )
        return f"{name} ({code}) báo {fmt(v)}, {how} {ref_vi} ({fmt(base)})"
    how = f"{ratio:.1f} times" if ratio >= 1 else f"only {round(100 * ratio)}% of"
    return f"{name} ({code}) reported {fmt(v)}, {how} {ref_en} ({fmt(base)})"


def _consistency(
    con: duckdb.DuckDBPyConnection,
    ctxs: list[_Context],
    catalog: Catalog,
    rows: list[list[dict[str, object]]],
    kids: Callable[[str], pd.DataFrame],
    comps: list[Completeness],
    abs_tol: float,
    rel_tol: float,
    severity: Severity | str,
    history: int,
) -> list[list[Issue]]:
    """Cross-level checks of several units' rollup rows, one list of Issues per unit.

    `kids(unit_code)` gives a unit's children's rows; it is only asked for when a check of that
    unit fails, to name the likely cause. The children's histories of every failure are read
    in one query."""
    sev = Severity(severity)
    # 1. which checks fail
    fails: list[tuple[int, Indicator, str, float, float]] = []
    for k, (unit_rows, comp) in enumerate(zip(rows, comps, strict=True)):
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            rel = ind.parent_relation
            if (
                ind.aggregation != "sum"
                or rel == "-"
                or r["source"] != "own"
                or _nan(r["children_sum"])
            ):
                continue
            own, kids_sum = float(r["value"]), float(r["children_sum"])  # type: ignore[arg-type]
            # FLOAT_EPS absorbs binary floating-point noise in sums of decimals (1453.1 vs
            # 1453.1000000000001); it is far below any figure the form can express.
            tol = max(abs_tol, rel_tol * abs(kids_sum), FLOAT_EPS * max(1.0, abs(kids_sum)))
            if rel == "=":
                if not comp.complete:  # a partial sum cannot be equal: checked once all reported
                    continue
                failed = abs(own - kids_sum) > tol
            else:
                failed = own < kids_sum - tol
            if failed:
                fails.append((k, ind, rel, own, kids_sum))
    # 2. the children's values and, in one query, their histories
    vals: dict[tuple[int, str], dict[str, float]] = {}
    wanted: list[tuple[str, str, str]] = []
    for k, ind, _, _, _ in fails:
        ctx = ctxs[k]
        got = _child_values(kids(ctx.unit.code), ind.code)
        vals[(k, ind.code)] = got
        periods = _same_structure(
            previous_periods(ctx.period, history), ctx.structure, catalog.close_day
        )
        wanted += [(u, ind.code, p.code) for u in got for p in periods]
    hist = _histories(con, wanted)
    # 3. the Issues
    out: list[list[Issue]] = [[] for _ in ctxs]
    for k, ind, rel, own, kids_sum in fails:
        ctx, comp = ctxs[k], comps[k]
        got = vals[(k, ind.code)]
        causes = (
            _rank_causes(
                got,
                {u: hist[(u, ind.code)] for u in got if (u, ind.code) in hist},
                kids_sum > own,
                {c.code: c.name for c in ctx.children},
            )
            if got
            else []
        )
        rel_vi = "không bằng" if rel == "=" else "nhỏ hơn"
        rel_en = "differs from" if rel == "=" else "is below"
        need_vi = "phải bằng" if rel == "=" else "phải lớn hơn hoặc bằng"
        need_en = "must equal" if rel == "=" else "must be at least"
        cause_vi = f" Nguyên nhân có thể: {_cause_text(causes[0], 'vi')}." if causes else ""
        cause_en = f" Likely cause: {_cause_text(causes[0], 'en')}." if causes else ""
        unit = ctx.unit
        out[k].append(
            Issue(
                rule_id=RULE_CROSS_LEVEL,
                severity=sev,
                unit_code=unit.code,
                period=ctx.period.code,
                indicator=ind.code,
                location=None,
                value=own,
                expected=f"{rel} {fmt_en(kids_sum)}",
                message_vi=(
                    f"{ind.label_vi}: số của {unit.name} ({fmt_vi(own)}) {rel_vi} tổng số của "
                    f"các {LEVEL_NAMES_VI.get(comp.child_level or '', 'đơn vị')} trực thuộc "
                    f"({fmt_vi(kids_sum)}); số của {LEVEL_NAMES_VI[unit.level]} {need_vi} tổng "
                    f"này.{cause_vi}"
                ),
                message_en=(
                    f"{ind.label_en}: the figure of {unit.name} ({fmt_en(own)}) {rel_en} the sum "
                    f"of its {LEVEL_NAMES_EN.get(comp.child_level or '', 'unit')}s "
                    f"({fmt_en(kids_sum)}); the {LEVEL_NAMES_EN[unit.level]} figure {need_en} "
                    f"that sum.{cause_en}"
                ),
                hint_vi="Đối chiếu số liệu với đơn vị được nêu, sửa và gửi lại báo cáo sai.",
                hint_en="Check the figures with the unit named, correct and resend the wrong report.",
                extra={
                    "relation": rel,
                    "own": own,
                    "children_sum": kids_sum,
                    "difference": own - kids_sum,
                    "complete": comp.complete,
                    "likely_cause": causes,
                },
            )
        )
    return out


def consistency(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    abs_tol: float = 0.0,
    rel_tol: float = 0.0,
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
    stocks: Collection[str] | None = None,
) -> list[Issue]:
    """Cross-level checks of the unit's own figures against its children's sums.

    parent_relation "=": own == sum (only checked when every expected child reported);
    ">=": own >= sum; "-": not checked. A difference within max(abs_tol, rel_tol * |sum|)
    passes. Each failure names the children that depart most from their own history (median
    of their previous `history` periods; their peers' median when they have none).
    """
    ctx = _context(period, unit_code, catalog, units)
    c = _compute_many(con, [ctx], catalog, units, stocks, with_change=False)
    return _consistency(
        con,
        [ctx],
        catalog,
        c.rows,
        lambda code: _kids_of(c.kids, code),
        c.comps,
        abs_tol,
        rel_tol,
        severity,
        history,
    )[0]


# --- consolidation ----------------------------------------------------------------------------
def _write(
    con: duckdb.DuckDBPyConnection,
    computed: _Computed,
    issues: list[list[Issue]],
    actor: str,
    at: datetime,
) -> None:
    """Replace the consolidation of each (unit, period) of `computed`, set-based."""
    ctxs = computed.ctxs
    if not ctxs:
        return
    codes = [ctx.unit.code for ctx in ctxs]
    period = ctxs[0].period.code
    for table in ("fct_rollup", "fct_completeness", "fct_consolidation_issue"):
        con.execute(
            f"DELETE FROM {table} WHERE period = $p AND unit_code IN (SELECT unnest($u))",
            {"p": period, "u": codes},
        )
    out = _rollup_frame([r for unit_rows in computed.rows for r in unit_rows])
    if len(out):
        out["consolidated_at"] = at
        con.register("_rollup_rows", out)
        try:
            con.execute(
                f"INSERT INTO fct_rollup ({', '.join(ROLLUP_COLUMNS)}, consolidated_at)"
                f" SELECT {', '.join(ROLLUP_COLUMNS)}, consolidated_at FROM _rollup_rows"
            )
        finally:
            con.unregister("_rollup_rows")
    comp_rows = pd.DataFrame(
        [
            [
                ctx.unit.code,
                ctx.unit.level,
                ctx.period.code,
                ctx.structure,
                comp.child_level,
                len(comp.expected),
                len(comp.received),
                len(comp.missing),
                len(comp.on_time),
                len(comp.late),
                comp.pct,
                comp.deadline,
                comp.missing,
                comp.late,
            ]
            for ctx, comp in zip(ctxs, computed.comps, strict=True)
        ],
        columns=[f"c{k}" for k in range(14)],
        dtype=object,
    )
    _insert(
        con,
        "fct_completeness",
        comp_rows,
        "c0, c1, c2, c3, c4, CAST(c5 AS INTEGER), CAST(c6 AS INTEGER), CAST(c7 AS INTEGER),"
        " CAST(c8 AS INTEGER), CAST(c9 AS INTEGER), CAST(c10 AS DOUBLE), CAST(c11 AS DATE),"
        " CAST(c12 AS VARCHAR[]), CAST(c13 AS VARCHAR[]), $at",
        at,
    )
    found = [(ctx, i) for ctx, unit_issues in zip(ctxs, issues, strict=True) for i in unit_issues]
    if found:
        rows = pd.DataFrame(
            [
                {
                    "unit_code": ctx.unit.code,
                    "period": ctx.period.code,
                    "structure": ctx.structure,
                    "rule_id": i.rule_id,
                    "severity": str(i.severity),
                    "indicator": i.indicator,
                    "location": i.location,
                    "value": None if i.value is None else fmt_en(float(i.value)).replace(",", ""),
                    "expected": i.expected,
                    "message_vi": i.message_vi,
                    "message_en": i.message_en,
                    "hint_vi": i.hint_vi,
                    "hint_en": i.hint_en,
                    "extra": json.dumps(i.extra, ensure_ascii=False, default=str),
                    "consolidated_at": at,
                }
                for ctx, i in found
            ]
        )
        con.register("_issue_rows", rows)
        try:
            con.execute(
                "INSERT INTO fct_consolidation_issue SELECT unit_code, period, structure,"
                " rule_id, severity, indicator, location, value, expected, message_vi,"
                " message_en, hint_vi, hint_en, extra, consolidated_at FROM _issue_rows"
            )
        finally:
            con.unregister("_issue_rows")
    audit = []
    for ctx, unit_rows, comp, unit_issues in zip(
        ctxs, computed.rows, computed.comps, issues, strict=True
    ):
        pct = "-" if comp.pct is None else f"{comp.pct:.1f}%"
        audit.append(
            [
                at,
                actor,
                ctx.unit.code,
                ctx.period.code,
                f"{len(unit_rows)} indicators, {len(comp.received)}/{len(comp.expected)} "
                f"children ({pct}, {len(comp.late)} late), {len(unit_issues)} consistency issues",
            ]
        )
    _insert(
        con,
        "audit_log",
        pd.DataFrame(
            audit, columns=["at_", "actor", "unit_code", "period", "detail"], dtype=object
        ),
        "CAST(at_ AS TIMESTAMP), actor, 'consolidate', unit_code, period, NULL, NULL, NULL, detail",
        at,
    )


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, select: str, at: datetime
) -> None:
    """INSERT INTO table SELECT <select> FROM df (one statement, not one per row), in order."""
    con.register("_insert_rows", df.assign(_pos=np.arange(len(df))))
    try:
        con.execute(
            f"INSERT INTO {table} SELECT {select} FROM _insert_rows ORDER BY _pos",
            {"at": at} if "$at" in select else None,
        )
    finally:
        con.unregister("_insert_rows")


def _consolidate_level(
    con: duckdb.DuckDBPyConnection,
    ctxs: list[_Context],
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str,
    at: datetime,
    opts: dict[str, object],
) -> list[ConsolidationResult]:
    """Consolidate units of one period, the units below them first (all of a level at once)."""
    below = {
        c.code: _context(ctx.period.code, c.code, catalog, units)
        for ctx in ctxs
        for c in ctx.children
        if c.level != "C"
    }
    done = (
        {
            r.unit_code: r
            for r in _consolidate_level(con, list(below.values()), catalog, units, actor, at, opts)
        }
        if below
        else {}
    )
    computed = _compute_many(con, ctxs, catalog, units, opts["stocks"])  # type: ignore[arg-type]
    rows_of: dict[str, np.ndarray] | None = None  # parent -> its children's row positions

    def kids_of(code: str) -> pd.DataFrame:  # only asked for when a cross-level check fails
        nonlocal rows_of
        kids = computed.kids
        if not len(kids):
            return pd.DataFrame(columns=KID_COLUMNS)
        if rows_of is None:
            rows_of = {str(p): i for p, i in kids.groupby("parent", sort=False).indices.items()}
        at = rows_of.get(code, np.array([], dtype="int64"))
        return kids.iloc[at][KID_COLUMNS].reset_index(drop=True)

    issues = _consistency(
        con,
        ctxs,
        catalog,
        computed.rows,
        kids_of,
        computed.comps,
        float(opts["abs_tol"]),  # type: ignore[arg-type]
        float(opts["rel_tol"]),  # type: ignore[arg-type]
        opts["severity"],  # type: ignore[arg-type]
        int(opts["history"]),  # type: ignore[call-overload]
    )
    _write(con, computed, issues, actor, at)
    return [
        ConsolidationResult(
            ctx.unit.code,
            ctx.unit.level,
            ctx.period.code,
            ctx.structure,
            _LazyRollup(rows),  # type: ignore[arg-type]
            comp,
            unit_issues,
            [done[c.code] for c in ctx.children if c.level != "C"],
        )
        for ctx, rows, comp, unit_issues in zip(
            ctxs, computed.rows, computed.comps, issues, strict=True
        )
    ]


def consolidate_many(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "consolidate",
    abs_tol: float = 0.0,
    rel_tol: float = 0.0,
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
    stocks: Collection[str] | None = None,
) -> list[ConsolidationResult]:
    """`consolidate` for several districts or provinces of one period (the whole country: the
    63 provinces) in ONE transaction, level by level: every district of all of them first,
    with a handful of set-based queries per level, not a handful per unit. One result per
    unit code, in order."""
    codes = list(dict.fromkeys(unit_codes))
    ctxs = [_context(period, code, catalog, units) for code in codes]
    opts: dict[str, object] = {
        "abs_tol": abs_tol,
        "rel_tol": rel_tol,
        "severity": Severity(severity),
        "history": history,
        "stocks": stocks,
    }
    at = now()
    with transaction(con):
        # a unit listed with one of its ancestors is consolidated once, below that ancestor
        inside = {c.code for ctx in ctxs for c in ctx.children if c.level != "C"}
        top = [ctx for ctx in ctxs if ctx.unit.code not in inside]
        found: dict[str, ConsolidationResult] = {}
        stack = _consolidate_level(con, top, catalog, units, actor, at, opts) if top else []
        while stack:
            res = stack.pop()
            found[res.unit_code] = res
            stack.extend(res.children)
        pause_for_test()  # test hook ($TONGHOP_TEST_PAUSE_IN_TXN): SIGKILL before COMMIT
    return [found[code] for code in codes]


def consolidate(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "consolidate",
    abs_tol: float = 0.0,
    rel_tol: float = 0.0,
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
    stocks: Collection[str] | None = None,
) -> ConsolidationResult:
    """Consolidate a district or province (its districts first, legacy structure) and write
    fct_rollup, fct_completeness and fct_consolidation_issue, replacing the previous
    consolidation of each (unit, period), all in ONE transaction."""
    return consolidate_many(
        con,
        period,
        [unit_code],
        catalog,
        units,
        actor=actor,
        abs_tol=abs_tol,
        rel_tol=rel_tol,
        severity=severity,
        history=history,
        stocks=stocks,
    )[0]


class _LazyRollup:
    """Rollup rows whose DataFrame is built when ConsolidationResult.rollup is first read
    (a national consolidation has 759 of them; most callers only count them)."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[dict[str, object]]):
        self.rows = rows


def _get_rollup(self: ConsolidationResult) -> pd.DataFrame:
    v = self.__dict__["_rollup"]
    if isinstance(v, _LazyRollup):
        v = self.__dict__["_rollup"] = _rollup_frame(v.rows)
    return v


def _set_rollup(self: ConsolidationResult, value: pd.DataFrame | _LazyRollup) -> None:
    self.__dict__["_rollup"] = value


# `rollup` stays a dataclass field (constructor, eq, repr) whose frame may be built lazily.
ConsolidationResult.rollup = property(_get_rollup, _set_rollup)  # type: ignore[assignment]
