"""The warm validator: concurrent checks are batched and give what `validate` gives alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from conftest import SAMPLES
from tonghop.portal.checker import Checker


def test_concurrent_checks_equal_single_validations(validator):
    files = (
        sorted((SAMPLES / "invalid").glob("*.csv"))[:16]
        + sorted((SAMPLES / "valid" / "2024-06" / "106").glob("*.xlsx"))[:4]
    )
    checker = Checker()
    checker.warm()
    before = checker.batches
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(checker.check, files))
    assert checker.batches - before < len(files)  # batched, not one validation per file
    for f, res in zip(files, got, strict=True):
        alone = validator.validate_file(f)
        assert res.to_dict() == alone.to_dict(), f.name
    checker.close()


def test_concurrent_dry_runs_are_batched_and_equal_the_checks_one_at_a_time(
    tmp_path, catalog, units, validator
):
    """Twenty uploads at once: one warehouse judgement per batch, and each verdict is the one
    service.check gives for the file alone (outliers and the foretold version included)."""
    import shutil

    from portal_fixtures import build_warehouse

    from service.check import check
    from warehouse.access import WarehouseFile

    wh = WarehouseFile(build_warehouse(tmp_path / "wh.duckdb"))
    files = []
    for f in sorted((SAMPLES / "valid" / "2024-06" / "105").glob("*.csv")):
        folder = tmp_path / f.stem  # each upload in a folder of its own, as the portal keeps them
        folder.mkdir()
        files.append(shutil.copy(f, folder / f.name))
    checker = Checker()
    checker.warm()
    before = checker.batches
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(lambda f: checker.judge([f], "105", wh)[str(f)], files))
    assert checker.batches - before < len(files)
    for f, verdict in zip(files, got, strict=True):
        (alone,) = check([f], validator, catalog, units, wh, sender="105")
        assert verdict.record() == alone.record(), f.name
        assert verdict.outcome is not None and verdict.warehouse_checked
    checker.close()


def test_a_burst_of_uploads_is_waited_for_longer_than_one_upload():
    """After an upload's arrival the batch forming waits GATHER_GAP for the next one; once
    BURST uploads wait, GATHER_GAP_BURST (the rest of a burst arrives over tens of ms);
    after a field check, GATHER_GAP_CHECK whatever waits; never past GATHER_MAX."""
    import time

    from tonghop.portal import checker as mod

    c = Checker()
    start = time.monotonic()
    c._put(("x", None), mod.GATHER_GAP)
    assert c._wait(start, 1) <= mod.GATHER_GAP
    assert mod.GATHER_GAP < c._wait(start, mod.BURST) <= mod.GATHER_GAP_BURST
    c._put(("x", None), mod.GATHER_GAP_CHECK)
    assert c._wait(start, mod.BURST) <= mod.GATHER_GAP_CHECK
    assert c._wait(start - mod.GATHER_MAX, mod.BURST) == 0.0


def test_an_announced_upload_is_waited_for_until_it_is_judged_or_withdrawn():
    """An upload announced at the start of its request (Checker.arriving) holds the batch
    forming until it is judged or withdrawn, at most GATHER_READING after its announcement;
    an announcement read after its upload's judging (another connection to the validator
    process) is already over."""
    import time

    from tonghop.portal import checker as mod

    c = Checker()
    start = time.monotonic()
    c.announce("a")
    assert c._wait(start, 1) > 0  # "a" is on its way
    c._put(("x", None), mod.GATHER_GAP, "a")  # judged: the announcement is over
    assert c._announced == {}
    c.announce("b")
    c.withdraw("b")  # its request judged nothing
    assert c._announced == {}
    c._put(("y", None), mod.GATHER_GAP, "c")  # judged before its announcement was read
    c.announce("c")
    assert c._announced == {}
    c.announce("d")  # never taken (its web process died): waited for GATHER_READING at most
    assert c._wait(time.monotonic() - mod.GATHER_READING, 1) == 0.0
    c._announced["d"] = time.monotonic() - mod.GATHER_READING - 0.01
    assert c._wait(time.monotonic() - 0.01, 1) <= mod.GATHER_GAP_BURST
    assert c._announced == {}


def test_a_request_announces_its_upload_and_the_batch_waits_for_it(tmp_path):
    """Two uploads, one announced (`arriving`) well before it is read: one batch, although
    the other arrived long before it (more than GATHER_GAP)."""
    import shutil

    from portal_fixtures import judge_with_a_late_announcement

    files = []
    for f in sorted((SAMPLES / "valid" / "2024-06" / "105").glob("*.csv"))[:2]:
        folder = tmp_path / f.stem
        folder.mkdir()
        files.append(shutil.copy(f, folder / f.name))
    c = Checker()
    c.warm()
    before = c.batches
    judge_with_a_late_announcement(c, files, "105", None)
    assert c.batches - before == 1 and c._announced == {}
    with c.arriving():  # a request that judges nothing withdraws its announcement
        assert len(c._announced) == 1
    assert c._announced == {}
    c.close()
