"""Approval: approve, accept, un-accept and unapprove a consolidated period, always with the
refresh; and the review a steward reads before confirming one of them.

The rules are warehouse.approval's (bottom-up, as DHIS2 does it: once the level above has
accepted a period, the unit's own level cannot unapprove it; the level above un-accepts first).
What this adds is that no caller can forget a step: unapproving releases the held versions and
re-consolidates, in the same transaction, whatever their release made stale, so every rollup
above shows them at once (the CLI, the portal and the API all call these).

`review` is what a step would do, read-only: its refusal (the same sentence the step raises),
the unit's approval and the approvals above it, the held versions an unapprove would release,
and, for an approval, the open warnings of the unit and the units below it (the consolidation's
cross-level and quality issues, and the plausibility warnings of their current versions: a
district's own 538 against its communes' 781, an outlier). Its `digest` names that state: a
step given `confirmed=digest` is refused when the state changed since the review was read, so
a confirmation always names what is really approved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import duckdb

from validations.catalog import Catalog
from validations.period import DEFAULT_CLOSE_DAY, parse_period
from validations.units import ReferenceUnits, structure_on
from warehouse import approval
from warehouse.access import WarehouseFile
from warehouse.approval import ApprovalError
from warehouse.db import transaction
from warehouse.rollup import refresh, reopened

ACTIONS = ("approve", "accept", "unaccept", "unapprove")
# actions a steward confirms on a page of their own before they are done (the portal)
CONFIRMED = ("approve", "unaccept", "unapprove")
_WARNINGS_SQL = """
WITH tree AS (
    SELECT $u AS unit_code
    UNION
    SELECT unit_code FROM dim_unit
    WHERE structure = $st AND (parent_code = $u OR province_code = $u)
)
SELECT i.origin, i.submission_id, i.unit_code, i.unit_name, i.rule_id, i.severity,
       i.indicator, i.location, i.value, i.expected, i.message_vi, i.message_en, i.extra
FROM v_issues i JOIN tree t ON t.unit_code = i.unit_code
WHERE i.period = $p
  AND (i.origin = 'consolidation' OR (i.is_current AND i.severity = 'warning'))
ORDER BY i.origin = 'submission', i.severity, i.unit_code = $u DESC, i.unit_code,
         i.indicator, i.rule_id, i.location
"""
_HELD_SQL = """
SELECT count(*) FROM fct_submission s
WHERE s.status = 'held' AND s.period = $p AND (s.unit_code = $u OR s.unit_code IN (
    SELECT unit_code FROM dim_unit WHERE structure = $st
    AND (parent_code = $u OR province_code = $u)))
"""


@dataclass
class Approval:
    """What an approval step did."""

    action: str
    unit_code: str
    period: str
    actor: str
    released: list[str] = field(default_factory=list)  # held versions made current


@dataclass
class Review:
    """What an approval step would do now, read-only (the confirmation page's content)."""

    action: str
    unit_code: str
    period: str
    approval: dict[str, Any] | None  # the unit's own: state, actor, at
    above: list[dict[str, Any]]  # approvals above it that lock it
    refusal: ApprovalError | None  # the step's answer now (None: it would be done)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # open issues (approve)
    held: int = 0  # held versions an unapprove would release (when nothing else locks them)
    digest: str = ""

    @property
    def n_consistency(self) -> int:
        return sum(1 for w in self.warnings if w["origin"] == "consolidation")

    @property
    def n_plausibility(self) -> int:
        return sum(1 for w in self.warnings if w["origin"] == "submission")


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    res = con.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def _by_unit_refusal(action: str, unit_code: str, by_unit: str | None) -> ApprovalError | None:
    """Accepting and un-accepting are the level above's: never the unit's own steward."""
    if by_unit is not None and action in ("accept", "unaccept") and by_unit == unit_code:
        return ApprovalError(
            "approval.level_above_accepts"
            if action == "accept"
            else "approval.level_above_unaccepts",
            unit=unit_code,
        )
    return None


def holding(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, catalog: Catalog
) -> list[dict[str, Any]]:
    """The approvals that hold a new version of the unit's period: its own, then those above
    it (each: unit_code, period, state, actor, at); empty when nothing locks it."""
    own = approval.approval_row(con, unit_code, period)
    above = approval.locks_above(con, unit_code, period, catalog.close_day)
    return ([own] if own else []) + above


def permissions(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    catalog: Catalog,
    by_unit: str | None = None,
) -> dict[str, ApprovalError | None]:
    """Each step's answer now for the unit's period, done by a steward of `by_unit` (None:
    any): its refusal, or None when it would be done (DHIS2's mayApprove, mayAccept, ...)."""
    out: dict[str, ApprovalError | None] = {}
    for action in ACTIONS:
        refusal = _by_unit_refusal(action, unit_code, by_unit)
        if refusal is None:
            try:
                approval.CHECKS[action](con, unit_code, period, catalog.close_day)
            except ApprovalError as exc:
                refusal = exc
        out[action] = refusal
    return out


def review(
    con: duckdb.DuckDBPyConnection,
    action: str,
    unit_code: str,
    period: str,
    catalog: Catalog,
    by_unit: str | None = None,
) -> Review:
    """What `action` on the unit's period would do now (read-only), for the unit of `by_unit`
    (the steward's own unit; None: any)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown approval action {action!r}")
    p = parse_period(period)
    close = catalog.close_day
    refusal = _by_unit_refusal(action, unit_code, by_unit)
    if refusal is None:
        try:
            approval.CHECKS[action](con, unit_code, p.code, close)
        except ApprovalError as exc:
            refusal = exc
    params = {"u": unit_code, "p": p.code, "st": structure_on(p.end(close))}
    own = approval.approval_row(con, unit_code, p.code)
    above = approval.locks_above(con, unit_code, p.code, close)
    warnings = _records(con, _WARNINGS_SQL, params) if action == "approve" else []
    held = int(con.execute(_HELD_SQL, params).fetchall()[0][0]) if action == "unapprove" else 0
    r = Review(action, unit_code, p.code, own, above, refusal, warnings, held)
    r.digest = _digest(r)
    return r


def _digest(r: Review) -> str:
    """A short name for the state a confirmation is given for."""
    h = hashlib.sha256()
    state = r.approval["state"] if r.approval else ""
    h.update(f"{r.action}|{r.unit_code}|{r.period}|{state}|{r.held}".encode())
    for w in r.warnings:
        key = (w["origin"], w["submission_id"], w["unit_code"], w["rule_id"], w["indicator"])
        h.update(("|".join(str(x) for x in key) + f"|{w['location']}|{w['value']}\n").encode())
    return h.hexdigest()[:16]


def _confirmed(
    con: duckdb.DuckDBPyConnection,
    action: str,
    unit_code: str,
    period: str,
    catalog: Catalog,
    confirmed: str | None,
) -> None:
    """ApprovalError when a confirmation was given for another state than the current one."""
    if confirmed is None:
        return
    now = review(con, action, unit_code, period, catalog)
    if now.digest != confirmed:
        raise ApprovalError(
            "approval.confirmation_changed", action=action, unit=unit_code, period=now.period
        )


def approve(
    wh: WarehouseFile,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    confirmed: str | None = None,
) -> Approval:
    """Approve a district's (or province's) consolidated period: it and the units below it
    are locked (ApprovalError, naming what is still open, when it cannot be). `confirmed`:
    the digest of the review the steward confirmed (refused when the state changed since)."""

    def work(con: duckdb.DuckDBPyConnection) -> None:
        _confirmed(con, "approve", unit_code, period, catalog, confirmed)
        approval.approve(con, unit_code, period, actor, close_day=catalog.close_day)

    wh.write(work, "approve", create=False)
    return Approval("approve", unit_code, parse_period(period).code, actor.strip())


def accept(
    wh: WarehouseFile, unit_code: str, period: str, actor: str, catalog: Catalog | None = None
) -> Approval:
    """The level above accepts an approved unit's period."""
    close = catalog.close_day if catalog is not None else DEFAULT_CLOSE_DAY
    wh.write(
        lambda con: approval.accept(con, unit_code, period, actor, close_day=close),
        "accept",
        create=False,
    )
    return Approval("accept", unit_code, parse_period(period).code, actor.strip())


def unaccept(
    wh: WarehouseFile,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    confirmed: str | None = None,
) -> Approval:
    """The level above takes its acceptance back; the unit's level may then unapprove."""

    def work(con: duckdb.DuckDBPyConnection) -> None:
        _confirmed(con, "unaccept", unit_code, period, catalog, confirmed)
        approval.unaccept(con, unit_code, period, actor, close_day=catalog.close_day)

    wh.write(work, "unaccept", create=False)
    return Approval("unaccept", unit_code, parse_period(period).code, actor.strip())


def unapprove(
    wh: WarehouseFile,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    units: ReferenceUnits,
    confirmed: str | None = None,
) -> Approval:
    """Unlock a period: the held versions no other approval locks become current, and the
    rollups their release made stale, and those an approval kept with a note (a correction of
    last year's figures meanwhile: warehouse.rollup.notes), are re-consolidated in the same
    transaction."""
    who = actor.strip()

    def work(con: duckdb.DuckDBPyConnection) -> list[str]:
        _confirmed(con, "unapprove", unit_code, period, catalog, confirmed)
        with transaction(con):
            released = approval.unapprove(
                con,
                unit_code,
                period,
                actor,
                close_day=catalog.close_day,
                after=lambda c, changed: refresh(c, changed, catalog, units, actor=who),
            )
            reopened(con, catalog, units, actor=who)  # what the notes said would change
        return released

    released = wh.write(work, "unapprove", create=False)
    return Approval("unapprove", unit_code, parse_period(period).code, who, released)


def act(
    wh: WarehouseFile,
    action: str,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    units: ReferenceUnits,
    by_unit: str | None = None,
    confirmed: str | None = None,
) -> Approval:
    """One of ACTIONS by name (the CLI's commands and the portal's buttons), done by a
    steward of `by_unit` (None: not checked; accepting is the level above's) and, when
    given, for the state the steward confirmed (`confirmed`: a review's digest)."""
    refusal = _by_unit_refusal(action, unit_code, by_unit)
    if refusal is not None:
        raise refusal
    if action == "approve":
        return approve(wh, unit_code, period, actor, catalog, confirmed)
    if action == "accept":
        return accept(wh, unit_code, period, actor, catalog)
    if action == "unaccept":
        return unaccept(wh, unit_code, period, actor, catalog, confirmed)
    if action == "unapprove":
        return unapprove(wh, unit_code, period, actor, catalog, units, confirmed)
    raise ValueError(f"unknown approval action {action!r}")
