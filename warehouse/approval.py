"""Approval of a consolidated period: approve (lock), accept (by the level above), unapprove.

Approval goes bottom-up, as in DHIS2: a unit's period can be approved only once it is
consolidated (its fct_completeness row exists) with its children's current data (no child's
current version arrived after the consolidation), and every unit below it that approves is
done: a province of the three-level structure needs each of its districts approved AND
accepted; a district, and a province of the two-level structure, need their communes' data
consolidated (communes do not approve). A refusal names the units still open. A district
cannot be unapproved while its province (or a period containing this one) is approved, nor once
the level above has accepted it: the level above first un-accepts it (`unaccept`: accepted ->
approved; refused while the level above has approved its own period), as DHIS2's
`mayUnapprove` has it (a unit's own level unapproves only what is not accepted). Every step
needs an actor (a non-blank name, recorded in audit_log). Each step has a `check_*` twin that
raises the same refusal without writing (what the portal asks before it offers a button).

States of a unit + period in fct_approval: no row (open), `approved` (the unit's steward signed
off its consolidated figures; the unit and every unit below it are locked for that period: a new
accepted submission is stored as `held`), `accepted` (the level above took the approved figures;
still locked). `unaccept` takes an accepted period back to approved; `unapprove` works from
`approved` and deletes the row, so the period is open again; the history stays in audit_log.

Decision on held versions: on unapprove, every held submission of the unit and its descendants
for that period that no other approval still locks (e.g. the province's) gets back its
validator's verdict (accepted / accepted_with_warnings); the newest of them becomes current if
it is newer (received later; same time: higher version) than the current one, superseding it,
exactly as if it had just been loaded. Older held versions stay stored, not current.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from validations.errors import RefusedError
from validations.messages import Message, msg
from validations.period import DEFAULT_CLOSE_DAY, Period, PeriodError, parse_period
from validations.units import structure_on
from warehouse.db import now, transaction
from warehouse.store import ANCESTORS_SQL, containing_sql, locked_sql, promote_current

APPROVED = "approved"
ACCEPTED = "accepted"


class ApprovalError(RefusedError, ValueError):
    """An approval step that does not apply to the unit and period in their current state."""


_STATE = {APPROVED: "approval.state.approved", ACCEPTED: "approval.state.accepted"}


def _actor(actor: str | None, action: str) -> str:
    """The actor, stripped; ApprovalError when missing or blank."""
    who = (actor or "").strip()
    if not who:
        raise ApprovalError("approval.actor_missing", action=action)
    return who


def _open_below(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, structure: str
) -> list[Message]:
    """Why the unit's period cannot be approved yet: one phrase per open unit (empty: none)."""
    done = con.execute(
        "SELECT consolidated_at FROM fct_completeness WHERE unit_code = ? AND period = ?",
        [unit_code, period],
    ).fetchall()
    if not done:
        return [msg("approval.open.self", unit=unit_code)]
    at = done[0][0]
    out: list[Message] = []
    districts = con.execute(
        """
        SELECT d.unit_code, a.state FROM dim_unit d
        LEFT JOIN fct_approval a ON a.unit_code = d.unit_code AND a.period = $p
        WHERE d.structure = $st AND d.parent_code = $u AND d.level = 'D'
        ORDER BY d.unit_code
        """,
        {"p": period, "st": structure, "u": unit_code},
    ).fetchall()
    for code, state in districts:
        if state != ACCEPTED:
            why = (
                "approval.open.district_not_accepted"
                if state == APPROVED
                else "approval.open.district_not_approved"
            )
            out.append(msg(why, unit=code))
    stale = con.execute(
        """
        SELECT s.unit_code, s.version FROM fct_submission s
        JOIN dim_unit d ON d.unit_code = s.unit_code AND d.structure = s.structure
        WHERE s.is_current AND s.period = $p AND d.parent_code = $u AND s.loaded_at > $at
        ORDER BY s.unit_code
        """,
        {"p": period, "u": unit_code, "at": at},
    ).fetchall()
    for code, version in stale:
        out.append(msg("approval.open.newer_version", unit=code, version=version))
    return out


def _period(period: str) -> Period:
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise ApprovalError(exc.reason, **exc.params) from exc


def _unit_level(con: duckdb.DuckDBPyConnection, unit_code: str, structure: str) -> str:
    row = con.execute(
        "SELECT level FROM dim_unit WHERE unit_code = ? AND structure = ?", [unit_code, structure]
    ).fetchall()
    if not row:
        raise ApprovalError("approval.unit_unknown", unit=unit_code, structure=structure)
    return str(row[0][0])


def approval_state(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> str | None:
    """approved | accepted | None (open)."""
    row = approval_row(con, unit_code, period)
    return str(row["state"]) if row else None


def approval_row(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str
) -> dict[str, Any] | None:
    """The unit's own approval for the period: unit_code, period, state, actor, at (None: open)."""
    rows = con.execute(
        'SELECT unit_code, period, state, actor, "at" FROM fct_approval'
        " WHERE unit_code = ? AND period = ?",
        [unit_code, _period(period).code],
    ).fetchall()
    if not rows:
        return None
    return dict(zip(("unit_code", "period", "state", "actor", "at"), rows[0], strict=True))


def locks_above(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> list[dict[str, Any]]:
    """The approvals above the unit's own that lock its period: each ancestor's approval for
    the period or a period containing it, and the unit's own for a containing period (oldest
    first; each a dict like `approval_row`'s)."""
    p = _period(period)
    rows = con.execute(
        f"""
        SELECT a.unit_code, a.period, a.state, a.actor, a."at" FROM fct_approval a
        JOIN ({ANCESTORS_SQL}) u ON u.ancestor = a.unit_code
        WHERE u.unit_code = $u AND u.structure = $st
          AND list_contains({containing_sql("$p")}, a.period)
          AND NOT (a.unit_code = $u AND a.period = $p)
        ORDER BY a."at", a.unit_code, a.period
        """,
        {"u": unit_code, "st": structure_on(p.end(close_day)), "p": p.code},
    ).fetchall()
    keys = ("unit_code", "period", "state", "actor", "at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def is_locked(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> bool:
    """Whether the unit or one of its ancestors is approved (or accepted) for the period."""
    p = _period(period)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _probe AS SELECT 0 AS seq, ?::VARCHAR AS unit_code,"
        " ?::VARCHAR AS period, ?::VARCHAR AS structure",
        [unit_code, p.code, structure_on(p.end(close_day))],
    )
    hit = con.execute(locked_sql("_probe")).fetchall()
    con.execute("DROP TABLE _probe")
    return bool(hit)


def _audit(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    unit_code: str,
    period: str,
    from_status: str | None,
    to_status: str | None,
    detail: str,
) -> None:
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
        [now(), actor, action, unit_code, period, from_status, to_status, detail],
    )


def _names(rows: list[dict[str, Any]]) -> list[Message]:
    """The approvals above, as the messages name them ("12 kỳ 2024-06 (đã phê duyệt)")."""
    return [
        msg(
            "approval.above", unit=r["unit_code"], period=r["period"], state=msg(_STATE[r["state"]])
        )
        for r in rows
    ]


# --- the checks: each step's refusal, without writing -----------------------------------------
def check_approve(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """ApprovalError when the unit's period cannot be approved now (nothing is written)."""
    p = _period(period)
    structure = structure_on(p.end(close_day))
    level = _unit_level(con, unit_code, structure)
    if level == "C":
        raise ApprovalError("approval.commune", unit=unit_code)
    state = approval_state(con, unit_code, p.code)
    if state is not None:
        raise ApprovalError(
            "approval.already_accepted" if state == ACCEPTED else "approval.already_approved",
            unit=unit_code,
            period=p.code,
        )
    still_open = _open_below(con, unit_code, p.code, structure)
    if still_open:
        if still_open[0].reason == "approval.open.self":
            raise ApprovalError("approval.not_consolidated", unit=unit_code, period=p.code)
        raise ApprovalError(
            "approval.units_open",
            unit=unit_code,
            period=p.code,
            count=len(still_open),
            open=still_open,
        )


def check_accept(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """ApprovalError unless the unit's period is approved (and not accepted yet)."""
    p = _period(period)
    state = approval_state(con, unit_code, p.code)
    if state != APPROVED:
        raise ApprovalError(
            "approval.accept_already_accepted"
            if state == ACCEPTED
            else "approval.accept_not_approved",
            unit=unit_code,
            period=p.code,
        )


def check_unaccept(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """ApprovalError unless the unit's period is accepted and nothing above it is approved
    (the level above un-accepts only what it has not built on)."""
    p = _period(period)
    row = approval_row(con, unit_code, p.code)
    if row is None or row["state"] != ACCEPTED:
        raise ApprovalError(
            "approval.unaccept_only_approved" if row else "approval.unaccept_not_approved",
            unit=unit_code,
            period=p.code,
        )
    above = locks_above(con, unit_code, p.code, close_day)
    if above:
        raise ApprovalError(
            "approval.unaccept_locked_above",
            unit=unit_code,
            period=p.code,
            above=_names(above),
            first_unit=above[0]["unit_code"],
            first_period=above[0]["period"],
        )


def check_unapprove(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """ApprovalError unless the unit's period is approved, nothing above it is approved, and
    the level above has not accepted it (it un-accepts first)."""
    p = _period(period)
    row = approval_row(con, unit_code, p.code)
    if row is None:
        raise ApprovalError("approval.unapprove_not_approved", unit=unit_code, period=p.code)
    above = locks_above(con, unit_code, p.code, close_day)
    if above:
        raise ApprovalError(
            "approval.locked_above", unit=unit_code, period=p.code, above=_names(above)
        )
    if row["state"] == ACCEPTED:
        raise ApprovalError(
            "approval.unapprove_accepted",
            unit=unit_code,
            period=p.code,
            actor=row["actor"],
            at=row["at"],
        )


CHECKS = {
    "approve": check_approve,
    "accept": check_accept,
    "unaccept": check_unaccept,
    "unapprove": check_unapprove,
}


# --- the steps ---------------------------------------------------------------------------------
def approve(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    actor: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """Approve a district's (or province's) consolidated period: locks it and the units below."""
    actor = _actor(actor, "approve")
    p = _period(period)
    check_approve(con, unit_code, p.code, close_day)
    with transaction(con):
        con.execute(
            "INSERT INTO fct_approval VALUES (?, ?, ?, ?, ?)",
            [unit_code, p.code, APPROVED, actor, now()],
        )
        _audit(con, actor, "approve", unit_code, p.code, None, APPROVED, "locked")


def accept(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    actor: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """The level above accepts an approved unit's period (state approved -> accepted)."""
    actor = _actor(actor, "accept")
    p = _period(period)
    check_accept(con, unit_code, p.code, close_day)
    with transaction(con):
        con.execute(
            'UPDATE fct_approval SET state = ?, actor = ?, "at" = ?'
            " WHERE unit_code = ? AND period = ?",
            [ACCEPTED, actor, now(), unit_code, p.code],
        )
        _audit(con, actor, "accept", unit_code, p.code, APPROVED, ACCEPTED, "")


def unaccept(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    actor: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> None:
    """The level above takes its acceptance back (accepted -> approved): the unit's own
    level may then unapprove it. Still locked."""
    actor = _actor(actor, "unaccept")
    p = _period(period)
    check_unaccept(con, unit_code, p.code, close_day)
    with transaction(con):
        con.execute(
            'UPDATE fct_approval SET state = ?, actor = ?, "at" = ?'
            " WHERE unit_code = ? AND period = ?",
            [APPROVED, actor, now(), unit_code, p.code],
        )
        _audit(con, actor, "unaccept", unit_code, p.code, ACCEPTED, APPROVED, "")


def unapprove(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    actor: str,
    close_day: int = DEFAULT_CLOSE_DAY,
    after: Callable[[duckdb.DuckDBPyConnection, list[tuple[str, str]]], object] | None = None,
) -> list[str]:
    """Unlock a unit's period; release the held versions no other approval locks.

    Returns the ids of the released submissions. `after(con, changed)` runs in the same
    transaction with the (unit_code, period) pairs whose current version the release changed
    (warehouse.rollup.refresh re-consolidates them)."""
    actor = _actor(actor, "unapprove")
    p = _period(period)
    structure = structure_on(p.end(close_day))
    check_unapprove(con, unit_code, p.code, close_day)
    state = approval_state(con, unit_code, p.code)
    released: list[str] = []

    def work() -> None:
        at = now()
        con.execute(
            "DELETE FROM fct_approval WHERE unit_code = ? AND period = ?", [unit_code, p.code]
        )
        _audit(con, actor, "unapprove", unit_code, p.code, state, None, "unlocked")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _held AS
            SELECT row_number() OVER (ORDER BY s.submission_id) AS seq, s.submission_id,
                   s.unit_code, s.period, s.structure, s.version, s.validation_status
            FROM fct_submission s
            WHERE s.status = 'held' AND list_contains({containing_sql("s.period")}, $p)
              AND (s.unit_code = $u OR s.unit_code IN (
                    SELECT d.unit_code FROM dim_unit d WHERE d.structure = $st
                    AND (d.parent_code = $u OR d.province_code = $u)))
            """,
            {"p": p.code, "u": unit_code, "st": structure},
        )
        con.execute(f"DELETE FROM _held WHERE seq IN ({locked_sql('_held')})")
        released.extend(
            r[0] for r in con.execute("SELECT submission_id FROM _held ORDER BY seq").fetchall()
        )
        con.execute(
            "UPDATE fct_submission SET status = h.validation_status FROM _held h"
            " WHERE fct_submission.submission_id = h.submission_id"
        )
        con.execute(
            """
            INSERT INTO audit_log
            SELECT $at, $actor, 'release', unit_code, period, submission_id, 'held',
                   validation_status, 'released by unapproving ' || $u
            FROM _held ORDER BY seq
            """,
            {"at": at, "actor": actor, "u": unit_code},
        )
        promote_current(con, "SELECT submission_id FROM _held", actor, at)
        changed = con.execute(
            "SELECT DISTINCT h.unit_code, h.period FROM _held h JOIN fct_submission s"
            " ON s.submission_id = h.submission_id WHERE s.is_current ORDER BY 1, 2"
        ).fetchall()
        con.execute("DROP TABLE _held")
        if after is not None and changed:
            after(con, [(u, per) for u, per in changed])

    with transaction(con):
        work()
    return released
