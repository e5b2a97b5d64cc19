"""Rollups are never stale: whatever changes a unit's current values re-consolidates above it.

A load that makes a new version current, or an `unapprove` that releases a held one, changes
the figures of its unit and of every unit above it, for its period, for the quarter, half-year
and year built from that month, and for the same periods of next year (whose change vs last
year reads these figures). `refresh` re-consolidates, in the caller's transaction, whatever of
these was consolidated: the highest consolidated unit above the change for each period. So
`rollup`, `report`, `export` and the views show the correction at once, without a steward
running `consolidate` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.period import Period, PeriodError, parse_period
from validations.units import ReferenceUnits
from warehouse.rollup.consolidation import ConsolidationResult, consolidate_many
from warehouse.rollup.notes import locked_units
from warehouse.rollup.scope import containing_periods, stale_chain


def affected(
    con: duckdb.DuckDBPyConnection,
    changes: Iterable[tuple[str | None, str | None]],
    catalog: Catalog,
    units: ReferenceUnits,
) -> dict[str, list[str]]:
    """period -> the units to re-consolidate for the changed (unit_code, period) pairs: for the
    changed period, the longer periods containing it and next year's same periods, the highest
    unit above the change that was consolidated for that period (consolidating it redoes the
    units below it). A period nobody consolidated yet stays so (`tonghop consolidate`, the
    nightly deployment or the portal's button consolidate it a first time). Two queries."""
    pairs = sorted(set(changes), key=str)
    stale: dict[str, list[Period]] = {}  # a changed period -> the periods it makes stale
    for _, period in pairs:
        if period and period not in stale:
            try:
                p = parse_period(period)
            except PeriodError:
                continue
            longer = containing_periods(p)
            stale[period] = [
                p,
                *longer,
                *(Period(q.year + 1, q.kind, q.index) for q in (p, *longer)),
            ]
    # only periods somebody consolidated can be stale (a new month's load: usually none)
    consolidated = _consolidated_periods(con, [q.code for qs in stale.values() for q in qs])
    chains: dict[tuple[int, str], list[str]] = {}  # (change number, period) -> its units
    for k, (unit_code, period) in enumerate(pairs):
        if not unit_code or period not in stale:
            continue
        changed = stale[period][0]
        for q in stale[period]:
            if q.code in consolidated:
                chain = stale_chain(unit_code, changed, q, catalog, units)
                if chain:
                    chains[(k, q.code)] = chain
    if not chains:
        return {}
    wanted = {(c, period) for (_, period), chain in chains.items() for c in chain}
    con.register("_refresh_req", pd.DataFrame(sorted(wanted), columns=["unit_code", "period"]))
    try:
        done = set(
            con.execute(
                "SELECT DISTINCT c.unit_code, c.period FROM fct_completeness c"
                " JOIN _refresh_req q USING (unit_code, period)"
            ).fetchall()
        )
    finally:
        con.unregister("_refresh_req")
    out: dict[str, set[str]] = {}
    for (_, period), chain in chains.items():
        top = next((c for c in chain if (c, period) in done), None)
        if top is not None:
            out.setdefault(period, set()).add(top)
    return {period: sorted(codes) for period, codes in sorted(out.items())}


def _consolidated_periods(con: duckdb.DuckDBPyConnection, periods: list[str]) -> set[str]:
    """Which of `periods` have been consolidated for any unit."""
    if not periods:
        return set()
    rows = con.execute(
        "SELECT DISTINCT period FROM fct_completeness WHERE period IN (SELECT unnest($p))",
        {"p": sorted(set(periods))},
    ).fetchall()
    return {r[0] for r in rows}


def refresh(
    con: duckdb.DuckDBPyConnection,
    changes: Iterable[tuple[str | None, str | None]],
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "refresh",
) -> list[ConsolidationResult]:
    """Re-consolidate what the changed (unit_code, period) pairs affect; inside the caller's
    transaction when there is one (warehouse.db.transaction joins it)."""
    changes = list(changes)
    done: list[ConsolidationResult] = []
    for period, tops in affected(con, changes, catalog, units).items():
        done += consolidate_many(con, period, tops, catalog, units, actor=actor, because=changes)
    return done


def reopened(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "refresh",
) -> list[ConsolidationResult]:
    """Consolidate again the noted periods (notes.py) that no approval locks any more (after
    an unapprove), so that the figures a note said would change are brought in and the notes
    go; inside the caller's transaction."""
    rows = con.execute(
        "SELECT DISTINCT unit_code, period, structure FROM fct_approval_note ORDER BY 1, 2"
    ).fetchall()
    if not rows:
        return []
    by_period: dict[str, list[str]] = {}
    for unit_code, period, structure in rows:
        if not locked_units(con, [unit_code], period, structure):
            by_period.setdefault(period, []).append(unit_code)
    done: list[ConsolidationResult] = []
    for period, codes in sorted(by_period.items()):
        p = parse_period(period)
        tops = set()
        for code in codes:
            chain = stale_chain(code, p, p, catalog, units)
            top = next((c for c in chain if _consolidated(con, c, period)), code)
            tops.add(top)
        done += consolidate_many(con, period, sorted(tops), catalog, units, actor=actor)
    return done


def _consolidated(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM fct_completeness WHERE unit_code = ? AND period = ?", [unit_code, period]
        ).fetchall()
    )
