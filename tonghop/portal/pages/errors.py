"""What a refusal or a failure looks like: a page for people, JSON under /api. Never a traceback."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tonghop.portal.auth import LoginRequired
from tonghop.portal.i18n import translator
from tonghop.portal.reader import NoData
from tonghop.portal.rendering import lang_of, render
from tonghop.portal.scope import OutOfScope

log = logging.getLogger("tonghop.portal")


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page(request: Request, code: int, heading: str, message: str) -> Response:
    return render(
        request, "error.html", code, code=code, heading=heading, message=message, title=heading
    )


async def login_required(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", 303)


async def out_of_scope(request: Request, exc: OutOfScope) -> Response:
    t = translator(lang_of(request))
    text = t("forbidden_unit", unit=str(exc))
    if _api(request):
        return JSONResponse({"detail": text}, 403)
    return _page(request, 403, t("forbidden"), text)


async def no_data(request: Request, exc: NoData) -> Response:
    t = translator(lang_of(request))
    if _api(request):
        return JSONResponse({"detail": t("no_data")}, 404)
    return _page(request, 404, t("not_found"), t("no_data"))


async def http_error(request: Request, exc: HTTPException) -> Response:
    t = translator(lang_of(request))
    if _api(request):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    code = exc.status_code
    if code == 403:
        msg = t("forbidden_csrf") if exc.detail == "csrf" else t("forbidden_role")
        if exc.detail not in ("csrf", "role"):
            msg = str(exc.detail)
        return _page(request, 403, t("forbidden"), msg)
    if code == 404:
        detail = exc.detail if exc.detail and exc.detail != "Not Found" else t("not_found_text")
        return _page(request, 404, t("not_found"), str(detail))
    if code == 429:
        return _page(request, 429, t("too_many"), str(exc.detail))
    if code == 400:
        return _page(request, 400, t("bad_period"), str(exc.detail))
    return _page(request, code, str(code), str(exc.detail))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s %s", request.method, request.url.path, exc_info=exc)
    t = translator(lang_of(request))
    if _api(request):
        return JSONResponse({"detail": t("server_error_text")}, 500)
    return _page(request, 500, t("server_error"), t("server_error_text"))
