"""What becomes of an upload taken again after the process storing it died (tonghop.portal.claims).

Running the ingest of a file again is almost harmless: the warehouse stores by content hash, and
the same content sent again is a duplicate, not a new version. Almost: the dead run may have
committed the version and died before archiving the file; its staging batch may be waiting to be
loaded, and a second batch of the same file would then be loaded after it (a version rejected
for a date rule is no precedent: a second version); and a file that kills its worker every time
would be taken for ever. So an upload taken again (`Taken.retried`) is looked up first, in the
warehouse as its writer just published it:

1. stored since it was received (by the run that died): that version stands; the file, if still
   in the inbox, is archived (`<archive>/<new batch>/<sender>/`); the upload is `loaded`;
2. taken more than MAX_ATTEMPTS times (poison: each earlier taker died holding it): its file is
   set aside (`<archive>/set-aside/<sender>/`), a staged batch holding it too
   (`<staging>/.set-aside-<batch>`, which no load takes), and the upload fails with
   `job.gave_up` for the submitter and the steward (the audit trail names the file);
3. staged by the run that died and not loaded: the pending batches are loaded now (the load
   step alone, with their late reports), then 1;
4. gone from the inbox and not stored: failed, `job.file_gone` (send it again);
5. otherwise: ingested again, alone, so that a poison file takes no other upload down with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from service import submissions
from tonghop.portal import testpoints
from tonghop.portal.claims import Taken
from tonghop.portal.database import Database
from tonghop.portal.reader import NoData, SnapshotWarehouse
from tonghop.portal.uploads import Upload, Uploads
from validations.errors import TonghopError, error_record
from validations.intake import BatchOutcome
from warehouse import ingest as steps
from warehouse.archive import archive_files
from warehouse.ingest_settings import IngestSettings
from warehouse.store import pending_batches

log = logging.getLogger("tonghop.portal")
SET_ASIDE = "set-aside"


class JobError(TonghopError, RuntimeError):
    """Background work that could not be done (one sentence saying why and what to do next)."""


def failure(exc: BaseException) -> str:
    """An upload's or job's failure as stored (error_record): never a bare exception text."""
    if isinstance(exc, TonghopError):
        return error_record(exc)
    return error_record(JobError("job.unexpected", detail=f"{type(exc).__name__}: {exc}"))


class Recovery:
    """Resumes uploads taken again after their process died."""

    def __init__(
        self,
        db: Database,
        uploads: Uploads,
        wh: SnapshotWarehouse,
        settings: Callable[[list[Upload]], IngestSettings],
    ):
        self.db = db
        self.uploads = uploads
        self.wh = wh
        self.settings = settings  # the ingest's settings for these uploads

    # --- looking up ----------------------------------------------------------------------------
    def stored(self, up: Upload) -> dict[str, Any] | None:
        """The version the upload's ingest stored (loaded since it was received), or None."""
        if not (up.unit_code and up.period and up.content_hash):
            return None
        try:
            with self.wh.reader.cursor() as cur:
                return submissions.stored_since(
                    cur, up.unit_code, up.period, up.content_hash, up.received
                )
        except NoData:
            return None

    def _pending(self, staging: Path) -> list[Path]:
        try:
            with self.wh.reader.cursor() as cur:
                return pending_batches(cur, staging)
        except NoData:
            return []

    # --- resuming ------------------------------------------------------------------------------
    def resume(
        self, taken: list[tuple[Upload, Taken]], store: Callable[[list[Upload]], object]
    ) -> None:
        """Each upload taken again, as the module's text says; `store([up])` ingests one."""
        testpoints.point("ingest:retry", [u.inbox_path or "" for u, _ in taken])
        self.wh.reader.refresh()  # the live file as the dead writer left it
        todo: list[Upload] = []
        for up, t in taken:
            if self._finish_if_stored(up):
                continue
            if t.exhausted:
                self.give_up(up, t.attempts - 1)
                continue
            todo.append(up)
        if not todo:
            return
        settings = self.settings(todo)
        if self._pending(settings.staging):
            self.land(settings)
        for up in todo:
            if self._finish_if_stored(up):
                continue
            if not Path(up.inbox_path or "").is_file():
                self.uploads.set_state(
                    [up.id], "failed", error_record(JobError("job.file_gone", upload=up.id))
                )
                self.db.audit("portal", "ingest_failed", up.unit_code, up.period, _line(up, "gone"))
                continue
            store([up])

    def land(self, settings: IngestSettings) -> None:
        """Load the staged batches nobody loaded (the run that staged them died), with their
        submitters' reports: the load step of an ingest, alone."""
        loaded = steps.load_pending(settings, None, self.wh)
        if loaded:
            steps.write_answers(settings, BatchOutcome(), loaded, [], "", self.wh.catalog)
            log.warning("loaded %d staged submission(s) a dead run left", len(loaded))

    def _finish_if_stored(self, up: Upload) -> bool:
        row = self.stored(up)
        if row is None:
            return False
        self.finish(up, row)
        return True

    def finish(self, up: Upload, row: dict[str, Any]) -> None:
        """The upload was stored by the run that died: archive its file if it is still in the
        inbox, and say so."""
        testpoints.point("ingest:finish", [up.inbox_path or ""])
        path = up.inbox_path or ""
        settings = self.settings([up])
        if Path(path).is_file() and settings.archive is not None:
            archive_files(
                [path],
                settings.archive,
                steps.new_batch_id(),
                {path: up.content_hash or ""},
                {path: str(row["status"])},
                inbox_root=settings.inbox_root,
            )
        self.uploads.set_state([up.id], "loaded", str(row.get("batch_id") or ""))
        log.warning("upload %s: found stored (version %s) after a restart", up.id, row["version"])

    # --- giving up -----------------------------------------------------------------------------
    def give_up(self, up: Upload, deaths: int) -> None:
        """Poison: set the file (and a staged batch holding it) aside, fail the upload."""
        settings = self.settings([up])
        path = up.inbox_path or ""
        where = ""
        if Path(path).is_file() and settings.archive is not None:
            res = archive_files(
                [path],
                settings.archive,
                SET_ASIDE,
                {path: up.content_hash or ""},
                {path: SET_ASIDE},
                inbox_root=settings.inbox_root,
            )
            where = str(res.folder / res.archived[0]["archived_as"]) if res.archived else ""
        for batch in self._staged_with(settings.staging, path):
            batch.rename(batch.with_name(f".{SET_ASIDE}-{batch.name}"))
        self.uploads.set_state(
            [up.id], "failed", error_record(JobError("job.gave_up", n=deaths, upload=up.id))
        )
        self.db.audit(
            "portal", "set_aside", up.unit_code, up.period, _line(up, f"set aside: {where}")
        )
        log.error("upload %s set aside after %d deaths of its worker: %s", up.id, deaths, where)

    def _staged_with(self, staging: Path, path: str) -> list[Path]:
        """Pending staged batches holding this file."""
        out = []
        for batch in self._pending(staging):
            try:
                with duckdb.connect() as con:
                    n = con.execute(
                        "SELECT count(*) FROM read_parquet(?) WHERE file_name = ?",
                        [str(batch / "submissions.parquet"), path],
                    ).fetchall()[0][0]
            except duckdb.Error:
                continue
            if n:
                out.append(batch)
        return out


def _line(up: Upload, what: str) -> str:
    return f"upload {up.id}: {up.file_name}: {what}"
