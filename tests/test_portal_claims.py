"""Claims on background work (tonghop.portal.claims): a dead claim is told from a live one, a
row is taken by one process only, and what cannot be done now is given back uncounted."""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tonghop.portal import claims
from tonghop.portal.claims import BOOT, HOST, Claims, Owner, claim_alive
from tonghop.portal.database import Database, stamp

DEAD = f"{HOST}/a-boot-before/1/1"  # a claim of this host before it restarted


def _mail(db: Database, n: int) -> list[int]:
    with db.connect() as con:
        return [
            int(
                con.execute(
                    "INSERT INTO mail (recipients, subject, body, state, created_at)"
                    " VALUES ('[]', 's', 'b', 'queued', ?)",
                    [stamp()],
                ).lastrowid  # type: ignore[arg-type]
            )
            for _ in range(n)
        ]


def _exited_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_this_process_is_alive_and_a_finished_one_is_not():
    me = Owner.me()
    assert Owner.parse(str(me)) == me and me.alive() and claim_alive(str(me), None)
    gone = Owner(HOST, BOOT, _exited_pid(), "1")
    assert gone.alive() is False and not claim_alive(str(gone), time.time())


def test_a_later_process_with_the_same_pid_another_boot_or_no_owner_is_dead():
    me = Owner.me()
    assert not claim_alive(str(Owner(HOST, BOOT, me.pid, "12345")), time.time())  # pid reused
    assert not claim_alive(str(Owner(HOST, "another-boot", me.pid, me.start)), time.time())
    for text in (None, "", "garbage", "a/b/c/d"):
        assert not claim_alive(text, time.time())


@pytest.mark.skipif(not claims.HAS_PROC, reason="zombies are looked up in /proc")
def test_a_zombie_its_parent_has_not_reaped_is_dead():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 20
        while claims._proc_stat(p.pid)[0] != "Z":  # exited, not waited for
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert Owner(HOST, BOOT, p.pid, claims._proc_stat(p.pid)[1]).alive() is False
    finally:
        p.wait()


def test_a_claim_from_another_host_holds_while_it_beats():
    other = f"elsewhere-{socket.gethostname()}/boot/42/7"
    now = time.time()
    assert claim_alive(other, now - 5, now)
    assert not claim_alive(other, now - claims.LEASE - 1, now)
    assert not claim_alive(other, None, now)


def test_a_row_is_taken_once_counted_and_a_live_claim_is_not_taken_again(tmp_path):
    db = Database(tmp_path / "accounts.sqlite")
    ids = _mail(db, 3)
    mail = Claims(db, "mail")
    taken = mail.take()
    assert [(t.id, t.attempts, t.retried) for t in taken] == [(i, 1, False) for i in ids]
    assert mail.take() == [] and mail.claimable() == [] and mail.orphaned() == []
    with db.connect() as con:  # the owner died
        con.execute("UPDATE mail SET claimed_by = ? WHERE id = ?", [DEAD, ids[0]])
    assert mail.orphaned() == [ids[0]] and mail.claimable() == [ids[0]]
    (again,) = mail.take()
    assert (again.id, again.attempts, again.retried, again.exhausted) == (ids[0], 2, True, False)
    with db.connect() as con:
        con.execute(
            "UPDATE mail SET claimed_by = ?, attempts = ? WHERE id = ?",
            [DEAD, claims.MAX_ATTEMPTS, ids[0]],
        )
    (last,) = mail.take([ids[0]])
    assert last.exhausted  # every earlier taker died holding it: the caller gives up


def test_what_is_given_back_waits_uncounted_with_its_reason(tmp_path):
    db = Database(tmp_path / "accounts.sqlite")
    a, b = _mail(db, 2)
    mail = Claims(db, "mail")
    mail.take()
    with db.connect() as con:  # b was taken before by a process that died
        con.execute("UPDATE mail SET attempts = 2 WHERE id = ?", [b])
    mail.give_back([a, b], "busy")
    with db.connect() as con:
        rows = {r["id"]: dict(r) for r in con.execute("SELECT * FROM mail").fetchall()}
    assert (rows[a]["state"], rows[a]["attempts"], rows[a]["detail"]) == ("queued", 0, "busy")
    # a resumed row stays a resumption for the next taker, with the same count
    assert (rows[b]["state"], rows[b]["attempts"], rows[b]["claimed_by"]) == ("running", 1, None)
    assert {t.id: t.retried for t in mail.take()} == {a: False, b: True}


def _take_all(path: str, out: multiprocessing.Queue, start, done) -> None:  # type: ignore[type-arg]
    db = Database(path)
    mail = Claims(db, "mail")
    got: list[int] = []
    start.wait(timeout=120)  # all four take at once (spawned processes start one by one)
    for _ in range(40):
        got += [t.id for t in mail.take(limit=3)]
        time.sleep(0.001)
    out.put((os.getpid(), got))
    # alive until every process has taken: the claims of a process that exited are dead ones,
    # which the others rightly take again
    done.wait(timeout=120)


def test_four_processes_taking_at_once_take_each_row_once(tmp_path):
    path = tmp_path / "accounts.sqlite"
    ids = _mail(Database(path), 60)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start, done = ctx.Barrier(4), ctx.Event()
    procs = [ctx.Process(target=_take_all, args=(str(path), out, start, done)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    done.set()
    for p in procs:
        p.join(timeout=30)
    taken = [i for _, got in results for i in got]
    assert sorted(taken) == ids  # every row once, none twice
    con = sqlite3.connect(path)
    owners = dict(con.execute("SELECT id, claimed_by FROM mail").fetchall())
    for pid, got in results:
        assert all(owners[i].split("/")[2] == str(pid) for i in got)


def test_an_older_file_gets_the_claim_columns(tmp_path):
    path = tmp_path / "accounts.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE uploads (id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL,"
        " sender TEXT NOT NULL, unit_code TEXT, period TEXT, file_name TEXT NOT NULL,"
        " inbox_path TEXT, content_hash TEXT, verdict TEXT NOT NULL, n_errors INTEGER NOT NULL"
        " DEFAULT 0, n_warnings INTEGER NOT NULL DEFAULT 0, report TEXT NOT NULL, received_at"
        " TEXT NOT NULL, ingest_state TEXT NOT NULL, ingest_detail TEXT, flow_run_id TEXT)"
    )
    con.execute(
        "INSERT INTO uploads (actor, sender, file_name, inbox_path, verdict, report,"
        " received_at, ingest_state) VALUES ('a', '03386', 'f.csv', '/x/f.csv', 'accepted',"
        " '{}', '2024-06-15T09:00:00', 'running')"
    )
    con.commit()
    con.close()
    db = Database(path)
    with db.connect() as c:
        cols = {r[1] for r in c.execute("PRAGMA table_info(uploads)").fetchall()}
    assert {"attempts", "claimed_by", "claimed_at", "beat_at"} <= cols
    # a row left `running` by a version without claims belongs to nobody: it is taken again
    (t,) = Claims(db, "uploads", "ingest_state", "inbox_path IS NOT NULL", "ingest_detail").take()
    assert t.retried
