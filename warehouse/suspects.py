"""Which figure is wrong, with the unit's history: the ingest finds the suspects of each rejected
submission again with each value's usual level (the median of the unit's accepted values over
the previous periods of the same kind), so that of two figures the rules cannot tell apart the
one ten times its usual size is named (catalog `localisation: history`).

Plain functions (no Prefect), run by the ingest's outlier step against the warehouse opened
read-only; only results that already carry suspects (rejected by a linear rule) are looked at,
so an accepted file costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from validations.catalog import Catalog, rule_kinds
from validations.localise import Localiser
from validations.result import ValidationResult
from warehouse.history import load_history

MIN_HISTORY = 3  # periods of history a value needs before its usual level weighs
HISTORY_PERIODS = 12


_LOCALISERS: dict[int, tuple[Catalog, Localiser]] = {}


def localiser_of(catalog: Catalog) -> Localiser:
    """This process's Localiser of a catalog, compiled once."""
    got = _LOCALISERS.get(id(catalog))
    if got is None or got[0] is not catalog:
        got = _LOCALISERS[id(catalog)] = (catalog, Localiser(catalog))
    return got[1]


def relocate_with_history(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[ValidationResult],
    catalog: Catalog,
) -> int:
    """Find again the suspects of the results that have some, with each unit's history; returns
    how many results were looked at."""
    todo = [r for r in results if r.suspects and r.unit_code and r.period and r.level]
    if not todo:
        return 0
    loc = localiser_of(catalog)
    domain = {r.id for kind in rule_kinds("long") for r in catalog.rules_of_kind(kind)}
    by_period: dict[str, list[ValidationResult]] = {}
    for r in todo:
        by_period.setdefault(str(r.period), []).append(r)
    for period, group in by_period.items():
        units = sorted({str(r.unit_code) for r in group})
        hist = load_history(con, units, None, period, HISTORY_PERIODS, catalog.close_day)
        usual: dict[str, dict[str, float]] = {}
        if not hist.empty:
            stats = hist.groupby(["unit_code", "indicator"])["value"].agg(["median", "count"])
            for (unit, code), median, n in zip(
                stats.index, stats["median"], stats["count"], strict=True
            ):
                if n >= MIN_HISTORY:
                    usual.setdefault(str(unit), {})[str(code)] = float(median)
        for r in group:
            mine = usual.get(str(r.unit_code))
            if not mine:
                continue
            values, where = _values(r, catalog, domain)
            issues = [(i.rule_id, i.indicator) for i in r.issues]
            r.suspects = loc.locate(values, where, issues, mine)
    return len(todo)


def _values(
    r: ValidationResult, catalog: Catalog, domain: set[str]
) -> tuple[dict[str, float], dict[str, str]]:
    """A result's values as the validator localised them: its stored values of its level's
    indicators, and those a domain rule kept out of them (the Issue holds value and cell)."""
    cols = r.value_columns()
    values: dict[str, float] = {}
    where: dict[str, str] = {}
    level = r.level or ""
    for code, x, loc in zip(cols["indicator"], cols["value"], cols["location"], strict=True):
        ind = catalog.indicators.get(str(code))
        if ind is None or level not in ind.levels or x != x:
            continue
        values.setdefault(str(code), float(x))
        if loc:
            where.setdefault(str(code), str(loc))
    for i in r.issues:
        if i.rule_id in domain and i.indicator and isinstance(i.value, int | float):
            values.setdefault(i.indicator, float(i.value))
            if i.location:
                where.setdefault(i.indicator, i.location)
    return values, where
