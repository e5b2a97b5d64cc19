"""Accounts, tokens and the `tonghop user` commands."""

from __future__ import annotations

import sqlite3

import pytest
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
