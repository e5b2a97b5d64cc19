"""Where things live (warehouse file, staging, outbox, Data Docs), and the lock retry rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.db import WarehouseLockedError, warehouse_path
from warehouse.ingest_settings import outbox_dir, staging_dir
from warehouse.quality import data_docs_dir


def retry_if_locked(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry only when another process holds the warehouse file."""
    try:
        state.result()
    except WarehouseLockedError:
        return True
    except Exception:
        return False
    return False


def resolve_warehouse(path: str | None) -> Path:
    return warehouse_path(path)


def resolve_staging(staging: str | None, warehouse: Path) -> Path:
    return staging_dir(staging, warehouse)


def resolve_outbox(outbox: str | None) -> Path:
    return outbox_dir(outbox)


def resolve_data_docs(docs_dir: str | None, warehouse: Path) -> Path:
    """Data Docs: the argument, else $TONGHOP_DATA_DOCS, else <warehouse folder>/data_docs."""
    return data_docs_dir(docs_dir, warehouse)
