"""The portal in a real browser (Debian's Chromium driven by Playwright; no browser download):
a commune logs in, downloads its form, uploads it with one mistake, reads the verdict, fixes
it, uploads again and sees it stored; the district steward sees the grid, consolidates and
approves; the province reads the rollup and downloads the summary. A screenshot of each page
goes to data/screenshots/portal/ (or $TONGHOP_SCREENSHOTS)."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    HELD_BACK,
    PASSWORD,
    LiveServer,
    add_users,
    base_warehouse,
    make_settings,
    portal_root,
)

from conftest import ROOT, SAMPLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("TONGHOP_SCREENSHOTS") or ROOT / "data" / "screenshots" / "portal")
JUNE = SAMPLES / "valid" / "2024-06" / "105" / f"{HELD_BACK}_2024-06.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


def fill_form(src: Path, dest: Path, **changes: float) -> Path:
    """Type the commune's June figures into its downloaded form, with some changed."""
    from openpyxl import load_workbook

    with open(JUNE, encoding="utf-8") as fh:
        values = {r["indicator"]: float(r["value"]) for r in csv.DictReader(fh)}
    values.update(changes)
    wb = load_workbook(src)
    ws = wb["BaoCao"]
    for row in ws.iter_rows(min_row=13):
        code = row[1].value
        if code in values:
            v = float(values[code])
            row[4].value = int(v) if v.is_integer() else v
    wb.save(dest)
    return dest


@pytest.fixture
def browser():
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_the_three_users_in_a_browser(browser, portal_root, tmp_path):
    from tonghop.portal.app import create_app

    settings = make_settings(
        portal_root, background=True, worker="process", snapshot_poll=0.3, snapshot_quiet=0.2
    )
    add_users(settings)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    with LiveServer(create_app(settings)) as server:
        ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        url = server.url

        def shot(name: str, full: bool = True) -> None:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)

        def log_in(name: str) -> None:
            page.goto(f"{url}/login")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")

        # --- the commune -----------------------------------------------------------------
        page.goto(f"{url}/")
        assert "/login" in page.url
        shot("01_login")
        log_in("xa.03386")
        page.goto(f"{url}/form?period=2024-06")
        assert "Hạn gửi" in page.inner_text("main") and "17/06/2024" in page.inner_text("main")
        shot("02_form")
        with page.expect_download() as dl:
            page.click("text=Tải biểu mẫu Excel")
        form = tmp_path / "downloaded.xlsx"
        dl.value.save_as(form)
        assert dl.value.suggested_filename == "03386_2024-06.xlsx"

        wrong = fill_form(form, tmp_path / "03386_2024-06.xlsx", crime_solved=1)  # one mistake
        page.goto(f"{url}/submit")
        shot("03_submit")
        page.set_input_files("input[type=file]", str(wrong))
        page.click("button.primary")
        page.wait_for_url("**/uploads/*")
        main = page.inner_text("main")
        assert "BỊ TỪ CHỐI" in main and "crime_solved_le_cases" in main and "Ô BaoCao!E" in main
        page.wait_for_selector("#stored.done")  # the page refreshes itself until stored
        assert "Phiên bản 1 bị từ chối" in page.inner_text("#stored")
        verdict_rows = page.locator("table.issues tbody tr").all_inner_texts()
        shot("04_verdict_rejected")
        # the stored version's report lists the same problems the verdict showed at once
        page.goto(f"{url}/versions/03386:2024-06:v1")
        assert page.locator("table.issues tbody tr").all_inner_texts() == verdict_rows

        (tmp_path / "fixed").mkdir()
        fixed = fill_form(form, tmp_path / "fixed" / "03386_2024-06.xlsx", crime_solved=0)
        page.goto(f"{url}/submit")
        page.set_input_files("input[type=file]", str(fixed))
        page.click("button.primary")
        page.wait_for_url("**/uploads/*")
        assert "ĐƯỢC CHẤP NHẬN" in page.inner_text("main")
        page.wait_for_selector("#stored.done")
        assert "Đã lưu thành phiên bản 2" in page.inner_text("#stored")
        shot("05_verdict_stored")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        shot("05b_verdict_stored_phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("nav >> text=Báo cáo đã gửi")
        page.goto(f"{url}/submissions?period=2024-06")
        main = page.inner_text("main")
        assert "v2" in main and "được chấp nhận" in main and "bị từ chối" in main
        shot("06_submissions")
        page.click("text=Đăng xuất")

        # --- the district steward --------------------------------------------------------
        log_in("huyen.105")
        page.goto(f"{url}/steward?period=2024-06")
        main = page.inner_text("main")
        assert "03386 Phường Quyết Thắng" in main and "Chênh lệch giữa các cấp" in main
        shot("07_steward_grid")
        page.click("button[value=consolidate]")
        page.wait_for_selector("p.job.completed")
        assert "7/7" in page.inner_text("main")
        page.click("button[value=approve]")
        assert "Xác nhận phê duyệt" in page.inner_text("main")  # a confirmation page first
        page.click("form.confirm button")
        page.wait_for_selector("p.flash.ok")
        assert "Đã phê duyệt 105 2024-06" in page.inner_text("main")
        assert "đã phê duyệt bởi huyen.105" in page.inner_text("main")
        shot("08_steward_approved")
        page.set_viewport_size({"width": 390, "height": 844})
        shot("08b_steward_phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("text=Đăng xuất")

        # --- the province ----------------------------------------------------------------
        log_in("tinh.12")
        page.goto(f"{url}/province?unit=12&period=2024-06")
        main = page.inner_text("main")
        assert "Tỷ lệ điều tra, khám phá" in main and "So với cùng kỳ" in main
        assert page.locator("figure.chart svg").count() == 2
        shot("09_province_rollup")
        page.click("text=Báo cáo tổng hợp kỳ")
        assert "Toàn dân bảo vệ an ninh Tổ quốc tháng 06/2024" in page.inner_text("body")
        shot("10_summary")
        page.go_back()
        with page.expect_download() as dl:
            page.click("text=Tải Excel (.xlsx)")
        xlsx = tmp_path / "summary.xlsx"
        dl.value.save_as(xlsx)
        from openpyxl import load_workbook

        assert load_workbook(xlsx).active["A1"].value.startswith("BÁO CÁO KẾT QUẢ")
        with page.expect_download() as dl:
            page.click("text=Tải Parquet (.zip)")
        assert dl.value.suggested_filename == "12_2024-06_parquet.zip"
        page.goto(f"{url}/lang/en?next=/province%3Funit%3D12%26period%3D2024-06")
        assert "Consolidated figures" in page.inner_text("main")
        shot("11_province_english")
        ctx.close()
    assert len(list(SHOTS.glob("*.png"))) >= 12
