"""Who is asking: sessions kept on the server behind a signed cookie, CSRF tokens, the login
throttle, API bearer tokens.

- Sessions: Starlette's SessionMiddleware keeps the session in a cookie signed with the portal's
  secret (itsdangerous), HttpOnly, SameSite=Lax, expiring after `session_hours`. Who is logged
  in is not in the cookie: it holds a random session id, and the session is a row of the
  portal's database (tonghop.portal.accounts: `open_session`, `by_session`, `end_session`),
  looked up on every request. Logging out deletes the row; changing a user's password or
  disabling it deletes all of its rows: a copy of the cookie taken before is then worth nothing
  (a shared office computer), in every browser at once.
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


_SEEN = "tonghop.session_user"  # request.state: (session id, its user) once looked up


def session_user(request: Request, accounts: Accounts) -> User | None:
    """The logged-in user of this request's session: its server-side row must exist, be
    unexpired and belong to an active user (looked up once per request)."""
    sid = request.session.get("sid")
    if not sid or not isinstance(sid, str):
        return None
    seen = getattr(request.state, _SEEN, None)
    if seen is not None and seen[0] == sid:
        return seen[1]
    user = accounts.by_session(sid)
    if user is None:
        request.session.pop("sid", None)
    setattr(request.state, _SEEN, (sid, user))
    return user


def log_in(request: Request, accounts: Accounts, user: User, hours: float) -> None:
    """A new session for the user (an earlier one of this browser ends, nothing of it is kept
    but the language: no fixation)."""
    log_out(request, accounts)
    sid = accounts.open_session(user.name, hours, client_addr(request))
    request.session.update({"sid": sid, "csrf": secrets.token_urlsafe(32)})
    setattr(request.state, _SEEN, (sid, user))


def log_out(request: Request, accounts: Accounts) -> None:
    """End this browser's session on the server (its cookie, wherever copied, stops working)
    and forget it here; the language stays."""
    sid = request.session.get("sid")
    if sid and isinstance(sid, str):
        accounts.end_session(sid)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    setattr(request.state, _SEEN, None)


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
