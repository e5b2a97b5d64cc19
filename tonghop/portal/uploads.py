"""Uploads: a file from the web checked at once by the warm validator, then delivered.

An upload is checked in memory (the same Validator and Issue records as `tonghop validate`) and
the verdict is shown at once. A readable file for a unit the user covers is then delivered into
the user's inbox folder (`inbox/<unit_code>/`, or its token folder when the manifest demands
tokens), exactly as a file dropped there by hand, and the ingest stores it (tonghop.portal.jobs):
a rejected file too, so the steward sees what was sent. A file for a unit outside the user's
scope is refused and not delivered. Each upload is a row of the portal's database, with the
validator's record; whether and how the warehouse stored it is read from the warehouse itself.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tonghop.portal.accounts import User
from tonghop.portal.checker import Checker
from tonghop.portal.database import Database, stamp
from tonghop.portal.scope import Scope
from validations.authority import Inbox
from validations.intake import file_hash
from validations.outbox import safe_name
from validations.readers import MAX_FILE_BYTES, ReadError
from validations.result import ValidationResult
from validations.units import ReferenceUnits
from warehouse.db import now

REFUSED_TEXT = {
    "vi": "Tệp này là báo cáo của đơn vị {unit}, không thuộc đơn vị của bạn ({own}) hay các đơn "
    "vị trực thuộc: tệp không được gửi đi. Kiểm tra mã đơn vị trong tệp.",
    "en": "This file is the report of unit {unit}, which is neither your unit ({own}) nor below "
    "it: it was not delivered. Check the unit code in the file.",
}
NOT_DELIVERED_TEXT = {
    "vi": "Tệp không ghi rõ đơn vị và kỳ báo cáo hợp lệ nên chưa được gửi đi: sửa rồi gửi lại.",
    "en": "The file names no valid unit and period, so it was not delivered: fix it and send "
    "it again.",
}


class DeliveryError(RuntimeError):
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

    @property
    def delivered(self) -> bool:
        return self.inbox_path is not None

    @property
    def received(self) -> datetime:
        return datetime.fromisoformat(self.received_at)


def _remove(path: Path) -> None:
    """The checked file and its private folder."""
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        shutil.rmtree(path.parent, ignore_errors=True)


def _upload(row: Any) -> Upload:
    r = dict(row)
    r["report"] = json.loads(r["report"])
    return Upload(**r)


def unreadable_record(file_name: str, exc: ReadError, lang: str = "vi") -> dict[str, Any]:
    """What `tonghop validate --json` prints for an unreadable file."""
    return {
        "file": file_name,
        "status": "unreadable",
        "message": exc.message(lang),
        "message_vi": exc.message_vi,
        "message_en": exc.message_en,
        "issues": [],
    }


class Uploads:
    """Receives files from the web: check, record, deliver."""

    def __init__(
        self,
        db: Database,
        checker: Checker,
        scope: Scope,
        units: ReferenceUnits,
        inbox: Path,
        work: Path,
    ):
        self.db = db
        self.checker = checker
        self.scope = scope
        self.units = units
        self.inbox = inbox
        self.work = work  # private folder for files being checked

    # --- checking ------------------------------------------------------------------------------
    def check(
        self, file_name: str, data: bytes, lang: str = "vi"
    ) -> tuple[ValidationResult | None, dict[str, Any], Path]:
        """Validate the bytes as the file `file_name`; (result or None, the JSON record, the
        temporary file). The caller removes the temporary file's folder."""
        name = safe_name(Path(file_name or "upload").name) or "upload"
        folder = self.work / uuid.uuid4().hex
        folder.mkdir(parents=True)
        path = folder / name
        if len(data) > MAX_FILE_BYTES:  # said the reader's way, without writing 5 MB to disk
            path.write_bytes(b"")
            os.truncate(path, len(data))
        else:
            path.write_bytes(data)
        try:
            result = self.checker.check(path)
        except ReadError as exc:
            return None, unreadable_record(file_name, exc, lang), path
        record = result.to_dict(lang)
        record["file"] = file_name
        return result, record, path

    def dry_run(self, file_name: str, data: bytes, lang: str = "vi") -> dict[str, Any]:
        """POST /api/validate: the verdict only, nothing recorded or delivered."""
        _, record, path = self.check(file_name, data, lang)
        _remove(path)
        return record

    # --- receiving -----------------------------------------------------------------------------
    def receive(
        self, user: User, file_name: str, data: bytes, lang: str = "vi", addr: str | None = None
    ) -> tuple[Upload, ValidationResult | None]:
        """Check, record and (when readable and in the user's scope) deliver one upload."""
        received = now()
        result, record, tmp = self.check(file_name, data, lang)
        try:
            unit, period = (result.unit_code, result.period) if result else (None, None)
            verdict = record["status"]
            deliver = result is not None and unit is not None and period is not None
            if deliver and not self.scope.allows(user.unit_code, unit, period):
                verdict, deliver = "refused", False
                record["refused"] = {
                    lg: REFUSED_TEXT[lg].format(unit=unit, own=user.unit_code)
                    for lg in ("vi", "en")
                }
            elif result is not None and not deliver:
                record["not_delivered"] = dict(NOT_DELIVERED_TEXT)
            digest = file_hash(tmp) if result is not None else None
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
                            verdict,
                            record.get("errors", 0),
                            record.get("warnings", 0),
                            "{}",
                            stamp(received),
                        ],
                    ).lastrowid  # type: ignore[arg-type]
                )
                target = None
                if deliver:
                    try:
                        target = self._deliver(user, upload_id, tmp, received)
                    except (DeliveryError, OSError) as exc:
                        deliver = False
                        record["not_delivered"] = {"vi": str(exc), "en": str(exc)}
                con.execute(
                    "UPDATE uploads SET report = ?, inbox_path = ?, ingest_state = ? WHERE id = ?",
                    [
                        json.dumps(record, ensure_ascii=False, default=str),
                        str(target) if target else None,
                        "queued" if target else "none",
                        upload_id,
                    ],
                )
                self.db.audit(
                    user.name,
                    "upload" if verdict != "refused" else "refuse",
                    unit,
                    period,
                    f"upload {upload_id}: {file_name}: {verdict}"
                    + (" (delivered)" if deliver else " (not delivered)"),
                    addr,
                    con=con,
                )
        finally:
            _remove(tmp)
        got = self.get(int(upload_id))  # type: ignore[arg-type]
        assert got is not None
        return got, result

    def _sender_folder(self, user: User) -> str:
        """The user's inbox folder: its unit code, or its token when the manifest demands tokens."""
        inbox = Inbox(self.inbox, self.units)
        if not inbox.require_tokens:
            return user.unit_code
        for token, code in inbox.tokens.items():
            if code == user.unit_code:
                return token
        raise DeliveryError(
            f"The inbox manifest ({self.inbox}/manifest.yaml) demands tokens and has none for "
            f"unit {user.unit_code}: add one, then send the file again."
        )

    def _deliver(self, user: User, upload_id: int, tmp: Path, received: datetime) -> Path:
        """Into inbox/<sender>/, under a hidden name first (the ingest skips hidden files), then
        renamed: the ingest never sees half a file. Its mtime is the time it was received."""
        folder = self.inbox / self._sender_folder(user)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / safe_name(f"{received:%Y%m%dT%H%M%S}-u{upload_id}-{tmp.name}")
        hidden = folder / f".{final.name}.part"
        shutil.copyfile(tmp, hidden)
        ts = received.timestamp()
        os.utime(hidden, (ts, ts))
        os.replace(hidden, final)
        return final

    # --- reading -------------------------------------------------------------------------------
    def get(self, upload_id: int) -> Upload | None:
        with self.db.connect() as con:
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
        """Delivered uploads the in-process ingest has not finished (after a restart)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT * FROM uploads WHERE ingest_state IN ('queued', 'running')"
                " AND inbox_path IS NOT NULL ORDER BY id"
            ).fetchall()
        return [_upload(r) for r in rows]
