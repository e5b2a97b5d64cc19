"""Accounts, tokens and the `tonghop user` commands."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tonghop.cli import app
from tonghop.portal.accounts import AccountError, Accounts


def test_add_authenticate_token_disable(tmp_path):
    acc = Accounts(tmp_path / "a.sqlite")
    acc.add("xa.03386", "03386", "submitter", "mat-khau-123", "a@b.vn")
    assert acc.authenticate("xa.03386", "mat-khau-123").unit_code == "03386"
    assert acc.authenticate("xa.03386", "wrong-password") is None
    assert acc.authenticate("nobody", "mat-khau-123") is None
    token = acc.new_token("xa.03386")
    assert acc.by_token(token).name == "xa.03386"
    second = acc.new_token("xa.03386")
    assert acc.by_token(token) is None and acc.by_token(second)  # the old one stops working
    acc.disable("xa.03386")
    assert acc.by_token(second) is None and acc.authenticate("xa.03386", "mat-khau-123") is None
    # neither the password nor the token is stored
    dump = "\n".join(sqlite3.connect(tmp_path / "a.sqlite").iterdump())
    assert "mat-khau-123" not in dump and second not in dump and "$argon2id$" in dump


@pytest.mark.parametrize(
    "args",
    [
        ("x", "03386", "submitter", "mat-khau-123"),  # name too short
        ("ok.name", "99999", "submitter", "mat-khau-123"),  # no such unit
        ("ok.name", "03386", "boss", "mat-khau-123"),  # no such role
        ("ok.name", "03386", "viewer", "short"),  # password too short
    ],
)
def test_bad_accounts_are_refused_with_a_sentence(tmp_path, args):
    with pytest.raises(AccountError):
        Accounts(tmp_path / "a.sqlite").add(*args)


def test_user_commands(tmp_path):
    db = str(tmp_path / "a.sqlite")
    run = CliRunner().invoke
    r = run(
        app,
        [
            "user",
            "add",
            "huyen.105",
            "--unit",
            "105",
            "--role",
            "steward",
            "--password-stdin",
            "--accounts",
            db,
        ],
        input="mat-khau-123\n",
    )
    assert r.exit_code == 0 and "steward of unit 105" in r.output
    r = run(
        app,
        [
            "user",
            "add",
            "huyen.105",
            "--unit",
            "105",
            "--role",
            "steward",
            "--password-stdin",
            "--accounts",
            db,
        ],
        input="mat-khau-123\n",
    )
    assert r.exit_code == 2 and "Đã có người dùng" in r.output
    r = run(app, ["user", "token", "huyen.105", "--accounts", db])
    assert r.exit_code == 0 and r.output.startswith("th_")
    assert Accounts(db).by_token(r.output.strip()).name == "huyen.105"
    assert "huyen.105" in run(app, ["user", "list", "--accounts", db]).output
    r = run(app, ["user", "disable", "huyen.105", "--accounts", db])
    assert r.exit_code == 0 and Accounts(db).get("huyen.105").disabled
    assert run(app, ["user", "disable", "nobody", "--accounts", db]).exit_code == 2


def test_demo_accounts_and_the_hint_tonghop_demo_prints(tmp_path):
    from tonghop.portal.demo import DEMO_USERS, PASSWORD, demo_accounts, hint

    path = demo_accounts(tmp_path)
    acc = Accounts(path)
    for name, (unit, role, _) in DEMO_USERS.items():
        user = acc.authenticate(name, PASSWORD)
        assert (user.unit_code, user.role) == (unit, role)
    text = hint(tmp_path, tmp_path / "tonghop.duckdb")
    assert "tonghop serve --warehouse" in text and PASSWORD in text and "huyen.105" in text
    demo_accounts(tmp_path)  # a second demo run starts again from scratch
    assert len(Accounts(path).users()) == len(DEMO_USERS)


# --- names and addresses that would forge a line ------------------------------------------------
FORGING = [
    "xa.03386\n",  # "$" accepted a final line break
    "xa.03386\r",
    "xa.03386\r\n",
    "xa.03386 ",  # a trailing space
    " xa.03386",
    "xa\n03386",
    "xa.03386\u2028",  # Unicode line and paragraph separators
    "xa.03386\u2029",
    "xa.03386\x85",  # NEL
    "xa.03386\x1b[31m",  # an ANSI escape
    "xa.03386\u202e",  # a bidi override
    "xa.03386\u200b",  # a zero-width space
    "xa.03386\t",
    "xa.03386\x00",
]


@pytest.mark.parametrize("name", FORGING)
def test_a_name_that_would_forge_a_line_is_refused_saying_what_it_holds(tmp_path, name):
    acc = Accounts(tmp_path / "a.sqlite")
    with pytest.raises(AccountError) as err:
        acc.add(name, "03386", "submitter", "mat-khau-123")
    assert err.value.reason == "account.name_hidden", err.value.reason
    vi, en = err.value.message("vi"), err.value.message("en")
    assert "\n" not in vi and "\r" not in vi and "\u2028" not in vi and "\x1b" not in vi
    what = {" ": "dấu cách", "\n": "dấu xuống dòng", "\t": "dấu tab", "\u202e": "U+202E"}
    for ch, words in what.items():
        if ch in name:
            assert words in vi, vi
    assert "User name" in en and acc.users() == []


@pytest.mark.parametrize("email", [e.replace("xa.03386", "xa@example.vn") for e in FORGING])
def test_an_address_that_would_forge_a_line_or_a_header_is_refused(tmp_path, email):
    acc = Accounts(tmp_path / "a.sqlite")
    with pytest.raises(AccountError) as err:
        acc.add("xa.03386", "03386", "submitter", "mat-khau-123", email)
    assert err.value.reason == "account.email_hidden"
    assert "\n" not in err.value.message("vi") and acc.users() == []


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("xa03386@example.vn", True),
        ("tonghop@localhost", True),
        ("a@b@c.vn", False),
        ("@example.vn", False),
        ("xa03386@", False),
        ("x" * 65 + "@example.vn", False),
    ],
)
def test_an_address_is_checked_whole(tmp_path, email, ok):
    acc = Accounts(tmp_path / "a.sqlite")
    if ok:
        assert acc.add("xa.03386", "03386", "submitter", "mat-khau-123", email).email == email
    else:
        with pytest.raises(AccountError, match="e-mail address"):
            acc.add("xa.03386", "03386", "submitter", "mat-khau-123", email)


def _invisible(ch: str) -> bool:
    import unicodedata

    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zs")


@hyp_settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)
def test_any_text_with_a_control_or_invisible_character_is_refused(before, bad, after):
    """Any name or address holding a control, format, line-separator or space character is
    refused with the sentence naming it, never stored (the checks run before the database)."""
    from tonghop.portal.accounts import check_email, check_name

    for text, check, reason in (
        (before + bad + after, check_name, "account.name_hidden"),
        (f"{before}{bad}{after}@example.vn", check_email, "account.email_hidden"),
    ):
        with pytest.raises(AccountError) as err:
            check(text)
        assert err.value.reason == reason
        assert _invisible(bad)
        for lang in ("vi", "en"):
            shown = err.value.message(lang)
            assert "\n" not in shown and "\r" not in shown and "\u2028" not in shown


@hyp_settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}", fullmatch=True))
def test_every_name_of_the_documented_form_is_accepted(name):
    from tonghop.portal.accounts import check_name

    check_name(name)


def test_user_list_escapes_an_account_made_before_names_were_checked_whole(tmp_path):
    """An account "xa.03386\\n" made by an earlier release: `user list` shows it on one line,
    escaped, and it is disabled by the name the list shows."""
    db = str(tmp_path / "a.sqlite")
    acc = Accounts(db)
    acc.add("xa.03386", "03386", "submitter", "mat-khau-123")
    with sqlite3.connect(db) as con:  # as the earlier release let it be made
        con.execute(
            "INSERT INTO users (name, unit_code, role, password_hash, email, created_at)"
            " VALUES (?, '03386', 'admin', 'x', ?, '2026-01-01T00:00:00')",
            ["forged\nxa.99999            admin", "a@b.vn\r\nBcc: x@y.vn"],
        )
    run = CliRunner().invoke
    out = run(app, ["user", "list", "--accounts", db]).output
    assert len(out.splitlines()) == 2, out  # one line per account
    assert "forged\\nxa.99999" in out and "\\r\\nBcc" in out
    r = run(app, ["user", "disable", "forged\\nxa.99999            admin", "--accounts", db])
    assert r.exit_code == 0, r.output
    assert Accounts(db).get("forged\nxa.99999            admin").disabled
    assert not Accounts(db).get("xa.03386").disabled


def test_user_add_refuses_a_name_with_a_line_break_in_one_line(tmp_path):
    db = str(tmp_path / "a.sqlite")
    for lang, words in (("vi", "dấu xuống dòng"), ("en", "a line break")):
        r = CliRunner().invoke(
            app,
            ["user", "add", "xa.03386\n", "--unit", "03386", "--role", "submitter"]
            + ["--password-stdin", "--accounts", db],
            input="mat-khau-123\n",
            env={"TONGHOP_LANG": lang},
        )
        assert r.exit_code == 2 and words in r.output, r.output
        assert r.output.count("\n") == 1 and "'xa.03386\\n'" in r.output
    assert Accounts(db).users() == []
