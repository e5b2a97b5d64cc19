"""The pieces a period is built from: the period itself and the periods inside it.

A unit has a period when it sent it (a direct report), or when its reports of the periods
inside it (its half-years, quarters and months: the period's *pieces*) cover the period's
months: a year from two half-years, from a half-year and six months, from twelve months. Of
two reports covering the same months the coarser one is kept (a half-year report is the unit's
own statement of its six months: its months are not added to it). The pieces nest (a month in
one quarter, a quarter in one half-year), so keeping every piece that lies inside no other
piece the unit sent covers all the months it sent, once. Over the pieces each indicator
aggregates as the catalog says (values.py): flows summed, stocks the last piece's, rates
recomputed from the parts.

**Across the 2025 reform.** A period closes in the structure in force on its closing date;
under the closing-day calendar (periods close on the 14th) only the year 2025 begins in the
old structure: its first half-year, quarters 1-2 and months 2025-01 to 2025-06 close before 1
July 2025 and were reported by the legacy units (2025-Q3 runs from 15 June to 14 September
and its months all close after the reform: it is a two-level period). A piece that closed
before the reform is *mapped*: a unit of the two-level structure has it through its
predecessors (validations/crosswalk.py, shares applied), when every predecessor sent it; each
figure is then the sum of its predecessors' (a flag: 1 only when every predecessor's is 1),
given when every predecessor gave it, and the piece's submissions are theirs (the lineage
names them). A new province's first half-year is its old provinces' own reports; a new
commune's, its old communes'.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from validations.catalog import Catalog
from validations.crosswalk import load_crosswalk
from validations.period import Period
from validations.units import structure_on

ONE_PARAMS = ("period",)  # the only parameter a month's suffix (sql/*_one.sql) takes


@dataclass(frozen=True, slots=True)
class Piece:
    """A period a unit may have sent, inside the period being built (or the period itself)."""

    code: str
    months: frozenset[str]
    order: int  # its closing date's ordinal: the last piece's stock is the period's
    mapped: bool  # closed before the 2025 reform in a period closing after it


def sub_periods(period: Period) -> list[Period]:
    """The period itself, then its half-years, quarters and months (coarsest first)."""
    out = [period]
    first = period.last_month - period.months + 1
    months = range(first, period.last_month + 1)
    if period.kind == "Y":
        out += [Period(period.year, "H", h) for h in (1, 2)]
    if period.kind in ("Y", "H"):
        out += [Period(period.year, "Q", q) for q in sorted({(m - 1) // 3 + 1 for m in months})]
    if period.kind != "M":
        out += [Period(period.year, "M", m) for m in months]
    return out


def pieces(period: Period, close_day: int) -> list[Piece]:
    """The period's pieces, coarsest first, each saying whether it is mapped."""
    own = structure_on(period.end(close_day))
    return [
        Piece(
            p.code,
            frozenset(p.month_codes()),
            p.end(close_day).toordinal(),
            structure_on(p.end(close_day)) != own,
        )
        for p in sub_periods(period)
    ]


def straddles(period: Period, close_day: int) -> bool:
    """Does the period begin in the old structure and close in the new one (the year 2025)?"""
    return any(p.mapped for p in pieces(period, close_day))


def mapped_months(period: Period, close_day: int) -> list[str]:
    """The months of the period that closed before the 2025 reform (none for most periods)."""
    return sorted({m for p in pieces(period, close_day) if p.mapped for m in p.months})


@cache
def _has_sql(name: str) -> bool:
    return files("warehouse.rollup").joinpath("sql", f"{name}.sql").is_file()


@cache
def _sql(name: str) -> str:
    return files("warehouse.rollup").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def pieces_query(
    period: Period,
    unit_codes: list[str],
    catalog: Catalog,
    then: str,
    extra: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The SQL choosing each unit's pieces of the period (sql/pieces.sql; for a month,
    sql/pieces_one.sql), followed by sql/<then>.sql (<then>_one.sql), and its parameters
    where there is one; `extra`: the suffix's own parameters, of which a month's suffix takes
    only ONE_PARAMS): the pieces, which
    lies inside which, and (for a period straddling the reform) each unit's predecessors
    with their shares."""
    parts = pieces(period, catalog.close_day)
    params: dict[str, Any] = {
        "units": list(unit_codes),
        "pieces": [p.code for p in parts],
        "piece_months": [len(p.months) for p in parts],
        "piece_order": [p.order for p in parts],
        "piece_mapped": [p.mapped for p in parts],
    }
    extra = extra or {}
    if len(parts) == 1:  # a month: nothing inside it, nothing mapped, nothing to build
        params |= {k: v for k, v in extra.items() if k in ONE_PARAMS}
        suffix = f"{then}_one" if _has_sql(f"{then}_one") else then
        return _sql("pieces_one") + "\n" + _sql(suffix), params
    inner, outer = [], []
    for a in parts:
        for b in parts:
            if a.code != b.code and a.months < b.months:
                inner.append(a.code)
                outer.append(b.code)
    link_unit: list[str] = []
    link_old: list[str] = []
    link_share: list[float] = []
    if any(p.mapped for p in parts):
        xw = load_crosswalk(catalog.divided_communes)
        for u in dict.fromkeys(unit_codes):
            for x in xw.predecessors(u):
                link_unit.append(u)
                link_old.append(x.old_code)
                link_share.append(float(x.share))
    params |= {
        "inner": inner,
        "outer": outer,
        "link_unit": link_unit,
        "link_old": link_old,
        "link_share": link_share,
    }
    return _sql("pieces") + "\n" + _sql(then), params | extra
