"""Steward pages: the grid of the units below for a period, cross-level issues, and the buttons
to consolidate, approve, accept and unapprove (warehouse.approval decides; its refusal is shown)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tonghop.portal import periods
from tonghop.portal.auth import checked_form, client_addr, flash
from tonghop.portal.i18n import translator
from tonghop.portal.jobs import when
from tonghop.portal.pages import lang_of, need, portal_of, render, user_of
from tonghop.portal.pages.submitter import period_or_400
from tonghop.portal.reader import NoData
from validations.fmt import fmt_num, fmt_pct

router = APIRouter()
STATES = ("on_time", "late", "missing", "rejected", "held", "received")
ACTIONS = ("consolidate", "approve", "accept", "unapprove")
LEVEL_PLURAL = {
    "vi": {"C": "xã", "D": "huyện", "P": "tỉnh"},
    "en": {"C": "communes", "D": "districts", "P": "provinces"},
}


def completeness_line(comp: dict[str, Any] | None, lang: str) -> str | None:
    if not comp:
        return None
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


def _in(codes: list[str]) -> str:
    return "(SELECT unnest(?::VARCHAR[]))"


def child_state(code: str, status: dict[str, Any] | None, comp: dict[str, Any] | None) -> str:
    """on_time | late | missing | rejected | held | received, from the warehouse's views."""
    held = bool(status and status["n_held"])
    current = bool(status and status["current_submission_id"])
    rejected = bool(status and status["n_rejected"]) and not current
    if comp is not None:
        if code in (comp["missing_units"] or []):
            state = "rejected" if rejected else "missing"
        elif code in (comp["late_units"] or []):
            state = "late"
        else:
            state = "on_time"
    else:
        state = "received" if current else ("rejected" if rejected else "missing")
    return "held" if held else state


def approval_text(row: dict[str, Any] | None, lang: str) -> str:
    t = translator(lang)
    if not row:
        return t("a_open")
    return t("a_by", state=t(f"a_{row['state']}"), actor=row["actor"], at=when(row["at"]))


@router.get("/steward", include_in_schema=False)
def grid_page(request: Request, unit: str | None = None, period: str | None = None) -> Response:
    user = user_of(request)
    need(user.is_steward)
    portal = portal_of(request)
    lang = lang_of(request)
    t = translator(lang)
    cat = portal.catalog
    p = period_or_400(period, cat)
    code = unit or user.unit_code
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None or u.level == "C":
        raise HTTPException(404, t("no_grid_commune"))
    on = portal.scope.day(p)
    kids = portal.units.children(u.code, on)
    codes = [k.code for k in kids]
    everyone = [u.code, *codes]
    r = portal.reader
    try:
        status = {
            s["unit_code"]: s
            for s in r.query(
                f"SELECT * FROM v_submission_status WHERE period = ? AND unit_code IN {_in(codes)}",
                [p.code, codes],
            )
        }
        comps = {
            c["unit_code"]: c
            for c in r.query(
                f"SELECT * FROM v_completeness WHERE period = ? AND unit_code IN {_in(everyone)}",
                [p.code, everyone],
            )
        }
        approvals = {
            a["unit_code"]: a
            for a in r.query(
                f'SELECT unit_code, state, actor, "at" FROM fct_approval WHERE period = ?'
                f" AND unit_code IN {_in(everyone)}",
                [p.code, everyone],
            )
        }
        issue_rows = r.query(
            "SELECT unit_code, unit_name, indicator, severity, message_vi, message_en, extra"
            f" FROM v_issues WHERE origin = 'consolidation' AND period = ? AND unit_code IN"
            f" {_in(everyone)} ORDER BY unit_code, indicator",
            [p.code, everyone],
        )
    except NoData:
        status, comps, approvals, issue_rows = {}, {}, {}, []
    comp = comps.get(u.code)
    rows = []
    for k in kids:
        s = status.get(k.code)
        state = child_state(k.code, s, comp)
        kc = comps.get(k.code)
        rows.append(
            {
                "code": k.code,
                "name": k.name,
                "level": k.level,
                "state": state,
                "version": s["current_version"] if s else None,
                "received": when(s["last_received_at"]) if s else None,
                "n_rejected": s["n_rejected"] if s else 0,
                "n_held": s["n_held"] if s else 0,
                "children": f"{kc['received']}/{kc['expected']}" if kc else "",
                "approval_state": approvals.get(k.code, {}).get("state"),
                "approval_text": approval_text(approvals.get(k.code), lang),
                "link": f"/steward?unit={k.code}&period={p.code}" if k.level != "C" else None,
            }
        )
    counted = Counter(row["state"] for row in rows)
    comp_line = completeness_line(comp, lang)
    issues = []
    for i in issue_rows:
        extra = json.loads(i["extra"]) if i["extra"] else {}
        causes = extra.get("likely_cause") or []
        cause = ""
        if causes:
            c = causes[0]
            cause = (
                f"{c.get('name', '')} ({c.get('unit_code', '')}): {fmt_num(c.get('value'), lang)}"
            )
            if c.get("baseline") is not None:
                cause += f" / {fmt_num(c.get('baseline'), lang)}"
        ind = cat.indicators.get(i["indicator"] or "")
        issues.append(
            {
                "unit": f"{i['unit_code']} {i['unit_name'] or ''}",
                "label": ind.label(lang) if ind else (i["indicator"] or ""),
                "severity": i["severity"],
                "message": i[f"message_{lang}"],
                "cause": cause,
            }
        )
    job = portal.runner.last_job(u.code, p.code)
    refresh = None
    if job:
        detail = job.get("detail") or ""
        if detail.startswith("{"):  # the inline consolidation's counts
            detail = t("job_counts", **json.loads(detail))
        job["text"] = t(f"job_{job['state']}") + (f" — {detail}" if detail else "")
        if job.get("run_state"):
            job["text"] += f" (Prefect: {job['run_state']})"
        if job.get("finished_at"):
            job["text"] += f" · {when(job['finished_at'])}"
        if job["state"] in ("queued", "running") or (
            job["state"] == "submitted"
            and job.get("run_state") not in ("Completed", "Failed", "Crashed", "Cancelled")
        ):
            refresh = 2
    months = periods.recent_months(cat, 12)
    if p.code not in months:
        months.insert(0, p.code)
    choices = [x for x in portal.scope.tree(user.unit_code, p) if x.level != "C"]
    ap = approvals.get(u.code)
    return render(
        request,
        "steward.html",
        user=user,
        title=t("steward_title"),
        section="steward",
        unit=u,
        period=p.code,
        periods=months,
        unit_choices=choices,
        approval_state=ap["state"] if ap else None,
        approval_text=approval_text(ap, lang),
        consolidated_at=when(comp["consolidated_at"]) if comp else None,
        comp=comp_line,
        counts=[(k, counted[k]) for k in STATES if counted[k]],
        state_words={k: t(f"g_{k}") for k in STATES},
        rows=rows,
        has_districts=any(k.level != "C" for k in kids),
        issues=issues,
        job=job,
        refresh=refresh,
    )


def _act(request: Request, action: str, unit: str, period: str, actor: str) -> list[str]:
    """approve / accept / unapprove on the live warehouse, then a snapshot (this process writes)."""
    from warehouse import approval
    from warehouse.db import WarehouseLockedError, open_warehouse

    portal = portal_of(request)
    close_day = portal.catalog.close_day
    for attempt in range(3):
        try:
            with portal.write_lock:
                con = open_warehouse(portal.settings.warehouse)
                try:
                    released: list[str] = []
                    if action == "approve":
                        approval.approve(con, unit, period, actor, close_day=close_day)
                    elif action == "accept":
                        approval.accept(con, unit, period, actor)
                    else:
                        released = approval.unapprove(con, unit, period, actor, close_day=close_day)
                    portal.reader.publish(con)
                finally:
                    con.close()
            portal.reader.adopt()
            return released
        except WarehouseLockedError:
            if attempt == 2:
                raise
            time.sleep(1.0)
    return []


@router.post("/steward/{action}", include_in_schema=False)
async def steward_action(request: Request, action: str) -> Response:
    from warehouse.approval import ApprovalError
    from warehouse.db import WarehouseError, WarehouseLockedError

    user = user_of(request)
    need(user.is_steward)
    if action not in ACTIONS:
        raise HTTPException(404)
    portal = portal_of(request)
    t = translator(lang_of(request))
    form = await checked_form(request)
    unit = str(form.get("unit") or "")
    p = period_or_400(str(form.get("period") or ""), portal.catalog)
    portal.scope.require(user.unit_code, unit, p.code)
    back = RedirectResponse(
        f"/steward?unit={unit if action != 'accept' else user.unit_code}&period={p.code}", 303
    )
    if action == "accept" and unit == user.unit_code:
        flash(request, t("refused_action", why=t("accept_own", unit=unit)), "error")
        return back
    if action == "consolidate":
        u = portal.scope.unit(unit, p)
        if u is None or u.level == "C":
            raise HTTPException(404, t("no_grid_commune"))
        await run_in_threadpool(portal.runner.consolidate, unit, p.code, user.name)
        portal.db.audit(user.name, "consolidate_start", unit, p.code, "", client_addr(request))
        flash(request, t("done_consolidate", unit=unit, period=p.code), "ok")
        return back
    try:
        released = await run_in_threadpool(_act, request, action, unit, p.code, user.name)
    except ApprovalError as exc:
        portal.db.audit(
            user.name, f"{action}_refused", unit, p.code, str(exc), client_addr(request)
        )
        flash(request, t("refused_action", why=str(exc)), "error")
        return back
    except WarehouseLockedError:
        flash(request, t("busy"), "error")
        return back
    except WarehouseError as exc:
        flash(request, t("refused_action", why=str(exc)), "error")
        return back
    portal.db.audit(
        user.name, action, unit, p.code, f"released {len(released)}", client_addr(request)
    )
    rel = t("released", n=len(released)) if released else ""
    flash(request, t(f"done_{action}", unit=unit, period=p.code, released=rel), "ok")
    return back
