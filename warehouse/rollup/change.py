"""Change vs the same period of the previous year ("so với cùng kỳ").

For a count or decimal: the percentage change (the catalog's `change` formula: 100 * (now -
then) / then; none when last year's figure is 0); for a rate or a flag's share: the change in
percentage points. Last year's figures are its consolidation (fct_rollup) where the warehouse
holds one, else computed from what the warehouse holds for it (without writing), for all the
units at once. Across the 2025 reform a unit's territory last year is the sum of its
predecessors' (validations/crosswalk.py): `across_reform`.

Everything here is column-wise (frames), for a national month's 10,000 communes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog, Formula
from validations.crosswalk import load_crosswalk
from validations.period import Period
from validations.units import ReferenceUnits, structure_on
from warehouse.rollup.scope import RollupError, Scope, scope_of

Rows = dict[str, list[dict[str, object]]]  # unit_code -> its rollup rows
# computes (without writing) the rows of some scopes and everything below them, as one frame
Compute = Callable[[list[Scope]], pd.DataFrame]
FIGURE_COLUMNS = ["unit_code", "indicator", "then"]


@dataclass
class LastYear:
    """Last year's figures [unit_code, indicator, then] of some units and, across the 2025
    reform, what each unit's figures sum (the predecessors of its territory) and whether a
    divided unit makes them approximate. Without an entry a unit compares with itself."""

    figures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FIGURE_COLUMNS))
    units: dict[str, list[str]] = field(default_factory=dict)
    approx: dict[str, bool] = field(default_factory=dict)


def _then(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The compared figure of each row: a flag's share, else its value."""
    flags = rows["indicator"].isin(catalog.codes(aggregation="count_share"))
    then = rows["value"].where(~flags, rows["share"])
    return pd.DataFrame(
        {"unit_code": rows["unit_code"], "indicator": rows["indicator"], "then": then}
    ).dropna(subset=["then"])


def _stored(con: duckdb.DuckDBPyConnection, period: str, codes: list[str]) -> pd.DataFrame:
    return con.execute(
        "SELECT unit_code, indicator, value, numerator, denominator, share FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
        {"p": period, "u": codes or [""]},
    ).df()


def last_year(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    compute: Compute,
) -> LastYear:
    """The same period last year's figures of the units `codes` (the scopes' units and their
    communes): stored rollups first, the rest computed for the scopes that lack some."""
    last = scopes[0].period.same_period_last_year()
    if structure_on(last.end(catalog.close_day)) != scopes[0].structure:
        return across_reform(con, codes, last, catalog, units, compute)
    stored = _stored(con, last.code, codes)
    have = set(stored["unit_code"].unique().tolist())
    todo = []
    for s in scopes:
        if s.unit.code in have and all(c.code in have for c in s.children if c.level == "C"):
            continue
        try:
            todo.append(scope_of(last.code, s.unit.code, catalog, units))
        except RollupError:
            continue
    frames = [stored]
    if todo:
        computed = compute(todo)
        frames.append(computed.loc[~computed["unit_code"].isin(have)])
    rows = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else stored
    )
    return LastYear(_then(rows, catalog))


def across_reform(
    con: duckdb.DuckDBPyConnection,
    codes: list[str],
    last: Period,
    catalog: Catalog,
    units: ReferenceUnits,
    compute: Compute,
) -> LastYear:
    """Last year's figures of units of the two-level structure when last year lies before the
    2025 reform: each unit's territory is the sum of its predecessors (validations.crosswalk),
    shares applied. Counts and decimals are summed; a rate is its formula over the mapped
    parts; a flag's share is not compared (the communes counted are not the same ones). A
    figure is given only when every predecessor has it; a divided predecessor makes it
    approximate. Old districts have no successor: the comparison is made for provinces and
    communes."""
    xw = load_crosswalk(catalog.divided_communes)
    links = pd.DataFrame(
        [(u, x.old_code, x.share, x.approximate) for u in codes for x in xw.predecessors(u)],
        columns=["unit_code", "old_code", "share", "approximate"],
    )
    if links.empty:
        return LastYear()
    old_codes = sorted(set(links["old_code"]))
    old = _stored(con, last.code, old_codes)
    stored_codes = set(old["unit_code"].unique().tolist())
    missing = [c for c in old_codes if c not in stored_codes]
    closing = last.end(catalog.close_day)
    provinces = sorted({u.province_code for c in missing if (u := units.get(c, closing))})
    todo = []
    for p in provinces:
        try:
            todo.append(scope_of(last.code, p, catalog, units))
        except RollupError:
            continue
    if todo:
        computed = compute(todo)
        old = pd.concat(
            [old, computed.loc[computed["unit_code"].isin(missing), old.columns]],
            ignore_index=True,
        )
    n_links = links.groupby("unit_code").size().rename("n_links")
    j = links.merge(
        old.drop(columns="share").rename(columns={"unit_code": "old_code"}), on="old_code"
    )
    for c in ("value", "numerator", "denominator"):
        j[c] = pd.to_numeric(j[c], errors="coerce") * j["share"]
    g = j.groupby(["unit_code", "indicator"]).agg(
        value=("value", "sum"),
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        n=("value", "count"),
    )
    g = g.join(n_links, on="unit_code").reset_index()
    sums = g.loc[g["indicator"].isin(catalog.codes(aggregation="sum")) & (g["n"] == g["n_links"])]
    mapped = [sums[["unit_code", "indicator", "value"]].rename(columns={"value": "then"})]
    wide = sums.pivot(index="unit_code", columns="indicator", values="value")
    for ind in catalog.rates():
        if ind.formula is None or ind.numerator not in wide or ind.denominator not in wide:
            continue
        rate = ind.formula.array(wide[ind.numerator], wide[ind.denominator])
        mapped.append(pd.DataFrame({"unit_code": wide.index, "indicator": ind.code, "then": rate}))
    # A flag's share is not compared across the reform: last year's share counts the old
    # communes, this year's the new ones (a merged commune is drug-free only if all of its
    # predecessors were), so the change would be the reform's, not the territory's.
    figures = pd.concat(mapped, ignore_index=True).dropna(subset=["then"])
    sources = links.groupby("unit_code")["old_code"].agg(lambda s: sorted(s)).to_dict()
    approx = links.groupby("unit_code")["approximate"].any().to_dict()
    return LastYear(figures, sources, {u: bool(a) for u, a in approx.items()})


def apply_change(rows: Rows, last: LastYear, catalog: Catalog) -> None:
    """Fill change_vs_last_year, change_kind and the last_year_ columns of units' rows (dicts),
    in place."""
    f = last.figures.loc[last.figures["unit_code"].isin(rows)]
    then_of = {
        (u, i): float(t)
        for u, i, t in zip(
            f["unit_code"].tolist(), f["indicator"].tolist(), f["then"].tolist(), strict=True
        )
    }
    for u, unit_rows in rows.items():
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            then = then_of.get((u, ind.code))
            current = r["share"] if ind.is_flag else r["value"]
            if then is None or current is None or current != current:
                continue
            r["last_year_value"] = then
            r["last_year_units"] = last.units.get(u)
            r["last_year_approx"] = last.approx.get(u)
            if ind.aggregation == "sum":
                change = Formula.CHANGE.of(current, then)
                if change is not None:
                    r["change_vs_last_year"] = change
                    r["change_kind"] = "percent"
            else:
                r["change_vs_last_year"] = float(current) - then  # type: ignore[arg-type]
                r["change_kind"] = "points"


def change_frame(rows: pd.DataFrame, last: LastYear, catalog: Catalog) -> pd.DataFrame:
    """The same for rows as a frame (the communes' rows), column-wise."""
    if rows.empty or last.figures.empty:
        return rows
    out = rows.drop(columns=["last_year_value"]).merge(
        last.figures.rename(columns={"then": "last_year_value"}),
        on=["unit_code", "indicator"],
        how="left",
    )
    flags = out["indicator"].isin(catalog.codes(aggregation="count_share"))
    sums = out["indicator"].isin(catalog.codes(aggregation="sum"))
    current = out["value"].where(~flags, out["share"]).to_numpy(dtype="float64")
    then = out["last_year_value"].to_numpy(dtype="float64")
    known = ~np.isnan(current) & ~np.isnan(then)
    pct = Formula.CHANGE.array(current, then)
    change = np.where(sums.to_numpy(), pct, current - then)
    change = np.where(known, change, np.nan)
    out["change_vs_last_year"] = change
    kind = np.where(sums.to_numpy(), "percent", "points").astype(object)
    kind[np.isnan(change)] = None
    out["change_kind"] = kind
    out.loc[~known, "last_year_value"] = np.nan
    if last.units:  # across the reform: the predecessors each commune's figure sums
        has = out["unit_code"].isin(last.units) & known
        out["last_year_units"] = out["unit_code"].map(last.units).where(has, None)
        out["last_year_approx"] = out["unit_code"].map(last.approx).where(has).astype("boolean")
    return out.reindex(columns=rows.columns)
