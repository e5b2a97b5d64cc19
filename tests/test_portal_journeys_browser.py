"""Each demo user's whole journey in a real browser (Debian's Chromium through Playwright),
from the login page, with today's date after the sample data (TONGHOP_TODAY 2026-11-22: the
small warehouse holds 2024-05 and 2024-06 of Lai Châu), in Vietnamese and in English, and at
390 px (a phone): no page is wider than the screen.

- xa.03386 (commune Quyết Thắng, merged into Đoàn Kết by the 2025 reform): lands on its last
  period's form with a sentence on the reform, follows it to its successor, sends a file with a
  mistake, reads the verdict, fixes it, finds it stored, drills to its unit page.
- huyen.105 (district Thành phố Lai Châu, abolished by the reform): lands on its grid of
  2024-06, drills to a commune, consolidates, approves (a confirmation page first), later
  finds it cannot unapprove what the province accepted, and why.
- tinh.12 (province Lai Châu): lands on its grid, accepts 105, reads the figures, the summary
  inside the portal and the audit page; un-accepts 105 (confirmed).
- xem.12 (viewer): lands on the figures, reads the summary, downloads it.
Screenshots go to data/screenshots/journeys/ (or $TONGHOP_SCREENSHOTS/journeys)."""

from __future__ import annotations

import os
import re
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
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SHOTS = (
    Path(os.environ["TONGHOP_SCREENSHOTS"]) / "journeys"
    if os.environ.get("TONGHOP_SCREENSHOTS")
    else ROOT / "data" / "screenshots" / "journeys"
)
JUNE = SAMPLES / "valid" / "2024-06" / "105" / f"{HELD_BACK}_2024-06.csv"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.slow,
]


@pytest.fixture
def browser():
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Walk:
    """One user's browser tab: log in, visit, check the width on a phone, take screenshots
    (numbered across the walks, in the order taken)."""

    taken = 0

    def __init__(self, browser, url: str, who: str, tmp: Path):
        self.ctx = browser.new_context(accept_downloads=True, viewport=DESK)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(30_000)
        self.url, self.who, self.tmp, self.n = url, who, tmp, 0
        self.widths: dict[str, int] = {}

    def shot(self, name: str) -> None:
        """A screenshot on a desk and on a phone; the page is no wider than the phone."""
        Walk.taken += 1
        stem = f"{Walk.taken:02d}_{self.who}_{name}"
        self.page.screenshot(path=str(SHOTS / f"{stem}.png"), full_page=True)
        self.page.set_viewport_size(PHONE)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        self.widths[stem] = width
        self.page.screenshot(path=str(SHOTS / f"{stem}_phone.png"), full_page=True)
        self.page.set_viewport_size(DESK)
        assert width <= PHONE["width"], f"{stem}: {width} px wide on a 390 px phone"

    def main(self) -> str:
        return self.page.inner_text("main")

    def log_in(self) -> None:
        self.page.goto(f"{self.url}/")
        assert "/login" in self.page.url
        self.page.fill("input[name=name]", self.who)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button.primary")

    def english(self) -> None:
        self.page.click("a.lang")

    def vietnamese(self) -> None:
        self.page.click("a.lang")

    def log_out(self) -> None:
        self.page.click(
            "text=" + ("Đăng xuất" if "Đăng xuất" in self.page.content() else "Log out")
        )
        self.ctx.close()


def fill_form(src: Path, dest: Path, **changes: float) -> Path:
    import csv

    from openpyxl import load_workbook

    with open(JUNE, encoding="utf-8") as fh:
        values = {r["indicator"]: float(r["value"]) for r in csv.DictReader(fh)}
    values.update(changes)
    wb = load_workbook(src)
    ws = wb["BaoCao"]
    for row in ws.iter_rows(min_row=13):
        if row[1].value in values:
            v = float(values[row[1].value])
            row[4].value = int(v) if v.is_integer() else v
    wb.save(dest)
    return dest


def test_each_demo_user_from_login_in_both_languages_and_on_a_phone(browser, portal_root, tmp_path):
    from tonghop.portal.accounts import Accounts
    from tonghop.portal.app import create_app

    settings = make_settings(
        portal_root, background=True, worker="process", snapshot_poll=0.3, snapshot_quiet=0.2
    )
    add_users(settings)
    Accounts(settings.accounts).add("quan.tri", "12", "admin", PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    with LiveServer(create_app(settings)) as server:
        url = server.url
        # --- the commune: xa.03386 -----------------------------------------------------------
        w = Walk(browser, url, "xa.03386", tmp_path)
        page = w.page
        w.log_in()
        assert page.url.endswith("/form?unit=03386&period=2024-06")
        main = w.main()
        assert "không còn từ 01/07/2025" in page.inner_text("p.reform")
        assert "Hạn gửi" in main and "17/06/2024" in main
        w.shot("form")
        page.click("p.reform >> text=03388 Phường Đoàn Kết")  # the successor
        assert "/units/03388" in page.url and "Hình thành từ" in w.main()
        assert "không thuộc phạm vi của bạn" in w.main()
        w.shot("successor")
        page.go_back()
        with page.expect_download() as dl:
            page.click("text=Tải biểu mẫu Excel")
        form = tmp_path / "form.xlsx"
        dl.value.save_as(form)
        wrong = fill_form(form, tmp_path / "03386_2024-06.xlsx", crime_solved=1)
        page.click("nav >> text=Gửi báo cáo")
        page.set_input_files("input[type=file]", str(wrong))
        page.click("button.primary")
        page.wait_for_url("**/uploads/*")
        assert "BỊ TỪ CHỐI" in w.main() and "Không phát hiện vấn đề nào" not in w.main()
        page.wait_for_selector("#stored.done")
        w.shot("verdict_rejected")
        (tmp_path / "fixed").mkdir()
        fixed = fill_form(form, tmp_path / "fixed" / "03386_2024-06.xlsx", crime_solved=0)
        page.click("nav >> text=Gửi báo cáo")
        page.set_input_files("input[type=file]", str(fixed))
        page.click("button.primary")
        page.wait_for_url("**/uploads/*")
        page.wait_for_selector("#stored.done")
        assert "Đã lưu thành phiên bản 2" in page.inner_text("#stored")
        w.shot("verdict_stored")
        page.click("nav >> text=Báo cáo đã gửi")
        assert "v2" in w.main() and "bị từ chối" in w.main()
        w.shot("submissions")
        page.click("table >> text=03386 Phường Quyết Thắng >> nth=0")  # drill down
        assert "/units/03386" in page.url and "Các kỳ đã báo cáo" in w.main()
        w.shot("unit")
        w.english()
        assert "Unit page" in page.content() or "Periods reported" in w.main()
        assert "no longer exists since 01/07/2025" in page.inner_text("p.reform")
        w.shot("unit_en")
        page.click("nav >> text=Form")
        assert "Deadline" in w.main()
        w.shot("form_en")
        page.click("nav >> text=My submissions")
        assert "Versions in the warehouse" in w.main()
        w.shot("submissions_en")
        w.vietnamese()
        w.log_out()

        # --- the district: huyen.105 --------------------------------------------------------
        w = Walk(browser, url, "huyen.105", tmp_path)
        page = w.page
        w.log_in()
        assert page.url.endswith("/steward?unit=105&period=2024-06")
        assert "Các xã nay báo cáo thẳng về" in page.inner_text("p.reform")
        assert "03386 Phường Quyết Thắng" in w.main()
        w.shot("grid")
        page.click("table.grid >> text=03387 Phường Tân Phong")
        assert "/units/03387?period=2024-06" in page.url and "Số vụ phạm pháp" in w.main()
        w.shot("commune")
        page.go_back()
        page.click("button[value=consolidate]")
        page.wait_for_selector("p.job.completed")
        page.click("button[value=approve]")
        assert "Xác nhận phê duyệt" in w.main()  # a confirmation page first
        w.shot("approve_confirm")
        page.click("form.confirm button")
        page.wait_for_selector("p.flash.ok")
        assert "Đã phê duyệt 105 2024-06" in w.main()
        w.shot("approved")
        page.click("nav >> text=Nhật ký")
        assert "huyen.105" in w.main() and "phê duyệt" in w.main()
        w.shot("audit")
        w.english()
        page.click("nav >> text=Steward")
        assert "Reports of the units below" in w.main()
        w.shot("grid_en")
        w.vietnamese()
        w.log_out()

        # --- the province: tinh.12 ----------------------------------------------------------
        w = Walk(browser, url, "tinh.12", tmp_path)
        page = w.page
        w.log_in()
        assert page.url.endswith("/steward?unit=12&period=2024-06")
        w.shot("grid")
        page.click("button[value=accept]")
        page.wait_for_selector("p.flash.ok")
        assert "Đã tiếp nhận 105 2024-06" in w.main()
        page.click("nav >> text=Số liệu tổng hợp")
        assert "So với cùng kỳ" in w.main() and page.locator("figure.chart svg").count() >= 1
        w.shot("figures")
        page.click("text=Báo cáo tổng hợp kỳ")
        assert "BÁO CÁO KẾT QUẢ CÔNG TÁC" in page.title() and "BÁO CÁO" in w.main()
        assert page.locator("header.top").count() == 1  # the portal's own header
        w.shot("summary")
        page.click("text=← Số liệu tổng hợp")
        page.click("nav >> text=Nhật ký")
        page.select_option("select[name=action]", "accept")
        page.click("form.pick button")
        assert "tinh.12" in w.main() and "approved → accepted" in w.main()
        w.shot("audit_accept")
        w.english()
        page.click("nav >> text=Figures")
        assert "Consolidated figures" in w.main()
        w.shot("figures_en")
        w.vietnamese()
        w.log_out()

        # --- the district again: it cannot unapprove what the province accepted --------------
        w = Walk(browser, url, "huyen.105", tmp_path)
        page = w.page
        w.log_in()
        assert page.locator("button[value=unapprove]").count() == 0
        assert "cán bộ thống kê của 12 hủy tiếp nhận" in page.inner_text("#locked")
        assert "không tổng hợp lại được" in page.inner_text("#locked")
        w.shot("locked")
        w.log_out()

        # --- the province un-accepts (confirmed) ----------------------------------------------
        w = Walk(browser, url, "tinh.12", tmp_path)
        page = w.page
        w.log_in()
        page.click("button[value=unaccept]")
        assert "Xác nhận hủy tiếp nhận" in w.main()
        w.shot("unaccept_confirm")
        page.click("form.confirm button")
        page.wait_for_selector("p.flash.ok")
        assert "Đã hủy tiếp nhận 105 2024-06" in w.main()
        w.log_out()

        # --- the viewer: xem.12 ---------------------------------------------------------------
        w = Walk(browser, url, "xem.12", tmp_path)
        page = w.page
        w.log_in()
        assert page.url.endswith("/province?unit=12&period=2024-06")
        w.shot("figures")
        page.click("text=Báo cáo tổng hợp kỳ")
        w.shot("summary")
        with page.expect_download() as dl:
            page.click("text=Tải Excel (.xlsx)")
        assert dl.value.suggested_filename == "12_2024-06.xlsx"
        w.english()
        assert "The period summary is the document offices sign" in w.main()
        w.shot("summary_en")
        w.log_out()
    shots = list(SHOTS.glob("*.png"))
    assert len(shots) >= 2 * 25, len(shots)
    assert all(re.match(r"\d\d_", s.name) for s in shots)
