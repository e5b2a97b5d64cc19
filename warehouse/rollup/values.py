"""The values a unit *has* for a period (its effective values), and when it first had them.

A unit's effective values for a period are those of its current accepted submission for that
period; else, for a quarter, half-year or year that it did not submit directly, values built
from its current monthly submissions, provided the period does not straddle the 2025 reform
(the year 2025 closes in the two-level structure, but its first months were reported by legacy
units, some of whose codes now name other communes). A unit that sent only some of the months
is treated as the catalog says (`calendar: partial_months`): `sum_reported` (the default, as
DHIS2 does: the months it sent; the unit is listed as partial, with its months, and the report
says so: a commune that sent five of six months keeps its cases in its district's half-year) or
`leave_out` (no figure for the period). Over the months, each indicator aggregates as the
catalog says (`over_time`): flows are summed, stocks take the last month's value (the last one
sent); rates are never summed or averaged: they are recomputed from the aggregated parts
(aggregation.py).
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
    submissions they come from (its lineage). Which units sent only some of the months is
    said by completeness (`arrivals`)."""

    frame: pd.DataFrame
    sources: dict[str, list[str]] = field(default_factory=dict)

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
            "min_months": len(months) if catalog.partial_months == "leave_out" else 1,
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


@dataclass
class Arrivals:
    """Which units have a period: `received` (a current accepted version of the period, or of
    all its months) -> first acceptance time; `months_sent` -> the months each unit has (all
    of them for a direct version; for a month, 1) out of `months`."""

    received: dict[str, datetime | None]
    months_sent: dict[str, int]
    months: int


def arrivals(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, close_day: int
) -> Arrivals:
    """Received units and the months each unit sent (one query)."""
    months = buildable_months(period, close_day)
    n = len(months) or 1
    if not unit_codes:
        return Arrivals({}, {}, n)
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
    sent = {u: n for u in direct}
    for unit, got in by_month.items():
        if unit in out:
            continue
        sent[unit] = len(got)
        if months and len(got) == len(months):
            times = [t for t in got.values() if t is not None]
            out[unit] = max(times) if times else None
    return Arrivals(out, sent, n)
