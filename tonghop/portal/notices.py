"""Notifications by e-mail (stdlib smtplib): verdicts to units, missing units to stewards.

- A unit whose users have an e-mail address gets each upload's verdict: the same text report as
  `tonghop validate` prints (validations.report.render_text), and a link to the verdict page.
- After the deadline of the latest closed month, each steward with an e-mail address gets the
  list of the units below it that have not reported (service.status, as the steward's grid
  shows them). Sent once per steward and period.
Without an SMTP server configured (`tonghop serve --smtp HOST:PORT`, or $TONGHOP_SMTP) nothing
is sent. Mail goes out from a background thread: an upload never waits for the mail server.
Each message is first a row of the portal's database (`mail`), sent right away by the process
that wrote it and marked sent; one the server refused is tried again every MAIL_RETRY seconds,
and one a process that died had taken is taken again (tonghop.portal.claims), by the
background worker. A message the server accepted just before its sender was killed, before it
was marked sent, is sent once more: mail is delivered at least once, never silently dropped.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from email.message import EmailMessage
from typing import Any

from service.status import period_status
from tonghop.portal import periods, testpoints
from tonghop.portal.accounts import STEWARDS, Accounts
from tonghop.portal.claims import Claims
from tonghop.portal.database import Database, stamp
from tonghop.portal.reader import NoData, WarehouseReader
from tonghop.portal.settings import PortalSettings
from tonghop.portal.uploads import Upload
from validations.catalog import Catalog
from validations.period import latest_closed_month, parse_period
from validations.report import STATUS_TEXT, render_text
from validations.result import ValidationResult
from validations.units import ReferenceUnits
from validations.validator import default_today

log = logging.getLogger("tonghop.portal")

VERDICT_WORDS = {"unreadable": "KHÔNG ĐỌC ĐƯỢC", "refused": "KHÔNG ĐƯỢC GỬI"}
MAIL_RETRY = 60.0  # seconds between sweeps of the mail waiting (refused, or left by a death)
MAIL_TRIES = 5  # a message is given up after this many tries


class Mailer:
    """Sends plain-text mail through one SMTP server, each message kept in the portal's
    database until the server took it (`db`; without one, sent from memory)."""

    def __init__(self, settings: PortalSettings, db: Database | None = None):
        self.settings = settings
        self.db = db
        self.claims = Claims(db, "mail") if db is not None else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp_host)

    def send(self, to: list[str], subject: str, body: str) -> Future[None] | None:
        """Queue one message (sent from a thread at once); None when mail is off or nobody is
        addressed."""
        if not self.enabled or not to:
            return None
        if self.db is None:
            return self._pool.submit(self._send, to, subject, body)
        with self.db.connect() as con:
            mail_id = con.execute(
                "INSERT INTO mail (recipients, subject, body, state, created_at)"
                " VALUES (?, ?, ?, 'queued', ?)",
                [json.dumps(to), subject, body, stamp()],
            ).lastrowid
        return self._pool.submit(self.deliver, [int(mail_id)])  # type: ignore[arg-type]

    def deliver(self, ids: list[int] | None = None) -> None:
        """Send the messages waiting (of `ids`, or all): queued, refused before, or taken by a
        process that died; each marked sent once the server took it."""
        if self.claims is None or self.db is None or not self.enabled:
            return
        for t in self.claims.take(ids):
            with self.db.connect() as con:
                row = dict(con.execute("SELECT * FROM mail WHERE id = ?", [t.id]).fetchone())
            testpoints.point("mail:claimed")
            if t.attempts > MAIL_TRIES:
                self._mail_state(t.id, "failed", row["detail"])
                log.error(
                    "mail %s to %s given up after %d tries", t.id, row["recipients"], MAIL_TRIES
                )
                continue
            try:
                self._send(json.loads(row["recipients"]), row["subject"], row["body"])
            except (OSError, smtplib.SMTPException) as exc:
                self._mail_state(t.id, "queued", f"{type(exc).__name__}: {exc}"[:500])
                continue
            testpoints.point("mail:sent")
            self._mail_state(t.id, "sent")

    def _mail_state(self, mail_id: int, state: str, detail: str | None = None) -> None:
        assert self.db is not None
        with self.db.connect() as con:
            con.execute(
                "UPDATE mail SET state = ?, detail = ?, claimed_by = NULL,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? END WHERE id = ?",
                [state, detail, state, stamp(), mail_id],
            )

    def start(self) -> None:
        """The sweep of the mail waiting: at once (what a death left), then every MAIL_RETRY s."""
        if self._thread is None and self.enabled and self.db is not None:
            self._thread = threading.Thread(target=self._loop, name="mail", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self.deliver()
            except Exception as exc:  # the sweep never dies
                log.warning("mail: %s: %s", type(exc).__name__, exc)
            if self._stop.wait(MAIL_RETRY):
                return

    def _send(self, to: list[str], subject: str, body: str) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.mail_from
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=20) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
                smtp.send_message(msg)
            self.sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail to %s not sent: %s", to, exc)
            raise

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._pool.shutdown(wait=True)


class Notices:
    """What the portal tells people by mail."""

    def __init__(
        self,
        settings: PortalSettings,
        db: Database,
        accounts: Accounts,
        reader: WarehouseReader,
        catalog: Catalog,
        units: ReferenceUnits,
        mailer: Mailer | None = None,
    ):
        self.settings = settings
        self.db = db
        self.accounts = accounts
        self.reader = reader
        self.catalog = catalog
        self.units = units
        self.mailer = mailer or Mailer(settings, db)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- verdicts ------------------------------------------------------------------------------
    def verdict(self, upload: Upload, result: ValidationResult | None) -> Future[None] | None:
        """Mail the verdict to the e-mail addresses of the upload's unit (and of its sender)."""
        if not self.mailer.enabled:
            return None
        to = sorted(
            set(self.accounts.emails_of(upload.unit_code or upload.sender))
            | set(self.accounts.emails_of(upload.sender))
        )
        if not to or not self.mailer.enabled:
            return None
        if result is not None and upload.verdict != "refused":
            word = STATUS_TEXT["vi"][result.status]
            text = render_text(result, self.catalog, "vi").replace(result.path, upload.file_name)
        else:
            word = VERDICT_WORDS.get(upload.verdict, upload.verdict)
            rep = upload.report
            text = (rep.get("refused") or {}).get("vi") or rep.get("message_vi") or ""
        subject = (
            f"[tonghop] {upload.unit_code or upload.sender} {upload.period or ''}: {word}"
            f" ({upload.file_name})"
        )
        link = f"{self.settings.base_url.rstrip('/')}/uploads/{upload.id}"
        body = f"{text}\n\nXem trên cổng / on the portal: {link}\n"
        fut = self.mailer.send(to, subject, body)
        self._record("verdict", upload.unit_code or upload.sender, upload.period or "", to, subject)
        return fut

    # --- missing units after the deadline ------------------------------------------------------
    def missing(self, today: date | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """Mail each steward (with an e-mail address) the units below it that have not reported
        for the period (default: the latest closed month) once its deadline has passed; once
        per steward unit and period. Returns what was sent."""
        today = today or default_today()
        p = parse_period(period) if period else latest_closed_month(today, self.catalog.close_day)
        closing = p.end(self.catalog.close_day)
        sent: list[dict[str, Any]] = []
        for user in self.accounts.users():
            if user.disabled or not user.email or user.role not in STEWARDS:
                continue
            unit = self.units.get(user.unit_code, closing)
            if unit is None or unit.level == "C":
                continue
            kids = self.units.children(unit.code, closing)
            if not kids:
                continue
            deadline = periods.deadline(self.catalog, p, kids[0].level) or closing
            if today <= deadline or self._already("missing", unit.code, p.code, user.email):
                continue
            try:
                missing = self._missing_children(unit.code, p.code, [k.code for k in kids])
            except NoData:
                missing = [k.code for k in kids]
            if not missing:
                continue
            names = {k.code: k.name for k in kids}
            lines = [f"  - {c} {names.get(c, '')}" for c in missing]
            subject = (
                f"[tonghop] {unit.code} {p.code}: {len(missing)}/{len(kids)} đơn vị chưa báo cáo"
                f" / units missing"
            )
            body = (
                f"{unit.name} — kỳ {p.code} ({p.label_vi}). Hạn gửi {deadline:%d/%m/%Y} đã qua; "
                f"các đơn vị chưa có báo cáo được chấp nhận:\n"
                + "\n".join(lines)
                + f"\n\nXem trên cổng / on the portal: {self.settings.base_url.rstrip('/')}"
                f"/steward?unit={unit.code}&period={p.code}\n"
            )
            self.mailer.send([user.email], subject, body)
            self._record("missing", unit.code, p.code, [user.email], ", ".join(missing))
            sent.append({"to": user.email, "unit": unit.code, "period": p.code, "missing": missing})
        return sent

    def _missing_children(self, unit_code: str, period: str, kids: list[str]) -> list[str]:
        """The units below that have not reported (service.status: missing, or only
        rejected versions), the rule the steward's grid shows."""
        with self.reader.cursor() as cur:
            res = period_status(cur, unit_code, period, self.catalog, self.units)
        return sorted(r.code for r in res.rows if r.state in ("missing", "rejected"))

    def _already(self, kind: str, unit: str, period: str, recipient: str) -> bool:
        with self.db.connect() as con:
            return bool(
                con.execute(
                    "SELECT 1 FROM notices WHERE kind = ? AND unit_code = ? AND period = ?"
                    " AND recipient = ?",
                    [kind, unit, period, recipient],
                ).fetchone()
            )

    def _record(self, kind: str, unit: str, period: str, to: list[str], detail: str) -> None:
        with self.db.connect() as con:
            con.executemany(
                "INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?)",
                [(kind, unit, period, r, stamp(), detail) for r in to],
            )

    # --- background ----------------------------------------------------------------------------
    def start(self) -> None:
        self.mailer.start()
        if self._thread is None and self.mailer.enabled:
            self._thread = threading.Thread(target=self._loop, name="notices", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(min(60.0, self.settings.notice_interval)):
            try:
                self.missing()
            except Exception as exc:
                log.warning("missing-units notices: %s: %s", type(exc).__name__, exc)
            self._stop.wait(max(0.0, self.settings.notice_interval - 60.0))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.mailer.close()
