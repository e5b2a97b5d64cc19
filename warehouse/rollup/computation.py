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
    ROLLUP_COLUMNS,
    aggregate,
    children_frame,
    rollup_frame,
    stats,
)
from warehouse.rollup.change import Rows, apply_change, change_frame, last_year
from warehouse.rollup.completeness import Completeness, completeness_many
from warehouse.rollup.leaves import leaf_frame
from warehouse.rollup.scope import Scope, scope_of
from warehouse.rollup.values import EffectiveValues, effective_values


@dataclass
class Level:
    """One level of a consolidation: units of the same depth, one period."""

    scopes: list[Scope]
    rows: list[list[dict[str, object]]]  # per scope: ROLLUP_COLUMNS dicts
    leaves: pd.DataFrame  # the communes' own rows (ROLLUP_COLUMNS), column-wise
    kids: pd.DataFrame  # children_frame of all the scopes
    comps: list[Completeness]
    lineage: dict[str, list[str]] = field(default_factory=dict)  # unit -> submission ids

    def unit_rows(self) -> Rows:
        return {s.unit.code: r for s, r in zip(self.scopes, self.rows, strict=True)}

    def frame(self) -> pd.DataFrame:
        """Every row of the level (its units' and their communes'), one frame."""
        units = rollup_frame([r for unit_rows in self.rows for r in unit_rows])
        parts = [f for f in (units, self.leaves) if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else units


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
    parent_of = {c.code: s for s in scopes for c in s.children if c.level == "C"}
    own_codes = [s.unit.code for s in scopes] + list(parent_of)
    values = effective_values(con, own_codes, scopes[0].period, catalog)
    rolled = _rolled_frame(below.unit_rows()) if below else pd.DataFrame(columns=KID_COLUMNS)
    kids = children_frame(scopes, catalog, values, rolled)
    st = stats(kids, catalog)
    mine = values.frame.loc[~values.frame["unit_code"].isin(parent_of)]
    own = EffectiveValues(mine).by_unit()
    rows = [
        aggregate(s, catalog, own.get(s.unit.code, {}), st, comp.pct)
        for s, comp in zip(scopes, comps, strict=True)
    ]
    leaves = leaf_frame(values.frame, parent_of, catalog)
    level = Level(scopes, rows, leaves, kids, comps)
    # lineage: a unit's own submissions, its communes' and its consolidated children's
    lower = below.lineage if below else {}
    for c in parent_of:
        level.lineage[c] = list(values.sources.get(c, []))
    for s in scopes:
        ids = list(values.sources.get(s.unit.code, []))
        for c in s.children:
            ids += level.lineage.get(c.code, []) if c.level == "C" else lower.get(c.code, [])
        level.lineage[s.unit.code] = list(dict.fromkeys(ids))
    if with_change:
        last = last_year(
            con,
            scopes,
            own_codes,
            catalog,
            units,
            lambda todo: _frame(compute_tree(con, todo, catalog, units, with_change=False)),
        )
        apply_change(level.unit_rows(), last, catalog)
        level.leaves = change_frame(level.leaves, last, catalog)
    return level


def _frame(levels: list[Level]) -> pd.DataFrame:
    parts = [lv.frame() for lv in levels]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ROLLUP_COLUMNS)


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
