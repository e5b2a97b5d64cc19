"""Status: who sent what for a period, on time or late, missing, rejected, held, approved.

One definition for the steward's grid, the submissions list, `tonghop status`, the API and the
notices. A unit is *received* when it has a current accepted version for the period (for a
quarter, half-year or year: that, or all its months), or, for a unit with units below it, when
all of those are received; it is *on time* when its first accepted version (or, credited
through its children, the last of theirs) arrived by the deadline of its level (the catalog's
calendar), *late* otherwise: a correction sent after the deadline does not make an on-time
unit late. A unit that sent only rejected versions is *rejected*, one that sent nothing
*missing*. *Held* (a version waiting for an approval above it to be lifted) is a mark beside
the state, never instead of it. This is `warehouse.rollup.completeness`, the rule the
consolidation records, computed live: the grid is right before the first consolidation too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from validations.catalog import Catalog
from validations.period import parse_period
from validations.units import ReferenceUnits, Unit
from warehouse.rollup import Completeness, completeness
from warehouse.rollup.completeness import is_late, level_deadline
from warehouse.rollup.scope import RollupError

STATES = ("on_time", "late", "missing", "rejected")
_SUBMISSIONS = """
SELECT s.unit_code, count(*) AS n_versions,
       max(CASE WHEN s.is_current THEN s.version END) AS current_version,
       max(CASE WHEN s.is_current THEN s.status END) AS current_status,
       max(CASE WHEN s.is_current THEN s.received_at END) AS current_received_at,
       max(CASE WHEN s.is_current THEN s.submission_id END) AS current_submission_id,
       arg_max(s.status, s.version) AS latest_status,
       count(*) FILTER (WHERE s.status = 'rejected') AS n_rejected,
       count(*) FILTER (WHERE s.status = 'held') AS n_held
FROM fct_submission s
WHERE s.period = $p AND s.unit_code IN (SELECT unnest($codes::VARCHAR[]))
GROUP BY s.unit_code
"""
_APPROVALS = """
SELECT unit_code, state, actor, "at" FROM fct_approval
WHERE period = $p AND unit_code IN (SELECT unnest($codes::VARCHAR[]))
"""


@dataclass
class UnitStatus:
    """One unit's standing for the period."""

    code: str
    name: str
    level: str
    state: str  # on_time | late | missing | rejected
    held: int = 0  # versions held by an approval
    received_at: datetime | None = None  # when it counted as received (first accepted)
    current_version: int | None = None
    current_status: str | None = None
    current_received_at: datetime | None = None
    current_submission_id: str | None = None
    n_versions: int = 0
    n_rejected: int = 0
    via_children: bool = False  # received through its own children, no form of its own
    children: str = ""  # "12/14": its own children received (a district)
    approval: dict[str, Any] | None = None  # state, actor, at

    @property
    def on_time(self) -> bool:
        return self.state == "on_time"

    @property
    def late(self) -> bool:
        return self.state == "late"


@dataclass
class PeriodStatus:
    """A unit's children for a period, and the unit's own standing."""

    unit: Unit
    period: str
    completeness: Completeness
    rows: list[UnitStatus]
    approval: dict[str, Any] | None = None  # the unit's own approval
    consolidated_at: datetime | None = None
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def deadline(self) -> date | None:
        return self.completeness.deadline

    def count(self, state: str) -> int:
        return self.counts[state]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict]:  # type: ignore[type-arg]
    res = con.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def period_status(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> PeriodStatus:
    """The standing of each unit below `unit_code` for `period` (a district's communes, a
    province's districts or, in the two-level structure, its communes). RollupError when the
    unit has no units below it or does not exist for the period."""
    p = parse_period(period)
    comp = completeness(con, p.code, unit_code, catalog, units)
    on = p.end(catalog.close_day)
    top = units.get(unit_code, on)
    assert top is not None  # completeness() refused an unknown unit
    kids = units.children(unit_code, on)
    codes = [k.code for k in kids]
    everyone = [unit_code, *codes]
    subs = {r["unit_code"]: r for r in _rows(con, _SUBMISSIONS, {"p": p.code, "codes": codes})}
    approvals = {
        r["unit_code"]: r for r in _rows(con, _APPROVALS, {"p": p.code, "codes": everyone})
    }
    done = con.execute(
        "SELECT consolidated_at FROM fct_completeness WHERE unit_code = ? AND period = ?",
        [unit_code, p.code],
    ).fetchall()
    late, received = set(comp.late), set(comp.received)
    grandkids = {k.code: units.children(k.code, on) for k in kids if k.level != "C"}
    got_leaves = _received_leaves(con, grandkids, p.code, catalog, units)
    rows = []
    for k in kids:
        s = subs.get(k.code) or {}
        if k.code in received:
            state = "late" if k.code in late else "on_time"
        else:
            state = (
                "rejected" if s.get("n_rejected") and not s.get("current_version") else "missing"
            )
        gk = grandkids.get(k.code)
        rows.append(
            UnitStatus(
                code=k.code,
                name=k.name,
                level=k.level,
                state=state,
                held=int(s.get("n_held") or 0),
                current_version=s.get("current_version"),
                current_status=s.get("current_status"),
                current_received_at=s.get("current_received_at"),
                current_submission_id=s.get("current_submission_id"),
                n_versions=int(s.get("n_versions") or 0),
                n_rejected=int(s.get("n_rejected") or 0),
                via_children=k.code in comp.via_children,
                children=f"{got_leaves.get(k.code, 0)}/{len(gk)}" if gk is not None else "",
                approval=approvals.get(k.code),
            )
        )
    counts = Counter(r.state for r in rows)
    counts["held"] = sum(1 for r in rows if r.held)
    return PeriodStatus(
        top,
        p.code,
        comp,
        rows,
        approvals.get(unit_code),
        done[0][0] if done else None,
        counts,
    )


def _received_leaves(
    con: duckdb.DuckDBPyConnection,
    grandkids: dict[str, list[Unit]],
    period: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> dict[str, int]:
    """How many of each district's own children are received (the same rule)."""
    out: dict[str, int] = {}
    for code, kids in grandkids.items():
        if not kids:
            continue
        try:
            out[code] = len(completeness(con, period, code, catalog, units).received)
        except RollupError:
            out[code] = 0
    return out


def senders(
    con: duckdb.DuckDBPyConnection,
    period: str,
    catalog: Catalog,
    codes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Every unit that sent something for the period (of `codes`, when given): versions,
    current version and status, latest status, rejected and held counts, approval state, and
    its `state` by the rule above (a unit with a current version of its own: on time or late
    by its first accepted version; else rejected, or missing: sent versions that are all
    held)."""
    p = parse_period(period)
    rows = _rows(
        con,
        """
        SELECT s.unit_code, s.unit_name, s.level, s.n_versions, s.current_version,
               s.current_status, s.latest_status, s.n_rejected, s.n_held, s.approval_state,
               s.first_accepted_at, s.last_received_at
        FROM v_submission_status s
        WHERE s.period = $p AND ($codes IS NULL OR s.unit_code IN (SELECT unnest($codes)))
        ORDER BY s.unit_code
        """,
        {"p": p.code, "codes": codes},
    )
    for r in rows:
        if r["current_version"] is not None:
            due = level_deadline(catalog, p, r["level"])
            r["state"] = "late" if is_late(r["first_accepted_at"], due) else "on_time"
        else:
            r["state"] = "rejected" if r["n_rejected"] else "missing"
    return rows
