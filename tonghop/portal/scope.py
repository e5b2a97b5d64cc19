"""Unit isolation: a user sees and acts only on its own unit and the units below it.

"Below" is read in the structure in force for the period at hand (a district's communes until
2025-06; from 2025-07 communes belong to the province), exactly as an inbox sender may deliver
(validations.authority.may_deliver): one rule for the inbox and the portal.
"""

from __future__ import annotations

from datetime import date

from validations.authority import may_deliver
from validations.period import Period, PeriodError, parse_period
from validations.units import ReferenceUnits, Unit


class OutOfScope(PermissionError):
    """The unit is not the user's own nor below it (the pages answer 403)."""


class Scope:
    """Which units a user's unit covers, period by period."""

    def __init__(self, units: ReferenceUnits, close_day: int):
        self.units = units
        self.close_day = close_day
        self._everywhere: dict[str, tuple[str, ...]] = {}

    def day(self, period: str | Period) -> date:
        p = period if isinstance(period, Period) else parse_period(period)
        return p.end(self.close_day)

    def allows(self, own_unit: str, unit_code: str | None, period: str | None) -> bool:
        """Whether `own_unit` covers `unit_code` in the period's structure."""
        if not unit_code:
            return False
        if unit_code == own_unit:
            return True
        try:
            if period:
                parse_period(period)
        except PeriodError:
            return False
        return may_deliver(own_unit, unit_code, period, self.units, self.close_day)

    def require(self, own_unit: str, unit_code: str | None, period: str | None) -> None:
        if not self.allows(own_unit, unit_code, period):
            raise OutOfScope(unit_code or "?")

    def unit(self, code: str, period: str | Period) -> Unit | None:
        return self.units.get(code, self.day(period))

    def tree(self, code: str, period: str | Period) -> list[Unit]:
        """The unit and every unit below it, in the period's structure (parents first)."""
        on = self.day(period)
        top = self.units.get(code, on)
        if top is None:
            return []
        out, todo = [], [top]
        while todo:
            u = todo.pop(0)
            out.append(u)
            todo.extend(self.units.children(u.code, on))
        return out

    def codes(self, code: str, period: str | Period) -> list[str]:
        return [u.code for u in self.tree(code, period)]

    def everywhere(self, code: str) -> tuple[str, ...]:
        """The unit and every unit below it in any structure (what its audit trail covers)."""
        found = self._everywhere.get(code)
        if found is None:
            below = {
                u.code for u in self.units.units if code in (u.code, u.parent_code, u.province_code)
            }
            found = self._everywhere[code] = tuple(sorted(below | {code}))
        return found
