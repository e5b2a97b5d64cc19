"""Every word the pages ask for exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

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
        "job_": ("queued", "running", "completed", "failed", "submitted"),
        "src_": ("own", "children"),
        "att_": ("exceeded", "reached", "missed"),
        "done_": ("consolidate", "approve", "accept", "unapprove"),
    }.items():
        assert [n for n in names if prefix + n not in WORDS] == [], prefix
