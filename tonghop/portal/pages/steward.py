"""Steward pages: the grid of the units below for a period (service.status), the
consolidation's issues, and the buttons to consolidate, approve, accept, un-accept and
unapprove. service.approval decides what each button may do (DHIS2's rules: a button is
offered only when the step would be done, else the reason is said); approving, un-accepting
and unapproving are confirmed on a page of their own that names what the step does (for an
approval: every open warning of the units below it). A refusal is shown in a flash."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service import approval, consolidation, figures
from service import status as st
from tonghop.portal import periods
from tonghop.portal.auth import checked_form, client_addr, flash
from tonghop.portal.claims import claim_alive
from tonghop.portal.deps import Lang, PortalDep, Steward, Words
from tonghop.portal.i18n import translator
from tonghop.portal.jobs import when
from tonghop.portal.pages.shared import absent, lock_text, refusal_text
from tonghop.portal.reader import NoData
from tonghop.portal.rendering import render
from validations.errors import record_text
from validations.fmt import fmt_num, fmt_pct
from warehouse.approval import ApprovalError
from warehouse.db import WarehouseError, WarehouseLockedError
from warehouse.rollup import Completeness

router = APIRouter()
STATES = ("on_time", "late", "missing", "rejected", "held")
ACTIONS = ("consolidate", *approval.ACTIONS)
BUTTONS = {  # which buttons the grid offers for the unit itself and for a row below it
    "own": ("approve", "unapprove"),
    "row": ("accept", "unaccept", "unapprove"),
}
LEVEL_PLURAL = {
    "vi": {"C": "xã", "D": "huyện", "P": "tỉnh"},
    "en": {"C": "communes", "D": "districts", "P": "provinces"},
}


def completeness_line(comp: dict[str, Any] | Completeness | None, lang: str) -> str | None:
    """ "12/14 xã đã báo cáo (85,7%): 10 đúng hạn, 2 muộn, 2 chưa gửi; hạn 17/06/2024", from a
    consolidation's row (v_completeness) or a live Completeness (service.status)."""
    if not comp:
        return None
    if isinstance(comp, Completeness):
        comp = {
            "received": len(comp.received),
            "expected": len(comp.expected),
            "child_level": comp.child_level,
            "completeness_pct": comp.pct,
            "on_time": len(comp.on_time),
            "late": len(comp.late),
            "missing": len(comp.missing),
            "deadline": comp.deadline,
        }
    t = translator(lang)
    return t(
        "comp_line",
        received=comp["received"],
        expected=comp["expected"],
        what=LEVEL_PLURAL[lang].get(comp["child_level"] or "", ""),
        pct=fmt_pct(comp["completeness_pct"], lang),
        on_time=comp["on_time"],
        late=comp["late"],
        missing=comp["missing"],
        deadline=f"{comp['deadline']:%d/%m/%Y}" if comp["deadline"] else "—",
    )


def approval_text(row: dict[str, Any] | None, lang: str) -> str:
    t = translator(lang)
    if not row:
        return t("a_open")
    return t("a_by", state=t(f"a_{row['state']}"), actor=row["actor"], at=when(row["at"]))


def _issue(i: dict[str, Any], portal: Any, lang: str) -> dict[str, Any]:
    extra = json.loads(i["extra"]) if i["extra"] else {}
    causes = extra.get("likely_cause") or []
    cause = ""
    if causes:
        c = causes[0]
        cause = f"{c.get('name', '')} ({c.get('unit_code', '')}): {fmt_num(c.get('value'), lang)}"
        if c.get("baseline") is not None:
            cause += f" / {fmt_num(c.get('baseline'), lang)}"
    culprit = extra.get("culprit") or {}
    if culprit.get(f"text_{lang}"):  # which figure is wrong (validations.localise.totals)
        cause = culprit[f"text_{lang}"] + (f" · {cause}" if cause else "")
    ind = portal.catalog.indicators.get(i["indicator"] or "")
    return {
        "unit_code": i["unit_code"],
        "unit_name": i["unit_name"] or "",
        "label": ind.label(lang) if ind else (i["indicator"] or ""),
        "severity": i["severity"],
        "message": i[f"message_{lang}"],
        "cause": cause,
    }


def _job_text(
    job: dict[str, Any] | None, t: Any, lang: str
) -> tuple[dict[str, Any] | None, int | None]:
    """The last consolidation job's line, and whether the page refreshes itself."""
    if not job:
        return None, None
    detail = record_text(job.get("detail"), lang)  # a failure in the reader's language
    if detail.startswith("{"):  # the inline consolidation's counts
        detail = t("job_counts", **json.loads(detail))
    state = job["state"]
    if state == "running" and job.get("mode") == "inline":
        if not claim_alive(job.get("claimed_by"), job.get("beat_at")):
            state = "interrupted"  # its process died: the next worker runs it again
        elif (job.get("attempts") or 0) > 1:
            state = "rerunning"
    job["text"] = t(f"job_{state}", n=job.get("attempts") or 0) + (f" — {detail}" if detail else "")
    if job.get("run_state"):
        job["text"] += f" (Prefect: {job['run_state']})"
    if job.get("finished_at"):
        job["text"] += f" · {when(job['finished_at'])}"
    busy = job["state"] in ("queued", "running") or (
        job["state"] == "submitted"
        and job.get("run_state") not in ("Completed", "Failed", "Crashed", "Cancelled")
    )
    return job, 2 if busy else None


def _row_actions(perms: dict[str, Any], which: str) -> list[str]:
    return [a for a in BUTTONS[which] if perms.get(a) is None]


@router.get("/steward", include_in_schema=False)
def grid_page(
    request: Request,
    portal: PortalDep,
    user: Steward,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    code = unit or user.unit_code
    p = periods.page_period(portal, "steward", code, period)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        return absent(request, portal, user, code, p, "steward")
    if u.level == "C":  # a commune has nobody below it: its own page
        return RedirectResponse(f"/units/{u.code}?period={p.code}", 303)
    try:
        with portal.cursor() as cur:
            status = st.period_status(cur, u.code, p.code, portal.catalog, portal.units)
            issue_rows = figures.consolidation_issues(
                cur, p.code, [u.code, *(r.code for r in status.rows)]
            )
            own = approval.permissions(cur, u.code, p.code, portal.catalog, user.unit_code)
            locks = approval.holding(cur, u.code, p.code, portal.catalog)
            row_perms = {
                r.code: approval.permissions(cur, r.code, p.code, portal.catalog, user.unit_code)
                for r in status.rows
                if r.level != "C"
            }
            # an approved period a later correction would change: said, never applied
            notes = {
                c: [m.render(lang) for m in figures.approval_notes(cur, c, p.code, portal.catalog)]
                for c in [u.code, *(r.code for r in status.rows if r.level != "C")]
            }
    except NoData:
        status, issue_rows, own, locks, row_perms, notes = None, [], {}, [], {}, {}
    rows = []
    for r in status.rows if status else []:
        rows.append(
            {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "state": r.state,
                "held": r.held,
                "version": r.current_version,
                "received": when(r.current_received_at) if r.current_received_at else None,
                "n_rejected": r.n_rejected,
                "n_held": r.held,
                "children": r.children,
                "approval_state": r.approval["state"] if r.approval else None,
                "approval_text": approval_text(r.approval, lang),
                "grid": f"/steward?unit={r.code}&period={p.code}" if r.level != "C" else None,
                "actions": _row_actions(row_perms.get(r.code, {}), "row"),
                "notes": notes.get(r.code, []),
            }
        )
    job, refresh = _job_text(portal.runner.last_job(u.code, p.code), t, lang)
    choices = [x for x in portal.scope.tree(user.unit_code, p) if x.level != "C"]
    ap = status.approval if status else None
    on = portal.scope.day(p)
    waiting = None  # why the unit cannot be approved yet (DHIS2: waiting for the level below)
    if status and not ap and own.get("approve") is not None:
        open_rows = [
            r["code"] for r in rows if r["level"] != "C" and r["approval_state"] != "accepted"
        ]
        if not status.consolidated_at:
            waiting = t("waits_consolidation")
        elif open_rows:
            waiting = t("waits_below", n=len(open_rows), units=", ".join(open_rows))
        else:
            waiting = t("refused_action", why=refusal_text(own["approve"], lang))
    return render(
        request,
        "steward.html",
        user=user,
        title=t("steward_title"),
        section="steward",
        unit=u,
        period=p.code,
        periods=periods.picker(portal, u.code, p.code),
        unit_choices=choices,
        approval_state=ap["state"] if ap else None,
        approval_text=approval_text(ap, lang),
        actions=_row_actions(own, "own") if status else [],
        waiting=waiting,
        locked=lock_text("locked_until", locks, portal.units, on, lang) if locks else None,
        approval_notes=notes.get(u.code, []),
        consolidated_at=when(status.consolidated_at) if status and status.consolidated_at else None,
        comp=completeness_line(status.completeness if status else None, lang),
        counts=[(k, status.count(k)) for k in STATES if status and status.count(k)],
        state_words={k: t(f"g_{k}") for k in STATES},
        rows=rows,
        has_districts=any(r["level"] != "C" for r in rows),
        issues=[_issue(i, portal, lang) for i in issue_rows],
        job=job,
        refresh=refresh,
    )


@router.post("/steward/{action}", include_in_schema=False)
async def steward_action(
    request: Request, action: str, portal: PortalDep, user: Steward, lang: Lang, t: Words
) -> Response:
    if action not in ACTIONS:
        raise HTTPException(404)
    form = await checked_form(request)
    unit = str(form.get("unit") or "")
    p = periods.period_or_400(str(form.get("period") or ""), portal.catalog)
    portal.scope.require(user.unit_code, unit, p.code)
    back_unit = unit if action in ("consolidate", "approve") or unit == user.unit_code else None
    back = RedirectResponse(f"/steward?unit={back_unit or user.unit_code}&period={p.code}", 303)
    addr = client_addr(request)
    if action == "consolidate":
        u = portal.scope.unit(unit, p)
        if u is None or u.level == "C":
            raise HTTPException(404, t("no_grid_commune"))
        locked = portal.read(consolidation.refusal, unit, p.code, portal.catalog, default=None)
        if locked is not None:  # refused at once, with the reason (no job that fails later)
            portal.db.audit(user.name, "consolidate_refused", unit, p.code, str(locked), addr)
            flash(request, t("refused_action", why=refusal_text(locked, lang)), "error")
            return back
        await run_in_threadpool(portal.runner.consolidate, unit, p.code, user.name)
        portal.db.audit(user.name, "consolidate_start", unit, p.code, "", addr)
        flash(request, t("done_consolidate", unit=unit, period=p.code), "ok")
        return back
    if action in ("accept", "unaccept") and unit == user.unit_code:
        flash(request, t("refused_action", why=t(f"{action}_own", unit=unit)), "error")
        return back
    confirmed = str(form.get("confirmed") or "") or None
    if action in approval.CONFIRMED and confirmed is None:  # the confirmation page first
        seen = portal.read(
            approval.review, action, unit, p.code, portal.catalog, user.unit_code, default=None
        )
        if seen is None:
            flash(request, t("no_data"), "error")
            return back
        if seen.refusal is not None:
            portal.db.audit(user.name, f"{action}_refused", unit, p.code, str(seen.refusal), addr)
        return render(
            request,
            "confirm.html",
            user=user,
            title=t(f"confirm_{action}_title"),
            section="steward",
            action=action,
            review=seen,
            unit=portal.scope.unit(unit, p),
            period=p.code,
            refusal=refusal_text(seen.refusal, lang) if seen.refusal else None,
            text=t(f"confirm_{action}_text", unit=unit, period=p.code, n=seen.held),
            button=t(f"confirm_{action}_button"),
            warnings=[_warning(w, portal, lang, p.code) for w in seen.warnings],
            back=back.headers["location"],
        )
    try:
        done = await run_in_threadpool(
            approval.act,
            portal.wh,
            action,
            unit,
            p.code,
            user.name,
            portal.catalog,
            portal.units,
            user.unit_code,
            confirmed,
        )
    except ApprovalError as exc:
        portal.db.audit(user.name, f"{action}_refused", unit, p.code, str(exc), addr)
        flash(request, t("refused_action", why=refusal_text(exc, lang)), "error")
        return back
    except WarehouseLockedError:
        flash(request, t("busy"), "error")
        return back
    except WarehouseError as exc:
        flash(request, t("refused_action", why=refusal_text(exc, lang)), "error")
        return back
    detail = f"released {', '.join(done.released)}" if done.released else ""
    if confirmed:
        detail = "; ".join(x for x in (detail, f"confirmed {confirmed}") if x)
    portal.db.audit(user.name, action, unit, p.code, detail, addr)
    rel = t("released", n=len(done.released)) if done.released else ""
    flash(request, t(f"done_{action}", unit=unit, period=p.code, released=rel), "ok")
    return back


def _warning(w: dict[str, Any], portal: Any, lang: str, period: str) -> dict[str, Any]:
    """An open warning as the confirmation page names it."""
    ind = portal.catalog.indicators.get(w["indicator"] or "")
    return {
        "unit_code": w["unit_code"],
        "unit_name": w["unit_name"] or "",
        "label": ind.label(lang) if ind else (w["indicator"] or ""),
        "severity": w["severity"],
        "kind": w["origin"],
        "kind_text": translator(lang)(f"w_{w['origin']}"),
        "message": w[f"message_{lang}"] or w["message_vi"],
        "version": w["submission_id"],
        "period": period,
    }
