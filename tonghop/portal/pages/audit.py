"""The audit page: every step on the units a steward covers, from the warehouse's trail and
the portal's (service.audit), newest first, filtered by unit, period, who, what and when."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from service import audit
from tonghop.portal import periods
from tonghop.portal.deps import Lang, PortalDep, Steward, Words
from tonghop.portal.jobs import when
from tonghop.portal.rendering import render
from tonghop.portal.scope import OutOfScope

router = APIRouter()
# what the filter offers (every action either trail records)
ACTIONS = (
    "ingest",
    "supersede",
    "release",
    "refuse",
    "upload",
    "consolidate",
    "consolidate_start",
    "consolidate_refused",
    "approve",
    "approve_refused",
    "accept",
    "accept_refused",
    "unaccept",
    "unaccept_refused",
    "unapprove",
    "unapprove_refused",
    "login",
    "login_failed",
    "login_throttled",
    "logout",
    "user_add",
    "user_disable",
    "token",
)


def _day(text: str | None, t: Words) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, t("bad_date", text=text)) from None


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    portal: PortalDep,
    user: Steward,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    p = periods.period_or_400(period, portal.catalog).code if period else None
    mine_all = portal.scope.everywhere(user.unit_code)
    if unit and unit not in mine_all:
        raise OutOfScope(unit)
    codes = None if user.role == "admin" else mine_all
    f = audit.AuditFilter(
        codes, unit or None, p, actor or None, action or None, _day(since, t), _day(until, t)
    )
    start, end = f.bounds()
    mine = portal.db.audit_rows(
        f.actor,
        f.action,
        f.codes,
        f.unit,
        f.period,
        start.isoformat() if start else None,
        end.isoformat() if end else None,
        limit=f.limit,
    )
    rows = audit.merge(portal.read(audit.trail, f, default=[]), mine, f.limit)
    for r in rows:
        r["when"] = when(r["at"])
        r["what"] = t(f"act_{r['action']}") if f"act_{r['action']}" in _KNOWN else r["action"]
        r["change"] = " → ".join(x for x in (r["from_status"], r["to_status"]) if x)
    return render(
        request,
        "audit.html",
        user=user,
        title=t("audit_title"),
        section="audit",
        rows=rows,
        limit=f.limit,
        unit_code=unit or "",
        period=p or "",
        periods=periods.picker(portal, unit or user.unit_code, p),
        actor=actor or "",
        action=action or "",
        actions=[(a, t(f"act_{a}")) for a in ACTIONS],
        since=since or "",
        until=until or "",
        unit_choices=[u for c in mine_all if (u := portal.units.get(c))][:400],
    )


_KNOWN = {f"act_{a}" for a in ACTIONS}
