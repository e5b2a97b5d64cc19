"""Submitter pages: the form with its deadline, the upload and its verdict (service.check: the
dry run against the warehouse), my submissions (service.submissions)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service import approval, submissions
from tonghop.portal import jobs, periods
from tonghop.portal.accounts import User
from tonghop.portal.auth import checked_form, client_addr, flash
from tonghop.portal.claims import claim_alive
from tonghop.portal.context import Portal
from tonghop.portal.deps import CurrentUser, Lang, PortalDep, Submitter, Words
from tonghop.portal.i18n import translator
from tonghop.portal.jobs import when
from tonghop.portal.pages.shared import absent, held_text
from tonghop.portal.rendering import lang_of, render
from tonghop.portal.uploads import Upload, original_name
from validations.catalog import Catalog
from validations.errors import record_text
from validations.fmt import fmt_location, fmt_num
from validations.localise import lead_lines, suspects_from_records
from validations.readers import MAX_FILE_BYTES
from validations.report import STATUS_TEXT, WORDS, warehouse_line
from validations.template import TemplateError, write_template
from validations.units import LEVEL_NAMES_EN, LEVEL_NAMES_VI
from validations.validator import default_today

router = APIRouter()


def issue_rows(issues: list[dict[str, Any]], catalog: Catalog, lang: str) -> list[dict[str, Any]]:
    """Issue records (validate --json, or v_issues rows) as table rows in the language."""
    w = WORDS[lang]
    out = []
    for i in issues:
        code = i.get("indicator")
        ind = catalog.indicators.get(code) if code else None
        sev = str(i.get("severity"))
        value = i.get("value")
        out.append(
            {
                "severity": sev,
                "tag": w["error"] if sev == "error" else w["warning"],
                "location": fmt_location(i.get("location"), lang),
                "label": ind.label(lang) if ind else (code or ""),
                "value": fmt_num(value, lang) if value not in (None, "") else "",
                "expected": fmt_expected(i.get("expected"), lang),
                "message": i.get(f"message_{lang}") or i.get("message") or "",
                "hint": i.get(f"hint_{lang}") or i.get("hint") or "",
                "rule": i.get("rule") or i.get("rule_id") or "",
            }
        )
    return out


_SEPARATORS = re.compile(r"([\s\[\]();|≈≤≥<>=!]+)")
_EN_NUMBER = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")  # fullmatch


def fmt_expected(text: object, lang: str) -> str:
    """What a rule expects, as the page's language writes it: the rules write their numbers
    the English way ("≈ 1,234.5", "11.11") and some words in both languages ("số nguyên /
    whole number"); in Vietnamese that is "≈ 1.234,5", "11,11", "số nguyên". Words, dates
    and cell references are kept as they are."""
    if text in (None, ""):
        return ""
    if isinstance(text, int | float):
        return fmt_num(text, lang)
    out = str(text)
    if " / " in out:  # "vi / en"
        vi, _, en = out.partition(" / ")
        out = en if lang == "en" else vi
    parts = _SEPARATORS.split(out)
    for n, part in enumerate(parts):
        if n % 2 == 0 and _EN_NUMBER.fullmatch(part):
            parts[n] = fmt_num(float(part.replace(",", "")), lang)
    out = "".join(parts)
    for op, sym in (("<=", "≤"), (">=", "≥"), ("!=", "≠")):
        out = out.replace(op, sym)
    return out


def status_word(status: str, lang: str) -> str:
    return translator(lang)(f"s_{status}")


# --- the form ---------------------------------------------------------------------------------
@router.get("/form", include_in_schema=False)
def form_page(
    request: Request,
    portal: PortalDep,
    user: Submitter,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    cat = portal.catalog
    code = unit or user.unit_code
    p = periods.page_period(portal, "form", code, period)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        return absent(request, portal, user, code, p, "form")
    due = periods.deadline(cat, p, u.level)
    today = default_today()
    left = (due - today).days if due else 0
    note = (
        t("days_left", n=left)
        if left > 0
        else (t("due_today") if left == 0 else t("days_over", n=-left))
    )
    cur = portal.read(submissions.current, u.code, p.code, default=None)
    current = f"v{cur['version']} ({status_word(cur['status'], lang)})" if cur else None
    return render(
        request,
        "form.html",
        user=user,
        title=t("form_title"),
        section="form",
        unit=u,
        units=portal.scope.tree(user.unit_code, p)[:300],
        period=p,
        period_label=p.label_vi if lang == "vi" else p.code,
        periods=periods.picker(portal, u.code, p.code),
        closing=f"{p.end(cat.close_day):%d/%m/%Y}",
        deadline=f"{due:%d/%m/%Y}" if due else "—",
        deadline_note=note,
        overdue=left < 0,
        n_indicators=len(cat.for_level(u.level)),
        current=current,
    )


@router.get("/form/download", include_in_schema=False)
def form_download(
    portal: PortalDep, user: Submitter, unit: str | None = None, period: str | None = None
) -> Response:
    p = periods.period_or_400(period, portal.catalog)
    code = unit or user.unit_code
    portal.scope.require(user.unit_code, code, p.code)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{code}_{p.code}.xlsx"
        try:
            write_template(code, p.code, path, catalog=portal.catalog, units=portal.units)
        except TemplateError as exc:
            raise HTTPException(404, exc) from None
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{code}_{p.code}.xlsx"'},
    )


# --- sending ----------------------------------------------------------------------------------
@router.get("/submit", include_in_schema=False)
def submit_page(request: Request, portal: PortalDep, user: Submitter, t: Words) -> Response:
    p = periods.page_period(portal, "form", user.unit_code, None)
    return render(
        request,
        "submit.html",
        user=user,
        title=t("submit_title"),
        section="submit",
        period=p.code,
        periods=periods.picker(portal, user.unit_code, p.code),
    )


async def receive(
    request: Request, portal: Portal, user: User, upload: Any, lang: str | None = None
) -> tuple[Upload, Any]:
    """Read the uploaded file (at most the reader's limit plus one byte) and receive it
    (Portal.receive, in one trip to the thread pool)."""
    data = await upload.read(MAX_FILE_BYTES + 1)
    return await run_in_threadpool(
        portal.receive,
        user,
        upload.filename or "upload",
        data,
        lang or lang_of(request),
        client_addr(request),
        getattr(upload, "size", None),
    )


@router.post("/submit", include_in_schema=False)
async def submit(request: Request, portal: PortalDep, user: Submitter, t: Words) -> Response:
    with portal.checker.arriving():  # the batch forming waits for it from now on
        form = await checked_form(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            flash(request, t("no_file"), "error")
            return RedirectResponse("/submit", 303)
        up, _ = await receive(request, portal, user, upload)
    return RedirectResponse(f"/uploads/{up.id}", 303)


def visible_upload(portal: Portal, user: User, upload_id: int) -> Upload:
    """The upload if the user sent it or covers its unit; 404 otherwise (ids are not revealed)."""
    up = portal.uploads.get(upload_id)
    if up is None:
        raise HTTPException(404)
    scope = portal.scope
    if not (
        up.actor == user.name
        or scope.allows(user.unit_code, up.sender, up.period)
        or (up.verdict != "refused" and scope.allows(user.unit_code, up.unit_code, up.period))
    ):
        raise HTTPException(404)
    return up


def stored_version(portal: Portal, up: Upload) -> dict[str, Any] | None:
    """The warehouse's row for this upload's file (by content hash), if stored yet."""
    if not (up.delivered and up.content_hash and up.unit_code and up.period):
        return None
    if up.ingest_state in ("queued", "running"):  # the portal's own ingest has not loaded it
        return None
    return portal.read(submissions.stored, up.unit_code, up.period, up.content_hash, default=None)


def delivery_state(portal: Portal, up: Upload, lang: str) -> dict[str, Any]:
    """Where the upload stands: kind (done, pending, failed, none), text, stored row."""
    t = translator(lang)
    row = stored_version(portal, up)
    if row is not None:
        sup = row["supersedes"]
        done = {
            "version": row["version"],
            "status": row["status"],
            "duplicate": row["loaded_at"] < up.received,
            "superseded": int(sup.rsplit(":v", 1)[1]) if sup else None,
        }
        text = t("st_stored", at=when(row["loaded_at"]), line=warehouse_line(done, lang))
        return {"kind": "done", "text": text, "row": row, "done": done}
    if not up.delivered:
        rep = up.report
        why = (rep.get("refused") or rep.get("not_delivered") or {}).get(lang)
        return {"kind": "none", "text": why or t("st_not_delivered"), "row": None}
    state = up.ingest_state
    if state == "failed":
        return {
            "kind": "failed",
            "text": t("st_failed", why=record_text(up.ingest_detail, lang) or "?"),
            "row": None,
        }
    if state == "scheduled":
        return {"kind": "pending", "text": t("st_scheduled"), "row": None, "slow": True}
    if state == "submitted":
        run_state = jobs.flow_run_state(up.flow_run_id) if up.flow_run_id else None
        text = t(
            "st_submitted",
            run=(up.flow_run_id or "?")[:8],
            state=f": {run_state}" if run_state else "",
        )
        return {"kind": "pending", "text": text, "row": None}
    if up.ingest_detail and state in ("queued", "running"):  # given back: why it waits
        text = t("st_waiting", why=record_text(up.ingest_detail, lang))
    elif state == "running" and not claim_alive(up.claimed_by, up.beat_at):
        text = t("st_interrupted")  # its process died; the next worker takes it again
    elif state == "running" and up.attempts > 1:
        text = t("st_retrying", n=up.attempts)
    else:
        text = t("st_running" if state in ("running", "loaded") else "st_queued")
    return {"kind": "pending", "text": text, "row": None}


@router.get("/uploads/{upload_id}", include_in_schema=False)
def verdict_page(
    request: Request, upload_id: int, portal: PortalDep, user: CurrentUser, lang: Lang, t: Words
) -> Response:
    up = visible_upload(portal, user, upload_id)
    rec = up.report
    state = delivery_state(portal, up, lang)
    outcome = rec.get("outcome") or {}
    stored = state.get("done") or {}
    held = (stored.get("status") if stored else outcome.get("status")) == "held"
    if up.verdict in ("unreadable", "refused"):
        verdict_text = t(f"v_{up.verdict}")
    else:
        verdict_text = STATUS_TEXT[lang][up.verdict]  # type: ignore[index]
    unit = portal.units.get(up.unit_code) if up.unit_code else None
    names = LEVEL_NAMES_VI if lang == "vi" else LEVEL_NAMES_EN
    unit_line = (
        f"{unit.code} {unit.name} ({names[rec.get('level') or unit.level]})" if unit else "—"
    )
    held_line = None
    if held and up.unit_code and up.period:
        locks = portal.read(approval.holding, up.unit_code, up.period, portal.catalog, default=[])
        on = portal.scope.day(up.period)
        held_line = held_text(locks, portal.units, on, lang) or t("held_unknown")
    message = None
    if up.verdict == "unreadable":
        message = rec.get(f"message_{lang}") or rec.get("message")
    w = WORDS[lang]
    next_step = None
    if up.verdict == "rejected":
        next_step = w["next_rejected"]
    elif up.verdict == "accepted_with_warnings":
        next_step = w["next_warn"]
    n_err, n_warn = int(rec.get("errors") or 0), int(rec.get("warnings") or 0)
    return render(
        request,
        "verdict.html",
        user=user,
        title=t("verdict_title"),
        section="submit",
        up=up,
        record=rec,
        verdict_text=verdict_text,
        held=held,
        held_line=held_line,
        unit_line=unit_line,
        counts=t("n_errors", n=n_err) + ", " + t("n_warnings", n=n_warn)
        if "errors" in rec
        else None,
        checked_ok=up.verdict in ("accepted", "accepted_with_warnings"),
        received=when(up.received),
        deadline=_deadline(portal.catalog, up.period, rec.get("level")),
        outcome=outcome.get(f"message_{lang}") if state["kind"] != "done" else None,
        issues=issue_rows(rec.get("issues") or [], portal.catalog, lang),
        suspects=lead_lines(suspects_from_records(rec.get("suspects") or []), lang),
        stored_kind=state["kind"],
        stored_status=stored.get("status") or "",
        stored_text=state["text"],
        message=message,
        next_step=next_step,
        periods=periods.picker(portal, user.unit_code, up.period),
        period=up.period,
        refresh=(10 if state.get("slow") else 2) if state["kind"] == "pending" else None,
    )


def _deadline(catalog: Catalog, period: str | None, level: str | None) -> str | None:
    """The deadline of the unit's level for the period, as the page shows it."""
    if not period or not level:
        return None
    try:
        due = periods.deadline(catalog, period, level)
    except ValueError:
        return None
    return f"{due:%d/%m/%Y}" if due else None


# --- my submissions ---------------------------------------------------------------------------
def versions(portal: Portal, codes: list[str], period: str, lang: str) -> list[dict[str, Any]]:
    """Every stored version of these units for the period (service.submissions), with what
    the pages show; the unit's state (on time, late, ...: service.status) on its newest row;
    the file's own name (never the inbox's) and its upload's verdict page when the portal
    received it."""
    rows = portal.read(submissions.versions, codes, period, portal.catalog, default=[])
    t = translator(lang)
    sent = {u.content_hash: u for u in portal.uploads.of_units(codes, period) if u.delivered}
    seen: set[str] = set()
    for r in rows:
        r["status_text"] = status_word(r["shown_status"], lang)
        r["received"] = when(r["received_at"])
        r["loaded"] = when(r["loaded_at"])
        first = r["unit_code"] not in seen
        seen.add(r["unit_code"])
        r["state_text"] = t(f"g_{r['unit_state']}") if first and r["unit_state"] else ""
        up = sent.get(r["content_hash"])
        r["upload_id"] = up.id if up else None
        r["file_shown"] = up.file_name if up else original_name(r["file_name"])
    return rows


def _uploads_not_stored(
    portal: Portal, user: User, codes: list[str], period: str, stored: set[str], lang: str
) -> list[dict[str, Any]]:
    """Uploads of these units (or sent by them) for the period (or naming none: unreadable
    files) that are not stored: in progress, refused, unreadable; each with who sent it."""
    out = []
    for up in portal.uploads.of_units(codes, period)[:50]:
        if up.content_hash in stored and up.delivered:
            continue
        if up.actor != user.name and up.verdict == "refused":
            continue
        state = delivery_state(portal, up, lang)
        out.append(
            {
                "id": up.id,
                "file_name": up.file_name,
                "unit_code": up.unit_code,
                "period": up.period,
                "actor": up.actor,
                "sender": up.sender,
                "received": when(up.received),
                "verdict": up.verdict if state["kind"] != "pending" else "pending",
                "state": state["text"]
                if state["kind"] != "none"
                else status_word(up.verdict, lang),
            }
        )
    return out


@router.get("/submissions", include_in_schema=False)
def submissions_page(
    request: Request,
    portal: PortalDep,
    user: CurrentUser,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    code = unit or user.unit_code
    page = "form" if user.may_submit and not user.is_steward else "steward"
    p = periods.page_period(portal, page, code, period)
    portal.scope.require(user.unit_code, code, p.code)
    codes = portal.scope.codes(code, p) or [code]
    rows = versions(portal, codes, p.code, lang)
    pending = _uploads_not_stored(
        portal, user, codes, p.code, {r["content_hash"] for r in rows}, lang
    )
    return render(
        request,
        "submissions.html",
        user=user,
        title=t("submissions_title"),
        section="submissions",
        period=p.code,
        periods=periods.picker(portal, code, p.code),
        unit_code=code,
        unit_choices=portal.scope.tree(user.unit_code, p)[:300],
        versions=rows,
        pending=pending,
    )


@router.get("/versions/{submission_id}", include_in_schema=False)
def version_page(
    request: Request, submission_id: str, portal: PortalDep, user: CurrentUser, lang: Lang, t: Words
) -> Response:
    row = portal.read(submissions.version, submission_id, default=None)
    if not row or not portal.scope.allows(user.unit_code, row["unit_code"], row["period"]):
        raise HTTPException(404)
    v = next(
        r
        for r in versions(portal, [row["unit_code"]], row["period"], lang)
        if r["submission_id"] == submission_id
    )
    issues = portal.read(submissions.issues, submission_id)
    held_line = None
    if v["status"] == "held":
        locks = portal.read(
            approval.holding, v["unit_code"], v["period"], portal.catalog, default=[]
        )
        held_line = held_text(locks, portal.units, portal.scope.day(v["period"]), lang)
    return render(
        request,
        "version.html",
        user=user,
        title=f"{v['unit_code']} {v['period']} v{v['version']}",
        section="submissions",
        v=v,
        counts=", ".join(
            (
                t("n_values", n=v["n_values"]),
                t("n_errors", n=v["n_errors"]),
                t("n_warnings", n=v["n_warnings"]),
            )
        ),
        held_line=held_line,
        issues=issue_rows(issues, portal.catalog, lang),
        periods=periods.picker(portal, v["unit_code"], v["period"]),
        period=v["period"],
    )
