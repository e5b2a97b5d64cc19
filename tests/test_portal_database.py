"""The portal's SQLite file (tonghop.portal.database): writes take turns on one connection,
the reads of requests go through a read-only connection of their thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from tonghop.portal.database import Database


def test_a_threads_reads_see_every_commit_and_never_write(tmp_path):
    db = Database(tmp_path / "portal.sqlite")
    db.audit("a", "login")
    with db.reading() as con:
        assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
        with pytest.raises(sqlite3.OperationalError):  # read-only: query_only
            con.execute("DELETE FROM audit")
    db.audit("b", "login")  # committed by the writers' connection: seen at once
    with db.reading() as con:
        assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == 2
    db.close()


def test_reading_inside_a_write_sees_that_transaction(tmp_path):
    db = Database(tmp_path / "portal.sqlite")
    with db.connect() as con:
        con.execute("INSERT INTO audit (at, actor, action) VALUES ('2026-12-07', 'x', 'y')")
        with db.reading() as read:  # the same transaction: its row is there
            assert read.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
    db.close()


def test_reads_do_not_wait_for_a_write_in_progress(tmp_path):
    db = Database(tmp_path / "portal.sqlite")
    db.audit("a", "login")
    inside, done = threading.Event(), threading.Event()

    def writer():
        with db.connect() as con:
            con.execute("INSERT INTO audit (at, actor, action) VALUES ('t', 'w', 'x')")
            inside.set()
            done.wait(5)

    th = threading.Thread(target=writer)
    th.start()
    inside.wait(5)
    with db.reading() as con:  # the writer holds the turn: this read goes on
        assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == 1  # last commit
    done.set()
    th.join()
    with db.reading() as con:
        assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == 2
    db.close()
