"""The warm validator: one Validator kept in memory, fed by concurrent uploads in batches.

Building a Validator (catalog, reference units, compiled pandera schemas) costs about a second,
and validating costs about 50 ms whether the batch holds one file or twenty: the schemas run
once per batch. So the portal keeps one Validator in a thread of its own, and every upload that
arrives while it is busy waits for the next batch; a batch also waits a few milliseconds for
what arrives just after its first file, for the uploads still being read, and for those
announced when their request began (`arriving`, `_wait`), so that twenty uploads sent at one
moment are one batch instead of a small one and a large one.
The web form's field checks are batched the same way, with the uploads. An upload's verdict
is the whole dry run (service.check.judge: the sender's authority, outliers and last year's
figures against the warehouse's snapshot, the version it would get), run in the same thread
for every upload waiting: one validation and one set of warehouse queries for twenty files.
The results are the same Verdicts and Issues that `tonghop validate --warehouse` prints (a
batch of one is the CLI's case).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.check import Verdict, judge
from validations.catalog import load_catalog
from validations.intake import BatchOutcome, ReadBatch, read_paths, validate_paths
from validations.readers import RawSubmission, read_submission
from validations.result import ValidationResult
from validations.units import load_units
from validations.validator import Validator, default_today
from warehouse.access import WarehouseFile
from warehouse.arrival import listed_hashes
from warehouse.ingest_settings import IngestSettings
from warehouse.reading import ReadOutcome, check_read

if TYPE_CHECKING:
    from tonghop.portal.shared_checker import SharedChecker

MAX_BATCH = 200
GATHER_GAP = 0.012  # how long the checker waits after an upload's arrival for the next one ...
GATHER_GAP_CHECK = 0.004  # ... after a field check's (small, and typed one at a time)
GATHER_GAP_BURST = 0.025  # ... after an upload once a burst has begun (BURST waiting)
BURST = 3
GATHER_MAX = 0.08  # the longest the first arrival of a batch waits for the others ...
GATHER_READING = 0.25  # ... or for the callers still reading their files (workbooks), or
# for the uploads announced (`arriving`) and not judged yet, each for this long at the most
_TOKENS = itertools.count(1)


@dataclass
class Arrival:
    """An upload whose request has begun (Checker.arriving): announced to the batch forming
    before its body is parsed and its file read, and taken by the request's first judge."""

    token: str
    shared: bool  # announced to the validator process (else to this process's checker)
    taken: bool = False


_ARRIVAL: ContextVar[Arrival | None] = ContextVar("tonghop_arrival", default=None)


def _take_arrival(shared: bool) -> str | None:
    """The token of the current request's announced upload, if announced where the judging
    happens (`shared`: the validator process) and not taken yet; taken now."""
    arrival = _ARRIVAL.get()
    if arrival is None or arrival.taken or arrival.shared != shared:
        return None
    arrival.taken = True
    return arrival.token


class Checker:
    """A Validator in its own thread; `check` and `outcome` are safe from any thread."""

    def __init__(self, catalog: str | None = None):
        self.catalog_path = catalog
        self.catalog = load_catalog(catalog)
        self.units = load_units()
        self._validator: Validator | None = None
        self._queue: queue.Queue[tuple[list[RawSubmission], Future] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many validator batches ran (the tests and the bench look)
        self.files = 0  # how many files they held
        self._coming = 0  # callers reading their files, about to queue them
        self.shared: SharedChecker | None = None  # the web processes' validator process
        self._gap_until = 0.0  # the monotonic time until which the batch forming waits
        self._burst_until = 0.0  # ... when BURST uploads or more are waiting
        self._announced: dict[str, float] = {}  # token -> when its upload was announced
        self._ended: dict[str, float] = {}  # ... judged or withdrawn before it was announced

    # --- the public side -------------------------------------------------------------------------
    def warm(self) -> None:
        """Build the validator now instead of at the first upload."""
        self._start()
        self.validate([])

    def check(self, path: str | Path) -> ValidationResult:
        """Read and validate one file; raises validations.readers.ReadError when unreadable."""
        return self.validate([read_submission(path)])[0]

    def validate(self, raws: list[RawSubmission]) -> list[ValidationResult]:
        """Validate read submissions in the validator's thread, batched with whatever else waits
        (with a `shared` checker, in the web processes' validator process)."""
        shared = self.shared
        if shared is not None and raws:
            found = shared.validate(raws)
            if found is not None:
                return found  # else that process is gone: validated here
        return self.validate_here(raws)

    def validate_here(self, raws: list[RawSubmission]) -> list[ValidationResult]:
        """`validate` in this process's validator thread."""
        self._start()
        fut: Future[list[ValidationResult]] = Future()
        self._put((raws, fut), GATHER_GAP_CHECK)
        return fut.result()

    def judge(
        self, paths: list[str | Path], sender: str | None, wh: WarehouseFile | None
    ) -> dict[str, Verdict]:
        """The dry run of files (service.check) in the validator's thread, batched with the
        other uploads waiting: the files are read here, in the request's thread. With a
        `shared` checker (tonghop.portal.shared_checker: the web processes' one validator
        process) judging `wh`'s file, there, batched with every web process's uploads."""
        shared = self.shared
        if shared is not None and wh is not None and shared.serves(wh):
            found = shared.judge(paths, sender, _take_arrival(shared=True))
            if found is not None:
                return found  # else that process is gone: judged here
        token = _take_arrival(shared=False)
        self.coming(1)  # the batch forming waits for these files
        try:
            read = read_paths(list(paths))
        finally:
            self.coming(-1)
        return self.judge_read(read, sender, wh, token)

    def judge_read(
        self,
        read: ReadBatch,
        sender: str | None,
        wh: WarehouseFile | None,
        token: str | None = None,
    ) -> dict[str, Verdict]:
        """`judge` of files already read (`token`: the upload's announcement, `arriving`)."""
        self._start()
        fut: Future[dict[str, Verdict]] = Future()
        self._put((_Judge(read, sender, wh), fut), GATHER_GAP, token)
        return fut.result()

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a request that uploads a file, from its start (before its body is parsed):
        the batch forming knows it is coming and waits for it (up to GATHER_READING) instead of
        guessing from the gaps between arrivals, so that twenty uploads sent at one moment are
        one batch, started as soon as the last of them is read. Announced to the validator
        process when there is one; withdrawn at the end when the request judged nothing."""
        token = f"{os.getpid()}-{next(_TOKENS)}"
        shared = self.shared
        to_shared = shared is not None and shared.announce(token)
        if not to_shared:
            self.announce(token)
        arrival = Arrival(token, to_shared)
        reset = _ARRIVAL.set(arrival)
        try:
            yield
        finally:
            _ARRIVAL.reset(reset)
            if not arrival.taken:
                if to_shared and shared is not None:
                    shared.withdraw(token)
                else:
                    self.withdraw(token)

    def announce(self, token: str) -> None:
        """An upload is on its way (`arriving`): the batch forming waits for it. (The validator
        process may read an announcement after the upload's judging, which comes by another
        connection: then it is already over.)"""
        with self._lock:
            now = time.monotonic()
            if self._ended.pop(token, None) is not None:
                return
            self._announced[token] = now
            self._gap_until = max(self._gap_until, now + GATHER_GAP)
            self._burst_until = max(self._burst_until, now + GATHER_GAP_BURST)

    def withdraw(self, token: str) -> None:
        """The announced upload will not be judged (or already is)."""
        with self._lock:
            self._end(token)

    def _end(self, token: str) -> None:
        """The announcement `token` is over (holding the lock)."""
        if self._announced.pop(token, None) is None:
            now = time.monotonic()
            if len(self._ended) > 1000:
                self._ended = {k: t for k, t in self._ended.items() if t > now - 60}
            self._ended[token] = now

    def coming(self, n: int) -> None:
        """`n` more (or, negative, fewer) callers reading files they are about to judge: the
        batch forming waits for them (up to GATHER_READING)."""
        with self._lock:
            self._coming += n

    def outcome(self, paths: list[str | Path]) -> BatchOutcome:
        """validations.intake.validate_paths through the warm validator."""
        return validate_paths(paths, self)  # type: ignore[arg-type]

    def reading(self, wh: WarehouseFile) -> WarmReading:
        """The ingest's reading runner (service.ingest) on this validator, judging outliers
        against `wh` (the portal's snapshot)."""
        return WarmReading(self, wh)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    # --- the validator's thread ------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="checker", daemon=True)
                self._thread.start()

    def _current(self) -> Validator:
        today = default_today()
        if self._validator is None or self._validator.today != today:  # a new day: new "today"
            self._validator = Validator(catalog=self.catalog, today=today)
        return self._validator

    def _put(self, item: Any, gap: float, token: str | None = None) -> None:
        """Queue `item`; an announced upload (`token`) ends its announcement, and its gap
        counts from when it was announced rather than from now."""
        with self._lock:
            if token is None or token not in self._announced:
                now = time.monotonic()
                self._gap_until = now + gap
                self._burst_until = now + GATHER_GAP_BURST if gap == GATHER_GAP else 0.0
            self._queue.put(item)
            if token is not None:
                self._end(token)

    def _wait(self, start: float, waiting: int = 1) -> float:
        """How long the batch forming since `start` waits for another arrival: while a caller
        reads its files or an announced upload (`arriving`) is not judged yet (up to
        GATHER_READING after `start`), else until the gap after the last
        arrival (GATHER_GAP after an upload, GATHER_GAP_CHECK after a field check; once BURST
        uploads or more are `waiting`, GATHER_GAP_BURST: the last of twenty uploads sent at
        one moment would otherwise wait for a whole batch of its own), never past GATHER_MAX
        after `start` (a burst of uploads arrives over some tens of milliseconds; alone, an
        upload waits GATHER_GAP)."""
        now = time.monotonic()
        with self._lock:
            coming, until = self._coming, self._gap_until
            if waiting >= BURST:
                until = max(until, self._burst_until)
            if self._announced:  # announcements older than GATHER_READING wait no more
                old = now - GATHER_READING
                self._announced = {k: t for k, t in self._announced.items() if t > old}
                coming += len(self._announced)
        if coming and now < start + GATHER_READING:
            return min(start + GATHER_READING - now, 0.004)
        left = start + GATHER_MAX - now
        if left <= 0:
            return 0.0
        return max(0.0, min(left, until - now))

    def _gather(self, first: Any) -> list[Any]:
        """The batch that `first` starts: what is queued, and what arrives while `_wait` says
        to wait (a burst of uploads or field checks: one validation instead of several)."""
        work = [first]
        start = time.monotonic()
        while len(work) < MAX_BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                wait = self._wait(start, len(work))
                if wait <= 0:
                    break
                try:
                    more = self._queue.get(timeout=wait)
                except queue.Empty:
                    continue  # look again: a reader may still be on its way
            if more is None:
                self._queue.put(None)
                break
            work.append(more)
        return work

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            work = self._gather(first)
            self._validate_all([w for w in work if not isinstance(w[0], _Judge)])  # type: ignore[misc]
            judged = [w for w in work if isinstance(w[0], _Judge)]
            by_wh: dict[int, list[tuple[_Judge, Future]]] = {}
            for job, fut in judged:  # type: ignore[assignment]
                by_wh.setdefault(id(job.wh), []).append((job, fut))
            for jobs in by_wh.values():
                self._judge_all(jobs)

    def _validate_all(self, work: list[tuple[list[RawSubmission], Future]]) -> None:
        """One validation of every waiting batch of read submissions."""
        if not work:
            return
        raws = [r for raws, _ in work for r in raws]
        try:
            results = self._current().validate(raws) if raws else []
            self.batches += 1
            self.files += len(raws)
        except BaseException as exc:  # never leave a request waiting
            for _, fut in work:
                fut.set_exception(exc)
            return
        k = 0
        for raws_i, fut in work:
            fut.set_result(results[k : k + len(raws_i)])
            k += len(raws_i)

    def _judge_all(self, jobs: list[tuple[_Judge, Future]]) -> None:
        """One dry run (service.check.judge) of every waiting upload against one warehouse:
        one validation, one set of outlier and last-year queries for all of them."""
        read = ReadBatch()
        senders: dict[str, str] = {}
        for job, _ in jobs:
            read = read + job.read
            if job.sender is not None:
                senders |= {p: job.sender for p in job.paths}
        try:
            verdicts = judge(
                read,
                self._current(),
                self.catalog,
                self.units,
                jobs[0][0].wh,
                senders if senders else None,
            )
            self.batches += 1
            self.files += len(read.raws)
        except BaseException as exc:  # never leave a request waiting
            for _, fut in jobs:
                fut.set_exception(exc)
            return
        for job, fut in jobs:
            fut.set_result({p: verdicts[p] for p in job.paths})


@dataclass
class _Judge:
    """An upload's dry run, waiting for the checker's thread."""

    read: ReadBatch
    sender: str | None
    wh: WarehouseFile | None

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.read.raws] + [u.path for u in self.read.unreadable]


class WarmReading:
    """Reads an ingest run's files with the warm validator, in this process: the files hashed
    as listed, validated in the validator's thread (batched with concurrent uploads), then
    warehouse.reading.check_read (changed files, senders, outliers against `wh`)."""

    reporters = None  # the reports are written in this process

    def __init__(self, checker: Checker, wh: WarehouseFile) -> None:
        self.checker = checker
        self.wh = wh

    def read(self, files: list[str], settings: IngestSettings, log: Any = None) -> ReadOutcome:
        listed = listed_hashes(files)
        return check_read(self.checker.outcome(list(files)), listed, settings, log, wh=self.wh)

    def close(self) -> None:
        pass
