"""The web processes' one validator: a process of its own that judges every web process's uploads.

Each web process keeps a warm validator (tonghop.portal.checker), and a batch costs about the
same for one file as for twenty (the schemas, the warehouse's statistics queries and their
planning run once per batch). With several web processes (`tonghop serve --workers 2`),
twenty uploads sent at one moment were two batches, one per process, each process paying the
whole cost while its own requests waited for the interpreter. So `tonghop serve` with more than
one web process starts this process beside them: each upload is read in its web process
(workbooks in parallel), sent here over a Unix socket, and judged in one batch with the
uploads of every other web process, on a core of its own, against the newest snapshot of the
same warehouse; the web form's checks as typed are validated here too, in the same batches. The verdicts are the same `service.check.Verdict`s: the local validator gives
the same answer, and is what a web process falls back on while this process cannot be reached
(not started yet, died: `Service` starts it again), so an upload never waits for it.

    client -> here:  ("announce", token)         an upload's request began (Checker.arriving)
                     ("withdraw", token)         ... and ended without judging a file
                     ("coming",)                 a file is being read: the batch waits for it
                     ("judge", ReadBatch, sender, token)  its dry run (token: its announcement)
                     ("validate", [RawSubmission])  validated (the web form's checks)
                     ("stats",)                  batches and files judged so far
    here -> client:  ("ok", {path: Verdict} | [ValidationResult] | {...}) | ("error", text)
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from service.check import Verdict
from tonghop.portal.reader import SnapshotWarehouse, WarehouseReader
from tonghop.portal.settings import PortalSettings
from validations.intake import read_paths
from warehouse.access import WarehouseFile

ENV = "TONGHOP_SHARED_CHECKER"  # {"address", "key", "warehouse"}: set for the web processes
ANSWER_TIMEOUT = 120.0  # seconds a web process waits for a verdict before judging it itself
WATCH = 2.0  # seconds between the supervisor's looks at the process
NOTES_RETRY = 1.0  # seconds without announcements there after one could not be sent
log = logging.getLogger("tonghop.portal")


# --- the web process's side --------------------------------------------------------------------
class SharedChecker:
    """A web process's way to the validator process (one connection per thread)."""

    def __init__(self, address: str, key: bytes, warehouse: str | Path) -> None:
        self.address = address
        self.key = key
        self.warehouse = Path(warehouse).resolve()
        self._local = threading.local()
        self._warned = 0.0
        # announcements go through a thread of their own: the event loop that makes them
        # never waits for the socket (a stuck process would fill it)
        self._notes: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._noter: threading.Thread | None = None
        self._notes_lock = threading.Lock()
        self._unreachable_until = 0.0  # the last note could not be sent: none until then

    @classmethod
    def from_env(cls) -> SharedChecker | None:
        """The validator process `Service.start` announced in the environment, if any."""
        text = os.environ.get(ENV)
        if not text:
            return None
        try:
            d = json.loads(text)
            return cls(d["address"], bytes.fromhex(d["key"]), d["warehouse"])
        except (ValueError, KeyError, TypeError):
            log.warning("$%s is not what tonghop serve writes: ignored", ENV)
            return None

    def serves(self, wh: WarehouseFile) -> bool:
        """Whether the process judges against `wh`: the snapshots of the same file."""
        return isinstance(wh, SnapshotWarehouse) and Path(wh.path).resolve() == self.warehouse

    def judge(
        self, paths: list[str | Path], sender: str | None, token: str | None = None
    ) -> dict[str, Verdict] | None:
        """The files' verdicts, read here and judged there (`token`: the upload's announcement,
        Checker.arriving); None when the process cannot be reached or failed (the caller
        judges them itself)."""

        def message(conn: Connection) -> tuple[Any, ...]:
            conn.send(("coming",))  # the batch there waits for these files while read here
            return ("judge", read_paths(list(paths)), sender, token)

        return self._ask(message)  # type: ignore[no-any-return]

    def validate(self, raws: list[Any]) -> list[Any] | None:
        """Read submissions validated there (the web form's checks as typed); None when the
        process cannot be reached or failed (the caller validates them itself)."""
        return self._ask(lambda conn: ("validate", raws))  # type: ignore[no-any-return]

    def stats(self) -> dict[str, int] | None:
        """How many batches and files the process has judged (None: not reachable)."""
        return self._ask(lambda conn: ("stats",))  # type: ignore[no-any-return]

    def announce(self, token: str) -> bool:
        """Tell the process an upload is on its way (Checker.arriving), without waiting; False
        when it could not be reached lately (the caller's own checker is told instead)."""
        if time.monotonic() < self._unreachable_until:
            return False
        self._note(("announce", token))
        return True

    def withdraw(self, token: str) -> None:
        """The announced upload will not be judged there."""
        self._note(("withdraw", token))

    def _note(self, message: tuple[Any, ...]) -> None:
        """Queue `message` (it has no answer) for the notes' thread."""
        with self._notes_lock:
            if self._noter is None or not self._noter.is_alive():
                self._noter = threading.Thread(target=self._send_notes, name="notes", daemon=True)
                self._noter.start()
        self._notes.put(message)

    def _send_notes(self) -> None:
        while True:
            message = self._notes.get()
            conn = self._connection()
            if conn is not None:
                try:
                    conn.send(message)
                    continue
                except Exception as exc:  # gone
                    self._drop(conn, exc)
            self._unreachable_until = time.monotonic() + NOTES_RETRY

    def _ask(self, message: Callable[[Connection], tuple[Any, ...]]) -> Any:
        """The answer to `message(conn)` on this thread's connection; None when the process
        cannot be reached, stops answering, or failed."""
        conn = self._connection()
        if conn is None:
            return None
        try:
            conn.send(message(conn))
            kind, payload = self._answer(conn)
        except Exception as exc:  # gone, or sent something unpicklable
            self._drop(conn, exc)
            return None
        if kind == "error":
            self._warn(f"the validator process failed: {payload}")
            return None
        return payload

    def _answer(self, conn: Connection) -> tuple[str, Any]:
        if not conn.poll(ANSWER_TIMEOUT):
            raise TimeoutError(f"no answer in {ANSWER_TIMEOUT:.0f} s")
        return conn.recv()  # type: ignore[no-any-return]

    def _connection(self) -> Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn  # type: ignore[no-any-return]
        try:
            conn = Client(self.address, family="AF_UNIX", authkey=self.key)
        except Exception as exc:  # not listening (yet, or any more)
            self._warn(f"the validator process cannot be reached: {exc}")
            return None
        self._local.conn = conn
        return conn

    def _drop(self, conn: Connection, exc: BaseException) -> None:
        self._local.conn = None
        with contextlib.suppress(OSError):
            conn.close()
        self._warn(f"the validator process stopped answering: {type(exc).__name__}: {exc}")

    def _warn(self, text: str) -> None:
        if time.monotonic() - self._warned > 60:  # once a minute at most
            self._warned = time.monotonic()
            log.warning("%s; this web process judges its uploads itself meanwhile", text)


# --- the validator process ---------------------------------------------------------------------
def serve(address: str, key: bytes, settings_json: str, parent: int) -> None:
    """The process's main: a warm validator judging against the newest snapshot, one thread
    per connection (a web process's thread); it ends when its parent does."""
    from tonghop.portal.checker import Checker

    settings = PortalSettings.from_json(settings_json)
    checker = Checker(settings.catalog)
    checker.warm()
    reader = WarehouseReader(settings.warehouse)
    reader.adopt()
    reader.follow()  # a batch never waits for a new snapshot to open
    wh = SnapshotWarehouse(reader, checker.catalog, checker.units)
    threading.Thread(target=_orphaned, args=(parent,), name="parent", daemon=True).start()
    Path(address).unlink(missing_ok=True)  # a dead predecessor's socket
    with Listener(address, family="AF_UNIX", authkey=key) as listener:
        os.chmod(address, 0o600)
        while True:
            try:
                conn = listener.accept()
            except Exception as exc:  # a failed handshake: that client alone
                log.warning("validator process: a connection was refused: %s", exc)
                continue
            threading.Thread(
                target=_serve_connection, args=(conn, checker, wh), name="judge", daemon=True
            ).start()


def _serve_connection(conn: Connection, checker: Any, wh: SnapshotWarehouse) -> None:
    reading = 0  # this client's files announced and not sent yet
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return
            kind = msg[0]
            if kind == "coming":
                reading += 1
                checker.coming(1)
                continue
            if kind == "announce":  # no answer; an announcement nobody takes (its web
                checker.announce(msg[1])  # process died) holds batches GATHER_READING at most
                continue
            if kind == "withdraw":
                checker.withdraw(msg[1])
                continue
            if kind == "judge" and reading:
                reading -= 1
                checker.coming(-1)
            try:
                answer: tuple[str, Any] = ("ok", _work(kind, msg[1:], checker, wh))
            except Exception as exc:
                log.exception("validator process: %s failed", kind)
                answer = ("error", f"{type(exc).__name__}: {exc}")
            conn.send(answer)
    finally:
        if reading:
            checker.coming(-reading)
        conn.close()


def _work(kind: str, args: tuple[Any, ...], checker: Any, wh: SnapshotWarehouse) -> Any:
    """What a client's message asks for, done in this process."""
    if kind == "judge":
        return checker.judge_read(args[0], args[1], wh, *args[2:3])
    if kind == "validate":
        return checker.validate_here(args[0])
    if kind == "stats":
        return {"batches": checker.batches, "files": checker.files}
    raise ValueError(f"unknown request {kind!r}")


def _orphaned(parent: int) -> None:
    """End this process when the one that started it is gone (killed without cleanup)."""
    while True:
        time.sleep(WATCH)
        if os.getppid() != parent:
            os._exit(0)


# --- the supervisor's side (tonghop serve) -----------------------------------------------------
class Service:
    """The validator process of `tonghop serve --workers N`: started before the web processes,
    announced to them in the environment ($TONGHOP_SHARED_CHECKER), started again when it
    dies, stopped with the server."""

    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="tonghop-checker-"))
        self.address = str(self.folder / "checker.sock")
        self.key = secrets.token_bytes(32)
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._stop = threading.Event()
        self.restarts = 0

    def start(self) -> Service:
        os.environ[ENV] = json.dumps(
            {
                "address": self.address,
                "key": self.key.hex(),
                "warehouse": str(Path(self.settings.warehouse).resolve()),
            }
        )
        self._spawn()
        threading.Thread(target=self._watch, name="watch-checker", daemon=True).start()
        return self

    def _spawn(self) -> None:
        self._proc = self._ctx.Process(
            target=serve,
            args=(self.address, self.key, self.settings.to_json(), os.getpid()),
            name="tonghop-checker",
            daemon=True,
        )
        self._proc.start()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH):
            if self._proc is not None and not self._proc.is_alive():
                log.warning(
                    "the validator process died (exit code %s): another starts",
                    self._proc.exitcode,
                )
                self._spawn()
                self.restarts += 1

    def stop(self) -> None:
        self._stop.set()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(timeout=10)
        os.environ.pop(ENV, None)
        shutil.rmtree(self.folder, ignore_errors=True)
