"""Loading a catalog: its file (and the ones it includes) into typed objects, checked loudly.

Which file: the one given (`--catalog FILE` of every command that reads the catalog, the
portal's settings, the flows' `catalog` parameter), else `$TONGHOP_CATALOG`, else the national
default form: `catalog_file`, the one rule every shell follows, so that `validate`, `ingest`
and the portal read the same catalog and refuse a bad one in the same words.

The file is read by validations.catalog.read (strict YAML, every key known, one entry per
code, the include merged); each entry becomes its typed object in
validations.catalog.entries (every value's type, range and case); here the sections come
together and every reference between entries is checked: a rate's parts, last year's figure,
a rule's indicators, an outlier rule's exclusions, the localisation's indicators and the
units of a target all name something that exists. A mistake is one CatalogError naming the
file, the line, the entry and the key.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from validations.catalog.entries import (
    OUTLIER_METHODS,
    SECURITY_RULES,
    indicator,
    outlier_rule,
    rule,
    rule_check,
    security_rule,
    unit_target,
)
from validations.catalog.entry import CatalogError, EntryError, Spot
from validations.catalog.kinds import rule_kinds
from validations.catalog.localisation import parse_localisation
from validations.catalog.model import (
    KINDS,
    LEVELS,
    PARTIAL_MONTHS,
    Catalog,
    Indicator,
    OutlierRule,
    Rule,
    SecurityRule,
)
from validations.catalog.read import (
    OUTLIER_THRESHOLDS,
    _read,
    check_keys,
    entry_spot,
    read_catalog_data,
)
from validations.catalog.semantics import PlausibleChange, Tolerance
from validations.catalog.values import ceiling, one_of, plausible, tolerance, whole
from validations.crosswalk import DIVIDED_RULES

__all__ = [
    "CATALOG_ENV",
    "DEFAULT_CATALOG",
    "OUTLIER_METHODS",
    "OUTLIER_THRESHOLDS",
    "CatalogError",
    "catalog_file",
    "check_keys",
    "load_catalog",
    "read_catalog_data",
]

DEFAULT_CATALOG = Path(__file__).parent.parent / "catalogs" / "default.yaml"
CATALOG_ENV = "TONGHOP_CATALOG"


def catalog_file(path: str | Path | None = None) -> Path:
    """The catalog to read: `path`, else $TONGHOP_CATALOG, else the national default form."""
    chosen = path or os.environ.get(CATALOG_ENV, "").strip() or DEFAULT_CATALOG
    return Path(chosen).expanduser().resolve()


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and check a catalog file (`catalog_file`: the national default form unless told)."""
    return _load(catalog_file(path))


# --- defaults per kind -------------------------------------------------------------------------
def kind_tolerances(data: dict[str, Any], path: Path) -> dict[str, Tolerance]:
    """Default tolerance per kind: `defaults: tolerance: {count: {abs, rel}, ...}`."""
    spot = Spot(data, "", path).inner("defaults").inner("tolerance")
    raw = spot.value or {}
    return {k: tolerance(raw.get(k), Tolerance(), spot.inner(k)()) for k in KINDS}


def kind_ceilings(data: dict[str, Any], path: Path) -> dict[str, float]:
    """Largest plausible submitted value per kind: `defaults: ceiling: {count: 1e8, ...}`."""
    spot = Spot(data, "", path).inner("defaults").inner("ceiling")
    raw = spot.value or {}
    return {k: ceiling(v, spot(k), k) for k, v in raw.items()}


def kind_plausible_changes(data: dict[str, Any], path: Path) -> dict[str, PlausibleChange]:
    """How far a consolidated count or decimal may move against last year before it is a
    plausibility warning: `defaults: plausible_change: {count: {ratio, abs}, decimal: ...}`."""
    spot = Spot(data, "", path).inner("defaults").inner("plausible_change")
    out = {}
    for k, v in (spot.value or {}).items():
        if k not in ("count", "decimal"):
            raise CatalogError("catalog.plausible_kind", where=spot(k), kind=str(k))
        out[k] = plausible(v, PlausibleChange(), spot.inner(k)())
    return out


# --- the catalog -------------------------------------------------------------------------------
@cache
def _load(path: Path) -> Catalog:
    data = _read(path, ())
    top = Spot(data, "", path)
    groups = data.get("groups") or {}
    if not groups:
        raise CatalogError("catalog.groups", where=top("groups"))
    raw_ind = data.get("indicators")
    if not raw_ind:
        raise CatalogError("catalog.indicators", where=top("indicators"))
    indicators = _indicators(data, raw_ind, path, set(groups))
    codes = set(indicators)
    rules = _rules(data.get("rules") or [], path, codes)
    outlier_rules: dict[str, OutlierRule] = {}
    for n, entry in enumerate(data.get("outliers") or [], 1):
        spot = entry_spot(entry, "outliers", n, path)
        orule = outlier_rule(entry, spot, codes)
        if orule.id in outlier_rules or orule.id in rules:
            raise CatalogError("catalog.rule_twice", where=spot("id"), id=orule.id)
        outlier_rules[orule.id] = orule
    close_day, deadlines, partial = _calendar(data, path)
    reform = Spot(data, "", path).inner("reform")
    divided = (reform.value or {}).get("divided_communes", "default")
    if not one_of(divided, DIVIDED_RULES):
        raise CatalogError(
            "catalog.divided_communes",
            where=reform("divided_communes"),
            value=str(divided),
            allowed=list(DIVIDED_RULES),
        )
    try:
        localisation = parse_localisation(data.get("localisation"), KINDS, codes)
    except EntryError as exc:  # the section's own code and parameters
        where = top.inner("localisation")(exc.key)
        raise CatalogError(exc.reason, where=where, **exc.params) from exc
    return Catalog(
        path=str(path),
        localisation=localisation,
        divided_communes=divided,
        name=str(data.get("name", path.stem)),
        indicators=indicators,
        rules=rules,
        groups={str(k): {"vi": v["vi"], "en": v["en"]} for k, v in groups.items()},
        close_day=close_day,
        deadline_days=deadlines,
        outlier_rules=outlier_rules,
        unit_targets=_targets(data.get("targets") or [], path, indicators),
        partial_months=partial,
        security=_security(data, path),
    )


def _indicators(
    data: dict[str, Any], raw: list[Any], path: Path, groups: set[str]
) -> dict[str, Indicator]:
    """The indicators, and every reference between them: a rate's parts are known counts or
    decimals, last year's figure is another known indicator of the same kind."""
    tolerances = kind_tolerances(data, path)
    ceilings = kind_ceilings(data, path)
    plausibles = kind_plausible_changes(data, path)
    indicators: dict[str, Indicator] = {}
    spots: dict[str, Spot] = {}
    for n, entry in enumerate(raw, 1):
        spot = entry_spot(entry, "indicators", n, path)
        ind = indicator(entry, spot, groups, tolerances, ceilings, plausibles)
        if ind.code in indicators:  # pragma: no cover - one entry per code after the merge
            raise CatalogError("catalog.indicator_twice", where=spot(), code=ind.code)
        indicators[ind.code], spots[ind.code] = ind, spot
    codes = set(indicators)
    for ind in indicators.values():
        spot = spots[ind.code]
        for key, ref in (("numerator", ind.numerator), ("denominator", ind.denominator)):
            if ref is None:
                continue
            if ref not in codes:
                raise CatalogError("catalog.part_unknown", where=spot(key), code=ind.code, ref=ref)
            if indicators[ref].kind not in ("count", "decimal"):
                raise CatalogError(
                    "catalog.part_kind",
                    where=spot(key),
                    code=ind.code,
                    kind=indicators[ref].kind,
                    ref=ref,
                )
        ref = ind.last_year_of
        if ref is not None and (
            ref not in codes or ref == ind.code or indicators[ref].kind != ind.kind
        ):
            raise CatalogError(
                "catalog.last_year_of", where=spot("last_year_of"), code=ind.code, ref=ref
            )
    return indicators


def _rules(raw: list[Any], path: Path, codes: set[str]) -> dict[str, Rule]:
    """The rules: each of a known kind with its own keys, no two checking the same thing, a
    rule of every kind a built-in step reports under."""
    rules: dict[str, Rule] = {}
    checks: dict[tuple[Any, ...], str] = {}
    for n, entry in enumerate(raw, 1):
        spot = entry_spot(entry, "rules", n, path)
        r = rule(entry, spot, codes)
        if r.id in rules:  # pragma: no cover - one entry per id after the merge
            raise CatalogError("catalog.rule_twice", where=spot(), id=r.id)
        same = rule_check(entry, r.kind)
        if same in checks:
            raise CatalogError(
                "catalog.rule_same_check", where=spot(), id=r.id, other=checks[same], kind=r.kind
            )
        rules[r.id], checks[same] = r, r.id
    for needed in sorted(k for k, v in rule_kinds().items() if v.required):
        if not any(r.kind == needed for r in rules.values()):
            raise CatalogError("catalog.rule_kind_missing", where=str(path), kind=needed)
    return rules


def _calendar(data: dict[str, Any], path: Path) -> tuple[int, dict[str, int], str]:
    """close_day (1-28), deadline_days per level (whole days, 0 or more), partial_months."""
    spot = Spot(data, "", path).inner("calendar")
    cal = spot.value or {}
    close_day = whole(cal.get("close_day", 14), spot("close_day"), "close_day", 1)
    if close_day > 28:
        raise CatalogError("catalog.close_day", where=spot("close_day"))
    days = spot.inner("deadline_days")
    deadlines = {
        str(level): whole(value, days(level), f"deadline_days: {level}", 0)
        for level, value in (days.value or {}).items()
        if level in LEVELS  # the levels were checked in each file (validations.catalog.read)
    }
    partial = cal.get("partial_months", "sum_reported")
    if not one_of(partial, PARTIAL_MONTHS):
        raise CatalogError(
            "catalog.partial_months",
            where=spot("partial_months"),
            value=str(partial),
            allowed=list(PARTIAL_MONTHS),
        )
    return close_day, deadlines, str(partial)


def _targets(raw: list[Any], path: Path, indicators: dict[str, Indicator]) -> tuple[Any, ...]:
    """`targets:` entries: a unit's (a province's) own goals, each naming its source and units
    that exist."""
    if not raw:
        return ()
    from validations.units import load_units

    units = load_units()
    return tuple(
        unit_target(entry, entry_spot(entry, "targets", n, path), indicators, units.versions)
        for n, entry in enumerate(raw, 1)
    )


def _security(data: dict[str, Any], path: Path) -> dict[str, SecurityRule]:
    """`security:` (validations/authority.py): both rules, each once."""
    raw = data.get("security")
    if not raw:
        raise CatalogError(
            "catalog.security_not_a_list", where=str(path), rules=list(SECURITY_RULES)
        )
    out: dict[str, SecurityRule] = {}
    for n, entry in enumerate(raw, 1):
        r = security_rule(entry, entry_spot(entry, "security", n, path))
        out[r.id] = r
    absent = [r for r in SECURITY_RULES if r not in out]
    if absent:
        raise CatalogError("catalog.security_absent", where=str(path), rules=absent)
    return out
