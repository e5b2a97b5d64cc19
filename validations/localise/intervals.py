"""Sets of numbers one cell may take when every other cell keeps its value: unions of closed
intervals, from the linear constraints restricted to that one cell (no solver needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from validations.catalog.kinds import Linear

INF = math.inf
REL = 1e-9  # the slack Linear.holds allows, relative to the figures compared


@dataclass(frozen=True)
class Span:
    """A union of disjoint closed intervals, sorted (empty: no interval)."""

    parts: tuple[tuple[float, float], ...]

    @staticmethod
    def line() -> Span:
        return Span(((-INF, INF),))

    @staticmethod
    def empty() -> Span:
        return Span(())

    @staticmethod
    def between(low: float, high: float) -> Span:
        return Span(((low, high),)) if low <= high else Span(())

    @property
    def is_empty(self) -> bool:
        return not self.parts

    def __and__(self, other: Span) -> Span:
        out = []
        for a, b in self.parts:
            for c, d in other.parts:
                lo, hi = max(a, c), min(b, d)
                if lo <= hi:
                    out.append((lo, hi))
        return Span(tuple(sorted(out)))

    def __or__(self, other: Span) -> Span:
        merged: list[tuple[float, float]] = []
        for lo, hi in sorted(self.parts + other.parts):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return Span(tuple(merged))

    def whole(self) -> Span:
        """Its whole numbers (each interval shrunk to whole ends)."""
        out = []
        for a, b in self.parts:
            lo = a if a == -INF else math.ceil(a - 1e-9 * max(1.0, abs(a)))
            hi = b if b == INF else math.floor(b + 1e-9 * max(1.0, abs(b)))
            if lo <= hi:
                out.append((float(lo), float(hi)))
        return Span(tuple(out))

    @property
    def low(self) -> float:
        return self.parts[0][0]

    @property
    def high(self) -> float:
        return self.parts[-1][1]

    def nearest(self, x: float) -> float:
        """The point of the set nearest to x (the set is not empty)."""
        best, gap = self.parts[0][0], INF
        for a, b in self.parts:
            p = min(max(x, a), b)
            if abs(p - x) < gap:
                best, gap = p, abs(p - x)
        return best


def restrict(lin: Linear, cell: str, values: Mapping[str, float], integer: bool) -> Span:
    """Where `lin` holds as a function of `cell` alone, the other cells at their values."""
    a = 0.0
    rest = 0.0
    scale = max(1.0, abs(lin.rhs))
    for code, coef in lin.terms:
        if code == cell:
            a += coef
        else:
            rest += coef * values[code]
            scale = max(scale, abs(coef * values[code]))
    if a == 0:
        return Span.line() if lin.holds(values) else Span.empty()
    t = (lin.rhs - rest) / a
    op = lin.op
    if a < 0:
        op = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "=="}[op]
    if op == "==":
        eps = REL * scale / abs(a)
        return Span.between(t - eps, t + eps)
    # the end itself is in (the checks allow binary floating-point noise beyond it); a strict
    # inequality leaves it out: the next whole number, or a hair inside
    hair = REL * max(1.0, abs(t))
    if op == "<=":
        return Span.between(-INF, t)
    if op == "<":
        return Span.between(-INF, (math.ceil(t - hair) - 1) if integer else t - hair)
    if op == ">=":
        return Span.between(t, INF)
    return Span.between((math.floor(t + hair) + 1) if integer else t + hair, INF)
