"""What the pages read: the newest published snapshot of the warehouse (warehouse.snapshot).

Design (measured in bench/portal.py): DuckDB keeps out every other process while one writes,
and a reader holding the live file keeps the writer out. The portal therefore never reads the
live file. A refresher thread watches it; once it has changed and stayed unchanged for
`quiet` seconds, it copies it into a new snapshot (holding a shared lock only for the copy:
about 10 ms per 10 MB). The portal's own writes (approvals, in-process ingest and
consolidation) publish a snapshot right after their commit, so what a user just did shows at
once. Requests read the current snapshot through a cursor of one read-only connection per
snapshot; a new snapshot is swapped in between requests, and the old connection is closed once
its last request is done. While a flow writes, pages keep serving the last snapshot.

Opening a snapshot costs 15-25 ms of CPU whatever its size (DuckDB starts a database instance).
A snapshot is opened once per process: requests that find it being opened wait for that
opening instead of each starting their own (a burst of twenty used to open it up to twenty
times). The web processes and the validator process follow the published snapshots (`follow`):
a thread of theirs opens each one as soon as another process (the background worker's ingest)
publishes it, so that the requests after it find it open; a request still reads the newest
snapshot published when it began.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tonghop.portal import testpoints
from validations.catalog import Catalog
from validations.units import ReferenceUnits
from warehouse import snapshot as snapshots
from warehouse.access import NoWarehouseError, WarehouseFile
from warehouse.db import WarehouseError

log = logging.getLogger("tonghop.portal")

FOLLOW_POLL = 0.05  # seconds between the follower's looks at the published snapshot
OPEN_WAIT = 30.0  # the longest a request waits for another thread's opening of a snapshot


class NoData(RuntimeError):
    """There is no warehouse snapshot to read yet."""


class _Open:
    """One snapshot's read-only connection and how many requests use it."""

    def __init__(self, snap: snapshots.Snapshot):
        self.snap = snap
        # one thread per query: the pages ask many small questions at once
        self.con = duckdb.connect(str(snap.path), read_only=True, config={"threads": 1})
        self.users = 0
        self.retired = False


class WarehouseReader:
    """Read access to the newest snapshot of one warehouse file."""

    def __init__(self, warehouse: str | Path, write_lock: threading.RLock | None = None):
        self.warehouse = Path(warehouse)
        # The portal's own writers and the refresher never overlap in this process: DuckDB
        # refuses a read-only and a read-write open of one file in the same process.
        self.write_lock = write_lock or threading.RLock()
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._follower: threading.Thread | None = None
        self._opening: dict[int, threading.Event] = {}  # generation -> set once it is open
        self.opened = 0  # snapshots this reader opened (each one once)
        self.swaps = 0
        self.failures = 0  # refreshes that found the file held by a writer

    # --- reading -------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        self.adopt()
        return self._open.snap.generation if self._open else 0

    @property
    def taken_at(self) -> float | None:
        return self._open.snap.taken_at if self._open else None

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current snapshot (NoData when there is none yet)."""
        self.adopt()
        with self._lock:
            op = self._open
            if op is None:
                raise NoData(str(self.warehouse))
            op.users += 1
        cur = op.con.cursor()
        try:
            yield cur
        finally:
            cur.close()
            with self._lock:
                op.users -= 1
                if op.retired and op.users == 0:
                    op.con.close()

    def query(self, sql: str, params: list | dict | None = None) -> list[dict]:  # type: ignore[type-arg]
        """Rows as dictionaries."""
        with self.cursor() as cur:
            res = cur.execute(sql, params or [])
            cols = [d[0] for d in res.description]
            return [dict(zip(cols, row, strict=True)) for row in res.fetchall()]

    def adopt(self, aside: bool = False) -> None:
        """Switch to the newest published snapshot if it is newer than the one in use (waiting
        for another thread's opening of it rather than opening it twice; `aside`: the
        follower, which leaves it when the reader was stopped meanwhile)."""
        snap = snapshots.current(self.warehouse)
        if snap is None or (self._open and self._open.snap.generation >= snap.generation):
            return
        self._adopt(snap, aside)

    def _adopt(self, snap: snapshots.Snapshot, aside: bool) -> None:
        """Open `snap` and swap it in, or wait while another thread does."""
        with self._lock:
            if self._open and self._open.snap.generation >= snap.generation:
                return
            opening = self._opening.get(snap.generation)
            mine = opening is None
            if mine:
                opening = self._opening[snap.generation] = threading.Event()
        assert opening is not None
        if not mine:
            opening.wait(OPEN_WAIT)
            return
        try:
            try:
                new = _Open(snap)
            except duckdb.Error as exc:  # pruned meanwhile by another process: next time
                log.warning("snapshot %s could not be opened: %s", snap.path, exc)
                return
            with self._lock:
                self.opened += 1
                newer = self._open and self._open.snap.generation >= snap.generation
                if newer or (aside and self._stop.is_set()):  # stopped: nothing left open
                    new.con.close()
                    return
                old, self._open = self._open, new
                self.swaps += 1
                if old is not None:
                    old.retired = True
                    if old.users == 0:
                        old.con.close()
        finally:
            with self._lock:
                self._opening.pop(snap.generation, None)
            opening.set()

    def follow(self, poll: float = FOLLOW_POLL) -> None:
        """Open each snapshot another process publishes as soon as it is published, in a
        thread of this reader's: the requests after it find it open."""
        if self._follower is not None:
            return
        self._stop.clear()
        self._follower = threading.Thread(
            target=self._follow, args=(poll,), name="snapshot-follow", daemon=True
        )
        self._follower.start()

    def _follow(self, poll: float) -> None:
        while not self._stop.wait(poll):
            try:
                self.adopt(aside=True)
            except Exception as exc:  # the follower never dies
                log.warning("snapshot follower: %s: %s", type(exc).__name__, exc)

    # --- refreshing ----------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Copy the live file into a new snapshot if it changed; False while a writer holds it."""
        with self.write_lock:
            try:
                snap = snapshots.refresh(self.warehouse, force=force)
            except WarehouseError as exc:
                log.warning("snapshot refresh failed: %s", exc)
                snap = None
        self.adopt()  # the newest published one, even when this refresh could not copy
        if snap is None:
            if self.warehouse.exists():
                self.failures += 1
            return False
        return True

    def publish(self, con: duckdb.DuckDBPyConnection) -> None:
        """Called by this process's writer right after its commit, holding the file."""
        snapshots.publish(con, self.warehouse)

    def start(self, poll: float = 1.0, quiet: float = 0.5) -> None:
        """Watch the live file in a thread and refresh the snapshot when it has settled."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, args=(poll, quiet), name="snapshot", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._follower is not None:
            self._follower.join(timeout=10)
            self._follower = None
        with self._lock:
            if self._open is not None:
                self._open.retired = True
                if self._open.users == 0:
                    self._open.con.close()
                self._open = None

    def _watch(self, poll: float, quiet: float) -> None:
        seen: tuple[int, int, int, int] | None = None
        since = time.monotonic()
        while not self._stop.wait(poll):
            try:
                if not snapshots.is_stale(self.warehouse):
                    self.adopt()  # another process may have published one
                    continue
                state = snapshots.source_state(self.warehouse)
                if state != seen:  # still changing: wait until it settles
                    seen, since = state, time.monotonic()
                    if quiet > 0:
                        continue
                if time.monotonic() - since >= quiet:
                    self.refresh()
            except Exception as exc:  # the watcher never dies
                log.warning("snapshot watcher: %s: %s", type(exc).__name__, exc)


class SnapshotWarehouse(WarehouseFile):
    """The portal's way to the warehouse for the application layer (service/): reads from the
    newest snapshot, never the live file; a write holds this process's write lock (DuckDB
    refuses a read-only and a read-write open of one file in one process) and publishes a
    snapshot right after its commit, so what a user did shows at once."""

    def __init__(
        self,
        reader: WarehouseReader,
        catalog: Catalog,
        units: ReferenceUnits,
        retry_delays: Sequence[float] = (1.0, 1.0),
    ) -> None:
        super().__init__(reader.warehouse, catalog, units, retry_delays)
        self.reader = reader

    def exists(self) -> bool:
        return snapshots.current(self.path) is not None

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            with self.reader.cursor() as cur:
                yield cur
        except NoData:
            raise NoWarehouseError("warehouse.no_snapshot", path=str(self.path)) from None

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.reader.write_lock, super().writing() as con:
            yield con

    def committed(self, con: duckdb.DuckDBPyConnection) -> None:
        testpoints.point("snapshot:publish")  # a kill here: the next start publishes it
        self.reader.publish(con)

    def closed(self) -> None:
        self.reader.adopt()
