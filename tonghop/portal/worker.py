"""The portal's background worker: one process that does the portal's slow work.

It stores delivered uploads (the inline ingest), runs the consolidations stewards start,
watches the live warehouse and publishes its snapshots, and sends the missing-units notices.
The web processes only answer requests (and write approvals, which are quick), so a burst of
uploads and its ingest never compete for one Python interpreter. Work is handed over through
the portal's database: the worker takes the uploads and jobs left `queued` (so nothing is lost
when either side restarts). One worker per accounts file: it holds a lock file, and a second
one waits until the first is gone.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path

from tonghop.portal.context import Portal
from tonghop.portal.settings import PortalSettings
from validations.errors import error_record

log = logging.getLogger("tonghop.portal")
POLL = 0.25  # seconds between looks at the queue


def _lock(settings: PortalSettings):  # type: ignore[no-untyped-def]
    path = Path(settings.accounts).parent / "portal-worker.lock"
    fh = open(path, "w")  # noqa: SIM115 (held for the process's life)
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            time.sleep(5)


def run(settings: PortalSettings, stop_after: float | None = None) -> None:
    """The worker's loop (until SIGTERM, or `stop_after` seconds for tests)."""
    lock = _lock(settings)
    portal = Portal(settings)
    portal.checker.warm()
    portal.reader.refresh()
    portal.reader.start(settings.snapshot_poll, settings.snapshot_quiet)
    portal.notices.start()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    end = time.monotonic() + stop_after if stop_after else None
    try:
        while not stopping and (end is None or time.monotonic() < end):
            ids = [u.id for u in portal.uploads.waiting() if u.ingest_state == "queued"]
            if ids:
                time.sleep(0.2)  # a burst of uploads: one batch, one load
                ids = [u.id for u in portal.uploads.waiting() if u.ingest_state == "queued"]
                try:
                    portal.runner.ingest_now(ids)
                except Exception as exc:
                    log.exception("ingest failed")
                    portal.uploads.set_state(ids, "failed", error_record(exc))
            for job in portal.runner.queued_jobs():
                try:
                    portal.runner.consolidate_now(job)
                except Exception as exc:
                    log.exception("consolidation failed")
                    portal.runner._job_state(job, "failed", error_record(exc))
            time.sleep(POLL)
    finally:
        portal.notices.stop()
        portal.reader.stop()
        portal.checker.close()
        lock.close()


def _main(settings: PortalSettings) -> None:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    run(settings)


def start(settings: PortalSettings) -> multiprocessing.process.BaseProcess:
    """The worker in a process of its own (spawned: no state shared with the web process)."""
    proc = multiprocessing.get_context("spawn").Process(
        target=_main, args=(settings,), name="tonghop-portal-worker", daemon=True
    )
    proc.start()
    return proc
