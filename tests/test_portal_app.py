"""The portal's pages and API through FastAPI's TestClient, on a small warehouse of Lai Châu:
login, CSRF, throttle, the submitter's round trip, the steward's buttons, the province's
figures and downloads, the JSON API against the CLI's output."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    HELD_BACK,
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
    token_for,
    upload,
    wait_for,
)

from conftest import SAMPLES

JUNE = SAMPLES / "valid" / "2024-06" / "105" / f"{HELD_BACK}_2024-06.csv"


def stored(client, url: str) -> str:
    def check() -> str | None:
        t = text_of(client.get(url).text)
        return t if "Đã lưu vào kho" in t else None

    return wait_for(check)


def test_pages_need_login_and_redirect_back(client):
    r = client.get("/steward?period=2024-06", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fsteward")
    r = login(client, "huyen.105")
    assert r.url.path == "/steward"


def test_wrong_password_is_refused_audited_and_throttled(client, settings):
    from tonghop.portal.database import Database

    r = login(client, "xa.03386", "sai-mat-khau")
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.text
    for _ in range(4):
        login(client, "xa.03386", "sai-mat-khau")
    r = login(client, "xa.03386", PASSWORD)  # even the right password waits now
    assert r.status_code == 429 and "Thử lại sau" in r.text
    actions = [a["action"] for a in Database(settings.accounts).audit_rows("xa.03386")]
    assert actions.count("login_failed") == 5 and "login_throttled" in actions
    assert login(client, "huyen.105").url.path == "/steward"  # another account is not blocked


def test_every_post_needs_the_csrf_token(client):
    login(client, "xa.03386")
    r = client.post("/submit", files={"file": ("a.csv", b"x")})
    assert r.status_code == 403 and "Biểu mẫu đã hết hạn" in r.text
    r = client.post(
        "/steward/approve", data={"unit": "105", "period": "2024-06", "csrf_token": "x"}
    )
    assert r.status_code == 403
    r = client.post("/logout", data={})
    assert r.status_code == 403


def test_language_switch(client):
    login(client, "xa.03386")
    assert "Biểu mẫu báo cáo" in client.get("/form?period=2024-06").text
    r = client.get("/lang/en?next=/form%3Fperiod%3D2024-06")
    assert "Report form" in r.text and "Deadline" in r.text
    r = client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"  # no open redirect


def test_form_shows_the_deadline_and_downloads_the_units_workbook(client, tmp_path, validator):
    login(client, "xa.03386")
    page = text_of(client.get("/form?period=2024-06").text)
    assert "03386 Phường Quyết Thắng" in page and "Hạn gửi 17/06/2024" in page
    r = client.get("/form/download?unit=03386&period=2024-06")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('03386_2024-06.xlsx"')
    path = tmp_path / "form.xlsx"
    path.write_bytes(r.content)
    res = validator.validate_file(path)  # an empty form: the right unit and period, values missing
    assert (res.unit_code, res.period) == ("03386", "2024-06")
    assert "indicator_missing" in res.failed()


def test_submitter_round_trip_rejected_then_fixed_and_stored(client, settings, tmp_path):
    login(client, "xa.03386")
    bad = csv_with(JUNE, tmp_path / "03386_2024-06.csv", crime_cases=3, crime_solved=5)
    r = upload(client, bad)
    assert re.fullmatch(r"/uploads/\d+", r.url.path)
    page = text_of(r.text)
    assert "BỊ TỪ CHỐI" in page and "crime_solved_le_cases" in page and "Dòng 3" in page
    assert "Sửa các lỗi trên rồi gửi lại toàn bộ tệp" in page
    done = stored(client, r.url.path)
    assert "Phiên bản 1 bị từ chối" in done
    r2 = upload(client, JUNE)
    assert "ĐƯỢC CHẤP NHẬN" in text_of(r2.text)
    done = stored(client, r2.url.path)
    assert "Đã lưu thành phiên bản 2" in done
    mine = text_of(client.get("/submissions?period=2024-06").text)
    assert "v2 được chấp nhận" in mine and "v1 bị từ chối" in mine
    # delivered through the inbox, then archived under the sender's folder
    assert not list((settings.inbox / "03386").glob("*.csv"))
    assert len(list(settings.archive.rglob("03386/*.csv"))) == 2
    # a version's report page, from the warehouse's issues
    link = re.search(r'href="(/versions/[^"]+)"', client.get("/submissions?period=2024-06").text)
    assert link and client.get(link[1].replace("&amp;", "&")).status_code == 200


def test_a_file_for_another_unit_is_refused_and_not_delivered(client, settings):
    login(client, "xa.03386")
    other = SAMPLES / "valid" / "2024-06" / "105" / "03387_2024-06.csv"
    r = upload(client, other)
    page = text_of(r.text)
    assert "KHÔNG ĐƯỢC GỬI" in page and "03387" in page
    assert not settings.inbox.exists() or not list(settings.inbox.rglob("*.csv"))


def test_an_unreadable_file_gets_one_sentence(client):
    login(client, "xa.03386")
    r = upload(client, SAMPLES / "unreadable" / "web_page.csv")
    page = text_of(r.text)
    assert "KHÔNG ĐỌC ĐƯỢC" in page and "Traceback" not in page


def test_steward_grid_consolidates_and_approves_in_order(client, settings):
    login(client, "huyen.105")
    page = text_of(client.get("/steward?period=2024-06").text)
    assert "105 Thành phố Lai Châu" in page and "03386 Phường Quyết Thắng" in page
    assert re.search(r"03386 Phường Quyết Thắng (chưa báo cáo|bị từ chối)", page)
    token = csrf_of(client, "/steward?period=2024-06")
    r = client.post(
        "/steward/consolidate", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
    )
    assert "Đã bắt đầu tổng hợp" in r.text
    wait_for(
        lambda: "Lần tổng hợp gần nhất: xong" in text_of(client.get("/steward?period=2024-06").text)
    )
    r = client.post(
        "/steward/approve", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
    )
    page = text_of(r.text)  # a confirmation page first, naming what it does
    assert "Xác nhận phê duyệt" in page and "Không còn chênh lệch hay cảnh báo" in page
    assert approval_state(settings.warehouse, "105") is None
    r = steward_post(client, "approve", "105")
    assert "Đã phê duyệt 105 2024-06" in text_of(r.text)
    r = steward_post(client, "approve", "105")
    assert "Không thực hiện được:" in text_of(r.text)  # the approval module's reason follows
    r = client.post(
        "/steward/accept", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
    )
    assert "Không thực hiện được:" in text_of(r.text)  # a unit does not accept itself
    from tonghop.portal.database import Database

    assert any(
        a["action"] == "approve" for a in Database(settings.accounts).audit_rows("huyen.105")
    )
    login(client, "tinh.12")
    token = csrf_of(client, "/steward?period=2024-06")
    r = client.post(
        "/steward/accept", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
    )
    assert "Đã tiếp nhận 105 2024-06" in text_of(r.text)
    assert "cấp trên đã tiếp nhận bởi tinh.12" in text_of(r.text)
    # DHIS2: once accepted, it is un-accepted before it can be unapproved
    r = steward_post(client, "unapprove", "105")
    assert "Không thực hiện được:" in text_of(r.text) and "hủy tiếp nhận" in text_of(r.text)
    assert approval_state(settings.warehouse, "105") == "accepted"
    r = steward_post(client, "unaccept", "105")
    assert "Đã hủy tiếp nhận 105 2024-06" in text_of(r.text)
    r = steward_post(client, "unapprove", "105")
    assert "Đã hủy phê duyệt 105 2024-06" in text_of(r.text)
    # the warehouse's own audit log names the users, not an --actor string
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    actors = {
        r[0]
        for r in con.execute(
            "SELECT actor FROM audit_log"
            " WHERE action IN ('approve', 'accept', 'unaccept', 'unapprove')"
        ).fetchall()
    }
    con.close()
    assert actors == {"huyen.105", "tinh.12"}


def approval_state(warehouse, unit: str, period: str = "2024-06"):
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT state FROM fct_approval WHERE unit_code = ? AND period = ?", [unit, period]
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


def test_province_rollup_charts_summary_and_downloads(client, tmp_path):
    import duckdb
    from openpyxl import load_workbook

    login(client, "tinh.12")
    page = client.get("/province?unit=12&period=2024-06&indicator=crime_clearance_rate").text
    text = text_of(page)
    assert "Tỷ lệ điều tra, khám phá" in text and "So với cùng kỳ" in text and "Đánh giá" in text
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'stroke-dasharray="6 4"' in svg and "chỉ tiêu ≥ 75" in svg  # the target line
    assert "Kỳ (tháng)" in svgs[0] and "Đơn vị" in svgs[1]  # labelled axes
    r = client.get("/province/summary?unit=12&period=2024-06")
    assert r.status_code == 200 and "BÁO CÁO KẾT QUẢ CÔNG TÁC" in r.text
    r = client.get("/province/summary.xlsx?unit=12&period=2024-06")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.active.title == "TongHop"
    r = client.get("/province/export.zip?unit=12&period=2024-06")
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert any(n.startswith("rollup/period=2024-06/") for n in names)
    part = next(n for n in names if n.startswith("rollup/"))
    data = z.read(part)
    con = duckdb.connect()
    (tmp_path / "r.parquet").write_bytes(data)
    rows = con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(tmp_path / "r.parquet")]
    ).fetchone()
    assert rows[0] > 0


def test_pages_load_nothing_from_elsewhere(client):
    login(client, "tinh.12")
    for url in (
        "/steward?period=2024-06",
        "/province?unit=12&period=2024-06",
        "/submissions",
        "/api/docs",
        "/login",
    ):
        r = client.get(url)
        assert "Content-Security-Policy" in r.headers
        for ref in re.findall(r'(?:src|href)="([^"]*)"', r.text):
            assert ref.startswith(("/", "#", "?")), (url, ref)
        assert "<script" not in r.text


def test_a_disabled_user_is_logged_out_at_once(client, settings):
    from tonghop.portal.accounts import Accounts

    login(client, "xa.03386")
    assert client.get("/form?period=2024-06").status_code == 200
    Accounts(settings.accounts).disable("xa.03386")
    r = client.get("/form?period=2024-06", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert login(client, "xa.03386").status_code == 401


# --- the JSON API -----------------------------------------------------------------------------
def test_api_needs_a_token(client):
    r = client.get("/api/submissions?period=2024-06")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/api/submissions?period=2024-06", headers={"Authorization": "Bearer th_nope"})
    assert r.status_code == 401


def test_api_validate_is_the_cli_json(client, settings, tmp_path):
    from typer.testing import CliRunner

    from tonghop.cli import app

    bad = csv_with(JUNE, tmp_path / "03386_2024-06.csv", crime_cases=3, crime_solved=5)
    h = token_for(settings, "xa.03386")
    r = client.post("/api/validate", headers=h, files={"file": (bad.name, bad.read_bytes())})
    assert r.status_code == 200
    got = r.json()
    # the dry run against the same warehouse: `tonghop validate --warehouse`
    wh = str(settings.warehouse)
    cli = json.loads(
        CliRunner().invoke(app, ["validate", str(bad), "--json", "--warehouse", wh]).output
    )
    assert got["status"] == cli["status"] == "rejected"
    assert got["issues"] == cli["issues"] and got["rules"] == cli["rules"]
    assert got["outcome"] == cli["outcome"] and got["outcome"]["version"] == 1
    r = client.post("/api/validate", headers=h, files={"file": ("x.csv", b"")})
    assert r.status_code == 422 and r.json()["status"] == "unreadable"
    assert not settings.inbox.exists()  # a dry run delivers nothing


def test_api_submissions_round_trip(client, settings):
    h = token_for(settings, "xa.03386")
    r = client.post("/api/submissions", headers=h, files={"file": (JUNE.name, JUNE.read_bytes())})
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "accepted" and body["delivery"]["delivered"] is True
    url = body["delivery"]["status_url"]
    done = wait_for(lambda: (j := client.get(url, headers=h).json())["delivery"]["stored"] and j)
    assert done["delivery"]["stored"]["version"] == 1 and done["delivery"]["stored"]["is_current"]
    rows = client.get("/api/submissions?period=2024-06", headers=h).json()
    assert [(x["unit_code"], x["version"], x["status"]) for x in rows] == [("03386", 1, "accepted")]
    other = SAMPLES / "valid" / "2024-06" / "105" / "03387_2024-06.csv"
    r = client.post("/api/submissions", headers=h, files={"file": (other.name, other.read_bytes())})
    assert r.status_code == 403 and r.json()["delivery"]["delivered"] is False


def test_api_rollup_is_the_cli_json(client, settings):
    from typer.testing import CliRunner

    from tonghop.cli import app

    h = token_for(settings, "tinh.12")
    r = client.get("/api/rollup?period=2024-06&unit=106", headers=h)
    assert r.status_code == 200
    out = (
        CliRunner()
        .invoke(
            app,
            [
                "rollup",
                "--period",
                "2024-06",
                "--unit",
                "106",
                "--format",
                "json",
                "--warehouse",
                str(settings.warehouse),
            ],
        )
        .output
    )
    assert r.json() == json.loads(out)
    r = client.get("/api/rollup?period=2024-06&unit=03386", headers=h)
    assert r.status_code == 404  # a commune has no rollup
    assert (
        client.get(
            "/api/rollup?period=2024-06&unit=105", headers=token_for(settings, "xa.03386")
        ).status_code
        == 403
    )


def test_api_docs_page_lists_the_routes_with_curl(client):
    r = client.get("/api/docs")
    text = text_of(r.text)
    for route in (
        "POST /api/validate",
        "POST /api/submissions",
        "GET /api/submissions",
        "GET /api/rollup",
    ):
        assert route in text
    assert text.count("curl -H") >= 5
    assert client.get("/api/openapi.json").json()["paths"]["/api/rollup"]


@pytest.mark.parametrize("path", ["/healthz"])
def test_health(client, path):
    assert client.get(path).json()["ok"] is True
