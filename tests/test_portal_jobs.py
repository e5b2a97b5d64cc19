"""How delivered files get stored and consolidations run, mode by mode (the Prefect calls are
replaced by recorders here; the deployments themselves are tested with a real server in the
flows' tests)."""

from __future__ import annotations

from portal_fixtures import (  # noqa: F401  (fixtures)
    add_users,
    base_warehouse,
    csrf_of,
    login,
    make_settings,
    portal_root,
    text_of,
    upload,
)

from conftest import SAMPLES

JUNE = SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"


def _client(settings):
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    return TestClient(create_app(settings))


def test_deployment_mode_starts_a_run_at_once_with_the_file_and_its_time(portal_root, monkeypatch):
    from tonghop.portal import jobs

    calls = []
    monkeypatch.setattr(
        jobs, "_run_deployment", lambda name, params: calls.append((name, params)) or "5a1e-run"
    )
    monkeypatch.setattr(jobs, "flow_run_state", lambda run_id: "Scheduled")
    s = make_settings(portal_root, ingest="deployment")
    add_users(s)
    with _client(s) as c:
        login(c, "xa.03386")
        r = upload(c, JUNE)
        assert (
            "Prefect" in text_of(r.text)
            and "5a1e" in text_of(r.text)
            and "Scheduled" in text_of(r.text)
        )
        ((name, params),) = calls
        assert name == "ingest-submissions/ingest-inbox"
        up = c.app.state.portal.uploads.get(1)
        assert params["paths"] == [up.inbox_path] and params["inbox_root"] == str(s.inbox)
        assert params["received_at"] == {up.inbox_path: up.received.isoformat()}
        assert up.ingest_state == "submitted" and up.flow_run_id == "5a1e-run"
        login(c, "huyen.105")
        token = csrf_of(c, "/steward?period=2024-06")
        r = c.post(
            "/steward/consolidate", data={"csrf_token": token, "unit": "105", "period": "2024-06"}
        )
        assert "(Prefect: Scheduled)" in text_of(r.text)
        assert calls[-1] == (
            "consolidate-period/consolidate-on-demand",
            {
                "periods": ["2024-06"],
                "unit_code": "105",
                "warehouse": str(s.warehouse),
                "actor": "huyen.105",
            },
        )


def test_deployment_mode_without_a_server_leaves_the_file_to_the_schedule(portal_root, monkeypatch):
    from tonghop.portal import jobs

    def refuse(name, params):
        raise ConnectionError("no Prefect server at http://127.0.0.1:4200/api")

    monkeypatch.setattr(jobs, "_run_deployment", refuse)
    s = make_settings(portal_root, ingest="deployment")
    add_users(s)
    with _client(s) as c:
        login(c, "xa.03386")
        page = text_of(upload(c, JUNE).text)
    assert "lượt nhập định kỳ" in page  # delivered; the scheduled ingest will store it
    assert (s.inbox / "03386").is_dir() and list((s.inbox / "03386").glob("*.csv"))


def test_schedule_mode_only_delivers(portal_root):
    s = make_settings(portal_root, ingest="schedule")
    add_users(s)
    with _client(s) as c:
        login(c, "xa.03386")
        page = text_of(upload(c, JUNE).text)
    assert "15 phút" in page
    assert len(list((s.inbox / "03386").glob("*.csv"))) == 1


def test_auto_mode_follows_prefect_api_url(portal_root, monkeypatch):
    s = make_settings(portal_root, ingest="auto")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert s.ingest_mode == "inline"
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert s.ingest_mode == "deployment"


def test_the_worker_process_stores_what_the_web_process_delivered(portal_root):
    """The background worker (its loop run here for a few seconds) takes the queued upload."""
    from tonghop.portal import worker

    s = make_settings(portal_root, worker="process")
    add_users(s)
    with _client(s) as c:
        login(c, "xa.03386")
        r = upload(c, JUNE)
        assert "Đang chờ lưu vào kho" in text_of(r.text)
        worker.run(s, stop_after=8)
        page = text_of(c.get(r.url.path).text)
    assert "Đã lưu thành phiên bản 1" in page


def test_the_worker_stores_a_burst_once_it_has_settled(monkeypatch):
    """worker.settle waits while uploads keep arriving, and no longer than SETTLE_MAX."""
    import time

    from tonghop.portal import worker

    monkeypatch.setattr(worker, "SETTLE", 0.05)
    monkeypatch.setattr(worker, "SETTLE_MAX", 0.5)
    arriving = iter([1, 2, 3, 4, 4])  # four uploads, then quiet
    t = time.monotonic()
    worker.settle(lambda: list(range(next(arriving))))
    assert 0.15 <= time.monotonic() - t < 0.4  # four looks 0.05 s apart, then it stops
    t = time.monotonic()
    endless = iter(range(1, 1000))
    worker.settle(lambda: list(range(next(endless))))  # never settles: SETTLE_MAX
    assert 0.45 <= time.monotonic() - t < 0.9
