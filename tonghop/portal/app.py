"""The web application: `create_app(settings)` wires the portal's parts into FastAPI.

Pages are server-rendered (Jinja2), Vietnamese first with an English switch, every asset served
from `static/` (no CDN, no web font; no script but the web form's own, pages/entry.py),
usable on a phone. The JSON API lives under
/api with its OpenAPI document and a server-rendered page for it (/api/docs).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as ASGIScope

from tonghop.portal import api, worker
from tonghop.portal.auth import LoginRequired, session_user
from tonghop.portal.context import Portal
from tonghop.portal.pages import (
    account,
    audit,
    entry,
    errors,
    province,
    steward,
    submitter,
    units,
)
from tonghop.portal.reader import NoData
from tonghop.portal.scope import OutOfScope
from tonghop.portal.settings import PortalSettings
from validations.errors import TonghopError

HERE = Path(__file__).parent
log = logging.getLogger("tonghop.portal")


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'"
)
# What a browser or a proxy may keep: the shipped assets only. Every other answer (a page, a
# download, JSON, a redirect to the login page) is `no-store`, so the back button of a shared
# office computer shows nothing of the previous user's session, whatever route is added later.
CACHEABLE = ("/static/",)


class SecurityHeaders:
    """Headers on every response (a plain ASGI middleware: no task per request)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = not scope["path"].startswith(CACHEABLE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                h.setdefault("Content-Security-Policy", CSP)
                if no_store:
                    h["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: PortalSettings, portal: Portal | None = None) -> FastAPI:
    portal = portal or Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        portal.start(worker.start)
        try:
            yield
        finally:
            portal.stop()

    app = FastAPI(
        title="tonghop",
        version="0.2.0",
        summary="Crime-prevention report portal: validation, submissions, rollups.",
        docs_url=None,  # Swagger UI loads from a CDN: the page is /api/docs, server-rendered
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.portal = portal
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret,
        session_cookie="tonghop_session",
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    app.add_middleware(SecurityHeaders)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (account, submitter, entry, steward, province, units, audit):
        app.include_router(module.router)
    app.include_router(api.router)

    app.add_exception_handler(LoginRequired, errors.login_required)  # type: ignore[arg-type]
    app.add_exception_handler(OutOfScope, errors.out_of_scope)  # type: ignore[arg-type]
    app.add_exception_handler(NoData, errors.no_data)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, errors.http_error)  # type: ignore[arg-type]
    app.add_exception_handler(TonghopError, errors.tonghop_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, errors.server_error)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        """Alive or not, for anyone (a load balancer); the process's counters only for a
        logged-in admin."""
        user = session_user(request, portal.accounts)
        if user is None or user.role != "admin":
            return JSONResponse({"ok": True})
        r, c = portal.reader, portal.checker
        return JSONResponse(
            {
                "ok": True,
                "pid": os.getpid(),
                "snapshot": r.generation,
                "snapshot_taken_at": r.taken_at,
                "validator_batches": c.batches,
                "validated_files": c.files,
            }
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg")

    return app
