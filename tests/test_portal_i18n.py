"""Every word the pages ask for exists in both languages, and the libraries' refusals reach a
page in its language (the message catalog, validations/messages.yaml)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from portal_fixtures import (  # noqa: F401  (fixtures)
    base_warehouse,
    client,
    csrf_of,
    login,
    portal_root,
    settings,
    text_of,
)

from tonghop.portal.i18n import WORDS

PORTAL = Path(__file__).resolve().parent.parent / "tonghop" / "portal"


def test_every_key_used_is_defined_in_vietnamese_and_english():
    used = set()
    for f in PORTAL.rglob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+)'", f.read_text(encoding="utf-8")))
    for f in PORTAL.rglob("*.py"):
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+)\"", f.read_text(encoding="utf-8")))
    assert used, "no key found"
    assert sorted(used - set(WORDS)) == []
    for key, (vi, en) in WORDS.items():
        assert vi and en and vi != key, key
    # the keys built at run time
    for prefix, names in {
        "s_": (
            "accepted",
            "accepted_with_warnings",
            "rejected",
            "held",
            "superseded",
            "unreadable",
            "refused",
        ),
        "g_": ("on_time", "late", "missing", "rejected", "held", "received"),
        "a_": ("open", "approved", "accepted"),
        "job_": (
            "queued",
            "running",
            "completed",
            "failed",
            "submitted",
            "interrupted",
            "rerunning",
        ),
        "src_": ("own", "children"),
        "att_": ("exceeded", "reached", "missed"),
        "done_": ("consolidate", "approve", "accept", "unaccept", "unapprove"),
        "confirm_": tuple(
            f"{a}_{w}"
            for a in ("approve", "unaccept", "unapprove")
            for w in ("title", "text", "button")
        ),
        "w_": ("consolidation", "submission"),
        "tone_": ("good", "bad", "flat"),
        "act_": ("approve", "accept", "unaccept", "unapprove", "consolidate", "ingest", "login"),
    }.items():
        assert [n for n in names if prefix + n not in WORDS] == [], prefix


# --- refusals from the libraries, in the page's language --------------------------------------
ENGLISH_APPROVAL = "Cannot approve 12 2024-06"


def _english(page: str) -> list[str]:
    """The English sentences of the message catalog found on a page: each template's longest
    stretch of words between its parameters."""
    from validations.messages import catalog

    found = []
    for code, entry in catalog().items():
        parts = re.split(r"\{[^{}]*\}", entry["en"])
        longest = max(parts, key=len).strip(" .:;,()")
        if len(longest) >= 16 and longest in page:
            found.append(f"{code}: {longest}")
    return found


def test_an_approval_refusal_is_said_in_the_language_of_the_page(client):
    login(client, "tinh.12")
    token = csrf_of(client, "/steward?period=2024-06")
    form = {"csrf_token": token, "unit": "12", "period": "2024-06"}
    page = html.unescape(text_of(client.post("/steward/approve", data=form).text))
    assert "Không thực hiện được: Chưa phê duyệt được 12 kỳ 2024-06: còn" in page
    assert "huyện 105: chưa phê duyệt; huyện 106: chưa phê duyệt" in page
    assert ENGLISH_APPROVAL not in page and "below it" not in page and "not approved" not in page
    assert _english(page) == []
    client.get("/lang/en?next=/steward")
    page = html.unescape(text_of(client.post("/steward/approve", data=form).text))
    assert f"Not done: {ENGLISH_APPROVAL}:" in page and "units below it still open" in page
    assert "district 105: not approved; district 106: not approved" in page
    assert "Chưa phê duyệt được" not in page


def test_a_bad_period_is_said_in_the_language_of_the_page_and_of_the_api(client, settings):
    from tonghop.portal.accounts import Accounts

    login(client, "huyen.105")
    for url in ("/steward?period=2024-13", "/form?period=2024-13", "/submissions?period=2024-13"):
        r = client.get(url)
        page = html.unescape(text_of(r.text))
        assert r.status_code == 400 and "'2024-13': không có tháng 13" in page, url
        assert "does not exist" not in page and _english(page) == []
    client.get("/lang/en?next=/")
    r = client.get("/steward?period=2024-13")
    assert r.status_code == 400 and "'2024-13': month 13" in html.unescape(text_of(r.text))
    bearer = {"Authorization": f"Bearer {Accounts(settings.accounts).new_token('huyen.105')}"}
    for lang, text in (("vi", "'2024-13': không có tháng 13"), ("en", "month 13 does not exist")):
        r = client.get(f"/api/rollup?unit=105&period=2024-13&lang={lang}", headers=bearer)
        assert r.status_code == 422 and r.json() == {
            "detail": text if lang == "vi" else f"'2024-13': {text}",
            "code": "period",
            "reason": "period.month_out_of_range",
        }
    client.cookies.clear()  # no session: Vietnamese by default
    r = client.get("/api/rollup?unit=105&period=2024-13", headers=bearer)
    assert r.json()["detail"] == "'2024-13': không có tháng 13"
