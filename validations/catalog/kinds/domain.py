"""The domain kinds: each value on its own, over the long frame (one row per value).

Each kind is its pass function (True where the value passes or the rule does not apply), with
which values it checks, the expected text of a failing one and the domain it demands of an
indicator's values (for the error localisation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validations.catalog.kinds.check import Bounds
from validations.catalog.kinds.registry import register_rule_kind
from validations.catalog.model import Indicator
from validations.fmt import fmt_num


def _range_text(row: pd.Series) -> str:
    lo, hi = row["min"], row["max"]
    return f"[{fmt_num(lo)}; {fmt_num(hi) if not np.isnan(hi) else '∞'}]"


def _ceiling_applies(df: pd.DataFrame) -> pd.Series:
    if "ceiling" not in df:
        return pd.Series(False, index=df.index)
    return df["ceiling"].notna()


@register_rule_kind(
    stage="long",
    required=True,
    applies=lambda df: df["kind"] == "count",
    expected=lambda _row: "số nguyên / whole number",
    bounds=lambda ind: Bounds(integer=True) if ind.kind == "count" else None,
)
def integer(df: pd.DataFrame) -> pd.Series:
    """Counts are whole numbers."""
    v = df["value"]
    return (df["kind"] != "count") | v.isna() | (v == np.floor(v))


def _nonnegative_bounds(ind: Indicator) -> Bounds | None:
    if ind.kind not in ("count", "decimal"):
        return None
    return Bounds(low=float(ind.min) if ind.min is not None else 0.0)


@register_rule_kind(
    stage="long",
    required=True,
    applies=lambda df: df["kind"].isin(["count", "decimal"]),
    expected=lambda _row: "≥ 0",
    bounds=_nonnegative_bounds,
)
def nonnegative(df: pd.DataFrame) -> pd.Series:
    """Counts and decimals are at least their minimum (0 unless the catalog says otherwise)."""
    v = df["value"]
    applies = df["kind"].isin(["count", "decimal"])
    return ~applies | v.isna() | (v >= df["min"].fillna(0))


def _rate_bounds(ind: Indicator) -> Bounds | None:
    if ind.kind != "rate":
        return None
    return Bounds(
        low=float(ind.min) if ind.min is not None else None,
        high=float(ind.max) if ind.max is not None else None,
    )


@register_rule_kind(
    stage="long",
    required=True,
    applies=lambda df: df["kind"] == "rate",
    expected=_range_text,
    bounds=_rate_bounds,
)
def rate_range(df: pd.DataFrame) -> pd.Series:
    """Rates lie in their range ([0, 100]; a change rate [-100, +inf))."""
    v = df["value"]
    lo = df["min"].fillna(-np.inf)
    hi = df["max"].fillna(np.inf)
    return (df["kind"] != "rate") | v.isna() | ((v >= lo) & (v <= hi))


@register_rule_kind(
    stage="long",
    required=True,
    applies=lambda df: df["kind"] == "flag",
    expected=lambda _row: "0 | 1",
    bounds=lambda ind: Bounds(0.0, 1.0, integer=True) if ind.kind == "flag" else None,
)
def flag(df: pd.DataFrame) -> pd.Series:
    """Flags are 0 or 1."""
    v = df["value"]
    return (df["kind"] != "flag") | v.isna() | v.isin([0.0, 1.0])


@register_rule_kind(
    stage="long",
    required=True,
    applies=_ceiling_applies,
    expected=lambda row: f"≤ {fmt_num(row['ceiling'], 'en')}",
    bounds=lambda ind: Bounds(high=float(ind.ceiling)) if ind.ceiling is not None else None,
)
def ceiling(df: pd.DataFrame) -> pd.Series:
    """Values are at most the indicator's largest plausible value (catalog `ceiling`)."""
    if "ceiling" not in df:  # a frame built without the column (bench/baselines.py)
        return pd.Series(True, index=df.index)
    v = df["value"]
    return v.isna() | df["ceiling"].isna() | (v <= df["ceiling"])
