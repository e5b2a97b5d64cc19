"""Reporting periods as the portal offers them: the current one, recent ones, deadlines."""

from __future__ import annotations

from datetime import date

from fastapi import HTTPException

from validations.catalog import Catalog
from validations.period import Period, PeriodError, latest_closed_month, parse_period
from validations.validator import default_today


def current(catalog: Catalog, today: date | None = None) -> Period:
    """The month being reported now: the most recently closed one."""
    return latest_closed_month(today or default_today(), catalog.close_day)


def recent_months(catalog: Catalog, n: int = 12, today: date | None = None) -> list[str]:
    """The current month and the n-1 before it, newest first."""
    p = current(catalog, today)
    y, m = p.year, p.index
    out = []
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def deadline(catalog: Catalog, period: str | Period, level: str) -> date | None:
    """When a unit of `level` must have sent its report: the closing date plus the level's
    deadline days (the catalog's calendar; the same rule as the form's "Hạn gửi báo cáo" and
    the consolidation's late count)."""
    return catalog.deadline(period if isinstance(period, Period) else parse_period(period), level)


def period_or_400(text: str | None, catalog: Catalog) -> Period:
    """The period a page asks for (400, saying what is wrong, when it is not one); the
    current month when none is given."""
    if not text:
        return current(catalog)
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise HTTPException(400, exc) from None  # said in the page's language (pages/errors.py)


def choices(catalog: Catalog, period: str, n: int = 12) -> list[str]:
    """The months a period picker offers: the recent ones, and the period shown."""
    months = recent_months(catalog, n)
    if period not in months:
        months.insert(0, period)
    return months
