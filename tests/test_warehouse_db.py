"""warehouse.db and warehouse.staging: connection, migrations, reference dimensions, batches."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_warehouse_support import (
    CATALOG,
    COMMUNES_106,
    UNITS,
    result,
    snapshot,
    warehouse,
)

from warehouse.db import (
    ENV_PATH,
    WarehouseLockedError,
    connect,
    load_reference,
    migrate,
    migrations,
    open_warehouse,
    reference_loaded,
    warehouse_path,
)
from warehouse.staging import FILES, StagingError, read_manifest, write_staging

ROOT = Path(__file__).resolve().parents[1]


def test_path_from_argument_env_or_default(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_PATH, raising=False)
    assert warehouse_path("x.duckdb") == Path("x.duckdb")
    assert warehouse_path() == Path("data") / "tonghop.duckdb"
    monkeypatch.setenv(ENV_PATH, str(tmp_path / "env" / "w.duckdb"))
    assert warehouse_path() == tmp_path / "env" / "w.duckdb"
    con = connect()
    con.close()
    assert (tmp_path / "env" / "w.duckdb").exists()  # folder created


def test_default_location_is_created(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_PATH, raising=False)
    monkeypatch.chdir(tmp_path)
    connect().close()
    assert (tmp_path / "data" / "tonghop.duckdb").exists()


def test_migrations_are_ordered_and_idempotent(tmp_path):
    assert [m.version for m in migrations()] == sorted(m.version for m in migrations())
    con = connect(tmp_path / "w.duckdb")
    first = migrate(con)
    assert first == [m.version for m in migrations()]
    before = snapshot(con)
    assert migrate(con) == []
    assert snapshot(con) == before
    recorded = con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert recorded == [(m.version, m.name) for m in migrations()]
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {
        "dim_unit",
        "dim_indicator",
        "fct_submission",
        "fct_value",
        "fct_issue",
        "audit_log",
        "fct_approval",
        "fct_rollup",
        "fct_completeness",
        "fct_consolidation_issue",
        "v_rollup",
        "v_completeness",
        "v_submission_status",
        "v_issues",
    } <= tables
    con.close()
    # a reopened file is recognised as migrated
    con = connect(tmp_path / "w.duckdb")
    assert migrate(con) == []


def test_the_reference_is_rewritten_when_any_of_its_rows_differs(tmp_path):
    import dataclasses

    con = open_warehouse(tmp_path / "w.duckdb", CATALOG, UNITS)
    assert reference_loaded(con, CATALOG, UNITS)
    # an English label only (a column the earlier count-and-fields check did not look at)
    ind = CATALOG.indicators["crime_cases"]
    relabelled = dataclasses.replace(
        CATALOG,
        indicators=CATALOG.indicators
        | {"crime_cases": dataclasses.replace(ind, label_en="Criminal cases (renamed)")},
    )
    assert not reference_loaded(con, relabelled, UNITS)
    # another rule for divided communes changes the crosswalk's shares
    assert not reference_loaded(con, dataclasses.replace(CATALOG, divided_communes="equal"), UNITS)
    con.close()
    con = open_warehouse(tmp_path / "w.duckdb", relabelled, UNITS)
    assert reference_loaded(con, relabelled, UNITS)
    got = con.execute("SELECT label_en FROM dim_indicator WHERE code = 'crime_cases'").fetchall()
    assert got == [("Criminal cases (renamed)",)]
    con.close()


def test_reference_dimensions_both_structures_idempotent(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    counts = load_reference(con, CATALOG, UNITS)
    assert counts == {
        "dim_unit": len(UNITS.units),
        "dim_indicator": len(CATALOG.indicators),
        "dim_unit_crosswalk": 10665,  # 63 provinces and 10,035 communes + island districts
    }
    first = snapshot(con)
    load_reference(con, CATALOG, UNITS)
    assert snapshot(con) == first
    by_structure = dict(
        con.execute("SELECT structure, count(*) FROM dim_unit GROUP BY 1").fetchall()
    )
    assert by_structure["legacy"] > 10_000 and by_structure["2025"] > 3_000
    # the same code is a different commune in each structure
    rows = con.execute(
        "SELECT structure, name, parent_code FROM dim_unit WHERE unit_code = '03390' ORDER BY 1"
    ).fetchall()
    assert rows == [("2025", "Xã Bình Lư", "12"), ("legacy", "Thị trấn Tam Đường", "106")]
    rate = con.execute(
        "SELECT numerator, denominator, target_op, target_value, levels FROM dim_indicator"
        " WHERE code = 'crime_clearance_rate'"
    ).fetchall()
    assert rate == [("crime_solved", "crime_cases", ">=", 75.0, ["C", "D", "P"])]


def test_locked_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
            " print('open', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseLockedError) as err:
            connect(path, read_only=True)
        text = str(err.value)
        assert str(path) in text and "wait" in text and "stop" in text
    finally:
        holder.kill()
        holder.wait()


def test_staging_batch_is_complete_and_immutable(tmp_path):
    results = [result(c, "2024-06", {"crime_cases": 3, "crime_solved": 2}) for c in COMMUNES_106]
    results.append(result("99999", "2024-06", {"crime_cases": 1}, path="bad.csv", errors=1))
    batch = write_staging(results, tmp_path / "st", "b-001", {r.path: r.path for r in results})
    assert sorted(p.name for p in batch.iterdir()) == sorted([*FILES, "manifest.json"])
    manifest = read_manifest(batch)
    assert manifest["submissions"] == len(results) and manifest["issues"] == 1
    con = duckdb.connect()
    subs = con.execute(
        f"SELECT unit_code, validation_status, n_errors FROM read_parquet('{batch}/submissions.parquet')"
        " ORDER BY seq"
    ).fetchall()
    assert subs[0] == (COMMUNES_106[0], "accepted", 0) and subs[-1] == ("99999", "rejected", 1)
    n_values = con.execute(
        f"SELECT count(*) FROM read_parquet('{batch}/values.parquet')"
    ).fetchall()
    assert n_values == [(2 * len(COMMUNES_106) + 1,)]
    with pytest.raises(StagingError, match="already exists"):
        write_staging(results, tmp_path / "st", "b-001", {})
    # nothing but the batch in the staging folder (no temp left)
    assert [p.name for p in (tmp_path / "st").iterdir()] == ["b-001"]


def test_empty_batch_has_typed_files(tmp_path):
    batch = write_staging([], tmp_path / "st", "empty", {})
    con = duckdb.connect()
    cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{batch}/values.parquet')").fetchall()
    assert ("value", "DOUBLE") in [(c[0], c[1]) for c in cols]


def test_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    results = [result(COMMUNES_106[0], "2024-06", {"crime_cases": 3})]

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("warehouse.staging.os.rename", disk_full)
    with pytest.raises(StagingError, match="No space left"):
        write_staging(results, tmp_path / "st", "b-full", {})
    assert list((tmp_path / "st").iterdir()) == []
    monkeypatch.undo()
    # the same batch can be written once space is back
    assert write_staging(results, tmp_path / "st", "b-full", {}).is_dir()


def test_bad_batch_id_is_refused(tmp_path):
    with pytest.raises(StagingError):
        write_staging([], tmp_path / "st", "../escape", {})


def test_views_answer_on_an_empty_warehouse(tmp_path):
    con = warehouse(tmp_path)
    for view in ("v_rollup", "v_completeness", "v_submission_status", "v_issues"):
        assert con.execute(f"SELECT count(*) FROM {view}").fetchall() == [(0,)]
    assert os.path.exists(tmp_path / "wh.duckdb")
