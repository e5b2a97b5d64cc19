"""What the outlier check reads from the warehouse, and the check itself on a batch of results.

Plain functions (no Prefect). The current accepted values (fct_submission.is_current,
fct_value) a batch is compared with are one query each, for history and for peers
(`history_select`, `peers_select`); `add_outlier_warnings` hands them, with the batch's own
values, to validations.outliers as `Sample`s, so the statistics are computed where the values
are, in DuckDB, and appends the warnings to each ValidationResult before it is staged (so they
are stored, counted and reported like any other Issue). `load_history` and `load_peers` read
the same queries into frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog, OutlierRule
from validations.crosswalk import load_crosswalk
from validations.issue import Severity
from validations.outliers import (
    JUDGED_KINDS,
    STAT_COLUMNS,
    Sample,
    find_outliers,
    frame_select,
    history_scores,
    latest,
)
from validations.period import DEFAULT_CLOSE_DAY, PeriodError, parse_period
from validations.result import ValidationResult
from validations.units import ReferenceUnits, structure_on
from warehouse.rollup import previous_periods
from warehouse.status import ACCEPTED_SQL
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


def history_select(indicators: bool) -> str:
    """The current accepted values of the units `$u` for the periods `$p` (and the indicators
    `$i` when `indicators`): unit_code, period, structure, indicator, value."""
    where_ind = "AND v.indicator IN (SELECT unnest($i))" if indicators else ""
    return f"""
        SELECT s.unit_code, s.period, s.structure, v.indicator, v.value
        FROM fct_submission s JOIN fct_value v ON v.submission_id = s.submission_id
        WHERE s.is_current AND s.status IN {ACCEPTED_SQL}
          AND s.unit_code IN (SELECT unnest($u)) AND s.period IN (SELECT unnest($p))
          AND v.period IN (SELECT unnest($p))  -- lets DuckDB skip every other period's values
          {where_ind} AND v.value IS NOT NULL"""


def peers_select(indicators: bool) -> str:
    """The current accepted values, for the periods `$p` (and the indicators `$i` when
    `indicators`), of every unit whose parent (dim_unit, in the structure of the submission's
    period) is one of `$par`: unit_code, parent_code, period, indicator, value."""
    where_ind = "AND v.indicator IN (SELECT unnest($i))" if indicators else ""
    return f"""
        SELECT s.unit_code, u.parent_code, s.period, v.indicator, v.value
        FROM fct_submission s
        JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
        JOIN fct_value v ON v.submission_id = s.submission_id
        WHERE s.is_current AND s.status IN {ACCEPTED_SQL}
          AND u.parent_code IN (SELECT unnest($par)) AND s.period IN (SELECT unnest($p))
          AND v.period IN (SELECT unnest($p))  -- lets DuckDB skip every other period's values
          {where_ind} AND v.value IS NOT NULL"""


def _not_in_batch(structure: bool) -> str:
    """The rows `w` that no file of the batch replaces: same unit, period and indicator (and
    structure)."""
    same = " AND b.structure = w.structure" if structure else ""
    return f"""
        WHERE NOT EXISTS (SELECT 1 FROM _batch b WHERE b.unit_code = w.unit_code
                          AND b.period = w.period AND b.indicator = w.indicator{same})"""


def _without_batch(select: str, structure: bool) -> str:
    return f"SELECT w.* FROM ({select}) w {_not_in_batch(structure)}"


def _params(indicators: Sequence[str] | None, **lists: Sequence[str]) -> dict[str, object]:
    params: dict[str, object] = {k: list(dict.fromkeys(v)) for k, v in lists.items()}
    if indicators is not None:
        params["i"] = list(dict.fromkeys(indicators))
    return params


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
    sql = history_select(indicators is not None)
    params = _params(indicators, u=units, p=periods)
    return con.execute(f"{sql} ORDER BY s.unit_code, v.indicator, s.period", params).df()[
        HISTORY_COLUMNS
    ]


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
    sql = peers_select(indicators is not None)
    params = _params(indicators, par=parents, p=periods)
    order = "ORDER BY u.parent_code, s.period, v.indicator, s.unit_code"
    return con.execute(f"{sql} {order}", params).df()[PEER_COLUMNS]


def _batch_values(
    results: Sequence[ValidationResult], catalog: Catalog, units: ReferenceUnits
) -> pd.DataFrame:
    """The batch's count and decimal values, one row each, with `sub` (index of the result),
    parent_code, structure and whether the result is rejected; indicators an error already
    concerns are left out (one mistake, one Issue).

    Built from each result's value arrays (`value_columns()`, shared by the batch), never a
    DataFrame per result: 10,000 results take well under a second."""
    judged = {c for c, i in catalog.indicators.items() if i.kind in JUDGED_KINDS}
    subs: list[int] = []
    lengths: list[int] = []
    pieces: dict[str, list[np.ndarray]] = {"indicator": [], "value": [], "location": []}
    unit_of: list[str] = []
    period_of: list[str] = []
    level_of: list[object] = []
    rejected_of: list[bool] = []
    errors: set[tuple[int, str]] = set()
    for k, r in enumerate(results):
        if not r.unit_code or not r.period or not r.n_values:
            continue
        cols = r.value_columns()
        n = len(cols["indicator"])
        if not n:
            continue
        subs.append(k)
        lengths.append(n)
        for c in pieces:
            pieces[c].append(np.asarray(cols[c], dtype=object))
        unit_of.append(r.unit_code)
        period_of.append(r.period)
        level_of.append(r.level)
        has_error = False
        for i in r.issues:
            if i.severity == Severity.ERROR:
                has_error = True
                if i.indicator:
                    errors.add((k, i.indicator))
        rejected_of.append(has_error)
    if not subs:
        return pd.DataFrame(
            columns=["sub", "unit_code", "period", "level", "indicator", "value", "location"]
            + ["rejected", "parent_code", "structure"]
        )
    reps = np.asarray(lengths)
    pos = np.repeat(np.arange(len(subs)), reps)
    indicator = np.concatenate(pieces["indicator"])
    value = pd.to_numeric(pd.Series(np.concatenate(pieces["value"])), errors="coerce").to_numpy(
        dtype="float64"
    )
    keep = np.isin(indicator, list(judged)) & ~np.isnan(value)
    sub = np.asarray(subs)[pos]
    if errors:
        err = pd.MultiIndex.from_tuples(sorted(errors))
        keep &= ~pd.MultiIndex.from_arrays([sub, indicator]).isin(err)
    info: dict[tuple[str, str], tuple[str | None, str]] = {}
    for unit, period in set(zip(unit_of, period_of, strict=True)):
        try:
            on: date = parse_period(period).end(catalog.close_day)
        except PeriodError:
            continue
        u = units.get(unit, on)
        info[(unit, period)] = (u.parent_code if u else None, structure_on(on))
    parent_of = [info.get(kp, (None, None))[0] for kp in zip(unit_of, period_of, strict=True)]
    structure_of = [info.get(kp, (None, None))[1] for kp in zip(unit_of, period_of, strict=True)]
    p = pos[keep]
    df = pd.DataFrame(
        {
            "sub": sub[keep],
            "unit_code": np.asarray(unit_of, dtype=object)[p],
            "period": np.asarray(period_of, dtype=object)[p],
            "level": np.asarray(level_of, dtype=object)[p],
            "indicator": indicator[keep],
            "value": value[keep],
            "location": np.concatenate(pieces["location"])[keep],
            "rejected": np.asarray(rejected_of, dtype=bool)[p],
            "parent_code": np.asarray(parent_of, dtype=object)[p],
            "structure": np.asarray(structure_of, dtype=object)[p],
        }
    )
    return df


def history_sample(
    con: duckdb.DuckDBPyConnection,
    unit_codes: Sequence[str],
    periods: Sequence[str],
    indicators: Sequence[str],
    catalog: Catalog,
    n_periods: int,
    batch: pd.DataFrame | None = None,
) -> Sample:
    """The history the units' values of `periods` are compared with: the warehouse's current
    accepted values of the previous `n_periods` periods of the same kind, across the 2025
    reform a new unit's predecessors' (another structure: they never share a key with the
    unit's own), and the `batch`'s own accepted values (HISTORY_COLUMNS), which replace the
    warehouse's of the same unit, period and indicator."""
    if batch is None:
        batch = pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    window = history_periods(periods, n_periods, catalog.close_day)
    mapped = mapped_history(
        con,
        unit_codes,
        indicators,
        periods,
        load_crosswalk(catalog.divided_communes),
        n_periods,
        catalog.close_day,
    )
    return Sample(
        con,
        f"""{_without_batch(history_select(True), structure=True)}
        UNION ALL {frame_select("_mapped w", HISTORY_COLUMNS, _not_in_batch(True))}
        UNION ALL {frame_select("_batch", HISTORY_COLUMNS)}""",
        _params(indicators, u=unit_codes, p=window or [""]),
        {"_mapped": mapped[HISTORY_COLUMNS], "_batch": batch[HISTORY_COLUMNS]},
        [*window, *pd.unique(mapped["period"].astype(str))],
    )


def history_values(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    indicators: Sequence[str],
    catalog: Catalog,
    n_periods: int = 12,
) -> pd.DataFrame:
    """The unit's values of the `n_periods` periods of the same kind before `period` that the
    history check compares a value with (`history_sample`: across the 2025 reform, the same
    territory's, its predecessors' summed): HISTORY_COLUMNS, by period."""
    sample = history_sample(con, [unit_code], [period], list(indicators), catalog, n_periods)
    for name, frame in sample.frames.items():
        con.register(name, frame)
    try:
        out = con.execute(
            f"SELECT * FROM ({sample.sql}) ORDER BY period, indicator", dict(sample.params)
        ).df()
    finally:
        for name in sample.frames:
            con.unregister(name)
    return out[HISTORY_COLUMNS]


def history_statistics(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    indicators: Sequence[str],
    catalog: Catalog,
    rule: OutlierRule,
) -> pd.DataFrame:
    """What a value of `unit_code`'s `period` is scored against by the history `rule`, for each
    of `indicators`: indicator and STAT_COLUMNS (n, mean, std, median, mad) of the unit's
    history (`history_sample`, nothing of a batch), one row each."""
    on = parse_period(period).end(catalog.close_day)
    values = pd.DataFrame(
        {
            "unit_code": unit_code,
            "period": period,
            "indicator": list(indicators),
            "value": np.nan,
            "structure": structure_on(on),
        }
    )
    if values.empty:
        return pd.DataFrame(columns=["indicator", *STAT_COLUMNS])
    sample = history_sample(
        con, [unit_code], [period], list(indicators), catalog, rule.history_periods
    )
    scores = history_scores(values, sample, rule.history_periods)
    return scores[["indicator", *STAT_COLUMNS]].reset_index(drop=True)


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
    # the batch's own files win over the warehouse's values; of two files, the later one
    batch = latest(accepted[[*HISTORY_COLUMNS, "parent_code"]], HISTORY_COLUMNS)
    n_hist = max((r.history_periods for r in rules if r.method == "history"), default=0)
    history = (
        history_sample(con, unit_codes, periods, indicators, catalog, n_hist, batch)
        if n_hist
        else None
    )
    peers = None
    if any(r.method == "peers" for r in rules):
        parents = sorted(p for p in vals["parent_code"].dropna().unique())
        peers = Sample(
            con,
            f"""{_without_batch(peers_select(True), structure=False)}
            UNION ALL {frame_select("_batch", PEER_COLUMNS)}""",
            _params(indicators, par=parents or [""], p=periods),
            {"_batch": batch},  # one row per unit, period, indicator: a period has one structure
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
