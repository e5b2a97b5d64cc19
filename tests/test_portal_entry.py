"""The web form (pages/entry.py) through FastAPI's test client: the catalog's layout in both
languages, the check as typed, drafts shared by two people, the whole dry run, submitting
through the upload's path (the same verdict, version and report as the file uploaded), entering
on behalf of a commune, comments and follow-up marks on the version page, a value's history,
unit isolation, and the one script allowed on this page only."""

from __future__ import annotations

import csv
import html
import re
import shutil

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    CSRF,
    add_users,
    base_warehouse,
    history_warehouse,
    login,
    make_settings,
    portal_root,
    text_of,
    upload,
    wait_for,
)

from conftest import SAMPLES
from service import entry, submissions
from validations.template import form_sections

JUNE = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
FORM = {"unit": "03386", "period": "2024-06"}


def june_values() -> dict[str, str]:
    with open(JUNE, encoding="utf-8") as fh:
        return {r["indicator"]: r["value"] for r in csv.DictReader(fh)}


def make_client(root, history_warehouse):  # noqa: F811
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    shutil.copy(history_warehouse, root / "tonghop.duckdb")
    settings = make_settings(root)
    add_users(settings)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path, history_warehouse):  # noqa: F811
    with make_client(tmp_path, history_warehouse) as c:
        yield c


def open_form(client, who: str, unit: str = "03386", period: str = "2024-06", lang: str = "vi"):
    login(client, who)
    if lang != "vi":
        client.get(f"/lang/{lang}?next=/")
    r = client.get(f"/entry?unit={unit}&period={period}")
    assert r.status_code == 200, r.text[:500]
    return r, {"X-CSRF-Token": CSRF.search(r.text)[1]}


def save(client, headers, changes: dict[str, str], client_id: str = "a", since: int = 0, **form):
    body = {
        **(form or FORM),
        "client": client_id,
        "since": since,
        "changes": [{"indicator": k, "value": v} for k, v in changes.items()],
    }
    r = client.post("/entry/save", json=body, headers=headers)
    assert r.status_code == 200, r.text[:500]
    return r.json()


def rules_of(state: dict, code: str) -> list[str]:
    return [i["rule"] for i in state["fields"][code]["issues"]]


# --- the page ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_form_is_the_excel_templates_layout(client, lang):
    portal = client.app.state.portal
    r, _ = open_form(client, "xa.03386", lang=lang)
    cat = portal.catalog
    sections = form_sections(cat, entry.form_indicators(cat, "C", "2024-06"))
    page = r.text
    found = re.findall(r'<tr class="group"><th colspan="5">([^<]+)</th>', page)
    assert found == [f"{s.number}. {s.label(lang)}" for s in sections]
    codes = re.findall(r'<input id="v-([a-z0-9_]+)"', page)
    assert codes == [ind.code for s in sections for _, ind in s.rows]
    for s in sections:
        for n, ind in s.rows:
            row = page[page.index(f'id="row-{ind.code}"') :].split("</tr>", 1)[0]
            assert f'<td class="no">{n}</td>' in row
            assert f">{ind.label(lang)}</label>" in row and f">{ind.unit(lang)}</td>" in row
    text = text_of(page)
    assert ("Nhập số liệu" if lang == "vi" else "Enter the report") in text
    if lang == "vi":
        from test_portal_i18n import _english

        assert _english(html.unescape(text)) == []
    assert ("thường 0–11" if lang == "vi" else "usually 0–11") in text  # crime_cases' history


def test_only_the_form_runs_a_script_its_own_from_static(client):
    r, _ = open_form(client, "xa.03386")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts == [(' src="/static/entry.js" defer', "")]
    assert client.get("/static/entry.js").status_code == 200
    assert (
        "script-src 'none'" in client.get("/form?period=2024-06").headers["content-security-policy"]
    )
    from tonghop.portal import app
    from tonghop.portal.pages import entry as page

    assert app.CSP.replace("script-src 'none'", "script-src 'self'") == page.CSP


# --- checked as typed ----------------------------------------------------------------------------
def test_a_part_greater_than_its_whole_appears_and_goes_with_the_files_words(client):
    _, h = open_form(client, "xa.03386")
    state = save(client, h, {"crime_cases": "3", "crime_solved": "5"})
    (issue,) = state["fields"]["crime_solved"]["issues"]
    assert issue["rule"] == "crime_solved_le_cases" and issue["severity"] == "error"
    assert issue["message"].endswith("= 5 lớn hơn Số vụ phạm pháp hình sự (tội phạm về TTXH) = 3.")
    assert issue["hint"].startswith("Số vụ khám phá không thể lớn hơn số vụ xảy ra")
    assert state["fields"]["crime_cases"]["involved"] == ["crime_solved_le_cases"]
    assert state["summary"]["errors"] == 1  # blank required fields are counted apart
    assert len(state["missing"]) > 20
    state = save(client, h, {"crime_solved": "2"}, since=state["seq"])
    assert state["fields"]["crime_solved"]["issues"] == []
    assert state["fields"]["crime_clearance_rate"]["computed"].endswith("66,67")
    assert state["summary"]["errors"] == 0


def test_vietnamese_numbers_are_read_by_the_projects_parser(client):
    _, h = open_form(client, "xa.03386")
    state = save(client, h, {"poppy_destroyed_m2": "12,5", "security_models_new": "1"})
    assert state["fields"]["poppy_destroyed_m2"]["reading"] == ""  # typed as it reads
    assert rules_of(state, "poppy_destroyed_m2") == []
    state = save(client, h, {"poppy_destroyed_m2": "12.5"})
    assert state["fields"]["poppy_destroyed_m2"]["reading"] == "đọc là 12,5"
    # "1.234" is one thousand two hundred thirty-four: above the commune's usual 0–679
    state = save(client, h, {"propaganda_participants": "1.234"})
    assert rules_of(state, "propaganda_participants") == ["outlier_history"]
    (w,) = state["fields"]["propaganda_participants"]["issues"]
    assert w["message"].startswith("Số lượt người tham dự = 1.234: gấp 9,1 lần mức thường thấy")
    state = save(client, h, {"crime_cases": "12a", "poppy_destroyed_m2": "1.250"})
    assert rules_of(state, "crime_cases") == ["value_not_number"]
    # 1250 or 1,25? read as 1250, which is also far above the commune's usual 0–999,99
    assert rules_of(state, "poppy_destroyed_m2") == ["value_ambiguous", "outlier_history"]


def test_drafts_survive_a_reload_and_two_people_see_each_others_saves(client):
    _, h = open_form(client, "xa.03386")
    first = save(client, h, {"crime_cases": "3"}, client_id="clerk")
    seen = first["seq"]
    # the district steward, on behalf of the commune, in another browser
    other = client.__class__(client.app)
    _, h2 = open_form(other, "huyen.105")
    state = save(other, h2, {"crime_solved": "1"}, client_id="steward", since=seen)
    assert [o["indicator"] for o in state["others"]] == []  # it had not seen the clerk's: fine
    back = client.get(f"/entry/changes?unit=03386&period=2024-06&since={seen}&client=clerk").json()
    (o,) = back["others"]
    assert o["indicator"] == "crime_solved" and o["value"] == "1"
    assert o["text"].startswith("huyen.105 vừa sửa Số vụ điều tra, khám phá thành 1")
    # last write per field
    save(client, h, {"crime_solved": "2"}, client_id="clerk", since=back["seq"])
    page = client.get("/entry?unit=03386&period=2024-06").text
    assert 'value="3"' in page.split('id="v-crime_cases"')[1][:80]
    assert 'value="2"' in page.split('id="v-crime_solved"')[1][:80]
    assert "người sửa cuối: xa.03386" in text_of(page)


def test_the_whole_check_is_the_upload_verdict(client):
    _, h = open_form(client, "xa.03386")
    save(client, h, june_values() | {"crime_solved": "1"})
    full = client.post("/entry/validate", json=FORM, headers=h).json()
    dry = client.app.state.portal.uploads.dry_run(
        client.app.state.portal.accounts.get("xa.03386"),
        "03386_2024-06.csv",
        entry.canonical_csv(
            "03386",
            "2024-06",
            [entry.Entry(k, v) for k, v in (june_values() | {"crime_solved": "1"}).items()],
            client.app.state.portal.catalog,
        ),
    )
    got = sorted((code, i["rule"], i["message"]) for code, f in full["fields"].items()
                 for i in f["issues"])  # fmt: skip
    want = sorted((i["indicator"], i["rule"], i["message"]) for i in dry["issues"])
    assert got == want and full["summary"]["status"] == dry["status"] == "rejected"
    assert full["outcome"].startswith("Tệp sẽ được lưu thành phiên bản 1")


# --- submitting ----------------------------------------------------------------------------------
def submit(client, **fields):
    token = CSRF.search(client.get("/entry?unit=03386&period=2024-06").text)[1]
    return client.post("/entry/submit", data={"csrf_token": token, **FORM, **fields})


def stored_of(portal, upload_id: int) -> dict:
    wait_for(lambda: portal.uploads.get(upload_id).ingest_state == "loaded", 60)
    up = portal.uploads.get(upload_id)
    row = portal.read(submissions.stored, "03386", "2024-06", up.content_hash)
    issues = portal.read(submissions.issues, row["submission_id"])
    return {"upload": up, "row": row, "issues": issues}


def comparable(found: dict) -> dict:
    rec = dict(found["upload"].report)
    return {
        "verdict": found["upload"].verdict,
        "record": rec,
        "hash": found["upload"].content_hash,
        "version": found["row"]["version"],
        "status": found["row"]["status"],
        "issues": found["issues"],
    }


def test_a_submitted_form_is_the_same_file_uploaded(client, tmp_path, history_warehouse):  # noqa: F811
    portal = client.app.state.portal
    _, h = open_form(client, "xa.03386")
    values = june_values() | {"propaganda_participants": "5.000"}  # a history warning
    save(client, h, values)
    r = submit(client)
    assert r.status_code == 200 and "/uploads/" in str(r.url)
    by_form = stored_of(portal, int(str(r.url).rsplit("/", 1)[1]))
    archived = next(portal.settings.archive.rglob("*03386_2024-06.csv")).read_bytes()
    cat = portal.catalog
    assert archived == entry.canonical_csv(
        "03386", "2024-06", [entry.Entry(k, v) for k, v in values.items()], cat
    )
    (tmp_path / "other").mkdir()
    with make_client(tmp_path / "other", history_warehouse) as other:
        login(other, "xa.03386")
        path = tmp_path / "03386_2024-06.csv"
        path.write_bytes(archived)
        r = upload(other, path)
        by_file = stored_of(other.app.state.portal, int(str(r.url).rsplit("/", 1)[1]))
    a, b = comparable(by_form), comparable(by_file)
    assert a == b
    assert a["verdict"] == "accepted_with_warnings" and a["version"] == 1
    assert any(i["rule_id"] == "outlier_history" for i in a["issues"])


def test_the_page_without_its_script_submits_every_field(client):
    portal = client.app.state.portal
    open_form(client, "xa.03386")
    fields = {f"v:{k}": v for k, v in june_values().items()}
    r = submit(client, **fields, **{"n:crime_cases": "không có vụ nào", "f:crime_cases": "1"})
    found = stored_of(portal, int(str(r.url).rsplit("/", 1)[1]))
    assert found["upload"].verdict == "accepted" and found["row"]["version"] == 1
    vid = found["row"]["submission_id"]
    page = text_of(client.get(f"/versions/{vid}").text)
    assert "Ghi chú và đánh dấu cần xem lại" in page
    assert "không có vụ nào" in page and "⚑ cần xem lại" in page
    assert "Nhập trên web bởi xa.03386" in page
    assert portal.drafts.fields("03386", "2024-06")["crime_cases"].follow_up


def test_with_its_script_the_page_sends_the_draft_it_saved(client):
    """A field another person saved since is not overwritten by what this page still shows."""
    portal = client.app.state.portal
    _, h = open_form(client, "xa.03386")
    save(client, h, june_values() | {"propaganda_sessions": "5"}, client_id="other")
    r = submit(client, script="1", **{"v:propaganda_sessions": "4"})
    found = stored_of(portal, int(str(r.url).rsplit("/", 1)[1]))
    assert found["upload"].verdict == "accepted"
    sent = next(portal.settings.archive.rglob("*03386_2024-06.csv")).read_text()
    assert "03386,2024-06,propaganda_sessions,5," in sent


def test_nothing_typed_nothing_sent(client):
    open_form(client, "xa.03386")
    r = submit(client)
    assert "/entry" in str(r.url) and "Chưa nhập số liệu nào" in text_of(r.text)
    assert client.app.state.portal.uploads.of_units(["03386"], "2024-06") == []


def test_a_district_steward_enters_on_behalf_of_its_commune(client):
    portal = client.app.state.portal
    r, h = open_form(client, "huyen.105")
    assert "Bạn đang nhập thay cho 03386" in text_of(r.text)
    save(client, h, june_values(), client_id="steward")
    r = submit(client)
    found = stored_of(portal, int(str(r.url).rsplit("/", 1)[1]))
    up = found["upload"]
    assert (up.actor, up.sender, up.unit_code) == ("huyen.105", "105", "03386")
    assert found["row"]["status"] == "accepted"
    audit = portal.db.audit_rows(actor="huyen.105")
    mine = [a for a in audit if a["action"].startswith("entry_")]
    assert [a["action"] for a in mine] == ["entry_edit", "entry_submit"]
    assert all(a["unit_code"] == "03386" and "on behalf of 03386" in a["detail"] for a in mine)
    changes = portal.drafts.changes("03386", "2024-06", "crime_cases")
    assert changes[0]["changed_by"] == "huyen.105" and changes[0]["sender"] == "105"


def test_a_fields_history_its_versions_and_its_changes(client):
    portal = client.app.state.portal
    _, h = open_form(client, "xa.03386")
    save(client, h, june_values())
    stored_of(portal, int(str(submit(client).url).rsplit("/", 1)[1]))
    save(client, h, {"propaganda_participants": "300"}, since=10_000)
    got = client.get(
        "/entry/history?unit=03386&period=2024-06&indicator=propaganda_participants"
    ).json()
    assert [p["period"] for p in got["periods"]] == ["2024-01", "2024-02", "2024-03", "2024-04",
                                                      "2024-05"]  # fmt: skip
    assert [p["value"] for p in got["periods"]] == ["80", "438", "136", "64", "228"]
    (v1,) = got["versions"]
    assert v1["version"] == 1 and v1["value"] == june_values()["propaganda_participants"]
    assert [c["value"] for c in got["changes"]][:2] == [
        "300",
        june_values()["propaganda_participants"],
    ]


def test_a_new_draft_starts_from_the_newest_stored_version(client):
    portal = client.app.state.portal
    _, h = open_form(client, "xa.03387", unit="03387")  # its June report is stored
    page = client.get("/entry?unit=03387&period=2024-06").text
    assert "Đang hiện số liệu của phiên bản 1" in text_of(page)
    state = save(client, h, {"crime_cases": "2"}, unit="03387", period="2024-06")
    fields = portal.drafts.fields("03387", "2024-06")
    stored = portal.read(entry.latest_values, "03387", "2024-06")
    assert set(fields) == set(stored["values"]) and stored["version"] == 1
    assert fields["crime_solved"].from_version == 1 and fields["crime_cases"].value == "2"
    assert state["fields"]["crime_cases"]["by"] == "xa.03387"


def test_discarding_a_draft(client):
    portal = client.app.state.portal
    _, h = open_form(client, "xa.03386")
    save(client, h, {"crime_cases": "3"})
    token = CSRF.search(client.get("/entry?unit=03386&period=2024-06").text)[1]
    r = client.post("/entry/discard", data={"csrf_token": token, **FORM})
    assert "Đã bỏ bản nháp" in text_of(r.text)
    assert portal.drafts.fields("03386", "2024-06") == {}


# --- who may ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["xa.03387", "huyen.106", "xem.106", "tinh.11"])
def test_other_units_can_neither_see_nor_type_into_the_form(client, who):
    r, h = open_form(client, who, unit="", period="2024-06") if who != "xem.106" else (None, None)
    if h is None:
        login(client, who)
        h = {"X-CSRF-Token": "x"}
    assert client.get("/entry?unit=03386&period=2024-06").status_code in (403, 404)
    assert client.post("/entry/save", json={**FORM, "changes": [{"indicator": "crime_cases",
                       "value": "9"}]}, headers=h).status_code in (403, 404)  # fmt: skip
    assert client.post("/entry/validate", json=FORM, headers=h).status_code in (403, 404)
    for url in ("/entry/changes?unit=03386&period=2024-06",
                "/entry/history?unit=03386&period=2024-06&indicator=crime_cases"):  # fmt: skip
        assert client.get(url).status_code in (403, 404)
    assert client.app.state.portal.drafts.fields("03386", "2024-06") == {}


def test_a_save_without_the_pages_token_is_refused(client):
    open_form(client, "xa.03386")
    r = client.post("/entry/save", json={**FORM, "changes": []})
    assert r.status_code == 403


def test_the_suspect_cell_of_the_error_localisation_is_marked(client):
    """Issue 22's localisation: the field it names is marked, with its sentence."""
    _, h = open_form(client, "xa.03386")
    state = save(client, h, {"crime_cases": "3", "crime_solved": "2", "crime_clearance_rate": "90"})
    assert state["fields"]["crime_clearance_rate"]["suspect"] == (
        "Số liệu có thể sai: Tỷ lệ điều tra, khám phá = 90; giá trị làm mọi quy tắc thỏa mãn: 66,67"
    )  # the form has fields, not the CSV's rows


def test_field_checks_typed_at_the_same_moment_are_one_batch():
    """The warm checker gathers what arrives in a burst (tonghop.portal.checker, `_wait`):
    twenty drafts checked at one moment are one or two validations, and a check alone
    is not kept waiting."""
    import threading
    import time

    from tonghop.portal.checker import Checker

    class Validator:
        def __init__(self):
            self.batches = []

        def validate(self, raws):
            time.sleep(0.01)  # a validation takes its time: the others queue meanwhile
            self.batches.append(list(raws))
            return [f"checked {r}" for r in raws]

    checker = Checker()
    fake = Validator()
    checker._current = lambda: fake  # type: ignore[method-assign]
    try:
        t = time.monotonic()
        assert checker.validate(["alone"]) == ["checked alone"]
        assert time.monotonic() - t < 0.04  # nobody else typing: no wait
        time.sleep(0.2)
        got = {}
        start = threading.Barrier(20)

        def one(k):
            start.wait()
            got[k] = checker.validate([k])[0]

        threads = [threading.Thread(target=one, args=(f"d{k}",)) for k in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert got == {f"d{k}": f"checked d{k}" for k in range(20)}
        assert len(fake.batches) <= 1 + 3 and sum(map(len, fake.batches)) == 21
    finally:
        checker.close()


def test_a_districts_form_shows_the_total_of_parts_beside_the_whole(client):
    _, h = open_form(client, "huyen.105", unit="105")
    state = save(
        client,
        h,
        {"wanted_existing": "5", "wanted_surrendered": "3", "wanted_arrested": "4"},
        unit="105",
        period="2024-06",
    )
    whole = state["fields"]["wanted_existing"]
    assert whole["total"] == "Số đối tượng truy nã đầu thú + Số đối tượng truy nã bị bắt = 7"
    assert rules_of(state, "wanted_surrendered") == ["wanted_resolved_le_existing"]
    assert state["fields"]["wanted_surrender_rate"]["computed"].endswith("60")
