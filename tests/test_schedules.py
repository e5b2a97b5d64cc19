"""The steward's path with a real Prefect server: prefect.yaml deployed, schedules that fire.

A `prefect server` on a free local port (its own PREFECT_HOME), the process work pool,
`prefect deploy --all` of the repository's prefect.yaml; the scheduler must create runs for the
interval deployment (ingest-inbox) and the cron deployments (consolidate-nightly,
consolidate-national), and a process worker must take a run of ingest-inbox to completion,
loading the inbox into the warehouse. Every wait polls with a deadline; nothing sleeps blindly.

(With SQLAlchemy 2.1 the scheduler logs "Can't evaluate bulk DML statement" and creates no run:
see the pin in pyproject.toml.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, SAMPLES, TODAY

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

BIN = Path(sys.executable).parent
SERVER_TIMEOUT = 240.0  # a cold server start is 10-25 s, far more on a busy 2-core machine
SCHEDULE_TIMEOUT = 240.0
RUN_TIMEOUT = 420.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Callable[[], Any], timeout: float, logs: list[Path]) -> Any:
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists()
            )
            pytest.fail(f"{what}: not after {timeout:.0f} s\n{tails}")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


@pytest.fixture
def server(tmp_path) -> Iterator[dict[str, Any]]:
    """A real `prefect server start` in its own process group; killed at teardown."""
    port = _free_port()
    home = tmp_path / "prefect_home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and not k.startswith("TONGHOP_")
    }
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_CLI_PROMPT": "false",
        "TONGHOP_TODAY": TODAY.isoformat(),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = tmp_path / "server.log"
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
        with open(log_path, "wb") as fh:
            proc = subprocess.Popen(
                args, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
            )
        procs.append(proc)
        return proc

    start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        log,
        tmp_path,
    )
    import httpx

    api = httpx.Client(base_url=env["PREFECT_API_URL"], timeout=30)

    def healthy() -> bool:
        try:
            return api.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait("the Prefect server answers /api/health", healthy, SERVER_TIMEOUT, [log])
        yield {"env": env, "api": api, "start": start, "log": log, "tmp": tmp_path}
    finally:
        api.close()
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def _cli(server: dict[str, Any], *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(BIN / "prefect"), *args],
        env=server["env"] | {"PWD": str(cwd)},  # as a shell sets it: prefect.yaml's {{ $PWD }}
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _runs(api: Any, deployment_id: str, states: list[str] | None = None) -> list[dict]:
    body: dict[str, Any] = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200}
    if states:
        body["flow_runs"] = {"state": {"type": {"any_": states}}}
    r = api.post("/flow_runs/filter", json=body)
    r.raise_for_status()
    return list(r.json())


def test_deployed_schedules_create_runs_and_a_worker_completes_one(server):
    api, tmp = server["api"], server["tmp"]
    # The project as a steward checks it out: prefect.yaml at the root, flows/ beside it (the
    # worker runs the flows from here: `{{ $PWD }}`), an inbox with one commune's report.
    project = tmp / "project"
    project.mkdir()
    shutil.copy(ROOT / "prefect.yaml", project / "prefect.yaml")
    (project / "flows").symlink_to(ROOT / "flows", target_is_directory=True)
    inbox = project / "inbox" / "03387"
    inbox.mkdir(parents=True)
    shutil.copy(SAMPLES / "valid" / "2024-06" / "105" / "03387_2024-06.csv", inbox)

    _cli(server, "work-pool", "create", "tonghop", "--type", "process", cwd=project)
    _cli(server, "--no-prompt", "deploy", "--all", cwd=project)

    deployments = {}
    for flow, name in (
        ("ingest-submissions", "ingest-inbox"),
        ("consolidate-period", "consolidate-nightly"),
        ("consolidate-period", "consolidate-on-demand"),
        ("consolidate-units", "consolidate-national"),
    ):
        r = api.get(f"/deployments/name/{flow}/{name}")
        assert r.status_code == 200, f"{flow}/{name} not deployed: {r.text}"
        deployments[name] = r.json()
    interval = deployments["ingest-inbox"]["schedules"][0]["schedule"]
    assert interval["interval"] == 900
    assert deployments["consolidate-nightly"]["schedules"][0]["schedule"]["cron"] == "0 2 * * *"

    # The scheduler fills each scheduled deployment with upcoming runs.
    scheduled = {}
    for name in ("ingest-inbox", "consolidate-nightly", "consolidate-national"):
        dep_id = deployments[name]["id"]
        scheduled[name] = _wait(
            f"scheduled runs of {name}",
            lambda dep_id=dep_id: _runs(api, dep_id, ["SCHEDULED"]),
            SCHEDULE_TIMEOUT,
            [server["log"]],
        )
    assert not _runs(api, deployments["consolidate-on-demand"]["id"])  # no schedule, no run
    starts = sorted(r["next_scheduled_start_time"] for r in scheduled["ingest-inbox"])
    assert len(starts) >= 3
    from datetime import datetime

    ts = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts[:3]]
    assert {(b - a).total_seconds() for a, b in zip(ts, ts[1:], strict=False)} == {900.0}
    for run in scheduled["consolidate-nightly"]:
        at = datetime.fromisoformat(run["next_scheduled_start_time"].replace("Z", "+00:00"))
        assert (at.hour, at.minute) == (19, 0)  # 02:00 in Asia/Ho_Chi_Minh (UTC+7)
    text = server["log"].read_text(errors="replace")
    assert "Can't evaluate bulk DML statement" not in text

    # A process worker takes a run of ingest-inbox to completion.
    out = _cli(server, "deployment", "run", "ingest-submissions/ingest-inbox", cwd=project)
    manual = [r for r in _runs(api, deployments["ingest-inbox"]["id"]) if not r["auto_scheduled"]]
    assert len(manual) == 1, out
    run_id = manual[0]["id"]
    wh = tmp / "data" / "tonghop.duckdb"
    server["env"]["TONGHOP_WAREHOUSE"] = str(wh)
    server["env"]["TONGHOP_OUTBOX"] = str(tmp / "outbox")
    worker_log = tmp / "worker.log"
    server["start"](
        [str(BIN / "prefect"), "worker", "start", "--pool", "tonghop", "--limit", "1"],
        worker_log,
        project,
    )

    def finished() -> str | None:
        r = api.get(f"/flow_runs/{run_id}")
        r.raise_for_status()
        state = r.json()["state"]["type"]
        return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    final = _wait("the worker completes the ingest run", finished, RUN_TIMEOUT, [worker_log])
    assert final == "COMPLETED", worker_log.read_text(errors="replace")[-4000:]
    import duckdb

    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute(
            "SELECT unit_code, period, status, is_current FROM fct_submission"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("03387", "2024-06", "accepted", True)]
    archived = list((project / "archive").rglob("03387_2024-06.csv"))
    assert len(archived) == 1 and not list(inbox.iterdir())
    assert (tmp / "outbox" / "03387" / "2024-06_v1.json").is_file()
