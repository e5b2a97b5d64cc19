"""One submission's error-localisation problem: its cells (value, domain, weight), the linear
constraints its rules demand, which of them its values break, and the parts that can be solved
apart (components: cells linked by constraints)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from validations.catalog import Catalog, Indicator
from validations.catalog.kinds import Constraint, RuleCheck, RuleKind
from validations.catalog.model import Rule
from validations.localise.intervals import INF, Span, restrict


@dataclass
class Cell:
    """One reported value: its domain (what the domain rules allow), whether it is whole, the
    weight of changing it, and the domain rules its value breaks (rule id, indicator)."""

    code: str
    value: float
    span: Span
    integer: bool
    weight: float
    breaks: list[tuple[str, str]] = field(default_factory=list)

    def allows(self, x: float) -> bool:
        if self.integer and not float(x).is_integer():
            return False
        return any(a <= x <= b for a, b in self.span.parts)


@dataclass
class Problem:
    """The cells and constraints of one submission (the cells of every present value)."""

    values: dict[str, float]
    cells: dict[str, Cell]
    constraints: list[Constraint]
    rebuild: Callable[[Mapping[str, float]], list[Constraint]]  # the constraints at other values

    @property
    def violated(self) -> list[Constraint]:
        return [c for c in self.constraints if not c.holds(self.values)]

    def holds(self, values: Mapping[str, float], cells: list[str] | None = None) -> bool:
        """Do these values satisfy every domain and every constraint of these cells (all by
        default), the constraints rebuilt at them (a rate that changed binds its parts at its
        new value)?"""
        mine = set(self.cells if cells is None else cells)
        for code in mine:
            if not self.cells[code].allows(values[code]):
                return False
        return all(c.holds(values) for c in self.rebuild(values) if mine.intersection(c.cells))

    def components(self) -> list[tuple[list[str], list[Constraint]]]:
        """The groups of cells linked by constraints that hold a broken rule or domain, each
        with its constraints, in the order of the form."""
        parent = {c: c for c in self.cells}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for con in self.constraints:
            cells = [c for c in con.cells if c in parent]
            for other in cells[1:]:
                parent[find(other)] = find(cells[0])
        broken = {find(c) for c, cell in self.cells.items() if cell.breaks}
        broken |= {find(con.cells[0]) for con in self.violated if con.cells}
        out: dict[str, tuple[list[str], list[Constraint]]] = {}
        for code in self.cells:
            root = find(code)
            if root in broken:
                out.setdefault(root, ([], []))[0].append(code)
        for con in self.constraints:
            root = find(con.cells[0]) if con.cells else None
            if root in out:
                out[root][1].append(con)
        return list(out.values())

    def one_cell(
        self, code: str, cells: list[str], constraints: list[Constraint]
    ) -> tuple[Span, float | None]:
        """Where one cell may go with every other cell at its value: the set of its values that
        satisfy every constraint, and, for a rate recomputed from its parts, that value."""
        cell = self.cells[code]
        derived = None
        span = cell.span
        for con in constraints:
            if code not in con.cells:
                continue
            if con.switch == code and con.derive is not None:
                x = con.derive(self.values)
                if x is None or not math.isfinite(x):
                    return Span.empty(), None
                derived = round(x, 2)
                continue
            part = Span.line()
            for lin in con.always:
                part &= restrict(lin, code, self.values, cell.integer)
            body = Span.line()
            for lin in con.parts:
                body &= restrict(lin, code, self.values, cell.integer)
            if con.unless is not None:
                body |= restrict(con.unless, code, self.values, cell.integer)
            span &= part & body
        if cell.integer:
            span = span.whole()
        if derived is not None:
            if not any(a <= derived <= b for a, b in span.parts):
                return Span.empty(), None
            trial = dict(self.values)
            trial[code] = derived
            if not self.holds(trial, cells):
                return Span.empty(), None
            return Span.between(derived, derived), derived
        return span, None


@dataclass(frozen=True)
class Domain:
    """An indicator's domain from the domain rules (error severity): the set of its values,
    whether they are whole, and each rule's bounds (to name the ones a value breaks)."""

    span: Span
    integer: bool
    bounds: tuple[tuple[str, float, float, bool], ...]  # rule id, low, high, whole

    def breaks(self, code: str, value: float) -> list[tuple[str, str]]:
        return [
            (rule, code)
            for rule, lo, hi, whole in self.bounds
            if not lo <= value <= hi or (whole and not float(value).is_integer())
        ]


def domain_of(ind: Indicator, long_kinds: list[tuple[Rule, RuleKind]]) -> Domain:
    span = Span.line()
    integer = False
    bounds = []
    for rule, kind in long_kinds:
        b = kind.bounds(ind) if kind.bounds else None
        if b is None:
            continue
        lo = -INF if b.low is None else float(b.low)
        hi = INF if b.high is None else float(b.high)
        span &= Span.between(lo, hi)
        integer = integer or b.integer
        bounds.append((rule.id, lo, hi, b.integer))
    return Domain(span, integer, tuple(bounds))


def build_problem(
    values: Mapping[str, float],
    catalog: Catalog,
    checks: list[RuleCheck],
    domains: Mapping[str, Domain],
    history: Mapping[str, float] | None = None,
) -> Problem:
    """The problem of one submission's present values (indicator -> value)."""
    settings = catalog.localisation
    vals = {k: float(v) for k, v in values.items() if k in catalog.indicators and math.isfinite(v)}
    cells = {}
    for code, x in vals.items():
        ind = catalog.indicators[code]
        dom = domains[code]
        weight = settings.weight(code, ind.kind)
        usual = (history or {}).get(code)
        if usual is not None and settings.matches(x, usual):
            weight *= settings.history_factor
        cells[code] = Cell(code, x, dom.span, dom.integer, weight, dom.breaks(code, x))

    def rebuild(at: Mapping[str, float]) -> list[Constraint]:
        out = []
        for check in checks:
            con = check.linear(at) if check.linear else None
            if con is not None:
                out.append(con)
        return out

    return Problem(vals, cells, rebuild(vals), rebuild)
