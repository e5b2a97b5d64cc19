"""Who is asking: signed-cookie sessions, CSRF tokens, the login throttle, API bearer tokens.

- Sessions: Starlette's SessionMiddleware keeps the session in a cookie signed with the portal's
  secret (itsdangerous), HttpOnly, SameSite=Lax, expiring after `session_hours`. It holds the
  user's name and the account's `session_epoch`: disabling a user or changing its password
  bumps the epoch, which ends every open session at once.
- CSRF: each session holds a random token; every form carries it in a hidden field and every
  POST from a page is refused (403) unless it matches (compared in constant time).
- Logins: at most `login_limit` failures per account and `login_ip_limit` per address within
  `login_window` seconds (kept in the portal's database, so it holds across processes and
  restarts); past that, 429 with the wait.
- API: `Authorization: Bearer <token>` (`tonghop user token NAME`), no cookie, no CSRF.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from tonghop.portal.accounts import Accounts, User
from tonghop.portal.database import Database
from validations.messages import Message

CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """A page needs a logged-in user: the app redirects to the login page."""

    def __init__(self, next_url: str = "/"):
        self.next_url = next_url


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's (else 403)."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent, request.session.get("csrf") or ""):
        raise HTTPException(403, "csrf")
    return form


def session_user(request: Request, accounts: Accounts) -> User | None:
    """The logged-in user of this request's session, if still active."""
    name = request.session.get("user")
    if not name:
        return None
    user = accounts.get(name)
    if user is None or user.disabled or user.session_epoch != request.session.get("epoch"):
        request.session.pop("user", None)
        return None
    return user


def log_in(request: Request, user: User) -> None:
    request.session.clear()  # a new session: no fixation of an earlier one
    request.session.update(
        {"user": user.name, "epoch": user.session_epoch, "csrf": secrets.token_urlsafe(32)}
    )


def bearer_user(request: Request, accounts: Accounts) -> User:
    """The API caller, from `Authorization: Bearer <token>` (else 401)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = accounts.by_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise HTTPException(
            401,
            Message("portal.token_needed"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def client_addr(request: Request) -> str:
    return request.client.host if request.client else "?"


class Throttle:
    """Failed-login counting in the portal's database."""

    def __init__(self, db: Database, limit: int, ip_limit: int, window: float):
        self.db, self.limit, self.ip_limit, self.window = db, limit, ip_limit, window

    def wait(self, name: str, addr: str) -> float:
        """Seconds until this account and address may try again (0: now)."""
        since = time.time() - self.window
        with self.db.connect() as con:
            by_name = con.execute(
                "SELECT count(*), min(at) FROM login_failures WHERE name = ? AND at > ?",
                [name, since],
            ).fetchone()
            by_addr = con.execute(
                "SELECT count(*), min(at) FROM login_failures WHERE addr = ? AND at > ?",
                [addr, since],
            ).fetchone()
        waits = [
            first + self.window - time.time()
            for (n, first), cap in ((by_name, self.limit), (by_addr, self.ip_limit))
            if n >= cap
        ]
        return max([0.0, *waits])

    def fail(self, name: str, addr: str) -> None:
        with self.db.connect() as con:
            con.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [name, addr, time.time()])
            con.execute("DELETE FROM login_failures WHERE at < ?", [time.time() - 86400])

    def clear(self, name: str) -> None:
        with self.db.connect() as con:
            con.execute("DELETE FROM login_failures WHERE name = ?", [name])


def flash(request: Request, text: str, kind: str = "info") -> None:
    """A message shown once on the next page."""
    request.session.setdefault("flash", []).append({"text": text, "kind": kind})


def pop_flash(request: Request) -> list[dict[str, Any]]:
    return request.session.pop("flash", []) or []
