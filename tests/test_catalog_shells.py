"""One catalog for every shell (issue 23, part 4): a provincial catalog that `validate
--catalog` accepts is the one `ingest --catalog` stores by and the portal judges and stores by;
a catalog one refuses, every command refuses, in the same words."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from portal_fixtures import add_users, login, make_settings, text_of, upload, wait_for
from typer.main import get_command
from typer.testing import CliRunner

from conftest import SAMPLES
from tonghop.cli import app
from validations.catalog import DEFAULT_CATALOG

LAI_CHAU = SAMPLES / "catalogs" / "lai_chau.yaml"
JULY = SAMPLES / "valid" / "2025-07" / "communes_12" / "03388_2025-07.csv"
runner = CliRunner()


@pytest.fixture
def fraud(tmp_path) -> Path:
    """Commune 03388's July 2025 report with Lai Châu's own indicator (online fraud cases),
    which only the provincial catalog knows."""
    path = tmp_path / "in" / "03388_2025-07.csv"
    path.parent.mkdir()
    text = JULY.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n03388,2025-07,cyber_fraud_cases,4,\n", encoding="utf-8")
    return path


@pytest.fixture
def bad_catalog(tmp_path) -> Path:
    """A provincial catalog with a lower-case level: the province's deadline would be lost."""
    path = tmp_path / "tinh.yaml"
    path.write_text(
        f"include: {DEFAULT_CATALOG}\ncalendar:\n  deadline_days: {{p: 12}}\n", encoding="utf-8"
    )
    return path


def stored_value(warehouse: Path, unit: str, indicator: str) -> float | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "SELECT v.value FROM fct_value v JOIN fct_submission s USING (submission_id)"
            " WHERE s.is_current AND s.unit_code = ? AND v.indicator = ?",
            [unit, indicator],
        ).fetchone()
    finally:
        con.close()
    return None if row is None else float(row[0])


def test_a_provincial_catalog_validate_accepts_is_ingested_with_it(tmp_path, fraud):
    res = runner.invoke(app, ["validate", str(fraud), "--catalog", str(LAI_CHAU)])
    assert res.exit_code == 0 and "ĐƯỢC CHẤP NHẬN" in res.output, res.output
    res = runner.invoke(app, ["validate", str(fraud)])  # the national form has no such indicator
    assert res.exit_code == 1 and "indicator_unknown" in res.output
    wh, outbox = tmp_path / "wh.duckdb", tmp_path / "outbox"
    env = {"TONGHOP_STAGING": str(tmp_path / "staging")}
    base = ["ingest", "--no-prefect", "--json", "--warehouse", str(wh), "--outbox", str(outbox)]
    res = runner.invoke(app, [*base, "--catalog", str(LAI_CHAU), str(fraud)], env=env)
    assert res.exit_code == 0, res.output
    (sub,) = json.loads(res.stdout)["submissions"]
    assert (sub["unit_code"], sub["status"]) == ("03388", "accepted")
    assert stored_value(wh, "03388", "cyber_fraud_cases") == 4
    report = json.loads((outbox / "03388" / "2025-07_v1.json").read_text(encoding="utf-8"))
    assert report["status"] == "accepted"


def test_the_catalog_can_be_set_once_for_every_command(tmp_path, fraud):
    env = {"TONGHOP_CATALOG": str(LAI_CHAU), "TONGHOP_STAGING": str(tmp_path / "staging")}
    res = runner.invoke(app, ["validate", str(fraud)], env=env)
    assert res.exit_code == 0, res.output
    wh = tmp_path / "wh.duckdb"
    args = ["ingest", "--no-prefect", "--warehouse", str(wh), "--outbox", str(tmp_path / "o")]
    res = runner.invoke(app, [*args, str(fraud)], env=env)
    assert res.exit_code == 0 and "accepted" in res.output, res.output
    assert stored_value(wh, "03388", "cyber_fraud_cases") == 4


def test_the_ingest_flow_is_given_the_catalog_validate_used(monkeypatch, fraud):
    """With Prefect, the flow gets the same file (absolute: its workers may run elsewhere)."""
    import flows.ingest

    seen = {}

    def flow(paths, **kw):
        seen.update(kw)
        return {"submissions": [], "unreadable": [], "warehouse": "w", "outbox": "o"}

    monkeypatch.setattr(flows.ingest, "ingest_submissions", flow)
    res = runner.invoke(app, ["ingest", str(fraud), "--catalog", str(LAI_CHAU)])
    assert res.exit_code == 0, res.output
    assert seen["catalog"] == str(LAI_CHAU.resolve())


# the arguments each command needs besides --catalog (a command that reads the catalog and is
# not listed here fails the test: every one must refuse a bad catalog in the same words)
ARGS = {
    "validate": [str(JULY)],
    "ingest": [str(JULY)],
    "template": ["--unit", "03388", "--period", "2025-07", "-o", "form.xlsx"],
    "consolidate": ["--period", "2025-07", "--unit", "12"],
    "approve": ["--period", "2025-07", "--unit", "12", "--actor", "a"],
    "accept": ["--period", "2025-07", "--unit", "12", "--actor", "a"],
    "unaccept": ["--period", "2025-07", "--unit", "12", "--actor", "a"],
    "unapprove": ["--period", "2025-07", "--unit", "12", "--actor", "a"],
    "status": ["--period", "2025-07"],
    "report": ["--period", "2025-07", "--unit", "12"],
    "rollup": ["--period", "2025-07", "--unit", "12"],
    "serve": [],
}


def test_every_command_that_reads_the_catalog_takes_catalog():
    commands = get_command(app).commands  # type: ignore[attr-defined]
    with_catalog = {
        name
        for name, cmd in commands.items()
        if any("--catalog" in getattr(p, "opts", []) for p in cmd.params)
    }
    assert with_catalog == set(ARGS)


@pytest.mark.parametrize("command", sorted(ARGS))
def test_a_bad_catalog_is_refused_by_every_command_in_the_same_words(
    command, bad_catalog, tmp_path, monkeypatch
):
    import tonghop.portal.server

    def never(*_a, **_k):  # pragma: no cover - the portal must not start
        raise AssertionError("the portal started with a bad catalog")

    monkeypatch.setattr(tonghop.portal.server, "run", never)
    monkeypatch.chdir(tmp_path)
    env = {"TONGHOP_WAREHOUSE": str(tmp_path / "none.duckdb")}
    said = runner.invoke(app, ["validate", str(JULY), "--catalog", str(bad_catalog)], env=env)
    res = runner.invoke(app, [command, *ARGS[command], "--catalog", str(bad_catalog)], env=env)
    assert res.exit_code == 2 == said.exit_code
    assert res.output == said.output
    assert f"{bad_catalog}, dòng 3: calendar: deadline_days: cấp 'p' (có phải 'P'?)" in res.output
    assert not (tmp_path / "none.duckdb").exists() and not (tmp_path / "form.xlsx").exists()


def test_validate_and_ingest_say_the_same_in_json(bad_catalog, tmp_path):
    env = {"TONGHOP_STAGING": str(tmp_path / "s")}
    a = runner.invoke(app, ["validate", str(JULY), "--json", "--catalog", str(bad_catalog)])
    b = runner.invoke(
        app,
        ["ingest", "--no-prefect", "--json", str(JULY), "--catalog", str(bad_catalog)],
        env=env,
    )
    one, two = json.loads(a.output), json.loads(b.output)
    assert one == two and (one["code"], one["reason"]) == ("catalog", "catalog.level_unknown")


def test_the_ingest_service_refuses_a_bad_catalog_before_touching_a_file(bad_catalog, tmp_path):
    from service.ingest import ingest
    from validations.catalog import CatalogError
    from warehouse.ingest_settings import IngestSettings

    run = tmp_path / "run"
    settings = IngestSettings.resolve(
        run / "wh.duckdb", run / "staging", run / "out", catalog=bad_catalog
    )
    with pytest.raises(CatalogError, match="deadline_days"):
        ingest([str(JULY)], settings)
    assert not run.exists()


# --- the portal ----------------------------------------------------------------------------------
def test_the_portal_refuses_a_bad_catalog_in_the_same_words(bad_catalog, tmp_path):
    from validations.catalog import CatalogError, load_catalog

    with pytest.raises(CatalogError) as expected:
        load_catalog(bad_catalog)
    with pytest.raises(CatalogError) as info:
        make_settings(tmp_path, catalog=bad_catalog)
    assert info.value.message("vi") == expected.value.message("vi")


def test_the_portal_judges_and_stores_by_the_provincial_catalog(tmp_path, fraud):
    from fastapi.testclient import TestClient

    from tonghop.portal.app import create_app

    settings = make_settings(tmp_path, catalog=LAI_CHAU)
    assert settings.catalog == str(LAI_CHAU.resolve())
    add_users(settings)
    from tonghop.portal.accounts import Accounts

    Accounts(settings.accounts).add("xa.03388", "03388", "submitter", "mat-khau-dai-12")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        login(client, "xa.03388", "mat-khau-dai-12")
        r = upload(client, fraud)
        assert "ĐƯỢC CHẤP NHẬN" in text_of(r.text), text_of(r.text)[:500]
        wait_for(lambda: "Đã lưu vào kho" in text_of(client.get(r.url.path).text))
    assert stored_value(settings.warehouse, "03388", "cyber_fraud_cases") == 4


def test_the_portals_deployment_runs_are_given_its_catalog(tmp_path, monkeypatch):
    """With a Prefect server, the portal's ingest and consolidation runs get its catalog."""
    from datetime import datetime
    from types import SimpleNamespace

    import tonghop.portal.jobs as jobs
    from tonghop.portal.context import Portal

    calls: list[dict] = []
    monkeypatch.setattr(jobs, "_run_deployment", lambda _name, p: calls.append(p) or "run-1")
    portal = Portal(make_settings(tmp_path, catalog=LAI_CHAU, ingest="deployment"))
    upload_ = SimpleNamespace(id=1, inbox_path=str(JULY), received=datetime(2025, 8, 1))
    portal.runner._ingest_deployment(upload_)  # type: ignore[arg-type]
    portal.runner.consolidate("12", "2025-07", "tinh.12")
    assert [c["catalog"] for c in calls] == [str(LAI_CHAU.resolve())] * 2
