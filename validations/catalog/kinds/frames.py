"""Reading the validator's frames: an indicator's column, a linear expression, a guard.

The wide frame holds one row per submission and one column per indicator (floats, NaN where a
value is missing); the checks of the wide kinds read it through these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from validations.catalog.model import Condition, Indicator, Term

OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
}


def one_row(row: pd.Series) -> pd.DataFrame:
    """A row of a wide frame as a frame of its own, for the same column formulas a finding
    reports (three times cheaper than `row.to_frame().T`)."""
    return pd.DataFrame(row.to_numpy()[None, :], columns=row.index, index=[row.name])


def column_array(wide: pd.DataFrame, code: str | None) -> np.ndarray:
    """An indicator's column as floats (NaN where missing, all NaN without the column)."""
    if code is None or code not in wide:
        return np.full(len(wide), np.nan)
    col = wide[code]
    if col.dtype == np.float64:  # the validator's own wide frame: no conversion to pay for
        return col.to_numpy()
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def expr_array(wide: pd.DataFrame, terms: tuple[Term, ...]) -> np.ndarray:
    """Sum of coef * indicator over the frame; NaN where any term is missing."""
    total = np.zeros(len(wide))
    for t in terms:
        total = total + t.coef * column_array(wide, t.code)
    return total


def condition_array(wide: pd.DataFrame, cond: Condition | None) -> np.ndarray:
    """Where a rule's guard (`when`) holds; everywhere without one, nowhere its value is missing."""
    if cond is None:
        return np.ones(len(wide), dtype=bool)
    col = column_array(wide, cond.code)
    with np.errstate(invalid="ignore"):
        return np.asarray(OPS[cond.op](col, cond.value), dtype=bool) & ~np.isnan(col)


def expected_rate_array(wide: pd.DataFrame, ind: Indicator) -> np.ndarray:
    """The rate `ind` computed from its parts' columns (the catalog's formula); NaN where the
    denominator is 0 or a part is missing."""
    assert ind.formula is not None
    n, d = column_array(wide, ind.numerator), column_array(wide, ind.denominator)
    return ind.formula.array(n, d)
