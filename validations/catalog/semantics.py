"""What an indicator's figures mean, as computations: the one home of every formula.

Each object here is data from the catalog that also knows how to compute with it, in Python
(scalars), in NumPy/pandas (whole columns at once) and, where the warehouse needs it, as a SQL
twin. Rules, rollups, the quality suite, the summary, the sample generator and the benchmark
all call these; none writes a rate, a tolerance or an attainment again.

- `Formula`: how a rate follows from its parts. `ratio`: 100 * n / d (clearance rate = solved /
  cases); `change`: 100 * (n - d) / d (change vs the same period last year). No value when the
  denominator is 0 or a part is missing.
- `Tolerance`: how far two figures that should agree may differ: max(abs, rel * |reference|),
  plus binary floating-point noise (1e-9 relative: 1453.1 vs 1453.1000000000001, or a rate
  that is exactly half a hundredth off its rounding).
- `Target`: a goal ("chỉ tiêu") and how a figure attains it: reached / exceeded / missed, by how
  many points, on the figure rounded as the form rounds it (2 decimals); its horizon (the
  year, usually) and how a shorter period is judged (`interim`: not at all, on the same value,
  or pro rata of the horizon's months).
- `OverTime`: how a figure of a longer period follows from its months: `flow` (the sum),
  `stock` (the value at the period's closing date: the last month's), `derived` (rates:
  recomputed from their parts, never summed or averaged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np

FLOAT_EPS = 1e-9  # relative: far below any figure the form can express
DECIMALS = 2  # the form rounds rates (and the summary shows figures) to two decimals

N = TypeVar("N", float, np.ndarray)


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


class Formula(StrEnum):
    """How a rate is computed from its numerator n and denominator d."""

    RATIO = "ratio"  # 100 * n / d
    CHANGE = "change"  # 100 * (n - d) / d

    def _apply(self, n: N, d: N) -> N:
        top = n - d if self is Formula.CHANGE else n
        return 100.0 * top / d

    def of(self, n: object, d: object) -> float | None:
        """The rate of two scalars; None when a part is missing or the denominator is 0."""
        if _missing(n) or _missing(d) or float(d) == 0:  # type: ignore[arg-type]
            return None
        return float(self._apply(float(n), float(d)))  # type: ignore[arg-type]

    def array(self, n: Any, d: Any) -> np.ndarray:
        """The rate of whole columns (arrays or Series); NaN where d is 0 or a part missing."""
        nn = np.asarray(n, dtype="float64")
        dd = np.asarray(d, dtype="float64")
        ok = ~np.isnan(nn) & ~np.isnan(dd) & (dd != 0)
        safe = np.where(ok, dd, 1.0)
        return np.where(ok, self._apply(nn, safe), np.nan)

    def sql(self, n: str, d: str) -> str:
        """The SQL twin: an expression over the SQL expressions n and d (NULL when d is 0)."""
        top = f"(({n}) - ({d}))" if self is Formula.CHANGE else f"({n})"
        return f"(100.0 * {top} / nullif({d}, 0))"


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far a figure may depart from the figure it must agree with."""

    abs: float = 0.0
    rel: float = 0.0

    def limit(self, reference: float) -> float:
        ref = abs(float(reference))
        return max(self.abs, self.rel * ref) + FLOAT_EPS * max(1.0, ref)

    def allows(self, value: float, reference: float) -> bool:
        """|value - reference| within the limit."""
        return abs(float(value) - float(reference)) <= self.limit(reference)

    def allows_array(self, value: Any, reference: Any) -> np.ndarray:
        v = np.asarray(value, dtype="float64")
        r = np.asarray(reference, dtype="float64")
        ar = np.abs(r)
        lim = np.maximum(self.abs, self.rel * ar) + FLOAT_EPS * np.maximum(1.0, ar)
        return np.abs(v - r) <= lim

    def text(self) -> str:
        parts = []
        if self.abs:
            parts.append(f"± {self.abs:g}")
        if self.rel:
            parts.append(f"± {100 * self.rel:g}%")
        return " / ".join(parts) or "exact"


@dataclass(frozen=True, slots=True)
class PlausibleChange:
    """How far a figure may move from its reference (the same territory last year, or its own
    history) before it is implausible: more than `ratio` times the reference or less than its
    1/ratio (ratio 2: a rise above 100 % or a fall beyond 50 %), and by more than `abs` in the
    indicator's unit (small counts move a lot: 2 -> 9 cases is not a warning). A ratio, not a
    symmetric percentage: a fall can never exceed 100 %, so "more than 50 % either way" would
    flag a doubling and a halving alike but never tell a 96 % collapse from a halving."""

    ratio: float = 2.0
    abs: float = 0.0

    def allows(self, value: float, reference: float) -> bool:
        v, r = float(value), float(reference)
        if abs(v - r) <= self.abs + FLOAT_EPS * max(1.0, abs(r)):
            return True
        lo, hi = sorted((abs(v), abs(r)))
        return lo > 0 and hi <= self.ratio * lo * (1 + FLOAT_EPS)

    def text(self) -> str:
        return f"x{self.ratio:g} or /{self.ratio:g}, > {self.abs:g}"


OPS = {"<=", ">=", "<", ">", "=="}


def compare(a: Any, op: str, b: Any) -> Any:
    """a op b, for numbers or NumPy arrays."""
    return {
        "<=": a <= b,
        ">=": a >= b,
        "<": a < b,
        ">": a > b,
        "==": a == b,
    }[op]


HORIZONS = {"year": "Y", "half": "H", "quarter": "Q", "month": "M"}  # catalog word -> period kind
KIND_MONTHS = {"M": 1, "Q": 3, "H": 6, "Y": 12}
INTERIMS = ("none", "same", "pro_rata")


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for an indicator ("chỉ tiêu"), with where it comes from.

    `horizon` is the kind of period the goal is set for ("Y": a year's goal, the usual case);
    `interim` says how a period of another length is judged: "none" (only on its horizon: a
    yearly 30 % of wanted persons surrendering says nothing of one month), "same" (the same
    value: a clearance rate of 75 % holds for a month as for the year) or "pro_rata" (the value
    times the period's months over the horizon's: 30 % a year is 15 % a half-year)."""

    op: str
    value: float
    source: str
    horizon: str = "Y"
    interim: str = "none"

    def for_period(self, kind: str) -> Target | None:
        """The goal a period of that kind ("M", "Q", "H", "Y") is judged against; None when the
        target does not judge such a period."""
        if kind == self.horizon or self.interim == "same":
            return self
        if self.interim == "pro_rata":
            scaled = round(self.value * KIND_MONTHS[kind] / KIND_MONTHS[self.horizon], DECIMALS)
            return Target(self.op, scaled, self.source, kind, "none")
        return None

    def reached(self, value: float) -> bool:
        return compare(value, self.op, self.value)

    def attainment(self, value: object) -> tuple[str | None, float | None]:
        """reached / exceeded / missed and by how many points (value rounded to 2 decimals).

        92.86 with target >= 75 -> ("exceeded", 17.86); -9.25 with target <= -5 ->
        ("exceeded", 4.25); 15 with target < 15 -> ("missed", 0.0)."""
        if _missing(value):
            return None, None
        states, points = self.attainment_array(np.array([float(value)]))  # type: ignore[arg-type]
        return states[0], float(points[0])

    def attainment_array(self, values: Any) -> tuple[np.ndarray, np.ndarray]:
        """The same for a whole column: (states, points); None and NaN where no value."""
        v = np.round(np.asarray(values, dtype="float64"), DECIMALS)
        diff = np.round(np.abs(v - self.value), DECIMALS)
        with np.errstate(invalid="ignore"):
            reached = compare(v, self.op, self.value)  # type: ignore[arg-type]
        exact = (diff == 0) | (self.op == "==")
        states = np.where(~reached, "missed", np.where(exact, "reached", "exceeded")).astype(object)
        points = np.where(reached & exact, 0.0, diff)
        missing = np.isnan(v)
        states[missing] = None
        points[missing] = np.nan
        return states, points

    def text(self) -> str:
        return f"{self.op} {self.value:g}"


class OverTime(StrEnum):
    """How a figure of a quarter, half-year or year follows from its months."""

    FLOW = "flow"  # happens during the period: the sum of the months
    STOCK = "stock"  # counted at a date: the value at the closing date (the last month's)
    DERIVED = "derived"  # a rate: recomputed from its parts' figures for the period
