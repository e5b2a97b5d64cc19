"""Figures: what the province reads, from the consolidated tables only (one truth).

Rollups, completeness, a unit's monthly trend, its children's figures side by side, targets,
the period's summary, the Parquet export and the lineage of a figure. Every function takes a
read connection (the CLI's read-only connection, the portal's snapshot cursor) and reads the
warehouse's views; none computes a figure of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.messages import Message, msg
from validations.period import parse_period
from validations.reform import abolished
from validations.units import ReferenceUnits
from warehouse.export import export_period
from warehouse.rollup import notes
from warehouse.rollup.reading import nothing_reported
from warehouse.summary import Summary, build_summary

# the columns of `tonghop rollup` and GET /api/rollup
ROLLUP_COLUMNS = [
    "unit_code",
    "level",
    "period",
    "indicator",
    "label_vi",
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "source",
    "target",
    "attainment",
    "attainment_points",
    "change_vs_last_year",
    "completeness",
]


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    res = con.execute(sql, params or [])
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def rollup(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> pd.DataFrame:
    """A consolidated unit's rollup (ROLLUP_COLUMNS, one row per indicator; empty when the
    period was never consolidated)."""
    return con.execute(
        f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM v_rollup WHERE unit_code = ? AND period = ?"
        " ORDER BY indicator",
        [unit_code, parse_period(period).code],
    ).df()


def no_rollup(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Message:
    """Why a unit's period has no rollup, as something that can be done: a unit the 2025
    reform abolished before the period says so and names who took over (validations.reform);
    a period consolidated while nobody had reported says how many did (consolidating again
    would change nothing: an arrival consolidates it again by itself); any other is to be
    consolidated (`not_found.rollup`)."""
    code = parse_period(period).code
    return (
        abolished(unit_code, code, units, catalog.close_day)
        or nothing_reported(con, code, unit_code)
        or msg("not_found.rollup", unit=unit_code, period=code)
    )


def approval_notes(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, catalog: Catalog
) -> list[Message]:
    """The notes of an approved period whose figures a later correction would change (last
    year's figures corrected after the approval): what changed and which approval to reopen
    (warehouse.rollup.notes). Empty for an open period, or an approved one nothing moved."""
    return notes.messages(con, unit_code, parse_period(period).code, catalog.close_day)


def rollup_rows(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str
) -> list[dict[str, Any]]:
    """Every column of v_rollup for the unit and period, one record per indicator."""
    return _records(
        con,
        "SELECT * FROM v_rollup WHERE unit_code = ? AND period = ? ORDER BY indicator",
        [unit_code, period],
    )


def completeness_row(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str
) -> dict[str, Any] | None:
    """The consolidation's completeness row (v_completeness), or None."""
    rows = _records(
        con, "SELECT * FROM v_completeness WHERE unit_code = ? AND period = ?", [unit_code, period]
    )
    return rows[0] if rows else None


def consolidated_periods(con: duckdb.DuckDBPyConnection, unit_code: str) -> list[str]:
    """The periods with a rollup of the unit, newest first."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT period FROM v_rollup WHERE unit_code = ? ORDER BY period DESC",
            [unit_code],
        ).fetchall()
    ]


def latest_consolidated_month(con: duckdb.DuckDBPyConnection, unit_code: str) -> str | None:
    """The newest month with a rollup of the unit."""
    row = con.execute(
        "SELECT max(period) FROM v_rollup WHERE unit_code = ? AND length(period) = 7",
        [unit_code],
    ).fetchall()
    return row[0][0] if row and row[0][0] else None


def trend(
    con: duckdb.DuckDBPyConnection, unit_code: str, indicator: str, periods: list[str]
) -> list[tuple[str, float]]:
    """(period, value) of the unit's indicator for those periods that have one, in order."""
    return [
        (p, float(v))
        for p, v in con.execute(
            "SELECT period, value FROM v_rollup WHERE unit_code = ? AND indicator = ?"
            " AND period IN (SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL ORDER BY period",
            [unit_code, indicator, periods],
        ).fetchall()
    ]


def values_of(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], period: str, indicator: str
) -> dict[str, float]:
    """unit_code -> the indicator's consolidated value for the period (units side by side)."""
    return {
        u: float(v)
        for u, v in con.execute(
            "SELECT unit_code, value FROM v_rollup WHERE period = ? AND indicator = ?"
            " AND unit_code IN (SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL",
            [period, indicator, unit_codes],
        ).fetchall()
    }


def last_years(
    con: duckdb.DuckDBPyConnection, unit_codes: list[str], periods: list[str], indicator: str
) -> dict[tuple[str, str], float]:
    """(unit_code, period) -> the indicator's figure of the same period a year before for the
    same territory (`last_year_value`: across the 2025 reform, the sum of the predecessors), as
    the consolidation recorded it beside the figure."""
    return {
        (u, p): float(v)
        for u, p, v in con.execute(
            "SELECT unit_code, period, last_year_value FROM v_rollup WHERE indicator = ?"
            " AND unit_code IN (SELECT unnest(?::VARCHAR[]))"
            " AND period IN (SELECT unnest(?::VARCHAR[])) AND last_year_value IS NOT NULL",
            [indicator, unit_codes, periods],
        ).fetchall()
    }


def target(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, indicator: str
) -> tuple[str, float] | None:
    """The target (op, value) the unit's figure of the period was judged against, as its rollup
    holds it (the unit's own or its province's before the form's national goal, a year's goal
    made the period's): the chart's line is the table's target. None when it has none."""
    row = con.execute(
        "SELECT target FROM v_rollup WHERE unit_code = ? AND period = ? AND indicator = ?",
        [unit_code, period, indicator],
    ).fetchall()
    text = (row[0][0] or "").strip() if row else ""
    op, _, value = text.partition(" ")
    try:
        return (op, float(value)) if op else None
    except ValueError:
        return None


def summary(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Summary:
    """The period's summary as the province publishes it (warehouse.summary): SummaryError
    when the period was never consolidated."""
    return build_summary(con, period, unit_code, catalog, units)


def export(
    con: duckdb.DuckDBPyConnection, period: str, unit_code: str, folder: str | Path
) -> dict[str, int]:
    """The period's views for the unit and the units below it, as Parquet files in `folder`;
    rows written per view."""
    return export_period(con, period, unit_code, folder)


def lineage(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> list[dict[str, Any]]:
    """Which submission versions the unit's consolidated figures were computed from."""
    return _records(
        con,
        "SELECT source_unit_code, source_unit_name, source_period, version, status, file_name,"
        " received_at FROM v_rollup_lineage WHERE unit_code = ? AND period = ?"
        " ORDER BY source_unit_code, source_period",
        [unit_code, period],
    )


def consolidation_issues(
    con: duckdb.DuckDBPyConnection, period: str, unit_codes: list[str]
) -> list[dict[str, Any]]:
    """The consolidation's issues (cross-level, quality) of these units for the period."""
    return _records(
        con,
        "SELECT unit_code, unit_name, rule_id, indicator, severity, message_vi, message_en,"
        " hint_vi, hint_en, extra FROM v_issues WHERE origin = 'consolidation' AND period = ?"
        " AND unit_code IN (SELECT unnest(?::VARCHAR[])) ORDER BY unit_code, indicator",
        [period, unit_codes],
    )
