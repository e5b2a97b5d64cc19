"""The portal's own SQLite file: accounts, sessions, API tokens, uploads, jobs, notices, the mail
waiting to go out and the audit trail.

It lives outside the DuckDB warehouse (`accounts.sqlite` beside it by default), so the warehouse
keeps its single writer and the portal can record a login or an upload while a flow writes.
SQLite in WAL mode lets several portal processes share it. Plain stdlib `sqlite3`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from warehouse.db import now

try:
    import fcntl
except ImportError:  # not a POSIX system: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    unit_code     TEXT NOT NULL,
    role          TEXT NOT NULL,            -- submitter | steward | viewer | admin
    password_hash TEXT NOT NULL,
    email         TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    session_epoch INTEGER NOT NULL DEFAULT 0, -- unused: sessions are rows of `sessions`
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash   TEXT PRIMARY KEY,           -- sha256 of the token; the token itself is never kept
    name         TEXT NOT NULL REFERENCES users(name),
    created_at   TEXT NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,             -- sha256 of the id the cookie holds; never the id
    name       TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL,
    expires    REAL NOT NULL,                -- time.time(): ended then, whatever the cookie says
    addr       TEXT
);
CREATE INDEX IF NOT EXISTS idx_sessions_name ON sessions (name);
CREATE TABLE IF NOT EXISTS login_failures (
    name TEXT NOT NULL,
    addr TEXT NOT NULL,
    at   REAL NOT NULL                       -- time.time()
);
CREATE INDEX IF NOT EXISTS idx_login_failures ON login_failures (name, at);
CREATE TABLE IF NOT EXISTS audit (
    at        TEXT NOT NULL,                 -- Vietnam local time, as the warehouse's audit_log
    actor     TEXT NOT NULL,                 -- the user's name
    action    TEXT NOT NULL,                 -- login | login_failed | logout | upload | refuse | approve | accept | unapprove | consolidate | token | ...
    unit_code TEXT,
    period    TEXT,
    detail    TEXT,
    addr      TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor         TEXT NOT NULL,
    sender        TEXT NOT NULL,             -- the user's unit: the inbox folder it went to
    unit_code     TEXT,                      -- the unit the file reports for
    period        TEXT,
    file_name     TEXT NOT NULL,             -- as uploaded
    inbox_path    TEXT,                      -- where it was delivered (NULL: not delivered)
    content_hash  TEXT,
    verdict       TEXT NOT NULL,             -- accepted | accepted_with_warnings | rejected | unreadable | refused
    n_errors      INTEGER NOT NULL DEFAULT 0,
    n_warnings    INTEGER NOT NULL DEFAULT 0,
    report        TEXT NOT NULL,             -- JSON: the validator's record (validate --json)
    received_at   TEXT NOT NULL,
    ingest_state  TEXT NOT NULL,             -- none | queued | running | submitted | scheduled | loaded | failed
    ingest_detail TEXT,
    flow_run_id   TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0, -- times a process took it (tonghop.portal.claims)
    claimed_by    TEXT,                      -- the process that took it last: host/boot/pid/start
    claimed_at    TEXT,
    beat_at       REAL                       -- its last heartbeat (time.time())
);
CREATE INDEX IF NOT EXISTS idx_uploads_unit ON uploads (unit_code, period);
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,               -- consolidate
    unit_code   TEXT NOT NULL,
    period      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    mode        TEXT NOT NULL,               -- inline | deployment
    state       TEXT NOT NULL,               -- queued | running | completed | failed | submitted
    detail      TEXT,
    flow_run_id TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claimed_at  TEXT,
    beat_at     REAL
);
CREATE TABLE IF NOT EXISTS notices (
    kind      TEXT NOT NULL,                 -- verdict | missing
    unit_code TEXT NOT NULL,
    period    TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sent_at   TEXT NOT NULL,
    detail    TEXT
);
CREATE TABLE IF NOT EXISTS mail (            -- e-mail waiting to go out (tonghop.portal.notices)
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    recipients  TEXT NOT NULL,               -- JSON list
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL,               -- queued | running | sent | failed
    detail      TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claimed_at  TEXT,
    beat_at     REAL
);
"""
# Columns added since a table was first created: added to an older file when it is opened.
ADDED_COLUMNS = {
    "uploads": (
        "attempts INTEGER NOT NULL DEFAULT 0",
        "claimed_by TEXT",
        "claimed_at TEXT",
        "beat_at REAL",
    ),
    "jobs": (
        "attempts INTEGER NOT NULL DEFAULT 0",
        "claimed_by TEXT",
        "claimed_at TEXT",
        "beat_at REAL",
    ),
}


def _add_columns(con: sqlite3.Connection) -> None:
    """The columns of ADDED_COLUMNS an older file lacks (by name: whatever its version)."""
    for table, columns in ADDED_COLUMNS.items():
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})").fetchall()}
        for decl in columns:
            if decl.split()[0] not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {decl}")


def stamp(at: datetime | None = None) -> str:
    """A timestamp as stored: Vietnam local time, ISO, seconds."""
    return (at or now()).isoformat(timespec="seconds")


class _Reader:
    """One thread's read-only connection (closed when its thread ends or the database closes)."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, timeout=15, check_same_thread=False)
        self.con.row_factory = sqlite3.Row
        self.con.execute("PRAGMA query_only=1")
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.con.close()

    def __del__(self) -> None:
        self.close()


class _Turn:
    """The writers' turn on one SQLite file, shared by every Database on it in this process: a
    re-entrant lock for its threads and, held with it, an exclusive `flock` on `<file>.lock` for
    the other processes (the web processes, the worker, a CLI). SQLite has one writer at a time
    anyway, but a writer that finds the file locked sleeps in SQLite's busy handler (1, 2, 5,
    10, 15 ms ... before each new try), so that twenty uploads over two processes waited tens
    of milliseconds each; a process waiting for the flock is woken the moment it is released."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None
        if fcntl is not None:
            try:
                self.fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only folder: SQLite's busy handler alone
                self.fd = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0 and self.fd is not None:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX)
                except OSError:  # a file system without flock: SQLite's busy handler alone
                    os.close(self.fd)
                    self.fd = None
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)

    def __del__(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_TURNS: weakref.WeakValueDictionary[str, _Turn] = weakref.WeakValueDictionary()
_TURNS_LOCK = threading.Lock()


def _turn_of(path: Path) -> _Turn:
    """The turn of the file at `path` in this process (one per file, while a Database uses it)."""
    key = str(path.resolve())
    with _TURNS_LOCK:
        turn = _TURNS.get(key)
        if turn is None:
            turn = _TURNS[key] = _Turn(path)
        return turn


class Database:
    """The portal's SQLite file, through one connection per process (safe across threads).

    Writes take turns (`_Turn`: the threads of this process and the other processes on the
    file, each woken as soon as the writer before it is done); opening and closing a connection
    per call would checkpoint the WAL at every close. Readers never wait for the writer (WAL
    mode): the reads every request makes go through a read-only connection of their thread
    (`reading`), outside the turns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._depth = 0
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._turn = _turn_of(self.path)
        self._con = sqlite3.connect(self.path, timeout=15, check_same_thread=False)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL: no fsync per commit (the file never corrupts; a power
        # cut may lose the last commits), which keeps an upload's bookkeeping off the disk's path
        self._con.execute("PRAGMA synchronous=NORMAL")
        with self.connect() as con:
            con.executescript(SCHEMA)
            _add_columns(con)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The connection in a transaction: committed on success, rolled back on error (a
        nested call joins the outer transaction)."""
        with self._turn.held():
            if self._depth:
                yield self._con
                return
            self._depth += 1
            self._local.writing = True
            try:
                with self._con:
                    yield self._con
            finally:
                self._local.writing = False
                self._depth -= 1

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of this thread, which never waits for the writers' turns
        (WAL: it reads the last commit): for the reads every request makes (its session, an
        upload, a draft), so that twenty requests at once do not queue behind each other's
        writes. Inside this thread's `connect()`, that transaction's connection."""
        if getattr(self._local, "writing", False):
            with self.connect() as con:
                yield con
            return
        mine = getattr(self._local, "reader", None)
        if mine is None or mine.closed:
            mine = self._local.reader = _Reader(self.path)
            self._readers.add(mine)
        yield mine.con

    def close(self) -> None:
        with self._turn.lock:
            self._con.close()
        for reader in list(self._readers):
            reader.close()

    def audit(
        self,
        actor: str,
        action: str,
        unit_code: str | None = None,
        period: str | None = None,
        detail: str = "",
        addr: str | None = None,
        con: sqlite3.Connection | None = None,
    ) -> None:
        """One line of the audit trail (in the caller's transaction when given `con`)."""
        row = [stamp(), actor, action, unit_code, period, detail, addr]
        if con is not None:
            con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            return
        with self.connect() as c:
            c.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def audit_rows(
        self,
        actor: str | None = None,
        action: str | None = None,
        codes: list[str] | tuple[str, ...] | None = None,
        unit: str | None = None,
        period: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:  # type: ignore[type-arg]
        """The audit trail, oldest first (newest first when `limit` is given): each filter
        left None is not applied; `codes` keeps the rows of those units; `since`/`until`
        are ISO timestamps (until excluded)."""
        where = ["(? IS NULL OR actor = ?)", "(? IS NULL OR action = ?)"]
        args: list[object] = [actor, actor, action, action]
        for col, val in (("unit_code", unit), ("period", period)):
            where.append(f"(? IS NULL OR {col} = ?)")
            args += [val, val]
        if since:
            where.append("at >= ?")
            args.append(since)
        if until:
            where.append("at < ?")
            args.append(until)
        if codes is not None:
            where.append(f"unit_code IN ({','.join('?' * len(codes)) or 'NULL'})")
            args += list(codes)
        order = " ORDER BY rowid" if limit is None else f" ORDER BY rowid DESC LIMIT {int(limit)}"
        with self.connect() as con:
            rows = con.execute(
                "SELECT rowid, * FROM audit WHERE " + " AND ".join(where) + order, args
            ).fetchall()
        return [dict(r) for r in rows]
