"""Uploads: a file from the web checked at once, then delivered.

An upload is checked by the application layer's dry run (service.check: the warm validator,
the sender's authority, outliers and last year's figures against the warehouse's snapshot, and
the version the warehouse would give it), so the verdict shown at once is the report the
stored version gets. A readable file for a unit the user covers is then delivered into
the user's inbox folder (`inbox/<unit_code>/`, or its token folder when the manifest demands
tokens), exactly as a file dropped there by hand, and the ingest stores it (tonghop.portal.jobs):
a rejected file too, so the steward sees what was sent. A file for a unit outside the user's
scope is refused and not delivered. Each upload is a row of the portal's database, with the
validator's record; whether and how the warehouse stored it is read from the warehouse itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from service.check import Verdict
from tonghop.portal.accounts import User
from tonghop.portal.checker import Checker
from tonghop.portal.database import Database, stamp
from validations.authority import Inbox
from validations.catalog import Catalog
from validations.errors import TonghopError, os_reason
from validations.intake import Unreadable, file_hash
from validations.messages import LANGS, render
from validations.outbox import safe_name
from validations.readers import MAX_FILE_BYTES, too_large
from validations.units import ReferenceUnits
from warehouse.access import WarehouseFile
from warehouse.db import now


class DeliveryError(TonghopError, RuntimeError):
    """The inbox cannot take the file (one sentence saying why)."""


@dataclass
class Upload:
    """One upload as the portal recorded it."""

    id: int
    actor: str
    sender: str
    unit_code: str | None
    period: str | None
    file_name: str
    inbox_path: str | None
    content_hash: str | None
    verdict: str
    n_errors: int
    n_warnings: int
    report: dict[str, Any]
    received_at: str
    ingest_state: str
    ingest_detail: str | None
    flow_run_id: str | None
    attempts: int = 0  # times a process took it to store it (tonghop.portal.claims)
    claimed_by: str | None = None
    claimed_at: str | None = None
    beat_at: float | None = None

    @property
    def delivered(self) -> bool:
        return self.inbox_path is not None

    @property
    def received(self) -> datetime:
        return datetime.fromisoformat(self.received_at)


_DELIVERED = re.compile(r"^\d{8}T\d{6}-u\d+-")


def original_name(file_name: str | None) -> str:
    """The name a file was sent under: its own name without the folder and without the
    portal's delivery prefix (`20240615T090000-u17-`), never an internal path."""
    return _DELIVERED.sub("", Path(file_name or "").name)


def _remove(path: Path) -> None:
    """The checked file and its private folder."""
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        shutil.rmtree(path.parent, ignore_errors=True)


def _not_delivered(exc: BaseException) -> dict[str, str]:
    """Why a checked upload was not delivered, in every language."""
    why = (
        exc
        if isinstance(exc, DeliveryError)
        else DeliveryError("delivery.failed", reason=os_reason(exc))
    )
    return {lg: why.message(lg) for lg in LANGS}


def _report(record: dict[str, Any]) -> str:
    """An upload's record as its `report` column holds it (`_upload` reads it back)."""
    return json.dumps(record, ensure_ascii=False, default=str)


def _upload(row: Any) -> Upload:
    r = dict(row)
    r["report"] = json.loads(r["report"])
    return Upload(**r)


class Uploads:
    """Receives files from the web: check (service.check: the dry run against the warehouse's
    snapshot), record, deliver."""

    def __init__(
        self,
        db: Database,
        checker: Checker,
        wh: WarehouseFile,
        catalog: Catalog,
        units: ReferenceUnits,
        inbox: Path,
        work: Path,
    ):
        self.db = db
        self.checker = checker
        self.wh = wh
        self.catalog = catalog
        self.units = units
        self.inbox = inbox
        self.work = work  # private folder for files being checked

    # --- checking ------------------------------------------------------------------------------
    def check(
        self, user: User | None, file_name: str, data: bytes, size: int | None = None
    ) -> tuple[Verdict, Path]:
        """The dry run of the bytes as the file `file_name` sent by `user` (service.check):
        the verdict the stored version would get; and the temporary file (the caller removes
        its folder). `size`: the file's real size when only its first bytes were read (a file
        too large is refused naming it, or "more than" the limit when it is not known)."""
        name = safe_name(Path(file_name or "upload").name) or "upload"
        folder = self.work / uuid.uuid4().hex
        folder.mkdir(parents=True)
        path = folder / name
        if len(data) > MAX_FILE_BYTES:  # the reader's refusal, without writing 5 MB to disk
            path.touch()
            sent = size if size is not None and size >= len(data) else None
            return Verdict(str(path), None, Unreadable.of(too_large(str(path), sent))), path
        path.write_bytes(data)
        found = self.checker.judge([path], user.unit_code if user is not None else None, self.wh)
        return found[str(path)], path

    def dry_run(
        self,
        user: User | None,
        file_name: str,
        data: bytes,
        lang: str = "vi",
        size: int | None = None,
    ) -> dict[str, Any]:
        """POST /api/validate: the verdict only, nothing recorded or delivered."""
        verdict, path = self.check(user, file_name, data, size)
        _remove(path)
        return verdict.record(lang, name=file_name)

    # --- receiving -----------------------------------------------------------------------------
    def receive(
        self,
        user: User,
        file_name: str,
        data: bytes,
        lang: str = "vi",
        addr: str | None = None,
        size: int | None = None,
    ) -> tuple[Upload, Verdict]:
        """Check, record and (when readable and in the user's scope) deliver one upload
        (`size`: its real size when only its first bytes were read)."""
        received = now()
        verdict, tmp = self.check(user, file_name, data, size)
        staged = None  # the copy beside the inbox, until renamed into it
        try:
            record = verdict.record(lang, name=file_name)
            result = verdict.result
            unit, period = (result.unit_code, result.period) if result else (None, None)
            status = verdict.status
            deliver = verdict.deliverable
            if verdict.refusal is not None:
                issue = verdict.refusal.result.issues[-1]
                record["refused"] = {lg: issue.message(lg) for lg in ("vi", "en")}
            elif result is not None and not deliver:
                record["not_delivered"] = {lg: render("upload.not_delivered", lg) for lg in LANGS}
            digest = verdict.content_hash or (file_hash(tmp) if result is not None else None)
            if deliver:  # copied beside the inbox before the writers' turn: only renamed in it
                try:
                    staged = self._stage(user, tmp, received)
                except (DeliveryError, OSError) as exc:
                    deliver = False
                    record["not_delivered"] = _not_delivered(exc)
            report = _report(record)
            with self.db.connect() as con:  # one transaction: the record, its delivery, audit
                upload_id = int(
                    con.execute(
                        "INSERT INTO uploads (actor, sender, unit_code, period, file_name,"
                        " content_hash, verdict, n_errors, n_warnings, report, received_at,"
                        " ingest_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'none')",
                        [
                            user.name,
                            user.unit_code,
                            unit,
                            period,
                            file_name,
                            digest,
                            status,
                            record.get("errors", 0),
                            record.get("warnings", 0),
                            report,
                            stamp(received),
                        ],
                    ).lastrowid  # type: ignore[arg-type]
                )
                if staged is not None:
                    try:
                        target = self._deliver(staged, upload_id, tmp.name, received)
                        con.execute(
                            "UPDATE uploads SET inbox_path = ?, ingest_state = 'queued'"
                            " WHERE id = ?",
                            [str(target), upload_id],
                        )
                    except OSError as exc:
                        deliver = False
                        record["not_delivered"] = _not_delivered(exc)
                        con.execute(
                            "UPDATE uploads SET report = ? WHERE id = ?",
                            [_report(record), upload_id],
                        )
                self.db.audit(
                    user.name,
                    "upload" if status != "refused" else "refuse",
                    unit,
                    period,
                    f"upload {upload_id}: {file_name}: {status}"
                    + (" (delivered)" if deliver else " (not delivered)"),
                    addr,
                    con=con,
                )
        finally:
            if staged is not None:
                staged.unlink(missing_ok=True)  # left only when not delivered
            _remove(tmp)
        got = self.get(int(upload_id))  # type: ignore[arg-type]
        assert got is not None
        return got, verdict

    def _sender_folder(self, user: User) -> str:
        """The user's inbox folder: its unit code, or its token when the manifest demands tokens."""
        inbox = Inbox(self.inbox, self.units)
        if not inbox.require_tokens:
            return user.unit_code
        for token, code in inbox.tokens.items():
            if code == user.unit_code:
                return token
        raise DeliveryError(
            "delivery.no_token", path=str(self.inbox / "manifest.yaml"), unit=user.unit_code
        )

    def _stage(self, user: User, tmp: Path, received: datetime) -> Path:
        """The checked file copied into inbox/<sender>/ under a hidden name (the ingest skips
        hidden files), its mtime the time it was received: `_deliver` renames it."""
        folder = self.inbox / self._sender_folder(user)
        folder.mkdir(parents=True, exist_ok=True)
        hidden = folder / f".{uuid.uuid4().hex}.part"
        shutil.copyfile(tmp, hidden)
        ts = received.timestamp()
        os.utime(hidden, (ts, ts))
        return hidden

    def _deliver(self, staged: Path, upload_id: int, name: str, received: datetime) -> Path:
        """The staged file under its final name, in one rename: the ingest never sees half a
        file."""
        final = staged.parent / safe_name(f"{received:%Y%m%dT%H%M%S}-u{upload_id}-{name}")
        os.replace(staged, final)
        return final

    # --- reading -------------------------------------------------------------------------------
    def get(self, upload_id: int) -> Upload | None:
        with self.db.reading() as con:
            row = con.execute("SELECT * FROM uploads WHERE id = ?", [upload_id]).fetchone()
        return _upload(row) if row else None

    def of_units(self, codes: list[str], period: str | None = None) -> list[Upload]:
        """Uploads for these units (or sent by them), newest first."""
        if not codes:
            return []
        marks = ",".join("?" * len(codes))
        with self.db.connect() as con:
            rows = con.execute(
                f"SELECT * FROM uploads WHERE (unit_code IN ({marks}) OR sender IN ({marks}))"
                " AND (? IS NULL OR period = ? OR period IS NULL) ORDER BY id DESC LIMIT 500",
                [*codes, *codes, period, period],
            ).fetchall()
        return [_upload(r) for r in rows]

    def set_state(
        self, ids: list[int], state: str, detail: str | None = None, flow_run_id: str | None = None
    ) -> None:
        with self.db.connect() as con:
            con.executemany(
                "UPDATE uploads SET ingest_state = ?, ingest_detail = ?,"
                " flow_run_id = coalesce(?, flow_run_id) WHERE id = ?",
                [(state, detail, flow_run_id, i) for i in ids],
            )

    def waiting(self) -> list[Upload]:
        """Delivered uploads the in-process ingest has not finished: queued, or running (under
        a live claim, or a dead one: tonghop.portal.claims)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT * FROM uploads WHERE ingest_state IN ('queued', 'running')"
                " AND inbox_path IS NOT NULL ORDER BY id"
            ).fetchall()
        return [_upload(r) for r in rows]
