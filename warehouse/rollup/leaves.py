"""A commune's own rows (a leaf of the tree: no units below it), computed for all the communes
of a level at once, column by column (a national month has 10,035 of them).

The same rules as `aggregation.aggregate` for a unit without children: counts and decimals
are its own figures; a rate is its formula over its own parts (else the rate it reported); a
flag is its 0/1 with numerator = the flag, denominator = 1 and share = 100 × the flag; target
attainment as the catalog says; no children columns, no completeness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validations.catalog import Catalog, Formula
from warehouse.rollup.aggregation import ROLLUP_COLUMNS
from warehouse.rollup.scope import Scope


def leaf_frame(values: pd.DataFrame, parent_of: dict[str, Scope], catalog: Catalog) -> pd.DataFrame:
    """ROLLUP_COLUMNS rows of the communes of `parent_of` (commune code -> its parent's scope)
    from their effective values [unit_code, indicator, value, origin]."""
    v = values.loc[values["unit_code"].isin(parent_of) & values["value"].notna()]
    v = v.drop_duplicates(["unit_code", "indicator"])
    if v.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    inds = catalog.indicators
    agg = v["indicator"].map({c: i.aggregation for c, i in inds.items()})  # NaN: unknown
    parts = []
    sums = v.loc[agg == "sum", ["unit_code", "indicator", "value"]]
    parts.append(sums.assign(numerator=np.nan, denominator=np.nan, share=np.nan))
    flags = v.loc[agg == "count_share", ["unit_code", "indicator", "value"]]
    if len(flags):
        x = flags["value"].to_numpy(dtype="float64")
        parts.append(
            flags.assign(
                numerator=x, denominator=1.0, share=Formula.RATIO.array(x, np.ones(len(x)))
            )
        )
    wide = v.pivot(index="unit_code", columns="indicator", values="value")
    for ind in catalog.rates():
        if ind.formula is None:
            continue
        n, d, own = (wide.get(c) for c in (ind.numerator, ind.denominator, ind.code))
        both = (n.notna() & d.notna()) if n is not None and d is not None else None
        frame = pd.DataFrame(index=wide.index)
        if both is not None and both.any():
            frame.loc[both[both].index, "value"] = ind.formula.array(n[both], d[both])
            frame.loc[both[both].index, "numerator"] = n[both]
            frame.loc[both[both].index, "denominator"] = d[both]
        if own is not None:  # the rate it reported, where its parts are not both there
            only = own.notna() & (~both if both is not None else True)
            frame.loc[only[only].index, "value"] = own[only]
        frame = frame.reindex(columns=["value", "numerator", "denominator"])
        # a row where both parts are known (a 0 denominator: no rate, but the parts are shown)
        # or where the commune gave the rate itself, as aggregate() keeps them
        frame = frame.loc[frame["value"].notna() | frame["denominator"].notna()]
        if frame.empty:
            continue
        parts.append(
            frame.reset_index().assign(indicator=ind.code, share=np.nan)[
                ["unit_code", "indicator", "value", "numerator", "denominator", "share"]
            ]
        )
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    scope = next(iter(parent_of.values()))  # one period, one structure per consolidation
    out["level"] = "C"
    out["period"] = scope.period.code
    out["structure"] = scope.structure
    out["children_sum"] = np.nan
    out["children_reporting"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["source"] = "own"
    out["completeness"] = np.nan
    out["change_vs_last_year"] = np.nan
    out["change_kind"] = None
    out["last_year_value"] = np.nan
    out["last_year_units"] = None
    out["last_year_approx"] = pd.array([pd.NA] * len(out), dtype="boolean")
    _attain(out, catalog, parent_of)
    order = {c: k for k, c in enumerate(catalog.indicators)}
    out = out.assign(_o=out["indicator"].map(order)).sort_values(["unit_code", "_o"], kind="stable")
    return out.drop(columns="_o").reindex(columns=ROLLUP_COLUMNS).reset_index(drop=True)


def _attain(out: pd.DataFrame, catalog: Catalog, parent_of: dict[str, Scope]) -> None:
    """target, attainment and attainment_points of every row, and the target's source, goal
    and horizon: each commune's own target (Catalog.target_for), judged as its `interim` says,
    the communes sharing a target at once."""
    for c in ("target", "attainment", "target_source", "target_goal", "target_horizon"):
        out[c] = None
    out["attainment_points"] = np.nan
    with_units = {t.indicator for t in catalog.unit_targets}
    for ind in catalog.indicators.values():
        if ind.target is None and ind.code not in with_units:
            continue
        rows = out.index[out["indicator"] == ind.code]
        if not len(rows):
            continue
        groups: dict[object, list[int]] = {}
        for i, unit in zip(rows, out.loc[rows, "unit_code"].tolist(), strict=True):
            s = parent_of[unit]
            goal = catalog.target_for(ind.code, unit, s.unit.province_code, s.closing)
            groups.setdefault((goal, s.period.kind), []).append(i)
        for (goal, kind), idx in groups.items():
            if goal is None:
                continue
            out.loc[idx, "target_source"] = goal.source
            out.loc[idx, "target_goal"] = goal.text()
            out.loc[idx, "target_horizon"] = goal.horizon
            judged = goal.for_period(kind)
            if judged is None:
                continue
            states, points = judged.attainment_array(
                out.loc[idx, "share" if ind.is_flag else "value"]
            )
            out.loc[idx, "target"] = judged.text()
            out.loc[idx, "attainment"] = states
            out.loc[idx, "attainment_points"] = points
