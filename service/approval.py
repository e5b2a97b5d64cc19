"""Approval: approve, accept and unapprove a consolidated period, always with the refresh.

The rules are warehouse.approval's (bottom-up, as DHIS2 does it). What this adds is that no
caller can forget a step: unapproving releases the held versions and re-consolidates, in the
same transaction, whatever their release made stale, so every rollup above shows them at once
(the CLI, the portal and the API all call these).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validations.catalog import Catalog
from validations.units import ReferenceUnits
from warehouse import approval
from warehouse.access import WarehouseFile
from warehouse.rollup import refresh

ACTIONS = ("approve", "accept", "unapprove")


@dataclass
class Approval:
    """What an approval step did."""

    action: str
    unit_code: str
    period: str
    actor: str
    released: list[str] = field(default_factory=list)  # held versions made current


def approve(
    wh: WarehouseFile, unit_code: str, period: str, actor: str, catalog: Catalog
) -> Approval:
    """Approve a district's (or province's) consolidated period: it and the units below it
    are locked (ApprovalError, naming what is still open, when it cannot be)."""
    wh.write(
        lambda con: approval.approve(con, unit_code, period, actor, close_day=catalog.close_day),
        "approve",
        create=False,
    )
    return Approval("approve", unit_code, period, actor.strip())


def accept(wh: WarehouseFile, unit_code: str, period: str, actor: str) -> Approval:
    """The level above accepts an approved unit's period."""
    wh.write(lambda con: approval.accept(con, unit_code, period, actor), "accept", create=False)
    return Approval("accept", unit_code, period, actor.strip())


def unapprove(
    wh: WarehouseFile,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Approval:
    """Unlock a period: the held versions no other approval locks become current, and the
    rollups their release made stale are re-consolidated in the same transaction."""
    who = actor.strip()

    def work(con):  # type: ignore[no-untyped-def]
        return approval.unapprove(
            con,
            unit_code,
            period,
            actor,
            close_day=catalog.close_day,
            after=lambda c, changed: refresh(c, changed, catalog, units, actor=who),
        )

    released = wh.write(work, "unapprove", create=False)
    return Approval("unapprove", unit_code, period, who, released)


def act(
    wh: WarehouseFile,
    action: str,
    unit_code: str,
    period: str,
    actor: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Approval:
    """One of ACTIONS by name (the CLI's three commands and the portal's buttons)."""
    if action == "approve":
        return approve(wh, unit_code, period, actor, catalog)
    if action == "accept":
        return accept(wh, unit_code, period, actor)
    if action == "unapprove":
        return unapprove(wh, unit_code, period, actor, catalog, units)
    raise ValueError(f"unknown approval action {action!r}")
