"""The ingest run as plain steps: files -> read + validate -> senders -> outliers -> staging ->
the single-writer load -> each submitter's answer -> archive.

No Prefect here: `ingest(paths, settings)` runs every step in this process (what
`tonghop ingest --no-prefect` does), and flows/ingest.py wraps the same steps in Prefect tasks
(retries, the UI, schedules). It lives in warehouse/ because it writes the warehouse; the
submitter's path (validations/) never imports it, so `tonghop validate` stays free of DuckDB.

Arrival order: the files of a run are taken in the order they arrived in the inbox, their
modification time, then their name (then their path); two versions of one unit and period in
one run are numbered, and the later one made current, in that order.

What was read is what is stored and archived: each file is hashed when listed and again when
read; a file that changed in between is left in the inbox for the next run (listed under
`changed`), and the archive keeps a file only if it still holds what was read
(warehouse.archive).

Every submitter gets an answer, whichever run stored its file: the load step (the only place
that opens the warehouse for writing) loads every pending staging batch; the reports of a batch
staged by an earlier run (a crash, a lock) are written by the run that loads it, from the
staged files, and listed under `loaded_late`; a run whose batch another run loaded first (two
ingests at once) reads its outcomes back from the warehouse.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from validations.catalog import Catalog, load_catalog
from validations.intake import BatchOutcome, expand_paths, file_hash
from validations.units import load_units
from warehouse.db import now, warehouse_path
from warehouse.reading import (  # steps 2 and 3: reading, senders, outliers
    ReadOutcome,
    Workers,
    add_outliers,
    check_senders,
    in_arrival_order,
    merge,
    province_chunks,
    province_groups,
    read_files,
    settle_reads,
    write_reports_in,
)

LOG = logging.getLogger("tonghop.ingest")
ARRIVAL_ORDER = "arrival: modification time, then name"
SYMLINK = "symlink"


@dataclass
class IngestSettings:
    """Where an ingest run reads and writes, and how it validates."""

    warehouse: Path
    staging: Path
    outbox: Path
    archive: Path | None = None
    inbox_root: Path | None = None
    catalog: str | None = None
    actor: str = "ingest"
    batch_size: int = 1000
    workers: int | None = None  # validation processes (None: one per core; 1: this process)
    received_at: datetime | Mapping[str, datetime] | None = None
    outliers: bool = True
    today: str | None = None  # YYYY-MM-DD for the future-period check (default $TONGHOP_TODAY)

    @classmethod
    def resolve(
        cls,
        warehouse: str | Path | None = None,
        staging: str | Path | None = None,
        outbox: str | Path | None = None,
        **kw: Any,
    ) -> IngestSettings:
        """Defaults: $TONGHOP_WAREHOUSE else ./data/tonghop.duckdb; $TONGHOP_STAGING else
        <warehouse folder>/staging; $TONGHOP_OUTBOX else ./outbox."""
        wh = warehouse_path(warehouse)
        for key in ("archive", "inbox_root"):
            if kw.get(key) is not None:
                kw[key] = Path(kw[key])
        return cls(warehouse=wh, staging=staging_dir(staging, wh), outbox=outbox_dir(outbox), **kw)


def staging_dir(staging: str | Path | None, warehouse: Path) -> Path:
    return Path(staging or os.environ.get("TONGHOP_STAGING") or warehouse.parent / "staging")


def outbox_dir(outbox: str | Path | None) -> Path:
    return Path(outbox or os.environ.get("TONGHOP_OUTBOX") or "outbox")


def new_batch_id() -> str:
    return f"{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


# --- 1. the files, in arrival order, hashed as listed --------------------------------------
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


# --- 4. staging, the single-writer load --------------------------------------------------------
def stage(
    outcome: BatchOutcome, settings: IngestSettings, batch_id: str, refusals: list[Any]
) -> Path | None:
    """The batch's immutable staging folder (None: nothing to stage)."""
    from warehouse.staging import write_staging

    if not outcome.results and not refusals:
        return None
    return write_staging(
        outcome.results,
        settings.staging,
        batch_id,
        outcome.hashes,
        settings.received_at,
        refused=[r.audit() for r in refusals] or None,
    )


def load_pending(settings: IngestSettings, batch_id: str | None = None) -> list[dict[str, Any]]:
    """The single writer: load every pending staging batch (oldest first), each in one
    transaction. One outcome per staged submission (warehouse.store.SubmissionOutcome as a
    dict, with its `batch`). When `batch_id` was staged but another run loaded it first, its
    outcomes are read back from the warehouse and included too."""
    from warehouse.db import open_warehouse
    from warehouse.rollup import refresh
    from warehouse.store import batch_outcomes, load_batch, pending_batches

    cat, units = load_catalog(settings.catalog), load_units()
    con = open_warehouse(settings.warehouse, cat, units)  # reference data loaded when it differs
    try:

        def refresh_rollups(c: Any, changed: list[tuple[str, str]]) -> None:
            # rollups are never stale: what the batch changed is re-consolidated with it
            refresh(c, changed, cat, units, actor=f"{settings.actor} (refresh)")

        out: list[dict[str, Any]] = []
        for batch in pending_batches(con, settings.staging):
            out += [
                o.to_dict()
                for o in load_batch(
                    con, batch, actor=settings.actor, close_day=cat.close_day, after=refresh_rollups
                )
            ]
        mine = settings.staging / batch_id if batch_id else None
        if mine is not None and mine.is_dir() and not any(o["batch"] == batch_id for o in out):
            out += [o.to_dict() for o in batch_outcomes(con, mine) or []]
        return out
    finally:
        con.close()


# --- 5. answers, archive ------------------------------------------------------------------------
def write_answers(
    settings: IngestSettings,
    outcome: BatchOutcome,
    loaded: list[dict[str, Any]],
    refusals: list[Any],
    batch_id: str,
    catalog: Catalog | None = None,
    workers: Workers | None = None,
) -> int:
    """Each submitter's report: this run's files (in the `workers` processes when given), then
    the batches it loaded late (rebuilt from their staged files), the unreadable files'
    messages and the refused files' reports. Reports are written one at a time, never all
    held in memory. Returns files written."""
    from validations.authority import write_refusals
    from validations.outbox import write_reports, write_unreadable
    from warehouse.staging import read_results

    catalog = catalog or load_catalog(settings.catalog)
    by_batch: dict[str, dict[str, dict[str, Any]]] = {}
    for o in loaded:
        if o.get("file_name"):
            by_batch.setdefault(o["batch"], {})[o["file_name"]] = o
    mine = by_batch.pop(batch_id, {})
    senders = outcome.senders
    n = write_reports_in(workers, settings.outbox, outcome.results, mine, settings, senders)
    for other, done in by_batch.items():
        results = read_results(settings.staging / other)
        n += len(write_reports(settings.outbox, results, done, catalog, senders=senders))
    n += len(write_unreadable(settings.outbox, outcome.unreadable, senders))
    if refusals:
        n += len(write_refusals(settings.outbox, refusals, catalog))
    return n


def archive(
    settings: IngestSettings,
    batch_id: str,
    files: list[str],
    listed: Mapping[str, str],
    summary: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Move this run's answered files to <archive>/<batch_id>/<sender>/<name> (see
    warehouse.archive); files changed since they were read stay for the next run."""
    if settings.archive is None:
        return None
    from warehouse.archive import archive_files

    changed = set(summary.get("changed", []))
    answers: dict[str, str] = {}
    for s in summary.get("submissions", []):
        answers[s["file"]] = "duplicate" if s["duplicate"] else s["status"]
    for u in summary.get("unreadable", []):
        answers[u["file"]] = "unreadable"
    for r in summary.get("refused", []):
        answers[r["file"]] = "refused"
    read = {f: h for f, h in listed.items() if f not in changed and f in answers}
    res = archive_files(
        files, settings.archive, batch_id, read, answers, inbox_root=settings.inbox_root
    )
    return res.to_dict()


# --- the run's summary, and the whole run ------------------------------------------------------
def _row(o: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "file": o["file_name"],
        "unit_code": o["unit_code"],
        "period": o["period"],
        "version": o["version"],
        "status": o["status"],
        "duplicate": o["duplicate"],
        "superseded": o["superseded"],
        "current": o["current"],
    }


def summarise(
    settings: IngestSettings,
    batch_id: str,
    files: list[str],
    outcome: BatchOutcome,
    refusals: list[Any],
    loaded: list[dict[str, Any]],
    changed: list[str],
) -> dict[str, Any]:
    """What the run did, as the CLI prints it and `--json` shows it."""
    mine = [o for o in loaded if o["batch"] == batch_id]
    late = [_row(o) | {"batch": o["batch"]} for o in loaded if o["batch"] != batch_id]
    return {
        "batch_id": batch_id,
        "files": len(files),
        "order": ARRIVAL_ORDER,
        "submissions": [_row(o) for o in mine],
        "loaded_late": late,
        "unreadable": [u.to_dict() for u in outcome.unreadable],
        "refused": [r.to_dict() for r in refusals],
        "changed": changed,
        "other_batches_loaded": sorted({o["batch"] for o in loaded} - {batch_id}),
        "warehouse": str(settings.warehouse),
        "outbox": str(settings.outbox),
    }


LOCK_RETRIES = (2.0, 5.0, 15.0)  # seconds, as the flow's load-warehouse task retries


def _retry_if_locked(step: Any, log: logging.Logger) -> Any:
    """Run `step`; while another process holds the warehouse file, wait and try again."""
    import time

    from warehouse.db import WarehouseLockedError

    for delay in (*LOCK_RETRIES, None):
        try:
            return step()
        except WarehouseLockedError as exc:
            if delay is None:
                raise
            log.warning("%s Retrying in %.0f s.", exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def ingest(
    paths: list[str | Path], settings: IngestSettings, log: logging.Logger | None = None
) -> dict[str, Any]:
    """The whole ingest run in this process, without Prefect: the same steps, in the same
    order, as flows/ingest.py:ingest_submissions; returns the same summary."""
    log = log or LOG
    files = find_files(paths, log)
    log.info("ingest: %d files (%s)", len(files), ARRIVAL_ORDER)
    with Workers.for_files(settings, files) as workers:  # they start while files are hashed
        read = read_files(files, None, settings, log, workers)  # validation, senders, outliers
        outcome, changed, refusals, listed = read.outcome, read.changed, read.refusals, read.listed
        batch_id = new_batch_id()
        stage(outcome, settings, batch_id, refusals)
        loaded = _retry_if_locked(lambda: load_pending(settings, batch_id), log)
        write_answers(settings, outcome, loaded, refusals, batch_id, workers=workers)
    summary = summarise(settings, batch_id, files, outcome, refusals, loaded, changed)
    summary["archive"] = archive(settings, batch_id, files, listed, summary)
    return summary


__all__ = [
    "ARRIVAL_ORDER",
    "IngestSettings",
    "add_outliers",
    "archive",
    "arrival_order",
    "check_senders",
    "find_files",
    "in_arrival_order",
    "ingest",
    "listed_hashes",
    "load_pending",
    "merge",
    "new_batch_id",
    "settle_reads",
    "stage",
    "summarise",
    "province_chunks",
    "province_groups",
    "read_files",
    "ReadOutcome",
    "write_answers",
    "Workers",
]
