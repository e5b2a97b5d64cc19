"""Outliers: values far from the unit's own history or from its peers, as warnings.

Pure, vectorised pandas (no DuckDB, no Prefect): the caller (flows/ingest.py, with
warehouse/history.py) brings the frames.

- `values`: the batch's new values, columns unit_code, period, indicator, value, location
  (and parent_code for the peer test, or pass `parents`).
- `history`: unit_code, period, indicator, value: the current accepted values of previous
  periods. Each value is compared with its unit's values of the previous `history_periods`
  periods of the same kind (monthly with monthly, quarters with quarters).
- `peers`: unit_code, parent_code, period, indicator, value: the values of the same period of
  units with the same parent (in the same batch and/or already in the warehouse); a unit is never
  its own peer, and a later row for the same (unit, period, indicator) replaces an earlier one.

Scores of one value x against a reference sample (its history, or its peers):
- z = (x - mean) / std (sample std);
- modified z = 0.6745 * (x - median) / MAD, MAD = median(|sample - median|) (Iglewicz-Hoaglin);
- ratio = x / median ("8 times your usual value"); inf when the median is 0 and x > 0.

An outlier rule (`outliers:` in the catalog, validations.catalog.OutlierRule) flags x when
1. the sample is large enough: `min_history` points of history, or `min_peers` peers;
2. the departure is material: ratio >= `ratio` or <= 1/`ratio`, and |x - median| >=
   `min_difference` (per indicator: `min_difference_for`), so that 0 -> 1 or 1 -> 6 cases is
   never an outlier;
3. the departure is unusual for this unit: history: |z| > `z` and |modified z| > `modified_z`,
   each where it is defined; peers: |modified z| > `modified_z`. A score is undefined where
   its spread is 0 (std = 0; MAD = 0, as for 29, 30, 29, 29, 27); where no score is defined
   (a constant history; peers whose MAD is 0), the ratio test of 2. decides alone.
Only count and decimal indicators are judged (rates are recomputed from their parts, flags
are 0/1). Every outlier is an Issue of severity warning: it never rejects a file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog import LEVELS, Catalog, OutlierRule
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.period import PeriodError, parse_period

JUDGED_KINDS = ("count", "decimal")
MAD_SCALE = 0.6745  # modified z-score: 0.6745 = the 0.75 quantile of the standard normal
KEY = ["unit_code", "period", "indicator"]
SCORE_COLUMNS = [
    "unit_code",
    "period",
    "indicator",
    "value",
    "location",
    "n",
    "mean",
    "std",
    "median",
    "mad",
    "z",
    "modified_z",
    "ratio",
]
HIGH, LOW, TO_ZERO, FROM_ZERO = "high", "low", "to_zero", "from_zero"
_MESSAGE_KEY = {
    HIGH: "message",
    LOW: "message_low",
    TO_ZERO: "message_to_zero",
    FROM_ZERO: "message_from_zero",
}
_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}
_LEVEL_OF_WIDTH = {5: "C", 3: "D", 2: "P"}  # GSO codes: commune 5 digits, district 3, province 2


class _Fields(dict):  # type: ignore[type-arg]
    """format_map mapping that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --- scores --------------------------------------------------------------------------------------
def _period_keys(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(kind, ordinal) of each period code: consecutive periods of a kind have consecutive
    ordinals (2023-12 and 2024-01 are neighbours). Unreadable codes give NaN."""
    kinds: dict[str, str] = {}
    ords: dict[str, int] = {}
    for code in pd.unique(codes.dropna().astype(str)):
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        kinds[code] = p.kind
        ords[code] = p.year * _PER_YEAR[p.kind] + p.index - 1
    text = codes.astype(str)
    return text.map(kinds), text.map(ords).astype("float64")


def _base(values: pd.DataFrame) -> pd.DataFrame:
    v = values.reindex(columns=["unit_code", "period", "indicator", "value", "location"]).copy()
    v["value"] = pd.to_numeric(v["value"], errors="coerce").astype("float64")
    v["_row"] = np.arange(len(v))
    return v


def _sample_stats(pairs: pd.DataFrame, col: str) -> pd.DataFrame:
    """n, mean, std, median and MAD of `col` per `_row`."""
    g = pairs.groupby("_row")[col]
    stats = g.agg(n="count", mean="mean", std="std", median="median")
    dev = (pairs[col] - pairs["_row"].map(stats["median"])).abs()
    stats["mad"] = dev.groupby(pairs["_row"]).median()
    return stats


def _scores(v: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    out = v.join(stats, on="_row")
    out["n"] = out["n"].fillna(0).astype(int)
    x, mean, std, med, mad = (out[c] for c in ("value", "mean", "std", "median", "mad"))
    # a spread that is only floating-point noise (std of five equal decimals) is no spread
    tiny = 1e-9 * np.maximum(1.0, mean.abs().fillna(0))
    # dividing by NaN gives NaN silently: no division warnings, no inf from a zero spread
    out["z"] = (x - mean) / std.where(std > tiny)
    out["modified_z"] = MAD_SCALE * (x - med) / mad.where(mad > tiny)
    ratio = x / med.where(med > 0)
    ratio = ratio.mask((med == 0) & (x > 0), np.inf).mask((med == 0) & (x == 0), 1.0)
    out["ratio"] = ratio
    return out.drop(columns=["_row"]).reindex(columns=SCORE_COLUMNS)


def history_scores(
    values: pd.DataFrame, history: pd.DataFrame, history_periods: int = 12
) -> pd.DataFrame:
    """One row per row of `values` (same index, SCORE_COLUMNS): its scores against the unit's
    values of the previous `history_periods` periods of the same kind (n = 0 when none).

    When both frames have a `structure` column (legacy / 2025), history of the other structure
    is ignored: after the 2025 reform a code may name another commune."""
    v = _base(values)
    v["_kind"], v["_ord"] = _period_keys(v["period"])
    on = ["unit_code", "indicator", "_kind"]
    if "structure" in values.columns and "structure" in history.columns:
        v["structure"] = values["structure"].to_numpy()
        on.append("structure")
    h = history.reindex(columns=["unit_code", "period", "indicator", "value", *on[3:]]).copy()
    h["value"] = pd.to_numeric(h["value"], errors="coerce")
    h = h.loc[h["value"].notna()].drop_duplicates(KEY, keep="last")
    h["_kind"], h["_hord"] = _period_keys(h["period"])
    pairs = v[["_row", *on, "_ord"]].merge(
        h.rename(columns={"value": "_hvalue"})[[*on, "_hord", "_hvalue"]], on=on
    )
    pairs = pairs.loc[
        (pairs["_hord"] < pairs["_ord"]) & (pairs["_hord"] >= pairs["_ord"] - history_periods)
    ]
    v = v.drop(columns=["_kind", "_ord", "structure"], errors="ignore")
    return _scores(v, _sample_stats(pairs, "_hvalue"))


def peer_scores(
    values: pd.DataFrame, peers: pd.DataFrame, parents: Mapping[str, str | None] | None = None
) -> pd.DataFrame:
    """One row per row of `values` (same index, SCORE_COLUMNS): its scores against the values
    of the same period and indicator of the other units with the same parent (n = the number of
    peers). The parent is `values.parent_code`, else `parents[unit_code]`."""
    v = _base(values)
    if "parent_code" in values.columns:
        v["parent_code"] = values["parent_code"].to_numpy()
    elif parents is not None:
        v["parent_code"] = v["unit_code"].map(parents)
    else:
        raise ValueError("peer_scores needs values.parent_code or a parents mapping")
    p = peers.reindex(columns=["unit_code", "parent_code", "period", "indicator", "value"]).copy()
    p["value"] = pd.to_numeric(p["value"], errors="coerce")
    p = p.loc[p["value"].notna() & p["parent_code"].notna()].drop_duplicates(KEY, keep="last")
    pairs = v.loc[
        v["parent_code"].notna(), ["_row", "unit_code", "parent_code", "period", "indicator"]
    ]
    pairs = pairs.merge(
        p.rename(columns={"unit_code": "_peer", "value": "_pvalue"}),
        on=["parent_code", "period", "indicator"],
    )
    pairs = pairs.loc[pairs["_peer"] != pairs["unit_code"]]
    return _scores(v.drop(columns=["parent_code"]), _sample_stats(pairs, "_pvalue"))


def judge(scores: pd.DataFrame, rule: OutlierRule) -> pd.Series:
    """The direction of each outlier (HIGH, LOW, TO_ZERO, FROM_ZERO), "" where none."""
    x, med, ratio = scores["value"], scores["median"], scores["ratio"]
    enough = scores["n"] >= (rule.min_history if rule.method == "history" else rule.min_peers)
    high = ratio >= rule.ratio
    low = ratio <= 1.0 / rule.ratio
    floor = scores["indicator"].map(rule.min_difference_for).fillna(rule.min_difference)
    material = (high | low) & ((x - med).abs() >= floor.clip(lower=1e-12))
    z, mz = scores["z"], scores["modified_z"]
    # each score that is defined must agree (peers: the modified z only); a sample with no
    # spread at all leaves the ratio test to decide alone
    unusual = mz.isna() | (mz.abs() > rule.modified_z)
    if rule.method == "history":
        unusual &= z.isna() | (z.abs() > rule.z)
    hit = enough & (x >= 0) & material & unusual  # counts and decimals are >= 0
    direction = pd.Series("", index=scores.index, dtype=object)
    direction[hit & high] = HIGH
    direction[hit & low] = LOW
    direction[hit & (med == 0) & (x > 0)] = FROM_ZERO
    direction[hit & (x == 0) & (med > 0)] = TO_ZERO
    return direction


# --- issues --------------------------------------------------------------------------------------
def _judged(values: pd.DataFrame, catalog: Catalog, rule: OutlierRule) -> pd.DataFrame:
    """The rows the rule judges (index kept): count and decimal indicators it does not
    exclude, of units of its levels (`values.level`, else the code's width: 5 C, 3 D, 2 P)."""
    codes = {
        c for c, i in catalog.indicators.items() if i.kind in JUDGED_KINDS and c not in rule.exclude
    }
    keep = values["indicator"].isin(codes)
    if set(rule.levels) != set(LEVELS):
        if "level" in values.columns:
            level = values["level"]
        else:
            level = values["unit_code"].astype(str).str.len().map(_LEVEL_OF_WIDTH)
        keep &= level.isin(rule.levels)
    return values.loc[keep]


def _times(ratio: float) -> float:
    """8.0 -> 8, 9.34 -> 9.3, 23.6 -> 24: one decimal below 10, whole numbers above."""
    return round(ratio, 1) if ratio < 10 else float(round(ratio))


def _num(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) or math.isinf(f) else f


def _issues(
    scores: pd.DataFrame,
    direction: pd.Series,
    rule: OutlierRule,
    catalog: Catalog,
    parents: pd.Series | None = None,
    parent_names: Mapping[str, str] | None = None,
) -> pd.Series:
    out: list[Issue] = []
    hits = np.flatnonzero((direction != "").to_numpy())
    for k in hits:
        row = scores.iloc[k]
        where = direction.iloc[k]
        x, med, ratio, n = float(row["value"]), float(row["median"]), row["ratio"], int(row["n"])
        ind = catalog.indicators.get(str(row["indicator"]))
        parent = str(parents.iloc[k]) if parents is not None else ""
        texts = {}
        for lang in ("vi", "en"):
            fields = _Fields(
                label=ind.label(lang) if ind else str(row["indicator"]),
                indicator=str(row["indicator"]),
                value=fmt_num(x, lang),
                median=fmt_num(round(med, 2), lang),
                n=n,
                times=fmt_num(_times(ratio), lang) if where == HIGH else "",
                fraction=f"1/{fmt_num(round(1 / ratio), lang)}" if where == LOW else "",
                parent=(parent_names or {}).get(parent, parent),
                unit_code=str(row["unit_code"]),
                period=str(row["period"]),
            )
            texts[lang] = (
                rule.text(_MESSAGE_KEY[where], lang).format_map(fields),
                rule.text("hint", lang).format_map(fields),
            )
        extra = {
            "method": rule.method,
            "direction": where,
            "n": n,
            "median": med,
            "mad": _num(row["mad"]),
            "mean": _num(row["mean"]),
            "std": _num(row["std"]),
            "z": _num(row["z"]),
            "modified_z": _num(row["modified_z"]),
            "ratio": _num(ratio),
        }
        if parents is not None:
            extra["parent_code"] = parent
        out.append(
            Issue(
                rule_id=rule.id,
                severity=Severity(rule.severity),
                unit_code=str(row["unit_code"]),
                period=str(row["period"]),
                indicator=str(row["indicator"]),
                location=None if pd.isna(row["location"]) else str(row["location"]),
                value=x,
                expected=f"≈ {fmt_num(round(med, 2), 'en')}",
                message_vi=texts["vi"][0],
                message_en=texts["en"][0],
                hint_vi=texts["vi"][1],
                hint_en=texts["en"][1],
                extra=json.loads(json.dumps(extra)),
            )
        )
    return pd.Series(out, index=scores.index[hits], dtype=object)


def history_outliers(
    values: pd.DataFrame, history: pd.DataFrame, rule: OutlierRule, catalog: Catalog
) -> tuple[pd.Series, pd.Series]:
    """Warnings on values far from the unit's own history.

    Returns (issues, judged): the Issues indexed by the label of their row in `values`, and
    for every judged row (count and decimal indicators) whether it had enough history."""
    v = _judged(values, catalog, rule)
    scores = history_scores(v, history, rule.history_periods)
    issues = _issues(scores, judge(scores, rule), rule, catalog)
    return issues, scores["n"] >= rule.min_history


def peer_outliers(
    values: pd.DataFrame,
    peers: pd.DataFrame,
    rule: OutlierRule,
    catalog: Catalog,
    parents: Mapping[str, str | None] | None = None,
    parent_names: Mapping[str, str] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Warnings on values far from those of their peers (same parent, same period).

    Returns (issues, judged) as history_outliers does; `parent_names` names the parent in the
    messages ({parent}), else its code is used."""
    v = _judged(values, catalog, rule).copy()
    if "parent_code" not in v.columns:
        if parents is None:
            raise ValueError("peer_outliers needs values.parent_code or a parents mapping")
        v["parent_code"] = v["unit_code"].map(parents)
    scores = peer_scores(v, peers)
    issues = _issues(scores, judge(scores, rule), rule, catalog, v["parent_code"], parent_names)
    return issues, scores["n"] >= rule.min_peers


def find_outliers(
    values: pd.DataFrame,
    history: pd.DataFrame,
    peers: pd.DataFrame | None,
    catalog: Catalog,
    parents: Mapping[str, str | None] | None = None,
    parent_names: Mapping[str, str] | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """Every outlier rule of the catalog (`catalog.outlier_rules`, in order) on the values.

    One value, one warning: a value an earlier rule flagged (its own history comes first in
    the default catalog) is not flagged again by a later one. Returns (issues, judged): the
    Issues indexed by the label of their row in `values`, and a boolean frame, one column per
    rule id, of the rows each rule could judge. Peer rules are skipped when `peers` is None."""
    found: list[pd.Series] = []
    flagged: set[object] = set()
    judged = pd.DataFrame(index=values.index)
    for rule in catalog.outlier_rules.values():
        if rule.method == "history":
            issues, ok = history_outliers(values, history, rule, catalog)
        elif peers is not None:
            issues, ok = peer_outliers(values, peers, rule, catalog, parents, parent_names)
        else:
            continue
        issues = issues[~issues.index.isin(list(flagged))]
        flagged |= set(issues.index)
        found.append(issues)
        judged[rule.id] = ok.reindex(values.index, fill_value=False).astype(bool)
    issues = pd.concat(found) if found else pd.Series([], dtype=object)
    return issues, judged
