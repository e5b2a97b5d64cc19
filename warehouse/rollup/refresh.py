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
from warehouse.rollup.scope import containing_periods


def _chain(unit_code: str, period: Period, catalog: Catalog, units: ReferenceUnits) -> list[str]:
    """The units whose consolidation a change of `unit_code` in `period` makes stale, highest
    first: its province, its district, itself when it has units below it."""
    unit = units.get(unit_code, period.end(catalog.close_day))
    if unit is None:
        return []
    chain = [unit.province_code]
    if unit.parent_code and unit.parent_code != unit.province_code:
        chain.append(unit.parent_code)
    if unit.level != "C":
        chain.append(unit.code)
    return list(dict.fromkeys(c for c in chain if c))


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
        for q in stale[period]:
            if q.code in consolidated:
                chain = _chain(unit_code, q, catalog, units)
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
    done: list[ConsolidationResult] = []
    for period, tops in affected(con, changes, catalog, units).items():
        done += consolidate_many(con, period, tops, catalog, units, actor=actor)
    return done
