"""Outliers: values far from the unit's own history or from its peers, as warnings.

No Prefect, no warehouse: the caller (warehouse/history.py for the ingest) brings the values
and the reference samples. The statistics of the samples are one SQL query each
(validations/sql/outlier_*.sql, run by DuckDB, imported when first needed: `tonghop validate`
never loads it); scoring, judging and the messages are vectorised pandas.

- `values`: the batch's new values, columns unit_code, period, indicator, value, location
  (and parent_code for the peer test, or pass `parents`).
- `history`: unit_code, period, indicator, value: the current accepted values of previous
  periods, as a frame or a `Sample` (a query on the warehouse). Each value is compared with its
  unit's values of the previous `history_periods` periods of the same kind (monthly with
  monthly, quarters with quarters).
- `peers`: unit_code, parent_code, period, indicator, value: the values of the same period of
  units with the same parent (in the same batch and/or already in the warehouse), a frame or a
  `Sample`; a unit is never its own peer, and a later row for the same (unit, period,
  indicator) replaces an earlier one.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog import LEVELS, Catalog, OutlierRule
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.period import PeriodError, parse_period

JUDGED_KINDS = ("count", "decimal")
MAD_SCALE = 0.6745  # modified z-score: 0.6745 = the 0.75 quantile of the standard normal
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


# --- the reference samples and their statistics ---------------------------------------------------
SQL_DIR = Path(__file__).with_name("sql")
STAT_COLUMNS = ["n", "mean", "std", "median", "mad"]


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Sample:
    """The reference values an outlier test compares with, as a DuckDB query.

    `sql` selects the columns the test's query names (validations/sql/outlier_*.sql:
    unit_code, period, indicator, value, and structure for history, parent_code for peers),
    one row per unit, period and indicator (and structure, for history): where several sources
    hold one, the caller keeps the latest (a batch's own file over the warehouse's value, the
    later of two files). It runs on `con` with `params`, the `frames` registered under their
    names while it runs; `periods` are the periods it may return (their kind and order are
    computed once, in Python, for the history test)."""

    con: Any
    sql: str
    params: Mapping[str, object] = field(default_factory=dict)
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    periods: Sequence[str] = ()

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: Sequence[str]) -> Sample:
        """A sample held in a frame, a later row replacing an earlier one (tests, callers
        without a warehouse): an in-memory DuckDB runs it. Missing `columns` are NULL."""
        import duckdb

        f = frame.reindex(columns=list(columns)).copy()
        f["value"] = pd.to_numeric(f["value"], errors="coerce").astype("float64")
        f = latest(f.loc[f["value"].notna()], columns)
        for c in columns:
            if c != "value" and f[c].isna().all():
                f[c] = pd.Series([None] * len(f), index=f.index, dtype=object)
        periods = pd.unique(f["period"].dropna().astype(str)).tolist()
        sql = frame_select("_sample", columns)
        return cls(duckdb.connect(), sql, frames={"_sample": f}, periods=periods)


def sample_key(columns: Sequence[str]) -> list[str]:
    """What identifies a row of a sample with these columns: unit, period, indicator (and
    structure: a history's)."""
    return [c for c in columns if c not in ("value", "parent_code")]


def latest(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The last row of the frame for each key of a sample (sample_key)."""
    return frame.drop_duplicates(sample_key(columns), keep="last")


def frame_select(name: str, columns: Sequence[str], where: str = "") -> str:
    """SELECT of a registered frame's columns with the types the sample queries expect (an
    empty frame's columns have none of their own): value DOUBLE, the rest text."""
    cols = ", ".join(
        f"CAST({c} AS {'DOUBLE' if c == 'value' else 'VARCHAR'}) AS {c}" for c in columns
    )
    return f"SELECT {cols} FROM {name} {where}".rstrip()


def _as_sample(ref: pd.DataFrame | Sample, columns: Sequence[str]) -> Sample:
    return ref if isinstance(ref, Sample) else Sample.of(ref, columns)


def _period_table(codes: Sequence[str]) -> pd.DataFrame:
    """(period, kind, ord) of each readable period code: consecutive periods of a kind have
    consecutive ords (2023-12 and 2024-01 are neighbours); unreadable codes are left out."""
    rows = []
    for code in dict.fromkeys(codes):
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        rows.append((code, p.kind, p.year * _PER_YEAR[p.kind] + p.index - 1))
    return pd.DataFrame(rows, columns=["period", "kind", "ord"]).astype({"ord": "int64"})


def _sample_stats(
    query: str, values: pd.DataFrame, sample: Sample, **params: object
) -> pd.DataFrame:
    """n, mean, std, median and MAD of the sample each row of `values` is compared with, per
    `_row` (rows without any reference value are absent): the query `query` run on the
    sample's connection with `_values` (and `_periods`) registered, its pairs turned into
    statistics by outlier_stats.sql."""
    if values.empty:
        return pd.DataFrame(columns=STAT_COLUMNS, index=pd.Index([], name="_row"), dtype=float)
    frames = {**sample.frames, "_values": values}
    if "_periods" in _sql(query):
        periods = [*pd.unique(values["period"].dropna().astype(str)), *sample.periods]
        frames["_periods"] = _period_table(periods)
    con = sample.con
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        pairs = _sql(query).replace("{sample}", sample.sql)
        sql = _sql("outlier_stats").replace("{pairs}", pairs)
        stats = con.execute(sql, {**sample.params, **params}).df()
    finally:
        for name in frames:
            con.unregister(name)
    return stats.set_index("_row")[STAT_COLUMNS]


# --- scores --------------------------------------------------------------------------------------
def _base(values: pd.DataFrame) -> pd.DataFrame:
    v = values.reindex(columns=["unit_code", "period", "indicator", "value", "location"]).copy()
    v["value"] = pd.to_numeric(v["value"], errors="coerce").astype("float64")
    v["_row"] = np.arange(len(v))
    return v


def _text(column: pd.Series) -> pd.Series:
    """A key column as DuckDB reads it: text, None where missing."""
    return column.astype(object).where(column.notna(), None)


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


HISTORY_SAMPLE = ["unit_code", "period", "structure", "indicator", "value"]
PEER_SAMPLE = ["unit_code", "parent_code", "period", "indicator", "value"]


def history_scores(
    values: pd.DataFrame, history: pd.DataFrame | Sample, history_periods: int = 12
) -> pd.DataFrame:
    """One row per row of `values` (same index, SCORE_COLUMNS): its scores against the unit's
    values of the previous `history_periods` periods of the same kind (n = 0 when none).

    Where both the value and the history say their `structure` (legacy / 2025), history of
    another structure is ignored: after the 2025 reform a code may name another commune."""
    v = _base(values)
    keys = v[["_row", "unit_code", "period", "indicator"]].assign(
        unit_code=_text(v["unit_code"]), period=_text(v["period"]), indicator=_text(v["indicator"])
    )
    framed = isinstance(history, pd.DataFrame)
    if "structure" in values.columns and not (framed and "structure" not in history.columns):
        keys["structure"] = _text(pd.Series(values["structure"].to_numpy(), index=v.index))
    else:  # one side does not say: structure is not compared
        keys["structure"] = pd.Series([None] * len(v), index=v.index, dtype=object)
        if framed:
            history = history.drop(columns="structure", errors="ignore")
    sample = _as_sample(history, HISTORY_SAMPLE)
    stats = _sample_stats("outlier_history", keys, sample, n_periods=int(history_periods))
    return _scores(v, stats)


def peer_scores(
    values: pd.DataFrame,
    peers: pd.DataFrame | Sample,
    parents: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """One row per row of `values` (same index, SCORE_COLUMNS): its scores against the values
    of the same period and indicator of the other units with the same parent (n = the number of
    peers). The parent is `values.parent_code`, else `parents[unit_code]`."""
    v = _base(values)
    if "parent_code" in values.columns:
        parent = pd.Series(values["parent_code"].to_numpy(), index=v.index)
    elif parents is not None:
        parent = v["unit_code"].map(parents)
    else:
        raise ValueError("peer_scores needs values.parent_code or a parents mapping")
    keys = pd.DataFrame(
        {
            "_row": v["_row"],
            "unit_code": _text(v["unit_code"]),
            "parent_code": _text(parent),
            "period": _text(v["period"]),
            "indicator": _text(v["indicator"]),
        }
    )
    keys = keys.loc[keys["parent_code"].notna()]
    stats = _sample_stats("outlier_peers", keys, _as_sample(peers, PEER_SAMPLE))
    return _scores(v, stats)


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
    table = scores.iloc[hits].to_dict("records")  # one row per hit, without a Series each
    ways = direction.to_numpy()
    parent_of = parents.to_numpy() if parents is not None else None
    for k, row in zip(hits, table, strict=True):
        where = ways[k]
        x, med, ratio, n = float(row["value"]), float(row["median"]), row["ratio"], int(row["n"])
        ind = catalog.indicators.get(str(row["indicator"]))
        parent = str(parent_of[k]) if parent_of is not None else ""
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


def outliers_against(
    values: pd.DataFrame,
    stats: pd.DataFrame,
    rule: OutlierRule,
    catalog: Catalog,
    parents: pd.Series | None = None,
    parent_names: Mapping[str, str] | None = None,
) -> pd.Series:
    """The rule's warnings on `values` whose samples' statistics are already known: `stats`
    (STAT_COLUMNS, the same index as `values`) as `history_scores` or `peer_scores` found them.
    The web form computes a unit's statistics once and judges each value typed against them:
    the same scores, the same judgement and the same Issues as the ingest's check."""
    v = _judged(values, catalog, rule)
    base = _base(v)
    known = stats.reindex(v.index)[STAT_COLUMNS].set_axis(base["_row"].to_numpy())
    scores = _scores(base, known)
    par = parents.reindex(v.index) if parents is not None else None
    return _issues(scores, judge(scores, rule), rule, catalog, par, parent_names)


_GRID = 48  # candidate values per row and round of `usual_range`'s search
_FAR = 1e15  # beyond any figure a form holds: a value never flagged below it has no bound


def usual_range(stats: pd.DataFrame, rule: OutlierRule, whole: Sequence[bool]) -> pd.DataFrame:
    """The values the rule would not flag, for each row of `stats` (indicator and
    STAT_COLUMNS of a sample: what a value of that row is scored against): columns `low` and
    `high`, NaN where the sample is too small to judge (`high` also where no value is flagged).
    DHIS2's min-max beside a field ("thường 12-30"), said by the check itself: found with
    `judge` (each of its tests grows with the distance from the median on either side, so the
    values it flags are those beyond one point on each side), by narrowing a bracket around
    that point, every row at once, with a grid of candidates per round. `whole` rows (counts)
    get whole numbers; the others two decimals, rounded inwards."""
    st = stats.reindex(columns=STAT_COLUMNS).astype("float64").reset_index(drop=True)
    n = len(st)
    out = pd.DataFrame({"low": np.full(n, np.nan), "high": np.full(n, np.nan)}, index=stats.index)
    if not n:
        return out
    need = rule.min_history if rule.method == "history" else rule.min_peers
    med = st["median"].to_numpy()
    ok = (st["n"].to_numpy() >= need) & ~np.isnan(med)
    whole_ = np.asarray(whole, dtype=bool)
    codes = (
        stats["indicator"].to_numpy(dtype=object)
        if "indicator" in stats
        else np.full(n, "", dtype=object)
    )
    st = st.set_axis(np.arange(n))

    def flagged(rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        v = pd.DataFrame({"indicator": codes[rows], "value": x, "_row": rows})
        return (judge(_scores(v, st), rule) != "").to_numpy()

    # above the median: `a` is not flagged, `b` is (or nothing is, up to _FAR)
    a = np.where(ok, med, np.nan)
    b = np.where(ok, _FAR, np.nan)
    rows = np.flatnonzero(ok)
    far = np.zeros(n, dtype=bool)
    far[rows] = flagged(rows, b[rows])
    a, b = _narrow(a, b, far, whole_, flagged, up=True)
    high = np.where(whole_, np.floor(a), np.floor(a * 100 + 1e-9) / 100)
    out["high"] = np.where(far, high, np.nan)
    # below the median: nothing under 0 is judged; where 0 is not flagged, no lower bound
    zero = np.zeros(n, dtype=bool)
    zero[rows] = flagged(rows, np.zeros(len(rows)))
    a, b = _narrow(np.zeros(n), np.where(ok, med, 0.0), zero, whole_, flagged, up=False)
    low = np.where(whole_, np.ceil(b), np.ceil(b * 100 - 1e-9) / 100)
    out["low"] = np.where(ok, np.where(zero, low, 0.0), np.nan)
    return out


def _narrow(
    a: np.ndarray,
    b: np.ndarray,
    active: np.ndarray,
    whole: np.ndarray,
    flagged: Any,
    up: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Narrow each active row's bracket [a, b] around the point where `flagged` changes until
    nothing lies strictly between (whole rows: no whole number; others: 0.01): above the
    median (`up`) `a` stays unflagged and `b` flagged, below it `a` flagged and `b` not. Each
    round tries _GRID candidates inside every bracket (spaced geometrically while the bracket
    spans orders of magnitude), all rows in one call of `flagged`."""
    a, b = a.copy(), b.copy()
    j = np.arange(1, _GRID + 1) / (_GRID + 1)
    for _ in range(40):
        inner = np.floor(a) + 1 < b if up else np.ceil(b) - 1 > a
        rows = np.flatnonzero(active & np.where(whole, inner, b - a > 0.01))
        if not len(rows):
            break
        lo, hi = a[rows, None], b[rows, None]
        span = np.maximum(lo, 1.0)
        grid = np.where(hi / span > 100, span * (hi / span) ** j, lo + (hi - lo) * j)
        # whole rows: whole candidates strictly inside the bracket
        snapped = np.clip(
            np.ceil(grid) if up else np.floor(grid), np.floor(lo) + 1, np.ceil(hi) - 1
        )
        grid = np.where(whole[rows, None], snapped, grid)
        f = flagged(np.repeat(rows, _GRID), grid.ravel()).reshape(len(rows), _GRID)
        at = np.arange(len(rows))
        hit = f.any(axis=1)
        if up:  # the first flagged candidate and the one before it
            k = np.where(hit, f.argmax(axis=1), _GRID)
            b[rows] = np.where(hit, grid[at, np.minimum(k, _GRID - 1)], b[rows])
            a[rows] = np.where(k > 0, grid[at, np.maximum(k - 1, 0)], a[rows])
        else:  # the last flagged candidate and the one after it
            k = np.where(hit, _GRID - 1 - f[:, ::-1].argmax(axis=1), -1)
            a[rows] = np.where(hit, grid[at, np.maximum(k, 0)], a[rows])
            b[rows] = np.where(k + 1 < _GRID, grid[at, np.minimum(k + 1, _GRID - 1)], b[rows])
    return a, b


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
