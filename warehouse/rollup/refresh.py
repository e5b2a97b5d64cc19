"""Rollups are never stale: whatever changes a unit's current values re-consolidates above it.

A load that makes a new version current, or an `unapprove` that releases a held one, changes
the figures of its unit and of every unit above it, for its period and for the quarter,
half-year and year built from that month. `refresh` re-consolidates, in the caller's
transaction: the province of every changed unit for the changed period, and, where they were
already consolidated, the longer periods containing it and the same periods of the next year
(whose change vs last year reads these figures). So `rollup`, `report`, `export` and the views
show the correction at once, without a steward running `consolidate` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from validations.catalog import Catalog
from validations.period import Period, PeriodError, parse_period
from validations.units import ReferenceUnits
from warehouse.rollup.consolidation import ConsolidationResult, consolidate_many
from warehouse.rollup.scope import containing_periods


def affected(
    con: duckdb.DuckDBPyConnection,
    changes: Iterable[tuple[str | None, str | None]],
    catalog: Catalog,
    units: ReferenceUnits,
) -> dict[str, list[str]]:
    """period -> the provinces to re-consolidate for the changed (unit_code, period) pairs."""
    out: dict[str, set[str]] = {}
    for unit_code, period in changes:
        if not unit_code or not period:
            continue
        try:
            p = parse_period(period)
        except PeriodError:
            continue
        unit = units.get(unit_code, p.end(catalog.close_day))
        if unit is None:
            continue
        top = unit.province_code or unit.code
        out.setdefault(p.code, set()).add(top)
        longer = containing_periods(p)
        # next year's same periods compare with these figures ("so với cùng kỳ")
        later = [Period(q.year + 1, q.kind, q.index) for q in (p, *longer)]
        for q in (*longer, *later):
            done = con.execute(
                "SELECT count(*) FROM fct_completeness WHERE unit_code = ? AND period = ?",
                [top, q.code],
            ).fetchall()[0][0]
            if done:
                out.setdefault(q.code, set()).add(top)
    return {period: sorted(codes) for period, codes in sorted(out.items())}


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
