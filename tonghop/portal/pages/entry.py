"""Web data entry (*Nhập số liệu*): the form of a unit and a period, checked as it is typed,
saved as a draft, submitted through the upload's own path (service.entry).

- `GET /entry`: the form, generated from the catalog in the Excel template's layout, with the
  draft (or the newest stored version's values), each field's usual range and the check.
- `POST /entry/save` (JSON, the page's script): save changed fields to the draft, answer the
  check of the whole draft (the warm validator, batched with every other check and upload,
  plus the history check against statistics read once per snapshot) and the changes others
  made since.
- `GET /entry/changes`: what other pages saved since (polled).
- `POST /entry/validate` (JSON): the whole dry run (service.check, as an upload's verdict).
- `GET /entry/history`: a field's last 12 periods, previous versions and draft changes.
- `POST /entry/submit`: the draft as the canonical CSV through `Uploads.receive` and the
  runner, exactly as that file uploaded; its follow-up marks kept beside it.
- `POST /entry/discard`: drop the draft.

A steward may enter or correct a unit below it (DHIS2 allows it): every change and the
submission are recorded as the steward's, naming the unit. Only this page runs a script
(`static/entry.js`, no framework, no build step): its answers carry their own
Content-Security-Policy with `script-src 'self'`; every other page keeps `script-src 'none'`.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service import entry
from tonghop.portal import entry_view, periods
from tonghop.portal.accounts import User
from tonghop.portal.auth import checked_form, client_addr, flash
from tonghop.portal.context import Portal
from tonghop.portal.database import stamp
from tonghop.portal.deps import Lang, PortalDep, Submitter, Words
from tonghop.portal.drafts import Change
from tonghop.portal.i18n import translator
from tonghop.portal.rendering import lang_of, render, templates
from validations.catalog import Indicator
from validations.fmt import fmt_num
from validations.period import Period
from validations.template import form_sections
from validations.units import Unit
from validations.validator import default_today

router = APIRouter()

# The portal's policy (tonghop.portal.app.CSP) with this page's own script allowed.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
MAX_CHANGES = 200
# Each form's history statistics (a few kB), per process, the least recently used dropped
# (apart from Portal.cached, which holds the few costly summaries of a snapshot).
MAX_REFERENCES = 4000
_REFERENCES: OrderedDict[tuple[Any, ...], entry.Reference | None] = OrderedDict()
_REFERENCES_LOCK = threading.Lock()


class ChangeIn(BaseModel):
    indicator: str = Field(max_length=64)
    value: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)
    follow_up: bool = False
    at: str | None = Field(None, max_length=40)  # when the browser took it


class SaveIn(BaseModel):
    unit: str = Field(max_length=16)
    period: str = Field(max_length=16)
    client: str = Field("", max_length=64)
    since: int = 0
    changes: list[ChangeIn] = Field(default_factory=list, max_length=MAX_CHANGES)


class FormIn(BaseModel):
    unit: str = Field(max_length=16)
    period: str = Field(max_length=16)


def json_csrf(request: Request) -> None:
    """The page's CSRF token in the X-CSRF-Token header (403 otherwise)."""
    sent = request.headers.get("x-csrf-token", "")
    if not sent or not hmac.compare_digest(sent, request.session.get("csrf") or ""):
        raise HTTPException(403, "csrf")


Csrf = Annotated[None, Depends(json_csrf)]


class Form:
    """A unit's form for a period, as the user may see it."""

    def __init__(
        self,
        portal: Portal,
        user: User,
        unit: str | None,
        period: str | None,
        lang: str = "vi",
    ):
        cat = portal.catalog
        self.portal = portal
        self.user = user
        self.period: Period = periods.period_or_400(period, cat)
        self.code = (unit or user.unit_code).strip()
        portal.scope.require(user.unit_code, self.code, self.period.code)
        u = portal.scope.unit(self.code, self.period)
        if u is None:
            t = translator(lang)
            raise HTTPException(404, t("no_form_unit", unit=self.code, period=self.period.code))
        self.unit: Unit = u
        self.indicators: list[Indicator] = entry.form_indicators(cat, u.level, self.period.code)
        self.codes = {i.code for i in self.indicators}

    @property
    def on_behalf(self) -> bool:
        return self.code != self.user.unit_code

    def fields(self) -> dict[str, Any]:
        return self.portal.drafts.fields(self.code, self.period.code)

    def latest(self) -> dict[str, Any] | None:
        return self.portal.read(entry.latest_values, self.code, self.period.code, default=None)

    def reference(self) -> entry.Reference | None:
        """The unit's history statistics and usual ranges, read once per warehouse snapshot."""
        p = self.portal
        snap = (str(p.settings.warehouse), p.reader.generation, p.reader.taken_at)
        key = (*snap, self.code, self.period.code)
        with _REFERENCES_LOCK:
            if key in _REFERENCES:
                _REFERENCES.move_to_end(key)
                return _REFERENCES[key]
        ref = p.read(entry.reference, self.code, self.period.code, p.catalog, p.units, default=None)
        with _REFERENCES_LOCK:
            _REFERENCES[key] = ref
            while len(_REFERENCES) > MAX_REFERENCES:
                _REFERENCES.popitem(last=False)
        return ref

    def entries(
        self, fields: Mapping[str, Any], latest: Mapping[str, Any] | None
    ) -> dict[str, entry.Entry]:
        """The form's fields: the draft's, or (no draft yet) the newest stored version's."""
        out = {}
        for ind in self.indicators:
            f = fields.get(ind.code)
            if f is not None:
                out[ind.code] = entry.Entry(ind.code, f.value, f.note, f.follow_up)
            elif not fields and latest and ind.code in latest["values"]:
                value, note = latest["values"][ind.code]
                out[ind.code] = entry.Entry(ind.code, entry.value_text(value), note)
        return out

    def seed(self, latest: Mapping[str, Any] | None) -> dict[str, tuple[str, str]] | None:
        if not latest:
            return None
        return {
            c: (entry.value_text(v), n or "")
            for c, (v, n) in latest["values"].items()
            if c in self.codes
        }

    def ordered(self, entries: Mapping[str, entry.Entry]) -> list[entry.Entry]:
        return [entries[i.code] for i in self.indicators if i.code in entries]

    def check(
        self,
        entries: Mapping[str, entry.Entry],
        fields: Mapping[str, Any],
        lang: str,
        seq: int,
    ) -> dict[str, Any]:
        """The check as typed (service.entry.check_draft on the warm validator)."""
        p = self.portal
        chk = entry.check_draft(
            self.code,
            self.period.code,
            self.ordered(entries),
            p.checker,  # batched with the other checks and uploads of the moment
            p.catalog,
            self.reference(),
        )
        record = chk.result.to_dict(lang) if chk.result is not None else None
        return entry_view.state(record, chk, self.indicators, fields, entries, p.catalog, lang, seq)

    def csv(self, entries: Mapping[str, entry.Entry]) -> bytes:
        return entry.canonical_csv(
            self.code, self.period.code, self.ordered(entries), self.portal.catalog
        )

    def save(self, changes: list[Change], client: str) -> int:
        """Write the changes to the draft (an empty draft first takes the newest version's
        values), with a line in the audit trail when this user starts editing it."""
        p, key = self.portal, (self.code, self.period.code)
        fields = p.drafts.fields(*key)
        mine = [c for c in changes if c.indicator in self.codes]
        if not mine:
            return max((f.seq for f in fields.values()), default=0)
        latest = self.latest() if not fields else None
        if not any(f.changed_by == self.user.name for f in fields.values()):
            detail = (
                f"on behalf of {self.code} (sender {self.user.unit_code})" if self.on_behalf else ""
            )
            p.db.audit(self.user.name, "entry_edit", self.code, self.period.code, detail)
        return p.drafts.save(
            *key,
            mine,
            self.user.name,
            self.user.unit_code,
            client,
            seed=self.seed(latest),
            seed_version=latest["version"] if latest else None,
        )


def _changes(items: list[ChangeIn]) -> list[Change]:
    return [Change(c.indicator, c.value.strip(), c.note.strip(), c.follow_up, c.at) for c in items]


def _json(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data)  # no-store, as every answer but /static (app.SecurityHeaders)


# --- the page --------------------------------------------------------------------------------
@router.get("/entry", include_in_schema=False)
def entry_page(
    request: Request,
    portal: PortalDep,
    user: Submitter,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    form = Form(portal, user, unit, period, lang)
    p, u = form.period, form.unit
    fields = form.fields()
    latest = form.latest() if not fields else None
    entries = form.entries(fields, latest)
    seq = max((f.seq for f in fields.values()), default=0)
    state = form.check(entries, fields, lang, seq)
    ref = form.reference()
    ranges = entry_view.ranges_json(ref, lang)
    last = max(fields.values(), key=lambda f: f.seq, default=None)
    submitted = portal.drafts.last_submit(form.code, p.code)
    if submitted and submitted["seq"] < seq:
        submitted = None  # changed since: not what was sent
    due = periods.deadline(portal.catalog, p, u.level)
    left = (due - default_today()).days if due else 0
    note = (
        t("days_left", n=left)
        if left > 0
        else (t("due_today") if left == 0 else t("days_over", n=-left))
    )
    rows = []
    for section in form_sections(portal.catalog, form.indicators):
        rows.append(
            {
                "number": section.number,
                "label": section.label(lang),
                "rows": [
                    {
                        "n": n,
                        "ind": ind,
                        "label": ind.label(lang),
                        "unit": ind.unit(lang),
                        "state": state["fields"][ind.code],
                        "range": ranges.get(ind.code),
                    }
                    for n, ind in section.rows
                ],
            }
        )
    resp = render(
        request,
        "entry.html",
        user=user,
        title=t("e_title"),
        section="entry",
        unit=u,
        units=[x for x in portal.scope.tree(user.unit_code, p)[:300]],
        period=p,
        periods=periods.choices(portal.catalog, p.code),
        period_label=p.label_vi if lang == "vi" else p.code,
        deadline=f"{due:%d/%m/%Y}" if due else "—",
        deadline_note=note,
        overdue=left < 0,
        on_behalf=form.on_behalf,
        sections=rows,
        state=state,
        seq=seq,
        last=last,
        last_at=entry_view.when(last.changed_at) if last else "",
        latest=latest,
        latest_line=t(
            "e_from_version",
            v=latest["version"],
            status=t(f"s_{latest['status']}"),
            at=f"{latest['received_at']:%H:%M %d/%m/%Y}",
        )
        if latest
        else "",
        submitted=submitted,
        submitted_at=entry_view.when(submitted["submitted_at"]) if submitted else "",
    )
    resp.headers["Content-Security-Policy"] = CSP
    return resp


# --- the script's calls ------------------------------------------------------------------------
@router.post("/entry/save", include_in_schema=False)
def entry_save(
    body: SaveIn, portal: PortalDep, user: Submitter, lang: Lang, _: Csrf
) -> JSONResponse:
    t0 = time.perf_counter()
    form = Form(portal, user, body.unit, body.period, lang)
    seq = form.save(_changes(body.changes), body.client)
    out = _json(_answer(form, body.client, body.since, seq, lang))
    out.headers["Server-Timing"] = f"check;dur={1000 * (time.perf_counter() - t0):.1f}"
    return out


@router.get("/entry/changes", include_in_schema=False)
def entry_changes(
    portal: PortalDep,
    user: Submitter,
    lang: Lang,
    unit: str,
    period: str,
    since: int = 0,
    client: str = "",
) -> JSONResponse:
    form = Form(portal, user, unit, period, lang)
    others = portal.drafts.since(form.code, form.period.code, since, client)
    seq = portal.drafts.last_seq(form.code, form.period.code)
    if not others:
        return _json({"seq": max(seq, since), "others": []})
    return _json(_answer(form, client, since, seq, lang))


def _answer(form: Form, client: str, since: int, seq: int, lang: str) -> dict[str, Any]:
    """The check of the whole draft, and what other pages saved since `since`."""
    t = translator(lang)
    fields = form.fields()
    entries = form.entries(fields, None)
    state = form.check(entries, fields, lang, seq)
    others = [f for f in fields.values() if f.seq > since and f.client != client and f.changed_by]
    last = max(fields.values(), key=lambda f: f.seq, default=None)
    if last is not None:
        state["draft_line"] = t(
            "e_draft_last",
            at=entry_view.when(last.changed_at),
            by=last.changed_by or t("e_copied"),
        )
    state["saved_at"] = entry_view.when(stamp())[:8]
    state["others"] = [
        {
            "indicator": f.indicator,
            "value": f.value,
            "note": f.note,
            "follow_up": f.follow_up,
            "text": t(
                "e_status_others",
                by=f.changed_by,
                label=form.portal.catalog.indicators[f.indicator].label(lang),
                value=f.value or "—",
                at=entry_view.when(f.changed_at),
            ),
        }
        for f in sorted(others, key=lambda f: f.seq)
        if f.indicator in form.codes
    ]
    return state


@router.post("/entry/validate", include_in_schema=False)
def entry_validate(
    body: FormIn, portal: PortalDep, user: Submitter, lang: Lang, _: Csrf
) -> JSONResponse:
    """The whole dry run of the draft as the file it will be (service.check): the verdict an
    upload of it gets now, with the version the warehouse would give it."""
    form = Form(portal, user, body.unit, body.period, lang)
    fields = form.fields()
    entries = form.entries(fields, None if fields else form.latest())
    seq = max((f.seq for f in fields.values()), default=0)
    data = form.csv(entries)
    chk = entry.preview(form.ordered(entries), portal.catalog)
    if not any(not e.blank for e in entries.values()):
        record = None
    else:
        record = portal.uploads.dry_run(
            user, entry.file_name(form.code, form.period.code), data, lang
        )
    out = entry_view.state(record, chk, form.indicators, fields, entries, portal.catalog, lang, seq)
    outcome = (record or {}).get("outcome") or {}
    out["outcome"] = outcome.get(f"message_{lang}") or ""
    out["full"] = True
    return _json(out)


@router.get("/entry/history", include_in_schema=False)
def entry_history(
    portal: PortalDep, user: Submitter, lang: Lang, unit: str, period: str, indicator: str
) -> JSONResponse:
    """A field's last 12 periods (the same territory across the 2025 reform), its value in
    each stored version of the period, and the draft's changes of it."""
    form = Form(portal, user, unit, period, lang)
    if indicator not in form.codes:
        raise HTTPException(404)
    found = portal.read(
        entry.field_history,
        form.code,
        form.period.code,
        indicator,
        portal.catalog,
        default={"periods": [], "versions": []},
    )
    t = translator(lang)
    return _json(
        {
            "indicator": indicator,
            "periods": [
                {"period": r["period"], "value": fmt(r["value"], lang), "mapped": r["mapped"]}
                for r in found["periods"]
            ],
            "versions": [
                {
                    "version": v["version"],
                    "status": t(f"s_{v['status']}"),
                    "current": bool(v["is_current"]),
                    "value": fmt(v["value"], lang),
                    "note": v["note"] or "",
                    "received": f"{v['received_at']:%H:%M %d/%m/%Y}",
                }
                for v in found["versions"]
            ],
            "changes": [
                {
                    "value": c["value"],
                    "note": c["note"],
                    "follow_up": bool(c["follow_up"]),
                    "by": c["changed_by"] or t("e_copied"),
                    "behalf": c["sender"] != form.code and c["changed_by"] != "",
                    "at": entry_view.when(c["changed_at"]),
                }
                for c in portal.drafts.changes(form.code, form.period.code, indicator)
            ],
        }
    )


def fmt(value: Any, lang: str) -> str:
    return fmt_num(value, lang) if value is not None else "—"


# --- submitting ---------------------------------------------------------------------------------
@router.post("/entry/submit", include_in_schema=False)
async def entry_submit(
    request: Request, portal: PortalDep, user: Submitter, lang: Lang
) -> Response:
    with portal.checker.arriving():  # the batch forming waits for it from now on
        form_data = await checked_form(request)
        unit, period = str(form_data.get("unit") or ""), str(form_data.get("period") or "")
        # the page without its script posts every field; with it, the draft (which it has
        # saved, with what others saved since) is what is sent
        posted = not form_data.get("script")
        values = {k[2:]: str(v) for k, v in form_data.items() if k.startswith("v:")}
        notes = {k[2:]: str(v) for k, v in form_data.items() if k.startswith("n:")}
        marks = {k[2:] for k, v in form_data.items() if k.startswith("f:") and v}
        t0 = time.perf_counter()
        up_id = await run_in_threadpool(
            _submit, portal, user, unit, period, values, notes, marks, posted, lang,
            client_addr(request),
        )  # fmt: skip
    t = translator(lang)
    if up_id is None:
        flash(request, t("e_nothing"), "error")
        return RedirectResponse(f"/entry?unit={unit}&period={period}", 303)
    out = RedirectResponse(f"/uploads/{up_id}", 303)
    out.headers["Server-Timing"] = f"submit;dur={1000 * (time.perf_counter() - t0):.1f}"
    return out


def _submit(
    portal: Portal,
    user: User,
    unit: str,
    period: str,
    values: dict[str, str],
    notes: dict[str, str],
    marks: set[str],
    posted: bool,
    lang: str,
    addr: str,
) -> int | None:
    """The draft (with what the page posted) as the canonical CSV, received and stored exactly
    as that file uploaded (Portal.receive: checked, stored, mailed); the submission's
    follow-up marks kept beside it. The upload's id, or None when nothing was entered."""
    form = Form(portal, user, unit, period, lang)
    fields = form.fields()
    if posted:  # the page without its script: what it shows and the draft does not hold
        changes = []
        for ind in form.indicators:
            c = ind.code
            if c not in values:  # not on the page that posted
                continue
            f = fields.get(c)
            new = Change(c, values.get(c, "").strip(), notes.get(c, "").strip(), c in marks, None)
            old = (f.value, f.note, f.follow_up) if f else ("", "", False)
            if (new.value, new.note, new.follow_up) != old and (f or new.value or new.note):
                changes.append(new)
        if changes:
            form.save(changes, "form-post")
        fields = form.fields()
    entries = form.entries(fields, None)
    if not any(not e.blank for e in entries.values()):
        return None
    data = form.csv(entries)
    up, _ = portal.receive(user, entry.file_name(form.code, form.period.code), data, lang, addr)
    seq = max((f.seq for f in fields.values()), default=0)
    portal.drafts.submitted(
        up.id, form.code, form.period.code, up.content_hash, seq, user.name, fields.values()
    )
    detail = f"upload {up.id}" + (
        f", on behalf of {form.code} (sender {user.unit_code})" if form.on_behalf else ""
    )
    portal.db.audit(user.name, "entry_submit", form.code, form.period.code, detail, addr)
    return up.id


@router.post("/entry/discard", include_in_schema=False)
async def entry_discard(
    request: Request, portal: PortalDep, user: Submitter, lang: Lang, t: Words
) -> Response:
    data = await checked_form(request)
    form = Form(portal, user, str(data.get("unit") or ""), str(data.get("period") or ""), lang)
    n = portal.drafts.discard(form.code, form.period.code)
    portal.db.audit(user.name, "entry_discard", form.code, form.period.code, f"{n} fields")
    flash(request, t("e_discarded"), "ok")
    return RedirectResponse(f"/entry?unit={form.code}&period={form.period.code}", 303)


# --- the version page: what the form sent beside its values --------------------------------------
def version_notes(request: Request, v: Mapping[str, Any]) -> dict[str, Any] | None:
    """For the version page (a Jinja global): the version's comments (its values' notes), the
    follow-up marks its submission from the web form carried, and who entered it there."""
    portal: Portal = request.app.state.portal
    notes = portal.read(entry.version_notes, v["submission_id"], default=[])
    marks = {
        m["indicator"]: m
        for m in portal.drafts.marks(v["unit_code"], v["period"], v.get("content_hash") or "")
    }
    sent = portal.drafts.submit_of(v["unit_code"], v["period"], v.get("content_hash") or "")
    if not notes and not marks and not sent:
        return None
    lang = lang_of(request)
    cat = portal.catalog
    rows: dict[str, dict[str, Any]] = {}
    for n in notes:
        rows[n["indicator"]] = {"value": fmt(n["value"], lang), "note": n["note"], "mark": False}
    for code, m in marks.items():
        rows.setdefault(code, {"value": "", "note": m["note"], "mark": False})["mark"] = True
    return {
        "rows": [
            {"code": c, "label": cat.indicators[c].label(lang) if c in cat.indicators else c} | r
            for c, r in sorted(
                rows.items(),
                key=lambda kv: (
                    list(cat.indicators).index(kv[0]) if kv[0] in cat.indicators else 999
                ),
            )
        ],  # fmt: skip
        "sent_by": sent["submitted_by"] if sent else None,
        "sent_at": entry_view.when(sent["submitted_at"]) if sent else None,
    }


templates.env.globals["entry_notes"] = version_notes
