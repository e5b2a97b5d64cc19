"""Accounts: users with a unit and a role, argon2 password hashes, sessions, API tokens.

Roles: `submitter` (sends its unit's reports), `steward` (also consolidates and approves the
units below it), `viewer` (reads rollups and summaries), `admin` (all of it). Whatever the
role, a user sees and acts only on its unit and the units below it (tonghop.portal.scope).
Passwords are hashed with argon2id (argon2-cffi); API tokens are random and only their sha256
is stored, so the accounts file gives away neither.

Sessions are rows on the server: the browser's cookie holds a random id, the file its sha256,
the user and when it ends (`session_hours` after the login). A request is logged in only while
its row exists: logging out deletes it, and changing a user's password or disabling the user
deletes all of the user's rows, so a copy of the cookie taken before is worth nothing.

Names and e-mail addresses are checked whole (`re.fullmatch`): a name or address holding a
line break, a space, a control or format character is refused naming what it holds (it would
forge a line of `tonghop user list` or a mail header).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tonghop.portal.database import Database, stamp
from validations.errors import TonghopError
from validations.fmt import one_line
from validations.messages import Message, msg
from validations.units import load_units

ROLES = ("submitter", "steward", "viewer", "admin")
SUBMITTERS = frozenset({"submitter", "steward", "admin"})
STEWARDS = frozenset({"steward", "admin"})
READERS = frozenset({"viewer", "steward", "admin"})
MIN_PASSWORD = 8
TOKEN_PREFIX = "th_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}")  # whole: re.fullmatch
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}")
_hasher = PasswordHasher()
# A hash to verify against when the name is unknown, so that a wrong name costs what a wrong
# password costs (no timing difference tells which names exist).
_DUMMY_HASH = _hasher.hash("tonghop-no-such-user")


class AccountError(TonghopError, ValueError):
    """An account operation that cannot be done as asked (one sentence saying why)."""


@dataclass(frozen=True, slots=True)
class User:
    """One account."""

    name: str
    unit_code: str
    role: str
    email: str | None
    disabled: bool

    @property
    def may_submit(self) -> bool:
        return self.role in SUBMITTERS

    @property
    def is_steward(self) -> bool:
        return self.role in STEWARDS

    @property
    def may_read_figures(self) -> bool:
        return self.role in READERS


def _user(row: object) -> User:
    r = dict(row)  # type: ignore[call-overload]
    return User(r["name"], r["unit_code"], r["role"], r["email"], bool(r["disabled"]))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Users and tokens in the portal's database."""

    def __init__(self, db: Database | str | Path):
        self.db = db if isinstance(db, Database) else Database(db)

    # --- users ---------------------------------------------------------------------------------
    def add(
        self, name: str, unit_code: str, role: str, password: str, email: str | None = None
    ) -> User:
        """Create a user; the unit must exist in the reference units (either structure)."""
        check_name(name)
        if role not in ROLES:
            raise AccountError("account.role_unknown", role=role, roles=list(ROLES))
        if not load_units().versions(unit_code):
            raise AccountError("account.unit_unknown", unit=unit_code)
        if email is not None:
            check_email(email)
        check_password(password)
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
                raise AccountError("account.exists", name=name)
            con.execute(
                "INSERT INTO users (name, unit_code, role, password_hash, email, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [name, unit_code, role, _hasher.hash(password), email, stamp()],
            )
        self.db.audit("cli", "user_add", unit_code, None, f"{name} ({role})")
        return self.get(name)  # type: ignore[return-value]

    def get(self, name: str) -> User | None:
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
        return _user(row) if row else None

    def users(self) -> list[User]:
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM users ORDER BY unit_code, name").fetchall()
        return [_user(r) for r in rows]

    def emails_of(self, unit_code: str, roles: frozenset[str] | None = None) -> list[str]:
        """The e-mail addresses of a unit's active users (of those roles)."""
        return sorted(
            {
                u.email
                for u in self.users()
                if u.unit_code == unit_code
                and u.email
                and not u.disabled
                and (roles is None or u.role in roles)
            }
        )

    def stored_name(self, name: str) -> str:
        """The account's name as stored: `name` itself, or the one account whose name
        `tonghop user list` shows escaped as `name` (one made before names were checked whole,
        "xa.03386\\n"), so that it can be disabled as it is shown."""
        if self.get(name) is not None:
            return name
        shown = [u.name for u in self.users() if one_line(u.name) == name]
        return shown[0] if len(shown) == 1 else name

    def disable(self, name: str) -> None:
        """Disable a user: its sessions and tokens stop working at once."""
        name = self.stored_name(name)
        with self.db.connect() as con:
            n = con.execute("UPDATE users SET disabled = 1 WHERE name = ?", [name]).rowcount
            if not n:
                raise AccountError("account.no_user", name=name)
            con.execute("UPDATE tokens SET revoked = 1 WHERE name = ?", [name])
            con.execute("DELETE FROM sessions WHERE name = ?", [name])
        self.db.audit("cli", "user_disable", None, None, name)

    def set_password(self, name: str, password: str) -> None:
        """A new password: every open session of the user ends (its API tokens stay)."""
        check_password(password)
        name = self.stored_name(name)
        with self.db.connect() as con:
            n = con.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name]
            ).rowcount
            if not n:
                raise AccountError("account.no_user", name=name)
            con.execute("DELETE FROM sessions WHERE name = ?", [name])
        self.db.audit("cli", "user_password", None, None, name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the name and password match an active account, else None."""
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
        stored = row["password_hash"] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row["disabled"]:
            return None
        if _hasher.check_needs_rehash(stored):
            with self.db.connect() as con:
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE name = ?",
                    [_hasher.hash(password), name],
                )
        return _user(row)

    # --- sessions ------------------------------------------------------------------------------
    def open_session(self, name: str, hours: float, addr: str | None = None) -> str:
        """A new session of the user for `hours`: the id its cookie holds (only its sha256 is
        kept). Sessions past their end are deleted on the way."""
        sid = secrets.token_urlsafe(32)
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE expires < ?", [time.time()])
            con.execute(
                "INSERT INTO sessions (id_hash, name, created_at, expires, addr)"
                " VALUES (?, ?, ?, ?, ?)",
                [token_hash(sid), name, stamp(), time.time() + hours * 3600, addr],
            )
        return sid

    def by_session(self, sid: str) -> User | None:
        """The active user of this session id, or None (logged out, ended, expired, disabled)."""
        with self.db.reading() as con:
            row = con.execute(
                "SELECT u.* FROM sessions s JOIN users u ON u.name = s.name"
                " WHERE s.id_hash = ? AND s.expires > ? AND NOT u.disabled",
                [token_hash(sid), time.time()],
            ).fetchone()
        return _user(row) if row else None

    def end_session(self, sid: str) -> None:
        """Log out: the session's id stops working, wherever its cookie was copied to."""
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE id_hash = ?", [token_hash(sid)])

    def sessions_of(self, name: str) -> int:
        """How many open sessions the user has."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM sessions WHERE name = ? AND expires > ?", [name, time.time()]
            ).fetchone()
        return int(row[0])

    # --- API tokens ----------------------------------------------------------------------------
    def new_token(self, name: str) -> str:
        """A new API token for the user (printed once); the user's previous tokens stop working."""
        user = self.get(name)
        if user is None:
            raise AccountError("account.no_user", name=name)
        if user.disabled:
            raise AccountError("account.disabled", name=name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.connect() as con:
            con.execute("UPDATE tokens SET revoked = 1 WHERE name = ?", [name])
            con.execute(
                "INSERT INTO tokens (token_hash, name, created_at) VALUES (?, ?, ?)",
                [token_hash(token), name, stamp()],
            )
        self.db.audit("cli", "token", user.unit_code, None, f"new API token for {name}")
        return token

    def by_token(self, token: str) -> User | None:
        """The active user holding this token, or None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.db.reading() as con:
            row = con.execute(
                "SELECT u.* FROM tokens t JOIN users u ON u.name = t.name"
                " WHERE t.token_hash = ? AND NOT t.revoked AND NOT u.disabled",
                [token_hash(token)],
            ).fetchone()
        return _user(row) if row else None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("account.password_short", min=MIN_PASSWORD)


def check_name(name: str) -> None:
    """A user name, checked whole: what hides in it is named first (a line break would forge a
    line of `tonghop user list`), then the form."""
    hidden = hidden_characters(name)
    if hidden:
        raise AccountError("account.name_hidden", name=name, chars=hidden)
    if not _NAME.fullmatch(name):
        raise AccountError("account.name_form", name=name)


def check_email(email: str) -> None:
    """An e-mail address, checked whole (a line break in it would forge a mail header)."""
    hidden = hidden_characters(email)
    if hidden:
        raise AccountError("account.email_hidden", email=email, chars=hidden)
    if not _EMAIL.fullmatch(email):
        raise AccountError("account.email_form", email=email)


_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def hidden_characters(text: str) -> list[Message]:
    """What a name holds that is not seen as written, each kind once in order: spaces, line
    breaks, tabs, and any other control, format, separator or unassigned character by its
    code point ("U+202E")."""
    found: list[Message] = []
    for ch in text:
        if ch == " ":
            m = msg("account.char.space")
        elif ch in _LINE_BREAKS:
            m = msg("account.char.line_break")
        elif ch == "\t":
            m = msg("account.char.tab")
        elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs", "Zs"):
            m = msg("account.char.other", code=f"U+{ord(ch):04X}")
        else:
            continue
        if m not in found:
            found.append(m)
    return found
