"""ingest_submissions: the ingest run of warehouse/ingest.py, each step a Prefect task.

The steps themselves are plain functions (warehouse.ingest; `tonghop ingest --no-prefect` runs
them without Prefect): files in arrival order -> read + validate -> senders -> outliers ->
immutable staging Parquet -> the single warehouse writer -> each submitter's answer -> archive.
This module only adds what Prefect gives: tasks with retries, logs in the UI, deployments.

Validation runs in worker processes (validations.intake.validate_parallel, vectorised batches
over the cores; the thread pool would keep it on one core), or, given a Dask scheduler address
(`dask_address`, else $TONGHOP_DASK_ADDRESS), one `validate-batch` task per province on that
cluster (prefect_dask.DaskTaskRunner). Staging, the single warehouse load and the reports always
stay in the flow's own process. Large values are handed to the next task `quote`d and those
tasks keep no cache key: Prefect would otherwise walk and hash 10,000 results at every call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

import flows  # noqa: F401  (Prefect defaults)
from flows.settings import retry_if_locked
from validations.catalog import load_catalog
from validations.intake import BatchOutcome, validate_paths
from validations.units import load_units
from validations.validator import Validator
from warehouse import ingest as steps
from warehouse.ingest import IngestSettings


@task(name="validate-batch", retries=1, retry_delay_seconds=2)
def validate_batch(paths: list[str], catalog: str | None = None) -> BatchOutcome:
    """Read and validate a batch of files in one vectorised pass (on a Dask worker)."""
    return validate_paths(list(paths), Validator(catalog=load_catalog(catalog)))


@task(name="read-files", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_files(
    files: list[str], settings: IngestSettings, workers: steps.Workers
) -> steps.ReadOutcome:
    """Hash the files as listed, read, validate, check senders and outliers
    (warehouse.ingest.read_files): whole provinces per vectorised batch, the batches over the
    cores in the worker processes, which start while the files are hashed."""
    return steps.read_files(list(files), None, settings, get_run_logger(), workers)


@task(name="outliers", cache_policy=NO_CACHE)
def check_outliers(outcome: BatchOutcome, warehouse: str, catalog: str | None) -> BatchOutcome:
    """Outlier warnings against the warehouse opened read-only (warehouse.ingest.add_outliers):
    skipped with a logged warning without a warehouse, while another process writes it, or on
    any error; never fails the ingest."""
    settings = IngestSettings.resolve(warehouse, catalog=catalog)
    return steps.add_outliers(outcome, settings, get_run_logger())


@task(name="stage-batch", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def stage_batch(
    outcome: BatchOutcome, settings: IngestSettings, batch_id: str, refusals: list[Any]
) -> str | None:
    """Write the batch's accepted and rejected submissions to immutable Parquet files."""
    path = steps.stage(outcome, settings, batch_id, refusals)
    return str(path) if path else None


@task(
    name="load-warehouse",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=retry_if_locked,
    cache_policy=NO_CACHE,
)
def load_warehouse(settings: IngestSettings, batch_id: str) -> list[dict[str, Any]]:
    """The single writer: load every pending staging batch, each in one transaction."""
    return steps.load_pending(settings, batch_id)


@task(name="write-reports", cache_policy=NO_CACHE)
def write_outbox(
    settings: IngestSettings,
    outcome: BatchOutcome,
    loaded: list[dict[str, Any]],
    refusals: list[Any],
    batch_id: str,
    workers: steps.Workers | None = None,
) -> int:
    """Each submitter's HTML and JSON report (this run's, in the worker processes, and the
    late-loaded batches'), the unreadable files' messages and the refused files' reports."""
    return steps.write_answers(settings, outcome, loaded, refusals, batch_id, workers=workers)


@task(name="archive-files", cache_policy=NO_CACHE)
def archive_files(
    settings: IngestSettings,
    batch_id: str,
    files: list[str],
    listed: dict[str, str],
    summary: dict[str, Any],
) -> dict[str, Any] | None:
    """Move the answered files to <archive>/<batch_id>/<sender>/<name>, with a manifest."""
    return steps.archive(settings, batch_id, files, listed, summary)


@flow(name="ingest-submissions", version="2")
def ingest_submissions(
    paths: list[str],
    warehouse: str | None = None,
    staging: str | None = None,
    outbox: str | None = None,
    batch_size: int = 1000,
    received_at: dict[str, datetime] | datetime | None = None,
    archive: str | None = None,
    catalog: str | None = None,
    actor: str = "ingest",
    inbox_root: str | None = None,
    dask_address: str | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Ingest submission files (or folders of them) into the warehouse and answer submitters.

    Files are taken in arrival order (modification time, then name). With `inbox_root`, each
    file's sender is its folder under it (validations/authority.py): a file naming a unit that
    is not the sender's own nor below it is refused, not stored. With `archive`, answered files
    move to <archive>/<batch_id>/<sender>/<name>. With `dask_address` (or
    $TONGHOP_DASK_ADDRESS), e.g. "tcp://10.0.0.5:8786", the validation batches run on that Dask
    cluster, one per province; otherwise in `workers` processes (default: one per core)."""
    log = get_run_logger()
    settings = IngestSettings.resolve(
        warehouse,
        staging,
        outbox,
        archive=archive,
        inbox_root=inbox_root,
        catalog=catalog,
        actor=actor,
        batch_size=batch_size,
        workers=workers,
        received_at=received_at,
    )
    files = steps.find_files(list(paths), log)
    address = dask_address or os.environ.get(DASK_ENV) or None
    # the worker processes start now, while the files are hashed, and write the reports
    with steps.Workers.for_files(settings, files if not address else []) as workers:
        if address:
            listed = steps.listed_hashes(files)
            chunks = province_batches(files, batch_size)
            log.info("ingest: %d files in %d batches on Dask %s", len(files), len(chunks), address)
            outcome = steps.in_arrival_order(
                steps.merge(_validate_on_dask(address, chunks, catalog)), files
            )
            outcome, changed = steps.settle_reads(outcome, listed)
            for f in changed:
                log.warning("ingest: %s changed while it was read: left for the next run", f)
            outcome, refusals = steps.check_senders(outcome, settings, log)
            if outcome.results:
                outcome = check_outliers(quote(outcome), str(settings.warehouse), catalog)
        else:
            log.info(
                "ingest: %d files (%s), batches of %d", len(files), steps.ARRIVAL_ORDER, batch_size
            )
            read = (
                read_files(quote(files), quote(settings), quote(workers))
                if files
                else steps.ReadOutcome(BatchOutcome(), [], [])
            )
            outcome, changed, refusals = read.outcome, read.changed, read.refusals
            listed = read.listed
        batch_id = steps.new_batch_id()
        stage_batch(quote(outcome), quote(settings), batch_id, quote(refusals))
        loaded = load_warehouse(quote(settings), batch_id)
        write_outbox(
            quote(settings),
            quote(outcome),
            quote(loaded),
            quote(refusals),
            batch_id,
            quote(workers),
        )
    summary = steps.summarise(settings, batch_id, files, outcome, refusals, loaded, changed)
    if settings.archive is not None:
        summary["archive"] = archive_files(
            quote(settings), batch_id, quote(files), quote(listed), quote(summary)
        )
    return RunSummary(summary)


class RunSummary(Mapping[str, Any]):
    """The run's summary (warehouse.ingest.summarise) as a read-only mapping: `res["submissions"]`,
    `dict(res)`. Prefect walks a flow's returned dict or list item by item looking for futures
    (half a second for the 10,794 rows of a national month); a Mapping that is not a dict it
    leaves alone."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"RunSummary({self._data!r})"


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
