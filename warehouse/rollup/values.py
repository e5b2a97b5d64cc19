"""The values a unit *has* for a period (its effective values), and when it first had them.

A unit's effective values for a period are those of its current accepted submission for that
period; else, for a quarter, half-year or year that it did not submit directly, values built
from its current submissions of the periods inside it (pieces.py: half-years, quarters,
months; the coarser report of the same months wins), across the 2025 reform too: the year 2025
of a unit of the two-level structure takes its first half from its predecessors' reports
(validations/crosswalk.py, shares applied). A unit whose pieces cover only some of the months
is treated as the catalog says (`calendar: partial_months`): `sum_reported` (the default, as
DHIS2 does: the months it sent; the unit is listed as partial, with its months, and the report
says so: a commune that sent five of six months keeps its cases in its district's half-year) or
`leave_out` (no figure for the period). Over the pieces, each indicator aggregates as the
catalog says (`over_time`): flows are summed, stocks take the last piece's value (the last one
sent); rates are never summed or averaged: they are recomputed from the aggregated parts
(aggregation.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.period import Period
from warehouse.rollup.pieces import pieces_query
from warehouse.status import ACCEPTED_SQL

VALUE_COLUMNS = ["unit_code", "indicator", "value", "origin"]


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
    query, params = pieces_query(
        period,
        list(unit_codes),
        catalog,
        "effective_values",
        {
            "period": period.code,
            "min_months": period.months if catalog.partial_months == "leave_out" else 1,
            "stocks": catalog.stocks(),
            "rates": catalog.codes(aggregation="ratio"),
            "flags": catalog.codes(aggregation="count_share"),
        },
    )
    df = con.execute(query, params).df()
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
    """Which units have a period: `received` (a current accepted version of the period, or
    of pieces covering all its months) -> when the last of them was first accepted;
    `months_sent` -> the months each unit has (all of them for a direct version) out of
    `months`."""

    received: dict[str, datetime | None]
    months_sent: dict[str, int]
    months: int


def arrivals(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: Period, catalog: Catalog
) -> Arrivals:
    """Received units and the months each unit sent (one query)."""
    n = period.months
    if not unit_codes:
        return Arrivals({}, {}, n)
    query, params = pieces_query(period, list(unit_codes), catalog, "arrivals")
    rows = con.execute(query.replace("{accepted}", ACCEPTED_SQL), params).fetchall()
    sent = {str(u): int(m) for u, m, _ in rows}
    received = {str(u): at for u, m, at in rows if int(m) >= n}
    return Arrivals(received, sent, n)
