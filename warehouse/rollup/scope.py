"""What a consolidation covers: the unit, its period, its structure and its children.

The hierarchy comes from the reference units valid at the period's closing date
(Period.end(catalog.close_day)): a district consolidates its communes; a province its districts
in the legacy three-level structure, or its communes directly in the 2025 two-level structure
(closing date >= 2025-07-01).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from validations.catalog import Catalog
from validations.crosswalk import load_crosswalk
from validations.errors import TonghopError
from validations.period import Period, PeriodError, parse_period
from validations.reform import abolished
from validations.units import ReferenceUnits, Unit, structure_on


class RollupError(TonghopError, ValueError):
    """A unit or period that cannot be consolidated (or read back)."""


@dataclass(frozen=True)
class Scope:
    """One unit and period to consolidate, with the units below it on the closing date."""

    period: Period
    closing: date
    structure: str
    unit: Unit
    children: list[Unit]


def locate(
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    error: type[Exception] = ValueError,
) -> tuple[Period, date, Unit]:
    """(period, its closing date, the unit in force then), or `error` (RollupError by default)
    saying which of the two is wrong (a unit the 2025 reform abolished: that it no longer
    exists and who took over, validations.reform)."""
    err = RollupError if error is ValueError else error
    try:
        p = parse_period(period)
    except PeriodError as exc:
        raise err(exc.reason, **exc.params) from exc
    closing = p.end(catalog.close_day)
    unit = units.get(unit_code, closing)
    if unit is None:
        gone = abolished(unit_code, p, units, catalog.close_day)
        if gone is not None:  # the 2025 reform ended it: say so, and who took over
            raise err(gone.reason, **gone.params)
        raise err("rollup.unit_not_on", unit=unit_code, closing=closing, period=p.code)
    return p, closing, unit


def scope_of(period: str, unit_code: str, catalog: Catalog, units: ReferenceUnits) -> Scope:
    """The scope of (period, unit); RollupError for a unit that does not exist then or a
    commune (nothing below it to consolidate)."""
    p, closing, unit = locate(period, unit_code, catalog, units)
    if unit.level == "C":
        raise RollupError("rollup.commune", unit=unit_code)
    return Scope(p, closing, structure_on(closing), unit, units.children(unit_code, closing))


def stale_chain(
    unit_code: str, changed: Period, period: Period, catalog: Catalog, units: ReferenceUnits
) -> list[str]:
    """The units whose consolidation of `period` a change of `unit_code` in `changed` makes
    stale, highest first: its province, its district, itself when it has units below it.
    Across the 2025 reform (a month of 2025-H1 in the year 2025 or in next year's periods,
    whose figures or comparisons read it through the crosswalk) the chain is its territory's
    now: the new province(s) of its province and, for a commune, its new commune(s)."""
    close = catalog.close_day
    unit = units.get(unit_code, changed.end(close))
    if unit is None:
        return []
    if structure_on(period.end(close)) != structure_on(changed.end(close)):
        xw = load_crosswalk(catalog.divided_communes)
        news = [x.new_code for x in xw.successors(unit.province_code) if x.share > 0]
        if unit.level == "C":
            news += [x.new_code for x in xw.successors(unit.code) if x.share > 0]
        on = period.end(close)
        return list(dict.fromkeys(c for c in news if units.get(c, on) is not None))
    unit = units.get(unit_code, period.end(close))
    if unit is None:
        return []
    chain = [unit.province_code]
    if unit.parent_code and unit.parent_code != unit.province_code:
        chain.append(unit.parent_code)
    if unit.level != "C":
        chain.append(unit.code)
    return list(dict.fromkeys(c for c in chain if c))


def previous_periods(period: Period, n: int) -> list[Period]:
    """The n periods of the same kind before `period`, most recent first."""
    per_year = {"M": 12, "Q": 4, "H": 2, "Y": 1}[period.kind]
    out = []
    idx = period.year * per_year + period.index - 1
    for k in range(1, n + 1):
        y, i = divmod(idx - k, per_year)
        out.append(Period(y, period.kind, i + 1))
    return out


def containing_periods(period: Period) -> list[Period]:
    """The quarter, half-year and year a month belongs to (built from months); none otherwise."""
    if period.kind != "M":
        return []
    m = period.index
    return [
        Period(period.year, "Q", (m - 1) // 3 + 1),
        Period(period.year, "H", (m - 1) // 6 + 1),
        Period(period.year, "Y", 1),
    ]


def same_structure(periods: list[Period], structure: str, close_day: int) -> list[Period]:
    return [p for p in periods if structure_on(p.end(close_day)) == structure]
