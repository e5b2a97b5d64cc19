"""Aggregation over children, as the catalog says each indicator aggregates across units.

Each figure is judged against the unit's own target (Catalog.target_for: the unit's, else its
province's, else the form's national goal), on the period the target is set for or as its
`interim` says; the row keeps the target's source, goal and horizon (the report names them).

- sum (counts, decimals): the sum of the children's values;
- ratio (rates): the indicator's formula over the sums of its parts, over the children having
  both parts (never an average of rates); no value when the sum of denominators is 0;
- count_share (flags): numerator = number of children with 1, denominator = children that
  reported the flag, value = numerator, share = 100 * numerator / denominator; a district's
  (numerator, denominator) carry up to the province.

A child's figures are its consolidated rows (fct_rollup, written first, level by level) when it
has children itself, else its effective values. Where the unit has an effective value of its
own, that figure is official (source "own") and the children's aggregate is the check
(children_sum); otherwise the value is the children's aggregate (source "children"). A commune
(a leaf) gets rows of its own figures (source "own", no children columns), so that every figure
any output shows is a stored row of fct_rollup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from validations.catalog import Catalog, Formula
from warehouse.rollup.scope import Scope
from warehouse.rollup.values import EffectiveValues

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
    "last_year_value",
    "last_year_units",
    "last_year_approx",
    "target_source",
    "target_goal",
    "target_horizon",
]
KID_COLUMNS = ["unit_code", "indicator", "value", "numerator", "denominator"]
FLOAT_COLUMNS = (
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "attainment_points",
    "last_year_value",
)


def is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def num(x: object) -> float | None:
    return None if is_missing(x) else float(x)  # type: ignore[arg-type]


def children_frame(
    scopes: list[Scope], catalog: Catalog, leaves: EffectiveValues, rolled: pd.DataFrame
) -> pd.DataFrame:
    """[parent, unit_code, indicator, value, numerator, denominator] contributed by each child
    of each unit, grouped by parent in the order of `scopes`: the consolidated children's rows
    (`rolled`, the level below, computed first), then the communes' own values (`leaves`)."""
    parent_of = {c.code: s.unit.code for s in scopes for c in s.children}
    frames = [rolled.loc[rolled["unit_code"].isin(parent_of)]] if len(rolled) else []
    own = leaves.frame
    own = own.loc[own["unit_code"].isin(parent_of)].drop(columns="origin")
    if len(own):
        own = own.assign(numerator=float("nan"), denominator=float("nan"))
        is_flag = own["indicator"].isin(catalog.codes(aggregation="count_share"))
        is_flag &= own["value"].notna()
        own.loc[is_flag, "numerator"] = own.loc[is_flag, "value"]
        own.loc[is_flag, "denominator"] = 1.0
        frames.append(own)
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["parent", *KID_COLUMNS])
    out = pd.concat(frames, ignore_index=True).reindex(columns=KID_COLUMNS)
    for c in ("value", "numerator", "denominator"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    rank = {s.unit.code: n for n, s in enumerate(scopes)}
    parents = [parent_of[u] for u in out["unit_code"].tolist()]
    order = np.argsort(np.array([rank[p] for p in parents], dtype="int64"), kind="stable")
    out.insert(0, "parent", parents)
    return out.take(order).reset_index(drop=True)


@dataclass
class Stats:
    """The children's aggregates of several units, keyed by (unit, indicator)."""

    sums: dict[tuple[str, str], tuple[int, float]]  # -> (children reporting, sum)
    ratios: dict[tuple[str, str], tuple[int, float, float]]  # -> (reporting, sum n, sum d)
    shares: dict[tuple[str, str], tuple[int, float, float]]  # -> (reporting, ones, reporting)


def stats(kids: pd.DataFrame, catalog: Catalog) -> Stats:
    """Sums, ratio parts and flag counts over each unit's children, for all units at once."""
    out = Stats({}, {}, {})
    if not len(kids):
        return out
    inds = catalog.indicators.values()
    # a child's value of an indicator (its first non-empty one, as a pivot would take it)
    kv = kids.loc[kids["value"].notna()].drop_duplicates(["parent", "unit_code", "indicator"])
    part = kv.loc[kv["indicator"].isin(catalog.codes(aggregation="sum"))]
    g = part.groupby(["parent", "indicator"], sort=False)["value"].agg(["count", "sum"])
    for (p, code), n, total in zip(g.index, g["count"], g["sum"], strict=True):
        out.sums[(p, code)] = (int(n), float(total))
    rates = [i for i in inds if i.is_rate and i.numerator and i.denominator]
    parts = {i.numerator for i in rates} | {i.denominator for i in rates}
    wide = kv.loc[kv["indicator"].isin(parts)].pivot(
        index=["parent", "unit_code"], columns="indicator", values="value"
    )
    for ind in rates:
        n_code, d_code = ind.numerator, ind.denominator
        if n_code not in wide or d_code not in wide:
            continue
        both = wide.loc[wide[n_code].notna() & wide[d_code].notna(), [n_code, d_code]]
        if not len(both):
            continue
        g = both.groupby(level="parent", sort=False)
        n_rep, n_sum, d_sum = g.size(), g[n_code].sum(), g[d_code].sum()
        for p in n_rep.index:
            out.ratios[(p, ind.code)] = (int(n_rep[p]), float(n_sum[p]), float(d_sum[p]))
    rep = kids.loc[
        kids["indicator"].isin(catalog.codes(aggregation="count_share"))
        & kids["denominator"].notna()
    ]
    g = rep.groupby(["parent", "indicator"], sort=False).agg(
        n=("denominator", "size"), yes=("numerator", "sum"), total=("denominator", "sum")
    )
    for (p, code), n, yes, total in zip(g.index, g["n"], g["yes"], g["total"], strict=True):
        out.shares[(p, code)] = (int(n), float(yes), float(total))
    return out


def aggregate(
    scope: Scope,
    catalog: Catalog,
    own: dict[str, float],
    st: Stats,
    pct: float | None,
    leaf: bool = False,
) -> list[dict[str, object]]:
    """One row (ROLLUP_COLUMNS) per indicator the unit has a figure for. A leaf (commune) has
    only its own figures: no children columns, no completeness."""
    p = scope.unit.code
    rows = []
    for ind in catalog.indicators.values():
        code = ind.code
        row: dict[str, object] = {"numerator": None, "denominator": None, "share": None}
        if ind.aggregation == "sum":
            n_rep, kids_sum = st.sums.get((p, code), (0, None))
            mine = num(own.get(code))
            if mine is not None:
                value, source = mine, "own"
            elif n_rep:
                value, source = kids_sum, "children"
            else:
                value, source = None, None
            row |= {"children_sum": kids_sum, "children_reporting": n_rep}
        elif ind.aggregation == "ratio":
            n_code, d_code = ind.numerator, ind.denominator
            n_rep, n_sum, d_sum = st.ratios.get((p, code), (0, None, None))
            kids_rate = ind.rate(n_sum, d_sum) if n_rep else None
            own_n, own_d = num(own.get(n_code or "")), num(own.get(d_code or ""))
            row |= {"children_sum": kids_rate, "children_reporting": n_rep}
            if own_n is not None and own_d is not None:
                value, source = ind.rate(own_n, own_d), "own"
                row |= {"numerator": own_n, "denominator": own_d}
            elif num(own.get(code)) is not None:
                value, source = num(own.get(code)), "own"
            elif n_rep:
                value, source = kids_rate, "children"
                row |= {"numerator": n_sum, "denominator": d_sum}
            else:
                value, source = None, None
        else:  # count_share: flags
            n_rep, yes, total = st.shares.get((p, code), (0, None, None))
            mine = num(own.get(code))
            if n_rep:
                value, source = yes, "children"
                row |= {"numerator": yes, "denominator": total, "children_sum": yes}
            elif leaf and mine is not None:
                value, source = mine, "own"
                row |= {"numerator": mine, "denominator": 1.0}
            else:
                value, source = None, None
            row |= {"children_reporting": n_rep}
            if source:
                row["share"] = Formula.RATIO.of(row["numerator"], row["denominator"])
        if source is None:
            continue
        shown = row["share"] if ind.is_flag else value
        goal = catalog.target_for(code, p, scope.unit.province_code, scope.closing)
        judged = goal.for_period(scope.period.kind) if goal else None
        att, points = judged.attainment(shown) if judged else (None, None)
        if leaf:
            row |= {"children_sum": None, "children_reporting": None}
        row |= {
            "unit_code": scope.unit.code,
            "level": scope.unit.level,
            "period": scope.period.code,
            "structure": scope.structure,
            "indicator": code,
            "value": value,
            "source": source,
            "target": judged.text() if judged else None,
            "attainment": att,
            "attainment_points": points,
            "change_vs_last_year": None,
            "change_kind": None,
            "completeness": None if leaf else pct,
            "last_year_value": None,
            "last_year_units": None,
            "last_year_approx": None,
            "target_source": goal.source if goal else None,
            "target_goal": goal.text() if goal else None,
            "target_horizon": goal.horizon if goal else None,
        }
        rows.append(row)
    return rows


def rollup_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows of `aggregate` as a DataFrame with the columns' types (ROLLUP_COLUMNS)."""
    df = pd.DataFrame(rows, columns=ROLLUP_COLUMNS)
    for c in FLOAT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["children_reporting"] = df["children_reporting"].astype("Int64")
    df["change_vs_last_year"] = pd.Series(
        [r["change_vs_last_year"] for r in rows], index=df.index, dtype="float64"
    )
    df["change_kind"] = pd.Series([r["change_kind"] for r in rows], index=df.index, dtype=object)
    df["completeness"] = pd.to_numeric(df["completeness"], errors="coerce").astype("float64")
    df["last_year_approx"] = df["last_year_approx"].astype("boolean")
    return df
