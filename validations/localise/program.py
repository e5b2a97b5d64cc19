"""The mixed-integer program of one component, solved by HiGHS through SciPy's `milp`.

Fellegi-Holt as R's errorlocate writes it: each cell j has its value x_j (whole for counts and
flags) and a switch d_j in {0, 1} that lets it leave its reported value v_j:
|x_j - v_j| <= M_j d_j; the objective is the sum of w_j d_j (the catalog's weights). Every
constraint of the component holds, in "<=" form, each relaxed by big M where it may not bind:
- a conditional rule (`unless`: where its guard is false it does not apply) takes a switch z:
  parts <= b + M z and guard-is-false <= h + M (1 - z);
- a reported rate's agreement with its parts binds while the rate cell keeps its value:
  parts <= b + M d_rate (the parts were written with the reported rate; once the rate changes
  it is recomputed from the parts, so only its range, carried onto them, binds: `always`).
Each M is the largest the row's left side can be over the cells' boxes (domain, and within
|v_j| + 100 x the component's largest figure + 1,000 of the reported value: a slip of two
digits is found, and a correction is a figure of the form's own size), so no M is larger than needed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from validations.catalog.kinds import Constraint, Linear
from validations.localise.problem import Problem

CHANGED = 1e-6  # relative: a cell whose value moved more than this changed


@dataclass
class Program:
    """The program's data: cells, boxes, weights, and its rows (coefficients, upper bound)."""

    codes: list[str]
    x0: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    whole: np.ndarray
    weights: np.ndarray
    forced: np.ndarray
    n_guards: int
    rows: list[tuple[np.ndarray, float]]
    free_lo: np.ndarray  # the lower end of the box is the reach, not the domain: unbounded
    free_hi: np.ndarray

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def size(self) -> int:
        return 2 * self.n + self.n_guards


def build(problem: Problem, cells: list[str], constraints: list[Constraint]) -> Program | None:
    """The program of one component (None when a cell's domain leaves it nowhere to go)."""
    idx = {c: i for i, c in enumerate(cells)}
    n = len(cells)
    x0 = np.array([problem.cells[c].value for c in cells])
    big = float(np.max(np.abs(x0))) if n else 0.0
    reach = np.abs(x0) + 100.0 * big + 1000.0
    lo = x0 - reach
    hi = x0 + reach
    free_lo = np.ones(n, dtype=bool)
    free_hi = np.ones(n, dtype=bool)
    for i, c in enumerate(cells):
        span = problem.cells[c].span
        if span.is_empty:
            return None
        if span.low >= lo[i]:
            lo[i], free_lo[i] = span.low, False
        if span.high <= hi[i]:
            hi[i], free_hi[i] = span.high, False
        if problem.cells[c].integer:
            lo[i], hi[i] = math.ceil(lo[i]), math.floor(hi[i])
        if lo[i] > hi[i]:
            return None
    whole = np.array([problem.cells[c].integer for c in cells])
    weights = np.array([problem.cells[c].weight for c in cells])
    forced = np.array([bool(problem.cells[c].breaks) for c in cells])
    guards = [con for con in constraints if con.unless is not None]
    g_of = {id(con): 2 * n + k for k, con in enumerate(guards)}
    size = 2 * n + len(guards)
    rows: list[tuple[np.ndarray, float]] = []

    def le_rows(lin: Linear) -> list[tuple[np.ndarray, float]]:
        """`lin` as rows a.x <= b over the program's variables."""
        a = np.zeros(size)
        for code, coef in lin.terms:
            a[idx[code]] += coef
        b = float(lin.rhs)
        cells_whole = all(whole[idx[c]] for c, _ in lin.terms) and all(
            float(k).is_integer() for _, k in lin.terms
        )
        eps = 1.0 if cells_whole and b.is_integer() else 1e-6 * max(1.0, abs(b))
        return {
            "<=": [(a, b)],
            "<": [(a, b - eps)],
            ">=": [(-a, -b)],
            ">": [(-a, -b - eps)],
            "==": [(a, b), (-a, -b)],
        }[lin.op]

    def top(a: np.ndarray) -> float:
        """The largest a.x over the boxes (x part only)."""
        ax = a[:n]
        return float(np.sum(np.where(ax > 0, ax * hi, ax * lo)))

    # each cell keeps its value unless its switch is on
    for i in range(n):
        m = max(hi[i] - x0[i], x0[i] - lo[i], 0.0)
        a = np.zeros(size)
        a[i], a[n + i] = 1.0, -m
        rows.append((a, x0[i]))
        a = np.zeros(size)
        a[i], a[n + i] = -1.0, -m
        rows.append((a, -x0[i]))
    for con in constraints:
        for lin in con.always:
            rows.extend(le_rows(lin))
        relax = []
        if con.switch is not None and con.switch in idx:
            relax.append(n + idx[con.switch])
        if con.unless is not None:
            relax.append(g_of[id(con)])
        for a, b in (r for lin in con.parts for r in le_rows(lin)):
            big = top(a) - b
            if big <= 0:
                continue  # holds over the whole box
            for v in relax:
                a[v] -= big
            rows.append((a, b))
        if con.unless is not None:
            z = g_of[id(con)]
            for a, b in le_rows(con.unless):
                big = top(a) - b
                if big > 0:
                    a[z] += big
                    rows.append((a, b + big))
                else:
                    rows.append((a, b))
    return Program(cells, x0, lo, hi, whole, weights, forced, len(guards), rows, free_lo, free_hi)


def solve(
    prog: Program,
    *,
    cuts: list[tuple[list[int], bool]] = (),  # type: ignore[assignment]
    fixed: set[int] | None = None,
    objective: np.ndarray | None = None,
    time_limit: float = 0.25,
) -> np.ndarray | None:
    """One solve: the cheapest set of changed cells (or, with `fixed` cells changed and every
    other kept, the given objective); the solution vector, None when infeasible or timed out
    without a solution. `cuts`: (cells, exact): sets of cells that may not all change again
    (exact: that very set may not, a larger one may)."""
    n, size = prog.n, prog.size
    c = np.zeros(size)
    if objective is None:
        c[n : 2 * n] = prog.weights
    else:
        c[: len(objective)] = objective
    lb = np.concatenate([prog.lo, np.zeros(n + prog.n_guards)])
    ub = np.concatenate([prog.hi, np.ones(n + prog.n_guards)])
    lb[n : 2 * n] = np.where(prog.forced, 1.0, 0.0)
    if fixed is not None:
        on = np.array([i in fixed for i in range(n)])
        lb[n : 2 * n] = np.where(on, 1.0, 0.0)
        ub[n : 2 * n] = np.where(on, 1.0, 0.0)
        keep = ~on
        lb[:n] = np.where(keep, prog.x0, lb[:n])
        ub[:n] = np.where(keep, prog.x0, ub[:n])
    rows = list(prog.rows)
    for cut, exact in cuts:
        a = np.zeros(size)
        if exact:
            a[n : 2 * n] = -1.0
        a[[n + i for i in cut]] = 1.0
        rows.append((a, len(cut) - 1.0))
    a_mat = np.array([r[0] for r in rows]) if rows else np.zeros((0, size))
    b_vec = np.array([r[1] for r in rows]) if rows else np.zeros(0)
    integrality = np.concatenate([prog.whole.astype(float), np.ones(n + prog.n_guards)])
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        constraints=LinearConstraint(a_mat, -np.inf, b_vec) if rows else None,
        options={"time_limit": max(time_limit, 1e-3), "presolve": True},
    )
    if res.x is None or res.status not in (0, 1):
        return None
    return np.asarray(res.x)


def changed(prog: Program, x: np.ndarray) -> list[int]:
    """The cells a solution changes (its switch on, or its value moved)."""
    n = prog.n
    moved = np.abs(x[:n] - prog.x0) > CHANGED * np.maximum(1.0, np.abs(prog.x0))
    return [i for i in range(n) if x[n + i] > 0.5 or moved[i]]


def extent(
    prog: Program, cells: list[int], i: int, time_limit: float
) -> tuple[float | None, float | None]:
    """How low and how high cell i may go when exactly `cells` change (None: no bound but the
    reach of the box, that is, none the rules set)."""
    e = np.zeros(prog.n)
    e[i] = 1.0
    out: list[float | None] = []
    for sign, free, end in ((1.0, prog.free_lo, prog.lo), (-1.0, prog.free_hi, prog.hi)):
        x = solve(prog, fixed=set(cells), objective=sign * e, time_limit=time_limit)
        if x is None:
            out.append(None)
            continue
        v = float(x[i])
        v = float(round(v)) if prog.whole[i] else v
        out.append(None if free[i] and abs(v - end[i]) <= 1e-6 * max(1.0, abs(v)) else v)
    return out[0], out[1]


def time_left(deadline: float) -> float:
    return deadline - time.perf_counter()
