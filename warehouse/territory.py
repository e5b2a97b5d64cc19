"""The same territory across the 2025 reform, for what reads submitted values (not rollups).

A commune of the two-level structure has no history of its own before 1 July 2025, but its
territory does: its predecessors' (validations/crosswalk.py). `mapped_history` gives, for the
periods before the reform inside a history window, each new unit's values as the sum of its
predecessors' current accepted values, shares applied, when every predecessor reported; the
outlier check (warehouse/history.py) reads them like the unit's own history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from validations.crosswalk import Crosswalk
from validations.period import DEFAULT_CLOSE_DAY, PeriodError, parse_period
from validations.units import structure_on
from warehouse.rollup.scope import previous_periods
from warehouse.status import ACCEPTED_SQL

HISTORY_COLUMNS = ["unit_code", "period", "structure", "indicator", "value"]


def _legacy_window(before: Iterable[str], n_periods: int, close_day: int) -> list[str]:
    out: dict[str, None] = {}
    for code in before:
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        if structure_on(p.end(close_day)) != "2025":
            continue
        for q in previous_periods(p, n_periods):
            if structure_on(q.end(close_day)) == "legacy":
                out[q.code] = None
    return list(out)


def mapped_history(
    con: duckdb.DuckDBPyConnection,
    unit_codes: Sequence[str],
    indicators: Sequence[str] | None,
    before_period: str | Iterable[str],
    crosswalk: Crosswalk,
    n_periods: int = 12,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> pd.DataFrame:
    """Values (HISTORY_COLUMNS, structure '2025') of new units for the periods before the reform
    in their history windows: the sum of their predecessors' values, shares applied."""
    before = [before_period] if isinstance(before_period, str) else list(before_period)
    periods = _legacy_window(before, n_periods, close_day)
    links = pd.DataFrame(
        [
            (u, link.old_code, link.share)
            for u in dict.fromkeys(unit_codes)
            for link in crosswalk.predecessors(u)
        ],
        columns=["unit_code", "old_code", "share"],
    )
    if not periods or links.empty or (indicators is not None and not len(indicators)):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    where_ind = "AND v.indicator IN (SELECT unnest($i))" if indicators is not None else ""
    params: dict[str, object] = {"u": sorted(set(links["old_code"])), "p": periods}
    if indicators is not None:
        params["i"] = list(dict.fromkeys(indicators))
    old = con.execute(
        f"""
        SELECT s.unit_code AS old_code, s.period, v.indicator, v.value
        FROM fct_submission s JOIN fct_value v ON v.submission_id = s.submission_id
        WHERE s.is_current AND s.status IN {ACCEPTED_SQL} AND s.structure = 'legacy'
          AND s.unit_code IN (SELECT unnest($u)) AND s.period IN (SELECT unnest($p))
          AND v.period IN (SELECT unnest($p)) {where_ind} AND v.value IS NOT NULL
        """,
        params,
    ).df()
    if old.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    n_links = links.groupby("unit_code").size().rename("n_links")
    joined = links.merge(old, on="old_code")
    joined["value"] = joined["value"] * joined["share"]
    agg = joined.groupby(["unit_code", "period", "indicator"], as_index=False).agg(
        value=("value", "sum"), n=("value", "size")
    )
    agg = agg.join(n_links, on="unit_code")
    agg = agg.loc[agg["n"] == agg["n_links"]].assign(structure="2025")
    return agg[HISTORY_COLUMNS].reset_index(drop=True)
