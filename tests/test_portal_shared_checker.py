"""The web processes' one validator process (tonghop.portal.shared_checker): uploads sent from
several threads at once are judged there in common batches, each verdict the one the web
process would give itself; while the process cannot be reached, a web process judges alone;
a process that dies is started again."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    base_warehouse,
    make_settings,
    portal_root,
    wait_for,
)

from conftest import SAMPLES
from tonghop.portal.checker import Checker
from tonghop.portal.reader import SnapshotWarehouse, WarehouseReader
from tonghop.portal.shared_checker import ENV, Service, SharedChecker


def _uploads(tmp_path):
    """June's reports of district 105's communes, each in a folder of its own (as the portal
    keeps uploads), a slipped figure among them (rejected: the same issues either way)."""
    files = []
    for f in sorted((SAMPLES / "valid" / "2024-06" / "105").glob("*.csv"))[:11]:
        folder = tmp_path / "uploads" / f.stem
        folder.mkdir(parents=True)
        files.append(shutil.copy(f, folder / f.name))
    slip = files[0].read_text(encoding="utf-8").splitlines()
    slip = [
        line.replace(",reports_resolved,", ",reports_resolved,9") if i else line
        for i, line in enumerate(slip)
    ]
    files[0].write_text("\n".join(slip) + "\n", encoding="utf-8")
    return files


@pytest.fixture
def served(portal_root):
    """The validator process of a portal's warehouse (a snapshot published), announced in the
    environment as `tonghop serve --workers 2` announces it to its web processes."""
    settings = make_settings(portal_root)
    reader = WarehouseReader(settings.warehouse)
    reader.refresh(force=True)
    service = Service(settings).start()
    shared = SharedChecker.from_env()
    assert shared is not None
    wait_for(lambda: shared.stats() is not None, timeout=120)
    wh = SnapshotWarehouse(reader, *_catalog_units())
    try:
        yield service, shared, wh
    finally:
        service.stop()
        reader.stop()
    assert ENV not in os.environ


def _catalog_units():
    from validations.catalog import load_catalog
    from validations.units import load_units

    return load_catalog(), load_units()


def test_uploads_of_many_threads_are_judged_together_as_each_alone(served, tmp_path):
    service, shared, wh = served
    files = _uploads(tmp_path)
    web = Checker()
    web.shared = shared
    web.warm()
    with ThreadPoolExecutor(len(files)) as pool:
        got = list(pool.map(lambda f: web.judge([f], "105", wh)[str(f)], files))
    stats = shared.stats()
    assert stats is not None and stats["files"] >= len(files)
    assert stats["batches"] < len(files)  # batched there, not one validation per upload
    assert web.files == 0  # nothing was judged in this process
    alone = Checker()
    for f, verdict in zip(files, got, strict=True):
        local = alone.judge([f], "105", wh)[str(f)]
        assert verdict.record() == local.record(), f.name
        assert verdict.warehouse_checked and verdict.outcome is not None
    assert got[0].status == "rejected"  # the slipped figure
    web.close()
    alone.close()


def test_a_web_process_judges_alone_while_the_validator_process_cannot_be_reached(
    portal_root, tmp_path
):
    settings = make_settings(portal_root)
    reader = WarehouseReader(settings.warehouse)
    reader.refresh(force=True)
    wh = SnapshotWarehouse(reader, *_catalog_units())
    nobody = SharedChecker(str(tmp_path / "nobody.sock"), b"k" * 32, settings.warehouse)
    assert nobody.serves(wh)
    (f,) = _uploads(tmp_path)[1:2]
    assert nobody.judge([f], "105") is None
    web = Checker()
    web.shared = nobody
    verdict = web.judge([f], "105", wh)[str(f)]
    assert verdict.status == "accepted" and web.files == 1  # judged here
    # announcements: sent by a thread of their own (the event loop never waits for them);
    # once one could not be sent, the next ones are made to this process's checker
    nobody.announce("a")
    wait_for(lambda: not nobody.announce("b"), timeout=10)
    with web.arriving():
        assert len(web._announced) == 1
    assert web._announced == {}
    web.close()
    reader.stop()


def test_the_validator_process_is_started_again_when_it_dies(served, tmp_path):
    service, shared, wh = served
    service._proc.kill()
    wait_for(lambda: service.restarts == 1, timeout=30)
    wait_for(lambda: shared.stats() is not None, timeout=120)
    (f,) = _uploads(tmp_path)[1:2]
    assert shared.judge([f], "105")[str(f)].status == "accepted"


def test_the_web_forms_checks_are_validated_there_as_here(served):
    """A field check (Checker.validate) goes to the validator process too: the same results."""
    from validations.readers import read_submission

    service, shared, wh = served
    raws = [
        read_submission(f) for f in sorted((SAMPLES / "valid" / "2024-06" / "105").glob("*.csv"))
    ][:3]
    before = shared.stats()
    web = Checker()
    web.shared = shared
    got = web.validate(raws)
    assert shared.stats()["files"] == before["files"] + len(raws)
    alone = Checker().validate_here(raws)
    assert [r.to_dict() for r in got] == [r.to_dict() for r in alone]


def test_the_worker_process_validates_at_its_own_priority(monkeypatch, portal_root):
    """The background worker's ingests never go to the validator process."""
    from tonghop.portal import worker

    monkeypatch.setenv(ENV, '{"address": "x", "key": "00", "warehouse": "w"}')
    seen = {}
    monkeypatch.setattr(worker, "_lower_priority", lambda: None)
    monkeypatch.setattr(worker, "run", lambda s, parent=None: seen.update(env=os.environ.get(ENV)))
    worker._main(make_settings(portal_root))
    assert seen == {"env": None}


def test_an_upload_announced_to_the_validator_process_is_batched_there(served, tmp_path):
    """A request's announcement (Checker.arriving) reaches the validator process: an upload
    judged meanwhile waits there for the announced one, and both are one batch."""
    from portal_fixtures import judge_with_a_late_announcement

    service, shared, wh = served
    files = _uploads(tmp_path)[1:3]
    web = Checker()
    web.shared = shared
    before = shared.stats()
    judge_with_a_late_announcement(web, files, "105", wh)
    after = shared.stats()
    assert before is not None and after is not None
    assert after["batches"] - before["batches"] == 1 and after["files"] - before["files"] == 2
    assert web.files == 0 and web._announced == {}
    web.close()
