"""Landing: where a user's work is, whatever today's date.

After logging in, every user lands on a page with work on it: a submitter on the period it
must send now (the latest closed month) or, when its unit no longer exists, the latest period
it or the units beside it sent; a steward on the latest period with activity (submissions) below its unit; a reader
of figures on the unit's latest consolidated period. A unit the 2025 reform abolished (every
district, many communes) lands on its last period, with its `Reform` (validations.reform:
when it ended and the units that took over its territory: a commune's new commune, from the
reform's crosswalk; a district's province, whose communes now report to it straight; and the
one sentence that says so, `abolished`).

`periods` is what a period picker offers for a unit: the recent months in which the unit
exists and every period with activity below it, newest first, so that a picker never offers
a period the unit does not exist in (and never only such periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from validations.catalog import Catalog
from validations.period import Period, PeriodError, latest_closed_month, parse_period
from validations.reform import Reform, abolished, reform_of
from validations.units import ReferenceUnits

__all__ = ["Landing", "Reform", "abolished", "landing", "periods", "reform_of"]

PAGES = ("form", "steward", "province")
# periods with activity in the unit's tree, from every structure the unit exists in
_ACTIVITY_SQL = """
SELECT DISTINCT s.period FROM fct_submission s
JOIN dim_unit d ON d.unit_code = s.unit_code AND d.structure = s.structure
WHERE d.unit_code = $u OR d.parent_code = $u OR d.province_code = $u
"""
_CONSOLIDATED_SQL = "SELECT DISTINCT period FROM fct_completeness WHERE unit_code = $u"


@dataclass
class Landing:
    """The page a user starts on."""

    page: str  # form | steward | province
    unit_code: str
    period: str
    reform: Reform | None = None


def _end(code: str, close_day: int) -> date:
    return parse_period(code).end(close_day)


def _newest(codes: set[str] | list[str], close_day: int) -> str | None:
    """The period ending last (a month before the quarter, half-year or year ending with it:
    the month is what a steward works on)."""
    ok = []
    for c in codes:
        try:
            p = parse_period(c)
        except PeriodError:
            continue
        ok.append((p.end(close_day), p.kind == "M", p.code))
    return max(ok)[2] if ok else None


def exists_on(units: ReferenceUnits, code: str, period: str | Period, close_day: int) -> bool:
    p = period if isinstance(period, Period) else parse_period(period)
    return units.get(code, p.end(close_day)) is not None


def activity(con: duckdb.DuckDBPyConnection, unit_code: str) -> list[str]:
    """Every period with a submission of the unit or a unit below it (any structure)."""
    return [r[0] for r in con.execute(_ACTIVITY_SQL, {"u": unit_code}).fetchall()]


def consolidated(con: duckdb.DuckDBPyConnection, unit_code: str) -> list[str]:
    """Every period the unit was consolidated for."""
    return [r[0] for r in con.execute(_CONSOLIDATED_SQL, {"u": unit_code}).fetchall()]


def landing(
    con: duckdb.DuckDBPyConnection | None,
    page: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    today: date,
) -> Landing:
    """Where a user of `unit_code` whose start page is `page` (form, steward, province)
    lands today (`con`: a read connection; None while the warehouse holds nothing)."""
    close = catalog.close_day
    now = latest_closed_month(today, close)
    reform = reform_of(unit_code, units, today)
    alive = exists_on(units, unit_code, now, close)
    sent = [p for p in (activity(con, unit_code) if con is not None else []) if _exists(p)]

    def usable(codes: list[str]) -> list[str]:
        return [c for c in codes if exists_on(units, unit_code, c, close)]

    def _fallback() -> str:
        if alive:
            return now.code
        last = reform.ended if reform else today
        return latest_closed_month(last, close).code

    if page == "form":  # gone: the last period it (or its peers) had to send
        peers = (
            activity(con, reform.unit.parent_code)
            if con and reform and reform.unit.parent_code
            else []
        )
        period = now.code if alive else _newest(usable(sent + peers), close) or _fallback()
    elif page == "steward":
        period = _newest(usable(sent), close) or _fallback()
    else:
        done = consolidated(con, unit_code) if con is not None else []
        period = _newest(usable(done), close) or _newest(usable(sent), close) or _fallback()
    return Landing(page, unit_code, period, reform)


def _exists(code: str) -> bool:
    try:
        parse_period(code)
    except PeriodError:
        return False
    return True


def periods(
    con: duckdb.DuckDBPyConnection | None,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    today: date,
    shown: str | None = None,
    n_months: int = 12,
    limit: int = 36,
) -> list[str]:
    """The periods a picker offers for the unit, newest first: the `n_months` latest months
    in which it exists (counting back from the latest closed month, or from its last month
    when it no longer exists), every period with activity below it, and the period shown."""
    close = catalog.close_day
    reform = reform_of(unit_code, units, today)
    last = latest_closed_month(reform.ended if reform else today, close)
    months = []
    y, m = last.year, last.index
    for _ in range(n_months):
        code = f"{y}-{m:02d}"
        if exists_on(units, unit_code, code, close):
            months.append(code)
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    found = set(months) | ({shown} if shown and _exists(shown) else set())
    if con is not None:
        found |= {
            p
            for p in activity(con, unit_code)
            if _exists(p) and exists_on(units, unit_code, p, close)
        }
    ordered = sorted(found, key=lambda c: (_end(c, close), parse_period(c).kind == "M"))[::-1]
    ordered = ordered[:limit]
    if shown and shown not in ordered:
        ordered.insert(0, shown)  # not a period (the page says so) or past the limit
    return ordered
