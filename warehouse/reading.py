"""Reading a run's files: chunks of whole provinces, each read, validated, checked for its
senders and outliers in a worker process (steps 2 and 3 of warehouse.ingest).

Plain functions, no Prefect. A chunk holds whole provinces so that every sibling a peer
comparison needs is in it; the results come back in arrival order whatever chunk read them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validations.catalog import load_catalog
from validations.intake import BatchOutcome, merge_outcomes
from validations.units import load_units

if TYPE_CHECKING:
    from warehouse.ingest import IngestSettings

LOG = logging.getLogger("tonghop.ingest")


# --- 2. read + validate (+ outliers), one province per chunk, over the cores --------------------
_LEADING_CODE = re.compile(r"^(\d{1,5})(?:\D|$)")


def province_groups(files: list[str]) -> dict[str, list[str]]:
    """The files grouped by province, from the unit code their name starts with (as
    `tonghop template` and the samples name them: 03386_2024-06.csv), else from their sender
    folder's code; files with neither form the group "". Files keep their order in a group."""
    units = load_units()
    groups: dict[str, list[str]] = {}
    for f in files:
        unit = None
        for name in (Path(f).name, Path(f).parent.name):
            m = _LEADING_CODE.match(name)
            cands = units.pad(m[1]) if m else []
            unit = units.get(cands[0]) if cands else None
            if unit is not None:
                break
        groups.setdefault(unit.province_code if unit else "", []).append(f)
    return groups


def province_chunks(files: list[str], batch_size: int) -> list[list[str]]:
    """Whole provinces packed into chunks of about `batch_size` files (a province is never
    split, so a chunk holds every sibling a peer comparison needs), in order."""
    chunks: list[list[str]] = [[]]
    for province, group in province_groups(files).items():
        # files whose province the name does not tell are cut at batch_size like any list
        pieces = (
            [group]
            if province
            else [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
        )
        for piece in pieces:
            if chunks[-1] and len(chunks[-1]) + len(piece) > batch_size:
                chunks.append([])
            chunks[-1].extend(piece)
    return [c for c in chunks if c]


_WORKER: dict[tuple[str | None, str | None], Any] = {}


@dataclass
class ReadOutcome:
    """What reading a run's files gave: the outcome to stage, the files that changed while
    they were read (left for the next run), the files refused for their sender."""

    outcome: BatchOutcome
    changed: list[str]
    refusals: list[Any]


def _read_check(
    args: tuple[list[str], dict[str, str], IngestSettings],
) -> tuple[ReadOutcome, list[str]]:
    """In a worker process, for one chunk of whole provinces: read and validate it as one
    vectorised batch, set aside files that changed while read, refuse files whose sender may
    not deliver them, then the outlier check against the warehouse (read-only). Returns the
    chunk's ReadOutcome and the log lines for the caller."""
    from validations.intake import validate_paths
    from validations.validator import Validator

    paths, listed, settings = args
    key = (settings.catalog, settings.today)
    if key not in _WORKER:  # one Validator per worker process, reused across chunks
        from datetime import date

        _WORKER[key] = Validator(
            catalog=load_catalog(settings.catalog),
            today=date.fromisoformat(settings.today) if settings.today else None,
        )
    notes = _NoteLog()
    outcome = validate_paths(list(paths), _WORKER[key])
    outcome, changed = settle_reads(outcome, listed)
    for f in changed:
        notes.warning("ingest: %s changed while it was read: left for the next run", f)
    outcome, refusals = check_senders(outcome, settings, notes)  # type: ignore[arg-type]
    outcome = add_outliers(outcome, settings, notes)  # type: ignore[arg-type]
    return ReadOutcome(outcome, changed, refusals), notes.lines


class _NoteLog:
    """A logger stand-in for worker processes: the lines go back to the caller's log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _add(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args if args else msg)

    info = warning = _add


def read_files(
    files: list[str],
    listed: Mapping[str, str],
    settings: IngestSettings,
    log: logging.Logger | None = None,
) -> ReadOutcome:
    """Read, validate, check senders and outliers: whole provinces in chunks of about
    `batch_size` files, each chunk one vectorised batch, spread over `workers` processes
    (default: one per core; 1: in this process). Workers are forked when this process runs no
    other thread, else started by a fork server. The outlier check opens the warehouse
    read-only in each worker (skipped, with a logged warning, while another process writes
    it). Results come back province by province, each in arrival order."""
    import multiprocessing as mp
    import threading
    from concurrent.futures import ProcessPoolExecutor

    log = log or LOG
    settings = replace(settings, today=settings.today or os.environ.get("TONGHOP_TODAY") or None)
    chunks = province_chunks([str(f) for f in files], settings.batch_size)
    workers = max(1, settings.workers or os.cpu_count() or 1)
    args = [(c, {f: listed[f] for f in c if f in listed}, settings) for c in chunks]
    if workers == 1 or len(chunks) <= 1:
        parts = [_read_check(a) for a in args]
    else:
        method = "fork" if threading.active_count() == 1 else "forkserver"
        ctx = mp.get_context(method)
        with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=ctx) as pool:
            parts = list(pool.map(_read_check, args))
    n_warn = 0
    for _, notes in parts:
        for line in notes:
            if line.startswith("outliers: ") and line.endswith(" warnings"):
                n_warn += int(line.split()[1])
            elif line.startswith("refused ("):
                log.warning("%s", line)
            else:
                log.warning("%s", line)
    if settings.outliers:
        log.info("outliers: %d warnings", n_warn)
    return ReadOutcome(
        in_arrival_order(merge([r.outcome for r, _ in parts]), files),
        [f for r, _ in parts for f in r.changed],
        [x for r, _ in parts for x in r.refusals],
    )


def in_arrival_order(outcome: BatchOutcome, files: list[str]) -> BatchOutcome:
    """The results (and unreadable files) back in the order of `files` (arrival), whatever
    chunks they were read in: staging numbers versions in that order."""
    rank = {str(f): i for i, f in enumerate(files)}
    last = len(rank)
    outcome.results.sort(key=lambda r: rank.get(r.path, last))
    outcome.unreadable.sort(key=lambda u: rank.get(u.path, last))
    return outcome


def merge(parts: list[BatchOutcome]) -> BatchOutcome:
    return merge_outcomes(parts)


def settle_reads(
    outcome: BatchOutcome, listed: Mapping[str, str]
) -> tuple[BatchOutcome, list[str]]:
    """Drop the results of files whose content changed between listing and reading (the hash
    of the bytes read differs from the hash taken when listed): what was read is uncertain, so
    nothing of it is stored and the file is left for the next run. Returns the kept outcome and
    the changed files."""
    changed = [
        r.path
        for r in outcome.results
        if r.path in outcome.hashes and listed.get(r.path) != outcome.hashes[r.path]
    ]
    if not changed:
        return outcome, []
    drop = set(changed)
    kept = BatchOutcome(
        results=[r for r in outcome.results if r.path not in drop],
        unreadable=outcome.unreadable,
        hashes={k: v for k, v in outcome.hashes.items() if k not in drop},
        senders=outcome.senders,
    )
    return kept, changed


# --- 3. senders, outliers --------------------------------------------------------------------
def check_senders(
    outcome: BatchOutcome, settings: IngestSettings, log: logging.Logger | None = None
) -> tuple[BatchOutcome, list[Any]]:
    """With an inbox root: refuse the files whose sender may not deliver the unit they name."""
    if settings.inbox_root is None:
        return outcome, []
    from validations.authority import Inbox
    from validations.authority import check_senders as _check

    kept, refusals = _check(
        outcome, Inbox(settings.inbox_root, load_units()), load_catalog(settings.catalog)
    )
    for r in refusals:
        (log or LOG).warning("refused (%s): %s", r.rule_id, r.audit()["detail"])
    return kept, refusals


def add_outliers(
    outcome: BatchOutcome, settings: IngestSettings, log: logging.Logger | None = None
) -> BatchOutcome:
    """Outlier warnings against the warehouse, opened read-only. Never fails the ingest:
    without a warehouse yet, while another process writes it, or on any error, the check is
    skipped for this batch with a warning in the log."""
    from validations.fmt import one_line
    from warehouse.db import WarehouseError, connect
    from warehouse.history import add_outlier_warnings
    from warehouse.previous_year import add_previous_year_warnings

    log = log or LOG
    if not outcome.results or not settings.outliers:
        return outcome
    if not settings.warehouse.is_file():
        log.warning("outliers: no warehouse at %s yet; check skipped", settings.warehouse)
        return outcome
    try:
        con = connect(settings.warehouse, read_only=True)
    except WarehouseError as exc:  # WarehouseLockedError: another process writes it
        log.warning("outliers: check skipped for this batch: %s", one_line(exc))
        return outcome
    try:
        catalog, units = load_catalog(settings.catalog), load_units()
        n = add_outlier_warnings(con, outcome.results, catalog, units)
        log.info("outliers: %d warnings", n)
        n = add_previous_year_warnings(con, outcome.results, catalog, units)
        log.info("last year's figures checked against the warehouse: %d warnings", n)
    except Exception as exc:  # a warning check never fails the ingest
        log.warning(
            "outliers: check skipped for this batch: %s: %s", type(exc).__name__, one_line(exc)
        )
    finally:
        con.close()
    return outcome
