"""The common case without a solver: one figure wrong, with the reported rates computed from it.

A reported rate that changes is recomputed from its parts (validations.catalog.kinds.rates), so
the sets worth trying first are: the rates alone (each recomputed from the parts as they are),
and one figure that is not a rate together with the rates it drags along. For that one figure
x, every other cell kept, each constraint is a set of values of x (intervals.py): a constraint
without a rate is hard; a rate's agreement with its parts holds on a set P where the rate keeps
its value, and elsewhere the rate must be recomputed (its weight added). Trying which rates
keep their value (at most a few per figure) gives every cheapest choice exactly.

Any set with two figures that are not rates weighs at least twice the lightest of them: when
the cheapest set found here weighs less, it is the answer; otherwise (or when a check of the
values found fails: a rate that other rules also read) the mixed-integer program decides.
"""

from __future__ import annotations

from itertools import combinations

from validations.catalog.kinds import Constraint
from validations.localise.intervals import INF, Span, restrict
from validations.localise.problem import Problem

TIE = 1e-9


def _ends(span: Span) -> tuple[float | None, float | None]:
    low, high = span.low, span.high
    return (None if low == -INF else low), (None if high == INF else high)


def _derived(con: Constraint, at: dict[str, float]) -> float | None:
    x = con.derive(at) if con.derive is not None else None
    return None if x is None else round(float(x), 2)


def single_figure_sets(
    problem: Problem, cells: list[str], cons: list[Constraint]
) -> tuple[list[tuple[float, tuple[str, ...], dict, frozenset[str]]], bool]:
    """The cheapest sets of one figure (and the rates it drags) or of rates alone, each as
    (weight, cells, ranges, rates recomputed from changed parts); and whether they are sure to
    be the cheapest of all sets (else the program must decide)."""
    values = problem.values
    rate_of = {c.switch: c for c in cons if c.switch is not None and c.derive is not None}
    plain = [c for c in cells if c not in rate_of]
    forced = {c for c in cells if problem.cells[c].breaks}
    broken = [c for c in cons if not c.holds(values)]
    hard_broken = [c for c in broken if c.switch not in rate_of]
    w = {c: problem.cells[c].weight for c in cells}
    found: list[tuple[float, tuple[str, ...], dict, frozenset[str]]] = []
    sound = True

    def always_hold(con: Constraint) -> bool:
        return all(lin.holds(values) for lin in con.always)

    # the rates alone, each recomputed from its parts as they are
    if not hard_broken and not (forced - set(rate_of)):
        must = [r for r, con in rate_of.items() if r in forced or not con.holds(values)]
        if must and all(always_hold(rate_of[r]) for r in must):
            trial = dict(values)
            for r in must:
                trial[r] = _derived(rate_of[r], trial) or 0.0
            if problem.holds(trial, cells):
                ranges = {r: (trial[r], trial[r]) for r in must}
                found.append((sum(w[r] for r in must), tuple(must), ranges, frozenset()))
            else:
                sound = False
    # one figure, with the rates it drags along
    for j in plain:
        if any(j not in c.cells for c in hard_broken) or (forced - set(rate_of)) - {j}:
            continue
        cell = problem.cells[j]
        hard = cell.span
        soft: list[tuple[str, Span]] = []
        must: set[str] = {r for r in forced if r in rate_of}
        ok = True
        for con in cons:
            rate = con.switch if con.switch in rate_of else None
            if j not in con.cells:
                if rate is not None and not con.holds(values):
                    if not always_hold(con):
                        ok = False
                        break
                    must.add(rate)
                continue
            for lin in con.always:
                hard &= restrict(lin, j, values, cell.integer)
            body = Span.line()
            for lin in con.parts:
                body &= restrict(lin, j, values, cell.integer)
            if rate is not None:
                if rate not in must:
                    soft.append((rate, body))
                continue
            if con.unless is not None:
                body |= restrict(con.unless, j, values, cell.integer)
            hard &= body
        if not ok:
            continue
        if cell.integer:
            hard = hard.whole()
        if hard.is_empty:
            continue
        best_here = None
        for keep in range(len(soft), -1, -1):
            for kept in combinations(range(len(soft)), keep):
                region = hard
                for k in kept:
                    region &= soft[k][1]
                if cell.integer:
                    region = region.whole()
                if region.is_empty:
                    continue
                dragged = sorted(
                    {soft[k][0] for k in range(len(soft)) if k not in kept} | must,
                    key=cells.index,
                )
                weight = w[j] + sum(w[r] for r in dragged)
                if best_here is not None and weight > best_here + TIE:
                    continue
                best_here = weight if best_here is None else min(best_here, weight)
                point = region.nearest(values[j])
                trial = dict(values)
                trial[j] = point
                for r in dragged:
                    trial[r] = _derived(rate_of[r], trial) or 0.0
                if not problem.holds(trial, cells):
                    sound = False
                    continue
                single = region.low == region.high
                ranges = {j: _ends(region)}
                for r in dragged:
                    ranges[r] = (trial[r], trial[r]) if single else (None, None)
                again = frozenset(r for r in dragged if not single and j in rate_of[r].cells)
                members = tuple(sorted([j, *dragged], key=cells.index))
                found.append((weight, members, ranges, again))
    if not found:
        return [], False
    best = min(f[0] for f in found)
    plain_w = sorted(w[c] for c in plain)
    two = plain_w[0] + plain_w[1] if len(plain_w) > 1 else INF
    cheapest = [f for f in found if f[0] <= best + TIE]
    return cheapest, sound and best < two - TIE
