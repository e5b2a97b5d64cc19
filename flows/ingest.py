"""ingest_submissions: the ingest run of tonghop.service.ingest, each step a Prefect task.

The sequence is written once, in service/ingest.py (`tonghop ingest --no-prefect` and the
portal run it too); this module only adds what Prefect gives: each step a task with its
retries, logs in the UI, deployments. Validation runs in worker processes
(warehouse.reading.Workers), or, given a Dask scheduler address (`dask_address`, else
$TONGHOP_DASK_ADDRESS), one `validate-batch` task per province on that cluster
(prefect_dask.DaskTaskRunner, `DaskReading`). Staging, the single warehouse load and the
reports always stay in the flow's own process. Large values are handed to the tasks `quote`d
and the tasks keep no cache key: Prefect would otherwise walk and hash 10,000 results at every
call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task

import flows  # noqa: F401  (Prefect defaults)
from flows.tasks import TaskSteps
from service import ingest as service
from validations.catalog import load_catalog
from validations.intake import BatchOutcome, validate_paths
from validations.validator import Validator
from warehouse.arrival import listed_hashes
from warehouse.ingest_settings import IngestSettings
from warehouse.reading import ReadOutcome, check_read, in_arrival_order, merge, province_groups

STEPS = TaskSteps(service.STEPS)
read_files = STEPS.tasks[service.READ.name]
stage_batch = STEPS.tasks[service.STAGE.name]
load_warehouse = STEPS.tasks[service.LOAD.name]
write_reports = STEPS.tasks[service.ANSWER.name]
archive_files = STEPS.tasks[service.ARCHIVE.name]


@task(name="validate-batch", retries=1, retry_delay_seconds=2)
def validate_batch(paths: list[str], catalog: str | None = None) -> BatchOutcome:
    """Read and validate a batch of files in one vectorised pass (on a Dask worker)."""
    return validate_paths(list(paths), Validator(catalog=load_catalog(catalog)))


class DaskReading:
    """The reading runner on a Dask cluster: one `validate-batch` task per province (its
    files), then `check_read` (changed files, senders, outliers) in the flow's process."""

    reporters = None  # the reports are written in the flow's process

    def __init__(self, address: str, catalog: str | None = None) -> None:
        self.address = address
        self.catalog = catalog

    def read(
        self, files: list[str], settings: IngestSettings, log: logging.Logger | None = None
    ) -> ReadOutcome:
        listed = listed_hashes(files)
        chunks = province_batches(files, settings.batch_size)
        if log is not None:
            log.info(
                "ingest: %d files in %d batches on Dask %s", len(files), len(chunks), self.address
            )
        outcome = in_arrival_order(
            merge(_validate_on_dask(self.address, chunks, self.catalog)), files
        )
        return check_read(outcome, listed, settings, log)

    def close(self) -> None:
        pass


@flow(name="ingest-submissions", version="3")
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
    address = dask_address or os.environ.get(DASK_ENV) or None
    reading = DaskReading(address, catalog) if address else None
    summary = service.ingest(paths, settings, reading=reading, runner=STEPS, log=get_run_logger())
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


def province_batches(files: list[str], batch_size: int) -> list[list[str]]:
    """The files grouped by province (warehouse.reading.province_groups: from the unit code
    their name, or their sender folder, starts with), in batches of at most `batch_size`.
    Files keep their order within a group, so two versions of one report stay in order."""
    return [
        g[i : i + batch_size]
        for g in province_groups(files).values()
        for i in range(0, len(g), batch_size)
    ]


def _validate_on_dask(
    address: str, chunks: list[list[str]], catalog: str | None
) -> list[BatchOutcome]:
    """validate-batch tasks on the Dask cluster at `address`; their outcomes, in order."""
    from prefect_dask import DaskTaskRunner

    with DaskTaskRunner(address=address) as runner:
        futures = [runner.submit(validate_batch, {"paths": c, "catalog": catalog}) for c in chunks]
        return [f.result() for f in futures]
