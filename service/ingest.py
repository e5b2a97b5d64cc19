"""Ingest: the one sequence that stores files and answers their senders.

files in arrival order -> read (validate, changed files, senders, outliers and last year's
figures) -> stage (immutable Parquet) -> load (the single writer, with the re-consolidation of
what changed) -> answers (each submitter's report) -> archive -> the run's summary.

The steps are warehouse/ functions; this module only orders them. Two things vary by shell:
- the *reading* runner: `warehouse.reading.Workers` (worker processes, the CLI and the flow),
  `flows.ingest.DaskReading` (a Dask cluster), the portal's warm validator
  (`tonghop.portal.checker.Checker.reading`): each has `read(files, settings, log)` and
  `reporters` (the processes that write the reports, or None);
- the *steps* runner (service.steps): each step called here, or, in the flow, each step a
  Prefect task with its retries.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from service.steps import Step, Steps
from validations.catalog import load_catalog
from validations.intake import BatchOutcome
from warehouse import ingest as steps
from warehouse.access import WarehouseFile
from warehouse.arrival import ARRIVAL_ORDER, find_files
from warehouse.ingest_settings import IngestSettings
from warehouse.reading import ReadOutcome, Workers

LOG = logging.getLogger("tonghop.ingest")


class Reading(Protocol):
    """How a run's files are read and checked."""

    def read(
        self, files: list[str], settings: IngestSettings, log: logging.Logger | None = None
    ) -> ReadOutcome: ...

    @property
    def reporters(self) -> Workers | None: ...


READ = Step("read-files", retries=1)
STAGE = Step("stage-batch", retries=2)
LOAD = Step("load-warehouse", on_lock=True)
ANSWER = Step("write-reports")
ARCHIVE = Step("archive-files")
STEPS = (READ, STAGE, LOAD, ANSWER, ARCHIVE)


def ingest(
    paths: list[str | Path],
    settings: IngestSettings,
    reading: Reading | None = None,
    wh: WarehouseFile | None = None,
    runner: Steps | None = None,
    log: logging.Logger | logging.LoggerAdapter | None = None,  # type: ignore[type-arg]
) -> dict[str, Any]:
    """The whole ingest run; returns its summary (what `tonghop ingest --json` prints).

    The files are judged by the settings' catalog (`catalog`: a file, else $TONGHOP_CATALOG,
    else the national default form), read as `validate --catalog` reads it: a bad one is
    refused before any file is touched, in the same words.
    `reading`: the reading runner (default: worker processes, one per core, started while
    the files are hashed); `wh`: how the warehouse is written (default: the settings' file);
    `runner`: how each step runs (default: here)."""
    log = log or LOG
    load_catalog(settings.catalog)  # refused before any file is touched, as `validate` says it
    runner = runner or Steps()
    wh = wh or steps.warehouse_file(settings, retry=runner.retry_on_lock)
    files = find_files(list(paths), log)  # type: ignore[arg-type]
    log.info("ingest: %d files (%s), batches of %d", len(files), ARRIVAL_ORDER, settings.batch_size)
    own = reading is None
    reading = reading or Workers.for_files(settings, files)  # they start while files are hashed
    try:
        read = (
            runner.run(READ, reading.read, files, settings, log)
            if files
            else ReadOutcome(BatchOutcome(), [], [])
        )
        batch_id = steps.new_batch_id()
        runner.run(STAGE, steps.stage, read.outcome, settings, batch_id, read.refusals)
        loaded = runner.run(LOAD, steps.load_pending, settings, batch_id, wh)
        runner.run(
            ANSWER,
            steps.write_answers,
            settings,
            read.outcome,
            loaded,
            read.refusals,
            batch_id,
            None,
            reading.reporters,
        )
    finally:
        if own:
            reading.close()  # type: ignore[attr-defined]
    summary = steps.summarise(
        settings, batch_id, files, read.outcome, read.refusals, loaded, read.changed
    )
    if settings.archive is not None:
        summary["archive"] = runner.run(
            ARCHIVE, steps.archive, settings, batch_id, files, read.listed, summary
        )
    else:
        summary["archive"] = None
    return summary
