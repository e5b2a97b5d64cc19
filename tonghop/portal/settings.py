"""Where the portal finds the warehouse, its own database, the inbox and the mail server."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from validations.catalog import catalog_file, load_catalog
from validations.errors import UsageError
from warehouse.db import warehouse_path

INGEST_MODES = ("auto", "deployment", "schedule", "inline")
ENV = "TONGHOP_PORTAL_SETTINGS"  # the settings as JSON, for processes started by name
_PATHS = ("warehouse", "accounts", "inbox", "outbox", "archive", "staging")


def accounts_path(path: str | Path | None = None, warehouse: str | Path | None = None) -> Path:
    """The portal's SQLite file: the argument, else $TONGHOP_ACCOUNTS, else `accounts.sqlite`
    beside the warehouse file."""
    if path:
        return Path(path)
    env = os.environ.get("TONGHOP_ACCOUNTS")
    if env:
        return Path(env)
    return warehouse_path(warehouse).parent / "accounts.sqlite"


@dataclass
class PortalSettings:
    """Everything the portal needs to know; `resolve` fills the defaults from the environment."""

    warehouse: Path
    accounts: Path
    inbox: Path
    outbox: Path
    archive: Path
    staging: Path
    # the catalog uploads are judged and stored by (--catalog; None: $TONGHOP_CATALOG, else the
    # national default form: validations.catalog.catalog_file, as `validate` and `ingest` read it)
    catalog: str | None = None
    ingest: str = "auto"  # auto | deployment | schedule | inline
    ingest_deployment: str = "ingest-submissions/ingest-inbox"
    consolidate_deployment: str = "consolidate-period/consolidate-on-demand"
    secret: str = ""
    secure_cookies: bool = False
    session_hours: float = 12.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "tonghop@localhost"
    base_url: str = "http://127.0.0.1:8000"
    snapshot_poll: float = 1.0  # seconds between checks of the live warehouse file
    snapshot_quiet: float = 0.5  # the file must be unchanged this long before it is copied
    notice_interval: float = 3600.0  # seconds between checks for missing units past the deadline
    login_limit: int = 5  # failed logins per account per window
    login_ip_limit: int = 20  # failed logins per address per window
    login_window: float = 900.0
    background: bool = True  # snapshot refresher, ingest worker, notices (off in some tests)
    worker: str = "process"  # the background work: in a process of its own, or a thread here
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        warehouse: str | Path | None = None,
        accounts: str | Path | None = None,
        inbox: str | Path | None = None,
        outbox: str | Path | None = None,
        archive: str | Path | None = None,
        **kwargs: object,
    ) -> PortalSettings:
        env = os.environ.get
        wh = warehouse_path(warehouse).absolute()
        acc = accounts_path(accounts, wh).absolute()
        smtp = kwargs.pop("smtp", None) or env("TONGHOP_SMTP")
        if smtp and "smtp_host" not in kwargs:
            host, _, port = str(smtp).partition(":")
            kwargs["smtp_host"] = host
            kwargs["smtp_port"] = int(port or 25)
        kwargs.setdefault("smtp_user", env("TONGHOP_SMTP_USER"))
        kwargs.setdefault("smtp_password", env("TONGHOP_SMTP_PASSWORD"))
        if env("TONGHOP_MAIL_FROM"):
            kwargs.setdefault("mail_from", env("TONGHOP_MAIL_FROM"))
        if env("TONGHOP_PORTAL_URL"):
            kwargs.setdefault("base_url", env("TONGHOP_PORTAL_URL"))
        if env("TONGHOP_INGEST"):
            kwargs.setdefault("ingest", env("TONGHOP_INGEST"))
        if kwargs.get("catalog"):  # absolute: the worker process and Prefect runs read it too
            kwargs["catalog"] = str(catalog_file(kwargs["catalog"]))  # type: ignore[arg-type]
        s = cls(
            warehouse=wh,
            accounts=acc,
            inbox=Path(inbox or env("TONGHOP_INBOX") or "inbox").absolute(),
            outbox=Path(outbox or env("TONGHOP_OUTBOX") or "outbox").absolute(),
            archive=Path(archive or env("TONGHOP_ARCHIVE") or "archive").absolute(),
            staging=Path(env("TONGHOP_STAGING") or wh.parent / "staging").absolute(),
            **kwargs,  # type: ignore[arg-type]
        )
        if s.ingest not in INGEST_MODES:
            raise UsageError("usage.ingest_mode", value=s.ingest, allowed=list(INGEST_MODES))
        load_catalog(s.catalog)  # a bad catalog is refused now, in the words of `validate`
        if not s.secret:
            s.secret = env("TONGHOP_PORTAL_SECRET") or secret_from_file(acc)
        return s

    def to_json(self) -> str:
        """The settings as JSON (for $TONGHOP_PORTAL_SETTINGS)."""
        return json.dumps(dataclasses.asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> PortalSettings:
        data = json.loads(text)
        for k in _PATHS:
            data[k] = Path(data[k])
        return cls(**data)

    @classmethod
    def from_env(cls) -> PortalSettings:
        """The settings a parent process put in $TONGHOP_PORTAL_SETTINGS."""
        return cls.from_json(os.environ[ENV])

    @property
    def ingest_mode(self) -> str:
        """The mode in force: `auto` is `deployment` when a Prefect API is configured
        ($PREFECT_API_URL), else `inline`."""
        if self.ingest != "auto":
            return self.ingest
        return "deployment" if os.environ.get("PREFECT_API_URL") else "inline"


def secret_from_file(accounts: Path) -> str:
    """The key that signs session cookies: `portal.secret` beside the accounts file, created
    (random, readable by its owner only) the first time."""
    path = accounts.parent / "portal.secret"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return path.read_text(encoding="utf-8").strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
