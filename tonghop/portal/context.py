"""The portal's parts, built once per application (or per background worker process): the
catalog and reference units, the accounts, the warm validator, the warehouse's snapshots and
the application layer's way to the warehouse, the uploads, the runs, the notices."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from service.check import Verdict
from tonghop.portal.accounts import Accounts, User
from tonghop.portal.auth import Throttle
from tonghop.portal.checker import Checker
from tonghop.portal.database import Database
from tonghop.portal.drafts import Drafts
from tonghop.portal.jobs import Runner
from tonghop.portal.notices import Notices
from tonghop.portal.reader import NoData, SnapshotWarehouse, WarehouseReader
from tonghop.portal.scope import Scope
from tonghop.portal.settings import PortalSettings
from tonghop.portal.shared_checker import SharedChecker
from tonghop.portal.uploads import Upload, Uploads
from validations.catalog import load_catalog
from validations.units import load_units

T = TypeVar("T")
log = logging.getLogger("tonghop.portal")
WORKER_CHECK = 2.0  # seconds between looks at the worker process


class Portal:
    """Everything a request needs, built once per application."""

    def __init__(self, settings: PortalSettings):
        self.settings = settings
        self.catalog = load_catalog(settings.catalog)
        self.units = load_units()
        self.db = Database(settings.accounts)
        self.accounts = Accounts(self.db)
        self.drafts = Drafts(self.db)  # the web form's drafts (tonghop.portal.pages.entry)
        self.scope = Scope(self.units, self.catalog.close_day)
        self.checker = Checker(settings.catalog)
        # `tonghop serve --workers N`: the uploads are judged in the one validator process
        self.checker.shared = SharedChecker.from_env()
        self.write_lock = threading.RLock()
        self.reader = WarehouseReader(settings.warehouse, self.write_lock)
        # how the application layer (service/) reaches the warehouse from here
        self.wh = SnapshotWarehouse(self.reader, self.catalog, self.units)
        self.uploads = Uploads(
            self.db,
            self.checker,
            self.wh,
            self.catalog,
            self.units,
            settings.inbox,
            settings.accounts.parent / "portal-work",
        )
        self.runner = Runner(settings, self.db, self.uploads, self.checker, self.wh)
        self.notices = Notices(
            settings, self.db, self.accounts, self.reader, self.catalog, self.units
        )
        self.throttle = Throttle(
            self.db, settings.login_limit, settings.login_ip_limit, settings.login_window
        )
        self.cache: dict[tuple, object] = {}  # (kind, snapshot generation, ...) -> rendered
        self.cache_lock = threading.Lock()
        self.worker_restarts = 0

    def start(self, spawn_worker: Callable[[PortalSettings], Any] | None = None) -> None:
        """Warm the validator, take a first snapshot, start the background work: the worker
        process (`spawn_worker`: tonghop.portal.worker.start, started again whenever it dies),
        or threads of this process (`worker="thread"`)."""
        self.checker.warm()
        self.reader.refresh()
        self._worker = None
        self._stopping = threading.Event()
        if not self.settings.background:
            return
        self.reader.follow()  # the worker's snapshots are opened before the requests need them
        if self.settings.worker == "process" and spawn_worker is not None:
            self._worker = spawn_worker(self.settings)
            threading.Thread(
                target=self._watch_worker, args=(spawn_worker,), name="watch-worker", daemon=True
            ).start()
        else:
            self.reader.start(self.settings.snapshot_poll, self.settings.snapshot_quiet)
            self.runner.start()
            self.notices.start()

    def _watch_worker(self, spawn_worker: Callable[[PortalSettings], Any]) -> None:
        """Start the worker process again when it dies (killed, out of memory): the new one
        takes again whatever the dead one had taken. A worker that dies within a minute of its
        start is started again later and later (doubling, up to once a minute)."""
        delay, born = WORKER_CHECK, time.monotonic()
        while not self._stopping.wait(WORKER_CHECK):
            proc = self._worker
            if proc is None or proc.is_alive():  # is_alive() also reaps a dead one
                continue
            lived = time.monotonic() - born
            delay = WORKER_CHECK if lived > 60.0 else min(60.0, delay * 2)
            log.warning(
                "the background worker died (exit code %s): another starts in %.0f s",
                proc.exitcode,
                delay,
            )
            if self._stopping.wait(delay - WORKER_CHECK):
                return
            self._worker = spawn_worker(self.settings)
            self.worker_restarts += 1
            born = time.monotonic()

    def stop(self) -> None:
        stopping = getattr(self, "_stopping", None)
        if stopping is not None:
            stopping.set()
        proc = getattr(self, "_worker", None)
        if proc is not None:
            proc.terminate()
            proc.join(timeout=30)
        self.runner.stop()
        self.notices.stop()
        self.reader.stop()
        self.checker.close()

    def receive(
        self,
        user: User,
        file_name: str,
        data: bytes,
        lang: str = "vi",
        addr: str | None = None,
        size: int | None = None,
    ) -> tuple[Upload, Verdict]:
        """An upload from the web (a file sent, or the web form submitted as its file): checked,
        recorded and delivered (Uploads.receive), handed to the runner to be stored, the
        verdict mailed. One call from the request's thread."""
        up, verdict = self.uploads.receive(user, file_name, data, lang, addr, size)
        if up.delivered:
            self.runner.ingest(up)
        self.notices.verdict(up, verdict.result)
        return up, verdict

    def read(self, fn: Callable[..., T], *args: Any, default: Any = NoData) -> T:
        """`fn(cursor, *args)` on the newest snapshot; `default` while there is none (NoData,
        which the pages answer with their "no data yet" page, when no default is given)."""
        try:
            with self.reader.cursor() as cur:
                return fn(cur, *args)
        except NoData:
            if default is NoData:
                raise
            return default

    def cursor(self) -> Any:
        """A cursor on the newest snapshot (a context manager; NoData when there is none)."""
        return self.reader.cursor()

    def cached(self, key: tuple, build):  # type: ignore[no-untyped-def]
        """`build()` once per snapshot generation and key (summaries cost about a second)."""
        full = (self.reader.generation, *key)
        with self.cache_lock:
            if full in self.cache:
                return self.cache[full]
        value = build()
        with self.cache_lock:
            if len(self.cache) > 256:
                self.cache.clear()
            self.cache[full] = value
        return value
