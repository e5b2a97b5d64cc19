"""Drafts of the web form, in the portal's own SQLite file: never mixed with submitted versions.

A draft is a unit's period as typed so far, one row per field (`entry_drafts`: the value as
typed, a comment, a follow-up mark, who changed it last and when, and `seq`, the number of that
change). Every save is also a row of `entry_changes` (the field's own audit trail: who typed
what, when, on behalf of which unit). Several people (a commune's clerk, its district steward
on its behalf) may edit one draft: the last write of a field wins, and each client asks for the
changes made since the last one it saw (`since`). A submission of the draft (`entry_submits`)
keeps the follow-up marks of what was sent (`entry_marks`, keyed by the upload and the content
hash of the file, which is the stored version's); the draft itself stays, as the working copy
of the next correction.

The tables live beside the portal's own in its SQLite file; `Drafts` creates them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tonghop.portal.database import Database, stamp
from warehouse.db import now

SCHEMA = """
CREATE TABLE IF NOT EXISTS entry_drafts (
    unit_code    TEXT NOT NULL,
    period       TEXT NOT NULL,
    indicator    TEXT NOT NULL,
    value        TEXT NOT NULL DEFAULT '',    -- as typed ("1.234", "12,5")
    note         TEXT NOT NULL DEFAULT '',    -- the comment (the CSV's note)
    follow_up    INTEGER NOT NULL DEFAULT 0,  -- marked for follow-up
    changed_by   TEXT NOT NULL,               -- the user ('' when copied from a version)
    changed_at   TEXT NOT NULL,
    client       TEXT NOT NULL DEFAULT '',    -- the browser page that saved it
    from_version INTEGER,                     -- copied from this stored version, untouched
    seq          INTEGER NOT NULL,            -- entry_changes.seq of the last change
    PRIMARY KEY (unit_code, period, indicator)
);
CREATE TABLE IF NOT EXISTS entry_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code  TEXT NOT NULL,
    period     TEXT NOT NULL,
    indicator  TEXT NOT NULL,
    value      TEXT NOT NULL,
    note       TEXT NOT NULL,
    follow_up  INTEGER NOT NULL,
    changed_by TEXT NOT NULL,
    sender     TEXT NOT NULL,                 -- the user's unit (another one: on behalf)
    changed_at TEXT NOT NULL,
    typed_at   TEXT,                          -- when the browser took it (later when offline)
    client     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS idx_entry_changes ON entry_changes (unit_code, period, indicator);
CREATE TABLE IF NOT EXISTS entry_submits (
    upload_id    INTEGER PRIMARY KEY,
    unit_code    TEXT NOT NULL,
    period       TEXT NOT NULL,
    content_hash TEXT,
    seq          INTEGER NOT NULL,            -- the draft's last change when it was sent
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_entry_submits ON entry_submits (unit_code, period);
CREATE TABLE IF NOT EXISTS entry_marks (
    upload_id    INTEGER NOT NULL,
    content_hash TEXT,
    unit_code    TEXT NOT NULL,
    period       TEXT NOT NULL,
    indicator    TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    marked_by    TEXT NOT NULL,
    marked_at    TEXT NOT NULL,
    PRIMARY KEY (upload_id, indicator)
);
CREATE INDEX IF NOT EXISTS idx_entry_marks ON entry_marks (unit_code, period, content_hash);
"""


@dataclass(frozen=True)
class Field:
    """One field of a draft as stored."""

    indicator: str
    value: str
    note: str
    follow_up: bool
    changed_by: str
    changed_at: str
    client: str
    from_version: int | None
    seq: int


@dataclass(frozen=True)
class Change:
    """A field as a browser sends it."""

    indicator: str
    value: str = ""
    note: str = ""
    follow_up: bool = False
    typed_at: str | None = None


def _field(row: Any) -> Field:
    r = dict(row)
    return Field(
        r["indicator"],
        r["value"],
        r["note"],
        bool(r["follow_up"]),
        r["changed_by"],
        r["changed_at"],
        r["client"],
        r["from_version"],
        int(r["seq"]),
    )


class Drafts:
    """The drafts, their changes, their submissions and follow-up marks."""

    def __init__(self, db: Database):
        self.db = db
        with db.connect() as con:
            con.executescript(SCHEMA)

    # --- reading ---------------------------------------------------------------------------
    def fields(self, unit_code: str, period: str) -> dict[str, Field]:
        with self.db.reading() as con:
            rows = con.execute(
                "SELECT * FROM entry_drafts WHERE unit_code = ? AND period = ?",
                [unit_code, period],
            ).fetchall()
        return {r["indicator"]: _field(r) for r in rows}

    def since(self, unit_code: str, period: str, seq: int, client: str) -> list[Field]:
        """The fields another page changed after change `seq`."""
        with self.db.reading() as con:
            rows = con.execute(
                "SELECT * FROM entry_drafts WHERE unit_code = ? AND period = ? AND seq > ?"
                " AND client <> ? ORDER BY seq",
                [unit_code, period, seq, client],
            ).fetchall()
        return [_field(r) for r in rows]

    def last_seq(self, unit_code: str, period: str) -> int:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT max(seq) FROM entry_drafts WHERE unit_code = ? AND period = ?",
                [unit_code, period],
            ).fetchone()
        return int(row[0] or 0)

    def changes(self, unit_code: str, period: str, indicator: str) -> list[dict[str, Any]]:
        """Every save of a field, newest first (its audit trail)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT * FROM entry_changes WHERE unit_code = ? AND period = ? AND indicator = ?"
                " ORDER BY seq DESC LIMIT 50",
                [unit_code, period, indicator],
            ).fetchall()
        return [dict(r) for r in rows]

    def last_submit(self, unit_code: str, period: str) -> dict[str, Any] | None:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT * FROM entry_submits WHERE unit_code = ? AND period = ?"
                " ORDER BY upload_id DESC LIMIT 1",
                [unit_code, period],
            ).fetchone()
        return dict(row) if row else None

    def submit_of(self, unit_code: str, period: str, content_hash: str) -> dict[str, Any] | None:
        """The web form's last submission of this content (who sent it, when), if any."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT * FROM entry_submits WHERE unit_code = ? AND period = ?"
                " AND content_hash = ? ORDER BY upload_id DESC LIMIT 1",
                [unit_code, period, content_hash],
            ).fetchone()
        return dict(row) if row else None

    def marks(self, unit_code: str, period: str, content_hash: str) -> list[dict[str, Any]]:
        """The follow-up marks of the submission holding this content (the stored version)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT * FROM entry_marks WHERE unit_code = ? AND period = ? AND content_hash = ?"
                " ORDER BY upload_id DESC, indicator",
                [unit_code, period, content_hash],
            ).fetchall()
        seen: dict[str, dict[str, Any]] = {}
        for r in rows:  # the same content sent twice: its latest marks
            seen.setdefault(r["indicator"], dict(r))
        return list(seen.values())

    # --- writing ---------------------------------------------------------------------------
    def save(
        self,
        unit_code: str,
        period: str,
        changes: Iterable[Change],
        user: str,
        sender: str,
        client: str = "",
        seed: dict[str, tuple[str, str]] | None = None,
        seed_version: int | None = None,
    ) -> int:
        """Write the changes (the last write of a field wins) in one transaction; an empty
        draft first takes `seed` (indicator -> (value, note): the newest stored version's, so
        a correction starts from what was sent). The draft's last change number."""
        at = stamp()
        with self.db.connect() as con:
            if seed:
                empty = not con.execute(
                    "SELECT 1 FROM entry_drafts WHERE unit_code = ? AND period = ? LIMIT 1",
                    [unit_code, period],
                ).fetchone()
                if empty:
                    for code, (value, note) in seed.items():
                        self._write(
                            con, unit_code, period, Change(code, value, note), "", sender, at,
                            "", seed_version,
                        )  # fmt: skip
            for c in changes:
                self._write(con, unit_code, period, c, user, sender, at, client, None)
            row = con.execute(
                "SELECT max(seq) FROM entry_drafts WHERE unit_code = ? AND period = ?",
                [unit_code, period],
            ).fetchone()
        return int(row[0] or 0)

    @staticmethod
    def _write(
        con: sqlite3.Connection,
        unit_code: str,
        period: str,
        c: Change,
        user: str,
        sender: str,
        at: str,
        client: str,
        from_version: int | None,
    ) -> None:
        seq = con.execute(
            "INSERT INTO entry_changes (unit_code, period, indicator, value, note, follow_up,"
            " changed_by, sender, changed_at, typed_at, client)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [unit_code, period, c.indicator, c.value, c.note, int(c.follow_up), user, sender,
             at, c.typed_at, client],
        ).lastrowid  # fmt: skip
        con.execute(
            "INSERT INTO entry_drafts (unit_code, period, indicator, value, note, follow_up,"
            " changed_by, changed_at, client, from_version, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (unit_code, period, indicator) DO UPDATE SET value = excluded.value,"
            " note = excluded.note, follow_up = excluded.follow_up,"
            " changed_by = excluded.changed_by, changed_at = excluded.changed_at,"
            " client = excluded.client, from_version = excluded.from_version,"
            " seq = excluded.seq",
            [unit_code, period, c.indicator, c.value, c.note, int(c.follow_up), user, at,
             client, from_version, seq],
        )  # fmt: skip

    def submitted(
        self,
        upload_id: int,
        unit_code: str,
        period: str,
        content_hash: str | None,
        seq: int,
        user: str,
        fields: Iterable[Field],
    ) -> None:
        """Record a submission of the draft and the follow-up marks of what it sent."""
        at = stamp(now())
        with self.db.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO entry_submits VALUES (?, ?, ?, ?, ?, ?, ?)",
                [upload_id, unit_code, period, content_hash, seq, user, at],
            )
            con.executemany(
                "INSERT OR REPLACE INTO entry_marks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (upload_id, content_hash, unit_code, period, f.indicator, f.note, user, at)
                    for f in fields
                    if f.follow_up
                ],
            )

    def discard(self, unit_code: str, period: str) -> int:
        """Remove the draft (its changes stay in the audit trail); how many fields it held."""
        with self.db.connect() as con:
            return con.execute(
                "DELETE FROM entry_drafts WHERE unit_code = ? AND period = ?",
                [unit_code, period],
            ).rowcount
