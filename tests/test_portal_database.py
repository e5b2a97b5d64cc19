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


def test_writers_of_other_processes_wait_for_the_turn_and_are_woken_at_once(tmp_path):
    """A write in another process waits while this process holds the writers' turn (the
    flock beside the file) and goes through as soon as it is released, well before SQLite's
    busy handler would have tried again."""
    import subprocess
    import sys
    import time

    path = tmp_path / "accounts.sqlite"
    db = Database(path)
    script = (
        "import sys, time\n"
        "from tonghop.portal.database import Database\n"
        "print('ready', flush=True)\n"
        "db = Database(sys.argv[1])  # its schema check is a write too: it waits\n"
        "with db.connect() as con:\n"
        "    con.execute(\"INSERT INTO audit VALUES ('t', 'other', 'x', NULL, NULL, '', NULL)\")\n"
        "print(time.time(), flush=True)\n"
    )
    with db._turn.held():
        other = subprocess.Popen(
            [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        assert other.poll() is None  # still waiting for the turn
        released = time.time()
    wrote = float(other.stdout.readline())
    assert other.wait(timeout=30) == 0
    assert released <= wrote < released + 0.5
    assert [r["actor"] for r in db.audit_rows()] == ["other"]
    db.close()


def test_two_databases_on_one_file_share_the_turn(tmp_path):
    """Within a process, every Database on a file takes the same turn (no flock against
    itself): a write through one inside the other's turn does not deadlock."""
    a, b = Database(tmp_path / "a.sqlite"), Database(tmp_path / "a.sqlite")
    assert a._turn is b._turn
    with a.connect():
        b.audit("x", "nested")  # its own connection: committed when SQLite lets it
    assert [r["action"] for r in a.audit_rows()] == ["nested"]
    a.close()
    b.close()
