"""A unit's page: what one unit sent for a period and before it (the drill-down below a grid).

Its versions for the period (service.submissions, with the unit's state by service.status),
the values of its current version beside the same period last year (the unit's own current
values then: a commune's report against its report a year before), its history (each period
it sent: versions, current status, when) and the approvals that lock the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from service.submissions import versions
from validations.catalog import Catalog
from validations.period import parse_period
from warehouse.approval import approval_row, locks_above

VALUES_SQL = """
SELECT v.indicator, v.value, v.note, v.location FROM fct_value v
WHERE v.submission_id = $sid ORDER BY v.location, v.indicator
"""
LAST_YEAR_SQL = """
SELECT v.indicator, v.value FROM fct_submission s
JOIN fct_value v ON v.submission_id = s.submission_id
WHERE s.unit_code = $u AND s.period = $p AND s.is_current
"""
HISTORY_SQL = """
SELECT period, n_versions, current_version, current_status, latest_status, n_rejected,
       n_held, last_received_at, approval_state, current_submission_id
FROM v_submission_status WHERE unit_code = $u
"""


@dataclass
class UnitOverview:
    """One unit's period, and its history."""

    unit_code: str
    period: str
    versions: list[dict[str, Any]] = field(default_factory=list)  # newest first
    values: list[dict[str, Any]] = field(default_factory=list)  # of the current version
    history: list[dict[str, Any]] = field(default_factory=list)  # newest period first
    approval: dict[str, Any] | None = None  # the unit's own for the period
    locks: list[dict[str, Any]] = field(default_factory=list)  # approvals above that lock it

    @property
    def current(self) -> dict[str, Any] | None:
        return next((v for v in self.versions if v["is_current"]), None)


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    res = con.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def overview(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    catalog: Catalog,
    history: int = 24,
) -> UnitOverview:
    """The unit's versions, current values (with last year's), history and approvals."""
    p = parse_period(period)
    out = UnitOverview(unit_code, p.code)
    out.versions = versions(con, [unit_code], p.code, catalog)
    cur = out.current
    if cur is not None:
        last = {
            r["indicator"]: r["value"]
            for r in _records(
                con, LAST_YEAR_SQL, {"u": unit_code, "p": p.same_period_last_year().code}
            )
        }
        out.values = _records(con, VALUES_SQL, {"sid": cur["submission_id"]})
        for v in out.values:
            v["last_year"] = last.get(v["indicator"])
    close = catalog.close_day
    rows = _records(con, HISTORY_SQL, {"u": unit_code})
    rows.sort(key=lambda r: (parse_period(r["period"]).end(close), r["period"]), reverse=True)
    out.history = rows[:history]
    out.approval = approval_row(con, unit_code, p.code)
    out.locks = locks_above(con, unit_code, p.code, close)
    return out
