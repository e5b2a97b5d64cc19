"""ingest_submissions: files -> batch validation -> immutable staging Parquet -> warehouse.

One Prefect task per *batch* of files (never one per file: at 10,000 communes the
orchestration overhead would dwarf the work). The batch's outcome is handed to the next tasks
`quote`d and those tasks keep no cache key: Prefect would otherwise walk and hash all 10,000
results at every call (about 12 s each at national scale). The warehouse is written by one task only (the
single DuckDB writer); staging batches are immutable, so a crash between staging and loading
is recovered by the next run, which loads every pending batch first.

Where the validation batches run: Prefect's default thread pool in the flow's process, or, given
a Dask scheduler address (`dask_address`, else $TONGHOP_DASK_ADDRESS), the workers of that Dask
cluster (prefect_dask.DaskTaskRunner), one batch per province (the files grouped by the unit
code their name starts with). Staging, the single warehouse load and the reports always stay in
the flow's own process.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

import flows  # noqa: F401  (Prefect defaults)
from flows.settings import resolve_outbox, resolve_staging, resolve_warehouse, retry_if_locked
from validations.catalog import load_catalog
from validations.fmt import one_line
from validations.intake import BatchOutcome, expand_paths, validate_paths
from validations.outbox import write_reports, write_unreadable
from validations.units import load_units
from validations.validator import Validator
from warehouse.db import now, open_warehouse
from warehouse.rollup import refresh
from warehouse.staging import write_staging
from warehouse.store import load_batch, pending_batches


@task(name="validate-batch", retries=1, retry_delay_seconds=2)
def validate_batch(paths: list[str], catalog: str | None = None) -> BatchOutcome:
    """Read and validate a batch of files in one vectorised pass."""
    return validate_paths(list(paths), Validator(catalog=load_catalog(catalog)))


@task(name="outliers", cache_policy=NO_CACHE)
def check_outliers(outcome: BatchOutcome, warehouse: str, catalog: str | None) -> BatchOutcome:
    """Outlier warnings (validations/outliers.py) against the warehouse, opened read-only.

    Never fails the ingest: without a warehouse yet, or while another process writes it, or on
    any error, the check is skipped for this batch with a warning in the log."""
    from warehouse.db import WarehouseError, connect
    from warehouse.history import add_outlier_warnings
    from warehouse.previous_year import add_previous_year_warnings

    log = get_run_logger()
    if not outcome.results:
        return outcome
    if not Path(warehouse).is_file():
        log.warning("outliers: no warehouse at %s yet; check skipped for this batch", warehouse)
        return outcome
    try:
        con = connect(warehouse, read_only=True)
    except WarehouseError as exc:  # WarehouseLockedError: another process writes it
        log.warning("outliers: check skipped for this batch: %s", exc)
        return outcome
    try:
        cat, units = load_catalog(catalog), load_units()
        n = add_outlier_warnings(con, outcome.results, cat, units)
        log.info("outliers: %d warnings", n)
        n = add_previous_year_warnings(con, outcome.results, cat, units)
        log.info("last year's figures checked against the warehouse: %d warnings", n)
    except Exception as exc:  # a warning check never fails the ingest
        log.warning(
            "outliers: check skipped for this batch: %s: %s", type(exc).__name__, one_line(exc)
        )
    finally:
        con.close()
    return outcome


@task(name="stage-batch", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def stage_batch(
    outcome: BatchOutcome,
    staging_dir: str,
    batch_id: str,
    received_at: dict[str, datetime] | datetime | None,
    refused: list[dict[str, Any]] | None = None,
) -> str:
    """Write the batch's accepted and rejected submissions to immutable Parquet files."""
    return str(
        write_staging(
            outcome.results, staging_dir, batch_id, outcome.hashes, received_at, refused=refused
        )
    )


@task(
    name="load-warehouse",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=retry_if_locked,
)
def load_warehouse(
    staging_dir: str, warehouse: str, catalog: str | None, actor: str
) -> list[dict[str, Any]]:
    """The single writer: load every pending staging batch, each in one transaction with the
    re-consolidation of what it changed (rollups are never stale)."""
    cat, units = load_catalog(catalog), load_units()
    con = open_warehouse(warehouse, cat, units)

    def refresh_rollups(c: Any, changed: list[tuple[str, str]]) -> None:
        refresh(c, changed, cat, units, actor=f"{actor} (refresh)")

    try:
        out: list[dict[str, Any]] = []
        for batch in pending_batches(con, staging_dir):
            for o in load_batch(
                con, batch, actor=actor, close_day=cat.close_day, after=refresh_rollups
            ):
                out.append(asdict(o) | {"batch": batch.name})
        return out
    finally:
        con.close()


@task(name="write-reports", cache_policy=NO_CACHE)
def write_outbox(
    outbox: str, outcome: BatchOutcome, loaded: list[dict[str, Any]], catalog: str | None
) -> int:
    """Each submitter's HTML and JSON report, plus the unreadable files' messages."""
    by_file = {o["file_name"]: o for o in loaded if o.get("file_name")}
    done = {r.path: by_file.get(r.path, {}) for r in outcome.results}
    paths = write_reports(
        outbox, outcome.results, done, load_catalog(catalog), senders=outcome.senders
    )
    paths += write_unreadable(outbox, outcome.unreadable, outcome.senders)
    return len(paths)


@flow(name="ingest-submissions", version="1")
def ingest_submissions(
    paths: list[str],
    warehouse: str | None = None,
    staging: str | None = None,
    outbox: str | None = None,
    batch_size: int = 2000,
    received_at: dict[str, datetime] | datetime | None = None,
    archive: str | None = None,
    catalog: str | None = None,
    actor: str = "ingest",
    inbox_root: str | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Ingest submission files (or folders of them) into the warehouse and answer submitters.

    With `inbox_root`, each file's sender is its folder under it (validations/authority.py): a
    file naming a unit that is not the sender's own nor below it is refused, not stored.
    With `dask_address` (or $TONGHOP_DASK_ADDRESS), e.g. "tcp://10.0.0.5:8786", the validation
    batches run on that Dask cluster, one per province; otherwise on the default thread pool."""
    log = get_run_logger()
    wh = resolve_warehouse(warehouse)
    stage_dir = resolve_staging(staging, wh)
    out_dir = resolve_outbox(outbox)
    files = [str(p) for p in expand_paths(list(paths))]
    address = dask_address or os.environ.get(DASK_ENV) or None
    if address:
        chunks = province_batches(files, batch_size)
        log.info("ingest: %d files in %d batches on Dask %s", len(files), len(chunks), address)
        parts = _validate_on_dask(address, chunks, catalog)
    else:
        log.info("ingest: %d files in batches of %d", len(files), batch_size)
        chunks = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
        futures = [validate_batch.submit(chunk, catalog) for chunk in chunks]
        parts = [fut.result() for fut in futures]
    outcome = BatchOutcome()
    for part in parts:
        outcome.results += part.results
        outcome.unreadable += part.unreadable
        outcome.hashes |= part.hashes
    batch_id = f"{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    refusals: list[Any] = []
    if inbox_root:
        outcome, refusals = _check_senders(outcome, inbox_root, catalog)
    if outcome.results or refusals:
        if outcome.results:
            outcome = check_outliers(quote(outcome), str(wh), catalog)
        refused = [r.audit() for r in refusals]
        stage_batch(quote(outcome), str(stage_dir), batch_id, received_at, refused)
    loaded = load_warehouse(str(stage_dir), str(wh), catalog, actor)
    mine = [o for o in loaded if o["batch"] == batch_id]
    write_outbox(str(out_dir), quote(outcome), quote(mine), catalog)
    if refusals:
        from validations.authority import write_refusals

        write_refusals(out_dir, refusals, load_catalog(catalog))
    if archive:
        _archive(files, outcome, Path(archive) / batch_id)
    subs = [
        {
            "file": o["file_name"],
            "unit_code": o["unit_code"],
            "period": o["period"],
            "version": o["version"],
            "status": o["status"],
            "duplicate": o["duplicate"],
            "superseded": o["superseded"],
        }
        for o in mine
    ]
    return {
        "batch_id": batch_id,
        "files": len(files),
        "submissions": subs,
        "unreadable": [u.to_dict() for u in outcome.unreadable],
        "refused": [r.to_dict() for r in refusals],
        "other_batches_loaded": sorted({o["batch"] for o in loaded} - {batch_id}),
        "warehouse": str(wh),
        "outbox": str(out_dir),
    }


DASK_ENV = "TONGHOP_DASK_ADDRESS"
_LEADING_CODE = re.compile(r"^(\d{1,5})(?:\D|$)")


def province_batches(files: list[str], batch_size: int) -> list[list[str]]:
    """The files grouped by province (from the unit code their name starts with, as
    `tonghop template` and the samples name them: 03386_2024-06.csv), in batches of at most
    `batch_size`; files whose name gives no known unit form their own group. Files keep their
    order within a group, so two versions of one report stay in the order they were given."""
    units = load_units()
    groups: dict[str, list[str]] = {}
    for f in files:
        m = _LEADING_CODE.match(Path(f).name)
        cands = units.pad(m[1]) if m else []
        unit = units.get(cands[0]) if cands else None
        groups.setdefault(unit.province_code if unit else "", []).append(f)
    return [g[i : i + batch_size] for g in groups.values() for i in range(0, len(g), batch_size)]


def _validate_on_dask(
    address: str, chunks: list[list[str]], catalog: str | None
) -> list[BatchOutcome]:
    """validate-batch tasks on the Dask cluster at `address`; their outcomes, in order."""
    from prefect_dask import DaskTaskRunner

    with DaskTaskRunner(address=address) as runner:
        futures = [runner.submit(validate_batch, {"paths": c, "catalog": catalog}) for c in chunks]
        return [f.result() for f in futures]


def _check_senders(
    outcome: BatchOutcome, inbox_root: str, catalog: str | None
) -> tuple[BatchOutcome, list[Any]]:
    """Refuse the files whose sender (their inbox folder) may not deliver the unit they name."""
    from validations.authority import Inbox, check_senders

    kept, refusals = check_senders(outcome, Inbox(inbox_root, load_units()), load_catalog(catalog))
    log = get_run_logger()
    for r in refusals:
        log.warning("refused (%s): %s", r.rule_id, r.audit()["detail"])
    return kept, refusals


def _archive(files: list[str], outcome: BatchOutcome, dest: Path) -> None:
    """Move processed files out of the inbox (only after the warehouse load succeeded)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        src = Path(f)
        if src.exists():
            shutil.move(str(src), dest / src.name)
