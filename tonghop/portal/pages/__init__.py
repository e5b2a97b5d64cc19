"""Server-rendered pages, one module per kind of user (account, submitter, steward, province),
and what they share: the templates, the request's user and language, rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates

from tonghop.portal.accounts import User
from tonghop.portal.auth import LoginRequired, csrf_token, pop_flash, session_user
from tonghop.portal.i18n import LANGS, translator
from warehouse.db import to_local

if TYPE_CHECKING:
    from tonghop.portal.app import Portal

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.auto_reload = False  # shipped templates do not change: no stat() per render


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


def lang_of(request: Request) -> str:
    lang = request.session.get("lang") if "session" in request.scope else None
    return lang if lang in LANGS else "vi"


def user_of(request: Request) -> User:
    """The logged-in user (a page redirects to the login page without one)."""
    user = session_user(request, portal_of(request).accounts)
    if user is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt)
    return user


def need(ok: bool) -> None:
    """403 unless the user's role allows it."""
    if not ok:
        raise HTTPException(403, "role")


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Any:
    portal = portal_of(request)
    lang = lang_of(request)
    user = ctx.pop("user", None)
    if user is None and "session" in request.scope:
        user = session_user(request, portal.accounts)
    unit = portal.units.get(user.unit_code) if user else None
    taken = portal.reader.taken_at
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = {
        "request": request,
        "lang": lang,
        "t": translator(lang),
        "user": user,
        "user_unit": f"{unit.code} {unit.name}" if unit else (user.unit_code if user else ""),
        "csrf": csrf_token(request) if "session" in request.scope else "",
        "flashes": pop_flash(request) if "session" in request.scope else [],
        "here": here,
        "snapshot_at": f"{to_local(datetime.fromtimestamp(taken, UTC)):%H:%M:%S %d/%m/%Y}"
        if taken
        else None,
        "refresh": None,
        "title": "tonghop",
        "section": "",
    }
    base.update(ctx)
    return templates.TemplateResponse(request, template, base, status_code=status)
