"""The portal as officials use it (issue 19), page by page with the TestClient: each demo
user lands on its work whatever today's date; approval follows DHIS2's rules, with
confirmations and an audit page; the verdict says what happened; every list drills down to a
unit; changes are coloured by each indicator's direction; words and numbers in the page's
language. The browser walks the same journeys: tests/test_portal_journeys_browser.py."""

from __future__ import annotations

import re
from types import SimpleNamespace

import duckdb
import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    base_warehouse,
    client,
    csrf_of,
    csv_with,
    login,
    portal_root,
    settings,
    steward_post,
    text_of,
    upload,
    wait_for,
)

from conftest import SAMPLES

P = "2024-06"
JUNE = SAMPLES / "valid" / P
ANOMALY = SAMPLES / "anomalies" / "03478_2024-06.csv"  # Sìn Hồ: 270 drug users, not 27
# the demo's users and the page each lands on (the sample data ends 2026-10; the 2025 reform
# abolished district 105 and commune 03386 on 01/07/2025)
LANDINGS = {
    "xa.03386": "/form?unit=03386&period=2024-06",
    "huyen.105": "/steward?unit=105&period=2024-06",
    "tinh.12": "/steward?unit=12&period=2024-06",
    "xem.12": "/province?unit=12&period=2024-06",
}


def _state(warehouse, unit: str) -> str | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT state FROM fct_approval WHERE unit_code = ? AND period = ?", [unit, P]
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


# --- 1. land on your work ----------------------------------------------------------------
@pytest.mark.parametrize("today", ["2026-11-22", "2027-06-01"])
@pytest.mark.parametrize("name", list(LANDINGS))
def test_every_demo_user_lands_on_a_page_with_work(client, monkeypatch, name, today):
    monkeypatch.setenv("TONGHOP_TODAY", today)
    r = login(client, name)
    assert r.status_code == 200 and f"{r.url.path}?{r.url.query.decode()}" == LANDINGS[name]
    page = text_of(r.text)
    assert "404" not in page
    if name in ("xa.03386", "huyen.105"):  # abolished: one sentence and the successor
        assert "không còn từ 01/07/2025" in page
        successor = "/units/03388" if name == "xa.03386" else "/units/12"
        assert f'href="{successor}"' in r.text
        assert client.get(successor).status_code == 200  # no dead end
    # the menu's pages, without a period, land on work too (never the current empty month)
    for path in ("/form", "/submissions", "/steward", "/province", "/province/summary"):
        got = client.get(path)
        assert got.status_code in (200, 403), (path, got.status_code)
        assert "404" not in text_of(got.text)[:400], path


def test_a_unit_absent_from_a_period_is_no_dead_end(client):
    login(client, "huyen.105")
    r = client.get("/steward?unit=105&period=2026-11")
    assert r.status_code == 404
    page = text_of(r.text)
    assert (  # the reform's sentence: why, since when, who took over (validations.reform)
        "105 Thành phố Lai Châu không còn từ 01/07/2025 (bỏ cấp huyện khi sắp xếp đơn vị hành "
        "chính năm 2025) nên không có số liệu kỳ 2026-11: các xã nay báo cáo thẳng về 12 Tỉnh "
        "Lai Châu" in page
    )
    assert 'href="/steward?unit=105&amp;period=2024-06"' in r.text  # its latest period
    # the picker offers only periods in which the district existed
    offered = re.findall(r'<option value="(\d{4}-[^"]+)"', r.text)
    assert "2024-06" in offered and not any(p >= "2025-07" for p in offered), offered
    assert client.get("/").status_code == 200  # "Về trang chính" leads to work


def test_every_page_has_a_period_picker(client):
    login(client, "tinh.12")
    for path in (
        "/steward",
        "/form",
        "/submit",
        "/submissions",
        "/province",
        "/province/summary",
        "/units/105",
        "/audit",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert '<select name="period">' in r.text, path


# --- 2. approval as DHIS2 does it ----------------------------------------------------------
def test_once_accepted_the_district_cannot_unapprove_through_the_pages(client, settings):
    login(client, "huyen.105")
    assert "Đã phê duyệt 105 2024-06" in text_of(steward_post(client, "approve", "105").text)
    login(client, "tinh.12")
    assert "Đã tiếp nhận 105 2024-06" in text_of(steward_post(client, "accept", "105").text)
    login(client, "huyen.105")
    grid = client.get(f"/steward?period={P}").text
    assert 'value="unapprove"' not in grid  # not offered, and the reason is said
    assert "đến khi 105 2024-06 được hủy phê duyệt (cấp trên đã tiếp nhận bởi tinh.12" in text_of(
        grid
    )
    assert (
        "cán bộ thống kê của 12 hủy tiếp nhận, rồi cán bộ thống kê của 105 hủy phê duyệt"
        in text_of(grid)
    )
    r = steward_post(client, "unapprove", "105")  # a forged post is refused the same way
    assert "Không thực hiện được:" in text_of(r.text)
    assert "cấp trên đã tiếp nhận (tinh.12" in text_of(r.text)
    assert _state(settings.warehouse, "105") == "accepted"
    r = steward_post(client, "unaccept", "105")  # accepting is the level above's
    assert "Đơn vị cấp trên hủy tiếp nhận" in text_of(r.text)
    # consolidating the accepted period is refused at once, with the reason
    token = csrf_of(client, f"/steward?period={P}")
    r = client.post("/steward/consolidate", data={"csrf_token": token, "unit": "105", "period": P})
    page = text_of(r.text)
    assert (
        "Không thực hiện được: 105 kỳ 2024-06 đang bị khóa (cấp trên đã tiếp nhận: 105 kỳ 2024-06, bởi tinh.12"
        in page
    )
    assert "Lần tổng hợp gần nhất" not in page  # no job was started
    assert 'value="consolidate"' not in r.text
    assert "Kỳ đã khóa: không tổng hợp lại được đến khi 105 2024-06 được hủy phê duyệt" in page
    # the province un-accepts (confirmed), then the district may unapprove
    login(client, "tinh.12")
    r = steward_post(client, "unaccept", "105", confirm=False)
    assert "Xác nhận hủy tiếp nhận" in text_of(r.text)
    assert _state(settings.warehouse, "105") == "accepted"  # nothing done before confirming
    assert "Đã hủy tiếp nhận 105 2024-06" in text_of(steward_post(client, "unaccept", "105").text)
    login(client, "huyen.105")
    r = steward_post(client, "unapprove", "105", confirm=False)
    assert "Xác nhận hủy phê duyệt" in text_of(r.text)
    assert "Đã hủy phê duyệt 105 2024-06" in text_of(steward_post(client, "unapprove", "105").text)
    assert _state(settings.warehouse, "105") is None


def test_unaccept_is_refused_while_the_province_is_approved(client, settings, tmp_path):
    from test_warehouse_support import approve_districts

    con = duckdb.connect(str(settings.warehouse))
    approve_districts(con, "12", P)
    con.close()
    client.app.state.portal.reader.refresh(force=True)
    login(client, "tinh.12")
    assert "Đã phê duyệt 12 2024-06" in text_of(steward_post(client, "approve", "12").text)
    r = steward_post(client, "unaccept", "105")
    assert (
        "Không hủy tiếp nhận được 105 kỳ 2024-06 khi cấp trên còn khóa: 12 kỳ 2024-06"
        in text_of(r.text)
    )
    assert _state(settings.warehouse, "105") == "accepted"


def _sinho_with_the_typo(client):
    """Commune 03478's June with an extra zero (270 drug users, not 27), sent by the province
    and consolidated into district 108: 108's own 538 against its communes' 781."""
    login(client, "tinh.12")
    r = upload(client, ANOMALY)
    wait_for(lambda: "Đã lưu vào kho" in text_of(client.get(r.url.path).text))
    token = csrf_of(client, f"/steward?unit=108&period={P}")
    client.post("/steward/consolidate", data={"csrf_token": token, "unit": "108", "period": P})
    wait_for(
        lambda: (
            "Lần tổng hợp gần nhất: xong"
            in text_of(client.get(f"/steward?unit=108&period={P}").text)
        ),
        120,
    )


def test_approving_names_the_open_warnings_and_asks_to_confirm_them(client, settings):
    _sinho_with_the_typo(client)
    r = steward_post(client, "approve", "108", confirm=False)
    page = text_of(r.text)
    assert "Còn 2 cảnh báo chưa xử lý: 1 chênh lệch giữa các cấp, 1 cảnh báo bất thường" in page
    assert "số của Huyện Sìn Hồ (538) không bằng tổng số của các xã trực thuộc (781)" in page
    assert "03478 Thị trấn Sìn Hồ" in page and "Phê duyệt dù còn 2 cảnh báo" in page
    assert _state(settings.warehouse, "108") is None
    digest = re.search(r'name="confirmed" value="([^"]+)"', r.text)[1]
    # a new warning arrives meanwhile: the confirmation no longer names what is approved
    fixed = csv_with(
        next(JUNE.rglob("03487_2024-06.csv")),
        settings.warehouse.parent / "03487_2024-06.csv",
        propaganda_participants=99999,
    )
    up = upload(client, fixed)
    wait_for(lambda: "Đã lưu vào kho" in text_of(client.get(up.url.path).text))
    token = csrf_of(client, f"/steward?unit=108&period={P}")
    r = client.post(
        "/steward/approve",
        data={"csrf_token": token, "unit": "108", "period": P, "confirmed": digest},
    )
    assert "đã khác đi" in text_of(r.text) and "xem lại rồi xác nhận lần nữa" in text_of(r.text)
    assert _state(settings.warehouse, "108") is None


def test_every_action_is_on_the_audit_page(client, settings):
    login(client, "huyen.105")
    steward_post(client, "approve", "105")
    login(client, "tinh.12")
    steward_post(client, "accept", "105")
    login(client, "huyen.105")
    steward_post(client, "unapprove", "105")  # refused
    r = client.get(f"/audit?unit=105&period={P}")
    page = text_of(r.text)
    for words in (
        "huyen.105 phê duyệt 105 2024-06",
        "tinh.12 tiếp nhận 105 2024-06 approved → accepted",
        "huyen.105 hủy phê duyệt bị từ chối 105 2024-06",
    ):
        assert words in page, words
    assert page.count("huyen.105 phê duyệt 105 2024-06") == 1  # one row per step
    only = text_of(client.get("/audit?action=accept").text)
    assert "tiếp nhận" in only and "huyen.105 phê duyệt" not in only
    assert client.get("/audit?unit=094").status_code == 403  # another province's district
    # the versions a step touched link to them
    ingests = client.get("/audit?unit=03387&action=ingest").text
    assert 'href="/versions/03387%3A2024-06%3Av1"' in ingests
    login(client, "xem.12")
    assert client.get("/audit").status_code == 403  # stewards only


# --- 3. the verdict says what happened ------------------------------------------------------
def test_a_held_version_says_until_when_and_who_can_release_it(client, settings, tmp_path):
    login(client, "huyen.105")
    steward_post(client, "approve", "105")
    login(client, "tinh.12")
    steward_post(client, "accept", "105")
    login(client, "xa.03387")
    fixed = csv_with(
        next(JUNE.rglob("03387_2024-06.csv")),
        tmp_path / "03387_2024-06.csv",
        drug_users_managed=33,
    )
    r = upload(client, fixed)
    page = text_of(r.text)
    assert "ĐƯỢC CHẤP NHẬN · GIỮ LẠI" in page
    assert (
        "Phiên bản này được giữ lại đến khi 105 2024-06 được hủy phê duyệt (cấp trên đã tiếp "
        "nhận bởi tinh.12" in page
    )
    assert "cán bộ thống kê của 12 hủy tiếp nhận, rồi cán bộ thống kê của 105 hủy phê duyệt" in page
    wait_for(lambda: "Đã lưu vào kho" in text_of(client.get(r.url.path).text))
    stored = text_of(client.get(r.url.path).text)
    assert "GIỮ LẠI" in stored and "được giữ lại đến khi 105 2024-06" in stored


def test_unreadable_and_refused_files_never_read_no_problems(client):
    login(client, "xa.03386")
    token = csrf_of(client, "/submit")
    r = client.post(
        "/submit", data={"csrf_token": token}, files={"file": ("x.xlsx", b"not a workbook")}
    )
    page = text_of(r.text)
    assert "KHÔNG ĐỌC ĐƯỢC" in page and "Không phát hiện vấn đề nào" not in page
    assert "Người gửi xa.03386 · 03386" in page
    r = upload(client, next(JUNE.rglob("03387_2024-06.csv")))  # another commune's file
    page = text_of(r.text)
    assert "KHÔNG ĐƯỢC GỬI" in page and "Không phát hiện vấn đề nào" not in page


def test_a_file_too_large_says_its_real_size_in_mb(client):
    login(client, "xa.03386")
    token = csrf_of(client, "/submit")
    big = b"unit_code,period,indicator,value\n" + b"0" * (30 * 1024 * 1024)
    r = client.post("/submit", data={"csrf_token": token}, files={"file": ("big.csv", big)})
    page = text_of(r.text)
    assert "quá lớn (30 MB, tối đa 5 MB)" in page, page[:600]


def test_the_expected_value_is_written_the_vietnamese_way(client, tmp_path):
    login(client, "xa.03386")
    bad = csv_with(
        next(JUNE.rglob("03386_2024-06.csv")), tmp_path / "03386_2024-06.csv", crime_cases=9
    )
    r = upload(client, bad)
    cells = re.findall(r"<td>([^<]*)</td><td>[^<]*<em>", r.text)
    expected = [c for c in cells if re.search(r"\d", c)]
    assert expected and all(not re.search(r"\d\.\d", c) for c in expected), expected


# --- 4. drill down ---------------------------------------------------------------------------
def test_grid_rows_link_to_unit_pages_with_versions_values_and_history(client):
    login(client, "huyen.105")
    grid = client.get(f"/steward?period={P}").text
    assert 'href="/units/03387?period=2024-06">03387 Phường Tân Phong</a>' in grid
    page = client.get("/units/03387?period=2024-06")
    assert page.status_code == 200
    text = text_of(page.text)
    for words in ("v1", "được chấp nhận", "Số vụ phạm pháp hình sự", "Các kỳ đã báo cáo"):
        assert words in text, words
    assert 'href="/versions/03387%3A2024-06%3Av1"' in page.text
    assert 'href="/units/03387?period=2024-05"' in page.text  # its history
    login(client, "xa.03386")
    assert "không thuộc phạm vi của bạn" in text_of(client.get("/units/03387").text)


def test_submissions_filter_by_unit_and_name_the_sender(client):
    login(client, "xa.03386")
    token = csrf_of(client, "/submit")
    client.post("/submit", data={"csrf_token": token}, files={"file": ("y.csv", b"\x00\x01")})
    login(client, "huyen.105")
    one = text_of(client.get(f"/submissions?unit=03387&period={P}").text)
    assert "03387 Phường Tân Phong" in one and "03389 Phường Đoàn Kết v1" not in one
    every = client.get(f"/submissions?period={P}").text
    assert "y.csv" in every and "xa.03386 · " in text_of(every)  # unreadable: its sender
    assert client.get(f"/submissions?unit=094&period={P}").status_code == 403


def test_the_version_page_shows_the_file_name_sent_not_the_inbox_one(client, tmp_path):
    login(client, "xa.03386")
    r = upload(client, next(JUNE.rglob("03386_2024-06.csv")), name="bao-cao-thang-6.csv")
    wait_for(lambda: "Đã lưu vào kho" in text_of(client.get(r.url.path).text))
    page = text_of(client.get("/versions/03386:2024-06:v1").text)
    assert "Tệp bao-cao-thang-6.csv" in page
    assert "-u1-" not in page and "inbox" not in page


# --- 5. what changed, and is it good ---------------------------------------------------------
def test_tone_follows_the_direction_never_the_sign_alone():
    from tonghop.portal.changes import change, tone

    assert tone(-9.25, "down_is_good") == "good" and tone(9.25, "down_is_good") == "bad"
    assert tone(-2.0, "up_is_good") == "bad" and tone(3.0, "up_is_good") == "good"
    assert tone(5.0, "neutral") == "flat" and tone(0.0, "up_is_good") == "flat"
    rate = SimpleNamespace(direction="up_is_good", kind="rate")
    c = change(-3.5, "points", rate, "vi")
    assert (c.text, c.arrow, c.tone, c.meaning) == ("-3,5 điểm", "▼", "bad", "xấu đi")
    assert change(None, None, rate, "en").text == "no figure for last year"


def test_the_rollup_colours_each_change_by_its_indicator(client, settings):
    """Fewer crimes is good, a lower clearance rate bad, more reports received neither: the
    colour and the word follow the catalog's direction, the arrow the sign."""
    changes = {  # indicator: (change vs last year, kind, direction)
        "crime_cases": (-9.25, "percent", "down_is_good"),
        "crime_clearance_rate": (-3.5, "points", "up_is_good"),
        "reports_received": (12.0, "percent", "neutral"),
        "crime_solved": (4.0, "percent", "up_is_good"),
    }
    con = duckdb.connect(str(settings.warehouse))
    for code, (ch, kind, _) in changes.items():
        con.execute(
            "UPDATE fct_rollup SET change_vs_last_year = ?, change_kind = ?"
            " WHERE unit_code = '12' AND period = ? AND indicator = ?",
            [ch, kind, P, code],
        )
    con.close()
    portal = client.app.state.portal
    portal.reader.refresh(force=True)
    for code, (_, _, d) in changes.items():  # the catalog says which way is good
        assert portal.catalog.indicators[code].direction == d, code
    login(client, "xem.12")
    html = client.get(f"/province?unit=12&period={P}").text
    cells = dict(
        re.findall(
            r"<tr><td>([^<]+)</td>(?:<td[^>]*>[^<]*</td>){2}<td class=\"num change ([^\"]*)\"", html
        )
    )
    label = {c: portal.catalog.indicators[c].label("vi") for c in changes}
    assert cells[label["crime_cases"]] == "good"  # ▼ fewer crimes
    assert cells[label["crime_clearance_rate"]] == "bad"  # ▼ a lower rate
    assert cells[label["reports_received"]] == "flat"  # ▲ neither
    assert cells[label["crime_solved"]] == "good"  # ▲ more solved
    text = text_of(html)
    assert "▼ -9,25% tốt lên" in text and "▼ -3,5 điểm xấu đi" in text
    assert "▲ +12% không đánh giá" in text


# --- 7. phones and words -----------------------------------------------------------------------
def test_english_counts_say_1_error(client, tmp_path):
    client.get("/lang/en")
    login(client, "xa.03386")
    bad = csv_with(
        next(JUNE.rglob("03386_2024-06.csv")), tmp_path / "03386_2024-06.csv", crime_solved=99
    )
    page = text_of(upload(client, bad).text)
    assert re.search(r"\b1 error,", page) and "1 errors" not in page


def test_healthz_says_nothing_more_without_an_admin(client, settings):
    assert client.get("/healthz").json() == {"ok": True}
    login(client, "tinh.12")
    assert client.get("/healthz").json() == {"ok": True}
    from tonghop.portal.accounts import Accounts

    Accounts(settings.accounts).add("quan.tri", "12", "admin", PASSWORD)
    login(client, "quan.tri")
    assert "pid" in client.get("/healthz").json()


def test_the_summary_page_has_the_portals_header_and_a_way_back(client):
    login(client, "xem.12")
    r = client.get(f"/province/summary?unit=12&period={P}")
    assert r.status_code == 200
    assert '<header class="top">' in r.text and 'href="/lang/en?next=' in r.text
    assert f'href="/province?unit=12&amp;period={P}"' in r.text
    assert "BÁO CÁO KẾT QUẢ CÔNG TÁC" in text_of(r.text)
    assert r.text.count("<html") == 1
