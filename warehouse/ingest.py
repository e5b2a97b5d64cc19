"""The steps of an ingest run, as plain functions: staging, the single-writer load, each
submitter's answer, the archive, and the run's summary. The sequence that calls them, with the
reading step (read + validate -> senders -> outliers, warehouse.reading) run by the runner a
shell chooses, is `tonghop.service.ingest`; the flow runs the same steps as Prefect tasks.

What was read is what is stored and archived: each file is hashed when listed and again when
read (warehouse.arrival); a file that changed in between is left in the inbox for the next run
(listed under `changed`), and the archive keeps a file only if it still holds what was read
(warehouse.archive).

Every submitter gets an answer, whichever run stored its file: the load step (the only place
that opens the warehouse for writing) loads every pending staging batch; the reports of a batch
staged by an earlier run (a crash, a lock) are written by the run that loads it, from the
staged files, and listed under `loaded_late`; a run whose batch another run loaded first (two
ingests at once) reads its outcomes back from the warehouse.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validations.authority import Refusal, write_refusals
from validations.catalog import Catalog, load_catalog
from validations.intake import BatchOutcome
from validations.outbox import write_reports, write_unreadable
from validations.units import load_units
from warehouse.access import LOCK_RETRIES, WarehouseFile
from warehouse.archive import archive_files
from warehouse.arrival import ARRIVAL_ORDER
from warehouse.db import now
from warehouse.ingest_settings import IngestSettings
from warehouse.reading import Workers, write_reports_in
from warehouse.rollup import refresh
from warehouse.staging import read_results, write_staging
from warehouse.store import batch_outcomes, load_batch, pending_batches


def new_batch_id() -> str:
    return f"{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


# --- 4. staging, the single-writer load --------------------------------------------------------
def stage(
    outcome: BatchOutcome, settings: IngestSettings, batch_id: str, refusals: list[Refusal]
) -> Path | None:
    """The batch's immutable staging folder (None: nothing to stage)."""
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


def warehouse_file(settings: IngestSettings, retry: bool = True) -> WarehouseFile:
    """The run's warehouse, reference data loaded when it differs; retried while another
    process holds it (`retry`; a Prefect task retries by itself)."""
    return WarehouseFile(
        settings.warehouse,
        load_catalog(settings.catalog),
        load_units(),
        LOCK_RETRIES if retry else (),
    )


def load_pending(
    settings: IngestSettings, batch_id: str | None = None, wh: WarehouseFile | None = None
) -> list[dict[str, Any]]:
    """The single writer: load every pending staging batch (oldest first), each in one
    transaction, with the re-consolidation of what it changed. One outcome per staged
    submission (warehouse.store.SubmissionOutcome as a dict, with its `batch`). When
    `batch_id` was staged but another run loaded it first, its outcomes are read back from the
    warehouse and included too. `wh`: how the warehouse is reached (default: the settings'
    file, retried while another process holds it)."""
    wh = wh or warehouse_file(settings)
    cat, units = load_catalog(settings.catalog), load_units()

    def work(con: Any) -> list[dict[str, Any]]:

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

    return wh.write(work, "load-warehouse")


# --- 5. answers, archive ------------------------------------------------------------------------
def write_answers(
    settings: IngestSettings,
    outcome: BatchOutcome,
    loaded: list[dict[str, Any]],
    refusals: list[Refusal],
    batch_id: str,
    catalog: Catalog | None = None,
    workers: Workers | None = None,
) -> int:
    """Each submitter's report: this run's files (in the `workers` processes when given), then
    the batches it loaded late (rebuilt from their staged files), the unreadable files'
    messages and the refused files' reports. Reports are written one at a time, never all
    held in memory. Returns files written."""
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
    refusals: list[Refusal],
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
