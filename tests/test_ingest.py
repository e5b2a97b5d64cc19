"""The ingest run without Prefect (service.ingest over warehouse.ingest's steps) and
warehouse.archive: arrival order, what was read is what is stored and archived, every original kept, every submitter answered."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SAMPLES
from service.ingest import ingest
from tonghop.cli import app
from warehouse import arrival, reading
from warehouse import ingest as steps
from warehouse.archive import archive_files
from warehouse.db import connect
from warehouse.ingest_settings import IngestSettings

JUNE = SAMPLES / "valid" / "2024-06"
C1, C2, C3 = "03387", "03388", "03389"  # communes of district 105 (Lai Châu)


def sample(unit: str, period: str = "2024-06") -> Path:
    return next(JUNE.rglob(f"{unit}_{period}.csv"))


def drop(dest: Path, src: Path, mtime: float | None = None, note: str | None = None) -> Path:
    """Put a copy of `src` at `dest` (a note on its first value makes other content)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = src.read_text(encoding="utf-8")
    if note is not None:
        lines = text.splitlines()
        lines[1] = lines[1].rstrip(",") + f",{note}" if lines[1].endswith(",") else lines[1]
        text = "\n".join(lines) + "\n"
    dest.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(dest, (mtime, mtime))
    return dest


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def where(tmp_path):
    def make(**kw) -> IngestSettings:
        return IngestSettings.resolve(
            tmp_path / "wh.duckdb",
            tmp_path / "staging",
            tmp_path / "outbox",
            workers=1,
            **kw,
        )

    return make


def rows(settings: IngestSettings, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- arrival order ------------------------------------------------------------------------------
def test_versions_follow_arrival_not_file_names(tmp_path, where):
    t = time.time() - 3600
    inbox = tmp_path / "inbox"
    first = drop(inbox / C1 / "z_first.csv", sample(C1), mtime=t)
    second = drop(inbox / C1 / "a_second.csv", sample(C1), mtime=t + 60, note="sửa lại")
    assert arrival.arrival_order([second, first]) == [str(first), str(second)]
    res = ingest([inbox], where())
    assert res["order"] == "arrival: modification time, then name"
    got = [(Path(s["file"]).name, s["version"], s["current"]) for s in res["submissions"]]
    assert got == [("z_first.csv", 1, False), ("a_second.csv", 2, True)]
    assert res["submissions"][1]["superseded"] == 1
    # same time: the name decides
    same = arrival.arrival_order(
        [drop(inbox / "b.csv", sample(C2), t), drop(inbox / "a.csv", sample(C2), t)]
    )
    assert [Path(f).name for f in same] == ["a.csv", "b.csv"]


# --- hash when read, archive what was read -----------------------------------------------------
def test_a_file_changed_while_it_was_read_is_left_for_the_next_run(tmp_path, where, monkeypatch):
    inbox = tmp_path / "inbox"
    f = drop(inbox / C1 / "baocao.csv", sample(C1))
    ok = drop(inbox / C2 / "baocao.csv", sample(C2))
    real = reading.listed_hashes

    def replaced_meanwhile(files):
        listed = real(files)
        drop(f, sample(C1), note="bản mới")  # the sender replaces it after it was listed
        return listed

    monkeypatch.setattr(reading, "listed_hashes", replaced_meanwhile)
    s = where(archive=tmp_path / "archive", inbox_root=inbox)
    res = ingest([inbox], s)
    assert res["changed"] == [str(f)]
    assert [x["unit_code"] for x in res["submissions"]] == [C2]
    assert f.exists() and not ok.exists()  # left in the inbox; the other one archived
    assert [x["file"] for x in res["archive"]["archived"]] == [str(ok)]
    monkeypatch.setattr(reading, "listed_hashes", real)
    again = ingest([inbox], s)  # the next run reads the new content
    assert [(x["unit_code"], x["version"], x["status"]) for x in again["submissions"]] == [
        (C1, 1, "accepted")
    ]
    (archived,) = (tmp_path / "archive" / again["batch_id"]).rglob("baocao.csv")
    assert "bản mới" in archived.read_text(encoding="utf-8")


def test_a_file_replaced_before_archiving_stays_in_the_inbox(tmp_path, where, monkeypatch):
    inbox = tmp_path / "inbox"
    f = drop(inbox / C1 / "baocao.csv", sample(C1))
    real = steps.write_answers

    def then_replaced(*a, **kw):
        n = real(*a, **kw)
        drop(f, sample(C1), note="gửi lại")  # replaced between the load and the archive
        return n

    monkeypatch.setattr(steps, "write_answers", then_replaced)
    s = where(archive=tmp_path / "archive", inbox_root=inbox)
    res = ingest([inbox], s)
    (left,) = res["archive"]["left"]
    assert left["file"] == str(f) and "changed since it was read" in left["reason"]
    assert "gửi lại" in f.read_text(encoding="utf-8")  # the unread content is back in the inbox
    assert not (tmp_path / "archive" / res["batch_id"] / "manifest.json").exists()
    monkeypatch.setattr(steps, "write_answers", real)
    again = ingest([inbox], s)
    assert [(x["version"], x["duplicate"]) for x in again["submissions"]] == [(2, False)]


def test_archive_puts_a_changed_file_back_without_replacing_a_newer_one(tmp_path):
    inbox = tmp_path / "inbox" / C1
    f = drop(inbox / "baocao.csv", sample(C1))
    res = archive_files([f], tmp_path / "archive", "b1", {str(f): "0" * 64})
    assert res.archived == [] and f.exists() and res.left[0]["now_at"] == str(f)


# --- every original kept --------------------------------------------------------------------------
def test_colliding_names_are_all_archived_with_a_manifest(tmp_path, where):
    inbox = tmp_path / "inbox"
    originals = {
        "03387/baocao.csv": drop(inbox / C1 / "baocao.csv", sample(C1)),
        "03388/baocao.csv": drop(inbox / C2 / "baocao.csv", sample(C2)),
        # a forgery: commune 03389's folder delivers a report of 03387 (refused)
        "03389/baocao.csv": drop(inbox / C3 / "baocao.csv", sample(C1), note="giả mạo"),
        # district 105 delivers two communes' files, each named baocao.csv, from two folders
        "105/baocao.csv": drop(inbox / "105" / "a" / "baocao.csv", sample(C3)),
        "105/baocao~2.csv": drop(inbox / "105" / "b" / "baocao.csv", sample("03403")),
    }
    data = {k: p.read_bytes() for k, p in originals.items()}
    res = ingest([inbox], where(archive=tmp_path / "archive", inbox_root=inbox))
    assert [r["unit_code"] for r in res["refused"]] == [C1]
    assert not [p for p in inbox.rglob("*") if p.is_file()]  # the inbox is empty
    folder = tmp_path / "archive" / res["batch_id"]
    for rel, content in data.items():
        assert (folder / rel).read_bytes() == content, rel
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["archived_as"]: e for e in manifest["files"]}
    assert set(entries) == set(data)
    for rel, content in data.items():
        assert entries[rel]["sha256"] == hashlib.sha256(content).hexdigest()
    assert entries["03389/baocao.csv"]["answer"] == "refused"
    assert entries["03387/baocao.csv"]["answer"] == "accepted"


# --- every submitter answered ----------------------------------------------------------------------
def _stage_only(paths: list[Path], s: IngestSettings, batch_id: str) -> None:
    """A run that staged its batch and stopped before loading (a crash, a lock)."""
    files = arrival.find_files(paths)
    outcome = reading.read_files(files, arrival.listed_hashes(files), s).outcome
    steps.stage(outcome, s, batch_id, [])


def test_a_batch_loaded_late_gets_its_reports_and_is_listed(tmp_path, where):
    s = where()
    _stage_only([drop(tmp_path / "a" / f"{C1}_2024-06.csv", sample(C1))], s, "crashed-run")
    assert not (s.outbox / C1).exists()
    res = ingest([drop(tmp_path / "b" / f"{C2}_2024-06.csv", sample(C2))], s)
    assert [x["unit_code"] for x in res["submissions"]] == [C2]
    (late,) = res["loaded_late"]
    assert (late["unit_code"], late["version"], late["status"], late["batch"]) == (
        C1,
        1,
        "accepted",
        "crashed-run",
    )
    report = json.loads((s.outbox / C1 / "2024-06_v1.json").read_text(encoding="utf-8"))
    assert report["warehouse"]["status"] == "accepted" and report["warehouse"]["version"] == 1
    assert report["unit_code"] == C1 and report["rules"]  # the full report, rebuilt
    assert (s.outbox / C1 / "2024-06_v1.html").is_file()

    # the CLI lists such a batch too
    _stage_only([drop(tmp_path / "c" / f"{C3}_2024-06.csv", sample(C3))], s, "locked-run")
    runner = CliRunner()
    base = ["ingest", "--no-prefect", "--warehouse", str(s.warehouse), "--outbox", str(s.outbox)]
    env = {"TONGHOP_STAGING": str(s.staging)}
    out = runner.invoke(app, [*base, str(sample("03403"))], env=env)
    assert out.exit_code == 0, out.output
    assert f"accepted                 {C3}" in out.output
    assert "(staged earlier, batch locked-run)" in out.output
    assert (s.outbox / C3 / "2024-06_v1.json").is_file()


def test_two_ingests_at_once_each_submitter_is_answered(tmp_path, where):
    s = where()
    # run B lists, reads and stages its file; run A then loads both batches
    b_file = drop(tmp_path / "b" / f"{C2}_2024-06.csv", sample(C2))
    b_files = arrival.find_files([b_file])
    b_outcome = reading.read_files(b_files, arrival.listed_hashes(b_files), s).outcome
    b_batch = steps.new_batch_id()
    steps.stage(b_outcome, s, b_batch, [])
    a = ingest([drop(tmp_path / "a" / f"{C1}_2024-06.csv", sample(C1))], s)
    assert [x["unit_code"] for x in a["loaded_late"]] == [C2]
    # run B's load finds its batch loaded by A: it reads the outcomes back
    loaded = steps.load_pending(s, b_batch)
    b = steps.summarise(s, b_batch, b_files, b_outcome, [], loaded, [])
    assert [
        (x["unit_code"], x["version"], x["status"], x["duplicate"]) for x in b["submissions"]
    ] == [(C2, 1, "accepted", False)]
    assert b["loaded_late"] == []
    (s.outbox / C2 / "2024-06_v1.json").unlink()
    steps.write_answers(s, b_outcome, loaded, [], b_batch)
    report = json.loads((s.outbox / C2 / "2024-06_v1.json").read_text(encoding="utf-8"))
    assert (report["warehouse"]["version"], report["warehouse"]["status"]) == (1, "accepted")


# --- a rejection that depended on the date ------------------------------------------------------
def test_a_period_future_rejection_does_not_make_the_same_file_a_duplicate(tmp_path, where):
    src = SAMPLES / "valid" / "2025-07" / "12_2025-07.csv"
    f = tmp_path / "12_2027-01.csv"
    f.write_text(src.read_text(encoding="utf-8").replace("2025-07", "2027-01"), encoding="utf-8")
    early = ingest([f], where(today="2026-11-22"))
    (s,) = early["submissions"]
    assert (s["version"], s["status"]) == (1, "rejected")
    assert rows(where(), "SELECT rule_id FROM fct_issue") == [("period_future",)]
    later = ingest([f], where(today="2027-01-20"))  # the period has opened: judged afresh
    (s,) = later["submissions"]
    assert (s["version"], s["status"], s["duplicate"], s["current"]) == (2, "accepted", False, True)
    again = ingest([f], where(today="2027-01-21"))  # now the same file is a duplicate
    (s,) = again["submissions"]
    assert (s["version"], s["duplicate"]) == (2, True)


# --- the library run and the flow agree -------------------------------------------------------
def test_the_cli_runs_without_prefect(tmp_path):
    runner = CliRunner()
    wh, outbox = tmp_path / "wh.duckdb", tmp_path / "outbox"
    folder = tmp_path / "in"
    shutil.copytree(JUNE / "105", folder)
    out = runner.invoke(
        app,
        ["ingest", "--no-prefect", "--json", "--warehouse", str(wh), "--outbox", str(outbox)]
        + [str(folder)],
        env={"TONGHOP_STAGING": str(tmp_path / "staging")},
    )
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert len(res["submissions"]) == len(list(folder.iterdir()))
    assert {x["status"] for x in res["submissions"]} == {"accepted"}
    # and never imports Prefect
    probe = (
        "import atexit, sys; atexit.register(lambda: print('prefect imported:', 'prefect' in "
        "sys.modules)); from tonghop.cli import main; sys.argv = ['tonghop', 'ingest', "
        f"'--no-prefect', '--warehouse', {str(wh)!r}, '--outbox', {str(outbox)!r}, "
        f"{str(folder)!r}]; main()"
    )
    env = os.environ | {"TONGHOP_STAGING": str(tmp_path / "staging")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "prefect imported: False" in done.stdout
    assert "duplicate" in done.stdout  # the same files again


# --- chunks of whole provinces over the cores ------------------------------------------------------
def test_chunks_never_split_a_province_and_keep_arrival_order():
    files = [
        "in/03386_2024-06.csv",  # Lai Châu
        "in/00001_2024-06.csv",  # Hà Nội
        "in/03387_2024-06.csv",
        "in/105/baocao.csv",  # no code in the name: its sender folder (district 105, Lai Châu)
        "in/x/a.csv",
        "in/y/b.csv",
        "in/z/c.csv",  # neither: cut at batch_size
    ]
    assert reading.province_chunks(files, 2) == [
        ["in/03386_2024-06.csv", "in/03387_2024-06.csv", "in/105/baocao.csv"],
        ["in/00001_2024-06.csv"],
        ["in/x/a.csv", "in/y/b.csv"],
        ["in/z/c.csv"],
    ]


def test_worker_processes_give_what_one_process_gives(tmp_path, where):
    files = [str(p) for p in sorted((JUNE / "105").iterdir())] + [
        str(p) for p in sorted((JUNE / "106").iterdir())
    ]
    listed = arrival.listed_hashes(files)
    one = reading.read_files(files, listed, replace(where(), batch_size=5))
    two = reading.read_files(files, listed, replace(where(), batch_size=5, workers=2))
    key = lambda o: [(r.path, r.unit_code, str(r.status), len(r.issues)) for r in o.results]  # noqa: E731
    assert key(one.outcome) == key(two.outcome) and len(one.outcome.results) == len(files)
    assert one.outcome.hashes == two.outcome.hashes == listed


def test_the_workers_write_the_reports_one_process_would(tmp_path, where):
    files = [str(p) for p in sorted((JUNE / "105").iterdir())] + [
        str(p) for p in sorted((JUNE / "106").iterdir())
    ]
    s = replace(where(), batch_size=5, workers=2)
    outcomes = {f: {"version": 1, "status": "accepted", "duplicate": False} for f in files}
    with reading.Workers.for_files(s, files) as workers:
        assert workers.pool is not None and workers.size == 2
        read = reading.read_files(files, None, s, workers=workers)
        assert read.listed == arrival.listed_hashes(files)  # hashed while the workers started
        n = reading.write_reports_in(
            workers, tmp_path / "two", read.outcome.results, outcomes, s, {}
        )
    one = reading.write_reports_in(None, tmp_path / "one", read.outcome.results, outcomes, s, {})
    assert n == one == 2 * len(files)
    made = lambda root: {  # noqa: E731
        p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
    assert made(tmp_path / "two") == made(tmp_path / "one")
    assert not list((tmp_path / "two").rglob(".tmp-*"))  # every temporary file renamed


def test_a_run_of_one_chunk_starts_no_process(where):
    with reading.Workers(where(), n_chunks=1) as workers:
        assert workers.pool is None
        assert workers.map(len, [[1, 2], [3]]) == [2, 1]


def test_a_file_sent_twice_is_answered_by_one_worker_in_arrival_order(tmp_path, where):
    files = [str(p) for p in sorted((JUNE / "105").iterdir())] + [
        str(p) for p in sorted((JUNE / "106").iterdir())
    ]
    again = shutil.copy(files[0], tmp_path / "gui_lai.csv")  # the same report, sent again
    files.append(str(again))
    s = replace(where(), batch_size=5, workers=2)
    same = {"version": 1, "status": "accepted", "duplicate": False}
    with reading.Workers.for_files(s, files) as workers:
        read = reading.read_files(files, None, s, workers=workers)
        reading.write_reports_in(
            workers, tmp_path / "out", read.outcome.results, dict.fromkeys(files, same), s, {}
        )
    unit = read.outcome.results[0].unit_code
    (answer,) = (tmp_path / "out" / unit).glob("*_v1.json")
    assert json.loads(answer.read_text(encoding="utf-8"))["file"] == "gui_lai.csv"  # the later
