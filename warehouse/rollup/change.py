"""Change vs the same period of the previous year ("so với cùng kỳ").

For a count or decimal: the percentage change (the catalog's `change` formula: 100 * (now -
then) / then; none when last year's figure is 0); for a rate or a flag's share: the change in
percentage points. Last year's figures are its consolidation (fct_rollup) where the warehouse
holds one, else computed from what the warehouse holds for it (without writing), for all the
units at once. Where last year lies in the other structure (across the 2025 reform) no
comparison is made here: the same code may name another territory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from validations.catalog import Catalog, Formula
from validations.crosswalk import load_crosswalk
from validations.period import Period
from validations.units import ReferenceUnits, structure_on
from warehouse.rollup.aggregation import num
from warehouse.rollup.scope import RollupError, Scope, scope_of

Rows = dict[str, list[dict[str, object]]]  # unit_code -> its rollup rows
Figures = dict[str, dict[str, float | None]]  # unit_code -> indicator -> compared figure


@dataclass
class LastYear:
    """Last year's figures of some units, and what each unit's figures sum: the same code, or
    (across the 2025 reform) the predecessors of its territory, approximate when a divided unit
    contributes a share."""

    figures: Figures = field(default_factory=dict)
    units: dict[str, list[str]] = field(default_factory=dict)
    approx: dict[str, bool] = field(default_factory=dict)


def _figure(row: dict[str, object], is_flag: bool) -> float | None:
    return num(row["share"]) if is_flag else num(row["value"])


def last_year(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    compute: Callable[[list[Scope]], Rows],
) -> LastYear:
    """The same period last year's figures of the units `codes` (the scopes' units and their
    leaves): stored rollups first, the rest computed for the scopes that lack some."""
    period = scopes[0].period
    last = period.same_period_last_year()
    if structure_on(last.end(catalog.close_day)) != scopes[0].structure:
        return across_reform(con, codes, last, catalog, units, compute)
    flags = set(catalog.codes(aggregation="count_share"))
    before: Figures = {}
    for u, code, value, share in con.execute(
        "SELECT unit_code, indicator, value, share FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
        {"p": last.code, "u": codes},
    ).fetchall():
        before.setdefault(u, {})[code] = num(share) if code in flags else num(value)
    todo = []
    for s in scopes:
        if s.unit.code in before and all(c.code in before for c in s.children if c.level == "C"):
            continue
        try:
            todo.append(scope_of(last.code, s.unit.code, catalog, units))
        except RollupError:
            continue
    if todo:
        for u, rows in compute(todo).items():
            if u in before:
                continue
            before[u] = {
                str(r["indicator"]): _figure(r, str(r["indicator"]) in flags) for r in rows
            }
    return LastYear(before, {u: [u] for u in before}, {u: False for u in before})


def apply_change(rows: Rows, last: LastYear, catalog: Catalog) -> None:
    """Fill change_vs_last_year, change_kind and the last_year_ columns of the rows in place."""
    for u, unit_rows in rows.items():
        then_of = last.figures.get(u)
        if not then_of:
            continue
        for r in unit_rows:
            ind = catalog.indicators[str(r["indicator"])]
            then = then_of.get(ind.code)
            current = _figure(r, ind.is_flag)
            if then is None or current is None:
                continue
            r["last_year_value"] = then
            r["last_year_units"] = last.units.get(u, [u])
            r["last_year_approx"] = last.approx.get(u, False)
            if ind.aggregation == "sum":
                change = Formula.CHANGE.of(current, then)
                if change is not None:
                    r["change_vs_last_year"] = change
                    r["change_kind"] = "percent"
            else:
                r["change_vs_last_year"] = current - then
                r["change_kind"] = "points"


def _old_rows(
    con: duckdb.DuckDBPyConnection,
    old_codes: list[str],
    last: Period,
    catalog: Catalog,
    units: ReferenceUnits,
    compute: Callable[[list[Scope]], Rows],
) -> dict[str, dict[str, dict[str, float | None]]]:
    """old unit -> indicator -> {value, numerator, denominator} for a period of the old
    structure: stored rollups first, else the old provinces computed (without writing)."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for u, code, value, n, d in con.execute(
        "SELECT unit_code, indicator, value, numerator, denominator FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
        {"p": last.code, "u": old_codes},
    ).fetchall():
        out.setdefault(u, {})[code] = {
            "value": num(value),
            "numerator": num(n),
            "denominator": num(d),
        }
    closing = last.end(catalog.close_day)
    missing = [c for c in old_codes if c not in out]
    provinces = sorted({u.province_code for c in missing if (u := units.get(c, closing))})
    todo = []
    for p in provinces:
        try:
            todo.append(scope_of(last.code, p, catalog, units))
        except RollupError:
            continue
    if todo:
        for u, rows in compute(todo).items():
            if u in out or u not in set(missing):
                continue
            out[u] = {
                str(r["indicator"]): {
                    "value": num(r["value"]),
                    "numerator": num(r["numerator"]),
                    "denominator": num(r["denominator"]),
                }
                for r in rows
            }
    return out


def across_reform(
    con: duckdb.DuckDBPyConnection,
    codes: list[str],
    last: Period,
    catalog: Catalog,
    units: ReferenceUnits,
    compute: Callable[[list[Scope]], Rows],
) -> LastYear:
    """Last year's figures of units of the two-level structure when last year lies before the
    2025 reform: each unit's territory is the sum of its predecessors (validations.crosswalk),
    shares applied. Counts and decimals are summed; a rate is its formula over the mapped
    parts; a flag's share (units with 1 among those reporting) over the mapped counts. A
    figure is given only when every predecessor has it; a divided predecessor makes it
    approximate. Old districts have no successor: the comparison is made for provinces and
    communes."""
    xw = load_crosswalk(catalog.divided_communes)
    links = {u: xw.predecessors(u) for u in codes}
    old_codes = sorted({link.old_code for ls in links.values() for link in ls})
    if not old_codes:
        return LastYear()
    old = _old_rows(con, old_codes, last, catalog, units, compute)
    out = LastYear()
    for u, ls in links.items():
        if not ls or any(link.old_code not in old for link in ls):
            continue
        mapped: dict[str, float | None] = {}
        for ind in catalog.indicators.values():
            if ind.aggregation != "sum":
                continue
            got = [old[link.old_code].get(ind.code, {}).get("value") for link in ls]
            if any(g is None for g in got):
                continue
            mapped[ind.code] = sum(g * link.share for g, link in zip(got, ls, strict=True))  # type: ignore[operator]
        for ind in catalog.indicators.values():
            if ind.is_rate:
                mapped[ind.code] = ind.rate(
                    mapped.get(ind.numerator or ""), mapped.get(ind.denominator or "")
                )
            elif ind.is_flag:
                parts = [old[link.old_code].get(ind.code, {}) for link in ls]
                if all(p.get("denominator") is not None for p in parts):
                    pairs = list(zip(parts, ls, strict=True))
                    yes = sum(p["numerator"] * link.share for p, link in pairs)  # type: ignore[operator]
                    total = sum(p["denominator"] * link.share for p, link in pairs)  # type: ignore[operator]
                    mapped[ind.code] = Formula.RATIO.of(yes, total)
        out.figures[u] = {k: v for k, v in mapped.items() if v is not None}
        out.units[u] = [link.old_code for link in ls]
        out.approx[u] = any(link.approximate for link in ls)
    return out
