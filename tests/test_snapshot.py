"""warehouse.snapshot: readers read a published copy, never the live file."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb

from warehouse import snapshot


def _make(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    con.close()


def test_refresh_publishes_a_copy_and_skips_when_unchanged(tmp_path):
    live = tmp_path / "w.duckdb"
    _make(live)
    first = snapshot.refresh(live)
    assert first and first.generation == 1 and first.path != live
    assert snapshot.refresh(live).generation == 1  # nothing changed
    con = duckdb.connect(str(live))
    con.execute("INSERT INTO t VALUES (2)")
    con.close()
    second = snapshot.refresh(live)
    assert second.generation == 2
    ro = duckdb.connect(str(second.path), read_only=True)
    assert ro.execute("SELECT count(*) FROM t").fetchone()[0] == 2
    ro.close()


def test_a_writer_publishes_and_readers_never_block_it(tmp_path):
    live = tmp_path / "w.duckdb"
    _make(live)
    writer = duckdb.connect(str(live))
    writer.execute("INSERT INTO t VALUES (5)")
    snap = snapshot.publish(writer, live)
    reader = duckdb.connect(str(snap.path), read_only=True)  # held open meanwhile
    writer.execute("INSERT INTO t VALUES (6)")  # the live file is still the writer's alone
    assert reader.execute("SELECT max(a) FROM t").fetchone()[0] == 5
    writer.close()
    reader.close()


def test_refresh_gives_up_at_once_while_another_process_writes(tmp_path):
    live = tmp_path / "w.duckdb"
    _make(live)
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
        "c.execute('INSERT INTO t VALUES (3)'); print('ready', flush=True); time.sleep(30)"
    )
    p = subprocess.Popen([sys.executable, "-c", code, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        t = time.perf_counter()
        assert snapshot.refresh(live, force=True) is None
        assert time.perf_counter() - t < 2
    finally:
        p.kill()
        p.wait()
    assert snapshot.refresh(live, force=True) is not None


def test_old_generations_are_pruned(tmp_path):
    live = tmp_path / "w.duckdb"
    _make(live)
    for _ in range(6):
        snapshot.refresh(live, force=True)
    files = sorted(p.name for p in snapshot.snapshot_dir(live).glob("*.duckdb"))
    assert files == ["4.duckdb", "5.duckdb", "6.duckdb"]
    assert snapshot.current(live).generation == 6
