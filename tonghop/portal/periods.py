"""Reporting periods as the portal offers them: the current one, recent ones, deadlines."""

from __future__ import annotations

import threading
import weakref
from datetime import date
from typing import Any

from fastapi import HTTPException

from service import landing
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


# portal -> {(snapshot generation, key): answer}
_CACHES: weakref.WeakKeyDictionary[Any, dict[tuple, Any]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _cached(portal: Any, key: tuple, build: Any) -> Any:
    """`build()` once per snapshot generation (a page's picker and landing read the warehouse:
    once per snapshot is enough); a cache of its own, so the summaries' is never crowded."""
    portal.reader.adopt()  # the snapshot this request reads
    full = (portal.reader.generation, *key)
    with _CACHE_LOCK:
        cache = _CACHES.setdefault(portal, {})
        if full in cache:
            return cache[full]
    value = build()
    with _CACHE_LOCK:
        if len(cache) > 2048:
            cache.clear()
        cache[full] = value
    return value


def picker(portal: Any, unit_code: str, shown: str | None = None) -> list[str]:
    """The periods a page's picker offers for a unit (service.landing.periods): the recent
    months in which the unit exists and every period with activity below it, newest first."""
    cat, units, today = portal.catalog, portal.units, default_today()

    def build() -> list[str]:
        none = landing.periods(None, unit_code, cat, units, today, shown)
        return portal.read(landing.periods, unit_code, cat, units, today, shown, default=none)

    return list(_cached(portal, ("picker", unit_code, shown, today), build))


def landing_of(portal: Any, page: str, unit_code: str) -> landing.Landing:
    """Where a user of the unit whose start page is `page` lands today (service.landing)."""
    cat, units, today = portal.catalog, portal.units, default_today()

    def build() -> landing.Landing:
        none = landing.landing(None, page, unit_code, cat, units, today)
        return portal.read(landing.landing, page, unit_code, cat, units, today, default=none)

    return _cached(portal, ("landing", page, unit_code, today), build)


def page_period(portal: Any, page: str, unit_code: str, text: str | None) -> Period:
    """The period a page asks for (400 when it is not one) or, when none is given, the unit's
    landing period for that page (service.landing): never a month the unit has nothing in."""
    if text:
        return period_or_400(text, portal.catalog)
    return parse_period(landing_of(portal, page, unit_code).period)
