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
  many points, on the figure rounded as the form rounds it (2 decimals).
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


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for an indicator ("chỉ tiêu"), with where it comes from."""

    op: str
    value: float
    source: str

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
