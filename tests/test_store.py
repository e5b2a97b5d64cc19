"""warehouse.store and warehouse.approval: versions, duplicates, supersession, holds, crash safety."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from test_warehouse_support import (
    CATALOG,
    COMMUNES_106,
    DISTRICT,
    UNITS,
    approve_districts,
    consolidated,
    current,
    load,
    result,
    snapshot,
    warehouse,
)

from warehouse.approval import (
    ApprovalError,
    accept,
    approval_state,
    approve,
    is_locked,
    unaccept,
    unapprove,
)
from warehouse.db import connect
from warehouse.staging import write_staging
from warehouse.store import PAUSE_ENV, load_batch, pending_batches

ROOT = Path(__file__).resolve().parents[1]
P = "2024-06"
C1, C2 = COMMUNES_106[0], COMMUNES_106[1]
OTHER_COMMUNE = UNITS.children("105", datetime(2024, 6, 14).date())[0].code


def base(i: int = 0) -> dict[str, float]:
    return {"crime_cases": 10 + i, "crime_solved": 8 + i, "residential_areas": 12}


def one_current_per_key(con) -> bool:
    bad = con.execute(
        "SELECT unit_code, period FROM fct_submission WHERE is_current"
        " GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    held_or_rejected_current = con.execute(
        "SELECT count(*) FROM fct_submission WHERE is_current AND status NOT IN"
        " ('accepted', 'accepted_with_warnings')"
    ).fetchall()[0][0]
    return not bad and held_or_rejected_current == 0


def test_first_load_then_reload_changes_nothing(tmp_path):
    con = warehouse(tmp_path)
    results = [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)]
    out = load(con, tmp_path, results, "b1")
    assert [(o.version, o.status, o.duplicate, o.superseded) for o in out] == [
        (1, "accepted", False, None)
    ] * len(COMMUNES_106)
    assert out[0].submission_id == f"{C1}:{P}:v1"
    first = snapshot(con)
    batch = tmp_path / "staging" / "b1"
    again = load_batch(con, batch)
    assert all(o.duplicate for o in again)
    assert [o.submission_id for o in again] == [o.submission_id for o in out]
    assert snapshot(con) == first  # full table contents, audit included
    # the same files staged again in a new batch are duplicates too: only the batch is recorded
    assert all(o.duplicate for o in load(con, tmp_path, results, "b1-again"))
    now = snapshot(con)
    assert {t: rows for t, rows in now.items() if t != "stg_batch"} == {
        t: rows for t, rows in first.items() if t != "stg_batch"
    }
    assert [r[0] for r in now["stg_batch"]] == ["b1", "b1-again"]
    assert now["stg_batch"][1][-2:] == (0, len(results))  # no new version, all duplicates
    assert one_current_per_key(con)


def test_pending_batches_and_batch_record(tmp_path):
    con = warehouse(tmp_path)
    staging = tmp_path / "staging"
    for name in ("b1", "b2"):
        write_staging([result(C1, P, base(len(name)))], staging, name, {})
    (staging / ".b3.tmp-123").mkdir()  # a batch being written by intake: not visible
    assert [p.name for p in pending_batches(con, staging)] == ["b1", "b2"]
    load_batch(con, staging / "b1")
    assert [p.name for p in pending_batches(con, staging)] == ["b2"]
    assert con.execute(
        "SELECT batch_id, submissions, new_versions, duplicates FROM stg_batch"
    ).fetchall() == [("b1", 1, 1, 0)]


def test_corrected_file_supersedes(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(C1, P, base())], "b1")
    (out,) = load(con, tmp_path, [result(C1, P, {**base(), "crime_cases": 11})], "b2")
    assert (out.version, out.status, out.duplicate, out.superseded) == (2, "accepted", False, 1)
    assert current(con, C1, P) == [(f"{C1}:{P}:v2", 2, "accepted")]
    rows = con.execute(
        "SELECT version, is_current, supersedes FROM fct_submission WHERE unit_code = ? ORDER BY 1",
        [C1],
    ).fetchall()
    assert rows == [(1, False, None), (2, True, f"{C1}:{P}:v1")]
    audit = con.execute(
        "SELECT action, submission_id, from_status, to_status FROM audit_log ORDER BY ALL"
    ).fetchall()
    assert ("supersede", f"{C1}:{P}:v1", "current", "superseded") in audit
    assert ("ingest", f"{C1}:{P}:v2", None, "accepted") in audit
    value = con.execute(
        "SELECT v.value FROM fct_value v JOIN fct_submission s USING (submission_id)"
        " WHERE s.is_current AND s.unit_code = ? AND v.indicator = 'crime_cases'",
        [C1],
    ).fetchall()
    assert value == [(11.0,)]
    assert one_current_per_key(con)


def test_rejected_version_keeps_the_current_accepted(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(C1, P, base())], "b1")
    bad = result(C1, P, {**base(), "crime_solved": 99}, path="bad.csv", errors=1)
    (out,) = load(con, tmp_path, [bad], "b2")
    assert (out.version, out.status, out.superseded) == (2, "rejected", None)
    assert current(con, C1, P) == [(f"{C1}:{P}:v1", 1, "accepted")]
    issues = con.execute(
        "SELECT submission_id, rule_id, severity, value FROM v_issues WHERE origin = 'submission'"
    ).fetchall()
    assert issues == [(f"{C1}:{P}:v2", "compare_solved_le_cases", "error", "99")]
    # a later warning-only version becomes current and supersedes v1 (not the rejected v2)
    (ok,) = load(con, tmp_path, [result(C1, P, base(1), warnings=1)], "b3")
    assert (ok.version, ok.status, ok.superseded) == (3, "accepted_with_warnings", 1)
    assert one_current_per_key(con)


def test_versions_and_duplicates_within_one_batch(tmp_path):
    con = warehouse(tmp_path)
    first, second = result(C1, P, base(0), path="a.csv"), result(C1, P, base(1), path="b.csv")
    copy = result(C1, P, base(0), path="a-copy.csv")
    at = {
        "a.csv": datetime(2024, 6, 15, 8),
        "a-copy.csv": datetime(2024, 6, 15, 9),
        "b.csv": datetime(2024, 6, 16, 8),
    }
    out = load(con, tmp_path, [second, first, copy], "b1", received_at=at)
    by_file = {o.file_name: o for o in out}
    assert (by_file["a.csv"].version, by_file["a.csv"].duplicate) == (1, False)
    assert (by_file["a-copy.csv"].version, by_file["a-copy.csv"].duplicate) == (1, True)
    assert (by_file["b.csv"].version, by_file["b.csv"].superseded) == (2, 1)
    assert current(con, C1, P) == [(f"{C1}:{P}:v2", 2, "accepted")]
    assert con.execute("SELECT count(*) FROM fct_submission").fetchall() == [(2,)]


def test_an_older_file_loaded_late_does_not_replace_a_newer_current(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(C1, P, base(2))], "newer", received_at=datetime(2024, 6, 16, 10))
    (old,) = load(con, tmp_path, [result(C1, P, base(1))], "older", datetime(2024, 6, 16, 9))
    assert (old.version, old.status, old.superseded) == (2, "accepted", None)
    assert current(con, C1, P)[0][1] == 1
    assert one_current_per_key(con)


def test_unreadable_rejected_file_is_stored_without_unit(tmp_path):
    con = warehouse(tmp_path)
    r = result(C1, P, {"crime_cases": 1}, path="garbage.xlsx", errors=1)
    r.unit_code = None
    r.period = None
    (out,) = load(con, tmp_path, [r], "b1")
    assert (out.status, out.version, out.submission_id) == ("rejected", 1, "?:?:v1")
    (again,) = load(con, tmp_path, [r], "b2")
    assert again.duplicate


def test_held_when_locked_and_released_on_unapprove(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)], "b1")
    load(con, tmp_path, [result(OTHER_COMMUNE, P, base()), result(DISTRICT, P, base(50))], "b2")
    consolidated(con, DISTRICT, P)
    approve(con, DISTRICT, P, actor="steward.tamduong")
    assert approval_state(con, DISTRICT, P) == "approved"
    assert is_locked(con, C1, P) and is_locked(con, DISTRICT, P)
    assert not is_locked(con, OTHER_COMMUNE, P) and not is_locked(con, C1, "2024-07")

    late_fix = result(C1, P, {**base(), "crime_cases": 20}, path="late-fix.csv")
    other_fix = result(OTHER_COMMUNE, P, base(5), path="other.csv")
    rejected = result(C2, P, base(7), path="rej.csv", errors=1)
    outs = {o.file_name: o for o in load(con, tmp_path, [late_fix, other_fix, rejected], "b3")}
    assert (outs["late-fix.csv"].status, outs["late-fix.csv"].version) == ("held", 2)
    assert outs["late-fix.csv"].superseded is None
    assert outs["other.csv"].status == "accepted"  # another district: not locked
    assert outs["rej.csv"].status == "rejected"
    assert current(con, C1, P) == [(f"{C1}:{P}:v1", 1, "accepted")]  # v1 stays current
    status = con.execute(
        "SELECT n_held, approval_state FROM v_submission_status WHERE unit_code = ?", [C1]
    ).fetchall()
    assert status == [(1, None)]

    released = unapprove(con, DISTRICT, P, actor="steward.tamduong")
    assert released == [f"{C1}:{P}:v2"]
    assert current(con, C1, P) == [(f"{C1}:{P}:v2", 2, "accepted")]
    sup = con.execute(
        "SELECT supersedes FROM fct_submission WHERE submission_id = ?", [f"{C1}:{P}:v2"]
    ).fetchall()
    assert sup == [(f"{C1}:{P}:v1",)]
    audit = con.execute(
        "SELECT actor, action, unit_code, submission_id, from_status, to_status FROM audit_log"
        " WHERE action IN ('approve', 'unapprove', 'release') ORDER BY \"at\", action"
    ).fetchall()
    assert ("steward.tamduong", "approve", DISTRICT, None, None, "approved") in audit
    assert ("steward.tamduong", "unapprove", DISTRICT, None, "approved", None) in audit
    assert ("steward.tamduong", "release", C1, f"{C1}:{P}:v2", "held", "accepted") in audit
    assert one_current_per_key(con)


def test_an_ancestor_lock_keeps_versions_held(tmp_path):
    con = warehouse(tmp_path)
    load(
        con,
        tmp_path,
        [result(C1, P, base()), result(DISTRICT, P, base()), result("12", P, base())],
        "b1",
    )
    approve_districts(con, "12", P)
    approve(con, "12", P, actor="p")
    (held,) = load(con, tmp_path, [result(C1, P, base(3))], "b2")
    assert held.status == "held"
    with pytest.raises(ApprovalError, match="while 12 2024-06 .accepted.|while 12 2024-06"):
        unapprove(con, DISTRICT, P, actor="d")  # refused while the province is approved
    assert unapprove(con, "12", P, actor="p") == []  # the district still locks it
    assert current(con, C1, P)[0][1] == 1
    unaccept(con, DISTRICT, P, actor="p")  # the province takes its acceptance back first
    assert unapprove(con, DISTRICT, P, actor="d") == [held.submission_id]
    assert current(con, C1, P)[0][1] == 2


def test_approval_flow_and_errors(tmp_path):
    con = warehouse(tmp_path)
    with pytest.raises(ApprovalError, match="has not been consolidated"):
        approve(con, DISTRICT, P, actor="d")
    load(con, tmp_path, [result(DISTRICT, P, base())], "b1")
    with pytest.raises(ApprovalError, match="not approved"):
        accept(con, DISTRICT, P, actor="p")
    with pytest.raises(ApprovalError, match="not approved"):
        unapprove(con, DISTRICT, P, actor="d")
    with pytest.raises(ApprovalError, match="Commune"):
        approve(con, C1, P, actor="d")
    with pytest.raises(ApprovalError, match="does not exist"):
        approve(con, DISTRICT, "2025-08", actor="d")  # districts abolished
    with pytest.raises(ApprovalError, match="not a period"):
        approve(con, DISTRICT, "June", actor="d")
    consolidated(con, DISTRICT, P)
    approve(con, DISTRICT, P, actor="d")
    with pytest.raises(ApprovalError, match="already approved"):
        approve(con, DISTRICT, P, actor="d")
    accept(con, DISTRICT, P, actor="province.laichau")
    assert approval_state(con, DISTRICT, P) == "accepted"
    with pytest.raises(ApprovalError, match="already accepted"):
        accept(con, DISTRICT, P, actor="p")
    row = con.execute(
        "SELECT state, actor FROM fct_approval WHERE unit_code = ?", [DISTRICT]
    ).fetchall()
    assert row == [("accepted", "province.laichau")]
    with pytest.raises(ApprovalError, match="the level above accepted it"):
        unapprove(con, DISTRICT, P, actor="d")
    unaccept(con, DISTRICT, P, actor="province.laichau")
    unapprove(con, DISTRICT, P, actor="d")
    assert approval_state(con, DISTRICT, P) is None
    actions = con.execute(
        "SELECT action, from_status, to_status FROM audit_log"
        " WHERE action NOT IN ('ingest', 'consolidate')"
        ' ORDER BY "at"'
    ).fetchall()
    assert actions == [
        ("approve", None, "approved"),
        ("accept", "approved", "accepted"),
        ("unaccept", "accepted", "approved"),
        ("unapprove", "approved", None),
    ]


# --- crash safety -----------------------------------------------------------------------------
def _big_batch(tmp_path: Path, n: int = 2000) -> Path:
    codes = [u.code for u in UNITS.units if u.structure == "legacy" and u.level == "C"][:n]
    values = {code: float(k) for k, code in enumerate(list(CATALOG.indicators)[3:23])}
    results = [result(c, P, {**base(k % 7), **values}) for k, c in enumerate(codes)]
    results += [result(C1, P, base(3), path="fix.csv")]  # supersedes the initial load
    return write_staging(results, tmp_path / "staging", "big", {r.path: r.path for r in results})


def _run_loader(db: Path, batch: Path, pause: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    code = (
        "import sys\n"
        "from warehouse.db import connect\n"
        "from warehouse.store import load_batch\n"
        "con = connect(sys.argv[1])\n"
        "out = load_batch(con, sys.argv[2])\n"
        "con.close()\n"
        "print('DONE', len(out), flush=True)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


LOAD_TIME_COLUMNS = ("at", "loaded_at")


def test_sigkill_mid_transaction_leaves_before_or_after(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(C1, P, base()), result(C2, P, base())], "initial")
    batch = _big_batch(tmp_path)
    before = snapshot(con)
    con.close()
    db = tmp_path / "wh.duckdb"
    # the "after" state: the same load, completed, on a copy of the file
    shutil.copy(db, tmp_path / "after.duckdb")
    con_after = connect(tmp_path / "after.duckdb")
    load_batch(con_after, batch)
    after = snapshot(con_after, LOAD_TIME_COLUMNS)
    con_after.close()

    proc = _run_loader(db, batch, pause="30")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the loader is now inside its transaction
        assert line.strip() == "TONGHOP_PAUSED", proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    con = connect(db)
    state, state_untimed = snapshot(con), snapshot(con, LOAD_TIME_COLUMNS)
    con.close()
    assert state == before or state_untimed == after
    assert state == before  # killed inside the transaction: nothing of the batch is visible

    # the batch is still intact and loads fine afterwards, reaching the "after" state
    proc = _run_loader(db, batch, pause=None)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.startswith("DONE")
    con = connect(db)
    assert snapshot(con, LOAD_TIME_COLUMNS) == after
    assert one_current_per_key(con)


def test_a_month_inside_an_approved_quarter_is_held(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(c, P, base(i)) for i, c in enumerate(COMMUNES_106)], "b1")
    consolidated(con, DISTRICT, "2024-Q2")
    approve(con, DISTRICT, "2024-Q2", actor="steward.tamduong")
    for month in ("2024-04", "2024-05", P):
        assert is_locked(con, C1, month), month
    assert not is_locked(con, C1, "2024-07") and not is_locked(con, C1, "2024-03")
    (held,) = load(con, tmp_path, [result(C1, P, base(9), path="fix.csv")], "b2")
    assert (held.status, held.version, held.current) == ("held", 2, False)
    assert current(con, C1, P)[0][1] == 1  # the approved quarter's figures do not move
    assert unapprove(con, DISTRICT, "2024-Q2", actor="steward.tamduong") == [held.submission_id]
    assert current(con, C1, P)[0][1] == 2


def test_every_period_containing_the_month_locks_it(tmp_path):
    con = warehouse(tmp_path)
    load(con, tmp_path, [result(C1, P, base())], "b1")
    for n, locking in enumerate(("2024-H1", "2024")):
        con.execute("DELETE FROM fct_approval")
        con.execute("INSERT INTO fct_approval VALUES ('12', ?, 'approved', 'p', now())", [locking])
        assert is_locked(con, C1, P) and is_locked(con, C1, "2024-Q2")
        assert is_locked(con, C1, "2024-12") == (locking == "2024")
        (o,) = load(con, tmp_path, [result(C1, P, base(n + 1))], f"h{n}")
        assert o.status == "held", locking


def test_predicting_a_batch_foretells_what_loading_each_file_does(tmp_path):
    """predict_outcomes (the dry run's three queries for a whole batch) gives each file the
    version, status, duplicate and held flags that load_batch then gives it."""
    from test_warehouse_support import digest

    from warehouse.store import predict_outcome, predict_outcomes

    con = warehouse(tmp_path)
    a, b = COMMUNES_106[:2]
    first = [result(c, "2024-06", {"crime_cases": 2}, path=f"{c}.csv") for c in (a, b)]
    may = [result(c, "2024-05", {"crime_cases": 1}, path=f"{c}-5.csv") for c in (a, b)]
    load(con, tmp_path, first + may, "b1")
    consolidated(con, DISTRICT, "2024-05")
    approve(con, DISTRICT, "2024-05", actor="steward.106")
    files = [
        result(a, "2024-06", {"crime_cases": 2}, path="same.csv"),  # a duplicate of version 1
        result(b, "2024-06", {"crime_cases": 5}, path="new.csv"),  # version 2
        result(a, "2024-05", {"crime_cases": 3}, path="held.csv"),  # May approved: held
        result(b, "2024-07", {"crime_cases": 1}, path="july.csv", errors=1),  # rejected v1
    ]
    asked = [(r.path, r.unit_code, r.period, digest(r), str(r.status)) for r in files]
    asked.append(("none.csv", None, None, None, "rejected"))
    predicted = predict_outcomes(con, asked)
    assert predicted["none.csv"] is None
    for key, *rest in asked[:-1]:
        assert predict_outcome(con, *rest) == predicted[key]  # one at a time: the same
    got = {
        r.path: (o.version, o.status, o.duplicate, o.current)
        for r, o in zip(files, load(con, tmp_path, files, "b2"), strict=True)
    }
    assert {
        k: (o.version, o.status, o.duplicate, o.current) for k, o in predicted.items() if o
    } == got
    assert got["same.csv"][2] and got["held.csv"][1] == "held" and got["new.csv"][0] == 2
