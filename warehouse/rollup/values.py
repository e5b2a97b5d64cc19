"""The values a unit *has* for a period (its effective values), and when it first had them.

A unit's effective values for a period are those of its current accepted submission for that
period; else, for a quarter, half-year or year that it did not submit directly, values built
from its current monthly submissions when ALL the months are there (a partial sum would
silently understate the counts) and the period does not straddle the 2025 reform (the year
2025 closes in the two-level structure, but its first months were reported by legacy units,
some of whose codes now name other communes). Over the months, each indicator aggregates as the
catalog says (`over_time`): flows are summed, stocks take the last month's value; rates are never
summed or averaged: they are recomputed from the aggregated parts (aggregation.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.period import Period
from warehouse.rollup.scope import buildable_months
from warehouse.status import ACCEPTED_SQL

VALUE_COLUMNS = ["unit_code", "indicator", "value", "origin"]


@cache
def sql(name: str) -> str:
    """The text of warehouse/rollup/sql/<name>.sql."""
    return files("warehouse.rollup").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


@dataclass
class EffectiveValues:
    """Values [unit_code, indicator, value, origin direct|months] and, per unit, the ids of the
    submissions they come from (its lineage)."""

    frame: pd.DataFrame
    sources: dict[str, list[str]] = field(default_factory=dict)

    def of(self, unit_code: str) -> dict[str, float]:
        """One unit's values by indicator (missing values left out)."""
        part = self.frame.loc[self.frame["unit_code"] == unit_code]
        return {
            str(i): float(v)
            for i, v in zip(part["indicator"], part["value"], strict=True)
            if not pd.isna(v)
        }

    def by_unit(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for u, code, v in zip(
            self.frame["unit_code"].tolist(),
            self.frame["indicator"].tolist(),
            self.frame["value"].tolist(),
            strict=True,
        ):
            if not pd.isna(v):
                out.setdefault(u, {})[code] = float(v)
        return out


def effective_values(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, catalog: Catalog
) -> EffectiveValues:
    """Effective values of units for a period, and their source submissions, in one query."""
    if not unit_codes:
        return EffectiveValues(pd.DataFrame(columns=VALUE_COLUMNS))
    months = buildable_months(period, catalog.close_day)
    df = con.execute(
        sql("effective_values"),
        {
            "period": period.code,
            "units": list(unit_codes),
            "months": months or [""],
            "n_months": len(months),
            "stocks": catalog.stocks() or [""],
            "rates": catalog.codes(aggregation="ratio") or [""],
        },
    ).df()
    is_source = df["origin"] == "source"
    sources: dict[str, list[str]] = {}
    for u, sid in zip(
        df.loc[is_source, "unit_code"], df.loc[is_source, "submission_id"], strict=True
    ):
        sources.setdefault(str(u), []).append(str(sid))
    values = df.loc[~is_source].reindex(columns=VALUE_COLUMNS).reset_index(drop=True)
    return EffectiveValues(values, sources)


def unit_values(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, catalog: Catalog
) -> pd.DataFrame:
    """Effective values [unit_code, indicator, value, origin direct|months] of units."""
    return effective_values(con, unit_codes, period, catalog).frame


def first_accepted(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, close_day: int
) -> dict[str, datetime | None]:
    """Received units (current accepted version, or all months) -> first acceptance time."""
    if not unit_codes:
        return {}
    months = buildable_months(period, close_day)
    rows = con.execute(
        f"""
        SELECT unit_code, period,
               bool_or(is_current) AS has_current,
               min(received_at) FILTER (WHERE validation_status IN {ACCEPTED_SQL}) AS first_at
        FROM fct_submission
        WHERE unit_code IN (SELECT unnest($units)) AND period IN (SELECT unnest($periods))
        GROUP BY unit_code, period
        """,
        {"units": list(unit_codes), "periods": [period.code, *months]},
    ).fetchall()
    direct: dict[str, datetime | None] = {}
    by_month: dict[str, dict[str, datetime | None]] = {}
    for unit, per, has_current, first_at in rows:
        if not has_current:
            continue
        if per == period.code:
            direct[unit] = first_at
        else:
            by_month.setdefault(unit, {})[per] = first_at
    out = dict(direct)
    for unit, got in by_month.items():
        if unit not in out and months and len(got) == len(months):
            times = [t for t in got.values() if t is not None]
            out[unit] = max(times) if times else None
    return out
