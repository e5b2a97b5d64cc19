"""A unit's page (the drill-down below a grid, a list or a verdict): what the unit is in the
reference data (its name in each structure, the unit above, the 2025 reform's predecessors
and successors: public, shown to every logged-in user), and for a unit the user covers, what
it sent for a period (service.units.overview): its versions with their verdicts, the values of
its current version beside last year's (the change coloured by each indicator's direction),
its history, and the approvals that lock the period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from service import units as unit_pages
from tonghop.portal import periods
from tonghop.portal.changes import change_of_values
from tonghop.portal.deps import CurrentUser, Lang, PortalDep, Words
from tonghop.portal.jobs import when
from tonghop.portal.pages.shared import absent_text, held_text
from tonghop.portal.pages.steward import approval_text
from tonghop.portal.pages.submitter import status_word, versions
from tonghop.portal.rendering import render
from validations.crosswalk import load_crosswalk
from validations.fmt import fmt_num
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI

router = APIRouter()


def _reference(portal: Any, code: str, lang: str) -> dict[str, Any]:
    """The unit in the reference data: each version, the unit above, reform links."""
    names = LEVEL_NAMES_VI if lang == "vi" else LEVEL_NAMES_EN
    xw = load_crosswalk()
    out = []
    for v in portal.units.versions(code):
        parent = (
            portal.units.get(v.parent_code, v.valid_from or v.valid_to) if v.parent_code else None
        )
        out.append(
            {
                "name": v.name,
                "level": names[v.level],
                "structure": v.structure,
                "valid": f"{v.valid_from:%d/%m/%Y}" if v.valid_from else "",
                "until": f"{v.valid_to:%d/%m/%Y}" if v.valid_to else "",
                "parent": parent,
            }
        )

    def linked(links: list[Any], attr: str) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for k in links:
            c = getattr(k, attr)  # named as it was before the reform, or as it is after
            u = portal.units.get(
                c, k.valid_from - timedelta(days=1) if attr == "old_code" else k.valid_from
            )
            if c not in seen and u is not None:
                seen[c] = {"code": c, "name": u.name, "share": k.share, "method": k.method}
        return list(seen.values())

    return {
        "versions": out,
        "predecessors": linked(xw.predecessors(code), "old_code"),
        "successors": linked([k for k in xw.successors(code) if k.share > 0], "new_code"),
    }


@router.get("/units/{code}", include_in_schema=False)
def unit_page(
    request: Request,
    code: str,
    portal: PortalDep,
    user: CurrentUser,
    lang: Lang,
    t: Words,
    period: str | None = None,
) -> Response:
    if not portal.units.versions(code):
        raise HTTPException(404, t("no_such_unit", unit=code))
    p = periods.page_period(portal, "steward", code, period)
    unit = portal.scope.unit(code, p) or portal.units.get(code)
    mine = portal.scope.allows(user.unit_code, code, p.code)
    view = (
        portal.read(unit_pages.overview, code, p.code, portal.catalog, default=None)
        if mine
        else None
    )
    cat = portal.catalog
    values = []
    rows = versions(portal, [code], p.code, lang) if view is not None else []
    if view is not None:
        order = {c: n for n, c in enumerate(cat.indicators)}
        for v in sorted(view.values, key=lambda r: order.get(r["indicator"], 999)):
            ind = cat.indicators.get(v["indicator"])
            ch = change_of_values(v["value"], v["last_year"], ind, lang)
            values.append(
                {
                    "code": v["indicator"],
                    "label": ind.label(lang) if ind else v["indicator"],
                    "value": fmt_num(v["value"], lang),
                    "unit": ind.unit(lang) if ind else "",
                    "last_year": fmt_num(v["last_year"], lang)
                    if v["last_year"] is not None
                    else "",
                    "change": ch,
                }
            )
    history = [
        {
            "period": h["period"],
            "versions": h["n_versions"],
            "current": f"v{h['current_version']}" if h["current_version"] else "—",
            "status": h["current_status"] or h["latest_status"],
            "status_text": status_word(h["current_status"] or h["latest_status"], lang),
            "held": h["n_held"],
            "received": when(h["last_received_at"]),
            "approval": t(f"a_{h['approval_state']}") if h["approval_state"] else "",
        }
        for h in (view.history if view else [])
    ]
    uploads = portal.uploads.of_units([code], p.code)[:20] if mine else []
    held = None
    if view is not None and any(r["status"] == "held" for r in rows):
        held = held_text(
            [x for x in ([view.approval] if view.approval else []) + view.locks],
            portal.units,
            portal.scope.day(p),
            lang,
        )
    return render(
        request,
        "unit.html",
        user=user,
        title=f"{code} {unit.name if unit else ''}",
        section="units",
        unit=unit,
        code=code,
        period=p.code,
        periods=periods.picker(portal, code, p.code),
        mine=mine,
        exists=portal.scope.unit(code, p) is not None,
        absent_text=absent_text(portal, code, p, lang),
        reference=_reference(portal, code, lang),
        rows=rows,
        values=values,
        history=history,
        uploads=[
            {
                "id": u.id,
                "file_name": u.file_name,
                "actor": u.actor,
                "received": when(u.received),
                "verdict": u.verdict,
                "verdict_text": status_word(u.verdict, lang),
            }
            for u in uploads
        ],
        approval=approval_text(view.approval, lang)
        if view and unit is not None and unit.level != "C"
        else None,
        approval_state=view.approval["state"] if view and view.approval else None,
        held_line=held,
        steward=user.is_steward and unit is not None and unit.level != "C",
    )
