"""Read-only snapshots of the warehouse file, for readers that must never wait for the writer.

DuckDB lets one process write a file and, while it is open for writing, refuses every other
process's open, even a read-only one; a reader holding the file open likewise keeps the writer
out. A web page cannot answer "come back later", so the portal reads a *snapshot*: a byte copy
of the file taken while no writer holds it, checkpointed, and published as
`<warehouse>.snapshots/<generation>.duckdb`, named by the pointer file `CURRENT` (replaced
atomically). A published snapshot is never written again, so any number of threads and
processes read it at once, and a writer never waits for a reader of a snapshot.

Two ways to publish one:
- `publish(con, path)`: a writer that holds the file open (the portal's approvals and its
  in-process ingest) publishes right after its commit: CHECKPOINT, then the copy. No lock is
  taken from anyone: the writer already keeps every other process out.
- `refresh(path)`: anyone else. It opens the live file read-only (failing at once, and returning
  None, while a writer holds it), copies it and closes it. For the copy's duration (about 10 ms
  per 10 MB here) a writer's open fails; the flows' load and consolidate tasks retry on that.

A publisher killed midway (SIGKILL) leaves the pointer on the previous snapshot (it is replaced
last) and at most a temporary copy, which the next publication removes; the next `refresh`
(every portal process does one when it starts) publishes what the killed writer committed.
Plain Python and DuckDB, no Prefect.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, WarehouseLockedError, connect

CURRENT = "CURRENT"
KEEP = 3  # generations kept on disk: the current one and those still being read


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One published snapshot: its file, its generation and the live file's state it copies."""

    path: Path
    generation: int
    source: tuple[int, int, int, int]  # (mtime_ns, size) of the live file and of its WAL
    taken_at: float  # time.time() when it was published


def snapshot_dir(path: str | Path) -> Path:
    """Where the snapshots of a warehouse file live: `<file>.snapshots/` beside it."""
    p = Path(path)
    return p.parent / f"{p.name}.snapshots"


def source_state(path: str | Path) -> tuple[int, int, int, int]:
    """(mtime_ns, size) of the live file and of its write-ahead log (zeros when absent)."""
    out: list[int] = []
    for f in (Path(path), Path(f"{path}.wal")):
        try:
            st = f.stat()
            out += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            out += [0, 0]
    return (out[0], out[1], out[2], out[3])


def current(path: str | Path) -> Snapshot | None:
    """The newest published snapshot of the warehouse file, or None."""
    folder = snapshot_dir(path)
    try:
        data = json.loads((folder / CURRENT).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    snap = folder / data["file"]
    if not snap.is_file():
        return None
    return Snapshot(snap, int(data["generation"]), tuple(data["source"]), float(data["taken_at"]))  # type: ignore[arg-type]


def is_stale(path: str | Path) -> bool:
    """Whether the live file changed since the current snapshot was taken (or there is none)."""
    snap = current(path)
    return Path(path).exists() and (snap is None or snap.source != source_state(path))


def publish(con: duckdb.DuckDBPyConnection, path: str | Path) -> Snapshot:
    """Publish a snapshot from the connection that writes the file (after its commit)."""
    con.execute("CHECKPOINT")
    return _copy(Path(path))


def refresh(path: str | Path, force: bool = False) -> Snapshot | None:
    """Publish a snapshot of the live file if it changed since the last one (always with
    `force`); the current snapshot when nothing changed; None while a writer holds the file or
    when there is no file yet."""
    live = Path(path)
    if not live.exists():
        return None
    if not force and not is_stale(live):
        return current(live)
    try:
        con = connect(live, read_only=True)
    except WarehouseLockedError:
        return None
    try:
        return _copy(live)
    finally:
        con.close()


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One publisher at a time per warehouse (across processes)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _generations(folder: Path) -> list[int]:
    out = []
    for f in folder.glob("*.duckdb"):
        if f.stem.isascii() and f.stem.isdigit():  # int("²") fails
            out.append(int(f.stem))
    return sorted(out)


def _copy(live: Path) -> Snapshot:
    """Copy the (quiet) live file and its WAL, fold the WAL in, and make it the current one."""
    folder = snapshot_dir(live)
    with _folder_lock(folder):
        # Under the lock no other publisher is copying: a temporary copy here is what a
        # publisher killed mid-copy left behind.
        for stale in folder.glob(".tmp-*"):
            stale.unlink(missing_ok=True)
        state = source_state(live)
        gens = _generations(folder)
        gen = (gens[-1] if gens else 0) + 1
        tmp = folder / f".tmp-{gen}-{os.getpid()}.duckdb"
        try:
            shutil.copyfile(live, tmp)
            wal = Path(f"{live}.wal")
            if wal.exists():
                shutil.copyfile(wal, f"{tmp}.wal")
            # Our own private copy: open it once for writing to fold a leftover WAL in, so that
            # readers open a plain file (and a damaged copy fails here, not in a reader).
            try:
                c = duckdb.connect(str(tmp))
                c.execute("CHECKPOINT")
                c.close()
            except duckdb.Error as exc:
                raise WarehouseError(
                    "warehouse.snapshot_failed", path=str(live), detail=exc
                ) from exc
            final = folder / f"{gen}.duckdb"
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
        snap = Snapshot(final, gen, state, time.time())
        pointer = folder / f".{CURRENT}.tmp"
        pointer.write_text(
            json.dumps(
                {
                    "file": final.name,
                    "generation": gen,
                    "source": list(state),
                    "taken_at": snap.taken_at,
                }
            ),
            encoding="utf-8",
        )
        os.replace(pointer, folder / CURRENT)
        for old in _generations(folder)[:-KEEP]:
            # A reader still holding an older file keeps reading it: the inode lives on.
            (folder / f"{old}.duckdb").unlink(missing_ok=True)
        return snap
