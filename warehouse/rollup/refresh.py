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
import pandas as pd

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
    """period -> the provinces to re-consolidate for the changed (unit_code, period) pairs:
    the changed period always; the longer periods containing it and next year's same periods
    only where they were consolidated already (one query for all of them)."""
    tops: dict[str, set[str]] = {}  # changed period -> provinces
    for unit_code, period in set(changes):
        if not unit_code or not period:
            continue
        try:
            p = parse_period(period)
        except PeriodError:
            continue
        unit = units.get(unit_code, p.end(catalog.close_day))
        if unit is not None:
            tops.setdefault(p.code, set()).add(unit.province_code or unit.code)
    out = {period: set(codes) for period, codes in tops.items()}
    maybe = []
    for period, codes in tops.items():
        p = parse_period(period)
        longer = containing_periods(p)
        later = [Period(q.year + 1, q.kind, q.index) for q in (p, *longer)]
        maybe += [(top, q.code) for q in (*longer, *later) for top in codes]
    if maybe:
        req = pd.DataFrame(maybe, columns=["unit_code", "period"]).drop_duplicates()
        con.register("_refresh_req", req)
        try:
            done = con.execute(
                "SELECT DISTINCT c.unit_code, c.period FROM fct_completeness c"
                " JOIN _refresh_req q USING (unit_code, period)"
            ).fetchall()
        finally:
            con.unregister("_refresh_req")
        for top, period in done:
            out.setdefault(period, set()).add(top)
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
