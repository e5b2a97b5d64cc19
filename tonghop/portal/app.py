"""The web application: `create_app(settings)` wires the portal's parts into FastAPI.

Pages are server-rendered (Jinja2), Vietnamese first with an English switch, every asset served
from `static/` (no CDN, no web font, no script), usable on a phone. The JSON API lives under
/api with its OpenAPI document and a server-rendered page for it (/api/docs).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as ASGIScope

from tonghop.portal.accounts import Accounts
from tonghop.portal.auth import LoginRequired, Throttle
from tonghop.portal.checker import Checker
from tonghop.portal.database import Database
from tonghop.portal.jobs import Runner
from tonghop.portal.notices import Notices
from tonghop.portal.reader import NoData, WarehouseReader
from tonghop.portal.scope import OutOfScope, Scope
from tonghop.portal.settings import PortalSettings
from tonghop.portal.uploads import Uploads
from validations.catalog import load_catalog
from validations.units import load_units

HERE = Path(__file__).parent
log = logging.getLogger("tonghop.portal")


class Portal:
    """Everything a request needs, built once per application."""

    def __init__(self, settings: PortalSettings):
        self.settings = settings
        self.catalog = load_catalog(settings.catalog)
        self.units = load_units()
        self.db = Database(settings.accounts)
        self.accounts = Accounts(self.db)
        self.scope = Scope(self.units, self.catalog.close_day)
        self.checker = Checker(settings.catalog)
        self.write_lock = threading.RLock()
        self.reader = WarehouseReader(settings.warehouse, self.write_lock)
        self.uploads = Uploads(
            self.db,
            self.checker,
            self.scope,
            self.units,
            settings.inbox,
            settings.accounts.parent / "portal-work",
        )
        self.runner = Runner(
            settings, self.db, self.uploads, self.checker, self.reader, self.catalog, self.units
        )
        self.notices = Notices(
            settings, self.db, self.accounts, self.reader, self.catalog, self.units
        )
        self.throttle = Throttle(
            self.db, settings.login_limit, settings.login_ip_limit, settings.login_window
        )
        self.cache: dict[tuple, object] = {}  # (kind, snapshot generation, ...) -> rendered
        self.cache_lock = threading.Lock()

    def start(self) -> None:
        """Warm the validator, take a first snapshot, start the background work: the worker
        process (tonghop.portal.worker), or threads of this process (`worker="thread"`)."""
        self.checker.warm()
        self.reader.refresh()
        self._worker = None
        if not self.settings.background:
            return
        if self.settings.worker == "process":
            from tonghop.portal import worker

            self._worker = worker.start(self.settings)
        else:
            self.reader.start(self.settings.snapshot_poll, self.settings.snapshot_quiet)
            self.runner.start()
            self.notices.start()

    def stop(self) -> None:
        proc = getattr(self, "_worker", None)
        if proc is not None:
            proc.terminate()
            proc.join(timeout=30)
        self.runner.stop()
        self.notices.stop()
        self.reader.stop()
        self.checker.close()

    def cached(self, key: tuple, build):  # type: ignore[no-untyped-def]
        """`build()` once per snapshot generation and key (summaries cost about a second)."""
        full = (self.reader.generation, *key)
        with self.cache_lock:
            if full in self.cache:
                return self.cache[full]
        value = build()
        with self.cache_lock:
            if len(self.cache) > 256:
                self.cache.clear()
            self.cache[full] = value
        return value


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'"
)
NO_STORE = ("/api/", "/uploads/", "/submissions", "/steward")


class SecurityHeaders:
    """Headers on every response (a plain ASGI middleware: no task per request)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                h.setdefault("Content-Security-Policy", CSP)
                if no_store:
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: PortalSettings, portal: Portal | None = None) -> FastAPI:
    from tonghop.portal import api
    from tonghop.portal.pages import account, errors, province, steward, submitter

    portal = portal or Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        portal.start()
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
    for module in (account, submitter, steward, province):
        app.include_router(module.router)
    app.include_router(api.router)

    app.add_exception_handler(LoginRequired, errors.login_required)  # type: ignore[arg-type]
    app.add_exception_handler(OutOfScope, errors.out_of_scope)  # type: ignore[arg-type]
    app.add_exception_handler(NoData, errors.no_data)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, errors.http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, errors.server_error)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
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
