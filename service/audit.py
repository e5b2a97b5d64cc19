"""Audit: who did what, when, to which unit and period, and which versions.

Two trails make one: the warehouse's `audit_log` (every ingest, supersede, release, refusal,
consolidation and approval step, with the submission versions and the status changes) and the
portal's own table (logins, uploads, the steward's buttons with their refusals and the
address they came from). `trail` reads the warehouse's with a filter; `merge` interleaves the
portal's rows, newest first, one row per step: an approval step the portal recorded and the
warehouse recorded too (same actor, action, unit and period, within a minute) is shown once,
with the warehouse's status change and the portal's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

# steps both trails record: the portal's row and the warehouse's are one step
SHARED = ("approve", "accept", "unaccept", "unapprove", "consolidate")
_SQL = """
SELECT "at", actor, action, unit_code, period, submission_id, from_status, to_status, detail
FROM audit_log
WHERE ($codes IS NULL OR unit_code IN (SELECT unnest($codes::VARCHAR[])))
  AND ($unit IS NULL OR unit_code = $unit)
  AND ($period IS NULL OR period = $period)
  AND ($actor IS NULL OR actor = $actor)
  AND ($action IS NULL OR action = $action)
  AND ($since IS NULL OR "at" >= $since)
  AND ($until IS NULL OR "at" < $until)
ORDER BY "at" DESC, submission_id DESC
LIMIT $limit
"""


@dataclass(frozen=True)
class AuditFilter:
    """Which rows: any of these left None is not filtered on."""

    codes: tuple[str, ...] | None = None  # the units the reader may see (None: all)
    unit: str | None = None
    period: str | None = None
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive: the whole day
    limit: int = 200

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.since, datetime.min.time()) if self.since else None
        end = (
            datetime.combine(self.until + timedelta(days=1), datetime.min.time())
            if self.until
            else None
        )
        return start, end


def trail(con: duckdb.DuckDBPyConnection, f: AuditFilter) -> list[dict[str, Any]]:
    """The warehouse's audit rows matching the filter, newest first (at most f.limit)."""
    since, until = f.bounds()
    res = con.execute(
        _SQL,
        {
            "codes": list(f.codes) if f.codes is not None else None,
            "unit": f.unit,
            "period": f.period,
            "actor": f.actor,
            "action": f.action,
            "since": since,
            "until": until,
            "limit": f.limit,
        },
    )
    cols = [d[0] for d in res.description]
    out = []
    for r in res.fetchall():
        row = dict(zip(cols, r, strict=True))
        row["source"] = "warehouse"
        row["addr"] = None
        out.append(row)
    return out


def merge(
    warehouse_rows: list[dict[str, Any]], portal_rows: list[dict[str, Any]], limit: int = 200
) -> list[dict[str, Any]]:
    """Both trails as one, newest first: a portal row for a step the warehouse recorded
    (SHARED, same actor, action, unit, period, within a minute) lends its address and detail
    to the warehouse's row instead of being shown twice."""
    rows = list(warehouse_rows)
    shared = [w for w in rows if w["action"] in SHARED]
    for p in portal_rows:
        at = p["at"] if isinstance(p["at"], datetime) else datetime.fromisoformat(p["at"])
        row = {
            "at": at,
            "actor": p["actor"],
            "action": p["action"],
            "unit_code": p.get("unit_code"),
            "period": p.get("period"),
            "submission_id": None,
            "from_status": None,
            "to_status": None,
            "detail": p.get("detail") or "",
            "source": "portal",
            "addr": p.get("addr"),
        }
        twin = next(
            (
                w
                for w in shared
                if w["action"] == row["action"]
                and w["actor"] == row["actor"]
                and w["unit_code"] == row["unit_code"]
                and w["period"] == row["period"]
                and abs((w["at"] - at).total_seconds()) <= 60
                and w["addr"] is None
            ),
            None,
        )
        if twin is not None:
            twin["addr"] = row["addr"]
            if row["detail"] and row["detail"] not in (twin["detail"] or ""):
                twin["detail"] = "; ".join(x for x in (twin["detail"], row["detail"]) if x)
            continue
        rows.append(row)
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:limit]
