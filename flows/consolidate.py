"""consolidate_period and consolidate_units: service.consolidation, each step a Prefect task.

`consolidate_period` consolidates one district or province (the steward's); `consolidate_units`
many of them (the ministry's month: `unit_codes=["*"]`, every province of the period's
structure) in ONE transaction per period, districts first. The sequences are
service/consolidation.py's (the CLI and the portal run them too); this module adds the tasks,
their retries and the logs in Prefect's UI.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

import flows  # noqa: F401  (Prefect defaults)
from flows.settings import resolve_warehouse
from flows.tasks import TaskSteps
from service import consolidation as service
from validations.catalog import load_catalog
from validations.units import load_units
from validations.validator import default_today
from warehouse.access import WarehouseFile

STEPS = TaskSteps(service.STEPS)
consolidate_unit = STEPS.tasks[service.CONSOLIDATE.name]
consolidate_units_task = STEPS.tasks[service.CONSOLIDATE_MANY.name]
quality_checkpoint = STEPS.tasks[service.QUALITY.name]


def _consolidate(
    periods: list[str],
    unit_codes: list[str],
    warehouse: str | None,
    catalog: str | None,
    **kw: Any,
) -> list[dict[str, Any]]:
    """service.consolidation.consolidate with each step a task. The warehouse file has no
    retries of its own: the tasks retry while another process holds it."""
    wh = WarehouseFile(resolve_warehouse(warehouse), load_catalog(catalog), load_units())
    return service.consolidate(
        wh,
        list(periods),
        list(unit_codes),
        wh.catalog,  # type: ignore[arg-type]
        wh.units,  # type: ignore[arg-type]
        default_today(),
        runner=STEPS,
        **kw,
    )


@flow(name="consolidate-period", version="2")
def consolidate_period(
    periods: list[str],
    unit_code: str,
    warehouse: str | None = None,
    catalog: str | None = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    actor: str = "consolidate",
    docs_dir: str | None = None,
    quality: bool = True,
) -> list[dict[str, Any]]:
    """Consolidate a district or province for one or more periods ("latest": the most recently
    closed month), then (quality=True) run the Great Expectations checkpoint over each
    consolidated period; its Data Docs go to docs_dir (default $TONGHOP_DATA_DOCS, else
    <warehouse folder>/data_docs). Cross-level tolerances are the catalog's, per indicator;
    abs_tol / rel_tol, when given, replace them for this run."""
    log = get_run_logger()
    out = _consolidate(
        periods,
        [unit_code],
        warehouse,
        catalog,
        actor=actor,
        abs_tol=abs_tol,
        rel_tol=rel_tol,
        quality=quality,
        docs_dir=docs_dir,
    )
    for s in out:
        log.info(
            "%s %s: %s/%s children reported, %d issues",
            unit_code,
            s["period"],
            s["received"],
            s["expected"],
            len(s["issues"]),
        )
    return out


@flow(name="consolidate-units", version="2")
def consolidate_units(
    periods: list[str],
    unit_codes: list[str] | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    abs_tol: float = 0.0,
    rel_tol: float = 0.0,
    actor: str = "consolidate",
    docs_dir: str | None = None,
    quality: bool = False,
) -> list[dict[str, Any]]:
    """Consolidate many districts or provinces in one run: for each period ("latest": the most
    recently closed month) one transaction of `unit_codes` (default `["*"]`: every province of
    the period's structure; or a list such as `["01", "12"]`), districts first. quality=True
    also runs the Great Expectations checkpoint of each unit (about 1.3 s each: off by default
    for the whole country). One summary per unit and period (completeness, indicators, issues;
    the children's summaries inside); a unit whose period is approved is `skipped`."""
    log = get_run_logger()
    out = _consolidate(
        periods,
        unit_codes or ["*"],
        warehouse,
        catalog,
        actor=actor,
        abs_tol=abs_tol,
        rel_tol=rel_tol,
        quality=quality,
        docs_dir=docs_dir,
        locked="skip",
    )
    log.info(
        "%d units consolidated in one run per period, %d issues",
        len(out),
        sum(len(s["issues"]) for s in out),
    )
    return out
