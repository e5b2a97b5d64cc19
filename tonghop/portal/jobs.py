"""Runs the portal starts: storing delivered uploads (ingest) and consolidating a period.

Where a run happens depends on the ingest mode (`tonghop serve --ingest`):
- `deployment` (the default when $PREFECT_API_URL names a Prefect server): a run of the
  `ingest-inbox` deployment is created at once for the delivered file (its path, the inbox root,
  the archive and the time it was received as parameters), and a consolidation is a run of
  `consolidate-on-demand`; a Prefect worker executes them and the page shows the run's state;
- `schedule`: nothing is started; the `ingest-inbox` schedule (every 15 minutes) stores the file;
- `inline` (the default without Prefect): the portal stores the files itself, in its background
  worker (tonghop.portal.worker, or a thread of the web process), which takes every upload
  waiting (so a burst of uploads is one batch), with the same library steps as the ingest flow:
  validate (the warm validator), sender check, outlier check, staging Parquet, the
  single-writer load, the submitters' reports, the archive. It publishes a warehouse snapshot
  right after its commit. While another process writes the warehouse it retries (2, 5, 15 s),
  then gives the uploads back and tries again BUSY_PAUSE seconds later.
Whichever way, the pages learn that a file is stored from the warehouse (its content hash in
fct_submission), never from the run alone.

Inline uploads and consolidations are claimed rows of the portal's database
(tonghop.portal.claims): whatever a process that died had taken is taken again by the next
worker that looks, an upload resumed without being stored twice (tonghop.portal.recovery), and
work that killed its worker MAX_ATTEMPTS times is given up with a message saying so.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from service.consolidation import consolidate
from service.ingest import ingest
from service.steps import Step, Steps
from tonghop.portal import testpoints
from tonghop.portal.checker import Checker
from tonghop.portal.claims import Claims, Taken
from tonghop.portal.database import Database, stamp
from tonghop.portal.reader import SnapshotWarehouse
from tonghop.portal.recovery import JobError, Recovery, failure
from tonghop.portal.settings import PortalSettings
from tonghop.portal.uploads import Upload, Uploads
from validations.errors import TonghopError, error_record
from validations.validator import default_today
from warehouse.db import WarehouseLockedError
from warehouse.ingest_settings import IngestSettings

log = logging.getLogger("tonghop.portal")
RETRY_DELAYS = (2.0, 5.0, 15.0)
BUSY_PAUSE = 30.0  # seconds before uploads given back on a busy warehouse are tried again
IDLE = 5.0  # seconds between looks for work left waiting (the thread mode)
T = TypeVar("T")


class KillPoints(Steps):
    """The ingest's steps, each between two test points (tonghop.portal.testpoints)."""

    def __init__(self, names: list[str]):
        self.names = names

    def run(self, step: Step, fn: Callable[..., T], *args: Any) -> T:
        testpoints.point(f"ingest:before:{step.name}", self.names)
        out = fn(*args)
        testpoints.point(f"ingest:after:{step.name}", self.names)
        return out


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
        self.upload_claims = Claims(
            db, "uploads", "ingest_state", "inbox_path IS NOT NULL", "ingest_detail"
        )
        self.job_claims = Claims(db, "jobs", "state", "mode = 'inline'")
        self.recovery = Recovery(db, uploads, self._writer(), self._ingest_settings)
        self._wake: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.retry_delays = RETRY_DELAYS
        self._busy_until = 0.0

    @property
    def mode(self) -> str:
        return self.settings.ingest_mode

    # --- lifecycle (the thread mode: the web process does its own background work) -----------
    def start(self) -> None:
        """The background thread; it first takes whatever was left waiting (a restart)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
            self._thread.start()
            self._wake.put("start")

    def stop(self) -> None:
        if self._thread is not None:
            self._wake.put(None)
            self._thread.join(timeout=30)
        self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                why = self._wake.get(timeout=IDLE)
            except queue.Empty:
                why = "idle"
            if why is None:
                return
            if why == "upload":
                time.sleep(0.2)  # let a burst of uploads arrive: one batch, one load
            stop = False
            while not self._wake.empty():  # one round for every wake-up waiting
                if self._wake.get_nowait() is None:
                    stop = True
            self.work()
            if stop:
                return

    def work(self) -> None:
        """One round of the background work: the uploads waiting, then the consolidations.
        Never raises (a failure is the upload's or the job's state)."""
        try:
            if time.monotonic() >= self._busy_until:
                self.ingest_now()
        except Exception:  # the loop never dies
            log.exception("in-process ingest failed")
        try:
            self.consolidate_waiting()
        except Exception:
            log.exception("consolidation failed")

    # --- ingest --------------------------------------------------------------------------------
    def ingest(self, upload: Upload) -> None:
        """Have a delivered upload stored, the way the mode says."""
        if not upload.delivered:
            return
        mode = self.mode
        if mode == "inline":
            if self.settings.worker == "process":
                return  # left `queued`: the worker process takes it (tonghop.portal.worker)
            if self._thread is None:
                self.start()
            self._wake.put("upload")
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

    def waiting(self) -> bool:
        """Whether an upload waits to be stored (queued, or taken by a process that died)."""
        return bool(self.upload_claims.claimable())

    def ingest_now(self, ids: list[int] | None = None) -> dict[str, Any] | None:
        """Store the delivered uploads waiting (of `ids`, or all) in this thread (the inline
        mode): those a dead process had taken first, resumed one at a time (so that a death
        while resuming counts against that upload alone: tonghop.portal.recovery), then those
        queued, in one batch. The batch's summary, if one ran."""
        for orphan in self.upload_claims.orphaned(ids):
            self._resume(self.upload_claims.take([orphan]))
        taken = self.upload_claims.take(ids)
        if not taken:
            return None
        self._resume([t for t in taken if t.retried])  # died meanwhile
        fresh = [u for t in taken if not t.retried and (u := self.uploads.get(t.id))]
        testpoints.point("ingest:claimed", [u.inbox_path or "" for u in fresh])
        return self._store_batch(fresh) if fresh else None

    def _resume(self, taken: list[Taken]) -> None:
        again = [(u, t) for t in taken if (u := self.uploads.get(t.id))]
        if not again:
            return
        try:
            self.recovery.resume(again, self._store_batch)
        except WarehouseLockedError as exc:
            self._busy([u for u, _ in again], exc)
        except Exception as exc:
            log.exception("resuming uploads failed")
            self.uploads.set_state([u.id for u, _ in again], "failed", failure(exc))

    def _store_batch(self, ups: list[Upload]) -> dict[str, Any] | None:
        """Ingest these uploads (taken by this process) in one batch."""
        here = [u for u in ups if u.inbox_path and Path(u.inbox_path).is_file()]
        for up in ups:
            if up not in here:  # delivered, then gone: stored meanwhile, or lost
                row = self.recovery.stored(up)
                if row is not None:
                    self.recovery.finish(up, row)
                else:
                    detail = error_record(JobError("job.file_gone", upload=up.id))
                    self.uploads.set_state([up.id], "failed", detail)
        if not here:
            return None
        names = [u.inbox_path or "" for u in here]
        for delay in (*self.retry_delays, None):
            try:
                res = self._store([Path(n) for n in names], here)
            except WarehouseLockedError as exc:
                if delay is None:
                    self._busy(here, exc)
                    return None
                time.sleep(delay)
                continue
            except Exception as exc:
                log.exception("ingest of uploads %s failed", [u.id for u in here])
                self.uploads.set_state([u.id for u in here], "failed", failure(exc))
                return None
            testpoints.point("ingest:stored", names)
            self._record(here, res)
            return res
        return None

    def _busy(self, ups: list[Upload], exc: Exception) -> None:
        """The warehouse stayed locked: give the uploads back, try again in BUSY_PAUSE s."""
        detail = error_record(JobError("job.busy", pause=int(BUSY_PAUSE)))
        self.upload_claims.give_back([u.id for u in ups], detail)
        self._busy_until = time.monotonic() + BUSY_PAUSE
        log.warning("warehouse busy: %d upload(s) wait %.0f s: %s", len(ups), BUSY_PAUSE, exc)

    def _record(self, ups: list[Upload], res: dict[str, Any]) -> None:
        """Each upload's state from the run's summary: loaded, or failed with why when the
        run read the file and did not store it (unreadable, or refused to its sender)."""
        why: dict[str, str] = {}
        for u in res.get("unreadable") or []:
            why[str(u.get("file"))] = "job.not_stored.unreadable"
        for r in res.get("refused") or []:
            why[str(r.get("file"))] = "job.not_stored.refused"
        for up in ups:
            code = why.get(up.inbox_path or "")
            if code is not None:
                detail = JobError(code, upload=up.id)
                self.uploads.set_state([up.id], "failed", error_record(detail))
            else:
                self.uploads.set_state([up.id], "loaded", res["batch_id"])

    def _ingest_settings(self, ups: list[Upload]) -> IngestSettings:
        s = self.settings
        return IngestSettings.resolve(
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

    def _writer(self) -> SnapshotWarehouse:
        """The warehouse as this runner writes it (no lock retries: the runner retries)."""
        return SnapshotWarehouse(self.wh.reader, self.wh.catalog, self.wh.units, ())

    def _store(self, paths: list[Path], ups: list[Upload]) -> dict[str, Any]:
        """The ingest run (service.ingest, as `tonghop ingest` and the flow run it), the files
        read by the warm validator and judged against the snapshot; the load publishes a new
        snapshot right after its commit. WarehouseLockedError while another process writes."""
        once = self._writer()
        return ingest(
            [str(p) for p in paths],
            self._ingest_settings(ups),
            reading=self.checker.reading(once),
            wh=once,
            runner=KillPoints([str(p) for p in paths]),
            log=log,
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
            if self._thread is None:
                self.start()
            self._wake.put("job")
        return int(job_id)  # type: ignore[arg-type]

    def queued_jobs(self) -> list[int]:
        """Inline consolidation jobs waiting: queued, or taken by a process that died."""
        return self.job_claims.claimable()

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

    def consolidate_waiting(self) -> None:
        """Run every inline consolidation waiting, one at a time."""
        for t in self.job_claims.take():
            self._consolidate(t)

    def consolidate_now(self, job_id: int) -> None:
        """Consolidate this job now, in this thread, if it waits."""
        for t in self.job_claims.take([job_id]):
            self._consolidate(t)

    def _consolidate(self, t: Taken) -> None:
        """Consolidate in this thread (the inline mode): service.consolidation, the same
        sequence as the consolidate flow (the quality checkpoint included), then a snapshot.
        Consolidating again is harmless (the period's rollup is rebuilt whole), so a job a
        dead process had taken is simply run again, unless it killed MAX_ATTEMPTS workers."""
        job = self.job(t.id)
        assert job is not None
        testpoints.point("consolidate:claimed")
        if t.exhausted:
            why = JobError("job.consolidation_gave_up", n=t.attempts - 1)
            self._job_state(t.id, "failed", error_record(why))
            self.db.audit(
                "portal", "consolidate_failed", job["unit_code"], job["period"], f"job {t.id}"
            )
            return
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
            self._job_state(t.id, "failed", error_record(exc))
            return
        except Exception as exc:
            log.exception("consolidation job %s failed", t.id)
            self._job_state(t.id, "failed", failure(exc))
            return
        testpoints.point("consolidate:done")
        counts = {
            "received": res["received"],
            "expected": res["expected"],
            "issues": len(res["issues"]),
        }
        self._job_state(t.id, "completed", json.dumps(counts))
        self.db.audit(job["actor"], "consolidate", job["unit_code"], job["period"], f"job {t.id}")


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
