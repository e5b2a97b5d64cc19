"""The national-scale benchmark: one command, every number of the README's table.

    python bench/run.py --scale national [--json]      # about 7 minutes (+2 the first time)
    python bench/run.py --scale province               # Lai Châu only, about 2 minutes

What it times, each phase in a fresh subprocess (wall clock, CPU of the process and of its
children from getrusage(RUSAGE_CHILDREN), peak RSS of the process tree sampled from /proc every
20 ms, so worker processes count):

1. month: tonghop on the whole month (bench/national.py: 10,794 files at national scale), as
   plain library calls, the real path: open the warehouse (migrations, reference units), read
   and validate every file in vectorised batches over the cores (validations.intake.
   warehouse.reading.read_files), write the staging Parquet batch (warehouse.staging.write_staging), load
   it (warehouse.store.load_batch, the single writer), consolidate the 63 provinces, districts
   first (warehouse.rollup.consolidate_many). The warehouse already holds the ten years of
   history (a copy of the history file), as a ministry's would. Interpreter start and imports
   are reported apart.
2. ingest and flow (with --flow): the ingest run's steps as plain library calls
   (warehouse.ingest: list and hash, read + validate + outliers, stage, load, reports), then the
   same month through the Prefect flows (ingest_submissions, then ONE
   consolidate_units run for every province, quality checkpoint off) on Prefect's ephemeral
   server; the server start and Prefect's own cost per run (an empty flow of 8 tasks) are
   reported apart.
3. pandera and gx: the per-file loops of bench/baselines.py on a random sample of CSV files
   (--pandera-sample, --gx-sample), extrapolated to every file of the month (setup once plus
   the sample's mean per file); --full-baselines runs them on every CSV file instead.
4. validate-one: `tonghop validate FILE` in a fresh process (bench/validate_one.py).
5. localise: what naming the wrong figure of each rejected file adds to validating the month
   (validations/localise; --only localise needs only the month's files, not the history).
6. query: a province-year rollup over the ten years of monthly history (bench/history.py),
   the median of 7 runs after one warm-up, on the consolidated monthly rollups (v_rollup: what
   provinces and the ministry query); and, for comparison only, the same totals recomputed
   from every commune's monthly values (fct_value, about 37 million rows).

The month and the history are generated once and reused (data/bench/). Results are written to
data/bench/results-<scale>.json; --json prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

GOALS = {
    "month_wall_s": 20.0,
    "month_rss_mb": 1536.0,
    "vs_gx": 50.0,
    "vs_pandera": 5.0,
    "query_s": 0.2,
    "validate_one_s": 1.5,
    "flow_ingest_s": 15.0,
    "flow_rss_mb": 1536.0,
    "flow_consolidate_s": 5.0,
    "localise_pct": 20.0,
}
RESULT_TAG = "BENCH_RESULT "
RECEIVED = datetime(2024, 6, 15, 8, 0)  # every report on time (closing 14 June + 1 day)


# --- measuring a subprocess ---------------------------------------------------------------
def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc), in kB."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_phase(phase: str, args: argparse.Namespace, extra: dict[str, Any] | None = None) -> dict:
    """Run `bench/run.py --phase PHASE` in a fresh process; its result plus wall, CPU, RSS."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--scale",
        args.scale,
        "--params",
        json.dumps({**vars(args), **(extra or {})}, default=str),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"phase {phase} failed (exit {proc.returncode}):\n{err[-4000:]}")
    result = json.loads(lines[-1][len(RESULT_TAG) :])
    result["process"] = {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(peak[0] / 1024, 1),
        "maxrss_self_mb": result.get("maxrss_self_mb"),
    }
    return result


def _emit(result: dict[str, Any]) -> None:
    result["maxrss_self_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(RESULT_TAG + json.dumps(result, default=str), flush=True)


class Steps:
    """Wall and CPU (this process and its finished children) per step, inside a phase."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @staticmethod
    def _cpu() -> float:
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def __call__(self, name: str) -> Any:
        steps = self

        class _Step:
            def __enter__(self) -> None:
                self.t, self.c = time.perf_counter(), steps._cpu()

            def __exit__(self, *exc: object) -> None:
                steps.rows.append(
                    {
                        "step": name,
                        "wall_s": round(time.perf_counter() - self.t, 3),
                        "cpu_s": round(steps._cpu() - self.c, 3),
                        "maxrss_mb": round(
                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                        ),
                    }
                )

        return _Step()


# --- phases (each runs in its own process) --------------------------------------------------
def fresh_warehouse(p: dict[str, Any], name: str) -> tuple[Path, Path]:
    """The phase's scratch folder, emptied, and its warehouse file in it: a copy of the history
    file when there is one. Then what the set-up wrote (the 6 GB copy) is flushed before
    timing, so that its writeback does not overlap the first timed steps."""
    work = Path(p["work"])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wh = work / f"{name}.duckdb"
    if p.get("history_file"):
        shutil.copy(p["history_file"], wh)
    os.sync()
    return work, wh


def scratch(root: Path) -> Path:
    """This run's scratch folder under `root` (run-<time>). Earlier runs' folders are removed
    once 10 minutes old, never sooner: see done_with."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("run-*"):
        if time.time() - old.stat().st_mtime > 600:
            shutil.rmtree(old, ignore_errors=True)
    return root / f"run-{datetime.now():%Y%m%dT%H%M%S}"


def done_with(work: Path) -> None:
    """After a phase: its warehouse copies go (6 GB each, a few files), its other files stay
    (a later run removes them, see scratch). On ext4 without a journal, as on the machine of
    the README's figures, a new inode is never one freed in the last 60 s (360 s while its
    inode table block is unwritten): after deleting the 21,588 report files of one phase,
    every file the next one created paid a search past them (`recently_deleted` in the
    kernel's inode allocator, half of the CPU under `perf`), and the same report files took
    3 s in one phase and 14 s in the next."""
    for f in work.glob("*.duckdb*"):
        f.unlink(missing_ok=True)


def phase_month(p: dict[str, Any]) -> dict[str, Any]:
    t_start = time.perf_counter()
    from national import month_dir, month_files

    from validations.catalog import load_catalog
    from validations.issue import Severity
    from validations.units import load_units
    from validations.validator import Validator
    from warehouse.db import connect, open_warehouse
    from warehouse.ingest_settings import IngestSettings
    from warehouse.reading import read_files
    from warehouse.rollup import consolidate_many
    from warehouse.staging import write_staging
    from warehouse.store import load_batch

    catalog, units = load_catalog(), load_units()
    Validator(catalog=catalog, units=units)  # compile the schemas before forking the workers
    imports_s = time.perf_counter() - t_start
    folder = month_dir(p["scale"], p["period"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = month_files(folder)
    work, wh = fresh_warehouse(p, "month")
    steps = Steps()
    with steps("open warehouse (migrate, reference units)"):
        con = open_warehouse(wh, catalog, units)
        con.close()
    reading = IngestSettings.resolve(
        wh, work / "staging", work / "outbox", batch_size=p["batch_size"], workers=p["workers"],
        outliers=False,
    )  # fmt: skip
    with steps(f"read + validate {len(files):,} files ({p['workers']} processes)"):
        outcome = read_files([str(f) for f in files], None, reading).outcome
    with steps("write staging Parquet"):
        batch = write_staging(outcome.results, work / "staging", "month", outcome.hashes, RECEIVED)
    con = connect(wh)
    with steps("load into DuckDB (single writer)"):
        loaded = load_batch(con, batch, actor="bench")
    on = __import__("validations.period", fromlist=["parse_period"]).parse_period(p["period"])
    provinces = sorted(u.code for u in units.in_force(on.end(catalog.close_day)) if u.level == "P")
    if p["scale"] == "province":
        provinces = [c for c in provinces if c == "12"]
    with steps(f"consolidate {len(provinces)} provinces (districts first)"):
        results = consolidate_many(con, p["period"], provinces, catalog, units, actor="bench")
    work_s = sum(r["wall_s"] for r in steps.rows)
    # what the month produced, to check it against the planted violations
    rejected = {
        str(Path(r.path).relative_to(folder))
        for r in outcome.results
        if any(i.severity == Severity.ERROR for i in r.issues)
    }
    warned = {
        str(Path(r.path).relative_to(folder))
        for r in outcome.results
        if r.issues and not any(i.severity == Severity.ERROR for i in r.issues)
    }
    planted = manifest["planted"]
    planted_err = {f for f, rule in planted.items() if f in rejected or f in warned}
    fired = {
        str(Path(r.path).relative_to(folder)): sorted({i.rule_id for i in r.issues})
        for r in outcome.results
        if r.issues
    }
    exact = sum(1 for f, rule in planted.items() if fired.get(f) == [rule])
    counts = con.execute(
        "SELECT (SELECT count(*) FROM fct_rollup WHERE period = $p),"
        " (SELECT count(*) FROM fct_consolidation_issue WHERE period = $p),"
        " (SELECT count(*) FROM fct_value WHERE period = $p),"
        " (SELECT count(*) FROM fct_submission)",
        {"p": p["period"]},
    ).fetchall()[0]
    con.close()

    def tree(rs: list[Any]) -> int:
        return sum(1 + tree(r.children) for r in rs)

    return {
        "imports_s": round(imports_s, 3),
        "steps": steps.rows,
        "work_wall_s": round(work_s, 3),
        "work_cpu_s": round(sum(r["cpu_s"] for r in steps.rows), 3),
        "files": len(files),
        "unreadable": len(outcome.unreadable),
        "accepted": sum(1 for o in loaded if o.status.startswith("accepted")),
        "rejected": sum(1 for o in loaded if o.status == "rejected"),
        "planted": len(planted),
        "planted_found": len(planted_err),
        "planted_exact": exact,
        "unplanted_with_issues": sum(1 for f in fired if f not in planted),
        "units_consolidated": tree(results),
        "rollup_rows": counts[0],
        "consolidation_issues": counts[1],
        "values_loaded": counts[2],
        "submissions_in_warehouse": counts[3],
        "on_history": bool(p.get("history_file")),
        "warehouse_mb": round(wh.stat().st_size / 1e6),
    }


def phase_flow(p: dict[str, Any]) -> dict[str, Any]:
    """The month through the Prefect flows on the ephemeral server: the ingest flow, then ONE
    consolidate-units run for every province (quality checkpoint off). The server start and
    Prefect's own cost per run (an empty flow with as many tasks) are measured apart."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    t_start = time.perf_counter()
    from national import month_dir
    from prefect import flow, task

    from flows.consolidate import consolidate_units
    from flows.ingest import ingest_submissions
    from validations.catalog import load_catalog
    from validations.units import load_units
    from validations.validator import Validator

    catalog, units = load_catalog(), load_units()
    Validator(catalog=catalog, units=units)  # compile the schemas once, as the month phase does
    imports_s = time.perf_counter() - t_start
    folder = month_dir(p["scale"], p["period"])
    work, wh = fresh_warehouse(p, "flow")
    steps = Steps()

    @task(name="bench-noop")
    def noop(i: int) -> int:
        return i

    @flow(name="bench-empty")
    def empty(n_tasks: int) -> int:
        return sum(noop(i) for i in range(n_tasks))

    with steps("Prefect ephemeral server start (first flow run)"):
        empty(0)
    overhead = []
    for _ in range(3):
        t = time.perf_counter()
        empty(8)  # the ingest flow runs 7-8 tasks
        overhead.append(time.perf_counter() - t)
    with steps("ingest flow (validate, outliers, stage, load, outbox reports)"):
        out = ingest_submissions(
            [str(folder)],
            warehouse=str(wh),
            staging=str(work / "staging"),
            outbox=str(work / "outbox"),
            received_at=RECEIVED,
            batch_size=p["batch_size"],
            workers=p["workers"],
        )
    scope = ["12"] if p["scale"] == "province" else ["*"]
    with steps("consolidate-units flow, one run for every province (quality off)"):
        summaries = consolidate_units([p["period"]], scope, warehouse=str(wh), quality=False)
    reports = sum(1 for _ in (work / "outbox").rglob("*.*"))
    return {
        "imports_s": round(imports_s, 3),
        "steps": steps.rows,
        "prefect_overhead_per_run_s": round(statistics.median(overhead), 3),
        "files": out["files"],
        "submissions": len(out["submissions"]),
        "provinces_consolidated": len(summaries),
        "report_files": reports,
    }


def phase_ingest(p: dict[str, Any]) -> dict[str, Any]:
    """The ingest without Prefect (service.ingest, what `tonghop ingest --no-prefect` runs),
    each step timed by its runner, then one consolidate_many of every province: the same work
    as the flow phase without Prefect, to set the flow's figures beside."""
    t_start = time.perf_counter()
    from national import month_dir

    from service.ingest import ingest
    from service.steps import Steps as StepRunner
    from validations.catalog import load_catalog
    from validations.units import load_units
    from validations.validator import Validator
    from warehouse.db import connect
    from warehouse.ingest_settings import IngestSettings
    from warehouse.rollup import consolidate_many

    catalog, units = load_catalog(), load_units()
    Validator(catalog=catalog, units=units)
    imports_s = time.perf_counter() - t_start
    folder = month_dir(p["scale"], p["period"])
    work, wh = fresh_warehouse(p, "ingest")
    settings = IngestSettings.resolve(
        wh,
        work / "staging",
        work / "outbox",
        received_at=RECEIVED,
        batch_size=p["batch_size"],
        workers=p["workers"],
    )
    steps = Steps()

    class Timed(StepRunner):
        """The ingest's steps, each timed (the worker processes start while the files are
        listed and hashed, read them, and write the reports once the load has said what became
        of each file)."""

        def run(self, step: Any, fn: Any, *args: Any) -> Any:
            with steps(step.name):
                return fn(*args)

    t = time.perf_counter()
    summary = ingest([folder], settings, runner=Timed())
    steps.rows.insert(
        0,
        {
            "step": "whole ingest run (find, hash, read, stage, load, reports)",
            "wall_s": round(time.perf_counter() - t, 3),
            "cpu_s": None,
            "maxrss_mb": None,
        },
    )
    loaded = summary["submissions"]
    on = __import__("validations.period", fromlist=["parse_period"]).parse_period(p["period"])
    provinces = sorted(u.code for u in units.in_force(on.end(catalog.close_day)) if u.level == "P")
    if p["scale"] == "province":
        provinces = ["12"]
    con = connect(wh)
    with steps(f"consolidate_many of {len(provinces)} provinces (open, one transaction)"):
        consolidate_many(con, p["period"], provinces, catalog, units, actor="bench")
    con.close()
    ingest_rows = steps.rows[1:-1]
    return {
        "imports_s": round(imports_s, 3),
        "steps": steps.rows,
        "ingest_wall_s": steps.rows[0]["wall_s"],
        "ingest_cpu_s": round(sum(r["cpu_s"] for r in ingest_rows), 3),
        "submissions": len(loaded),
    }


def phase_pandera(p: dict[str, Any]) -> dict[str, Any]:
    from baselines import run_pandera, sample_files
    from national import month_dir, month_files

    from validations.catalog import load_catalog

    files = month_files(month_dir(p["scale"], p["period"]))
    chosen = sample_files(files, 10**9 if p["full_baselines"] else p["pandera_sample"])
    run = run_pandera(chosen, load_catalog())
    return _baseline_result(run, files, p)


def phase_gx(p: dict[str, Any]) -> dict[str, Any]:
    from baselines import run_gx, sample_files
    from national import month_dir, month_files

    from validations.catalog import load_catalog

    files = month_files(month_dir(p["scale"], p["period"]))
    chosen = sample_files(files, 10**9 if p["full_baselines"] else p["gx_sample"])
    run = run_gx(chosen, load_catalog())
    return _baseline_result(run, files, p)


def _baseline_result(run: dict[str, Any], files: list[Path], p: dict[str, Any]) -> dict:
    from baselines import extrapolate
    from national import month_dir

    folder = month_dir(p["scale"], p["period"])
    planted = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["planted"]
    flagged = {str(Path(f).relative_to(folder)) for f in run.pop("flagged")}
    csv_total = sum(1 for f in files if f.suffix == ".csv")
    return {
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in run.items()},
        "per_file_ms": round(1000 * run["loop_s"] / max(run["files"], 1), 2),
        "csv_files": csv_total,
        "total_files": len(files),
        "sampled": run["files"] < csv_total,
        "extrapolated_s": round(extrapolate(run, len(files)), 1),
        "flagged": len(flagged),
        "flagged_planted": len(flagged & set(planted)),
        "flagged_unplanted": len(flagged - set(planted)),
    }


def phase_localise(p: dict[str, Any]) -> dict[str, Any]:
    """What naming the wrong figure (validations/localise) adds to validating the month: its
    files read once, then validated in batches of batch_size by a Validator with the
    localisation and one without, alternately, twice (CPU seconds of this one process: the
    month phase spreads the same work over the cores); and what it found in the rejected
    files (the planted slips)."""
    from national import month_dir, month_files

    from validations.catalog import load_catalog
    from validations.readers import ReadError, read_submission
    from validations.units import load_units
    from validations.validator import Validator

    catalog, units = load_catalog(), load_units()
    folder = month_dir(p["scale"], p["period"])
    raws = []
    for f in month_files(folder):
        with contextlib.suppress(ReadError):  # unreadable files are no one's to localise
            raws.append(read_submission(f))
    size = p["batch_size"]
    batches = [raws[i : i + size] for i in range(0, len(raws), size)]
    on = Validator(catalog=catalog, units=units)
    off = Validator(catalog=catalog, units=units, localise=False)
    spent = [0.0]
    locate = Validator._locate  # the rejected files' values gathered, then localised

    def timed(self: Any, *a: Any, **k: Any) -> Any:
        t = time.process_time()
        try:
            return locate(self, *a, **k)
        finally:
            spent[0] += time.process_time() - t

    Validator._locate = timed  # type: ignore[method-assign]
    cpu = {"off": 0.0, "on": 0.0}
    results = []
    for rep, order in enumerate((("off", "on"), ("on", "off"))):
        for batch in batches:
            for which in order:
                t = time.process_time()
                got = (on if which == "on" else off).validate(batch)
                cpu[which] += time.process_time() - t
                if which == "on" and rep == 0:
                    results += got
    rejected = [r for r in results if r.errors]
    located = [r for r in rejected if r.suspects]
    return {
        "files": len(raws),
        "rejected": len(rejected),
        "localised": len(located),
        "certain": sum(1 for r in located if all(s.certain for s in r.suspects)),
        "validate_cpu_s_without": round(cpu["off"] / 2, 3),
        "validate_cpu_s_with": round(cpu["on"] / 2, 3),
        "localise_cpu_s": round(spent[0] / 2, 3),
        # what it adds: its own time (the difference of the two totals is within their noise)
        "added_pct": round(100 * spent[0] / 2 / (cpu["off"] / 2), 1),
        "difference_pct": round(100 * (cpu["on"] - cpu["off"]) / cpu["off"], 1),
        "per_rejected_file_ms": round(1000 * spent[0] / 2 / max(1, len(located)), 2),
    }


def phase_history(p: dict[str, Any]) -> dict[str, Any]:
    from history import build_history

    return build_history(p["scale"], p["years"])


def query_rollup() -> str:
    """A province-year rollup from the monthly rows, as the catalog aggregates: each part over
    the year as its `over_time` says (flows summed, stocks the last month), then every rate
    from its parts' year figures with the catalog's formula (its SQL twin)."""
    from validations.catalog import Formula

    rate = " ".join(f"WHEN '{f.value}' THEN {f.sql('n.value', 'd.value')}" for f in Formula)
    return f"""
WITH parts AS (
    SELECT r.unit_code AS province, any_value(r.unit_name) AS name, left(r.period, 4) AS year,
           r.indicator,
           CASE WHEN any_value(i.over_time) = 'stock' THEN arg_max(r.value, r.period)
                ELSE sum(r.value) END AS value,
           count(*) AS months
    FROM v_rollup r JOIN dim_indicator i ON i.code = r.indicator
    WHERE r.level = 'P' AND length(r.period) = 7 AND i.aggregation = 'sum'
    GROUP BY r.unit_code, year, r.indicator
)
SELECT province, name, year, indicator, value, months FROM parts
UNION ALL
SELECT n.province, n.name, n.year, i.code, CASE i.formula {rate} END, n.months
FROM dim_indicator i
JOIN parts n ON n.indicator = i.numerator
JOIN parts d ON d.indicator = i.denominator AND d.province = n.province AND d.year = n.year
WHERE i.aggregation = 'ratio'
ORDER BY province, year, indicator
"""


QUERY_COMMUNES = """
SELECT u.province_code AS province, left(v.period, 4) AS year, v.indicator,
       sum(v.value) AS value, count(DISTINCT v.unit_code) AS communes
FROM fct_value v
JOIN fct_submission s ON s.submission_id = v.submission_id
JOIN dim_unit u ON u.unit_code = s.unit_code AND u.structure = s.structure
WHERE s.is_current AND s.level = 'C' AND length(v.period) = 7
  AND v.indicator IN ('crime_cases', 'crime_solved', 'reports_received', 'reports_resolved',
                      'drug_cases')
GROUP BY ALL ORDER BY ALL
"""


def phase_query(p: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(p["history_file"], read_only=True)
    out: dict[str, Any] = {}
    for name, sql in (("rollup", query_rollup()), ("communes", QUERY_COMMUNES)):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        first = time.perf_counter() - t
        times = []
        for _ in range(7):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
        out[name] = {
            "rows": len(rows),
            "first_s": round(first, 4),
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
        }
    out["source_rows"] = con.execute(
        "SELECT (SELECT count(*) FROM fct_rollup WHERE level = 'P'),"
        " (SELECT count(*) FROM fct_rollup), (SELECT count(*) FROM fct_value)"
    ).fetchall()[0]
    con.close()
    return out


PHASES = {
    "month": phase_month,
    "flow": phase_flow,
    "ingest": phase_ingest,
    "pandera": phase_pandera,
    "gx": phase_gx,
    "history": phase_history,
    "query": phase_query,
    "localise": phase_localise,
}


# --- the report -----------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 1) if a and b else None


def report(res: dict[str, Any]) -> str:
    m, lines = res["month"], []
    mp = m["process"]
    lines.append(f"tonghop bench, scale {res['scale']}, period {res['period']}")
    mc = res["machine"]
    lines.append(
        f"machine: {mc['nproc']} cores ({mc['cpu']}), {mc['ram_gb']} GB RAM, Python "
        f"{mc['python']}; load average at start {mc['load_average_at_start']}"
    )
    lines.append("")
    lines.append(f"{'phase':58} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8}")

    def row(name: str, wall: Any, cpu: Any = "", rss: Any = "") -> None:
        lines.append(f"{name:58} {wall!s:>8} {cpu!s:>8} {rss!s:>8}")

    row("month: interpreter start + imports", m["imports_s"])
    for s in m["steps"]:
        row(f"  {s['step']}", s["wall_s"], s["cpu_s"], s["maxrss_mb"])
    row(
        "month: the work (sum of the steps)  [goal <= 20 s]",
        m["work_wall_s"],
        m["work_cpu_s"],
        f"{mp['peak_rss_mb']}",
    )
    row("month: whole process (start, imports, work, checks)", mp["wall_s"], mp["cpu_s"])
    if "ingest" in res:
        g = res["ingest"]
        for st in g["steps"][1:]:
            row(f"library ingest: {st['step']}", st["wall_s"], st["cpu_s"])
        row(
            "library ingest: the whole run (service.ingest, no Prefect)",
            g["ingest_wall_s"],
            g["ingest_cpu_s"],
            g["process"]["peak_rss_mb"],
        )
    if "flow" in res:
        f = res["flow"]
        for s in f["steps"]:
            row(f"flow: {s['step']}", s["wall_s"], s["cpu_s"])
        row(
            "flow: Prefect's own cost per run (empty flow, 8 tasks)",
            f["prefect_overhead_per_run_s"],
        )
        row(
            "flow: whole process (peak RSS: the process tree, server included)",
            f["process"]["wall_s"],
            f["process"]["cpu_s"],
            f["process"]["peak_rss_mb"],
        )
    for name in ("pandera", "gx"):
        if name in res:
            b = res[name]
            how = (
                f"{b['files']} sampled CSV files, extrapolated"
                if b["sampled"]
                else "every CSV file, extrapolated to the xlsx"
            )
            row(
                f"{name} per-file loop ({how})",
                b["extrapolated_s"],
                "",
                b["process"]["peak_rss_mb"],
            )
    if "validate_one" in res:
        row("tonghop validate FILE (median, fresh process)", res["validate_one"]["median_s"])
    if "localise" in res:
        lo = res["localise"]
        row(
            "validate the month, one process, no localisation (CPU)",
            "",
            lo["validate_cpu_s_without"],
        )
        row("validate the month, one process, with it (CPU)", "", lo["validate_cpu_s_with"])
    if "query" in res:
        q = res["query"]
        row("query: province-year rollup, 10 years (v_rollup)", q["rollup"]["median_s"])
        row("query: same totals from every commune's values", q["communes"]["median_s"])
    lines.append("")
    lines.append("ratios and goals:")
    for k, v in res["ratios"].items():
        lines.append(f"  {k}: {v}")
    for k, v in res["goals"].items():
        lines.append(f"  {k}: {v}")
    lines.append("")
    lines.append(
        f"checks: {m['files']} files, {m['accepted']} accepted, {m['rejected']} rejected, "
        f"{m['unreadable']} unreadable; planted violations found {m['planted_found']}/"
        f"{m['planted']} (exactly that rule: {m['planted_exact']}), files with issues but "
        f"nothing planted: {m['unplanted_with_issues']}; {m['units_consolidated']} units "
        f"consolidated, {m['rollup_rows']} rollup rows, {m['consolidation_issues']} "
        "cross-level issues"
    )
    for name in ("pandera", "gx"):
        if name in res:
            b = res[name]
            lines.append(
                f"  {name}: {b['files']} files sampled, {b['flagged']} flagged "
                f"({b['flagged_planted']} planted, {b['flagged_unplanted']} not planted); "
                f"{b['per_file_ms']} ms per file"
            )
    return "\n".join(lines)


PACKAGES = ("tonghop", "validations", "warehouse", "flows")


def compile_sources() -> None:
    """Byte-compile tonghop's own modules, as `pip install .` does (an editable install does
    not; Python then writes the .pyc at the first import, unless PYTHONDONTWRITEBYTECODE is set,
    as on the machine of the README's figures, where every process would compile them again:
    0.3 s for each worker process a run starts)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in PACKAGES)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", choices=("national", "province"), default="national")
    ap.add_argument("--period", default="2024-06")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch-size", type=int, default=1000, dest="batch_size")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--pandera-sample", type=int, default=1000, dest="pandera_sample")
    ap.add_argument("--gx-sample", type=int, default=300, dest="gx_sample")
    ap.add_argument("--full-baselines", action="store_true", dest="full_baselines")
    ap.add_argument("--skip-baselines", action="store_true", dest="skip_baselines")
    ap.add_argument("--fresh", action="store_true", help="month into an empty warehouse")
    ap.add_argument("--flow", action="store_true", help="also time the Prefect flows")
    ap.add_argument("--only", default="", help="comma-separated phases (month,flow,...)")
    ap.add_argument(
        "--work",
        default=str(Path(tempfile.gettempdir()) / "tonghop-bench"),
        help="scratch folder for each phase's warehouse copy, staging and outbox (default: "
        "$TMPDIR/tonghop-bench, a plain local folder; a run's files are removed by a later "
        "run, once 10 minutes old)",
    )
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        _emit(PHASES[args.phase](json.loads(args.params)))
        return 0

    from history import history_path
    from national import generate_month

    compile_sources()
    out_dir = ROOT / "data" / "bench"
    res: dict[str, Any] = {
        "scale": args.scale,
        "period": args.period,
        "machine": machine(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    only = {s for s in args.only.split(",") if s}

    def want(name: str) -> bool:
        return not only or name in only

    t = time.perf_counter()
    res["generated"] = generate_month(args.scale, args.period)
    res["generated"]["reused"] = time.perf_counter() - t < 5
    res["generated"].pop("planted", None)
    history = history_path(args.scale)
    if any(want(n) for n in ("month", "ingest", "flow", "query")):  # the ten years they read
        res["history"] = run_phase("history", args)
    hist = {} if args.fresh else {"history_file": str(history)}
    work = scratch(Path(args.work))
    if want("month"):
        res["month"] = run_phase("month", args, {"work": str(work / "month"), **hist})
        done_with(work / "month")
    if args.flow and want("ingest"):
        res["ingest"] = run_phase("ingest", args, {"work": str(work / "ingest"), **hist})
        done_with(work / "ingest")
    if args.flow and want("flow"):
        res["flow"] = run_phase("flow", args, {"work": str(work / "flow"), **hist})
        done_with(work / "flow")
    if want("localise"):
        res["localise"] = run_phase("localise", args)
    if not args.skip_baselines:
        if want("pandera"):
            res["pandera"] = run_phase("pandera", args)
        if want("gx"):
            res["gx"] = run_phase("gx", args)
    if want("validate_one"):
        probe = subprocess.run(
            [sys.executable, str(BENCH / "validate_one.py"), "--runs", "5", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        res["validate_one"] = json.loads(probe.stdout)
    if want("query"):
        res["query"] = run_phase("query", args, {"history_file": str(history)})
    if only and (out_dir / f"results-{args.scale}.json").is_file():  # keep the other phases
        old = json.loads((out_dir / f"results-{args.scale}.json").read_text(encoding="utf-8"))
        res = {**old, **{k: v for k, v in res.items() if k in only or k in ("machine",)}}
    m = res.get("month", {})
    work_s = m.get("work_wall_s")
    rv = m.get("steps", [{}, {}])[1].get("wall_s") if m else None
    ratios: dict[str, Any] = {}
    for name in ("gx", "pandera"):
        if name in res:
            ratios[f"{name} loop / tonghop read+validate"] = _ratio(res[name]["extrapolated_s"], rv)
            ratios[f"{name} loop / tonghop whole month (read, validate, load, consolidate)"] = (
                _ratio(res[name]["extrapolated_s"], work_s)
            )
    if "flow" in res and "ingest" in res:
        fi = next(r for r in res["flow"]["steps"] if r["step"].startswith("ingest"))["wall_s"]
        ratios["ingest: flow / library (stretch goal <= 2)"] = _ratio(
            fi, res["ingest"]["ingest_wall_s"]
        )
    if "localise" in res:
        ratios["localisation: added to validating the month, % (goal <= 20)"] = res["localise"][
            "added_pct"
        ]
    res["ratios"] = ratios
    goals = {}
    if "localise" in res:
        goals["localisation adds <= 20 % to validating the month"] = (
            res["localise"]["added_pct"] <= GOALS["localise_pct"]
        )
    if m:
        goals["month work <= 20 s"] = work_s is not None and work_s <= GOALS["month_wall_s"]
        goals["month peak RSS <= 1.5 GB"] = m["process"]["peak_rss_mb"] <= GOALS["month_rss_mb"]
    if "flow" in res and res["scale"] == "national":
        fs = {r["step"].split(" ")[0]: r for r in res["flow"]["steps"]}
        goals["ingest flow <= 15 s"] = fs["ingest"]["wall_s"] <= GOALS["flow_ingest_s"]
        goals["flow peak RSS <= 1.5 GB"] = (
            res["flow"]["process"]["peak_rss_mb"] <= GOALS["flow_rss_mb"]
        )
        goals["whole country consolidated in one run <= 5 s"] = (
            fs["consolidate-units"]["wall_s"] <= GOALS["flow_consolidate_s"]
        )
    if "gx" in res:
        goals[">= 50x faster than the GX loop (whole month)"] = (
            ratios.get("gx loop / tonghop whole month (read, validate, load, consolidate)") or 0
        ) >= GOALS["vs_gx"]
    if "pandera" in res:
        goals[">= 5x faster than the pandera loop (whole month)"] = (
            ratios.get("pandera loop / tonghop whole month (read, validate, load, consolidate)")
            or 0
        ) >= GOALS["vs_pandera"]
    if "query" in res:
        goals["province-year rollup <= 200 ms"] = (
            res["query"]["rollup"]["median_s"] <= GOALS["query_s"]
        )
    if "validate_one" in res:
        goals["tonghop validate FILE <= 1.5 s"] = (
            res["validate_one"]["median_s"] <= GOALS["validate_one_s"]
        )
    res["goals"] = goals
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"results-{args.scale}.json").write_text(
        json.dumps(res, indent=1, default=str), encoding="utf-8"
    )
    if args.json:
        print(json.dumps(res, indent=1, default=str))
    elif m:
        print(report(res))
    elif "localise" in res:
        print(json.dumps(res["localise"], indent=1))
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
