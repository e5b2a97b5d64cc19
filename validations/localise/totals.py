"""Across levels: is a parent's own figure or one of its children's the likelier culprit when
the parent's figure disagrees with the children's sum?

The same localisation as a form's (localiser.py), on one constraint over the parent's own
figure and its children's: `own = sum(children)` (parent_relation "=") or `own >= sum(children)`
(">="), within the indicator's tolerance. Each figure alone can usually repair it (the parent's
always), so the answer is decided by the weights: a figure that matches its unit's history
(its usual value) weighs more, and of equally cheap figures the ones whose corrected value falls
back within their unit's usual range are kept. Without history every figure weighs the same and
the answer says so (one of them).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from validations.catalog import Catalog, Indicator
from validations.catalog.kinds import Constraint, Linear
from validations.localise.intervals import INF, Span
from validations.localise.localiser import Localiser, Option
from validations.localise.problem import Cell, Problem

OWN = "__own__"  # the parent's own figure among its children's unit codes


@dataclass(frozen=True)
class Culprit:
    """A figure whose change alone makes the parent's figure agree with its children's sum."""

    unit_code: str
    own: bool  # the parent's own figure (else a child's)
    value: float
    low: float | None  # the values that make it agree (None: no bound)
    high: float | None
    usual: float | None  # the unit's usual value (its history), when known


def locate_total(
    catalog: Catalog,
    ind: Indicator,
    parent: str,
    own: float,
    children: Mapping[str, float],
    history: Mapping[str, float] | None = None,
    localiser: Localiser | None = None,
) -> list[Culprit]:
    """The likeliest culprits (one when certain, several equally likely otherwise) of a parent's
    own figure that breaks its relation to its children's sum; `history` maps unit codes (the
    parent's among them) to their usual value of the indicator."""
    settings = catalog.localisation
    loc = localiser or Localiser(catalog, [])
    history = history or {}
    keys = {OWN: parent, **{c: c for c in children}}
    values = {OWN: float(own), **{c: float(v) for c, v in children.items()}}
    whole = ind.kind == "count"
    low = 0.0 if ind.min is None else float(ind.min)
    cells = {}
    for key, x in values.items():
        weight = settings.weight(ind.code, ind.kind)
        usual = history.get(keys[key])
        if usual is not None and settings.matches(x, usual):
            weight *= settings.history_factor
        breaks = [] if x >= low else [("domain", key)]
        cells[key] = Cell(key, x, Span.between(low, INF), whole, weight, breaks)
    terms = ((OWN, 1.0), *((c, -1.0) for c in children))
    tol = ind.tolerance.limit(sum(children.values()))
    parts = [Linear(terms, ">=", -tol)]
    if ind.parent_relation == "=":
        parts.append(Linear(terms, "<=", tol))
    con = Constraint("cross_level_total", "cross_level_total", ind.code, tuple(parts))
    problem = Problem(values, cells, [con], lambda _at: [con])
    order = list(values)
    options = loc.options(problem, order, [con], time.perf_counter() + settings.budget)
    usual_of = {k: history[keys[k]] for k in values if keys[k] in history}
    if len(options) > 1 and usual_of:
        options = loc.back_to_usual(options, usual_of)
    return [_culprit(o, keys, values, history) for o in options if len(o.cells) == 1]


def _culprit(
    o: Option, keys: Mapping[str, str], values: Mapping[str, float], history: Mapping[str, float]
) -> Culprit:
    (key,) = o.cells
    low, high = o.ranges.get(key, (None, None))
    return Culprit(
        unit_code=keys[key],
        own=key == OWN,
        value=values[key],
        low=low,
        high=high,
        usual=history.get(keys[key]),
    )
