"""Steward pages: the grid of the units below for a period (service.status), the
consolidation's issues, and the buttons to consolidate, approve, accept and unapprove
(service.approval decides; its refusal is shown)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service import approval, figures
from service import status as st
from tonghop.portal import periods
from tonghop.portal.auth import checked_form, client_addr, flash
from tonghop.portal.deps import Lang, PortalDep, Steward, Words
from tonghop.portal.i18n import translator
from tonghop.portal.jobs import when
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
        "unit": f"{i['unit_code']} {i['unit_name'] or ''}",
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
    job["text"] = t(f"job_{job['state']}") + (f" — {detail}" if detail else "")
    if job.get("run_state"):
        job["text"] += f" (Prefect: {job['run_state']})"
    if job.get("finished_at"):
        job["text"] += f" · {when(job['finished_at'])}"
    busy = job["state"] in ("queued", "running") or (
        job["state"] == "submitted"
        and job.get("run_state") not in ("Completed", "Failed", "Crashed", "Cancelled")
    )
    return job, 2 if busy else None


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
    p = periods.period_or_400(period, portal.catalog)
    code = unit or user.unit_code
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None or u.level == "C":
        raise HTTPException(404, t("no_grid_commune"))
    try:
        with portal.cursor() as cur:
            status = st.period_status(cur, u.code, p.code, portal.catalog, portal.units)
            issue_rows = figures.consolidation_issues(
                cur, p.code, [u.code, *(r.code for r in status.rows)]
            )
    except NoData:
        status, issue_rows = None, []
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
                "link": f"/steward?unit={r.code}&period={p.code}" if r.level != "C" else None,
            }
        )
    job, refresh = _job_text(portal.runner.last_job(u.code, p.code), t, lang)
    choices = [x for x in portal.scope.tree(user.unit_code, p) if x.level != "C"]
    ap = status.approval if status else None
    return render(
        request,
        "steward.html",
        user=user,
        title=t("steward_title"),
        section="steward",
        unit=u,
        period=p.code,
        periods=periods.choices(portal.catalog, p.code),
        unit_choices=choices,
        approval_state=ap["state"] if ap else None,
        approval_text=approval_text(ap, lang),
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
    back = RedirectResponse(
        f"/steward?unit={unit if action != 'accept' else user.unit_code}&period={p.code}", 303
    )
    addr = client_addr(request)
    if action == "accept" and unit == user.unit_code:
        flash(request, t("refused_action", why=t("accept_own", unit=unit)), "error")
        return back
    if action == "consolidate":
        u = portal.scope.unit(unit, p)
        if u is None or u.level == "C":
            raise HTTPException(404, t("no_grid_commune"))
        await run_in_threadpool(portal.runner.consolidate, unit, p.code, user.name)
        portal.db.audit(user.name, "consolidate_start", unit, p.code, "", addr)
        flash(request, t("done_consolidate", unit=unit, period=p.code), "ok")
        return back
    try:
        done = await run_in_threadpool(
            approval.act, portal.wh, action, unit, p.code, user.name, portal.catalog, portal.units
        )
    except ApprovalError as exc:
        portal.db.audit(user.name, f"{action}_refused", unit, p.code, str(exc), addr)
        flash(request, t("refused_action", why=exc.message(lang)), "error")
        return back
    except WarehouseLockedError:
        flash(request, t("busy"), "error")
        return back
    except WarehouseError as exc:
        flash(request, t("refused_action", why=exc.message(lang)), "error")
        return back
    portal.db.audit(user.name, action, unit, p.code, f"released {len(done.released)}", addr)
    rel = t("released", n=len(done.released)) if done.released else ""
    flash(request, t(f"done_{action}", unit=unit, period=p.code, released=rel), "ok")
    return back
