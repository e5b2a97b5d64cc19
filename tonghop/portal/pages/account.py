"""Logging in and out, the language switch, the start page (where the user's work is:
service.landing, whatever today's date)."""

from __future__ import annotations

import math
from urllib.parse import urlparse

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tonghop.portal import periods
from tonghop.portal.accounts import User
from tonghop.portal.auth import (
    checked_form,
    client_addr,
    flash,
    log_in,
    log_out,
    session_user,
)
from tonghop.portal.deps import CurrentUser, PortalDep, Words
from tonghop.portal.i18n import LANGS, translator
from tonghop.portal.rendering import lang_of, render

router = APIRouter()


def _safe_next(url: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if not url:
        return "/"
    parts = urlparse(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def start_page(user: User) -> str:
    """The page a user works on: the grid (steward), the form (submitter), the figures."""
    if user.is_steward:
        return "steward"
    return "form" if user.may_submit else "province"


@router.get("/", include_in_schema=False)
def home(portal: PortalDep, user: CurrentUser) -> Response:
    page = start_page(user)
    land = periods.landing_of(portal, page, user.unit_code)
    return RedirectResponse(f"/{page}?unit={user.unit_code}&period={land.period}", 303)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, portal: PortalDep, t: Words, next: str = "/") -> Response:
    if session_user(request, portal.accounts):
        return RedirectResponse(_safe_next(next), 303)
    return render(request, "login.html", title=t("login_title"), next=_safe_next(next), name="")


@router.post("/login", include_in_schema=False)
async def login(request: Request, portal: PortalDep, t: Words) -> Response:
    form = await checked_form(request)
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    nxt = _safe_next(str(form.get("next") or "/"))
    addr = client_addr(request)
    wait = portal.throttle.wait(name, addr)
    if wait > 0:
        portal.db.audit(name or "?", "login_throttled", None, None, "", addr)
        raise HTTPException(429, t("login_throttled", minutes=max(1, math.ceil(wait / 60))))
    user = await run_in_threadpool(portal.accounts.authenticate, name, password)
    if user is None:
        portal.throttle.fail(name, addr)
        portal.db.audit(name or "?", "login_failed", None, None, "", addr)
        return render(
            request,
            "login.html",
            401,
            title=t("login_title"),
            next=nxt,
            name=name,
            error=t("login_failed"),
        )
    portal.throttle.clear(name)
    log_in(request, portal.accounts, user, portal.settings.session_hours)
    portal.db.audit(user.name, "login", user.unit_code, None, "", addr)
    return RedirectResponse(nxt, 303)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, portal: PortalDep) -> Response:
    await checked_form(request)
    user = session_user(request, portal.accounts)
    log_out(request, portal.accounts)  # the server forgets the session: a copied cookie is dead
    if user:
        portal.db.audit(user.name, "logout", user.unit_code, None, "", client_addr(request))
    flash(request, translator(lang_of(request))("logged_out"))
    return RedirectResponse("/login", 303)


@router.get("/lang/{lang}", include_in_schema=False)
def set_lang(request: Request, lang: str, next: str = "/") -> Response:
    if lang not in LANGS:
        raise HTTPException(404)
    request.session["lang"] = lang
    return RedirectResponse(_safe_next(next), 303)
