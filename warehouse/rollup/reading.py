"""Reading consolidated figures back: what every output shows (one truth: fct_rollup).

`rollup`, `report`, `export`, the views, the portal and the quality checkpoint read the rows
consolidation stored; nothing recomputes a figure on the side. A figure that is not stored
yet is said to be missing ("consolidate first"), never made up.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from validations.messages import Message, msg
from warehouse.rollup.aggregation import ROLLUP_COLUMNS
from warehouse.rollup.completeness import Completeness
from warehouse.rollup.scope import RollupError


def read_rollup(
    con: duckdb.DuckDBPyConnection, period: str, unit_codes: str | list[str]
) -> pd.DataFrame:
    """The stored rollup rows (ROLLUP_COLUMNS + consolidated_at) of units for a period."""
    codes = [unit_codes] if isinstance(unit_codes, str) else list(unit_codes)
    return con.execute(
        f"SELECT {', '.join(ROLLUP_COLUMNS)}, consolidated_at FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u)) ORDER BY unit_code, indicator",
        {"p": period, "u": codes or [""]},
    ).df()


def rollup(con: duckdb.DuckDBPyConnection, period: str, unit_code: str, *_: object) -> pd.DataFrame:
    """One unit's stored rollup; RollupError (what to do next) when it was never consolidated."""
    df = read_rollup(con, period, unit_code)
    if df.empty:
        raise RollupError("rollup.not_consolidated", unit=unit_code, period=period)
    return df


COMPLETENESS_SQL = """
    SELECT unit_code, level, period, structure, child_level, deadline, expected_units,
           missing_units, late_units, via_children, children_complete, leaves_expected,
           leaves_received, leaves_missing, months, leaves_months_expected,
           leaves_months_received, partial_units, partial_months
    FROM fct_completeness WHERE period = $p AND unit_code IN (SELECT unnest($u))
    ORDER BY unit_code
"""


def read_completeness_many(
    con: duckdb.DuckDBPyConnection, period: str, unit_codes: list[str]
) -> dict[str, Completeness]:
    """The stored completeness of consolidated units, by unit code."""
    out = {}
    for r in con.execute(COMPLETENESS_SQL, {"p": period, "u": unit_codes or [""]}).fetchall():
        (
            unit,
            level,
            per,
            structure,
            child_level,
            deadline,
            expected,
            missing,
            late,
            via,
            complete,
            leaves_exp,
            leaves_rec,
            leaves_missing,
            months,
            months_exp,
            months_rec,
            partial_units,
            partial_months,
        ) = r
        expected = list(expected or [])
        gone, late = set(missing or []), list(late or [])
        received = [c for c in expected if c not in gone]
        out[unit] = Completeness(
            unit,
            level,
            per,
            structure,
            child_level,
            deadline if isinstance(deadline, date) or deadline is None else None,
            expected,
            received,
            [c for c in received if c not in set(late)],
            late,
            list(via or []),
            list(complete or []),
            int(leaves_exp or 0),
            int(leaves_rec or 0),
            list(leaves_missing or []),
            int(months or 1),
            int(months_exp or 0),
            int(months_rec or 0),
            dict(zip(partial_units or [], partial_months or [], strict=True)),
        )
    return out


def read_completeness(
    con: duckdb.DuckDBPyConnection, period: str, unit_code: str
) -> Completeness | None:
    """The stored completeness of a consolidated unit, or None."""
    return read_completeness_many(con, period, [unit_code]).get(unit_code)


def nothing_reported(con: duckdb.DuckDBPyConnection, period: str, unit_code: str) -> Message | None:
    """For a unit consolidated for the period without any figure (none of its units reported
    the period or the periods inside it): that sentence, with the count; None otherwise (not
    consolidated, or it has figures)."""
    row = con.execute(
        "SELECT expected, received, consolidated_at FROM fct_completeness"
        " WHERE unit_code = ? AND period = ?",
        [unit_code, period],
    ).fetchall()
    if not row:
        return None
    has = con.execute(
        "SELECT count(*) FROM fct_rollup WHERE unit_code = ? AND period = ? AND value IS NOT NULL",
        [unit_code, period],
    ).fetchall()[0][0]
    if has:
        return None
    expected, received, at = row[0]
    return msg(
        "rollup.nothing_reported",
        unit=unit_code,
        period=period,
        received=int(received or 0),
        expected=int(expected or 0),
        at=at,
    )
