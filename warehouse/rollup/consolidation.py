"""Consolidating districts and provinces: compute every level, check, write, in ONE transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog, Tolerance
from validations.issue import Issue, Severity
from validations.units import ReferenceUnits
from warehouse.db import now, transaction
from warehouse.rollup.aggregation import KID_COLUMNS, rollup_frame
from warehouse.rollup.completeness import Completeness
from warehouse.rollup.computation import Level, compute_tree
from warehouse.rollup.consistency import check_consistency
from warehouse.rollup.notes import locked_units
from warehouse.rollup.notes import record as record_notes
from warehouse.rollup.plausibility import check_plausibility
from warehouse.rollup.scope import Scope, scope_of
from warehouse.rollup.writing import write_levels
from warehouse.store import pause_for_test


@dataclass
class ConsolidationResult:
    """What consolidating one unit and period wrote (children consolidated first)."""

    unit_code: str
    level: str
    period: str
    structure: str
    rows: list[dict[str, object]]
    completeness: Completeness
    issues: list[Issue]
    children: list[ConsolidationResult] = field(default_factory=list)
    lineage: list[str] = field(default_factory=list)  # submission ids read
    kept: bool = False  # locked by an approval: computed, not written (notes.py)

    @property
    def rollup(self) -> pd.DataFrame:
        """The unit's rollup rows (warehouse.rollup.ROLLUP_COLUMNS), built when first read."""
        if "_frame" not in self.__dict__:
            self.__dict__["_frame"] = rollup_frame(self.rows)
        return self.__dict__["_frame"]


def _kid_codes(s: Scope) -> list[str]:
    return [c.code for c in s.children]


def _kids_lookup(level: Level):  # type: ignore[no-untyped-def]
    """unit_code -> its children's rows of the level, built only when a check fails."""
    rows_of: dict[str, np.ndarray] | None = None

    def kids_of(code: str) -> pd.DataFrame:
        nonlocal rows_of
        kids = level.kids
        if not len(kids):
            return pd.DataFrame(columns=KID_COLUMNS)
        if rows_of is None:
            rows_of = {str(p): i for p, i in kids.groupby("parent", sort=False).indices.items()}
        at = rows_of.get(code, np.array([], dtype="int64"))
        return kids.iloc[at][KID_COLUMNS].reset_index(drop=True)

    return kids_of


def consolidate_many(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "consolidate",
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
    because: Iterable[tuple[str | None, str | None]] = (),
) -> list[ConsolidationResult]:
    """Consolidate several districts or provinces of one period (the whole country: the 63
    provinces) in ONE transaction, level by level: every district of all of them first, with a
    handful of set-based queries per level, not a handful per unit. One result per unit code,
    in order. Tolerances come from the catalog, per indicator; `abs_tol` / `rel_tol`, when
    given, replace them all for this run.

    A unit locked by an approval (itself or a unit above it, for the period or one containing
    it) is computed but never rewritten: where its figures would change, a note names the
    change (notes.py; `because`: the changed (unit, period) pairs that led here, the
    refresh's)."""
    codes = list(dict.fromkeys(unit_codes))
    scopes = [scope_of(period, code, catalog, units) for code in codes]
    override = (
        Tolerance(abs_tol or 0.0, rel_tol or 0.0)
        if abs_tol is not None or rel_tol is not None
        else None
    )
    # a unit listed with one of its ancestors is consolidated once, below that ancestor
    inside = {c.code for s in scopes for c in s.children if c.level != "C"}
    top = [s for s in scopes if s.unit.code not in inside]
    at = now()
    with transaction(con):
        levels = compute_tree(con, top, catalog, units) if top else []
        issues = [
            check_consistency(
                con,
                lv.scopes,
                catalog,
                lv.rows,
                _kids_lookup(lv),
                lv.comps,
                severity,
                history,
                override,
            )
            for lv in levels
        ]
        for lv, lv_issues in zip(levels, issues, strict=True):  # plausibility before approval
            more = check_plausibility(con, lv.scopes, catalog, lv.rows, history)
            for mine, found in zip(lv_issues, more, strict=True):
                mine.extend(found)
        tree = [c for lv in levels for s in lv.scopes for c in (s.unit.code, *_kid_codes(s))]
        keep = (
            locked_units(con, list(dict.fromkeys(tree)), period, levels[0].scopes[0].structure)
            if levels
            else set()
        )
        if keep:
            record_notes(con, levels, keep, because, catalog, units, at)
        write_levels(con, levels, issues, actor, at, keep)
        pause_for_test()  # test hook ($TONGHOP_TEST_PAUSE_IN_TXN): SIGKILL before COMMIT
    found: dict[str, ConsolidationResult] = {}
    for lv, lv_issues in zip(levels, issues, strict=True):  # lowest level first
        for s, rows, comp, unit_issues in zip(lv.scopes, lv.rows, lv.comps, lv_issues, strict=True):
            found[s.unit.code] = ConsolidationResult(
                s.unit.code,
                s.unit.level,
                s.period.code,
                s.structure,
                rows,
                comp,
                unit_issues,
                [found[c.code] for c in s.children if c.level != "C" and c.code in found],
                lv.lineage.get(s.unit.code, []),
                s.unit.code in keep,
            )
    return [found[code] for code in codes]


def consolidate(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "consolidate",
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    severity: Severity | str = Severity.WARNING,
    history: int = 12,
) -> ConsolidationResult:
    """Consolidate a district or province (its districts first, legacy structure) and write
    fct_rollup (the unit, the units below it and their communes), fct_completeness,
    fct_consolidation_issue and fct_rollup_lineage, replacing the previous consolidation of
    each (unit, period), all in ONE transaction."""
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
    )[0]


def preview(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> pd.DataFrame:
    """The rows a consolidation of (period, unit) would write for the unit, without writing.
    Outputs never show this: they read what consolidation stored (reading.read_rollup)."""
    levels = compute_tree(con, [scope_of(period, unit_code, catalog, units)], catalog, units)
    return rollup_frame(levels[-1].rows[0])
