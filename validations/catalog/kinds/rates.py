"""The `rate_consistency` kind: a reported rate agrees with its parts (the catalog's formula,
within the indicator's tolerance: the form's two-decimal rounding), over the wide frame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog.entry import EntryError
from validations.catalog.kinds.check import Finding, RuleCheck
from validations.catalog.kinds.frames import column_array, expected_rate_array, one_row
from validations.catalog.kinds.linear import Constraint, Linear
from validations.catalog.kinds.registry import register_rule_kind
from validations.catalog.model import Catalog, Indicator, Rule
from validations.catalog.semantics import FLOAT_EPS, Formula
from validations.fmt import fmt_num


def parse_rate_consistency(entry: dict[str, Any], _codes: set[str]) -> dict[str, Any]:
    if entry.get("formula") not in ("ratio", "change"):
        raise EntryError("catalog.rate_consistency_formula").on("formula")
    return {}


def rate_linear(rule: Rule, ind: Indicator) -> Any:
    """The rate's agreement with its parts as linear constraints, for one submission.

    With the reported rate r held at its value r0, `r0 - L <= 100 * top / d <= r0 + L` (top = n,
    or n - d for a change rate; L the tolerance) is linear in the parts once multiplied by d
    (d > 0): `100 * top - (r0 + L) * d <= 0` and `100 * top - (r0 - L) * d >= 0`. When the rate
    cell itself changes (`switch`), it is recomputed from whatever its parts are, so those no
    longer bind; what still binds is its range carried onto the parts (`always`:
    `min - L <= 100 * top / d <= max + L`). So the product r * d never appears: the bilinear
    relation is exact either way. Not applied where the denominator is 0 (no rate is due)."""
    n, d, r = ind.numerator or "", ind.denominator or "", ind.code
    change = ind.formula == Formula.CHANGE
    tol = ind.tolerance

    def top(coef_d: float) -> tuple[tuple[str, float], ...]:
        return ((n, 100.0), (d, coef_d - (100.0 if change else 0.0)))

    always = []
    if ind.max is not None:
        limit = float(ind.max) + tol.limit(float(ind.max))
        always.append(Linear(top(-limit), "<="))
    if ind.min is not None:
        limit = float(ind.min) - tol.limit(float(ind.min))
        always.append(Linear(top(-limit), ">="))

    def derive(values: Mapping[str, float]) -> float | None:
        return ind.rate(values[n], values[d])

    def linear(values: Mapping[str, float]) -> Constraint | None:
        if r not in values or n not in values or d not in values or values[d] == 0:
            return None
        r0 = values[r]
        lim = max(tol.abs, tol.rel * abs(r0)) + FLOAT_EPS * max(1.0, abs(r0))
        parts = (Linear(top(-(r0 + lim)), "<="), Linear(top(-(r0 - lim)), ">="))
        return Constraint(
            f"{rule.id}:{r}", rule.id, r, parts, None, r, tuple(always), derive=derive
        )

    return linear


@register_rule_kind(
    stage="wide",
    required=True,
    keys=("formula",),
    parse=parse_rate_consistency,
    fields=("left", "right", "left_value", "right_value"),
)
def rate_consistency(rule: Rule, catalog: Catalog) -> list[RuleCheck]:
    """A reported rate = the catalog's formula of its parts, within its tolerance; one check per
    rate of the rule's formula; not demanded where a part is missing or the denominator is 0."""
    out = []
    for ind in catalog.rates():
        if ind.formula != rule.formula or not ind.numerator or not ind.denominator:
            continue
        out.append(_check(rule, ind, catalog))
    return out


def _check(rule: Rule, ind: Indicator, catalog: Catalog) -> RuleCheck:
    assert ind.formula is not None

    def passes(wide: pd.DataFrame) -> pd.Series:
        exp = expected_rate_array(wide, ind)
        reported = column_array(wide, ind.code)
        applies = ~np.isnan(reported) & ~np.isnan(exp)
        ok = ~applies | ind.tolerance.allows_array(reported, exp)
        return pd.Series(ok, index=wide.index)

    def applies(wide: pd.DataFrame) -> np.ndarray:
        exp = expected_rate_array(wide, ind)
        return ~np.isnan(column_array(wide, ind.code)) & ~np.isnan(exp)

    def finding(row: pd.Series) -> Finding:
        one = one_row(row)
        num, den = ind.numerator or "", ind.denominator or ""
        exp = float(expected_rate_array(one, ind)[0])
        nv, dv = float(row.get(num, np.nan)), float(row.get(den, np.nan))
        return Finding(
            indicator=ind.code,
            value=float(row[ind.code]),
            expected=fmt_num(round(exp, 2), "en"),
            fields=lambda lang: {
                "left": _label(catalog, num, lang),
                "right": _label(catalog, den, lang),
                "left_value": fmt_num(nv, lang),
                "right_value": fmt_num(dv, lang),
                "expected": fmt_num(round(exp, 2), lang),
            },
            extra={"numerator": nv, "denominator": dv, "expected_exact": exp},
        )

    return RuleCheck(
        f"{rule.id}:{ind.code}", rule, ind.code, passes, applies, finding, rate_linear(rule, ind)
    )


def _label(catalog: Catalog, code: str, lang: str) -> str:
    ind = catalog.indicators.get(code)
    return ind.label(lang) if ind else str(code)
