"""Submissions: the stored versions of a period, each with its status and issues.

What "Báo cáo đã gửi", a version's page, the verdict page ("stored as version 2") and `GET
/api/submissions` show. A version's shown status adds `superseded` to the stored one (an
accepted version another one replaced). Whether a unit was on time is the unit's, not a
version's (service.status): each row carries its unit's state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from service.status import senders
from validations.catalog import Catalog
from validations.period import parse_period

VERSIONS_SQL = """
SELECT s.submission_id, s.unit_code, u.name AS unit_name, s.level, s.period, s.version,
       s.status, s.is_current, s.received_at, s.loaded_at, s.n_values, s.n_errors,
       s.n_warnings, s.content_hash, s.file_name,
       EXISTS (SELECT 1 FROM fct_submission n WHERE n.supersedes = s.submission_id) AS superseded
FROM fct_submission s
LEFT JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
WHERE s.period = ? AND s.unit_code IN (SELECT unnest(?::VARCHAR[]))
ORDER BY s.unit_code, s.version DESC
"""
ISSUES_SQL = """
SELECT rule_id, severity, indicator, location, value, expected, message_vi, message_en,
       hint_vi, hint_en, extra
FROM v_issues WHERE origin = 'submission' AND submission_id = ?
ORDER BY severity, location
"""


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    res = con.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def shown_status(row: dict[str, Any]) -> str:
    """The stored status, or `superseded` for an accepted version another one replaced."""
    status = str(row["status"])
    if status.startswith("accepted") and not row["is_current"] and row["superseded"]:
        return "superseded"
    return status


def versions(
    con: duckdb.DuckDBPyConnection,
    unit_codes: list[str],
    period: str,
    catalog: Catalog,
) -> list[dict[str, Any]]:
    """Every stored version of these units for the period (newest first per unit), with
    `shown_status`, `file_short` (the file's own name) and `unit_state` (service.status)."""
    p = parse_period(period).code
    rows = _records(con, VERSIONS_SQL, [p, unit_codes])
    states = {s["unit_code"]: s["state"] for s in senders(con, p, catalog, unit_codes)}
    for r in rows:
        r["shown_status"] = shown_status(r)
        r["file_short"] = Path(r["file_name"] or "").name
        r["unit_state"] = states.get(r["unit_code"])
    return rows


def version(con: duckdb.DuckDBPyConnection, submission_id: str) -> dict[str, Any] | None:
    """One stored version's unit and period (None when there is no such version)."""
    rows = _records(
        con,
        "SELECT submission_id, unit_code, period FROM fct_submission WHERE submission_id = ?",
        [submission_id],
    )
    return rows[0] if rows else None


def issues(con: duckdb.DuckDBPyConnection, submission_id: str) -> list[dict[str, Any]]:
    """A stored version's issues, as its report lists them."""
    return _records(con, ISSUES_SQL, [submission_id])


def stored(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, content_hash: str
) -> dict[str, Any] | None:
    """The stored version holding this content (the first one), or None while not stored."""
    rows = _records(
        con,
        "SELECT submission_id, version, status, is_current, received_at, loaded_at, supersedes"
        " FROM fct_submission WHERE unit_code = ? AND period = ? AND content_hash = ?"
        " ORDER BY version LIMIT 1",
        [unit_code, period, content_hash],
    )
    return rows[0] if rows else None


def current(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> dict[str, Any] | None:
    """The unit's current version for the period (version, status), or None."""
    rows = _records(
        con,
        "SELECT version, status, submission_id, received_at FROM fct_submission"
        " WHERE unit_code = ? AND period = ? AND is_current",
        [unit_code, period],
    )
    return rows[0] if rows else None


def stored_since(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, content_hash: str, since: Any
) -> dict[str, Any] | None:
    """The version holding this content loaded at or after `since` (an upload's receipt): the
    one the upload's own ingest stored (or a copy sent with it in one batch); None otherwise."""
    rows = _records(
        con,
        "SELECT submission_id, version, status, is_current, received_at, loaded_at, supersedes,"
        " batch_id FROM fct_submission WHERE unit_code = ? AND period = ? AND content_hash = ?"
        " AND loaded_at >= ? ORDER BY version LIMIT 1",
        [unit_code, period, content_hash, since],
    )
    return rows[0] if rows else None
