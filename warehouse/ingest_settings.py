"""Where an ingest run reads and writes, and how it validates (no Prefect, no DuckDB)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.db import warehouse_path


@dataclass
class IngestSettings:
    """Where an ingest run reads and writes, and how it validates."""

    warehouse: Path
    staging: Path
    outbox: Path
    archive: Path | None = None
    inbox_root: Path | None = None
    catalog: str | None = None
    actor: str = "ingest"
    batch_size: int = 1000
    workers: int | None = None  # validation processes (None: one per core; 1: this process)
    received_at: datetime | Mapping[str, datetime] | None = None
    outliers: bool = True
    today: str | None = None  # YYYY-MM-DD for the future-period check (default $TONGHOP_TODAY)

    @classmethod
    def resolve(
        cls,
        warehouse: str | Path | None = None,
        staging: str | Path | None = None,
        outbox: str | Path | None = None,
        **kw: Any,
    ) -> IngestSettings:
        """Defaults: $TONGHOP_WAREHOUSE else ./data/tonghop.duckdb; $TONGHOP_STAGING else
        <warehouse folder>/staging; $TONGHOP_OUTBOX else ./outbox."""
        wh = warehouse_path(warehouse)
        for key in ("archive", "inbox_root"):
            if kw.get(key) is not None:
                kw[key] = Path(kw[key])
        if kw.get("catalog") is not None:  # a file; None: $TONGHOP_CATALOG, else the default
            kw["catalog"] = str(kw["catalog"])
        return cls(warehouse=wh, staging=staging_dir(staging, wh), outbox=outbox_dir(outbox), **kw)


def staging_dir(staging: str | Path | None, warehouse: Path) -> Path:
    return Path(staging or os.environ.get("TONGHOP_STAGING") or warehouse.parent / "staging")


def outbox_dir(outbox: str | Path | None) -> Path:
    return Path(outbox or os.environ.get("TONGHOP_OUTBOX") or "outbox")
