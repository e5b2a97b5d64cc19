"""Contracts: each operation gives the same answer whichever shell calls it (the application
layer, service/): the portal's pages and API, the CLI and the library agree on the same
warehouse."""

from __future__ import annotations

import html
import json
import re

import duckdb
import pandas as pd
import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
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
from typer.testing import CliRunner

from conftest import SAMPLES
from tonghop.cli import app

JUNE = SAMPLES / "valid" / "2024-06"
P = "2024-06"


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _stale_rollups(warehouse, units=("105", "12")) -> list[str]:
    """The (unit, indicator) whose stored rollup differs from a fresh consolidation."""
    from validations.catalog import load_catalog
    from validations.units import load_units
    from warehouse.rollup import preview, rollup

    cat, ref = load_catalog(), load_units()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = []
        for unit in units:
            stored = rollup(con, P, unit).set_index("indicator")
            fresh = preview(con, P, unit, cat, ref).set_index("indicator")
            for ind in fresh.index:
                a, b = stored.loc[ind, "value"], fresh.loc[ind, "value"]
                if not (pd.isna(a) and pd.isna(b)) and a != pytest.approx(b):
                    out.append(f"{unit} {ind}: stored {a}, fresh {b}")
        return out
    finally:
        con.close()


def _post(client, action: str, unit: str) -> str:
    return text_of(steward_post(client, action, unit, P).text)


@pytest.mark.parametrize("shell", ["portal", "cli"])
def test_approve_hold_unapprove_leaves_no_stale_rollup(client, settings, tmp_path, shell):
    wh = str(settings.warehouse)
    login(client, "huyen.105")
    assert "Đã phê duyệt 105 2024-06" in _post(client, "approve", "105")
    # a correction from commune 03387 after the approval is held
    login(client, "xa.03387")
    fixed = csv_with(
        next(JUNE.rglob("03387_2024-06.csv")), tmp_path / "03387_2024-06.csv", drug_users_managed=33
    )
    r = upload(client, fixed)
    assert r.status_code == 200
    page = wait_for(
        lambda: (t := text_of(client.get(r.url.path).text)) and "Đã lưu vào kho" in t and t
    )
    assert "phiên bản 2 được giữ lại chờ mở khóa" in page
    assert _stale_rollups(settings.warehouse) == []  # held: nothing changed
    # unapprove releases it; every rollup above equals a fresh consolidation at once
    if shell == "portal":
        login(client, "huyen.105")
        assert "Đã hủy phê duyệt 105 2024-06" in _post(client, "unapprove", "105")
    else:
        res = _cli("unapprove", "--period", P, "--unit", "105", "--actor", "huyen.105",
                   "--warehouse", wh)  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "released held version 03387:2024-06:v2" in res.output
    assert _stale_rollups(settings.warehouse) == []
    con = duckdb.connect(wh, read_only=True)
    (cases,) = con.execute(
        "SELECT children_sum FROM fct_rollup WHERE unit_code = '105' AND period = ?"
        " AND indicator = 'crime_cases'",
        [P],
    ).fetchall()[0]
    con.close()
    assert cases is not None


def _issue_key(i: dict) -> tuple:
    return (
        i.get("rule") or i.get("rule_id"),
        i["severity"],
        i.get("indicator"),
        i.get("location"),
        i["message_vi"],
    )


def test_the_verdict_is_the_stored_versions_report(client, settings, tmp_path):
    """What the submitter reads at once is what the stored version's report says: the
    outlier against its peers included (it needs the warehouse)."""
    login(client, "xa.03386")
    typo = csv_with(
        next(JUNE.rglob("03386_2024-06.csv")), tmp_path / "03386_2024-06.csv",
        drug_users_managed=290,
    )  # fmt: skip
    r = upload(client, typo)
    upload_id = int(r.url.path.rsplit("/", 1)[1])
    page = wait_for(lambda: (p := client.get(r.url.path).text) and "Đã lưu vào kho" in p and p)
    up = client.app.state.portal.uploads.get(upload_id)
    verdict = {_issue_key(i) for i in up.report["issues"]}
    assert any(k[0] == "outlier_peers" for k in verdict), verdict
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    stored = con.execute(
        "SELECT rule_id, severity, indicator, location, message_vi FROM fct_issue"
        " WHERE submission_id = '03386:2024-06:v1'"
    ).fetchall()
    con.close()
    assert verdict == {tuple(s) for s in stored}
    # the page shows the same count the stored version carries
    assert "1 cảnh báo" in text_of(page) or "0 lỗi, 1 cảnh báo" in text_of(page)
    # and the outbox's JSON report, written by the ingest, lists the same issues
    (report,) = (settings.outbox / "03386").glob(f"{P}_v1*.json")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert {_issue_key(i) for i in data["issues"]} == verdict


def test_on_time_counts_agree_in_the_grid_the_list_the_api_and_the_cli(client, settings):
    # 03386's June report arrives through the portal today: long after the deadline
    login(client, "xa.03386")
    r = upload(client, next(JUNE.rglob("03386_2024-06.csv")))
    wait_for(lambda: "Đã lưu vào kho" in client.get(r.url.path).text, 60)
    login(client, "huyen.105")
    grid = text_of(client.get(f"/steward?unit=105&period={P}").text)
    counts = dict(re.findall(r"(đúng hạn|muộn|chưa báo cáo|bị từ chối): (\d+)", grid))
    listing = text_of(client.get(f"/submissions?period={P}").text)
    h = token_for(settings, "huyen.105")
    api = client.get(f"/api/submissions?period={P}&unit=105", headers=h).json()
    api_units = {v["unit_code"]: v["unit_state"] for v in api if v["unit_code"] != "105"}
    res = _cli("status", "--period", P, "--unit", "105", "--warehouse", str(settings.warehouse))
    assert res.exit_code == 0, res.output
    cli = dict(re.findall(r"\b(on_time|late|missing|rejected) (\d+)", res.output.splitlines()[-1]))
    assert counts["muộn"] == cli["late"] == "1"
    assert (
        counts["đúng hạn"] == cli["on_time"] == str(sum(s == "on_time" for s in api_units.values()))
    )
    assert sum(s == "late" for s in api_units.values()) == 1 and api_units["03386"] == "late"
    # the list says the same of each unit once (the district's own report among them)
    everyone = {v["unit_code"]: v["unit_state"] for v in api}
    assert listing.count("muộn") == 1
    assert listing.count("đúng hạn") == sum(s == "on_time" for s in everyone.values())


def test_a_file_too_large_is_said_with_its_true_size_by_every_shell(client, settings, tmp_path):
    """A 60 MB file (57,2 MB as Windows counts them) through the portal's upload (multipart),
    the API and the CLI: the same sentence, the size that was sent, a decimal comma in
    Vietnamese and a point in English; nothing stored, nothing delivered."""
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.write(b"unit_code,period,indicator,value\n")
        fh.truncate(60 * 10**6)
    data = big.read_bytes()
    said = {
        "vi": "Tệp 'big.csv' quá lớn (57,2 MB, tối đa 5 MB)",
        "en": "File 'big.csv' is too large (57.2 MB, at most 5 MB)",
    }
    login(client, "xa.03386")
    for lang in ("vi", "en"):
        client.get(f"/lang/{lang}")
        token = csrf_of(client, "/submit")
        r = client.post("/submit", data={"csrf_token": token}, files={"file": ("big.csv", data)})
        assert said[lang] in html.unescape(text_of(r.text)), text_of(r.text)[:800]
    h = token_for(settings, "xa.03386")
    for route in ("validate", "submissions"):
        for lang in ("vi", "en"):
            r = client.post(
                f"/api/{route}?lang={lang}", headers=h, files={"file": ("big.csv", data)}
            )
            assert r.status_code == 422 and r.json()["code"] == "file_too_large"
            assert r.json()["message"].startswith(said[lang]), r.json()
    for lang in ("vi", "en"):
        out = _cli("validate", str(big), "--lang", lang).output
        assert out.startswith(said[lang]), out
        record = json.loads(_cli("validate", str(big), "--json", "--lang", lang).output)
        assert record["message"].startswith(said[lang])
    assert not settings.inbox.exists() or not any(settings.inbox.rglob("*.csv"))


def test_an_upload_whose_size_is_not_known_is_said_more_than_the_limit(client):
    """Only the first bytes were read and the real size is unknown: "hơn 5 MB", never the
    limit dressed up as the size."""
    portal = client.app.state.portal
    user = portal.accounts.get("xa.03386")
    data = b"x" * (5 * 2**20 + 1)
    for lang, words in (("vi", "quá lớn (hơn 5 MB, tối đa 5 MB)"), ("en", "(more than 5 MB")):
        record = portal.uploads.dry_run(user, "big.csv", data, lang, None)
        assert record["status"] == "unreadable" and words in record["message"], record
        record = portal.uploads.dry_run(user, "big.csv", data, lang, 60 * 10**6)
        assert "57" in record["message"] and "hơn" not in record["message"]
