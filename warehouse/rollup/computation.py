"""Computing a consolidation in memory: every level of a tree, the lowest first.

`compute_tree` works out, for several units of one period and everything below them, the
completeness, the children's aggregates, the rollup rows (units and their communes), the change
vs last year and the lineage, level by level with a handful of set-based queries per level
whatever the number of units. Nothing is written here (writing.py does, consolidation.py calls
both): the preview of a consolidation and the consolidation are one computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.units import ReferenceUnits
from warehouse.rollup.aggregation import (
    KID_COLUMNS,
    NO_STATS,
    ROLLUP_COLUMNS,
    aggregate,
    children_frame,
    stats,
)
from warehouse.rollup.change import Rows, apply_change, last_year
from warehouse.rollup.completeness import Completeness, completeness_many
from warehouse.rollup.scope import Scope, leaf_scope, scope_of
from warehouse.rollup.values import effective_values


@dataclass
class Level:
    """One level of a consolidation: units of the same depth, one period."""

    scopes: list[Scope]
    rows: list[list[dict[str, object]]]  # per scope: ROLLUP_COLUMNS dicts
    leaf_rows: dict[str, list[dict[str, object]]]  # commune code -> its own rows
    kids: pd.DataFrame  # children_frame of all the scopes
    comps: list[Completeness]
    lineage: dict[str, list[str]] = field(default_factory=dict)  # unit -> submission ids

    def all_rows(self) -> Rows:
        out: Rows = dict(self.leaf_rows)
        out.update({s.unit.code: r for s, r in zip(self.scopes, self.rows, strict=True)})
        return out


def _rolled_frame(rows: Rows) -> pd.DataFrame:
    """The lower level's rows as the columns a parent reads of its children."""
    flat = [r for unit_rows in rows.values() for r in unit_rows]
    if not flat:
        return pd.DataFrame(columns=KID_COLUMNS)
    return pd.DataFrame(flat, columns=ROLLUP_COLUMNS)[KID_COLUMNS]


def compute_level(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    catalog: Catalog,
    units: ReferenceUnits,
    below: Level | None,
    with_change: bool = True,
) -> Level:
    """One level: the units of `scopes`, their children's figures coming from `below` (the
    level under it, computed first) and from their communes' effective values."""
    comps = completeness_many(con, scopes, catalog, units)
    leaves = [c for s in scopes for c in s.children if c.level == "C"]
    own_codes = [s.unit.code for s in scopes] + [c.code for c in leaves]
    values = effective_values(con, own_codes, scopes[0].period, catalog)
    rolled = _rolled_frame(below.all_rows()) if below else pd.DataFrame(columns=KID_COLUMNS)
    kids = children_frame(scopes, catalog, values, rolled)
    st = stats(kids, catalog)
    own = values.by_unit()
    rows = [
        aggregate(s, catalog, own.get(s.unit.code, {}), st, comp.pct)
        for s, comp in zip(scopes, comps, strict=True)
    ]
    parent_scope = {c.code: s for s in scopes for c in s.children}
    leaf_rows = {
        c.code: aggregate(
            leaf_scope(c, parent_scope[c.code]),
            catalog,
            own.get(c.code, {}),
            NO_STATS,
            None,
            leaf=True,
        )
        for c in leaves
    }
    level = Level(scopes, rows, {c: r for c, r in leaf_rows.items() if r}, kids, comps)
    # lineage: a unit's own submissions, its communes' and its consolidated children's
    lower = below.lineage if below else {}
    for c in leaves:
        level.lineage[c.code] = list(values.sources.get(c.code, []))
    for s in scopes:
        ids = list(values.sources.get(s.unit.code, []))
        for c in s.children:
            ids += level.lineage.get(c.code, []) if c.level == "C" else lower.get(c.code, [])
        level.lineage[s.unit.code] = list(dict.fromkeys(ids))
    if with_change:
        everything = level.all_rows()
        before = last_year(
            con,
            scopes,
            list(everything),
            catalog,
            units,
            lambda todo: _flat_rows(compute_tree(con, todo, catalog, units, with_change=False)),
        )
        apply_change(everything, before, catalog)
    return level


def _flat_rows(levels: list[Level]) -> Rows:
    out: Rows = {}
    for lv in levels:
        out.update(lv.all_rows())
    return out


def compute_tree(
    con: duckdb.DuckDBPyConnection,
    scopes: list[Scope],
    catalog: Catalog,
    units: ReferenceUnits,
    with_change: bool = True,
) -> list[Level]:
    """Every level under and including `scopes` (units of one period), lowest first."""
    if not scopes:
        return []
    below_scopes = [
        scope_of(s.period.code, c.code, catalog, units)
        for s in scopes
        for c in s.children
        if c.level != "C"
    ]
    lower = compute_tree(con, below_scopes, catalog, units, with_change) if below_scopes else []
    top = compute_level(con, scopes, catalog, units, lower[-1] if lower else None, with_change)
    if lower:  # the lineage of every unit reached from the top
        top.lineage = {**_lineage(lower), **top.lineage}
    return [*lower, top]


def _lineage(levels: list[Level]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lv in levels:
        out.update(lv.lineage)
    return out
