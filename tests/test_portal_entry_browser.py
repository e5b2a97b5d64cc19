"""The web form in a real browser (Debian's Chromium driven by Playwright, no browser download):
a commune fills its June form from empty with the keyboard, sees a part-greater-than-whole
error appear and go as it corrects it, reloads and finds its draft, goes offline and back,
checks everything, comments and marks a value, submits, and gets the version, verdict and
report the same values uploaded as a file get; its district steward corrects another commune's
form on its behalf; the form in English and on a 390 px screen. Screenshots go to
data/screenshots/entry/ (or $TONGHOP_SCREENSHOTS/../entry)."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    LiveServer,
    add_users,
    history_warehouse,
    make_settings,
    wait_for,
)
from test_portal_browser import ARGS, CHROMIUM, SHOTS

from conftest import SAMPLES
from service import entry, submissions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not shutil.which("chromium") and not __import__("pathlib").Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]
ENTRY_SHOTS = SHOTS.parent / "entry"
JUNE = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"
# how the clerk types some of the June figures: Vietnamese decimals
TYPED = {"safe_area_rate": "72,22", "poppy_destroyed_m2": "12,5"}


@pytest.fixture
def browser():
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def june() -> dict[str, str]:
    with open(JUNE, encoding="utf-8") as fh:
        return {r["indicator"]: r["value"] for r in csv.DictReader(fh)} | TYPED


def stored(portal, upload_id: int, unit: str) -> dict:
    wait_for(lambda: portal.uploads.get(upload_id).ingest_state == "loaded", 90)
    up = portal.uploads.get(upload_id)
    row = portal.read(submissions.stored, unit, "2024-06", up.content_hash)
    return {
        "verdict": up.verdict,
        "record": up.report,
        "hash": up.content_hash,
        "version": row["version"],
        "status": row["status"],
        "issues": portal.read(submissions.issues, row["submission_id"]),
        "submission_id": row["submission_id"],
    }


def test_a_commune_fills_its_form_in_the_browser(browser, tmp_path, history_warehouse):  # noqa: F811
    from tonghop.portal.app import create_app

    root = tmp_path / "a"
    root.mkdir()
    shutil.copy(history_warehouse, root / "tonghop.duckdb")
    settings = make_settings(
        root, background=True, worker="process", snapshot_poll=0.3, snapshot_quiet=0.2
    )
    add_users(settings)
    ENTRY_SHOTS.mkdir(parents=True, exist_ok=True)
    for old in ENTRY_SHOTS.glob("*.png"):
        old.unlink()
    app = create_app(settings)
    portal = app.state.portal
    with LiveServer(app) as server:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        url = server.url
        errors: list[str] = []  # the form's script and its calls (the landing pages are #19's)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and ("/entry" in r.url or "/static/" in r.url)
                else None
            ),
        )

        def shot(name: str, full: bool = True) -> None:
            page.screenshot(path=str(ENTRY_SHOTS / f"{name}.png"), full_page=full)

        def log_in(name: str) -> None:
            page.goto(f"{url}/login")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")

        def settled() -> None:
            page.wait_for_function(
                "() => !document.querySelector('tr.waiting') && /Đã lưu|Saved|Đã có mạng/"
                ".test(document.getElementById('status').textContent)"
            )

        # --- the commune, from an empty form, with the keyboard only ------------------------
        log_in("xa.03386")
        page.goto(f"{url}/entry?period=2024-06")
        assert page.locator("td.value input[data-code]").count() == 30
        assert all(v == "" for v in page.locator("td.value input[data-code]").evaluate_all(
            "els => els.map(e => e.value)"))  # fmt: skip
        assert "thường 0–11" in page.inner_text("#row-crime_cases")  # its history's range
        shot("01_empty_form")
        values = june()
        codes = page.locator("td.value input[data-code]").evaluate_all(
            "els => els.map(e => e.dataset.code)"
        )
        page.focus("#v-crime_cases")
        for k, code in enumerate(codes):
            if code == "crime_solved":
                page.keyboard.type("5")  # more cases solved than cases (0)
                page.keyboard.press("Enter")
                page.wait_for_selector("#row-crime_solved.has-error")
                msg = page.inner_text("#row-crime_solved ul.msgs")
                assert "Số vụ điều tra, khám phá = 5 lớn hơn Số vụ phạm pháp hình sự" in msg
                assert "Số vụ khám phá không thể lớn hơn số vụ xảy ra" in msg
                assert page.evaluate("document.activeElement.id") == "v-crime_clearance_rate"
                shot("02_part_greater_than_whole", full=False)
                page.keyboard.press("Shift+Enter")  # back up the column, the value selected
                assert page.evaluate("document.activeElement.id") == "v-crime_solved"
                page.keyboard.type(values[code])
                page.keyboard.press("Enter")
                page.wait_for_selector("#row-crime_solved:not(.has-error)")
                assert page.inner_text("#row-crime_solved ul.msgs") == ""
                continue
            if code in values:
                page.keyboard.type(values[code])
            page.keyboard.press("Tab" if k % 2 else "Enter")  # both move down the column
        settled()
        assert page.evaluate("document.activeElement.id") == "validate"
        assert "đã nhập 26/30 chỉ tiêu" in page.inner_text("#summary")
        assert "0 lỗi" in page.inner_text("#summary")
        assert "72,22" in page.inner_text("#row-safe_area_rate")  # computed from its parts
        shot("03_filled")

        # --- a reload finds the draft --------------------------------------------------------
        page.reload()
        got = dict(zip(codes, page.locator("td.value input[data-code]").evaluate_all(
            "els => els.map(e => e.value)"), strict=True))  # fmt: skip
        assert {c: v for c, v in got.items() if v} == values
        assert "người sửa cuối: xa.03386" in page.inner_text("#draft-line")

        # --- offline and back ------------------------------------------------------------------
        ctx.set_offline(True)
        page.click("#v-security_models_maintained")
        page.keyboard.press("Control+A")
        page.keyboard.type("4")
        page.keyboard.press("Enter")
        page.wait_for_selector("#notice:not([hidden])")
        assert "Mất kết nối" in page.inner_text("#notice")
        assert page.locator("#row-security_models_maintained.waiting").count() == 1
        kept = page.evaluate("localStorage.getItem('tonghop-entry:03386:2024-06')")
        assert json.loads(kept)["security_models_maintained"]["value"] == "4"
        shot("04_offline", full=False)
        assert portal.drafts.fields("03386", "2024-06")["security_models_maintained"].value == "3"
        ctx.set_offline(False)
        page.wait_for_function(
            "() => /Đã có mạng lại/.test(document.getElementById('status').textContent)"
        )
        assert page.locator("tr.waiting").count() == 0
        assert page.evaluate("localStorage.getItem('tonghop-entry:03386:2024-06')") is None
        assert portal.drafts.fields("03386", "2024-06")["security_models_maintained"].value == "4"
        values["security_models_maintained"] = "4"

        # --- a comment and a follow-up mark, the value's history -------------------------------
        page.click("#v-propaganda_participants")  # a click shows its last periods
        page.wait_for_function(
            "() => document.getElementById('d-label').textContent === 'Số lượt người tham dự'"
            " && document.querySelectorAll('#d-periods tr').length === 6"
        )
        hist = page.inner_text("#d-periods")
        assert "2024-01" in hist and "2024-05" in hist and "438" in hist
        page.keyboard.press("Control+Enter")
        assert page.evaluate("document.activeElement.id") == "d-note"
        page.keyboard.type("Hội nghị tuyên truyền cấp xã, có danh sách")
        page.keyboard.press("Tab")
        page.keyboard.press("Space")  # the follow-up mark
        settled()
        f = portal.drafts.fields("03386", "2024-06")["propaganda_participants"]
        assert f.follow_up and f.note == "Hội nghị tuyên truyền cấp xã, có danh sách"
        page.wait_for_selector("#d-changes tr:nth-child(2)")
        shot("05_details")

        # --- check everything, then submit --------------------------------------------------------
        page.click("#validate")
        page.wait_for_function(
            "() => /kiểm tra toàn bộ/.test(document.getElementById('summary').textContent)"
        )
        assert "ĐƯỢC CHẤP NHẬN" in page.inner_text("#summary")
        assert "Tệp sẽ được lưu thành phiên bản 1" in page.inner_text("#outcome")
        shot("06_checked")
        page.click("#send")
        page.wait_for_url("**/uploads/*")
        page.wait_for_selector("#stored.done")
        assert "Đã lưu thành phiên bản 1" in page.inner_text("#stored")
        shot("07_verdict")
        by_form = stored(portal, int(page.url.rsplit("/", 1)[1]), "03386")
        page.goto(f"{url}/versions/{by_form['submission_id']}")
        notes = page.inner_text("section.entry-notes")
        assert "Hội nghị tuyên truyền cấp xã, có danh sách" in notes and "cần xem lại" in notes
        assert "Nhập trên web bởi xa.03386" in notes
        shot("08_version_notes")
        archived = next(settings.archive.rglob("*03386_2024-06.csv")).read_bytes()
        notes_of = {"propaganda_participants": "Hội nghị tuyên truyền cấp xã, có danh sách"}
        assert archived == entry.canonical_csv(
            "03386",
            "2024-06",
            [entry.Entry(c, values[c], notes_of.get(c, "")) for c in codes if c in values],
            portal.catalog,
        )

        # --- the district steward, on behalf of another commune ------------------------------
        page.click("text=Đăng xuất")
        log_in("huyen.105")
        page.goto(f"{url}/entry?unit=03387&period=2024-06")
        assert "Bạn đang nhập thay cho 03387" in page.inner_text("main")
        assert "Đang hiện số liệu của phiên bản 1" in page.inner_text("#draft-line")
        page.click("#v-propaganda_sessions")
        page.keyboard.press("Control+A")
        page.keyboard.type("6")
        page.keyboard.press("Enter")
        settled()
        shot("09_on_behalf")
        page.click("#send")
        page.wait_for_url("**/uploads/*")
        page.wait_for_selector("#stored.done")
        behalf = stored(portal, int(page.url.rsplit("/", 1)[1]), "03387")
        assert behalf["version"] == 2 and behalf["status"] == "accepted"
        up = portal.uploads.get(int(page.url.rsplit("/", 1)[1]))
        assert (up.actor, up.sender, up.unit_code) == ("huyen.105", "105", "03387")
        acts = [(a["action"], a["unit_code"]) for a in portal.db.audit_rows(actor="huyen.105")
                if a["action"].startswith("entry_")]  # fmt: skip
        assert acts == [("entry_edit", "03387"), ("entry_submit", "03387")]

        # --- English, and a phone ------------------------------------------------------------------
        page.goto(f"{url}/lang/en?next=/entry%3Funit%3D03386%26period%3D2024-06")
        main = page.inner_text("main")
        assert "Enter the report" in main and "usually 0–11" in main
        assert "Sent at" in page.inner_text("#draft-line")
        shot("10_english")
        page.goto(f"{url}/lang/vi?next=/entry%3Fperiod%3D2024-06")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{url}/entry?unit=03386&period=2024-06")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("tr.group").first.scroll_into_view_if_needed()
        shot("11_phone", full=False)
        page.click("#row-crime_cases button.more")
        page.wait_for_selector("#details.open")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot("12_phone_details", full=False)
        ctx.close()
        assert errors == []

    # --- the same values uploaded as a file, to a portal in the same state ---------------------
    from fastapi.testclient import TestClient
    from portal_fixtures import login, upload

    other = tmp_path / "b"
    other.mkdir()
    shutil.copy(history_warehouse, other / "tonghop.duckdb")
    s2 = make_settings(other)
    add_users(s2)
    with TestClient(create_app(s2)) as c:
        login(c, "xa.03386")
        path = tmp_path / "03386_2024-06.csv"
        path.write_bytes(archived)
        r = upload(c, path)
        by_file = stored(c.app.state.portal, int(str(r.url).rsplit("/", 1)[1]), "03386")
    for k in ("verdict", "record", "hash", "version", "status", "issues", "submission_id"):
        assert by_form[k] == by_file[k], k
    assert len(list(ENTRY_SHOTS.glob("*.png"))) == 12
