"""Catalog rules compiled into pandera schemas, evaluated on whole batches at once.

Two frames are checked, both holding every submission of a batch (one file or ten thousand):
- the *long* frame, one row per value, carries each value's indicator kind and domain; the
  domain rules (integer counts, non-negative values, rates in range, 0/1 flags) are
  dataframe-level pandera checks over it;
- the *wide* frame, one row per submission and one column per indicator, carries the rules
  that relate indicators: parts <= wholes, conditional rules, rates equal to their parts.

Each pandera Check is named after the catalog rule id (plus `:indicator` for the rate rules),
so a failure case maps back to exactly one rule and one row. Pandas dataframe-level checks
report one failure case per column; `failures()` de-duplicates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from validations.catalog import Catalog, Condition, Indicator, Rule, Term

_OPS: dict[str, Callable[[pd.Series, pd.Series], pd.Series]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
}


@dataclass(frozen=True)
class CompiledCheck:
    """A pandera check and what it was compiled from."""

    name: str  # rule id, or "rule_id:indicator" for rate rules
    rule: Rule
    indicator: str | None
    check: pa.Check
    fn: Callable[[pd.DataFrame], pd.Series] | None = None  # the function the check runs


# --- long frame: one row per value --------------------------------------------------------
DOMAIN_RULE_KINDS = ("integer", "nonnegative", "rate_range", "flag", "ceiling")


def _domain_pass(kind: str) -> Callable[[pd.DataFrame], pd.Series]:
    """True where the value passes (or the rule does not apply)."""

    def integer(df: pd.DataFrame) -> pd.Series:
        v = df["value"]
        return (df["kind"] != "count") | v.isna() | (v == np.floor(v))

    def nonnegative(df: pd.DataFrame) -> pd.Series:
        v = df["value"]
        applies = df["kind"].isin(["count", "decimal"])
        return ~applies | v.isna() | (v >= df["min"].fillna(0))

    def rate_range(df: pd.DataFrame) -> pd.Series:
        v = df["value"]
        lo = df["min"].fillna(-np.inf)
        hi = df["max"].fillna(np.inf)
        return (df["kind"] != "rate") | v.isna() | ((v >= lo) & (v <= hi))

    def flag(df: pd.DataFrame) -> pd.Series:
        v = df["value"]
        return (df["kind"] != "flag") | v.isna() | v.isin([0.0, 1.0])

    def ceiling(df: pd.DataFrame) -> pd.Series:
        # the indicator's largest plausible submitted value (catalog `ceiling` / `ceilings`)
        if "ceiling" not in df:
            return pd.Series(True, index=df.index)
        v = df["value"]
        return v.isna() | df["ceiling"].isna() | (v <= df["ceiling"])

    return {
        "integer": integer,
        "nonnegative": nonnegative,
        "rate_range": rate_range,
        "flag": flag,
        "ceiling": ceiling,
    }[kind]


def long_checks(catalog: Catalog) -> list[CompiledCheck]:
    out = []
    for kind in DOMAIN_RULE_KINDS:
        for rule in catalog.rules_of_kind(kind):
            fn = _domain_pass(kind)
            out.append(CompiledCheck(rule.id, rule, None, pa.Check(fn, name=rule.id), fn))
    return out


def long_schema(catalog: Catalog) -> pa.DataFrameSchema:
    """The intake contract of the long frame (types plus the domain rules)."""
    return pa.DataFrameSchema(
        columns={
            "sub": pa.Column(int),
            "indicator": pa.Column(str),
            "kind": pa.Column(str, pa.Check.isin(["count", "decimal", "rate", "flag"])),
            "value": pa.Column(float, nullable=True),
            "min": pa.Column(float, nullable=True),
            "max": pa.Column(float, nullable=True),
            "ceiling": pa.Column(float, nullable=True, required=False),
        },
        checks=[c.check for c in long_checks(catalog)],
        coerce=True,
    )


# --- wide frame: one row per submission ---------------------------------------------------
def column_array(wide: pd.DataFrame, code: str | None) -> np.ndarray:
    """An indicator's column as floats (NaN where missing, all NaN without the column)."""
    if code is None or code not in wide:
        return np.full(len(wide), np.nan)
    col = wide[code]
    if col.dtype == np.float64:  # the validator's own wide frame: no conversion to pay for
        return col.to_numpy()
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def expr_array(wide: pd.DataFrame, terms: tuple[Term, ...]) -> np.ndarray:
    total = np.zeros(len(wide))
    for t in terms:
        total = total + t.coef * column_array(wide, t.code)
    return total


def expr_value(wide: pd.DataFrame, terms: tuple[Term, ...]) -> pd.Series:
    """Sum of coef * indicator; NaN where any term is missing."""
    return pd.Series(expr_array(wide, terms), index=wide.index)


def _condition(wide: pd.DataFrame, cond: Condition | None) -> np.ndarray:
    if cond is None:
        return np.ones(len(wide), dtype=bool)
    col = column_array(wide, cond.code)
    with np.errstate(invalid="ignore"):
        return np.asarray(_OPS[cond.op](col, cond.value), dtype=bool) & ~np.isnan(col)


def compare_pass(rule: Rule) -> Callable[[pd.DataFrame], pd.Series]:
    assert rule.op is not None
    op = _OPS[rule.op]

    def check(wide: pd.DataFrame) -> pd.Series:
        left, right = expr_array(wide, rule.left), expr_array(wide, rule.right)
        applies = _condition(wide, rule.when) & ~np.isnan(left) & ~np.isnan(right)
        with np.errstate(invalid="ignore"):
            return pd.Series(~applies | np.asarray(op(left, right), dtype=bool), index=wide.index)

    return check


def expected_rate_array(wide: pd.DataFrame, ind: Indicator) -> np.ndarray:
    """The rate `ind` computed from its parts' columns (the catalog's formula); NaN where the
    denominator is 0 or a part is missing."""
    assert ind.formula is not None
    n, d = column_array(wide, ind.numerator), column_array(wide, ind.denominator)
    return ind.formula.array(n, d)


def expected_rate(wide: pd.DataFrame, ind: Indicator) -> pd.Series:
    """`expected_rate_array` as a Series on the frame's index."""
    return pd.Series(expected_rate_array(wide, ind), index=wide.index)


def rate_pass(ind: Indicator) -> Callable[[pd.DataFrame], pd.Series]:
    """A reported rate agrees with its parts within the indicator's tolerance (the form's
    two-decimal rounding)."""
    assert ind.formula is not None

    def check(wide: pd.DataFrame) -> pd.Series:
        exp = expected_rate_array(wide, ind)
        reported = column_array(wide, ind.code)
        applies = ~np.isnan(reported) & ~np.isnan(exp)
        ok = ~applies | ind.tolerance.allows_array(reported, exp)
        return pd.Series(ok, index=wide.index)

    return check


def wide_checks(catalog: Catalog) -> list[CompiledCheck]:
    out = []
    for rule in catalog.rules_of_kind("compare"):
        fn = compare_pass(rule)
        out.append(CompiledCheck(rule.id, rule, None, pa.Check(fn, name=rule.id), fn))
    for rule in catalog.rules_of_kind("rate_consistency"):
        for ind in catalog.rates():
            if ind.formula != rule.formula or not ind.numerator or not ind.denominator:
                continue
            name = f"{rule.id}:{ind.code}"
            fn = rate_pass(ind)
            out.append(CompiledCheck(name, rule, ind.code, pa.Check(fn, name=name), fn))
    return out


def wide_schema(catalog: Catalog) -> pa.DataFrameSchema:
    """Cross-indicator rules over one row per submission (columns are indicator codes)."""
    return pa.DataFrameSchema(checks=[c.check for c in wide_checks(catalog)])


# Up to this many rows a batch's checks run as plain functions: pandera's own machinery costs
# about 12 ms a schema whatever the size, most of the time of one file on the submitter path
# and of the portal's batches of concurrent uploads (up to about 40 commune files, 50 values
# each). Above it (the ingest's batches of 1,000 files) pandera runs them. The same functions
# either way (tested).
DIRECT_MAX_ROWS = 2000


def direct_failures(checks: Iterable[CompiledCheck], frame: pd.DataFrame) -> dict[str, list[int]]:
    """The checks' own functions on the frame (no pandera): failing check -> sorted labels."""
    out: dict[str, list[int]] = {}
    for c in checks:
        assert c.fn is not None
        passed = np.asarray(c.fn(frame), dtype=bool)
        bad = frame.index[~passed] if passed.ndim else (frame.index if not passed else [])
        if len(bad):
            out[c.name] = sorted(int(i) for i in bad)
    return out


def failures(
    schema: pa.DataFrameSchema,
    frame: pd.DataFrame,
    checks: Iterable[CompiledCheck] | None = None,
) -> dict[str, list[int]]:
    """Run a schema lazily; map each failing check name to the sorted failing row labels.

    Given the schema's `checks` and a frame of at most DIRECT_MAX_ROWS rows, their functions run
    directly instead (the validator builds the frame with the schema's types itself)."""
    if frame.empty:
        return {}
    if checks is not None and len(frame) <= DIRECT_MAX_ROWS:
        return direct_failures(checks, frame)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        fc = fc.drop_duplicates(subset=["check", "index"])  # one per column on pandas: de-dup
        out: dict[str, list[int]] = {}
        for check, grp in fc.groupby("check", sort=False):
            out[str(check)] = sorted({int(i) for i in grp["index"]})
        return out
    return {}
