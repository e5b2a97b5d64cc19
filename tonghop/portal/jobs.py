"""Runs the portal starts: storing delivered uploads (ingest) and consolidating a period.

Where a run happens depends on the ingest mode (`tonghop serve --ingest`):
- `deployment` (the default when $PREFECT_API_URL names a Prefect server): a run of the
  `ingest-inbox` deployment is created at once for the delivered file (its path, the inbox root,
  the archive and the time it was received as parameters), and a consolidation is a run of
  `consolidate-on-demand`; a Prefect worker executes them and the page shows the run's state;
- `schedule`: nothing is started; the `ingest-inbox` schedule (every 15 minutes) stores the file;
- `inline` (the default without Prefect): the portal stores the files itself, in one background
  thread that takes every file waiting (so a burst of uploads is one batch), with the same
  library steps as the ingest flow: validate (the warm validator), sender check, outlier check,
  staging Parquet, the single-writer load, the submitters' reports, the archive. It publishes a
  warehouse snapshot right after its commit. While another process writes the warehouse it
  retries (2, 5, 15 s), then leaves the files in the inbox for the scheduled ingest.
Whichever way, the pages learn that a file is stored from the warehouse (its content hash in
fct_submission), never from the run alone.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from service.consolidation import consolidate
from service.ingest import ingest
from tonghop.portal.checker import Checker
from tonghop.portal.database import Database, stamp
from tonghop.portal.reader import SnapshotWarehouse
from tonghop.portal.settings import PortalSettings
from tonghop.portal.uploads import Upload, Uploads
from validations.errors import TonghopError, error_record
from validations.validator import default_today
from warehouse.db import WarehouseLockedError
from warehouse.ingest_settings import IngestSettings

log = logging.getLogger("tonghop.portal")
RETRY_DELAYS = (2.0, 5.0, 15.0)


class Runner:
    """Starts and tracks ingest and consolidation runs."""

    def __init__(
        self,
        settings: PortalSettings,
        db: Database,
        uploads: Uploads,
        checker: Checker,
        wh: SnapshotWarehouse,
    ):
        self.settings = settings
        self.db = db
        self.uploads = uploads
        self.checker = checker
        self.wh = wh
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._jobs: queue.Queue[int | None] = queue.Queue()
        self._job_thread: threading.Thread | None = None
        self.retry_delays = RETRY_DELAYS

    @property
    def mode(self) -> str:
        return self.settings.ingest_mode

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._ingest_loop, name="ingest", daemon=True)
            self._thread.start()
        if self._job_thread is None:
            self._job_thread = threading.Thread(target=self._job_loop, name="jobs", daemon=True)
            self._job_thread.start()
        if self.mode == "inline":  # files delivered before a restart
            for up in self.uploads.waiting():
                self._queue.put(up.id)

    def stop(self) -> None:
        for q, t in ((self._queue, self._thread), (self._jobs, self._job_thread)):
            if t is not None:
                q.put(None)
                t.join(timeout=30)
        self._thread = self._job_thread = None

    # --- ingest --------------------------------------------------------------------------------
    def ingest(self, upload: Upload) -> None:
        """Have a delivered upload stored, the way the mode says."""
        if not upload.delivered:
            return
        mode = self.mode
        if mode == "inline":
            if self.settings.worker == "process":
                return  # left `queued`: the worker process takes it (tonghop.portal.worker)
            self._queue.put(upload.id)
            if self._thread is None:
                self.start()
        elif mode == "schedule":
            self.uploads.set_state([upload.id], "scheduled")
        else:
            self._ingest_deployment(upload)

    def _ingest_deployment(self, upload: Upload) -> None:
        params = {
            "paths": [upload.inbox_path],
            "inbox_root": str(self.settings.inbox),
            "archive": str(self.settings.archive),
            "outbox": str(self.settings.outbox),
            "warehouse": str(self.settings.warehouse),
            "received_at": {upload.inbox_path: upload.received.isoformat()},
            **({"catalog": self.settings.catalog} if self.settings.catalog else {}),
        }
        try:
            run_id = _run_deployment(self.settings.ingest_deployment, params)
        except Exception as exc:  # no server, no deployment: the schedule will store it
            self.uploads.set_state([upload.id], "scheduled", error_record(exc))
            return
        self.uploads.set_state([upload.id], "submitted", None, run_id)

    def _ingest_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            time.sleep(0.2)  # let a burst of uploads arrive: one batch, one load
            ids = [first]
            stop = False
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                ids.append(more)
            try:
                self.ingest_now(sorted(set(ids)))
            except Exception as exc:  # the loop never dies
                log.exception("in-process ingest failed")
                self.uploads.set_state(ids, "failed", error_record(exc))
            if stop:
                return

    def ingest_now(self, ids: list[int]) -> dict[str, Any] | None:
        """Store these delivered uploads in one batch, in this thread (the inline mode)."""
        ups = [u for u in (self.uploads.get(i) for i in ids) if u and u.inbox_path]
        ups = [u for u in ups if Path(u.inbox_path).exists()]  # type: ignore[arg-type]
        if not ups:
            return None
        self.uploads.set_state([u.id for u in ups], "running")
        for delay in (*self.retry_delays, None):
            try:
                res = self._store([Path(u.inbox_path) for u in ups], ups)  # type: ignore[arg-type]
            except WarehouseLockedError as exc:
                if delay is None:
                    self.uploads.set_state(
                        [u.id for u in ups],
                        "scheduled",
                        f"{exc} The file stays in the inbox for the scheduled ingest.",
                    )
                    return None
                time.sleep(delay)
                continue
            self.uploads.set_state([u.id for u in ups], "loaded", res["batch_id"])
            return res
        return None

    def _store(self, paths: list[Path], ups: list[Upload]) -> dict[str, Any]:
        """The ingest run (service.ingest, as `tonghop ingest` and the flow run it), the files
        read by the warm validator and judged against the snapshot; the load publishes a new
        snapshot right after its commit. WarehouseLockedError while another process writes."""
        s = self.settings
        settings = IngestSettings.resolve(
            s.warehouse,
            s.staging,
            s.outbox,
            archive=s.archive,
            inbox_root=s.inbox,
            catalog=s.catalog,
            actor="portal",
            received_at={u.inbox_path: u.received for u in ups},
            workers=1,
        )
        once = SnapshotWarehouse(self.wh.reader, self.wh.catalog, self.wh.units, ())
        return ingest(
            [str(p) for p in paths], settings, reading=self.checker.reading(once), wh=once, log=log
        )

    # --- consolidation -------------------------------------------------------------------------
    def consolidate(self, unit_code: str, period: str, actor: str) -> int:
        """Start consolidating (period, unit); the job's id (its state is shown on the grid)."""
        mode = "inline" if self.mode in ("inline", "schedule") else "deployment"
        with self.db.connect() as con:
            job_id = con.execute(
                "INSERT INTO jobs (kind, unit_code, period, actor, mode, state, created_at)"
                " VALUES ('consolidate', ?, ?, ?, ?, 'queued', ?)",
                [unit_code, period, actor, mode, stamp()],
            ).lastrowid
        if mode == "deployment":
            params = {
                "periods": [period],
                "unit_code": unit_code,
                "warehouse": str(self.settings.warehouse),
                "actor": actor,
                **({"catalog": self.settings.catalog} if self.settings.catalog else {}),
            }
            try:
                run_id = _run_deployment(self.settings.consolidate_deployment, params)
                self._job_state(job_id, "submitted", None, run_id)
            except Exception as exc:
                self._job_state(job_id, "failed", error_record(exc))
        elif self.settings.worker != "process":  # else the worker process takes it
            self._jobs.put(int(job_id))  # type: ignore[arg-type]
            if self._job_thread is None:
                self.start()
        return int(job_id)  # type: ignore[arg-type]

    def queued_jobs(self) -> list[int]:
        """Inline consolidation jobs nobody has started yet."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT id FROM jobs WHERE state = 'queued' AND mode = 'inline' ORDER BY id"
            ).fetchall()
        return [r["id"] for r in rows]

    def job(self, job_id: int) -> dict[str, Any] | None:
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            return None
        job = dict(row)
        if job["mode"] == "deployment" and job["flow_run_id"] and job["state"] == "submitted":
            job["run_state"] = flow_run_state(job["flow_run_id"])
        return job

    def last_job(self, unit_code: str, period: str) -> dict[str, Any] | None:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT id FROM jobs WHERE unit_code = ? AND period = ? ORDER BY id DESC LIMIT 1",
                [unit_code, period],
            ).fetchone()
        return self.job(row["id"]) if row else None

    def _job_state(
        self, job_id: int, state: str, detail: str | None = None, run_id: str | None = None
    ) -> None:
        done = stamp() if state in ("completed", "failed") else None
        with self.db.connect() as con:
            con.execute(
                "UPDATE jobs SET state = ?, detail = ?, flow_run_id = coalesce(?, flow_run_id),"
                " finished_at = coalesce(?, finished_at) WHERE id = ?",
                [state, detail, run_id, done, job_id],
            )

    def _job_loop(self) -> None:
        while True:
            job_id = self._jobs.get()
            if job_id is None:
                return
            try:
                self.consolidate_now(job_id)
            except Exception as exc:
                log.exception("consolidation job %s failed", job_id)
                self._job_state(job_id, "failed", error_record(exc))

    def consolidate_now(self, job_id: int) -> None:
        """Consolidate in this thread (the inline mode): service.consolidation, the same
        sequence as the consolidate flow (the quality checkpoint included), then a snapshot."""
        job = self.job(job_id)
        assert job is not None
        self._job_state(job_id, "running")
        wh = SnapshotWarehouse(self.wh.reader, self.wh.catalog, self.wh.units, self.retry_delays)
        try:
            (res,) = consolidate(
                wh,
                [job["period"]],
                [job["unit_code"]],
                wh.catalog,  # type: ignore[arg-type]
                wh.units,  # type: ignore[arg-type]
                default_today(),
                actor=job["actor"],
            )
        except TonghopError as exc:  # refused (an approved period), or the file stayed locked
            self._job_state(job_id, "failed", error_record(exc))
            return
        counts = {
            "received": res["received"],
            "expected": res["expected"],
            "issues": len(res["issues"]),
        }
        self._job_state(job_id, "completed", json.dumps(counts))
        self.db.audit(job["actor"], "consolidate", job["unit_code"], job["period"], f"job {job_id}")


def _run_deployment(name: str, parameters: dict[str, Any]) -> str:
    """Create a run of a Prefect deployment now (no waiting); its id."""
    from prefect.deployments import run_deployment

    run = run_deployment(name=name, parameters=parameters, timeout=0)
    return str(run.id)


def flow_run_state(run_id: str) -> str | None:
    """The state name of a Prefect flow run (Scheduled, Running, Completed, Failed...)."""
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
        return run.state.name if run.state else None
    except Exception as exc:
        log.warning("flow run %s: %s", run_id, exc)
        return None


def when(ts: str | datetime | None) -> str:
    """'25/11/2026 10:21' for a stored timestamp."""
    if ts is None:
        return ""
    t = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return f"{t:%d/%m/%Y %H:%M}"
