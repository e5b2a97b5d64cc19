"""SIGKILL safety of the flows, run as the steward runs them: `tonghop ingest` and `tonghop
consolidate` in their own processes (each starts its own Prefect ephemeral server).

The hook $TONGHOP_TEST_PAUSE_IN_TXN makes the writer sleep just before COMMIT (warehouse.store
.load_batch, warehouse.rollup.consolidate) after creating the file named by
$TONGHOP_TEST_PAUSE_MARKER; the tests poll for that file, then SIGKILL the process group (the
CLI and its Prefect server). The warehouse must then be exactly as before, and a normal re-run
must reach the after state.

The "before" states are built with the library directly (no Prefect), in the same warehouse
and staging folder the CLI then uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_warehouse_support import snapshot

from conftest import ROOT, SAMPLES, TODAY
from validations.catalog import load_catalog
from validations.intake import validate_paths
from validations.units import load_units
from warehouse.db import connect, open_warehouse
from warehouse.rollup import consolidate, preview
from warehouse.staging import write_staging
from warehouse.store import PAUSE_ENV, PAUSE_MARKER_ENV, load_batch, pending_batches

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

P = "2024-06"
JUNE = SAMPLES / "valid" / P
MARKER_TIMEOUT = 180.0  # CLI start + Prefect ephemeral server: 15-25 s, far more on a busy machine
RUN_TIMEOUT = 240.0
CONSOLIDATION_TABLES = ("fct_rollup", "fct_completeness", "fct_consolidation_issue")
CLI = "import sys; from tonghop.cli import main; sys.argv[0] = 'tonghop'; main()"


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory) -> Path:
    """One PREFECT_HOME for every subprocess here (the first run creates its database)."""
    return tmp_path_factory.mktemp("prefect_home")


@dataclass
class Run:
    """One `tonghop` process, its output files and its pause marker (None: no pause)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    marker: Path | None

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the CLI and its Prefect server (its own process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def tonghop(tmp_path, prefect_home) -> Iterator:
    """Start `tonghop ARGS` in a new process group; every group is killed at teardown."""
    runs: list[Run] = []

    def start(*args: str, pause: bool = False) -> Run:
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in (
                PAUSE_ENV,
                PAUSE_MARKER_ENV,
                "PREFECT_API_URL",
                "TONGHOP_WAREHOUSE",
                "TONGHOP_STAGING",
                "TONGHOP_OUTBOX",
            )
        }
        env |= {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "TONGHOP_TODAY": TODAY.isoformat(),
            "PYTHONPATH": str(ROOT),
        }
        n = len(runs)
        marker = tmp_path / f"paused-{n}.marker" if pause else None
        if marker:
            env[PAUSE_ENV] = "600"  # far longer than any test: the test kills it first
            env[PAUSE_MARKER_ENV] = str(marker)
        out, err = tmp_path / f"run{n}.out", tmp_path / f"run{n}.err"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            proc = subprocess.Popen(
                [sys.executable, "-c", CLI, *args],
                stdout=fo,
                stderr=fe,
                env=env,
                cwd=tmp_path,
                start_new_session=True,
            )
        run = Run(proc, out, err, marker)
        runs.append(run)
        return run

    yield start
    for run in runs:  # a finished CLI stops its own Prefect server
        if run.proc.poll() is None:
            run.kill()


def wait_paused(run: Run) -> None:
    """Until the process is inside its transaction (the marker exists)."""
    assert run.marker is not None
    deadline = time.monotonic() + MARKER_TIMEOUT
    while not run.marker.exists():
        if run.proc.poll() is not None:
            pytest.fail(f"exited {run.proc.returncode} before pausing:\n{run.stdout}\n{run.stderr}")
        if time.monotonic() > deadline:
            run.kill()
            pytest.fail(f"not paused after {MARKER_TIMEOUT:.0f} s:\n{run.stdout}\n{run.stderr}")
        time.sleep(0.1)


def finish(run: Run) -> int:
    try:
        return run.proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        run.kill()
        pytest.fail(f"still running after {RUN_TIMEOUT:.0f} s:\n{run.stdout}\n{run.stderr}")


def tables(db: Path) -> dict[str, list]:
    con = connect(db)
    try:
        return snapshot(con)
    finally:
        con.close()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load_files(db: Path, files: list[Path], batch_id: str, validator) -> None:
    """Ingest with the library (no Prefect): validate, stage next to the warehouse, load."""
    cat, units = load_catalog(), load_units()
    outcome = validate_paths([str(f) for f in files], validator)
    assert not outcome.unreadable
    batch = write_staging(outcome.results, db.parent / "staging", batch_id, outcome.hashes)
    con = open_warehouse(db, cat, units)
    try:
        load_batch(con, batch, actor="setup", close_day=cat.close_day)
    finally:
        con.close()


def consolidate_now(db: Path, unit: str) -> None:
    cat, units = load_catalog(), load_units()
    con = open_warehouse(db, cat, units)
    try:
        consolidate(con, P, unit, cat, units, actor="setup")
    finally:
        con.close()


def _f(x: object) -> float:
    """NULL (DuckDB) and NaN (pandas) alike."""
    return float("nan") if x is None else float(x)  # type: ignore[arg-type]


def unit_of(path: Path) -> str:
    return path.stem.split("_", 1)[0]


def sample_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".xlsx"))


def test_ingest_killed_inside_its_transaction_leaves_the_warehouse_as_before(
    tmp_path, tonghop, validator
):
    db, outbox = tmp_path / "wh.duckdb", tmp_path / "outbox"
    load_files(db, sample_files(SAMPLES / "valid" / "2024-05" / "105"), "setup-2024-05", validator)
    before = tables(db)
    assert len(before["fct_submission"]) == 8

    files = sample_files(JUNE / "105")
    args = ("--warehouse", str(db), "--outbox", str(outbox))
    paused = tonghop("ingest", str(JUNE / "105"), *args, pause=True)
    wait_paused(paused)
    paused.kill()
    assert paused.proc.returncode == -signal.SIGKILL

    assert tables(db) == before  # nothing of the batch is visible
    con = connect(db)
    try:
        (pending,) = pending_batches(con, tmp_path / "staging")  # staged, not loaded
    finally:
        con.close()
    manifest = json.loads((pending / "manifest.json").read_text("utf-8"))
    assert manifest["submissions"] == len(files) == 8
    assert not list(outbox.rglob("*.json"))  # no submitter was told anything

    # a normal re-run loads the pending batch first, then its own: the same files again
    # (duplicates) and a correction, which becomes version 2 on top of the recovered version 1
    fix = tmp_path / "fix" / "03387_2024-06.csv"  # files are taken in order of arrival:
    fix.parent.mkdir()  # the correction arrives after the June files
    shutil.copy(SAMPLES / "corrections" / "03387_2024-06.csv", fix)
    later = max(f.stat().st_mtime for f in files) + 60
    os.utime(fix, (later, later))
    again = tonghop("ingest", str(JUNE / "105"), str(fix), *args, "--json")
    assert finish(again) == 0, again.stderr
    res = json.loads(again.stdout)
    assert res["other_batches_loaded"] == [pending.name]
    subs = res["submissions"]
    assert [(s["unit_code"], s["version"], s["duplicate"]) for s in subs] == [
        *[(unit_of(f), 1, True) for f in files],
        ("03387", 2, False),
    ]
    assert subs[-1]["superseded"] == 1

    after = tables(db)
    for table in ("fct_submission", "fct_value", "fct_issue", "audit_log"):
        assert set(before[table]) <= set(after[table]), table  # the earlier data untouched
    assert query(
        db,
        "SELECT unit_code, version, batch_id, is_current FROM fct_submission WHERE period = ?"
        " ORDER BY unit_code, version",
        [P],
    ) == sorted(
        [(unit_of(f), 1, pending.name, unit_of(f) != "03387") for f in files]
        + [("03387", 2, res["batch_id"], True)]
    )
    assert query(
        db, "SELECT batch_id, submissions, new_versions, duplicates FROM stg_batch ORDER BY ALL"
    ) == sorted([("setup-2024-05", 8, 8, 0), (pending.name, 8, 8, 0), (res["batch_id"], 9, 1, 8)])
    assert query(
        db,
        "SELECT count(*) FROM fct_value v JOIN fct_submission s USING (submission_id)"
        " WHERE s.batch_id = ?",
        [pending.name],
    ) == [(manifest["values"],)]
    assert query(
        db, "SELECT count(*) FROM audit_log WHERE action = 'ingest' AND period = ?", [P]
    ) == [(9,)]
    assert (outbox / "03387" / f"{P}_v2.json").is_file()


def test_consolidation_killed_inside_its_transaction_leaves_the_rollups_as_before(
    tmp_path, tonghop, validator
):
    db = tmp_path / "wh.duckdb"
    load_files(db, sample_files(JUNE), "setup-june", validator)
    consolidate_now(db, "12")  # an earlier consolidation: districts and province
    # a correction arrives afterwards: the stored consolidation is now out of date
    load_files(db, [SAMPLES / "corrections" / "03387_2024-06.csv"], "setup-fix", validator)
    before = tables(db)
    # 9 consolidated units and the 106 communes' own rows (30 figures each)
    assert len(before["fct_rollup"]) == 9 * 52 + 106 * 30 and len(before["fct_completeness"]) == 9
    stale = query(
        db,
        "SELECT children_sum FROM fct_rollup WHERE unit_code = '105' AND period = ?"
        " AND indicator = 'crime_cases'",
        [P],
    )[0][0]

    args = ("--period", P, "--unit", "12", "--warehouse", str(db))
    paused = tonghop("consolidate", *args, pause=True)
    wait_paused(paused)
    paused.kill()
    assert paused.proc.returncode == -signal.SIGKILL
    now = tables(db)
    for table in CONSOLIDATION_TABLES:
        assert now[table] == before[table], table
    assert now == before

    again = tonghop("consolidate", *args, "--json")
    assert finish(again) == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["unit_code"], summary["received"], len(summary["children"])) == ("12", 8, 8)
    after = tables(db)
    assert len(after["fct_rollup"]) == 9 * 52 + 106 * 30 and len(after["fct_completeness"]) == 9
    assert query(
        db,
        "SELECT count(*) FROM audit_log WHERE action = 'consolidate' AND period = ?",
        [P],
    ) == [(18,)]  # 9 units, twice: the killed run left no trace
    fresh = query(
        db,
        "SELECT children_sum FROM fct_rollup WHERE unit_code = '105' AND period = ?"
        " AND indicator = 'crime_cases'",
        [P],
    )[0][0]
    assert fresh == stale + 1  # the correction adds one case
    # what is stored is what the rollup computes from the warehouse now
    cat, units = load_catalog(), load_units()
    con = connect(db)
    try:
        for unit in ("105", "12"):
            stored = con.execute(
                "SELECT indicator, value, children_sum FROM fct_rollup"
                " WHERE unit_code = ? AND period = ? ORDER BY indicator",
                [unit, P],
            ).fetchall()
            df = preview(con, P, unit, cat, units).sort_values("indicator")
            computed = list(zip(df["indicator"], df["value"], df["children_sum"], strict=True))
            assert len(stored) == len(computed) == 52
            for (i1, v1, c1), (i2, v2, c2) in zip(stored, computed, strict=True):
                assert i1 == i2
                assert _f(v1) == pytest.approx(_f(v2), nan_ok=True), (unit, i1)
                assert _f(c1) == pytest.approx(_f(c2), nan_ok=True), (unit, i1)
    finally:
        con.close()


def test_a_second_writer_fails_clearly_while_one_holds_the_warehouse(tmp_path, tonghop, validator):
    db = tmp_path / "wh.duckdb"
    load_files(db, sample_files(JUNE / "105"), "setup-105", validator)
    consolidate_now(db, "105")
    before = tables(db)

    holder = tonghop(
        "consolidate", "--period", P, "--unit", "105", "--warehouse", str(db), pause=True
    )
    wait_paused(holder)
    approve = tonghop(
        "approve", "--period", P, "--unit", "105", "--actor", "steward.105", "--warehouse", str(db)
    )
    rc_approve = finish(approve)
    other = tonghop("consolidate", "--period", P, "--unit", "105", "--warehouse", str(db))
    rc_other = finish(other)  # Prefect retries the locked task (2 + 5 + 15 s), then gives up
    assert holder.proc.poll() is None  # the holder was never disturbed
    holder.kill()
    assert tables(db) == before

    assert rc_approve == 2, approve.stderr  # cannot run now (1 is for "ran, and the answer is no")
    assert approve.stdout == ""
    (line,) = approve.stderr.strip().splitlines()
    assert str(db) in line and "đang được một tiến trình khác sử dụng" in line  # Vietnamese
    assert "Traceback" not in approve.stderr

    assert rc_other != 0
    assert other.stdout == ""
    # the CLI's own line (Prefect's log lines start with a time, tracebacks with spaces)
    ours = [line for line in other.stderr.splitlines() if line.startswith("Tệp kho dữ liệu")]
    assert ours and all(str(db) in line and "tiến trình khác" in line for line in ours)
    if "Traceback" in other.stderr:
        pytest.xfail(
            "product bug: `tonghop consolidate` on a locked warehouse ends with the one-sentence "
            "message, but Prefect first logs the task's and the flow's failure with full "
            "tracebacks on stderr"
        )
