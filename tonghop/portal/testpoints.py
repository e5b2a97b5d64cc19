"""Test hook: SIGKILL the process at a named point of the portal's background work.

The recovery tests (tests/test_portal_recovery.py) start the worker process, or the whole
`tonghop serve`, with `$TONGHOP_TEST_KILL_AT` naming points (comma-separated, see POINTS); the
first point reached kills the process (or, with `$TONGHOP_TEST_KILL_WHOM=group`, its whole
process group: the server and its worker, as a service manager kills them). With
`$TONGHOP_TEST_KILL_IF` only work naming a file that contains that text is killed (a poison
file); `$TONGHOP_TEST_KILL_MARKER` names a file the point's name is appended to first. Without
these variables a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

KILL_AT = "TONGHOP_TEST_KILL_AT"
KILL_IF = "TONGHOP_TEST_KILL_IF"
KILL_WHOM = "TONGHOP_TEST_KILL_WHOM"
KILL_MARKER = "TONGHOP_TEST_KILL_MARKER"

INGEST_STEPS = ("read-files", "stage-batch", "load-warehouse", "write-reports", "archive-files")
POINTS = (
    "ingest:claimed",  # uploads taken, nothing done
    *(f"ingest:{when}:{step}" for step in INGEST_STEPS for when in ("before", "after")),
    "ingest:stored",  # the ingest returned, the uploads' states not yet written
    "ingest:retry",  # an upload taken again, before it is looked up in the warehouse
    "ingest:finish",  # an upload found stored, before its file is archived
    "snapshot:publish",  # a write committed, its snapshot not yet published
    "consolidate:claimed",
    "consolidate:done",  # consolidated and committed, the job's state not yet written
    "mail:claimed",
    "mail:sent",  # the SMTP server took the message, the row not yet marked sent
)


def point(name: str, names: Iterable[str] = ()) -> None:
    """Kill this process here if a test asked for it (see the module's text)."""
    at = os.environ.get(KILL_AT)
    if not at or name not in at.split(","):
        return
    only = os.environ.get(KILL_IF)
    if only and not any(only in str(n) for n in names):
        return
    marker = os.environ.get(KILL_MARKER)
    if marker:
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(f"{name}\n")
            fh.flush()
            os.fsync(fh.fileno())
    if os.environ.get(KILL_WHOM) == "group":
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
