"""Reading a run's files: chunks of whole provinces, each read, validated, checked for its
senders and outliers in a worker process (steps 2 and 3 of warehouse.ingest).

Plain functions, no Prefect. A chunk holds whole provinces so that every sibling a peer
comparison needs is in it; the results come back in arrival order whatever chunk read them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import re
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

import pandas as pd

from validations.authority import Inbox
from validations.authority import check_senders as _check
from validations.catalog import catalog_file, load_catalog
from validations.crosswalk import load_crosswalk
from validations.fmt import one_line
from validations.intake import BatchOutcome, merge_outcomes, validate_paths
from validations.outbox import write_reports
from validations.result import VALUE_COLUMNS, ValidationResult
from validations.units import load_units
from validations.validator import Validator
from warehouse.access import NoWarehouseError, WarehouseFile
from warehouse.arrival import listed_hashes
from warehouse.db import WarehouseError
from warehouse.history import add_outlier_warnings
from warehouse.ingest_settings import IngestSettings
from warehouse.previous_year import add_previous_year_warnings
from warehouse.suspects import relocate_with_history

LOG = logging.getLogger("tonghop.ingest")


# --- 2. read + validate (+ outliers), one province per chunk, over the cores --------------------
_LEADING_CODE = re.compile(r"([0-9]{1,5})(?:[^0-9]|\Z)")  # a prefix: .match


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


OUTLIERS = "outliers"
LAST_YEAR = "last year's figures checked against the warehouse"
SUSPECTS = "which figure is wrong, with each unit's history"
_WORKER: dict[tuple[str | None, str | None], Any] = {}
_THREADS: list[int | None] = [None]  # DuckDB threads of this process's outlier check


@dataclass
class ReadOutcome:
    """What reading a run's files gave: the outcome to stage, the files that changed while
    they were read (left for the next run), the files refused for their sender, and each
    file's hash as listed (before it was read)."""

    outcome: BatchOutcome
    changed: list[str]
    refusals: list[Any]
    listed: Mapping[str, str] = field(default_factory=dict)


def _validator(settings: IngestSettings) -> Any:
    """This process's Validator for the settings' catalog and date, built once."""
    return _validator_for(settings.catalog, settings.today)


def _validator_for(catalog: str | None, today: str | None) -> Any:
    # keyed by the file itself: None means $TONGHOP_CATALOG as it is now, else the national form
    key = (str(catalog_file(catalog)), today)
    if key not in _WORKER:  # one Validator per worker process, reused across chunks
        _WORKER[key] = Validator(
            catalog=load_catalog(key[0]),
            today=date.fromisoformat(today) if today else None,
        )
    return _WORKER[key]


def warm_up() -> None:
    """What every chunk of a run with the default catalog needs, loaded once: its validator
    (the reference units with it) and the 2025 crosswalk. The fork server calls it
    (warehouse.reading_warmup, in PRELOAD) before it forks the workers, which start warm."""
    with contextlib.suppress(Exception):  # any failure is met again, and said, by a chunk
        catalog = _validator_for(None, os.environ.get("TONGHOP_TODAY") or None).catalog
        load_crosswalk(catalog.divided_communes)


def _start_worker(settings: IngestSettings) -> None:
    """A worker process's start: what every chunk needs (the modules, the validator) is
    loaded once, while the caller still lists and hashes the files; its DuckDB uses one thread
    (the workers already fill the cores)."""
    _THREADS[0] = 1
    with contextlib.suppress(Exception):  # raised again, for the caller, by the first chunk
        _validator(settings)


def _ready() -> None:
    """A no-op submitted once per worker, so that every worker starts at once."""


def _read_check(
    args: tuple[list[str], dict[str, str], IngestSettings],
) -> tuple[ReadOutcome, list[str]]:
    """In a worker process, for one chunk of whole provinces: read and validate it as one
    vectorised batch, then `check_read` (changed files, senders, outliers). Returns the
    chunk's ReadOutcome and the log lines for the caller."""
    paths, listed, settings = args
    notes = _NoteLog()
    outcome = validate_paths(list(paths), _validator(settings))
    read = check_read(outcome, listed, settings, notes, threads=_THREADS[0])  # type: ignore[arg-type]
    return ReadOutcome(read.outcome, read.changed, read.refusals), notes.lines


def check_read(
    outcome: BatchOutcome,
    listed: Mapping[str, str],
    settings: IngestSettings,
    log: logging.Logger | None = None,
    wh: WarehouseFile | None = None,
    threads: int | None = None,
) -> ReadOutcome:
    """What every way of reading a run's files does once they are validated, wherever that
    ran (a worker process, a Dask cluster, the portal's warm validator): set aside the files
    that changed while they were read (left for the next run), refuse the files whose sender
    may not deliver them, then the outlier and last-year checks against the warehouse read
    through `wh` (default: the settings' file, read-only)."""
    log = log or LOG
    outcome, changed = settle_reads(outcome, listed)
    for f in changed:
        log.warning("ingest: %s changed while it was read: left for the next run", f)
    outcome, refusals = check_senders(outcome, settings, log)
    outcome = add_outliers(outcome, settings, log, threads=threads, wh=wh)
    return ReadOutcome(outcome, changed, refusals, dict(listed))


class _NoteLog:
    """A logger stand-in for worker processes: the lines go back to the caller's log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _add(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args if args else msg)

    info = warning = _add


# What the fork server imports before it forks the workers: the reading and checking modules,
# openpyxl, and pandera's pandas backends (registered at the first validation; they import
# hypothesis when it is installed: 0.3 s a process).
PRELOAD = [
    "warehouse.reading",
    "warehouse.history",
    "warehouse.previous_year",
    "warehouse.suspects",
    "openpyxl",
    "pandera.backends.pandas.register",
    "pandera.backends.pandas.builtin_checks",
    "warehouse.reading_warmup",  # last: the default validator, the units, the crosswalk
]


def _fork_server_pid() -> int | None:
    return getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)


def _stop_fork_server() -> None:
    """Stop this process's fork server: Python 3.11 (requires-python) has no public way; its
    `_stop` (what CPython's own tests call) closes the server's pipe and waits for it."""
    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        with contextlib.suppress(OSError):
            stop()


def _preload() -> list[str]:
    """PRELOAD, and the main module when it was run by name (`python -m prefect.engine`, as
    Prefect's workers start a flow run): each worker imports the caller's main module again
    (a main run from a path, as the `tonghop` command, is light; Python 3.11's fork server
    never preloads it)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return [*PRELOAD, spec.name] if spec is not None and spec.name else PRELOAD


class Workers:
    """The worker processes of one ingest run: started before the files are hashed (each loads
    the modules and its validator meanwhile), they read and check the chunks, and, once the
    load has said what became of each file, write the submitters' reports (two processes
    write the 21,588 files of a national month in about half the time of one).

    Forked when this process runs no other thread, else started by a fork server that imports
    the modules once (a flow runs Prefect's threads: forking them is unsafe). No processes at
    all (`pool` None: everything runs in the caller) for one chunk, or with `workers` 1. Use it
    as a context manager: the processes stop at its end."""

    def __init__(self, settings: IngestSettings, n_chunks: int) -> None:
        self.settings = _today(settings)
        self.size = min(max(1, settings.workers or os.cpu_count() or 1), n_chunks)
        self.pool: ProcessPoolExecutor | None = None
        if self.size <= 1:
            return
        method = "fork" if threading.active_count() == 1 else "forkserver"
        ctx = mp.get_context(method)
        # a fork server this run starts is stopped with its workers (it holds 120 MB)
        self._own_server = method == "forkserver" and _fork_server_pid() is None
        if method == "forkserver":  # the server imports them once; each worker is a fork of it
            ctx.set_forkserver_preload(_preload())
        self.pool = ProcessPoolExecutor(
            self.size, mp_context=ctx, initializer=_start_worker, initargs=(self.settings,)
        )
        # every worker starts now, not at the first chunk; a fork server is waited for (its
        # imports) in a thread of its own, while this one goes on hashing the files
        self._started = threading.Thread(target=self._start, name="tonghop-workers", daemon=True)
        self._started.start()

    def _start(self) -> None:
        assert self.pool is not None
        for _ in range(self.size):
            self.pool.submit(_ready)

    @classmethod
    def for_files(cls, settings: IngestSettings, files: list[str]) -> Workers:
        """Workers for reading `files` (as many chunks as batch_size gives at most)."""
        return cls(settings, -(-len(files) // max(1, settings.batch_size)))

    def read(
        self, files: list[str], settings: IngestSettings, log: logging.Logger | None = None
    ) -> ReadOutcome:
        """The run's reading step in these processes (`read_files`); the files are hashed
        while the processes start."""
        return read_files(files, None, settings, log, self)

    @property
    def reporters(self) -> Workers:
        """Who writes the submitters' reports after the load: these processes."""
        return self

    def map(self, fn: Any, items: list[Any]) -> list[Any]:
        """fn over the items: in the worker processes, else here."""
        if self.pool is None:
            return [fn(i) for i in items]
        self._started.join()
        return list(self.pool.map(fn, items))

    def close(self) -> None:
        if self.pool is not None:
            self._started.join()
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
            if self._own_server:
                _stop_fork_server()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _today(settings: IngestSettings) -> IngestSettings:
    return replace(settings, today=settings.today or os.environ.get("TONGHOP_TODAY") or None)


def read_files(
    files: list[str],
    listed: Mapping[str, str] | None,
    settings: IngestSettings,
    log: logging.Logger | None = None,
    workers: Workers | None = None,
) -> ReadOutcome:
    """Read, validate, check senders and outliers: whole provinces in chunks of about
    `batch_size` files, each chunk one vectorised batch, spread over the `workers` processes
    (default: a Workers of its own, one per core). The outlier check opens the warehouse
    read-only in each worker (skipped, with a logged warning, while another process writes
    it). Results come back province by province, each in arrival order.

    `listed`: each file's hash as listed (warehouse.arrival.listed_hashes); None: hashed here,
    while the worker processes start. The hashes are returned in `ReadOutcome.listed`."""
    log = log or LOG
    settings = _today(settings)
    chunks = province_chunks([str(f) for f in files], settings.batch_size)
    own = workers is None
    workers = Workers(settings, len(chunks)) if workers is None else workers
    try:
        listed = listed_hashes(files) if listed is None else listed
        args = [(c, {f: listed[f] for f in c if f in listed}, settings) for c in chunks]
        parts = workers.map(_read_check, args)
    finally:
        if own:
            workers.close()
    counted = {OUTLIERS: 0, LAST_YEAR: 0}  # summed over the chunks, said once
    for _, notes in parts:
        for line in notes:
            head, _, n = line.rpartition(": ")
            if head in counted and n.endswith(" warnings"):
                counted[head] += int(n.split()[0])
            else:
                log.warning("%s", line)
    if settings.outliers:
        for head, n in counted.items():
            log.info("%s: %d warnings", head, n)
    return ReadOutcome(
        in_arrival_order(merge([r.outcome for r, _ in parts]), files),
        [f for r, _ in parts for f in r.changed],
        [x for r, _ in parts for x in r.refusals],
        dict(listed),
    )


def write_reports_in(
    workers: Workers | None,
    outbox: Path,
    results: list[Any],
    outcomes: Mapping[str, Mapping[str, Any]],
    settings: IngestSettings,
    senders: Mapping[str, str],
) -> int:
    """Each result's report (validations.outbox.write_reports), in the worker processes when
    there are, each writing whole folders (two files of one unit, as a file sent twice, are
    answered by one process, in arrival order); returns the files written."""
    if workers is None or workers.pool is None or len(results) < 2:
        return len(
            write_reports(
                outbox, results, outcomes, load_catalog(settings.catalog), senders=senders
            )
        )
    # a report needs no values: the workers get the results without them (their arrays are
    # shared by a whole chunk, so one result would carry every value of the chunk along)
    folders: dict[str, list[ValidationResult]] = {}
    for r in results:  # in arrival order within a folder
        folders.setdefault(r.unit_code or senders.get(r.path, ""), []).append(
            ValidationResult(
                r.path,
                r.unit_code,
                r.period,
                r.issues,
                _NO_VALUES,
                r.level,
                r.file_format,
                r.encoding,
                r.checked,
            )
        )
    size = -(-len(results) // (workers.size * 2))  # about two shares a worker
    shares: list[list[ValidationResult]] = [[]]
    for folder in sorted(folders):
        if len(shares[-1]) >= size:
            shares.append([])
        shares[-1].extend(folders[folder])
    parts = []
    for part in shares:
        paths = {r.path for r in part}
        parts.append(
            (
                outbox,
                part,
                {k: v for k, v in outcomes.items() if k in paths},
                settings,
                {k: v for k, v in senders.items() if k in paths},
            )
        )
    return sum(workers.map(_write_part, parts))


_NO_VALUES = pd.DataFrame(columns=VALUE_COLUMNS)


def _write_part(args: tuple[Any, ...]) -> int:
    """In a worker process: one share of the reports."""
    outbox, results, outcomes, settings, senders = args
    catalog = _validator(settings).catalog
    return len(write_reports(outbox, results, outcomes, catalog, senders=senders))


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
    kept, refusals = _check(
        outcome, Inbox(settings.inbox_root, load_units()), load_catalog(settings.catalog)
    )
    for r in refusals:
        (log or LOG).warning("refused (%s): %s", r.rule_id, r.audit()["detail"])
    return kept, refusals


def add_outliers(
    outcome: BatchOutcome,
    settings: IngestSettings,
    log: logging.Logger | None = None,
    threads: int | None = None,
    wh: WarehouseFile | None = None,
) -> BatchOutcome:
    """Outlier and last-year warnings against the warehouse, read through `wh` (default: the
    settings' file opened read-only, with `threads` DuckDB threads; the portal passes its
    snapshot). Never fails the ingest: without a warehouse yet, while another process writes
    it, or on any error, the check is skipped for this batch with a warning in the log."""
    log = log or LOG
    if not outcome.results or not settings.outliers:
        return outcome
    wh = wh or WarehouseFile(settings.warehouse, threads=threads)
    try:
        with wh.reading() as con:
            catalog, units = load_catalog(settings.catalog), load_units()
            n = add_outlier_warnings(con, outcome.results, catalog, units)
            log.info("%s: %d warnings", OUTLIERS, n)
            n = add_previous_year_warnings(con, outcome.results, catalog, units)
            log.info("%s: %d warnings", LAST_YEAR, n)
            n = relocate_with_history(con, outcome.results, catalog)
            log.info("%s: %d rejected files", SUSPECTS, n)
    except NoWarehouseError:
        log.warning("outliers: no warehouse at %s yet; check skipped", settings.warehouse)
    except WarehouseError as exc:  # WarehouseLockedError: another process writes it
        log.warning("outliers: check skipped for this batch: %s", one_line(exc))
    except Exception as exc:  # a warning check never fails the ingest
        log.warning(
            "outliers: check skipped for this batch: %s: %s", type(exc).__name__, one_line(exc)
        )
    return outcome
