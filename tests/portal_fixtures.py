"""Shared by the portal tests: a small warehouse of Lai Châu, portal settings, accounts, a
logged-in TestClient, a local SMTP server (stdlib) and a real server in a thread."""

from __future__ import annotations

import csv
import re
import shutil
import socket
import socketserver
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from conftest import SAMPLES, TODAY

PASSWORD = "mat-khau-123"
MONTHS = ("2024-05", "2024-06")
HELD_BACK = "03386"  # its June report is left out: the tests send it through the portal
# user name -> (unit, role): commune of district 105, district 105, province 12, another
# province's district (Điện Biên 094), viewers of district 106 and province 12, a steward of
# province 11 (the demo's users are xa.03386, huyen.105, tinh.12 and xem.12)
USERS = {
    "xa.03386": ("03386", "submitter"),
    "xa.03387": ("03387", "submitter"),
    "huyen.105": ("105", "steward"),
    "huyen.106": ("106", "steward"),
    "tinh.12": ("12", "steward"),
    "xem.106": ("106", "viewer"),
    "xem.12": ("12", "viewer"),
    "tinh.11": ("11", "steward"),
}


def sample_files(month: str) -> list[Path]:
    return sorted(
        p
        for p in (SAMPLES / "valid" / month).rglob("*")
        if p.suffix in (".csv", ".xlsx")
        and not (month == "2024-06" and p.stem.startswith(HELD_BACK))
    )


def judge_with_a_late_announcement(checker, files: list, sender: str, wh) -> None:
    """`checker` judges files[0] at once and, from a request announced first
    (Checker.arriving), files[1] only six gaps later (its body still arriving)."""
    from tonghop.portal.checker import GATHER_GAP

    announced = threading.Event()

    def late() -> None:
        with checker.arriving():
            announced.set()
            time.sleep(6 * GATHER_GAP)
            checker.judge([files[1]], sender, wh)

    th = threading.Thread(target=late)
    th.start()
    announced.wait()
    checker.judge([files[0]], sender, wh)
    th.join()


def build_warehouse(path: Path, months: tuple[str, ...] = MONTHS) -> Path:
    """May and June 2024 of Lai Châu (or `months`; without commune 03386's June report),
    loaded and the province consolidated, with library calls (no Prefect)."""
    from validations.catalog import load_catalog
    from validations.intake import validate_paths
    from validations.units import load_units
    from validations.validator import Validator
    from warehouse.db import open_warehouse
    from warehouse.rollup import consolidate
    from warehouse.staging import write_staging
    from warehouse.store import load_batch, pending_batches

    cat, units = load_catalog(), load_units()
    v = Validator(catalog=cat, units=units, today=TODAY)
    staging = path.parent / "staging"
    con = open_warehouse(path, cat, units)
    try:
        for month in months:
            files = sample_files(month)
            out = validate_paths(files, v)
            closing = datetime.combine(
                date(int(month[:4]), int(month[5:]), cat.close_day), datetime.min.time()
            )
            write_staging(
                out.results, staging, f"b{month}", out.hashes, closing + timedelta(days=1, hours=9)
            )
        for batch in pending_batches(con, staging):
            load_batch(con, batch, close_day=cat.close_day)
        for month in months:
            consolidate(con, month, "12", cat, units)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def base_warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("portal_base") / "tonghop.duckdb")


HISTORY_MONTHS = tuple(f"2024-{m:02d}" for m in range(1, 7))


@pytest.fixture(scope="session")
def history_warehouse(tmp_path_factory):
    """January to June 2024 of Lai Châu (without 03386's June): five months of each unit's
    history, for the web form's usual ranges."""
    root = tmp_path_factory.mktemp("portal_history")
    return build_warehouse(root / "tonghop.duckdb", HISTORY_MONTHS)


@pytest.fixture
def portal_root(tmp_path, base_warehouse):
    """A fresh copy of the small warehouse and a portal home around it."""
    shutil.copy(base_warehouse, tmp_path / "tonghop.duckdb")
    return tmp_path


def make_settings(root: Path, **kwargs):
    from tonghop.portal.settings import PortalSettings

    kwargs.setdefault("ingest", "inline")
    kwargs.setdefault("background", False)
    kwargs.setdefault("worker", "thread")
    return PortalSettings.resolve(
        root / "tonghop.duckdb",
        root / "accounts.sqlite",
        root / "inbox",
        root / "outbox",
        root / "archive",
        **kwargs,
    )


def add_users(settings, emails: dict[str, str] | None = None) -> None:
    from tonghop.portal.accounts import Accounts

    acc = Accounts(settings.accounts)
    for name, (unit, role) in USERS.items():
        acc.add(name, unit, role, PASSWORD, (emails or {}).get(name))


@pytest.fixture
def settings(portal_root):
    s = make_settings(portal_root)
    add_users(s)
    return s


@pytest.fixture
def client(settings):
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def app_routes(app) -> list[tuple[str, frozenset[str]]]:
    """Every route of the app as (path, methods), those of included routers too: since FastAPI
    0.137 `app.routes` holds one opaque `_IncludedRouter` per `include_router` (no `.path`),
    so a walk over `app.routes` alone sees a handful of routes and a check over it passes
    vacuously. A mount (/static) has no methods."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.137 flattened included routes into app.routes
        found = list(app.routes)
    else:
        found = list(iter_route_contexts(app.routes))
    return [
        (r.path, frozenset(getattr(r, "methods", None) or ()))
        for r in found
        if getattr(r, "path", None)
    ]


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, url: str = "/login") -> str:
    return CSRF.search(client.get(url).text)[1]


def login(client, name: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post(
        "/login", data={"csrf_token": token, "name": name, "password": password, "next": "/"}
    )


CONFIRMED = re.compile(r'name="confirmed" value="([^"]+)"')


def steward_post(client, action: str, unit: str, period: str = "2024-06", confirm: bool = True):
    """A steward's button: approve, un-accept and unapprove show a confirmation page first
    (naming what the step does); `confirm` posts its form as the steward would."""
    token = csrf_of(client, f"/steward?period={period}")
    data = {"csrf_token": token, "unit": unit, "period": period}
    r = client.post(f"/steward/{action}", data=data)
    found = CONFIRMED.search(r.text)
    if confirm and found:
        r = client.post(f"/steward/{action}", data={**data, "confirmed": found[1]})
    return r


def token_for(settings, name: str) -> dict[str, str]:
    """The Authorization header of a new API token for the user."""
    from tonghop.portal.accounts import Accounts

    return {"Authorization": f"Bearer {Accounts(settings.accounts).new_token(name)}"}


def upload(client, path: Path | str, name: str | None = None):
    path = Path(path)
    token = csrf_of(client, "/submit")
    with open(path, "rb") as fh:
        return client.post(
            "/submit",
            data={"csrf_token": token},
            files={"file": (name or path.name, fh.read())},
        )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def wait_for(check, timeout: float = 30.0, step: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(step)
    raise AssertionError("condition not met in time")


def csv_with(src: Path, dest: Path, **changes: object) -> Path:
    """A copy of a canonical CSV with some indicators' values changed."""
    with open(src, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for r in rows[1:]:
        if r[2] in changes:
            r[3] = str(changes[r[2]])
    with open(dest, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dest


# --- a local SMTP server (stdlib): enough of RFC 5321 for smtplib ------------------------------
class _SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        box = self.server.messages  # type: ignore[attr-defined]
        self.wfile.write(b"220 localhost test SMTP\r\n")
        rcpt: list[str] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            up = cmd.upper()
            if up.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif up.startswith("MAIL FROM"):
                rcpt = []
                self.wfile.write(b"250 OK\r\n")
            elif up.startswith("RCPT TO"):
                rcpt.append(cmd.split(":", 1)[1].strip(" <>"))
                self.wfile.write(b"250 OK\r\n")
            elif up == "DATA":
                self.wfile.write(b"354 end with .\r\n")
                data = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                box.append({"to": rcpt, "data": b"".join(data)})
                self.wfile.write(b"250 OK queued\r\n")
            elif up == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The portal under uvicorn in a thread, on a free local port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_for(lambda: self.server.started, 60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
