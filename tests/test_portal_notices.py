"""E-mail notices through a local SMTP server started by the test (stdlib)."""

from __future__ import annotations

import email
from datetime import date

from portal_fixtures import (  # noqa: F401  (fixtures)
    add_users,
    base_warehouse,
    login,
    make_settings,
    portal_root,
    smtp_server,
    upload,
    wait_for,
)

from conftest import SAMPLES


def test_the_verdict_goes_to_the_units_address(portal_root, smtp_server, tmp_path):
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    s = make_settings(portal_root, smtp=smtp_server.address)
    add_users(s, {"xa.03386": "xa03386@example.vn", "huyen.105": "huyen105@example.vn"})
    with TestClient(create_app(s)) as client:
        login(client, "xa.03386")
        bad = SAMPLES / "invalid" / "crime_solved_le_cases.csv"  # commune 03386, June
        upload(client, bad)
        msg = wait_for(lambda: smtp_server.messages)[0]
    assert msg["to"] == ["xa03386@example.vn"]
    m = email.message_from_bytes(msg["data"])
    subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
    assert "03386 2024-06: BỊ TỪ CHỐI" in subject
    body = m.get_payload(decode=True).decode("utf-8")
    assert "crime_solved_le_cases" in body and "/uploads/1" in body


def test_stewards_get_the_missing_units_after_the_deadline(portal_root, smtp_server):
    from tonghop.portal.app import Portal

    s = make_settings(portal_root, smtp=smtp_server.address)
    add_users(s, {"huyen.105": "huyen105@example.vn", "tinh.12": "tinh12@example.vn"})
    portal = Portal(s)
    portal.reader.refresh()
    # June 2024 closes on the 14th; communes are due 3 days later, districts 6 days later
    assert portal.notices.missing(today=date(2024, 6, 16), period="2024-06") == []
    sent = portal.notices.missing(today=date(2024, 6, 21), period="2024-06")
    portal.notices.mailer.close()
    by = {x["to"]: x for x in sent}
    assert by["huyen105@example.vn"]["missing"] == ["03386"]  # held back from the warehouse
    assert "tinh12@example.vn" not in by  # every district of 12 sent its report
    msg = wait_for(lambda: smtp_server.messages)[0]
    body = email.message_from_bytes(msg["data"]).get_payload(decode=True).decode("utf-8")
    assert "03386 Phường Quyết Thắng" in body
    # once per steward and period
    assert portal.notices.missing(today=date(2024, 6, 22), period="2024-06") == []
