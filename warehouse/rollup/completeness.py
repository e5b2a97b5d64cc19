"""Completeness: which expected children of a unit reported for a period, and when.

A child is *received* when it has a current accepted version for the period (for a quarter,
half-year or year: that, or all its months), or, for a child with units below it (a district),
when every one of its own children is received: a district whose communes all reported is
complete whether or not it sent a form of its own. A child is late when its first accepted
version arrived after the deadline (closing date + catalog.deadline_days[child level]); a
district credited through its communes is late when the last of them arrived after the
district's deadline. A province also states its communes: "8/8 huyện đủ số liệu xã; 106/106 xã".

A quarter, half-year or year also counts months (DHIS2's reporting rate): the communes'
monthly reports expected and received, and the units that sent only some of the months (their
figures are the months they sent, catalog `calendar: partial_months: sum_reported`), with how
many each sent: "634/636 báo cáo tháng; Xã Thèn Sin 5/6 tháng".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from validations.catalog import Catalog, Formula
from validations.period import Period
from validations.units import ReferenceUnits
from warehouse.rollup.scope import Scope, scope_of
from warehouse.rollup.values import arrivals


@dataclass(frozen=True)
class Completeness:
    """Which expected children of a unit reported for a period, and when.

    `via_children`: children received because all their own children were (no form of their
    own); `children_complete`: children whose own children all reported; `leaves_expected` /
    `leaves_received`: the communes under the unit (its children in a district or a two-level
    province, its grandchildren in a three-level province)."""

    unit_code: str
    level: str
    period: str
    structure: str
    child_level: str | None
    deadline: date | None
    expected: list[str]
    received: list[str]
    on_time: list[str]
    late: list[str]
    via_children: list[str] = field(default_factory=list)
    children_complete: list[str] = field(default_factory=list)
    leaves_expected: int = 0
    leaves_received: int = 0
    leaves_missing: list[str] = field(default_factory=list)
    months: int = 1  # months in the period (1 for a month)
    leaves_months_expected: int = 0  # the communes' monthly reports expected ...
    leaves_months_received: int = 0  # ... and received
    partial: dict[str, int] = field(default_factory=dict)  # unit -> months sent, some only

    @property
    def leaves_months_pct(self) -> float | None:
        return Formula.RATIO.of(self.leaves_months_received, self.leaves_months_expected)

    @property
    def missing(self) -> list[str]:
        got = set(self.received)
        return [c for c in self.expected if c not in got]

    @property
    def pct(self) -> float | None:
        return Formula.RATIO.of(len(self.received), len(self.expected))

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def leaves_pct(self) -> float | None:
        return Formula.RATIO.of(self.leaves_received, self.leaves_expected)


def level_deadline(catalog: Catalog, period: Period, level: str | None) -> date | None:
    """When a unit of `level` must have reported for `period`: the closing date plus the
    level's deadline days (the catalog's calendar), or the closing date."""
    if level is None:
        return None
    return catalog.deadline(period, level) or period.end(catalog.close_day)


def is_late(at: datetime | None, deadline: date | None) -> bool:
    """Received after the deadline (the day counts: on the deadline's day is on time)."""
    return deadline is not None and at is not None and at.date() > deadline


def completeness_many(
    con: duckdb.DuckDBPyConnection, scopes: list[Scope], catalog: Catalog, units: ReferenceUnits
) -> list[Completeness]:
    """Completeness of several units of one period, with one query for all their children and
    grandchildren."""
    if not scopes:
        return []
    period = scopes[0].period
    grandkids: dict[str, list[str]] = {}
    for s in scopes:
        for c in s.children:
            if c.level != "C":
                grandkids[c.code] = [g.code for g in units.children(c.code, s.closing)]
    everyone = [c.code for s in scopes for c in s.children]
    everyone += [g for gs in grandkids.values() for g in gs]
    arrived = arrivals(con, list(dict.fromkeys(everyone)), period, catalog)
    got, sent, n_months = arrived.received, arrived.months_sent, arrived.months
    out = []
    for s in scopes:
        expected = [c.code for c in s.children]
        child_level = s.children[0].level if s.children else None
        deadline = level_deadline(catalog, s.period, child_level)
        at: dict[str, datetime | None] = {c: got[c] for c in expected if c in got}
        via, complete_kids, leaves_missing = [], [], []
        n_leaves = n_leaves_got = 0
        leaf_codes: list[str] = []
        for c in expected:
            kids = grandkids.get(c)
            if kids is None:  # a commune: itself a leaf
                leaf_codes.append(c)
                n_leaves += 1
                n_leaves_got += c in got
                if c not in got:
                    leaves_missing.append(c)
                continue
            leaf_codes += kids
            have = [g for g in kids if g in got]
            n_leaves += len(kids)
            n_leaves_got += len(have)
            leaves_missing += [g for g in kids if g not in got]
            if kids and len(have) == len(kids):
                complete_kids.append(c)
                if c not in at:  # no form of its own: credited through its children
                    times = [got[g] for g in kids if got[g] is not None]
                    at[c] = max(times) if times else None  # type: ignore[type-var]
                    via.append(c)
        received = [c for c in expected if c in at]
        late = [c for c in received if is_late(at[c], deadline)]
        late_set = set(late)
        partial = {
            u: sent[u]
            for u in dict.fromkeys([*expected, *leaf_codes])
            if u not in got and 0 < sent.get(u, 0) < n_months
        }
        out.append(
            Completeness(
                s.unit.code,
                s.unit.level,
                s.period.code,
                s.structure,
                child_level,
                deadline,
                expected,
                received,
                [c for c in received if c not in late_set],
                late,
                via,
                complete_kids,
                n_leaves,
                n_leaves_got,
                leaves_missing,
                n_months,
                n_leaves * n_months,
                sum(min(sent.get(u, 0), n_months) for u in leaf_codes),
                partial,
            )
        )
    return out


def completeness(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Completeness:
    """Completeness of one unit for one period (see the module's docstring), without writing."""
    return completeness_many(con, [scope_of(period, unit_code, catalog, units)], catalog, units)[0]
