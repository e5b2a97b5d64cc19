"""Rules as linear constraints over one submission's values (the error localisation).

A check of a kind that is linear in the values says what it demands as a `Constraint`: linear
inequalities over the indicators' values (`Linear`), which hold unless a guard says the rule
does not apply (`unless`: a conditional rule `when drug_cases > 0` does not apply where
drug_cases <= 0), or, for a reported rate, unless the rate's own cell changes (`switch`: a rate
that changes is recomputed from its parts, so only `always`, its range carried onto the parts,
binds). Every check names the Issue it reports (rule id and indicator), so a cell that explains
a constraint explains that Issue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

OPS = ("<=", ">=", "==", "<", ">")


@dataclass(frozen=True)
class Linear:
    """sum(coef * value of code) op rhs."""

    terms: tuple[tuple[str, float], ...]
    op: str
    rhs: float = 0.0

    codes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"op '{self.op}' is not one of {', '.join(OPS)}")
        object.__setattr__(self, "codes", tuple(c for c, _ in self.terms))

    def lhs(self, values: Mapping[str, float]) -> float:
        return sum(coef * values[code] for code, coef in self.terms)

    def holds(self, values: Mapping[str, float], slack: float = 1e-9) -> bool:
        """At these values, with a little slack for binary floating point."""
        d = self.lhs(values) - self.rhs
        scale = max(1.0, abs(self.rhs), *(abs(c * values[k]) for k, c in self.terms))
        eps = slack * scale
        if self.op == "<=":
            return d <= eps
        if self.op == ">=":
            return d >= -eps
        if self.op == "<":
            return d < 0
        if self.op == ">":
            return d > 0
        return abs(d) <= eps


@dataclass(frozen=True)
class Constraint:
    """What one check demands of a submission's values.

    Every `parts` holds, unless `unless` holds (the rule does not apply), and unless the cell
    `switch` changes (then `parts` no longer bind); `always` holds whatever."""

    check: str  # the check's name
    rule: str  # the rule id of the Issue it reports
    indicator: str | None  # the Issue's indicator
    parts: tuple[Linear, ...]
    unless: Linear | None = None
    switch: str | None = None
    always: tuple[Linear, ...] = ()
    # the value the switch cell takes from the others when it changes (a rate from its parts)
    derive: Callable[[Mapping[str, float]], float | None] | None = field(
        default=None, compare=False
    )

    @cached_property  # asked for each candidate correction the localisation tries
    def cells(self) -> tuple[str, ...]:
        codes: dict[str, None] = {}
        for lin in (*self.parts, *self.always, *((self.unless,) if self.unless else ())):
            codes.update(dict.fromkeys(lin.codes))
        if self.switch:
            codes[self.switch] = None
        return tuple(codes)

    def holds(self, values: Mapping[str, float]) -> bool:
        """Does it hold at these values (every cell as given, the switch unchanged)?"""
        if not all(lin.holds(values) for lin in self.always):
            return False
        if self.unless is not None and self.unless.holds(values):
            return True
        return all(lin.holds(values) for lin in self.parts)
