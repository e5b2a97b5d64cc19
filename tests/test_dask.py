"""The ingest flow's validation batches on a Dask cluster (prefect-dask), one per province.

A local cluster of two worker processes stands in for a ministry's cluster: the flow is given
its scheduler address, the validate-batch tasks run on its workers, while staging, the single
warehouse load and the reports stay in the flow's process. The outcome is the same as with the
default thread pool.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLES
from validations.catalog import load_catalog
from validations.period import parse_period
from validations.units import load_units

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

P = "2024-06"
RECEIVED = datetime(2024, 6, 15, 8)


def _two_provinces(tmp_path):
    """Lai Châu's Thành phố Lai Châu (105) from the samples, and Hà Nội's Ba Đình (001) made
    by the sample generator: files of two provinces."""
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES / "valid" / P / "105", inbox / "12" / "105")
    spec = importlib.util.spec_from_file_location("gen_for_dask", SAMPLES / "generate.py")
    gen_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_mod)
    catalog, units = load_catalog(), load_units()
    gen = gen_mod.Generator(catalog, units)
    on = parse_period(P).end(catalog.close_day)
    for unit in [*units.children("001", on), units.get("001", on)]:
        values = gen.values(unit, P)
        gen_mod.write_csv(
            inbox / "01" / f"{unit.code}_{P}.csv", gen_mod.rows_for(unit.code, P, values, catalog)
        )
    return inbox


def _statuses(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT unit_code, period, version, status FROM fct_submission ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def test_validation_batches_run_on_the_dask_cluster(prefect_harness, tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("prefect_dask")
    from flows.ingest import ingest_submissions, province_batches
    from validations.intake import expand_paths

    inbox = _two_provinces(tmp_path)
    files = [str(p) for p in expand_paths([inbox])]
    batches = province_batches(files, 2000)
    assert len(batches) == 2  # one per province
    assert [{Path(f).relative_to(inbox).parts[0] for f in b} for b in batches] == [{"01"}, {"12"}]

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
    ):
        on_dask = ingest_submissions(
            [str(inbox)],
            warehouse=str(tmp_path / "dask.duckdb"),
            staging=str(tmp_path / "staging-dask"),
            outbox=str(tmp_path / "outbox-dask"),
            received_at=RECEIVED,
            dask_address=cluster.scheduler_address,
        )
        workers = {w.worker_address for w in cluster.workers.values()}
    ran = stream.data
    # the two validate-batch tasks ran on the cluster's workers, nothing else did
    assert len(ran) == len(batches) == 2
    assert all(str(t["key"]).startswith("validate_batch") for t in ran)
    assert {t["worker"] for t in ran} <= workers
    # the flow's process staged and loaded everything, as with the default thread pool
    assert len(on_dask["submissions"]) == len(files)
    assert {s["status"] for s in on_dask["submissions"]} == {"accepted"}
    local = ingest_submissions(
        [str(inbox)],
        warehouse=str(tmp_path / "threads.duckdb"),
        staging=str(tmp_path / "staging-threads"),
        outbox=str(tmp_path / "outbox-threads"),
        received_at=RECEIVED,
    )
    assert _statuses(tmp_path / "dask.duckdb") == _statuses(tmp_path / "threads.duckdb")
    assert len(local["submissions"]) == len(files)
    assert sorted(p.name for p in (tmp_path / "outbox-dask").rglob("*.json")) == sorted(
        p.name for p in (tmp_path / "outbox-threads").rglob("*.json")
    )


def test_files_are_grouped_per_province_in_order():
    from flows.ingest import province_batches

    files = [
        "in/03386_2024-06.csv",  # Lai Châu
        "in/00001_2024-06.csv",  # Hà Nội
        "in/03387_2024-06.csv",
        "in/3388_2024-06.csv",  # leading zero stripped: still Lai Châu
        "in/bao_cao.csv",  # no unit in the name: a group of its own
        "in/03386_2024-06_v2.csv",  # a later version stays after the first
    ]
    assert province_batches(files, 2) == [
        ["in/03386_2024-06.csv", "in/03387_2024-06.csv"],
        ["in/3388_2024-06.csv", "in/03386_2024-06_v2.csv"],
        ["in/00001_2024-06.csv"],
        ["in/bao_cao.csv"],
    ]
