"""warehouse.approval: approvals in order (DHIS2-style), each refusal naming what is still open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_warehouse_support import (
    COMMUNES_106,
    DISTRICT,
    UNITS,
    approve_districts,
    consolidated,
    load,
    result,
    warehouse,
)
from typer.testing import CliRunner

from tonghop.cli import app
from warehouse.approval import (
    ApprovalError,
    accept,
    approval_state,
    approve,
    check_unapprove,
    unaccept,
    unapprove,
)

P = "2024-06"
TWO_LEVEL = "2025-07"
DISTRICTS_12 = [u.code for u in UNITS.children("12", date(2024, 6, 14)) if u.level == "D"]


def base(i: int = 0) -> dict[str, float]:
    return {"crime_cases": 10 + i, "crime_solved": 8 + i, "residential_areas": 12}


@pytest.fixture
def june(tmp_path):
    """Tam Đường's communes and the district itself for June, nothing consolidated yet."""
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)], "b1")
    load(con, tmp_path, [result(DISTRICT, P, base(50))], "b2")
    yield con
    con.close()


def test_a_period_never_consolidated_cannot_be_approved(june):
    with pytest.raises(ApprovalError, match="106 2024-06: it has not been consolidated") as e:
        approve(june, DISTRICT, P, actor="steward.106")
    assert "tonghop consolidate --period 2024-06 --unit 106" in str(e.value)
    assert approval_state(june, DISTRICT, P) is None
    consolidated(june, DISTRICT, P)
    approve(june, DISTRICT, P, actor="steward.106")
    assert approval_state(june, DISTRICT, P) == "approved"


@pytest.mark.parametrize("actor", ["", "   ", "\t\n", None])
def test_every_step_needs_a_non_blank_actor(june, actor):
    consolidated(june, DISTRICT, P)
    for step in (approve, accept, unaccept, unapprove):
        with pytest.raises(ApprovalError, match="needs --actor"):
            step(june, DISTRICT, P, actor=actor)
    assert approval_state(june, DISTRICT, P) is None
    n = june.execute(
        "SELECT count(*) FROM audit_log WHERE action IN ('approve', 'accept', 'unapprove')"
    ).fetchall()[0][0]
    assert n == 0


def test_the_actor_is_recorded_stripped(june):
    consolidated(june, DISTRICT, P)
    approve(june, DISTRICT, P, actor="  steward.106 ")
    row = june.execute("SELECT actor FROM fct_approval WHERE unit_code = ?", [DISTRICT]).fetchall()
    assert row == [("steward.106",)]


def test_a_commune_version_newer_than_the_consolidation_keeps_the_district_open(june, tmp_path):
    consolidated(june, DISTRICT, P)
    load(june, tmp_path, [result(COMMUNES_106[3], P, base(9), path="fix.csv")], "b3")
    with pytest.raises(ApprovalError, match=f"{COMMUNES_106[3]}: its v2 arrived after") as e:
        approve(june, DISTRICT, P, actor="steward.106")
    assert "1 unit below it still open" in str(e.value)
    consolidated(june, DISTRICT, P)  # consolidated again: now it may
    approve(june, DISTRICT, P, actor="steward.106")


def test_a_province_needs_every_district_approved_and_accepted(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)], "b1")
    consolidated(con, "12", P)
    # only Tam Đường approved and accepted: the 7 others are named
    approve(con, DISTRICT, P, actor="steward.106")
    accept(con, DISTRICT, P, actor="steward.12")
    with pytest.raises(ApprovalError) as e:
        approve(con, "12", P, actor="steward.12")
    msg = str(e.value)
    assert "7 units below it still open" in msg
    for code in DISTRICTS_12:
        assert (f"district {code}: not approved" in msg) == (code != DISTRICT), code
    # approved but not accepted is still open
    other = next(c for c in DISTRICTS_12 if c != DISTRICT)
    approve(con, other, P, actor=f"steward.{other}")
    with pytest.raises(ApprovalError, match=f"district {other}: approved, not accepted yet"):
        approve(con, "12", P, actor="steward.12")
    approve_districts(con, "12", P, skip=(DISTRICT, other))
    accept(con, other, P, actor="steward.12")
    approve(con, "12", P, actor="steward.12")
    assert approval_state(con, "12", P) == "approved"
    con.close()


def test_two_level_province_needs_its_communes_data_consolidated(tmp_path):
    con = warehouse(tmp_path)
    communes = [u.code for u in UNITS.children("12", date(2025, 7, 14))][:3]
    load(con, tmp_path, [result(c, TWO_LEVEL, base(i)) for i, c in enumerate(communes)], "b1")
    with pytest.raises(ApprovalError, match="has not been consolidated"):
        approve(con, "12", TWO_LEVEL, actor="steward.12")
    consolidated(con, "12", TWO_LEVEL)
    load(con, tmp_path, [result(communes[0], TWO_LEVEL, base(7), path="late.csv")], "b2")
    with pytest.raises(ApprovalError, match=f"{communes[0]}: its v2 arrived after"):
        approve(con, "12", TWO_LEVEL, actor="steward.12")
    consolidated(con, "12", TWO_LEVEL)
    approve(con, "12", TWO_LEVEL, actor="steward.12")  # no districts in the two-level structure
    con.close()


def test_a_district_cannot_be_unapproved_while_its_province_is_approved(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)], "b1")
    approve_districts(con, "12", P)
    approve(con, "12", P, actor="steward.12")
    with pytest.raises(ApprovalError, match="Cannot unapprove 106 2024-06 while 12 2024-06"):
        unapprove(con, DISTRICT, P, actor="steward.106")
    assert approval_state(con, DISTRICT, P) == "accepted"
    # nor un-accepted: the province built its own approval on it
    with pytest.raises(ApprovalError, match="Cannot un-accept 106 2024-06 while 12 2024-06"):
        unaccept(con, DISTRICT, P, actor="steward.12")
    unapprove(con, "12", P, actor="steward.12")
    unaccept(con, DISTRICT, P, actor="steward.12")
    unapprove(con, DISTRICT, P, actor="steward.106")
    assert approval_state(con, DISTRICT, P) is None
    con.close()


def test_once_accepted_the_district_cannot_unapprove_until_the_province_unaccepts(june):
    """DHIS2: a level unapproves only what the level above has not accepted; the level above
    un-accepts first (accepted -> approved), and the refusal says who accepted it."""
    consolidated(june, DISTRICT, P)
    approve(june, DISTRICT, P, actor="steward.106")
    accept(june, DISTRICT, P, actor="steward.12")
    with pytest.raises(ApprovalError, match="the level above accepted it .steward.12, ") as e:
        unapprove(june, DISTRICT, P, actor="steward.106")
    assert "tonghop unaccept --period 2024-06 --unit 106" in str(e.value)
    with pytest.raises(ApprovalError):  # the check says the same without writing
        check_unapprove(june, DISTRICT, P)
    assert approval_state(june, DISTRICT, P) == "accepted"
    unaccept(june, DISTRICT, P, actor="steward.12")
    assert approval_state(june, DISTRICT, P) == "approved"
    with pytest.raises(ApprovalError, match="Cannot un-accept 106 2024-06: it is only approved"):
        unaccept(june, DISTRICT, P, actor="steward.12")
    unapprove(june, DISTRICT, P, actor="steward.106")
    assert approval_state(june, DISTRICT, P) is None
    with pytest.raises(ApprovalError, match="it is not approved"):
        unaccept(june, DISTRICT, P, actor="steward.12")
    audit = june.execute(
        "SELECT actor, action, from_status, to_status FROM audit_log"
        " WHERE action IN ('approve', 'accept', 'unaccept', 'unapprove') ORDER BY \"at\""
    ).fetchall()
    assert audit == [
        ("steward.106", "approve", None, "approved"),
        ("steward.12", "accept", "approved", "accepted"),
        ("steward.12", "unaccept", "accepted", "approved"),
        ("steward.106", "unapprove", "approved", None),
    ]


def test_cli_refusals_are_one_sentence(june, tmp_path):
    db = Path(june.execute("PRAGMA database_list").fetchall()[0][2])
    june.close()
    runner = CliRunner()
    args = ["--period", P, "--unit", DISTRICT, "--warehouse", str(db)]
    res = runner.invoke(app, ["approve", *args, "--actor", "steward.106"])
    assert res.exit_code == 1 and "chưa được tổng hợp" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["approve", *args, "--actor", "  "])
    assert res.exit_code == 1 and "cần --actor" in res.output
    res = runner.invoke(app, ["approve", *args])  # no --actor at all: a usage error
    assert res.exit_code == 2 and "--actor" in res.output


def test_cli_refuses_to_unapprove_what_the_province_accepted(june, tmp_path):
    """The approval refusals through the CLI: unapprove once accepted, un-accept while the
    province is approved, consolidate an approved period; each one sentence, exit 1."""
    consolidated(june, DISTRICT, P)
    db = Path(june.execute("PRAGMA database_list").fetchall()[0][2])
    june.close()
    runner = CliRunner()
    args = ["--period", P, "--unit", DISTRICT, "--warehouse", str(db)]
    assert runner.invoke(app, ["approve", *args, "--actor", "steward.106"]).exit_code == 0
    res = runner.invoke(app, ["accept", *args, "--actor", "steward.12"])
    assert res.exit_code == 0 and "accepted: 106 2024-06 by steward.12" in res.output
    res = runner.invoke(app, ["unapprove", *args, "--actor", "steward.106"])
    assert res.exit_code == 1, res.output
    assert res.output.startswith(
        "Không hủy phê duyệt được 106 kỳ 2024-06: cấp trên đã tiếp nhận (steward.12, "
    ), res.output
    assert "cấp trên phải hủy tiếp nhận trước (tonghop unaccept --period 2024-06" in res.output
    en = runner.invoke(app, ["unapprove", *args, "--actor", "x"], env={"TONGHOP_LANG": "en"})
    assert "the level above accepted it (steward.12, " in en.output, en.output
    assert "Traceback" not in res.output + en.output
    res = runner.invoke(app, ["unaccept", *args, "--actor", "steward.12"])
    assert res.exit_code == 0 and "un-accepted: 106 2024-06 by steward.12" in res.output
    res = runner.invoke(app, ["unapprove", *args, "--actor", "steward.106"])
    assert res.exit_code == 0 and "unapproved: 106 2024-06 by steward.106" in res.output


def test_cli_refuses_to_consolidate_an_approved_period(june, tmp_path, prefect_harness):
    """Consolidating an approved (or accepted) period again is refused with who approved it
    and what to do first, through the CLI (the consolidate flow) as through the portal."""
    consolidated(june, DISTRICT, P)
    approve(june, DISTRICT, P, actor="steward.106")
    accept(june, DISTRICT, P, actor="steward.12")
    db = Path(june.execute("PRAGMA database_list").fetchall()[0][2])
    june.close()
    res = CliRunner().invoke(
        app, ["consolidate", "--period", P, "--unit", DISTRICT, "--warehouse", str(db)]
    )
    assert res.exit_code == 1, res.output
    last = res.output.strip().splitlines()[-1]  # (Prefect's own log lines come before it here)
    assert last.startswith("106 kỳ 2024-06 đang bị khóa (cấp trên đã tiếp nhận: 106 kỳ"), last
    assert "bởi steward.12 lúc" in last
    assert last.endswith("cấp trên hủy tiếp nhận 106 kỳ 2024-06, rồi đơn vị đó hủy phê duyệt")
