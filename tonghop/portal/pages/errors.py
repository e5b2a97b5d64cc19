"""What a refusal or a failure looks like: a page for people, JSON under /api. Never a traceback.

A refusal from the libraries (a TonghopError, or an HTTPException whose detail is one or a
catalog Message) is shown in the request's language, from the message catalog
(validations/messages.yaml): the page's language, or under /api the `lang` query parameter
(Vietnamese by default). JSON errors carry the message and, for a catalog message, its stable
`code` and `reason`."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tonghop.portal.auth import LoginRequired
from tonghop.portal.i18n import LANGS, translator
from tonghop.portal.reader import NoData
from tonghop.portal.rendering import lang_of, render
from tonghop.portal.scope import OutOfScope
from validations.errors import RefusedError, TonghopError, UsageError
from validations.fmt import one_line
from validations.messages import Message
from validations.period import PeriodError

log = logging.getLogger("tonghop.portal")


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def language(request: Request) -> str:
    """The language of an error: ?lang= (the API's parameter), else the page's."""
    lang = request.query_params.get("lang")
    return lang if lang in LANGS else lang_of(request)


def text_of(detail: Any, lang: str) -> str:
    """An error's detail as one sentence in `lang`: a TonghopError or a catalog Message from
    the message catalog, anything else as it is."""
    if isinstance(detail, TonghopError):
        return detail.message(lang)
    if isinstance(detail, Message):
        return one_line(detail.render(lang))
    return str(detail)


def _json(detail: Any, lang: str, status: int, headers: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": text_of(detail, lang)}
    if isinstance(detail, TonghopError):
        body |= {"code": detail.error_code(), "reason": detail.reason}
    elif isinstance(detail, Message):
        body |= {"reason": detail.reason}
    return JSONResponse(body, status, headers=headers)


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
    lang = language(request)
    t = translator(lang)
    if _api(request):
        return _json(exc.detail, lang, exc.status_code, exc.headers)
    if isinstance(exc.detail, TonghopError | Message):
        exc = HTTPException(exc.status_code, text_of(exc.detail, lang), exc.headers)
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


# A refusal that reached no route's own handling: what the user can act on is said (in the
# page's language); the service's own configuration and storage errors stay a server error.
_USER_ERRORS = (RefusedError, PeriodError, UsageError)


async def tonghop_error(request: Request, exc: TonghopError) -> Response:
    if not isinstance(exc, _USER_ERRORS):
        return await server_error(request, exc)
    status = 409 if isinstance(exc, RefusedError) else (422 if _api(request) else 400)
    return await http_error(request, HTTPException(status, exc))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s %s", request.method, request.url.path, exc_info=exc)
    t = translator(lang_of(request))
    if _api(request):
        return JSONResponse({"detail": t("server_error_text")}, 500)
    return _page(request, 500, t("server_error"), t("server_error_text"))
