"""Where things live: the warehouse file, staging batches, the submitters' outbox."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.db import warehouse_path
from warehouse.quality import data_docs_dir


def resolve_warehouse(path: str | None) -> Path:
    return warehouse_path(path)


def resolve_staging(staging: str | None, warehouse: Path) -> Path:
    return Path(staging or os.environ.get("TONGHOP_STAGING") or warehouse.parent / "staging")


def resolve_outbox(outbox: str | None) -> Path:
    return Path(outbox or os.environ.get("TONGHOP_OUTBOX") or "outbox")


def resolve_data_docs(docs_dir: str | None, warehouse: Path) -> Path:
    """Data Docs: the argument, else $TONGHOP_DATA_DOCS, else <warehouse folder>/data_docs."""
    return data_docs_dir(docs_dir, warehouse)
