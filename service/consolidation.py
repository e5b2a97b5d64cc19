"""Consolidate: completeness, cross-level checks and rollups of a district or province, then
the quality checkpoint (Great Expectations) over what was written.

`consolidate` is the steward's consolidation of one unit (the CLI's `consolidate`, the
portal's *Tổng hợp*, the `consolidate-period` flow) and the ministry's month (many provinces in
one transaction per period: the `consolidate-units` flow). It is two steps per period,
consolidation then checkpoint, run through a `service.steps.Steps` runner (the flows: Prefect
tasks). An approved or accepted period is not consolidated again: its figures are locked until
it is unapproved (the steward's request is refused with who approved it, and when; the
ministry's month leaves such a unit as it is).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from service.steps import Step, Steps
from validations.catalog import Catalog
from validations.errors import RefusedError
from validations.messages import msg
from validations.period import latest_closed_month, parse_period
from validations.units import ReferenceUnits, structure_on
from warehouse.access import WarehouseFile
from warehouse.quality import data_docs_dir, run_checkpoint
from warehouse.rollup import ConsolidationResult, consolidate_many
from warehouse.store import ANCESTORS_SQL, containing_sql

CONSOLIDATE = Step("consolidate-unit", on_lock=True)
CONSOLIDATE_MANY = Step("consolidate-units", on_lock=True)
QUALITY = Step("quality-checkpoint", on_lock=True)
STEPS = (CONSOLIDATE, CONSOLIDATE_MANY, QUALITY)


class LockedPeriodError(RefusedError):
    """The period is approved (locked): consolidating it again is refused."""

    code = "approval"


def summarise(res: ConsolidationResult) -> dict[str, Any]:
    """A consolidation's result as the CLI prints it and `--json` shows it."""
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
        "months": c.months,
        "partial": dict(c.partial),  # unit -> months sent (some only: summed as sent)
        "months_expected": c.leaves_months_expected,
        "months_received": c.leaves_months_received,
        "submissions": len(res.lineage),
        "kept": res.kept,  # approved: left as approved (a difference is noted, not written)
        "indicators": len(res.rows),
        "issues": [i.to_dict() for i in res.issues],
        "children": [summarise(ch) for ch in res.children],
    }


def locks(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, catalog: Catalog
) -> list[tuple[str, str, str, str, Any]]:
    """The approvals that lock the unit's period: (unit, period, state, actor, at) of the unit
    or a unit above it, for the period or a period containing it."""
    p = parse_period(period)
    return [
        tuple(r)  # type: ignore[misc]
        for r in con.execute(
            f"""
            SELECT a.unit_code, a.period, a.state, a.actor, a."at" FROM fct_approval a
            JOIN ({ANCESTORS_SQL}) u ON u.ancestor = a.unit_code
            WHERE u.unit_code = $u AND u.structure = $st
              AND list_contains({containing_sql("$p")}, a.period)
            ORDER BY a."at"
            """,
            {"u": unit_code, "st": structure_on(p.end(catalog.close_day)), "p": p.code},
        ).fetchall()
    ]


def _locked(
    unit_code: str, period: str, found: list[tuple[str, str, str, str, Any]]
) -> LockedPeriodError:
    """The refusal naming the first approval that locks the unit's period, and what to undo
    first (an accepted period: the level above un-accepts it, then it is unapproved)."""
    unit, per, state, actor, at = found[0]
    return LockedPeriodError(
        "approval.locked_accepted" if state == "accepted" else "approval.locked",
        unit=unit_code,
        period=period,
        state=msg("approval.state.accepted" if state == "accepted" else "approval.state.approved"),
        above_unit=unit,
        above_period=per,
        actor=actor,
        at=at,
    )


def _refuse_locked(
    unit_code: str, period: str, found: list[tuple[str, str, str, str, Any]]
) -> None:
    """LockedPeriodError naming the first approval that locks the unit's period."""
    if found:
        raise _locked(unit_code, period, found)


def refusal(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, catalog: Catalog
) -> LockedPeriodError | None:
    """Why consolidating the unit's period would be refused now (None: it would run): the
    approval that locks it, who gave it and when (the portal asks before it starts a job)."""
    found = locks(con, unit_code, period, catalog)
    return _locked(unit_code, period, found) if found else None


def consolidate_once(
    wh: WarehouseFile,
    period: str,
    unit_codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    actor: str = "consolidate",
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    locked: str = "refuse",
) -> list[dict[str, Any]]:
    """The single writer: every unit of `unit_codes` (districts first) in ONE transaction,
    one summary each. A unit whose period is approved (locked) is refused
    (`locked="refuse"`: LockedPeriodError, what the steward asked cannot be done) or left as
    it is (`"skip"`: the ministry's month goes on; its summary says `skipped`)."""

    def work(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
        held = {c: locks(con, c, period, catalog) for c in unit_codes}
        if locked == "refuse":
            for c in unit_codes:
                _refuse_locked(c, period, held[c])
        todo = [c for c in unit_codes if not held[c]]
        results = (
            consolidate_many(
                con, period, todo, catalog, units, actor=actor, abs_tol=abs_tol, rel_tol=rel_tol
            )
            if todo
            else []
        )
        out = [summarise(r) for r in results]
        out += [
            {"unit_code": c, "period": period, "skipped": "approved", "issues": [], "children": []}
            for c in unit_codes
            if held[c]
        ]
        return out

    return wh.write(work, "consolidate", create=False)


def check_quality(
    wh: WarehouseFile,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    docs_dir: str | Path,
) -> dict[str, Any]:
    """The Great Expectations checkpoint over the consolidated period: Data Docs into
    docs_dir, failures stored as gx_ issues of the tree."""
    return wh.write(
        lambda con: run_checkpoint(con, period, unit_code, catalog, docs_dir, units).summary(),
        "quality-checkpoint",
        create=False,
    )


def resolve_periods(periods: list[str], catalog: Catalog, today: date) -> list[str]:
    """'latest' stands for the most recently closed month (for scheduled runs)."""
    return [
        latest_closed_month(today, catalog.close_day).code if p == "latest" else p for p in periods
    ]


def resolve_units(
    unit_codes: list[str], period: str, catalog: Catalog, units: ReferenceUnits
) -> list[str]:
    """The unit codes to consolidate: `"*"` stands for every province of the period's structure
    (63 before 2025-07, 34 from then), the others are kept as given, in order."""
    codes: list[str] = []
    for code in unit_codes:
        if str(code).strip() == "*":
            on = parse_period(period).end(catalog.close_day)
            codes += sorted(u.code for u in units.in_force(on) if u.level == "P")
        else:
            codes.append(str(code).strip())
    return list(dict.fromkeys(codes))


def consolidate(
    wh: WarehouseFile,
    periods: list[str],
    unit_codes: list[str],
    catalog: Catalog,
    units: ReferenceUnits,
    today: date,
    actor: str = "consolidate",
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    quality: bool = True,
    docs_dir: str | Path | None = None,
    runner: Steps | None = None,
    locked: str = "refuse",
) -> list[dict[str, Any]]:
    """Consolidate districts or provinces for one or more periods ('latest': the most recently
    closed month; `"*"` among the units: every province of the period's structure), each
    period in one transaction, districts first; then (quality) each unit's checkpoint. One
    summary per unit and period, with its `quality`. Tolerances are the catalog's, per
    indicator; abs_tol / rel_tol, when given, replace them for this run."""
    runner = runner or Steps()
    docs = str(data_docs_dir(docs_dir, wh.path))
    out: list[dict[str, Any]] = []
    for period in resolve_periods(periods, catalog, today):
        codes = resolve_units(unit_codes, period, catalog, units)
        step = CONSOLIDATE if len(codes) == 1 else CONSOLIDATE_MANY
        summaries = runner.run(
            step,
            consolidate_once,
            wh,
            period,
            codes,
            catalog,
            units,
            actor,
            abs_tol,
            rel_tol,
            locked,
        )
        for s in summaries:
            s["quality"] = (
                runner.run(QUALITY, check_quality, wh, period, s["unit_code"], catalog, units, docs)
                if quality and not s.get("skipped")
                else None
            )
        out += summaries
    return out
