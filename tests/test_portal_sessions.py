"""Sessions end on the server: after a logout, a password change or a disable, a copy of the
session cookie taken before is worth nothing, in every browser; and no answer behind the login
is kept by a browser or a proxy (`Cache-Control: no-store` on every route of the app)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from fastapi.testclient import TestClient
from portal_fixtures import (  # noqa: F401  (fixtures)
    app_routes,
    base_warehouse,
    client,
    csrf_of,
    login,
    portal_root,
    settings,
    token_for,
    upload,
)
from typer.testing import CliRunner

from conftest import SAMPLES
from tonghop.cli import app as cli
from tonghop.portal.accounts import Accounts

COOKIE = "tonghop_session"
PAGE = "/form?period=2024-06"  # the user's own unit


def _logged_in(c: TestClient) -> bool:
    r = c.get(PAGE, follow_redirects=False)
    if r.status_code == 200:
        return True
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), r.status_code
    return False


def _browser(client: TestClient) -> TestClient:
    """Another browser on the same portal (its own cookie jar; the app is already started)."""
    return TestClient(client.app, raise_server_exceptions=False)


def _with_cookie(client: TestClient, value: str) -> TestClient:
    """A browser holding a copy of a session cookie (someone at the same computer)."""
    other = _browser(client)
    other.cookies.set(COOKIE, value)
    return other


def _logout(c: TestClient) -> None:
    r = c.post("/logout", data={"csrf_token": csrf_of(c, PAGE)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_a_logout_ends_the_session_a_copied_cookie_included(client):
    login(client, "xa.03386")
    assert _logged_in(client)
    copied = client.cookies.get(COOKIE)
    assert _logged_in(_with_cookie(client, copied))  # the copy works while the session lives
    _logout(client)
    assert not _logged_in(client)
    thief = _with_cookie(client, copied)
    assert not _logged_in(thief)  # the login page, not the form
    r = thief.get(PAGE)
    assert r.url.path == "/login" and 'name="password"' in r.text
    # a POST with the old cookie and its CSRF token does nothing either
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)[1]
    r = thief.post("/submit", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_logout_ends_only_its_own_session(client):
    login(client, "xa.03386")
    other = _browser(client)
    login(other, "xa.03386")
    _logout(client)
    assert not _logged_in(client) and _logged_in(other)


@pytest.mark.parametrize("how", ["password", "disable"])
def test_a_password_change_or_a_disable_ends_every_session_of_the_user(client, settings, how):
    accounts = str(settings.accounts)
    login(client, "xa.03386")
    other = _browser(client)
    login(other, "xa.03386")
    copied = client.cookies.get(COOKIE)
    neighbour = _browser(client)
    login(neighbour, "xa.03387")  # another user's session is left alone
    api = token_for(settings, "xa.03386")
    assert client.get("/api/submissions?period=2024-06", headers=api).status_code == 200
    if how == "password":
        args = ["user", "password", "xa.03386", "--password-stdin", "--accounts", accounts]
        r = CliRunner().invoke(cli, args, input="mat-khau-moi-456\n")
    else:
        r = CliRunner().invoke(cli, ["user", "disable", "xa.03386", "--accounts", accounts])
    assert r.exit_code == 0, r.output
    for browser in (client, other, _with_cookie(client, copied)):
        assert not _logged_in(browser)
    assert _logged_in(neighbour)
    assert Accounts(settings.accounts).sessions_of("xa.03386") == 0
    api_after = client.get("/api/submissions?period=2024-06", headers=api).status_code
    if how == "password":
        assert login(client, "xa.03386").status_code == 401  # the old password is refused
        assert login(client, "xa.03386", "mat-khau-moi-456").status_code == 200
        assert _logged_in(client)
        assert api_after == 200  # a script's token is not a browser session
    else:
        assert login(client, "xa.03386").status_code == 401
        assert api_after == 401  # a disabled user's tokens are revoked too


def test_a_new_login_ends_the_browsers_earlier_session(client):
    login(client, "xa.03386")
    before = client.cookies.get(COOKIE)
    login(client, "xa.03386")  # logging in again (or as someone else) on the same computer
    assert _logged_in(client)
    assert not _logged_in(_with_cookie(client, before))


def test_a_session_ends_at_its_time_on_the_server_whatever_the_cookie_says(client, settings):
    login(client, "xa.03386")
    with sqlite3.connect(settings.accounts) as con:
        con.execute("UPDATE sessions SET expires = 0")
    assert not _logged_in(client)


def test_a_cookie_of_before_the_sessions_table_logs_nobody_in(client, settings):
    """The cookie of the earlier release held the user's name: signed by the same secret, it
    is still no session."""
    import base64
    import json

    import itsdangerous

    signer = itsdangerous.TimestampSigner(settings.secret)
    data = base64.b64encode(json.dumps({"user": "xa.03386", "epoch": 0}).encode())
    client.cookies.set(COOKIE, signer.sign(data).decode())
    assert not _logged_in(client)


def test_the_accounts_file_holds_no_session_id(client, settings):
    login(client, "xa.03386")
    sid_cookie = client.cookies.get(COOKIE)
    dump = "\n".join(sqlite3.connect(settings.accounts).iterdump())
    assert 'INSERT INTO "sessions"' in dump
    # the cookie is signed JSON holding the id; the file holds its sha256 only
    import base64
    import json

    payload = json.loads(base64.b64decode(sid_cookie.split(".")[0] + "=="))
    assert payload["sid"] not in dump


# --- no-store: every route -------------------------------------------------------------------
OWN = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], path)


def test_every_get_route_answers_no_store(client, settings):
    """Every GET route of the app (enumerated from app.routes, so a route added later is
    tried too), logged in as a steward of the province with an API token, and logged out:
    `Cache-Control: no-store` whatever the answer; only /static may be kept."""
    login(client, "xa.03386")
    upload_id = upload(client, OWN).url.path.rsplit("/", 1)[1]
    version = "03387:2024-06:v1"  # a commune of the small warehouse
    ids = {"upload_id": upload_id, "submission_id": version, "code": "105", "lang": "vi"}
    query = "?unit=12&period=2024-06&indicator=crime_cases"
    token = token_for(settings, "tinh.12")
    login(client, "tinh.12")
    routes = [path for path, methods in app_routes(client.app) if "GET" in methods]
    assert len(routes) >= 25  # pages, downloads, JSON, the API: not a handful
    answered: dict[str, int] = {}
    logged_out = _browser(client)
    for path in routes:
        url = _fill(path, ids) + query
        for c in (client, logged_out):
            r = c.get(url, headers=token if c is client else {}, follow_redirects=False)
            assert r.status_code < 500, (url, r.status_code)
            assert r.headers.get("cache-control") == "no-store", (url, r.status_code, r.headers)
        answered[path] = client.get(url, headers=token).status_code
    # the pages the issue named answered themselves (not an error page that happens to be
    # no-store): the province pages, a version, the form, the zip and xlsx, the entry form
    # and its JSON, the docx summary
    for path in (
        "/province",
        "/province/summary",
        "/province/summary.docx",
        "/province/summary.xlsx",
        "/province/export.zip",
        "/versions/{submission_id}",
        "/form",
        "/form/download",
        "/entry",
        "/entry/changes",
        "/entry/history",
        "/uploads/{upload_id}",
        "/api/submissions",
    ):
        assert answered[path] == 200, (path, answered[path])
    static = client.get("/static/portal.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
