"""How an operation reaches the warehouse file: reads, the single writer, and lock retries.

DuckDB allows one writing process per file, and a writer keeps every read-only open of other
processes out. Every operation therefore goes through a `WarehouseFile`:
- `reading()`: a read-only connection (the CLI, the flows' outlier check, worker processes);
  the portal's subclass reads its newest snapshot instead (tonghop.portal.reader);
- `writing()`: the single writer: the file opened for writing, migrated, its reference
  dimensions loaded when they differ; `committed(con)` runs right after the work, still holding
  the file (the portal publishes a snapshot there, so what a user did shows at once);
- `write(work)`: `work(con)` inside `writing()`, tried again while another process holds the
  file (`retry_delays`; none for a Prefect task, whose own retries do it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from validations.catalog import Catalog
from validations.units import ReferenceUnits
from warehouse.db import WarehouseError, WarehouseLockedError, connect, open_warehouse

LOG = logging.getLogger("tonghop.warehouse")
LOCK_RETRIES = (2.0, 5.0, 15.0)  # seconds, as the flows' writing tasks retry
T = TypeVar("T")


class NoWarehouseError(WarehouseError):
    """There is no warehouse file yet."""


class WarehouseFile:
    """One warehouse file, reached the way every operation reaches it."""

    def __init__(
        self,
        path: str | Path,
        catalog: Catalog | None = None,
        units: ReferenceUnits | None = None,
        retry_delays: Sequence[float] = (),
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.catalog = catalog
        self.units = units
        self.retry_delays = tuple(retry_delays)
        self.threads = threads

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (NoWarehouseError without a file; WarehouseLockedError while
        another process writes it)."""
        if not self.exists():
            raise NoWarehouseError("warehouse.missing", path=str(self.path))
        con = connect(self.path, read_only=True, threads=self.threads)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer's connection; `committed(con)` after the caller's work."""
        con = open_warehouse(self.path, self.catalog, self.units)
        try:
            yield con
            self.committed(con)
        finally:
            con.close()
        self.closed()

    def committed(self, con: duckdb.DuckDBPyConnection) -> None:
        """Right after a write, still holding the file (the portal publishes a snapshot)."""

    def closed(self) -> None:
        """After a write released the file (the portal adopts its new snapshot)."""

    def write(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        what: str = "write",
        create: bool = True,
    ) -> T:
        """`work(con)` as the single writer, tried again while another process holds the file.
        `create`: a missing file is created (an ingest); else NoWarehouseError (approving or
        consolidating what was never ingested)."""
        if not create and not self.path.is_file():
            raise NoWarehouseError("warehouse.missing", path=str(self.path))
        for delay in (*self.retry_delays, None):
            try:
                with self.writing() as con:
                    return work(con)
            except WarehouseLockedError as exc:
                if delay is None:
                    raise
                LOG.warning("%s: %s Retrying in %.0f s.", what, exc, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")
