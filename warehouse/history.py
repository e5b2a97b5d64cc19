"""What the outlier check reads from the warehouse, and the check itself on a batch of results.

Plain functions (no Prefect). `load_history` and `load_peers` read the current accepted values
(fct_submission.is_current, fct_value) of a whole batch in one query each; `add_outlier_warnings`
runs validations.outliers on a batch and appends the warnings to each ValidationResult, before
it is staged (so they are stored, counted and reported like any other Issue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.crosswalk import load_crosswalk
from validations.issue import Severity
from validations.outliers import JUDGED_KINDS, find_outliers
from validations.period import DEFAULT_CLOSE_DAY, PeriodError, parse_period
from validations.result import ValidationResult
from validations.units import ReferenceUnits, structure_on
from warehouse.rollup import previous_periods
from warehouse.territory import mapped_history

HISTORY_COLUMNS = ["unit_code", "period", "structure", "indicator", "value"]
PEER_COLUMNS = ["unit_code", "parent_code", "period", "indicator", "value"]


def _periods(periods: str | Iterable[str]) -> list[str]:
    return [periods] if isinstance(periods, str) else list(dict.fromkeys(periods))


def history_periods(
    before_period: str | Iterable[str], n_periods: int, close_day: int = DEFAULT_CLOSE_DAY
) -> list[str]:
    """The previous `n_periods` periods of the same kind of each period, in the structure in
    force for it (after the 2025 reform a code may name another commune: a new unit's history
    before it is its predecessors', warehouse/territory.py)."""
    out: dict[str, None] = {}
    for code in _periods(before_period):
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        own = structure_on(p.end(close_day))
        for q in previous_periods(p, n_periods):
            if structure_on(q.end(close_day)) == own:
                out[q.code] = None
    return list(out)


def load_history(
    con: duckdb.DuckDBPyConnection,
    units: Sequence[str],
    indicators: Sequence[str] | None,
    before_period: str | Iterable[str],
    n_periods: int = 12,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> pd.DataFrame:
    """Current accepted values of `units` for the `n_periods` periods of the same kind before
    `before_period` (one period or several: the union of their windows), in one query.

    Columns HISTORY_COLUMNS; `indicators` None means all."""
    periods = history_periods(before_period, n_periods, close_day)
    if not units or not periods or (indicators is not None and not indicators):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    where_ind = "AND v.indicator IN (SELECT unnest($i))" if indicators is not None else ""
    params: dict[str, object] = {"u": list(dict.fromkeys(units)), "p": periods}
    if indicators is not None:
        params["i"] = list(dict.fromkeys(indicators))
    return con.execute(
        f"""
        SELECT s.unit_code, s.period, s.structure, v.indicator, v.value
        FROM fct_submission s JOIN fct_value v ON v.submission_id = s.submission_id
        WHERE s.is_current AND s.status IN ('accepted', 'accepted_with_warnings')
          AND s.unit_code IN (SELECT unnest($u)) AND s.period IN (SELECT unnest($p))
          {where_ind} AND v.value IS NOT NULL
        ORDER BY s.unit_code, v.indicator, s.period
        """,
        params,
    ).df()[HISTORY_COLUMNS]


def load_peers(
    con: duckdb.DuckDBPyConnection,
    parents: Sequence[str],
    periods: str | Iterable[str],
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Current accepted values, for `periods`, of every unit whose parent (dim_unit, in the
    structure of the submission's period) is one of `parents`, in one query.

    Columns PEER_COLUMNS; `indicators` None means all."""
    periods = _periods(periods)
    if not parents or not periods or (indicators is not None and not indicators):
        return pd.DataFrame(columns=PEER_COLUMNS)
    where_ind = "AND v.indicator IN (SELECT unnest($i))" if indicators is not None else ""
    params: dict[str, object] = {"par": list(dict.fromkeys(parents)), "p": periods}
    if indicators is not None:
        params["i"] = list(dict.fromkeys(indicators))
    return con.execute(
        f"""
        SELECT s.unit_code, u.parent_code, s.period, v.indicator, v.value
        FROM fct_submission s
        JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
        JOIN fct_value v ON v.submission_id = s.submission_id
        WHERE s.is_current AND s.status IN ('accepted', 'accepted_with_warnings')
          AND u.parent_code IN (SELECT unnest($par)) AND s.period IN (SELECT unnest($p))
          {where_ind} AND v.value IS NOT NULL
        ORDER BY u.parent_code, s.period, v.indicator, s.unit_code
        """,
        params,
    ).df()[PEER_COLUMNS]


def _batch_values(
    results: Sequence[ValidationResult], catalog: Catalog, units: ReferenceUnits
) -> pd.DataFrame:
    """The batch's count and decimal values, one row each, with `sub` (index of the result),
    parent_code, structure and whether the result is rejected; indicators an error already
    concerns are left out (one mistake, one Issue)."""
    judged = {c for c, i in catalog.indicators.items() if i.kind in JUDGED_KINDS}
    cols: dict[str, list[object]] = {
        c: [] for c in ("sub", "unit_code", "period", "level", "indicator", "value", "location")
    }
    rejected: list[bool] = []
    for k, r in enumerate(results):
        if not r.unit_code or not r.period or not len(r.values):
            continue
        v = r.values
        errs = {i.indicator for i in r.issues if i.severity == Severity.ERROR and i.indicator}
        keep = v["indicator"].isin(judged - errs) & v["value"].notna()
        n = int(keep.sum())
        cols["sub"] += [k] * n
        cols["unit_code"] += [r.unit_code] * n
        cols["period"] += [r.period] * n
        cols["level"] += [r.level] * n
        for c in ("indicator", "value", "location"):
            cols[c] += v.loc[keep, c].tolist()
        rejected += [bool(r.errors)] * n
    df = pd.DataFrame(cols)
    df["value"] = df["value"].astype("float64")
    df["rejected"] = rejected
    keys = df[["unit_code", "period"]].drop_duplicates()
    info = {}
    for unit, period in keys.itertuples(index=False):
        try:
            on: date = parse_period(period).end(catalog.close_day)
        except PeriodError:
            continue
        u = units.get(unit, on)
        info[(unit, period)] = (u.parent_code if u else None, structure_on(on))
    pairs = list(zip(df["unit_code"], df["period"], strict=True))
    df["parent_code"] = [info.get(p, (None, None))[0] for p in pairs]
    df["structure"] = [info.get(p, (None, None))[1] for p in pairs]
    return df


def add_outlier_warnings(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[ValidationResult],
    catalog: Catalog,
    units: ReferenceUnits,
) -> int:
    """Run the catalog's outlier rules on a batch and append the warnings to the results.

    History: the warehouse's current accepted values of the previous periods, plus the batch's
    own accepted files of earlier periods. Peers: the current accepted values of the other
    units with the same parent for the same period, the batch's accepted files taking
    precedence. Each result's `checked` gets the number of values each rule could judge.
    Returns the number of warnings added."""
    rules = list(catalog.outlier_rules.values())
    if not rules or not results:
        return 0
    vals = _batch_values(results, catalog, units)
    if vals.empty:
        return 0
    unit_codes = sorted(vals["unit_code"].unique())
    periods = sorted(vals["period"].unique())
    indicators = sorted(vals["indicator"].unique())
    accepted = vals.loc[~vals["rejected"]]
    n_hist = max((r.history_periods for r in rules if r.method == "history"), default=0)
    history = None
    if n_hist:
        history = load_history(con, unit_codes, indicators, periods, n_hist, catalog.close_day)
        # across the 2025 reform: a new unit's history before it is its predecessors'
        mapped = mapped_history(
            con,
            unit_codes,
            indicators,
            periods,
            load_crosswalk(catalog.divided_communes),
            n_hist,
            catalog.close_day,
        )
        history = pd.concat(
            [history, mapped, accepted[HISTORY_COLUMNS]], ignore_index=True
        )  # the batch's own files last: they win over the warehouse
    peers = None
    if any(r.method == "peers" for r in rules):
        parents = sorted(p for p in vals["parent_code"].dropna().unique())
        peers = pd.concat(
            [load_peers(con, parents, periods, indicators), accepted[PEER_COLUMNS]],
            ignore_index=True,
        )
    names = {}
    for parent, period in (
        vals[["parent_code", "period"]].dropna().drop_duplicates().itertuples(index=False)
    ):
        u = units.get(parent, parse_period(period).end(catalog.close_day))
        if u is not None:
            names[parent] = u.name
    issues, judged = find_outliers(
        vals,
        history if history is not None else pd.DataFrame(columns=HISTORY_COLUMNS),
        peers,
        catalog,
        parent_names=names,
    )
    for label, issue in issues.items():
        results[int(vals.at[label, "sub"])].issues.append(issue)
    counts = judged.groupby(vals["sub"]).sum()
    for k, row in counts.iterrows():
        checked = results[int(k)].checked
        for rule_id, n in row.items():
            checked[str(rule_id)] = checked.get(str(rule_id), 0) + int(n)
    return len(issues)
