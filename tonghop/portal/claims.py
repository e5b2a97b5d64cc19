"""Claims on the portal's background work: who took a job, and whether that process still lives.

Every kind of work the portal does in the background is a row of its SQLite file: an upload to
store (`uploads`), a consolidation (`jobs`), an e-mail to send (`mail`). A process takes a row
by a compare-and-set: `queued` (or `running` under a dead claim) becomes `running`, with
`claimed_by` naming the taker and `attempts` counted up, in one UPDATE that succeeds for one
process only. So a row is never worked on by two live processes, and work taken by a process
that died (SIGKILL, the OOM killer, a power cut) is taken again by the next one that looks.

A claim names its owner as `host/boot/pid/start`: the host name, the kernel's boot id, the
process id and the process's start time (clock ticks since boot, from /proc). On the same host
and boot a claim is dead exactly when that process is gone: its pid no longer exists, is a
zombie, or belongs to a later process (another start time). A claim of another boot is dead (the
machine restarted). A claim made on another host (a container of its own sharing the file) cannot
be looked up: it is dead when its heartbeat is older than LEASE; the claimant's heartbeat thread
renews `beat_at` every HEARTBEAT seconds while it holds claims.

A row taken more than MAX_ATTEMPTS times (each earlier taker died holding it) is poison: the
caller gives up on it with a message that says so (tonghop.portal.recovery).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tonghop.portal.database import Database, stamp

log = logging.getLogger("tonghop.portal")

MAX_ATTEMPTS = 3  # takes of one row; the next one gives up on it
HEARTBEAT = 10.0  # seconds between a claimant's heartbeats
LEASE = 90.0  # a claim from another host without a heartbeat this long is dead
QUEUED, RUNNING = "queued", "running"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process from /proc; None when it does not exist."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    rest = text.rsplit(")", 1)[-1].split()  # after the command's name, which may hold spaces
    return (rest[0], rest[19]) if len(rest) > 19 else ("?", "")


HAS_PROC = Path("/proc/self/stat").exists()
HOST = socket.gethostname().replace("/", "_")
BOOT = (_read("/proc/sys/kernel/random/boot_id") or "").strip() or "no-boot-id"


@dataclass(frozen=True)
class Owner:
    """A process as a claim names it."""

    host: str
    boot: str
    pid: int
    start: str

    def __str__(self) -> str:
        return f"{self.host}/{self.boot}/{self.pid}/{self.start}"

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        parts = (text or "").split("/")
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]), parts[3])

    @classmethod
    def me(cls) -> Owner:
        """This process (looked up again after a fork)."""
        pid = os.getpid()
        stat = _proc_stat(pid) if HAS_PROC else None
        return cls(HOST, BOOT, pid, stat[1] if stat else "")

    def local(self) -> bool:
        """Whether this process can look the owner up (same host and boot)."""
        return self.host == HOST and self.boot == BOOT

    def alive(self) -> bool | None:
        """True or False when the owner can be looked up; None when it cannot (another host)."""
        if self.host != HOST:
            return None
        if self.boot != BOOT:
            return False  # the machine restarted since
        if not HAS_PROC:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        stat = _proc_stat(self.pid)
        if stat is None or stat[0] in ("Z", "X"):  # gone, or a zombie its parent has not reaped
            return False
        return not self.start or stat[1] == self.start  # a later process with the same pid


def claim_alive(claimed_by: str | None, beat_at: float | None, now: float | None = None) -> bool:
    """Whether a claim still holds: its owner lives (or, on another host, beats)."""
    owner = Owner.parse(claimed_by)
    if owner is None:
        return False  # a `running` row of a version without claims: nobody holds it
    alive = owner.alive()
    if alive is not None:
        return alive
    return beat_at is not None and (now or time.time()) - beat_at < LEASE


@dataclass(frozen=True)
class Taken:
    """One row this process took: its id and how many times it has been taken (this one too)."""

    id: int
    attempts: int
    orphaned: bool = False  # taken from `running`: its taker died

    @property
    def retried(self) -> bool:
        """Taken before by a process that died holding it."""
        return self.orphaned or self.attempts > 1

    @property
    def exhausted(self) -> bool:
        """Taken more than MAX_ATTEMPTS times: every earlier taker died holding it."""
        return self.attempts > MAX_ATTEMPTS


class Claims:
    """The claimable rows of one table: `state` is `queued` or `running` (under a claim)."""

    def __init__(
        self,
        db: Database,
        table: str,
        state: str = "state",
        where: str = "1 = 1",
        detail: str = "detail",
    ):
        self.db = db
        self.table = table
        self.state = state
        self.where = where  # which rows this kind of worker takes (constant SQL)
        self.detail = detail  # the column that says why a row waits or failed

    def _rows(self, ids: Iterable[int] | None = None) -> list[dict]:  # type: ignore[type-arg]
        sql = (
            f"SELECT id, {self.state} AS state, claimed_by, beat_at, attempts FROM {self.table}"
            f" WHERE {self.state} IN ('{QUEUED}', '{RUNNING}') AND ({self.where})"
        )
        args: list[object] = []
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        with self.db.connect() as con:
            return [dict(r) for r in con.execute(sql + " ORDER BY id", args).fetchall()]

    def claimable(self, ids: Iterable[int] | None = None) -> list[int]:
        """Rows waiting: queued, or running under a dead claim."""
        return [
            r["id"]
            for r in self._rows(ids)
            if r["state"] == QUEUED or not claim_alive(r["claimed_by"], r["beat_at"])
        ]

    def orphaned(self, ids: Iterable[int] | None = None) -> list[int]:
        """Rows running under a dead claim (the process that took them died), the fewest
        deaths first: a row that keeps killing its taker goes after the others."""
        rows = [
            r
            for r in self._rows(ids)
            if r["state"] == RUNNING and not claim_alive(r["claimed_by"], r["beat_at"])
        ]
        return [r["id"] for r in sorted(rows, key=lambda r: (r["attempts"], r["id"]))]

    def take(self, ids: Iterable[int] | None = None, limit: int | None = None) -> list[Taken]:
        """Claim the waiting rows (of `ids`, or all), at most `limit`: each becomes `running`
        under this process, its attempts counted up. A row another process took first is
        skipped (the UPDATE matches only the state and claim it was read with)."""
        rows = [
            r
            for r in self._rows(ids)
            if r["state"] == QUEUED or not claim_alive(r["claimed_by"], r["beat_at"])
        ][:limit]
        if not rows:
            return []
        me, at, beat = str(Owner.me()), stamp(), time.time()
        got: list[Taken] = []
        with self.db.connect() as con:
            for r in rows:
                cur = con.execute(
                    f"UPDATE {self.table} SET {self.state} = '{RUNNING}', claimed_by = ?,"
                    f" claimed_at = ?, beat_at = ?, attempts = attempts + 1, {self.detail} = NULL"
                    f" WHERE id = ? AND {self.state} = ? AND claimed_by IS ?",
                    [me, at, beat, r["id"], r["state"], r["claimed_by"]],
                )
                if cur.rowcount == 1:
                    got.append(Taken(r["id"], r["attempts"] + 1, r["state"] == RUNNING))
                    if r["state"] == RUNNING:
                        log.warning(
                            "%s %s: taken again (attempt %d), its process %s died",
                            self.table,
                            r["id"],
                            r["attempts"] + 1,
                            r["claimed_by"] or "?",
                        )
        if got:
            HEARTBEATS.watch(self.db, self.table, self.state)
        return got

    def give_back(self, ids: Iterable[int], detail: str | None = None) -> None:
        """Rows this process took but cannot do now (the warehouse is busy): as they were
        before it took them, uncounted: queued again, or, taken again after a death, left
        for the next taker to resume. `detail` says why they wait."""
        me = str(Owner.me())
        with self.db.connect() as con:
            con.executemany(
                f"UPDATE {self.table} SET attempts = attempts - 1, claimed_by = NULL,"
                f" {self.state} = CASE WHEN attempts <= 1 THEN '{QUEUED}' ELSE '{RUNNING}' END,"
                f" {self.detail} = ? WHERE id = ? AND {self.state} = '{RUNNING}'"
                " AND claimed_by = ?",
                [(detail, i, me) for i in ids],
            )


class Heartbeats:
    """One thread per process renewing `beat_at` of the rows it holds, every HEARTBEAT seconds
    (for the processes on other hosts, which cannot look this one up)."""

    def __init__(self) -> None:
        self._tables: dict[tuple[int, str], tuple[weakref.ref[Database], str, str]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, db: Database, table: str, state: str) -> None:
        with self._lock:
            self._tables[(id(db), table)] = (weakref.ref(db), table, state)
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
                self._thread.start()

    def beat(self) -> None:
        me = str(Owner.me())
        with self._lock:
            for key, (ref, _, _) in list(self._tables.items()):
                if ref() is None:
                    del self._tables[key]
            tables = [(ref(), table, state) for ref, table, state in self._tables.values()]
        for db, table, state in tables:
            if db is None:
                continue
            try:
                with db.connect() as con:
                    con.execute(
                        f"UPDATE {table} SET beat_at = ? WHERE {state} = '{RUNNING}'"
                        " AND claimed_by = ?",
                        [time.time(), me],
                    )
            except Exception as exc:  # a closed or busy file: the next beat
                log.debug("heartbeat %s: %s", table, exc)

    def _loop(self) -> None:
        while True:
            time.sleep(HEARTBEAT)
            self.beat()


HEARTBEATS = Heartbeats()
