"""The files of a run in order of arrival, each hashed as it is listed (step 1 of an ingest).

Arrival order: the files of a run are taken in the order they arrived in the inbox, their
modification time, then their name (then their path); two versions of one unit and period in
one run are numbered, and the later one made current, in that order. Each file is hashed when
listed and again when read: a file that changed in between is left for the next run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from validations.intake import expand_paths, file_hash

LOG = logging.getLogger("tonghop.ingest")
ARRIVAL_ORDER = "arrival: modification time, then name"
SYMLINK = "symlink"


def arrival_order(files: list[str | Path]) -> list[str]:
    """Files sorted by arrival: modification time (of the entry itself, never a link's
    target), then file name, then path. Files that vanished sort last."""

    def key(f: str | Path) -> tuple[int, str, str]:
        try:
            mtime = os.lstat(f).st_mtime_ns
        except OSError:
            mtime = 2**63
        return (mtime, Path(f).name, str(f))

    return [str(f) for f in sorted(files, key=key)]


def find_files(paths: list[str | Path], log: logging.Logger | None = None) -> list[str]:
    """Every file under `paths` (folders searched), in arrival order. A path that does not
    exist is logged and skipped (an empty or absent inbox is nothing to do)."""
    log = log or LOG
    present = []
    for p in paths:
        if os.path.lexists(p):
            present.append(p)
        else:
            log.warning("ingest: nothing at %s (skipped)", p)
    return arrival_order(list(expand_paths(present)))


def listed_hashes(files: list[str]) -> dict[str, str]:
    """sha256 of each file as listed, before it is read (symlinks: never followed)."""
    out = {}
    for f in files:
        if os.path.islink(f):
            out[f] = SYMLINK
            continue
        try:
            out[f] = file_hash(f)
        except OSError:
            continue  # unreadable: the reader answers it
    return out
