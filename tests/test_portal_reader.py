"""tonghop.portal.reader: requests read the newest snapshot; each is opened once per process,
ahead of the requests when the reader follows the published ones."""

from __future__ import annotations

import threading

import duckdb
import pytest
from portal_fixtures import wait_for

from tonghop.portal import reader as reader_module
from tonghop.portal.reader import WarehouseReader
from warehouse import snapshot


def _published_by_another_process(live, value: int) -> int:
    """What the background worker's ingest does: write the live file, publish a snapshot."""
    con = duckdb.connect(str(live))
    con.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)")
    con.execute("DELETE FROM t")
    con.execute("INSERT INTO t VALUES (?)", [value])
    con.close()
    return snapshot.refresh(live).generation


def _value(r: WarehouseReader) -> int:
    return r.query("SELECT a FROM t")[0]["a"]


@pytest.fixture
def slow_open(monkeypatch):
    """Opening a snapshot after the first blocks until the test lets it go (a database
    instance starting: 15-25 ms of CPU in DuckDB)."""
    gate = threading.Event()
    opening: list[int] = []

    class Slow(reader_module._Open):
        def __init__(self, snap):
            opening.append(snap.generation)
            if snap.generation > 1:
                gate.wait(30)
            super().__init__(snap)

    monkeypatch.setattr(reader_module, "_Open", Slow)
    return gate, opening


def test_the_first_snapshot_is_opened_by_the_first_request(tmp_path):
    live = tmp_path / "w.duckdb"
    _published_by_another_process(live, 1)
    r = WarehouseReader(live)
    assert _value(r) == 1 and r.generation == 1 and r.opened == 1
    r.stop()


def test_a_burst_of_requests_opens_a_new_snapshot_once(tmp_path, slow_open):
    """Twenty requests that find a newer snapshot wait for one opening of it (each used to
    open its own and close it again)."""
    gate, opening = slow_open
    live = tmp_path / "w.duckdb"
    _published_by_another_process(live, 1)
    r = WarehouseReader(live)
    assert _value(r) == 1
    _published_by_another_process(live, 2)
    seen: list[int] = []
    burst = [threading.Thread(target=lambda: seen.append(_value(r))) for _ in range(20)]
    for th in burst:
        th.start()
    wait_for(lambda: opening == [1, 2], 10, 0.01)
    gate.set()
    for th in burst:
        th.join(10)
    assert seen == [2] * 20  # each read the snapshot published when it began
    assert opening == [1, 2] and r.opened == 2
    r.stop()


def test_a_following_reader_opens_a_published_snapshot_before_any_request(tmp_path):
    live = tmp_path / "w.duckdb"
    _published_by_another_process(live, 1)
    r = WarehouseReader(live)
    r.follow(poll=0.01)
    wait_for(lambda: r._open is not None, 10, 0.01)  # the first one too
    _published_by_another_process(live, 2)
    wait_for(lambda: r._open.snap.generation == 2, 10, 0.01)
    assert r.opened == 2
    assert _value(r) == 2 and r.opened == 2  # the request found it open
    r.stop()


def _following_while_it_opens(live, opening: list[int]) -> WarehouseReader:
    """A following reader of snapshot 1 whose follower is opening snapshot 2 (held by the gate
    of `slow_open`)."""
    _published_by_another_process(live, 1)
    r = WarehouseReader(live)
    assert _value(r) == 1
    r.follow(poll=0.01)
    _published_by_another_process(live, 2)
    wait_for(lambda: opening == [1, 2], 10, 0.01)
    return r


def test_a_request_during_the_followers_opening_waits_for_it(tmp_path, slow_open):
    """Still the newest published snapshot, opened once: the request waits for the rest of
    the follower's opening instead of reading the older one or opening its own."""
    gate, opening = slow_open
    r = _following_while_it_opens(tmp_path / "w.duckdb", opening)
    threading.Timer(0.2, gate.set).start()
    assert _value(r) == 2 and opening == [1, 2] and r.opened == 2
    r.stop()


def test_a_reader_stopped_during_the_followers_opening_leaves_nothing_open(tmp_path, slow_open):
    gate, opening = slow_open
    r = _following_while_it_opens(tmp_path / "w.duckdb", opening)
    stopping = threading.Thread(target=r.stop)
    stopping.start()
    gate.set()
    stopping.join(10)
    assert r._open is None and r._opening == {}


def test_this_processs_own_write_shows_at_once(tmp_path):
    """What a user just did (an approval, the portal's own ingest) is read by the next page:
    the writer publishes, and the next request adopts it."""
    live = tmp_path / "w.duckdb"
    _published_by_another_process(live, 1)
    r = WarehouseReader(live)
    assert _value(r) == 1
    con = duckdb.connect(str(live))
    con.execute("UPDATE t SET a = 3")
    r.publish(con)
    con.close()
    assert _value(r) == 3
    r.stop()
