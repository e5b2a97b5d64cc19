"""Which figure is wrong: the smallest weighted set of cells whose change makes every rule hold.

Fellegi and Holt (1976); R's errorlocate is the reference. The constraints come from the
catalog's rules through the registry of rule kinds (each check of a kind that is linear in the
values says what it demands: validations.catalog.kinds.linear), never written a second time;
rules that are not linear are left out here and still reported.

For each part of the form that breaks a rule (cells linked by constraints: a component):
1. one cell: every broken constraint holds that cell, so only the cells common to all of them
   can explain it alone; for each, the values it may take with every other cell kept are a
   union of intervals (validations/localise/intervals.py; no solver). When the cheapest such
   cell weighs less than any two cells of the component could, it is the answer (with every
   other cell of the same weight: "one of these two");
2. otherwise the mixed-integer program (validations/localise/program.py, SciPy's milp: HiGHS)
   finds the cheapest set, then, with that set cut off, the next ones of the same weight; each
   set's values are checked by rebuilding every constraint at them (a rate that changes is
   recomputed from its parts first), and each cell's range is its lowest and highest value with
   exactly that set changing.
Each solve is time-boxed (catalog `localisation: time_limit`), the whole submission too
(`budget`): what was found by then is said, and nothing is guessed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from validations.catalog import Catalog
from validations.catalog.kinds import Constraint, RuleCheck, catalog_checks, rule_kinds
from validations.localise.intervals import INF, Span
from validations.localise.problem import Problem, build_problem, domain_of
from validations.localise.single import single_figure_sets
from validations.localise.suspect import Suspect

if TYPE_CHECKING:
    import numpy as np

    from validations.localise.program import Program


@dataclass(frozen=True)
class Option:
    """One smallest set of cells: each cell's range (None: unbounded) and the rates among them
    recomputed from parts that change too."""

    cells: tuple[str, ...]
    ranges: dict[str, tuple[float | None, float | None]]
    recompute: frozenset[str]
    weight: float


class Localiser:
    """The catalog's linear rules, compiled once; `locate` for each rejected submission."""

    def __init__(self, catalog: Catalog, checks: Sequence[RuleCheck] | None = None):
        self.catalog = catalog
        wide = list(checks) if checks is not None else catalog_checks(catalog, "wide")
        self.checks = [c for c in wide if c.linear is not None and c.rule.severity == "error"]
        self.long = [
            (rule, kind)
            for kind in rule_kinds("long").values()
            for rule in catalog.rules_of_kind(kind.name)
            if rule.severity == "error" and kind.bounds is not None
        ]
        self.domains = {c: domain_of(i, self.long) for c, i in catalog.indicators.items()}
        # the rules the localisation speaks for: an Issue of another rule is left alone
        self.rules = {c.rule.id for c in self.checks} | {r.id for r, _ in self.long}

    def problem(
        self, values: Mapping[str, float], history: Mapping[str, float] | None = None
    ) -> Problem:
        return build_problem(values, self.catalog, self.checks, self.domains, history)

    def locate(
        self,
        values: Mapping[str, float],
        locations: Mapping[str, str] | None = None,
        issues: Sequence[tuple[str, str | None]] | None = None,
        history: Mapping[str, float] | None = None,
    ) -> list[Suspect]:
        """The suspects of one submission: `values` its present values (indicator -> value),
        `locations` where each is, `issues` the (rule id, indicator) of the Issues reported (the
        ones a suspect explains; all broken constraints when None), `history` each
        indicator's usual value for the unit (a value that matches it weighs more)."""
        settings = self.catalog.localisation
        deadline = time.perf_counter() + settings.budget
        problem = self.problem(values, history)
        out: list[Suspect] = []
        group = 0
        for cells, cons in problem.components():
            options = self.options(problem, cells, cons, deadline)
            if not options:
                continue
            if history and len(options) > 1:
                options = self.back_to_usual(options, history)
            group += 1
            items = [
                (c.rule, c.indicator, set(c.cells)) for c in cons if not c.holds(problem.values)
            ]
            items += [(r, code, {code}) for code in cells for r, code in problem.cells[code].breaks]
            if issues is not None:
                order = {key: n for n, key in reversed(list(enumerate(issues)))}
                items = sorted(
                    (it for it in items if (it[0], it[1]) in order),
                    key=lambda it: order[(it[0], it[1])],
                )
            for k, opt in enumerate(options, 1):
                mine: dict[str, list[tuple[str, str | None]]] = {c: [] for c in opt.cells}
                for rule, ind, its in items:
                    first = next((c for c in opt.cells if c in its), None)
                    if first is not None and (rule, ind) not in mine[first]:
                        mine[first].append((rule, ind))
                for code in opt.cells:
                    ind = self.catalog.indicators[code]
                    low, high = opt.ranges.get(code, (None, None))
                    if high is not None and ind.ceiling is not None and high >= ind.ceiling:
                        high = None  # the largest plausible value is no answer
                    if not problem.cells[code].integer and ind.kind != "rate":
                        low, high = _hundredths(low, high)
                    out.append(
                        Suspect(
                            indicator=code,
                            label_vi=ind.label_vi,
                            label_en=ind.label_en,
                            location=(locations or {}).get(code),
                            value=problem.values[code],
                            low=low,
                            high=high,
                            explains=tuple(mine[code]),
                            group=group,
                            option=k,
                            options=len(options),
                            recompute=code in opt.recompute,
                            weight=problem.cells[code].weight,
                        )
                    )
        return out

    def back_to_usual(self, options: list[Option], history: Mapping[str, float]) -> list[Option]:
        """Of equally small sets, the ones whose corrected values all fall back within the
        unit's usual range (catalog `history: ratio`), when some do and others do not: the
        slip is more likely the figure ten times its usual size than its neighbour."""
        settings = self.catalog.localisation

        def usual(opt: Option) -> bool:
            for code in opt.cells:
                if code in opt.recompute or code not in history:
                    continue
                low, high = opt.ranges.get(code, (None, None))
                lo = -INF if low is None else low
                hi = INF if high is None else high
                x = min(max(history[code], lo), hi)  # the corrected value nearest the usual
                if not settings.matches(x, history[code]):
                    return False
            return True

        back = [o for o in options if usual(o)]
        return back if back else options

    # --- the smallest sets ----------------------------------------------------------------------
    def options(
        self, problem: Problem, cells: list[str], cons: list[Constraint], deadline: float
    ) -> list[Option]:
        """The smallest weighted sets of cells of one component whose change makes every
        constraint and domain of it hold (several when they weigh the same), each with its
        cells' ranges."""
        limit = self.catalog.localisation.alternatives
        found, sure = single_figure_sets(problem, cells, cons)
        if sure:
            return [Option(m, ranges, again, w) for w, m, ranges, again in found][:limit]
        if time.perf_counter() >= deadline:
            return []
        return self._program(problem, cells, cons, deadline, limit)

    def _program(
        self,
        problem: Problem,
        cells: list[str],
        cons: list[Constraint],
        deadline: float,
        limit: int,
    ) -> list[Option]:
        # SciPy's optimisers take 0.4 s to import: only a form that one cell cannot explain
        # pays it (never an accepted file, nor most rejected ones), and not out of its budget
        # (on a loaded machine the first such form of a process found no suspects)
        started = time.perf_counter()
        from validations.localise import program as mip

        deadline += time.perf_counter() - started
        prog = mip.build(problem, cells, cons)
        if prog is None:
            return []
        settings = self.catalog.localisation
        options: list[Option] = []
        cuts: list[tuple[list[int], bool]] = []
        best = None
        tries = 0
        while len(options) < limit and tries < limit + 5:
            tries += 1
            left = mip.time_left(deadline)
            if left <= 0:
                break
            x = mip.solve(prog, cuts=cuts, time_limit=min(settings.time_limit, left))
            if x is None:
                break
            changed = mip.changed(prog, x)
            if not changed:
                break
            weight = float(sum(prog.weights[i] for i in changed))
            if best is not None and weight > best + 1e-6:
                break
            opt = self._checked(problem, prog, cells, changed, x, deadline)
            if opt is None:
                # a switch left a hair above 0 (the solver's integrality tolerance) relaxed a
                # rule: that very set is cut off, a larger one may still do
                cuts.append((changed, True))
                continue
            cuts.append((changed, False))  # no set holding it is smallest any more
            best = weight if best is None else best
            options.append(opt)
        return options

    def _checked(
        self,
        problem: Problem,
        prog: Program,
        cells: list[str],
        changed: list[int],
        x: np.ndarray,
        deadline: float,
    ) -> Option | None:
        """A solution's set as an Option, once its values are checked against every rule."""
        from validations.localise import program as mip  # loaded already: SciPy (see _program)

        codes = [prog.codes[i] for i in changed]
        trial = dict(problem.values)
        for i in changed:
            v = float(x[i])
            trial[prog.codes[i]] = float(round(v)) if prog.whole[i] else v
        recompute: set[str] = set()
        for con in problem.rebuild(trial):
            if con.switch in codes and con.derive is not None:
                parts_changed = any(c in codes for c in con.cells if c != con.switch)
                d = con.derive(trial)
                if d is not None and math.isfinite(d):
                    trial[con.switch] = round(d, 2)
                    if parts_changed:
                        recompute.add(con.switch)
        if not problem.holds(trial, cells):
            return None
        ranges: dict[str, tuple[float | None, float | None]] = {}
        settings = self.catalog.localisation
        for i in changed:
            code = prog.codes[i]
            if code in recompute:
                ranges[code] = (None, None)
            elif any(c.switch == code and c.derive is not None for c in problem.constraints):
                ranges[code] = (trial[code], trial[code])
            elif len(changed) == 1:
                span, _ = problem.one_cell(code, cells, problem.constraints)
                ranges[code] = _ends(span) if not span.is_empty else (trial[code], trial[code])
            else:
                left = mip.time_left(deadline)
                if left <= 0:
                    ranges[code] = (None, None)
                    continue
                ranges[code] = mip.extent(prog, changed, i, min(settings.time_limit, left))
        weight = float(sum(prog.weights[i] for i in changed))
        return Option(tuple(codes), ranges, frozenset(recompute), weight)


def _hundredths(low: float | None, high: float | None) -> tuple[float | None, float | None]:
    """A decimal's range as the form writes it (two decimals), rounded inwards so that every
    value shown fits; unchanged when that leaves nothing."""
    lo = None if low is None else math.ceil(round(low * 100, 6)) / 100
    hi = None if high is None else math.floor(round(high * 100, 6)) / 100
    if lo is not None and hi is not None and lo > hi:
        return low, high
    return lo, hi


def _ends(span: Span) -> tuple[float | None, float | None]:
    low, high = span.low, span.high
    return (None if low == -INF else low), (None if high == INF else high)
