"""consolidate_period and consolidate_units: completeness, cross-level checks and rollups.

`consolidate_period` consolidates one district or province; `consolidate_units` many of them
(the ministry's month: `unit_codes=["*"]`, every province of the period's structure) in ONE
run and ONE `warehouse.rollup.consolidate_many` per period: the warehouse is opened and the
reference units loaded once, districts are consolidated first, level by level.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

import flows  # noqa: F401  (Prefect defaults)
from flows.settings import resolve_data_docs, resolve_warehouse, retry_if_locked
from validations.catalog import load_catalog
from validations.units import load_units
from warehouse.db import open_warehouse
from warehouse.quality import run_checkpoint
from warehouse.rollup import ConsolidationResult, consolidate, consolidate_many


def summarise(res: ConsolidationResult) -> dict[str, Any]:
    c = res.completeness
    return {
        "unit_code": res.unit_code,
        "level": res.level,
        "period": res.period,
        "structure": res.structure,
        "expected": len(c.expected),
        "received": len(c.received),
        "missing": c.missing,
        "late": c.late,
        "via_children": c.via_children,
        "communes_expected": c.leaves_expected,
        "communes_received": c.leaves_received,
        "completeness_pct": c.pct,
        "submissions": len(res.lineage),
        "indicators": len(res.rows),
        "issues": [i.to_dict() for i in res.issues],
        "children": [summarise(ch) for ch in res.children],
    }


@task(
    name="consolidate-unit",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=retry_if_locked,
)
def consolidate_unit(
    period: str,
    unit_code: str,
    warehouse: str,
    catalog: str | None,
    abs_tol: float | None,
    rel_tol: float | None,
    actor: str,
) -> dict[str, Any]:
    """The single writer: consolidate one unit (children first) in one transaction."""
    cat, units = load_catalog(catalog), load_units()
    con = open_warehouse(warehouse, cat, units)
    try:
        res = consolidate(
            con, period, unit_code, cat, units, actor=actor, abs_tol=abs_tol, rel_tol=rel_tol
        )
        return summarise(res)
    finally:
        con.close()


def resolve_units(unit_codes: list[str], period: str, catalog: str | None = None) -> list[str]:
    """The unit codes to consolidate: `"*"` stands for every province of the period's structure
    (63 before 2025-07, 34 from then), the others are kept as given, in order."""
    from validations.period import parse_period

    codes: list[str] = []
    for code in unit_codes:
        if str(code).strip() == "*":
            on = parse_period(period).end(load_catalog(catalog).close_day)
            codes += sorted(u.code for u in load_units().in_force(on) if u.level == "P")
        else:
            codes.append(str(code).strip())
    return list(dict.fromkeys(codes))


@task(
    name="consolidate-units",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=retry_if_locked,
)
def consolidate_units_task(
    period: str,
    unit_codes: list[str],
    warehouse: str,
    catalog: str | None,
    abs_tol: float,
    rel_tol: float,
    actor: str,
) -> list[dict[str, Any]]:
    """The single writer: every unit of `unit_codes` (districts first) in ONE transaction."""
    cat, units = load_catalog(catalog), load_units()
    con = open_warehouse(warehouse, cat, units)
    try:
        results = consolidate_many(
            con, period, unit_codes, cat, units, actor=actor, abs_tol=abs_tol, rel_tol=rel_tol
        )
        return [summarise(r) for r in results]
    finally:
        con.close()


@task(
    name="quality-checkpoint",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=retry_if_locked,
)
def quality_checkpoint(
    period: str, unit_code: str, warehouse: str, catalog: str | None, docs_dir: str
) -> dict[str, Any]:
    """The Great Expectations checkpoint over the consolidated period (warehouse.quality):
    Data Docs into docs_dir, failures stored as gx_ issues of the tree."""
    cat = load_catalog(catalog)
    con = open_warehouse(warehouse)
    try:
        res = run_checkpoint(con, period, unit_code, cat, docs_dir, load_units())
    finally:
        con.close()
    get_run_logger().info(
        "%s %s: quality checkpoint %s (%d expectations failed, %d issues); Data Docs: %s",
        unit_code,
        period,
        "passed" if res.success else "FAILED",
        res.failed_expectations,
        len(res.issues),
        res.docs_index,
    )
    return res.summary()


def resolve_periods(periods: list[str], catalog: str | None = None) -> list[str]:
    """'latest' stands for the most recently closed month (for scheduled runs)."""
    from validations.period import latest_closed_month
    from validations.validator import default_today

    close_day = load_catalog(catalog).close_day
    return [
        latest_closed_month(default_today(), close_day).code if p == "latest" else p
        for p in periods
    ]


@flow(name="consolidate-period", version="1")
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
    """Consolidate a district or province for one or more periods, then (quality=True) run the
    Great Expectations checkpoint over each consolidated period; its Data Docs go to docs_dir
    (default $TONGHOP_DATA_DOCS, else <warehouse folder>/data_docs). Cross-level tolerances are
    the catalog's, per indicator; abs_tol / rel_tol, when given, replace them for this run."""
    log = get_run_logger()
    wh_path = resolve_warehouse(warehouse)
    wh = str(wh_path)
    docs = str(resolve_data_docs(docs_dir, wh_path))
    out = []
    for period in resolve_periods(periods, catalog):
        summary = consolidate_unit(period, unit_code, wh, catalog, abs_tol, rel_tol, actor)
        summary["quality"] = (
            quality_checkpoint(period, unit_code, wh, catalog, docs) if quality else None
        )
        log.info(
            "%s %s: %s/%s children reported, %d issues",
            unit_code,
            period,
            summary["received"],
            summary["expected"],
            len(summary["issues"]),
        )
        out.append(summary)
    return out


@flow(name="consolidate-units", version="1")
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
    recently closed month) one `consolidate_many` of `unit_codes` (default `["*"]`: every
    province of the period's structure; or a list such as `["01", "12"]`), districts first, in
    one transaction. quality=True also runs the Great Expectations checkpoint of each unit
    (about 1.3 s each: off by default for the whole country). One summary per unit and period
    (completeness, indicators, issues; the children's summaries inside)."""
    log = get_run_logger()
    wh_path = resolve_warehouse(warehouse)
    wh = str(wh_path)
    docs = str(resolve_data_docs(docs_dir, wh_path))
    out: list[dict[str, Any]] = []
    for period in resolve_periods(periods, catalog):
        codes = resolve_units(list(unit_codes or ["*"]), period, catalog)
        summaries = consolidate_units_task(period, codes, wh, catalog, abs_tol, rel_tol, actor)
        for summary in summaries:
            summary["quality"] = (
                quality_checkpoint(period, summary["unit_code"], wh, catalog, docs)
                if quality
                else None
            )
        log.info(
            "%s: %d units consolidated in one run, %d issues",
            period,
            len(summaries),
            sum(len(s["issues"]) for s in summaries),
        )
        out += summaries
    return out
