"""Unit isolation: every page and API route, tried by a user of another unit, refuses (403 or
404), and a check that no route escapes this list."""

from __future__ import annotations

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    app_routes,
    base_warehouse,
    client,
    csrf_of,
    login,
    portal_root,
    settings,
    upload,
)

from conftest import SAMPLES

OWN = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
# (method, path as requested, path template) for things of district 105 / commune 03386 /
# province 12. {upload} and {version} are filled in by the test.
PAGES = [
    ("GET", "/form?unit=03386&period=2024-06", "/form"),
    ("GET", "/form/download?unit=03386&period=2024-06", "/form/download"),
    ("GET", "/uploads/{upload}", "/uploads/{upload_id}"),
    ("GET", "/versions/{version}", "/versions/{submission_id}"),
    ("GET", "/steward?unit=105&period=2024-06", "/steward"),
    ("POST", "/steward/consolidate", "/steward/{action}"),
    ("POST", "/steward/approve", "/steward/{action}"),
    ("POST", "/steward/accept", "/steward/{action}"),
    ("POST", "/steward/unaccept", "/steward/{action}"),
    ("POST", "/steward/unapprove", "/steward/{action}"),
    ("GET", "/submissions?unit=105&period=2024-06", "/submissions"),
    ("GET", "/audit?unit=105", "/audit"),
    ("GET", "/audit?unit=03386&period=2024-06", "/audit"),
    ("GET", "/province?unit=12&period=2024-06", "/province"),
    ("GET", "/province?unit=105&period=2024-06", "/province"),
    ("GET", "/province/summary?unit=12&period=2024-06", "/province/summary"),
    ("GET", "/province/summary.xlsx?unit=105&period=2024-06", "/province/summary.xlsx"),
    ("GET", "/province/summary.docx?unit=105&period=2024-06", "/province/summary.docx"),
    ("GET", "/province/export.zip?unit=12&period=2024-06", "/province/export.zip"),
    # the web form (its JSON calls are tried with the page's token in tests/test_portal_entry.py)
    ("GET", "/entry?unit=03386&period=2024-06", "/entry"),
    ("GET", "/entry/changes?unit=03386&period=2024-06", "/entry/changes"),
    ("GET", "/entry/history?unit=03386&period=2024-06&indicator=crime_cases", "/entry/history"),
    ("POST", "/entry/save", "/entry/save"),
    ("POST", "/entry/validate", "/entry/validate"),
    ("POST", "/entry/submit", "/entry/submit"),
    ("POST", "/entry/discard", "/entry/discard"),
]
API = [
    ("GET", "/api/rollup?period=2024-06&unit=105", "/api/rollup"),
    ("GET", "/api/submissions?period=2024-06&unit=105", "/api/submissions"),
    ("GET", "/api/uploads/{upload}", "/api/uploads/{upload_id}"),
    ("POST", "/api/submissions", "/api/submissions"),
]
# Routes that act only on the caller's own things, or on nothing of a unit.
OWN_ONLY = {
    "/",
    "/login",
    "/logout",
    "/lang/{lang}",
    "/submit",
    "/submissions",
    "/healthz",
    "/favicon.ico",
    "/api/docs",
    "/api/openapi.json",
    "/api/validate",
    "/static",
}
# Public reference data for any logged-in user; a unit's figures only in scope (tested below).
REFERENCE = {"/units/{code}"}
# Users of other units: a sibling commune, a sibling district's steward and viewer, another
# province's steward.
OTHERS = ["xa.03387", "huyen.106", "xem.106", "tinh.11"]


def test_every_route_is_in_the_isolation_list(client):
    listed = {p for _, _, p in PAGES + API} | OWN_ONLY | REFERENCE
    routes = {path for path, _ in app_routes(client.app)}
    assert len(routes) > 30  # the included routers' routes too
    assert routes - listed == set()


@pytest.fixture
def things(client, settings):
    """An upload of commune 03386 stored as a version, for the other users to try."""
    from portal_fixtures import wait_for

    login(client, "xa.03386")
    r = upload(client, OWN)
    up = int(r.url.path.rsplit("/", 1)[1])
    portal = client.app.state.portal
    wait_for(lambda: portal.uploads.get(up).ingest_state == "loaded")
    row = portal.reader.query("SELECT submission_id FROM fct_submission WHERE unit_code = '03386'")
    client.cookies.clear()
    return {"upload": up, "version": row[0]["submission_id"]}


@pytest.mark.parametrize("who", OTHERS)
def test_pages_refuse_users_of_other_units(client, things, who):
    login(client, who)
    token = csrf_of(client, "/submissions")
    for method, path, _ in PAGES:
        url = path.format(**things)
        if method == "GET":
            r = client.get(url, follow_redirects=False)
        else:
            unit = "03386" if path.endswith("consolidate") else "105"
            r = client.post(
                url,
                data={"csrf_token": token, "unit": unit, "period": "2024-06"},
                follow_redirects=False,
            )
        assert r.status_code in (403, 404), (who, url, r.status_code)


@pytest.mark.parametrize("who", OTHERS)
def test_api_refuses_users_of_other_units(client, settings, things, who):
    from tonghop.portal.accounts import Accounts

    h = {"Authorization": f"Bearer {Accounts(settings.accounts).new_token(who)}"}
    for method, path, _ in API:
        url = path.format(**things)
        if method == "GET":
            r = client.get(url, headers=h)
        else:
            r = client.post(url, headers=h, files={"file": (OWN.name, OWN.read_bytes())})
        assert r.status_code in (403, 404), (who, url, r.status_code)
    own = client.get("/api/submissions?period=2024-06", headers=h).json()
    assert all(x["unit_code"] != "03386" for x in own)


def test_lists_show_only_the_users_units(client, things):
    login(client, "xa.03387")
    page = client.get("/submissions?period=2024-06").text
    assert "03386" not in page
    login(client, "huyen.105")  # the district above sees its commune's version
    assert "03386 Phường Quyết Thắng" in client.get("/submissions?period=2024-06").text


@pytest.mark.parametrize("who", OTHERS)
def test_unit_pages_show_others_the_reference_data_only(client, things, who):
    login(client, who)
    r = client.get("/units/03386?period=2024-06")
    assert r.status_code == 200  # what the unit is: public reference data
    assert "Phường Quyết Thắng" in r.text and "không thuộc phạm vi của bạn" in r.text
    for secret in ("/versions/", "/uploads/", "Các kỳ đã báo cáo", "Số liệu phiên bản"):
        assert secret not in r.text, (who, secret)
