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
from validations.errors import TonghopError
from validations.period import Period, PeriodError, parse_period
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
    saying which of the two is wrong."""
    err = RollupError if error is ValueError else error
    try:
        p = parse_period(period)
    except PeriodError as exc:
        raise err(exc.reason, **exc.params) from exc
    closing = p.end(catalog.close_day)
    unit = units.get(unit_code, closing)
    if unit is None:
        raise err("rollup.unit_not_on", unit=unit_code, closing=closing, period=p.code)
    return p, closing, unit


def scope_of(period: str, unit_code: str, catalog: Catalog, units: ReferenceUnits) -> Scope:
    """The scope of (period, unit); RollupError for a unit that does not exist then or a
    commune (nothing below it to consolidate)."""
    p, closing, unit = locate(period, unit_code, catalog, units)
    if unit.level == "C":
        raise RollupError("rollup.commune", unit=unit_code)
    return Scope(p, closing, structure_on(closing), unit, units.children(unit_code, closing))


def previous_periods(period: Period, n: int) -> list[Period]:
    """The n periods of the same kind before `period`, most recent first."""
    per_year = {"M": 12, "Q": 4, "H": 2, "Y": 1}[period.kind]
    out = []
    idx = period.year * per_year + period.index - 1
    for k in range(1, n + 1):
        y, i = divmod(idx - k, per_year)
        out.append(Period(y, period.kind, i + 1))
    return out


def buildable_months(period: Period, close_day: int) -> list[str]:
    """The months a multi-month period can be built from: none for a month, and none when the
    period straddles the 2025 reform (a code may name another commune before and after it)."""
    if period.kind == "M":
        return []
    own = structure_on(period.end(close_day))
    months = period.month_codes()
    if any(structure_on(parse_period(m).end(close_day)) != own for m in months):
        return []
    return months


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
