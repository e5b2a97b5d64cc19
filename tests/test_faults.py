"""Faults: a full disk during the staging write, and Prefect's retries on the transient steps.

(SIGKILL during ingest and consolidation, and a second writer, are tests/test_crash.py and
tests/test_store.py.)

The full disk is real where the tests may mount a 1 MiB tmpfs (root, as in CI's container);
elsewhere those tests are skipped with the reason, and the same code paths are still exercised
by making the write raise ENOSPC at the COPY and at the rename step.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from test_warehouse_support import snapshot
from typer.testing import CliRunner

from conftest import SAMPLES
from validations.intake import expand_paths, validate_paths
from warehouse import staging as staging_mod
from warehouse.db import connect, open_warehouse
from warehouse.staging import StagingError, write_staging
from warehouse.store import load_batch, pending_batches

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

JUNE = SAMPLES / "valid" / "2024-06"
PREFECT_LOG = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| ")


@contextlib.contextmanager
def tiny_disk(path: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at path, or a skip saying why it cannot be."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the ENOSPC-by-monkeypatch tests cover this code")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk until only about `leave` bytes are free."""
    filler = disk / f"filler-{uuid.uuid4().hex[:6]}"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.fixture(scope="module")
def june(validator):
    """Every June 2024 file validated (115 submissions)."""
    return validate_paths(expand_paths([JUNE]), validator)


@pytest.fixture
def wh(tmp_path, catalog, units, validator):
    """A warehouse (on the normal disk) that already holds district 105's June."""
    con = open_warehouse(tmp_path / "wh.duckdb", catalog, units)
    out = validate_paths(expand_paths([JUNE / "105"]), validator)
    load_batch(con, write_staging(out.results, tmp_path / "base-staging", "base", out.hashes))
    yield con
    con.close()


def staged_size(june, tmp_path: Path) -> int:
    batch = write_staging(june.results, tmp_path / "sizing", "size", june.hashes)
    return sum(f.stat().st_size for f in batch.iterdir())


def assert_nothing_staged(con, staging: Path, before: dict) -> None:
    left = sorted(p.name for p in staging.iterdir()) if staging.exists() else []
    assert left == [], left  # no batch, no hidden temporary folder
    assert pending_batches(con, staging) == []
    assert snapshot(con) == before  # the warehouse is unchanged


@pytest.mark.parametrize("free_share", [0.0, 0.35, 0.7])
def test_a_full_disk_during_the_staging_write_leaves_nothing(
    tmp_path, june, wh, free_share, tmp_path_factory
):
    need = staged_size(june, tmp_path)
    before = snapshot(wh)
    with tiny_disk(tmp_path / "disk") as disk:
        filler = fill(disk, int(need * free_share))
        staging = disk / "staging"
        with pytest.raises(StagingError) as err:
            write_staging(june.results, staging, "b1", june.hashes, datetime(2024, 6, 16, 9))
        msg = str(err.value)
        assert "the disk is full" in msg and "Nothing was staged" in msg and "\n" not in msg
        assert_nothing_staged(wh, staging, before)
        filler.unlink()  # space again: the same batch is written and loaded, nothing lost
        batch = write_staging(june.results, staging, "b1", june.hashes, datetime(2024, 6, 16, 9))
        assert [p.name for p in pending_batches(wh, staging)] == ["b1"]
        outcomes = load_batch(wh, batch)
        assert len(outcomes) == len(june.results)


@pytest.mark.parametrize("step", ["copy", "manifest", "rename"])
def test_enospc_at_each_step_is_reported_and_cleaned_up(tmp_path, june, wh, monkeypatch, step):
    before = snapshot(wh)
    enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if step == "copy":
        real = staging_mod._copy
        calls = []

        def copy(con, df, cols, dest):  # type: ignore[no-untyped-def]
            calls.append(dest)
            if len(calls) == 2:  # the second Parquet file: the first one is already written
                raise duckdb.IOException('Could not write file "x": No space left on device')
            real(con, df, cols, dest)

        monkeypatch.setattr(staging_mod, "_copy", copy)
    elif step == "manifest":
        monkeypatch.setattr(Path, "write_text", lambda *a, **k: (_ for _ in ()).throw(enospc))
    else:
        monkeypatch.setattr(staging_mod.os, "rename", lambda *a: (_ for _ in ()).throw(enospc))
    staging = tmp_path / "staging"
    with pytest.raises(StagingError, match="the disk is full"):
        write_staging(june.results, staging, "b1", june.hashes)
    monkeypatch.undo()
    assert_nothing_staged(wh, staging, before)


def test_cli_ingest_on_a_full_disk_says_one_sentence_and_exits_non_zero(
    tmp_path, wh, monkeypatch, prefect_harness
):
    from tonghop.cli import app

    db = tmp_path / "wh.duckdb"  # the wh fixture's file, closed for the CLI
    wh.close()
    con = connect(db, read_only=True)
    before = snapshot(con)
    con.close()
    runner = CliRunner()
    args = ["ingest", str(JUNE / "106"), "--warehouse", str(db), "--outbox", str(tmp_path / "o")]
    with contextlib.ExitStack() as stack:
        try:
            disk = stack.enter_context(tiny_disk(tmp_path / "disk"))
            filler = fill(disk, 0)
            free = filler.unlink
        except pytest.skip.Exception:
            disk = tmp_path / "disk"  # no tmpfs here: the rename step fails with ENOSPC
            enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            monkeypatch.setattr(staging_mod.os, "rename", lambda *a: (_ for _ in ()).throw(enospc))
            free = monkeypatch.undo
        monkeypatch.setenv("TONGHOP_STAGING", str(disk / "staging"))
        res = runner.invoke(app, args)
        assert res.exit_code != 0
        assert "Traceback" not in res.output, res.output  # not even in Prefect's log lines
        # the CLI's own output (Prefect's log lines on stderr start with the time)
        out = [ln for ln in res.output.strip().splitlines() if not PREFECT_LOG.match(ln)]
        assert len(out) == 1, res.output
        assert "ổ đĩa đã đầy" in out[0] and "Chưa có gì được lưu tạm" in out[0]
        assert res.stdout == ""
        con = connect(db, read_only=True)
        assert snapshot(con) == before  # nothing reached the warehouse
        con.close()
        assert not [p for p in (disk / "staging").glob("*")]  # and nothing half-staged
        free()
        monkeypatch.setenv("TONGHOP_STAGING", str(disk / "staging"))
        res = runner.invoke(app, [*args, "--json"])  # the same files, once there is space
        assert res.exit_code == 0, res.output
    con = connect(db, read_only=True)
    n = con.execute("SELECT count(*) FROM fct_submission WHERE batch_id <> 'base'").fetchone()[0]
    con.close()
    assert n == len(expand_paths([JUNE / "106"])) == 14  # 13 communes and district 106


def test_prefect_retries_the_transient_steps():
    """Read-only check of the task settings: the steps that can fail for a passing reason
    (a busy warehouse file, a full or slow disk) retry; the single writers only on a lock."""
    from flows import consolidate as cons
    from flows import ingest

    assert ingest.validate_batch.retries >= 1
    assert ingest.stage_batch.retries >= 1 and ingest.stage_batch.retry_delay_seconds
    for t in (ingest.load_warehouse, cons.consolidate_unit, cons.quality_checkpoint):
        assert t.retries >= 3 and list(t.retry_delay_seconds) == [2, 5, 15], t.name
        assert t.retry_condition_fn is not None  # only when another process holds the file
