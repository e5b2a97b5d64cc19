"""Nothing acknowledged is lost (issue 23.1): work taken by a process that died is taken again,
for every kind of background work (uploads to store, consolidations, mail, snapshots), an upload
is stored exactly once whatever point the death struck, and work that keeps killing its worker
is given up with a message.

The fast tests here simulate a death inside this process: the test point raises `Died` (a
BaseException nothing catches), which leaves the portal's rows, the inbox, the staging folder
and the warehouse as a SIGKILL there leaves them (between steps; inside a transaction is the
real SIGKILL's job, below), and the claims are then made those of a process that is gone. The
slow tests kill real processes: the worker alone (a hypothesis property over kill points) and
`tonghop serve` with its worker, as a service manager kills them.
"""

from __future__ import annotations

import csv
import email
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    add_users,
    base_warehouse,
    csrf_of,
    free_port,
    login,
    make_settings,
    portal_root,
    smtp_server,
    text_of,
    upload,
    wait_for,
)

from conftest import ROOT, SAMPLES
from tonghop.portal import testpoints
from tonghop.portal.claims import HOST, MAX_ATTEMPTS

JUNE = SAMPLES / "valid" / "2024-06" / "105"
DEAD = f"{HOST}/a-boot-before/1/1"  # the claim of a process that is gone (the machine restarted)
# the points an ingest passes (ingest:retry and ingest:finish: only a resumption passes them)
INGEST_POINTS = [
    p
    for p in testpoints.POINTS
    if p.startswith(("ingest:", "snapshot:")) and p not in ("ingest:retry", "ingest:finish")
]


class Died(BaseException):
    """A death at a test point, as far as the files and rows go."""


def dying_at(monkeypatch, name: str, only: str | None = None) -> None:
    def point(n: str, names=()) -> None:
        if n == name and (only is None or any(only in str(x) for x in names)):
            raise Died(n)

    monkeypatch.setattr(testpoints, "point", point)


def bury(settings, table: str = "uploads", state: str = "ingest_state") -> int:
    """The process holding these claims is gone: make its claims those of a dead process."""
    from tonghop.portal.database import Database

    with Database(settings.accounts).connect() as con:
        return con.execute(
            f"UPDATE {table} SET claimed_by = ? WHERE {state} = 'running'", [DEAD]
        ).rowcount


def variant(src: Path, dest: Path, note: str) -> Path:
    """The report with a note on its first row: the same figures, another file (content hash)."""
    with open(src, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][4] = note
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dest


def _client(settings):
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    return TestClient(create_app(settings))


def stored_copies(settings, hashes: list[str]) -> dict[str, int]:
    """How many versions of the warehouse hold each content hash (the live file)."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return {
            h: con.execute(
                "SELECT count(*) FROM fct_submission WHERE content_hash = ?", [h]
            ).fetchall()[0][0]
            for h in hashes
        }
    finally:
        con.close()


def delivered_left(settings) -> list[Path]:
    """Files the portal delivered that are still in the inbox."""
    return [p for p in settings.inbox.rglob("*-u*-*") if p.is_file()]


def send(c, n: int, tmp: Path, tag: str) -> list[int]:
    """n uploads of new content by xa.03386 (June 2024): their ids, each acknowledged."""
    login(c, "xa.03386")
    ids = []
    for i in range(n):
        path = variant(JUNE / "03386_2024-06.csv", tmp / tag / f"03386_{tag}{i}.csv", f"{tag}{i}")
        r = upload(c, path)
        assert r.status_code == 200 and r.url.path.startswith("/uploads/")
        ids.append(int(r.url.path.rsplit("/", 1)[1]))
    return ids


def check_all_stored_once(settings, portal, ids: list[int]) -> None:
    ups = [portal.uploads.get(i) for i in ids]
    assert [u.ingest_state for u in ups] == ["loaded"] * len(ids), [
        (u.id, u.ingest_state, u.ingest_detail) for u in ups
    ]
    copies = stored_copies(settings, [u.content_hash for u in ups])
    assert set(copies.values()) == {1}, copies
    assert delivered_left(settings) == []


# --- uploads: a death at every point of the ingest ---------------------------------------------
# deaths at one point, or at two (the second while resuming: points only a resumption passes)
ALL_CASES = [(p,) for p in INGEST_POINTS] + [
    ("ingest:after:stage-batch", "ingest:retry"),
    ("ingest:after:load-warehouse", "ingest:finish"),
    ("snapshot:publish", "ingest:finish"),
]
FEW_CASES = [
    ("ingest:after:stage-batch",),
    ("ingest:after:load-warehouse",),
    ("ingest:after:archive-files",),
    ("snapshot:publish", "ingest:finish"),
]


def test_a_death_at_some_points_of_the_ingest_leaves_each_upload_stored_once(
    portal_root, tmp_path, monkeypatch
):
    deaths_at(FEW_CASES, portal_root, tmp_path, monkeypatch)


@pytest.mark.slow
def test_a_death_at_any_point_of_the_ingest_leaves_each_upload_stored_once(
    portal_root, tmp_path, monkeypatch
):
    deaths_at(ALL_CASES, portal_root, tmp_path, monkeypatch)


def deaths_at(cases, portal_root, tmp_path, monkeypatch) -> None:
    """At each case in turn: two uploads acknowledged, the worker dies at the case's points,
    the next one resumes them."""
    s = make_settings(portal_root, worker="process")  # the web side only delivers
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        portal.runner.retry_delays = ()
        for n, points in enumerate(cases):
            ids = send(c, 2, tmp_path, f"k{n}")
            for point in points:
                dying_at(monkeypatch, point)
                with pytest.raises(Died):
                    portal.runner.ingest_now()
                assert bury(s) == 2, points  # both were taken, neither finished
                monkeypatch.undo()
            page = text_of(c.get(f"/uploads/{ids[0]}").text)
            assert "Việc lưu bị gián đoạn" in page and "sẽ tự động được lưu" in page
            portal.runner.ingest_now()  # the next worker
            check_all_stored_once(s, portal, ids)
            for i in ids:
                assert "Đã lưu vào kho" in text_of(c.get(f"/uploads/{i}").text), points
            assert portal.uploads.get(ids[0]).attempts == len(points) + 1


def test_a_copy_of_a_stored_file_resumed_after_a_death_is_still_one_version(
    portal_root, tmp_path, monkeypatch
):
    """The same content sent twice in one batch, the run dying after its load: one version."""
    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        login(c, "xa.03386")
        path = variant(JUNE / "03386_2024-06.csv", tmp_path / "twice.csv", "twice")
        ids = [int(upload(c, path).url.path.rsplit("/", 1)[1]) for _ in range(2)]
        dying_at(monkeypatch, "ingest:after:load-warehouse")
        with pytest.raises(Died):
            portal.runner.ingest_now()
        bury(s)
        monkeypatch.undo()
        portal.runner.ingest_now()
        check_all_stored_once(s, portal, ids)


def test_a_rejection_for_a_date_rule_resumed_after_its_load_is_not_stored_twice(
    portal_root, tmp_path, monkeypatch
):
    """A version rejected because its period has not started is no precedent: the same content
    ingested again is a second version. So a run dying after such a load is not re-run blindly:
    the upload is found stored, and its file archived."""
    from tonghop.portal.accounts import Accounts
    from validations.intake import file_hash

    s = make_settings(portal_root, worker="process")
    add_users(s)
    Accounts(s.accounts).add("xa.03388", "03388", "submitter", "mat-khau-123")  # after the reform
    future = tmp_path / "03388_2027-03.csv"
    src = (JUNE / "03388_2024-06.csv").read_text(encoding="utf-8-sig")
    future.write_text(src.replace("2024-06", "2027-03"), encoding="utf-8")
    with _client(s) as c:
        portal = c.app.state.portal
        login(c, "xa.03388")
        r = upload(c, future)
        i = int(r.url.path.rsplit("/", 1)[1])
        assert portal.uploads.get(i).verdict == "rejected" and "chưa bắt đầu" in text_of(r.text)
        dying_at(monkeypatch, "ingest:after:load-warehouse")
        with pytest.raises(Died):
            portal.runner.ingest_now()
        bury(s)
        monkeypatch.undo()
        portal.runner.ingest_now()
        check_all_stored_once(s, portal, [i])
        assert stored_copies(s, [file_hash(future)]) == {file_hash(future): 1}


def test_an_upload_dying_twice_is_resumed_and_its_page_says_so(portal_root, tmp_path, monkeypatch):
    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        (i,) = send(c, 1, tmp_path, "t")
        for point in ("ingest:after:stage-batch", "ingest:retry"):
            dying_at(monkeypatch, point)
            with pytest.raises(Died):
                portal.runner.ingest_now()
            bury(s)
        up = portal.uploads.get(i)
        assert (up.ingest_state, up.attempts) == ("running", 2)
        monkeypatch.undo()
        # while the third taker works, the page says it is being stored again
        with portal.db.connect() as con:
            con.execute("UPDATE uploads SET claimed_by = NULL, attempts = 3 WHERE id = ?", [i])
        portal.runner.upload_claims.take([i])
        page = text_of(c.get(f"/uploads/{i}").text)
        assert "Đang lưu lại vào kho (lần thứ 4)" in page and "chỉ được lưu một lần" in page
        en = text_of(c.get(f"/lang/en?next=/uploads/{i}").text)
        assert "Being stored again (attempt 4)" in en
        c.get("/lang/vi")
        bury(s)
        with portal.db.connect() as con:  # back to a retry within the limit
            con.execute("UPDATE uploads SET attempts = 2 WHERE id = ?", [i])
        portal.runner.ingest_now()
        check_all_stored_once(s, portal, [i])


# --- poison: a file that kills its worker every time --------------------------------------------
def test_a_file_that_kills_its_worker_every_time_is_set_aside_and_the_others_are_stored(
    portal_root, tmp_path, monkeypatch
):
    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        good = send(c, 2, tmp_path, "good")
        login(c, "xa.03386")
        poison = variant(JUNE / "03386_2024-06.csv", tmp_path / "03386_poison.csv", "poison")
        bad = int(upload(c, poison).url.path.rsplit("/", 1)[1])
        dying_at(monkeypatch, "ingest:before:read-files", only="poison")
        deaths = 0
        for _ in range(2 * MAX_ATTEMPTS):  # never for ever
            try:
                portal.runner.ingest_now()
            except Died:
                deaths += 1
                bury(s)
                continue
            if not portal.runner.upload_claims.claimable():
                break
        assert deaths == MAX_ATTEMPTS  # the first batch, then the poison alone, twice more
        check_all_stored_once(s, portal, good)
        up = portal.uploads.get(bad)
        assert up.ingest_state == "failed" and stored_copies(s, [up.content_hash]) == {
            up.content_hash: 0
        }
        aside = list((s.archive / "set-aside").rglob("*poison.csv"))
        assert len(aside) == 1 and not Path(up.inbox_path).exists()
        page = text_of(c.get(f"/uploads/{bad}").text)
        assert f"Cổng đã dừng đột ngột {MAX_ATTEMPTS} lần khi đang lưu lượt gửi số {bad}" in page
        assert "Traceback" not in page
        login(c, "huyen.105")  # the steward sees it, in the list of reports sent
        page = text_of(c.get("/lang/en?next=/submissions%3Funit%3D105%26period%3D2024-06").text)
        assert (
            f"The portal stopped abruptly {MAX_ATTEMPTS} times while storing upload {bad}" in page
        )
        audit = portal.db.audit_rows(action="set_aside")
        assert len(audit) == 1 and "set-aside" in audit[0]["detail"]


def test_a_file_gone_from_the_inbox_and_not_stored_fails_asking_to_send_it_again(
    portal_root, tmp_path, monkeypatch
):
    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        (i,) = send(c, 1, tmp_path, "gone")
        dying_at(monkeypatch, "ingest:claimed")
        with pytest.raises(Died):
            portal.runner.ingest_now()
        bury(s)
        monkeypatch.undo()
        Path(portal.uploads.get(i).inbox_path).unlink()  # someone cleaned the inbox meanwhile
        portal.runner.ingest_now()
        up = portal.uploads.get(i)
        assert up.ingest_state == "failed"
        page = text_of(c.get(f"/uploads/{i}").text)
        assert "không còn trong hộp thư đến và kho chưa có nó: hãy gửi lại tệp" in page


def test_a_live_claim_is_never_taken_and_a_busy_warehouse_gives_the_uploads_back(
    portal_root, tmp_path, monkeypatch
):
    from tonghop.portal import jobs
    from warehouse.db import WarehouseLockedError

    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        portal.runner.retry_delays = ()
        ids = send(c, 2, tmp_path, "busy")
        taken = portal.runner.upload_claims.take()
        assert len(taken) == 2 and portal.runner.ingest_now() is None  # ours, alive: not again
        with portal.db.connect() as con:
            con.execute("UPDATE uploads SET ingest_state = 'queued', attempts = 0")

        def locked(*a, **k):
            raise WarehouseLockedError("warehouse_locked.in_use", path=str(s.warehouse))

        monkeypatch.setattr(portal.runner, "_store", locked)
        portal.runner.ingest_now()
        up = portal.uploads.get(ids[0])
        assert (up.ingest_state, up.attempts) == ("queued", 0)  # not a death: uncounted
        page = text_of(c.get(f"/uploads/{ids[0]}").text)
        assert "Đang chờ lưu vào kho: Kho dữ liệu đang được một tiến trình khác ghi" in page
        portal.runner.work()  # within BUSY_PAUSE: nothing tried
        assert portal.uploads.get(ids[0]).ingest_state == "queued"
        monkeypatch.undo()
        portal.runner._busy_until = 0.0
        monkeypatch.setattr(jobs, "BUSY_PAUSE", 0.0)
        portal.runner.work()
        check_all_stored_once(s, portal, ids)


# --- consolidation, snapshots, mail ---------------------------------------------------------------
def test_a_consolidation_taken_by_a_dead_process_is_run_again_and_poison_gives_up(
    portal_root, monkeypatch
):
    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        login(c, "huyen.105")
        token = csrf_of(c, "/steward?period=2024-06")
        c.post(
            "/steward/consolidate", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
        )
        (first,) = portal.runner.queued_jobs()
        dying_at(monkeypatch, "consolidate:done")  # consolidated and committed, not recorded
        with pytest.raises(Died):
            portal.runner.consolidate_waiting()
        bury(s, "jobs", "state")
        page = text_of(c.get("/steward?period=2024-06").text)
        assert "Lần tổng hợp gần nhất: bị gián đoạn vì cổng dừng giữa chừng; sẽ tự chạy lại" in page
        monkeypatch.undo()
        portal.runner.consolidate_waiting()
        assert portal.runner.job(first)["state"] == "completed"
        assert portal.runner.job(first)["attempts"] == 2
        page = text_of(c.get("/steward?period=2024-06").text)
        assert "Lần tổng hợp gần nhất: xong" in page
        # a consolidation that killed MAX_ATTEMPTS workers is not tried again
        job = portal.runner.consolidate("105", "2024-06", "huyen.105")
        with portal.db.connect() as con:
            con.execute(
                "UPDATE jobs SET state = 'running', claimed_by = ?, attempts = ? WHERE id = ?",
                [DEAD, MAX_ATTEMPTS, job],
            )
        portal.runner.consolidate_waiting()
        assert portal.runner.job(job)["state"] == "failed"
        page = text_of(c.get("/steward?period=2024-06").text)
        assert f"Việc tổng hợp đã dừng đột ngột {MAX_ATTEMPTS} lần" in page


def test_a_snapshot_a_dead_writer_did_not_publish_is_published_at_the_next_start(
    portal_root, tmp_path, monkeypatch
):
    from tonghop.portal.context import Portal
    from warehouse import snapshot

    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        portal = c.app.state.portal
        (i,) = send(c, 1, tmp_path, "snap")
        before = snapshot.current(s.warehouse).generation
        dying_at(monkeypatch, "snapshot:publish")
        with pytest.raises(Died):
            portal.runner.ingest_now()
        assert snapshot.current(s.warehouse).generation == before  # committed, not published
        folder = snapshot.snapshot_dir(s.warehouse)
        (folder / f".tmp-{before + 1}-999999.duckdb").write_bytes(b"half a copy")
        monkeypatch.undo()
    again = Portal(s)  # a restart: the refresh every portal process starts with
    again.reader.refresh()
    assert snapshot.current(s.warehouse).generation > before
    up = again.uploads.get(i)
    with again.reader.cursor() as cur:
        n = cur.execute(
            "SELECT count(*) FROM fct_submission WHERE content_hash = ?", [up.content_hash]
        ).fetchall()[0][0]
    assert n == 1 and not list(folder.glob(".tmp-*"))  # the half copy swept


def test_mail_taken_by_a_dead_process_is_sent_and_refused_mail_is_tried_again(
    portal_root, smtp_server, monkeypatch
):
    from tonghop.portal import notices
    from tonghop.portal.context import Portal

    s = make_settings(portal_root, smtp=smtp_server.address)
    add_users(s, {"huyen.105": "huyen105@example.vn"})
    portal = Portal(s)
    mailer = portal.notices.mailer
    dying_at(monkeypatch, "mail:claimed")
    fut = mailer.send(["huyen105@example.vn"], "[tonghop] lost?", "body")
    with pytest.raises(Died):
        fut.result(timeout=30)
    bury(s, "mail", "state")
    monkeypatch.undo()
    mailer.deliver()  # the background sweep after a restart
    msg = wait_for(lambda: smtp_server.messages)[0]
    assert "lost?" in email.message_from_bytes(msg["data"])["Subject"]
    with portal.db.connect() as con:
        row = dict(con.execute("SELECT * FROM mail").fetchone())
    assert (row["state"], row["attempts"]) == ("sent", 2) and row["sent_at"]
    # a server that refuses: kept and tried again, then given up after MAIL_TRIES
    s.smtp_port = free_port()  # nobody listens there
    mailer.send(["huyen105@example.vn"], "[tonghop] later", "body").result(timeout=30)
    with portal.db.connect() as con:
        row = dict(con.execute("SELECT * FROM mail ORDER BY id DESC").fetchone())
    assert row["state"] == "queued" and "ConnectionRefusedError" in row["detail"]
    for _ in range(notices.MAIL_TRIES):
        mailer.deliver()
    with portal.db.connect() as con:
        row = dict(con.execute("SELECT * FROM mail ORDER BY id DESC").fetchone())
    assert row["state"] == "failed" and row["attempts"] == notices.MAIL_TRIES + 1
    mailer.close()


# --- the worker process and its web process ---------------------------------------------------
def test_a_dead_worker_process_is_started_again_by_its_web_process(portal_root, monkeypatch):
    from tonghop.portal import context

    monkeypatch.setattr(context, "WORKER_CHECK", 0.05)
    started = []

    class Gone:
        exitcode = -9

        def __init__(self) -> None:
            self.n = len(started)

        def is_alive(self) -> bool:
            return self.n >= 3  # the first two die at once, the third lives

        def terminate(self) -> None:
            pass

        def join(self, timeout=None) -> None:
            pass

    def spawn(settings):
        started.append(time.monotonic())
        return Gone()

    s = make_settings(portal_root, worker="process", background=True)
    portal = context.Portal(s)
    portal.start(spawn)
    try:
        wait_for(lambda: len(started) >= 3, 30, 0.05)
        time.sleep(0.3)
        assert len(started) == 3 and portal.worker_restarts == 2
    finally:
        portal.stop()


def test_a_worker_whose_web_process_died_stops(portal_root):
    from tonghop.portal import worker

    s = make_settings(portal_root, worker="process")
    t = time.monotonic()
    worker.run(s, stop_after=60, parent=os.getpid() + 10**6)  # not its parent: gone
    assert time.monotonic() - t < 30


# --- real SIGKILLs (slow) ------------------------------------------------------------------------
ENV_KEYS = (
    testpoints.KILL_AT,
    testpoints.KILL_IF,
    testpoints.KILL_WHOM,
    testpoints.KILL_MARKER,
    "TONGHOP_TEST_PAUSE_IN_TXN",
    "TONGHOP_TEST_PAUSE_MARKER",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT), **extra)
    return env


def start_worker(settings, log: Path, **env: str) -> subprocess.Popen:
    """The worker process alone (`python -m tonghop.portal.worker`), as `tonghop serve` runs it."""
    from tonghop.portal.settings import ENV

    return subprocess.Popen(
        [sys.executable, "-m", "tonghop.portal.worker"],
        env=_env(**{ENV: settings.to_json()}, **env),
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def settled(portal, ids: list[int]) -> bool:
    return all(portal.uploads.get(i).ingest_state in ("loaded", "failed") for i in ids)


@pytest.mark.slow
def test_property_any_kill_point_of_the_worker_leaves_every_acknowledged_upload_stored_once(
    portal_root, tmp_path
):
    """Hypothesis draws rounds of (uploads acknowledged, where the worker process is SIGKILLed:
    a named point, inside the load's transaction, or a random moment); a clean worker then
    runs. Every acknowledged upload is stored exactly once, its file out of the inbox, its page
    saying so. The figures go to docs/hardening.md (printed with -s)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    where = st.one_of(
        st.sampled_from([*INGEST_POINTS, "ingest:retry", "in:load-warehouse"]),
        st.floats(0.5, 6.0).map(lambda t: f"after:{t:.1f}s"),
    )
    s = make_settings(portal_root, worker="process")
    add_users(s)
    stats = {"examples": 0, "kills": 0, "points": set(), "acknowledged": 0, "stored": 0}
    log = tmp_path / "worker.log"
    with _client(s) as c:
        portal = c.app.state.portal

        @settings(
            max_examples=int(os.environ.get("TONGHOP_KILL_EXAMPLES", "4")),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(rounds=st.lists(st.tuples(st.integers(1, 3), where), min_size=1, max_size=2))
        def prop(rounds):
            stats["examples"] += 1
            ids: list[int] = []
            for n, at in rounds:
                ids += send(c, n, tmp_path, f"e{stats['examples']}r{len(ids)}")
                marker = tmp_path / f"killed-{stats['examples']}-{len(ids)}"
                env = {testpoints.KILL_MARKER: str(marker)}
                if at.startswith("after:"):
                    proc = start_worker(s, log, **env)
                    time.sleep(float(at[6:-1]))
                elif at == "in:load-warehouse":
                    env.update(
                        TONGHOP_TEST_PAUSE_IN_TXN="60", TONGHOP_TEST_PAUSE_MARKER=str(marker)
                    )
                    proc = start_worker(s, log, **env)
                    wait_for(lambda m=marker, i=ids: m.exists() or settled(portal, i), 90, 0.05)
                else:
                    env[testpoints.KILL_AT] = at
                    proc = start_worker(s, log, **env)
                    wait_for(
                        lambda p=proc, i=ids: p.poll() is not None or settled(portal, i), 90, 0.05
                    )
                hit = marker.exists() or at.startswith("after:")
                kill(proc)
                if hit:
                    stats["kills"] += 1
                    stats["points"].add(at if not at.startswith("after:") else "random time")
            proc = start_worker(s, log)  # the restart, with nothing to stop it
            try:
                wait_for(lambda: settled(portal, ids), 120, 0.1)
            finally:
                kill(proc)
            stats["acknowledged"] += len(ids)
            check_all_stored_once(s, portal, ids)
            stats["stored"] += len(ids)
            for i in ids:
                assert "Đã lưu vào kho" in text_of(c.get(f"/uploads/{i}").text)

        prop()
    print(
        f"\nkill property: {stats['examples']} examples, {stats['kills']} SIGKILLs at"
        f" {len(stats['points'])} points ({sorted(stats['points'])}),"
        f" {stats['acknowledged']} uploads acknowledged, {stats['stored']} stored once,"
        f" lost {stats['acknowledged'] - stats['stored']}"
    )
    assert stats["kills"] >= 1 and stats["stored"] == stats["acknowledged"]


class Serve:
    """`tonghop serve` as a process group of its own (the server and its worker), on a free port."""

    def __init__(self, settings, tmp: Path):
        self.settings, self.tmp, self.port = settings, tmp, free_port()
        exe = ROOT / ".venv" / "bin" / "tonghop"
        head = [str(exe)] if exe.exists() else [sys.executable, "-m", "tonghop.cli"]
        self.args = [*head, "serve", "--port", str(self.port), "--ingest", "inline"]
        for opt in ("warehouse", "accounts", "inbox", "outbox", "archive"):
            self.args += [f"--{opt}", str(getattr(settings, opt))]
        self.proc: subprocess.Popen | None = None

    def start(self, **env: str) -> Serve:
        self.proc = subprocess.Popen(
            self.args,
            env=_env(TONGHOP_STAGING=str(self.settings.staging), **env),
            stdout=open(self.tmp / "serve.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            cwd=self.tmp,
            start_new_session=True,  # its own process group: the server and its worker
        )
        return self

    @contextmanager
    def client(self):
        """A client of the server, once it answers."""
        import httpx

        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", follow_redirects=True) as c:

            def up() -> bool:
                try:
                    return c.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(up, 120, 0.2)
            yield c

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def rows(self, ids: list[int]) -> list[dict]:
        from tonghop.portal.database import Database

        with Database(self.settings.accounts).connect() as con:
            return [
                dict(con.execute("SELECT * FROM uploads WHERE id = ?", [i]).fetchone()) for i in ids
            ]


def send_over_http(c, tmp: Path, names: list[str]) -> list[int]:
    """Uploads by xa.03386 through the real server: their ids, each acknowledged."""
    login(c, "xa.03386")
    ids = []
    for name in names:
        path = variant(JUNE / "03386_2024-06.csv", tmp / f"03386_{name}.csv", name)
        r = upload(c, path)
        assert r.status_code == 200 and "/uploads/" in str(r.url)  # acknowledged
        ids.append(int(str(r.url).rsplit("/", 1)[1]))
    return ids


@pytest.mark.slow
def test_tonghop_serve_killed_with_its_worker_loses_nothing_it_acknowledged(portal_root, tmp_path):
    """The issue's case: `tonghop serve` SIGKILLed (with its worker, as a service manager kills
    its process group) while the worker stores uploads it answered; started again, every one
    is stored once, its file archived, its page saying so."""
    s = make_settings(portal_root, worker="process")
    add_users(s)
    marker = tmp_path / "killed"
    serve = Serve(s, tmp_path).start(
        **{
            testpoints.KILL_AT: "ingest:after:load-warehouse",
            testpoints.KILL_IF: "last",
            testpoints.KILL_WHOM: "group",
            testpoints.KILL_MARKER: str(marker),
        }
    )
    try:
        with serve.client() as c:
            ids = send_over_http(c, tmp_path, ["first", "second", "last"])
            wait_for(lambda: serve.proc.poll() is not None, 120, 0.1)
        assert marker.read_text().split() == ["ingest:after:load-warehouse"]
    finally:
        serve.stop(signal.SIGKILL)
    states = [r["ingest_state"] for r in serve.rows(ids)]
    assert "running" in states, states  # the dead worker's claims, as the issue found them
    serve.start()
    try:
        with serve.client() as c:
            login(c, "xa.03386")
            for i in ids:
                wait_for(lambda i=i: "Đã lưu vào kho" in text_of(c.get(f"/uploads/{i}").text), 120)
    finally:
        serve.stop()
    rows = serve.rows(ids)
    assert [r["ingest_state"] for r in rows] == ["loaded"] * 3
    assert set(stored_copies(s, [r["content_hash"] for r in rows]).values()) == {1}
    assert delivered_left(s) == []


@pytest.mark.slow
def test_a_file_that_kills_the_serving_worker_every_time_is_given_up(portal_root, tmp_path):
    """The worker dies whenever it reads one file; `tonghop serve` starts it again each time;
    after MAX_ATTEMPTS deaths the file is set aside with its message, the others stored."""
    s = make_settings(portal_root, worker="process")
    add_users(s)
    marker = tmp_path / "killed"
    serve = Serve(s, tmp_path).start(
        **{
            testpoints.KILL_AT: "ingest:before:read-files",
            testpoints.KILL_IF: "poison",
            testpoints.KILL_MARKER: str(marker),
        }
    )
    try:
        with serve.client() as c:
            ids = send_over_http(c, tmp_path, ["good1", "poison", "good2"])
            bad = ids[1]
            wait_for(
                lambda: "Cổng đã dừng đột ngột" in text_of(c.get(f"/uploads/{bad}").text), 180, 0.5
            )
            for i in (ids[0], ids[2]):
                wait_for(lambda i=i: "Đã lưu vào kho" in text_of(c.get(f"/uploads/{i}").text), 60)
    finally:
        serve.stop()
    assert len(marker.read_text().split()) == MAX_ATTEMPTS  # three deaths, then no more
    rows = {r["id"]: r for r in serve.rows(ids)}
    assert rows[bad]["ingest_state"] == "failed"
    assert [rows[i]["ingest_state"] for i in (ids[0], ids[2])] == ["loaded"] * 2
    assert len(list((s.archive / "set-aside").rglob("*poison.csv"))) == 1
    assert delivered_left(s) == []
