"""The portal's background worker: one process that does the portal's slow work.

It stores delivered uploads (the inline ingest), runs the consolidations stewards start,
watches the live warehouse and publishes its snapshots, and sends the missing-units notices.
The web processes only answer requests (and write approvals, which are quick), so a burst of
uploads and its ingest never compete for one Python interpreter. Work is handed over through
the portal's database: the worker takes the uploads, jobs and mail left `queued`, and those a
process that died had taken (tonghop.portal.claims), so nothing acknowledged is lost when either
side restarts or is killed. One worker per accounts file: it holds a lock file, and a second one
waits until the first is gone. A worker whose web process died stops after its current piece
of work (the web process that starts next starts its own); a web process whose worker died
starts another one (tonghop.portal.context).

`python -m tonghop.portal.worker` runs the worker alone, its settings read from
$TONGHOP_PORTAL_SETTINGS (JSON, as `tonghop serve --workers N` passes them).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tonghop.portal.context import Portal
from tonghop.portal.settings import PortalSettings
from tonghop.portal.shared_checker import ENV as SHARED_ENV

log = logging.getLogger("tonghop.portal")
POLL = 0.25  # seconds between looks at the queue
NICE = 10  # the worker's priority below the web processes' (os.nice)
SETTLE = 0.3  # a burst of uploads has ended when none arrived for this long ...
SETTLE_MAX = 2.0  # ... or this long after the first: then it is stored as one batch


def _lock(settings: PortalSettings, parent: int | None = None):  # type: ignore[no-untyped-def]
    """The worker's lock file, held for the process's life; None when the `parent` web process
    died while this worker waited for it."""
    path = Path(settings.accounts).parent / "portal-worker.lock"
    fh = open(path, "w")  # noqa: SIM115 (held for the process's life)
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if parent is not None and os.getppid() != parent:
                fh.close()
                return None
            time.sleep(5)


def run(
    settings: PortalSettings, stop_after: float | None = None, parent: int | None = None
) -> None:
    """The worker's loop (until SIGTERM, `stop_after` seconds for tests, or the death of the
    `parent` process that started it)."""
    lock = _lock(settings, parent)
    if lock is None:
        return
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
            if parent is not None and os.getppid() != parent:
                log.warning("the web process %s is gone: the worker stops", parent)
                break
            if portal.runner.waiting():
                settle(portal.runner.upload_claims.claimable)
            portal.runner.work()
            time.sleep(POLL)
    finally:
        portal.notices.stop()
        portal.reader.stop()
        portal.checker.close()
        lock.close()


def settle(waiting: Callable[[], list[int]]) -> None:
    """Wait until uploads stop arriving (none new for SETTLE seconds, at most SETTLE_MAX):
    a burst of uploads is stored as one batch, one load and one snapshot, after the verdicts
    the web processes are giving meanwhile rather than competing with them."""
    seen = len(waiting())
    end = time.monotonic() + SETTLE_MAX
    while time.monotonic() < end:
        time.sleep(min(SETTLE, max(0.0, end - time.monotonic())))
        now = len(waiting())
        if now == seen:
            break
        seen = now


def _lower_priority() -> None:
    """Background work yields the processor to the web processes' requests: a burst of
    uploads is stored while the next users wait for their verdicts, never before them."""
    with contextlib.suppress(OSError):  # not allowed here: the web processes' priority
        os.nice(NICE)


def _main(settings: PortalSettings, parent: int | None = None) -> None:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    # its ingests validate here, at its lower priority: not in the web processes' validator
    # process (tonghop.portal.shared_checker), where the uploads' verdicts wait
    os.environ.pop(SHARED_ENV, None)
    _lower_priority()
    run(settings, parent=parent)


def start(settings: PortalSettings) -> multiprocessing.process.BaseProcess:
    """The worker in a process of its own (spawned: no state shared with the web process)."""
    proc = multiprocessing.get_context("spawn").Process(
        target=_main, args=(settings, os.getpid()), name="tonghop-portal-worker", daemon=True
    )
    proc.start()
    return proc


if __name__ == "__main__":  # the worker alone (tests/test_portal_recovery.py kills it)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _main(PortalSettings.from_env())
