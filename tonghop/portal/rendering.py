"""Rendering a page: the templates, and what every page shows (the user, the language, the
CSRF token, the flashes, the time of the warehouse data, and for a page about a unit the 2025
reform abolished, one sentence on it with a link to its successor). Numbers in templates go
through `num` (and `pct`): "1.234" and "12,5%" in Vietnamese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from service.landing import reform_of
from tonghop.portal.auth import csrf_token, pop_flash, session_user
from tonghop.portal.i18n import LANGS, translator
from validations.fmt import fmt_num, fmt_pct
from validations.validator import default_today
from warehouse.db import to_local

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.auto_reload = False  # shipped templates do not change: no stat() per render
templates.env.filters["num"] = lambda v, lang="vi": "" if v is None else fmt_num(v, lang)
templates.env.filters["pct"] = lambda v, lang="vi": "" if v is None else fmt_pct(v, lang)


def lang_of(request: Request) -> str:
    """The session's language (vi by default)."""
    lang = request.session.get("lang") if "session" in request.scope else None
    return lang if lang in LANGS else "vi"


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Any:
    portal = request.app.state.portal
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
        "reform": None,
    }
    base.update(ctx)
    shown = ctx.get("unit")
    if base["reform"] is None and getattr(shown, "code", None):
        base["reform"] = reform_of(shown.code, portal.units, default_today())
    if base["reform"] is not None:
        base["reform_since"] = f"{base['reform'].ended + timedelta(days=1):%d/%m/%Y}"
    return templates.TemplateResponse(request, template, base, status_code=status)
