"""The `compare` kind: a linear relation between indicators (`left op right`, optionally
`when code op value`), over the wide frame (one row per submission)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog.entry import EntryError
from validations.catalog.kinds.check import Finding, RuleCheck
from validations.catalog.kinds.frames import OPS as OP_FUNCTIONS
from validations.catalog.kinds.frames import condition_array, expr_array, one_row
from validations.catalog.kinds.linear import Constraint, Linear
from validations.catalog.kinds.registry import register_rule_kind
from validations.catalog.model import Catalog, Condition, Rule, Term
from validations.catalog.semantics import OPS
from validations.fmt import fmt_num

_TERM = re.compile(r"\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?([a-z][a-z0-9_]*)\s*")
_WHEN = re.compile(r"\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>|==)\s*(-?\d+(?:\.\d+)?)\s*")
OP_TEXT = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}
# where a guard `code op value` does not hold (None: not one linear inequality)
_NOT = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def parse_expr(text: Any, codes: set[str]) -> tuple[Term, ...]:
    """'a + 2 * b' -> its terms; EntryError naming what cannot be read."""
    terms = []
    for part in str(text).split("+"):
        m = _TERM.fullmatch(part)
        if not m:
            raise EntryError("catalog.expression_unreadable", text=str(text))
        if m[2] not in codes:
            raise EntryError("catalog.expression_unknown", code=m[2], text=str(text))
        terms.append(Term(float(m[1] or 1), m[2]))
    return tuple(terms)


def _need(entry: dict[str, Any], key: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise EntryError("catalog.missing_key", key=key).on(key)
    return entry[key]


def parse_compare(entry: dict[str, Any], codes: set[str]) -> dict[str, Any]:
    sides = {}
    for key in ("left", "right"):
        try:
            sides[key] = parse_expr(_need(entry, key), codes)
        except EntryError as exc:
            raise exc.on(key) from None
    op = _need(entry, "op")
    if not isinstance(op, str) or op not in OPS:
        raise EntryError("catalog.op_unknown", op=str(op), ops=sorted(OPS)).on("op")
    when = None
    if entry.get("when") is not None:  # `when: 0` is no guard: said, not ignored
        m = _WHEN.fullmatch(str(entry["when"]))
        if not m or m[1] not in codes:
            raise EntryError("catalog.when_unreadable", when=str(entry["when"])).on("when")
        when = Condition(m[1], m[2], float(m[3]))
    return {"left": sides["left"], "op": op, "right": sides["right"], "when": when}


def expr_label(catalog: Catalog, terms: tuple[Term, ...], lang: str) -> str:
    """'Số đối tượng truy nã đầu thú + Số đối tượng truy nã bị bắt', '2.000 × ...'."""
    parts = []
    for t in terms:
        ind = catalog.indicators.get(t.code)
        lab = ind.label(lang) if ind else str(t.code)
        parts.append(lab if t.coef == 1 else f"{fmt_num(t.coef, lang)} × {lab}")
    return " + ".join(parts)


def compare_linear(rule: Rule) -> Any:
    """The rule as a linear constraint over a submission's values (None where a value it needs
    is missing, or where its guard is an equality: not one linear inequality)."""
    coefs: dict[str, float] = {}
    for t in rule.left:
        coefs[t.code] = coefs.get(t.code, 0.0) + t.coef
    for t in rule.right:
        coefs[t.code] = coefs.get(t.code, 0.0) - t.coef
    body = Linear(tuple(coefs.items()), rule.op or "<=", 0.0)
    unless = None
    if rule.when is not None:
        if rule.when.op not in _NOT:
            return lambda _values: None
        unless = Linear(((rule.when.code, 1.0),), _NOT[rule.when.op], rule.when.value)
    needs = tuple(dict.fromkeys([*rule.indicators]))
    constraint = Constraint(rule.id, rule.id, rule.left[0].code, (body,), unless)

    def linear(values: Mapping[str, float]) -> Constraint | None:
        return constraint if all(c in values for c in needs) else None

    return linear


@register_rule_kind(
    stage="wide",
    keys=("left", "op", "right", "when"),
    parse=parse_compare,
    fields=("left", "right", "left_value", "right_value"),
)
def compare(rule: Rule, catalog: Catalog) -> list[RuleCheck]:
    """left op right, where both sides are present (and the guard `when` holds)."""
    assert rule.op is not None
    op = OP_FUNCTIONS[rule.op]

    def passes(wide: pd.DataFrame) -> pd.Series:
        left, right = expr_array(wide, rule.left), expr_array(wide, rule.right)
        applies = condition_array(wide, rule.when) & ~np.isnan(left) & ~np.isnan(right)
        with np.errstate(invalid="ignore"):
            return pd.Series(~applies | np.asarray(op(left, right), dtype=bool), index=wide.index)

    def applies(wide: pd.DataFrame) -> np.ndarray:
        return ~np.isnan(expr_array(wide, rule.left)) & ~np.isnan(expr_array(wide, rule.right))

    def finding(row: pd.Series) -> Finding:
        one = one_row(row)
        lv = float(expr_array(one, rule.left)[0])
        rv = float(expr_array(one, rule.right)[0])
        return Finding(
            indicator=rule.left[0].code,
            value=lv,
            expected=f"{OP_TEXT[rule.op or '']} {fmt_num(rv, 'en')}",
            fields=lambda lang: {
                "left": expr_label(catalog, rule.left, lang),
                "right": expr_label(catalog, rule.right, lang),
                "left_value": fmt_num(lv, lang),
                "right_value": fmt_num(rv, lang),
            },
            extra={"left_value": lv, "right_value": rv},
        )

    return [RuleCheck(rule.id, rule, None, passes, applies, finding, compare_linear(rule))]
