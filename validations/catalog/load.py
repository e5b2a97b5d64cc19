"""Loading a catalog file: YAML into typed objects, checked loudly at load time.

A catalog file may `include:` another (a provincial catalog includes the national default and
overrides targets, tolerances or severities, or adds rules); entries are merged by `code`
(indicators) and `id` (rules, outlier and security rules), key by key. Every key of every entry
is known: a misspelled one (`targt:`, `severty:`) fails here, naming the file, the entry and the
key, instead of being silently ignored.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from validations.catalog.kinds import EntryError, rule_keys, rule_kinds
from validations.catalog.localisation import merge_localisation, parse_localisation
from validations.catalog.model import (
    AGGREGATIONS,
    DIRECTIONS,
    KINDS,
    LEVELS,
    PARTIAL_MONTHS,
    RELATIONS,
    SEVERITIES,
    Catalog,
    Indicator,
    OutlierRule,
    Rule,
    UnitTarget,
)
from validations.catalog.semantics import (
    HORIZONS,
    INTERIMS,
    OPS,
    Formula,
    OverTime,
    PlausibleChange,
    Target,
    Tolerance,
)
from validations.crosswalk import DIVIDED_RULES
from validations.errors import TonghopError
from validations.messages import Message

DEFAULT_CATALOG = Path(__file__).parent.parent / "catalogs" / "default.yaml"

OUTLIER_METHODS = {"history", "peers"}
# Outlier thresholds and their defaults (validations/outliers.py explains each); an entry of the
# catalog's `outliers:` section may set any of them.
OUTLIER_THRESHOLDS: dict[str, float] = {
    "history_periods": 12,
    "min_history": 4,
    "min_peers": 5,
    "z": 3.0,
    "modified_z": 3.5,
    "ratio": 5.0,
    "min_difference": 10.0,
}
OUTLIER_MESSAGES = ("message", "message_low", "message_to_zero", "message_from_zero")
_TEXTS = {f"{k}_{lang}" for k in ("message", "hint") for lang in ("vi", "en")}
# Every key a catalog may hold, per place; anything else is a typo and fails the load.
TOP_KEYS = {
    "version",
    "name",
    "include",
    "calendar",
    "defaults",
    "groups",
    "sources",
    "indicators",
    "rules",
    "outliers",
    "security",
    "reform",
    "targets",
    "localisation",
}
REFORM_KEYS = {"divided_communes"}
INDICATOR_KEYS = {
    "code",
    "group",
    "label_vi",
    "label_en",
    "unit_vi",
    "unit_en",
    "levels",
    "kind",
    "min",
    "max",
    "required",
    "aggregation",
    "numerator",
    "denominator",
    "formula",
    "parent_relation",
    "target",
    "over_time",
    "over_time_reason",
    "tolerance",
    "valid_from",
    "valid_to",
    "ceiling",
    "last_year_of",
    "direction",
    "plausible_change",
}
# the keys every rule may hold; a kind adds its own (validations.catalog.kinds: `keys`)
RULE_BASE_KEYS = {"id", "kind", "severity"} | _TEXTS
SECURITY_KEYS = {"id", "severity"} | _TEXTS
TARGET_KEYS = {"op", "value", "source", "horizon", "interim"}
# an entry of `targets:`, a unit's (a province's) own goal
UNIT_TARGET_KEYS = TARGET_KEYS | {"indicator", "units", "valid_from", "valid_to"}
TOLERANCE_KEYS = {"abs", "rel"}
PLAUSIBLE_KEYS = {"ratio", "abs"}
CALENDAR_KEYS = {"close_day", "deadline_days", "partial_months"}
DEFAULTS_KEYS = {"tolerance", "ceiling", "plausible_change"}
GROUP_KEYS = {"vi", "en"}
_CODE = re.compile(r"[a-z][a-z0-9_]*")  # whole: fullmatch


# libyaml's loader is ~10x faster than the pure-Python one (0.25 s -> 0.02 s for the catalog),
# which matters on the submitter path.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(TonghopError, ValueError):
    """The catalog file is invalid; the message names the file and the entry."""


def check_keys(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    """Fail on any key of `entry` not in `allowed`, naming the entry and the closest key."""
    unknown = sorted(str(k) for k in set(entry) - allowed)
    if not unknown:
        return
    hints = []
    for k in unknown:
        close = difflib.get_close_matches(k, sorted(allowed), n=1)
        hints.append(
            Message("catalog.key_hint", {"key": k, "close": close[0]}) if close else f"'{k}'"
        )
    raise CatalogError("catalog.unknown_key", where=where, keys=hints, allowed=sorted(allowed))


def rule_entry_keys() -> set[str]:
    """Every key a rule entry may hold: the common ones and every registered kind's own."""
    return RULE_BASE_KEYS | rule_keys()


def _section_keys() -> dict[str, tuple[str, set[str]]]:
    return {
        "indicators": ("code", INDICATOR_KEYS),
        "rules": ("id", rule_entry_keys()),
        "security": ("id", SECURITY_KEYS),
    }


def _check_file(path: Path, data: dict[str, Any]) -> None:
    """Every key of this one file is known (outlier entries are checked by _outlier_rule)."""
    check_keys(data, TOP_KEYS, str(path))
    for section, (ident, allowed) in _section_keys().items():
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, list):
            raise CatalogError("catalog.not_a_list", where=str(path), section=section)
        for n, entry in enumerate(value, 1):
            if not isinstance(entry, dict):
                raise CatalogError(
                    "catalog.entry_not_a_mapping", where=str(path), section=section, n=n
                )
            where = f"{path}: {section}[{n}] '{entry.get(ident, '?')}'"
            check_keys(entry, allowed, where)
            for sub, keys in (
                ("target", TARGET_KEYS),
                ("tolerance", TOLERANCE_KEYS),
                ("plausible_change", PLAUSIBLE_KEYS),
            ):
                if section == "indicators" and isinstance(entry.get(sub), dict):
                    check_keys(entry[sub], keys, f"{where}: {sub}")
    for sub, keys in (
        ("calendar", CALENDAR_KEYS),
        ("defaults", DEFAULTS_KEYS),
        ("reform", REFORM_KEYS),
    ):
        if isinstance(data.get(sub), dict):
            check_keys(data[sub], keys, f"{path}: {sub}")
    ceil = (
        (data.get("defaults") or {}).get("ceiling")
        if isinstance(data.get("defaults"), dict)
        else None
    )
    if isinstance(ceil, dict):
        check_keys(ceil, KINDS, f"{path}: defaults: ceiling")
    for sub, keys in (("tolerance", TOLERANCE_KEYS), ("plausible_change", PLAUSIBLE_KEYS)):
        tol = (
            (data.get("defaults") or {}).get(sub)
            if isinstance(data.get("defaults"), dict)
            else None
        )
        if isinstance(tol, dict):
            check_keys(tol, KINDS, f"{path}: defaults: {sub}")
            for kind, t in tol.items():
                if isinstance(t, dict):
                    check_keys(t, keys, f"{path}: defaults: {sub}: {kind}")
    targets = data.get("targets")
    if targets is not None:
        if not isinstance(targets, list):
            raise CatalogError("catalog.not_a_list", where=str(path), section="targets")
        for n, entry in enumerate(targets, 1):
            if not isinstance(entry, dict):
                raise CatalogError(
                    "catalog.entry_not_a_mapping", where=str(path), section="targets", n=n
                )
            check_keys(entry, UNIT_TARGET_KEYS, f"{path}: targets[{n}]")
    for code, labels in (data.get("groups") or {}).items():
        if isinstance(labels, dict):
            check_keys(labels, GROUP_KEYS, f"{path}: groups: {code}")


def read_catalog_data(path: str | Path) -> dict[str, Any]:
    """The catalog file as merged YAML data (following `include:`), every key checked."""
    return _read(Path(path), ())


def _read(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise CatalogError(
            "catalog.include_cycle", where=str(path), cycle=" -> ".join(map(str, (*seen, path)))
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError as exc:
        raise CatalogError("catalog.file_not_found", where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError("catalog.file_unreadable", where=str(path), detail=exc) from exc
    except yaml.YAMLError as exc:
        raise CatalogError("catalog.not_yaml", where=str(path), detail=exc) from exc
    if not isinstance(data, dict):
        raise CatalogError("catalog.not_a_mapping", where=str(path))
    _check_file(path, data)
    inc = data.get("include")
    if inc is None:
        return data
    base = _read((path.parent / str(inc)).resolve(), (*seen, path))
    merged = dict(base)
    for key, value in data.items():
        if key in ("indicators", "rules", "outliers", "security"):
            ident = "code" if key == "indicators" else "id"
            by_id = {e.get(ident): dict(e) for e in base.get(key, []) if isinstance(e, dict)}
            for entry in value or []:
                if not isinstance(entry, dict) or ident not in entry:
                    raise CatalogError(
                        "catalog.entry_needs_id", where=str(path), section=key, key=ident
                    )
                by_id[entry[ident]] = {**by_id.get(entry[ident], {}), **entry}
            merged[key] = list(by_id.values())
        elif key in ("groups", "calendar", "sources", "reform"):
            merged[key] = {**(base.get(key) or {}), **(value or {})}
        elif key == "targets":
            # a unit's entry replaces the included one for the same indicator, units and start
            def key_of(e: Any) -> tuple[Any, ...]:
                units = e.get("units") if isinstance(e, dict) else None
                units = tuple(sorted(map(str, units))) if isinstance(units, list) else units
                return (e.get("indicator"), units, str(e.get("valid_from")))

            entries = {key_of(e): e for e in base.get(key) or [] if isinstance(e, dict)}
            entries.update({key_of(e): e for e in value or []})
            merged[key] = list(entries.values())
        elif key == "localisation":
            merged[key] = merge_localisation(base.get(key), value)
        elif key == "defaults":
            merged[key] = {}
            for sub in ("tolerance", "ceiling", "plausible_change"):
                both = {**((base.get(key) or {}).get(sub) or {})}
                both.update((value or {}).get(sub) or {})
                merged[key][sub] = both
        elif key != "include":
            merged[key] = value
    return merged


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise CatalogError("catalog.missing_key", where=where, key=key)
    return entry[key]


def _number(raw: Any, where: str, key: str, minimum: float | None = None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise CatalogError("catalog.not_a_number", where=where, key=key, value=repr(raw))
    if minimum is not None and raw < minimum:
        raise CatalogError("catalog.number_below", where=where, key=key, minimum=minimum)
    return float(raw)


def _tolerance(raw: Any, default: Tolerance, where: str) -> Tolerance:
    """{abs, rel} over the default; rel is a fraction (0.01 = 1 %)."""
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise CatalogError("catalog.tolerance_not_a_mapping", where=where)
    a = _number(raw.get("abs", default.abs), where, "tolerance.abs", 0)
    r = _number(raw.get("rel", default.rel), where, "tolerance.rel", 0)
    if r >= 1:
        raise CatalogError("catalog.tolerance_rel", where=where)
    return Tolerance(a, r)


def _date(raw: Any, where: str, key: str) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise CatalogError("catalog.not_a_date", where=where, key=key, value=repr(raw)) from exc


def kind_tolerances(data: dict[str, Any], path: Path) -> dict[str, Tolerance]:
    """Default tolerance per kind: `defaults: tolerance: {count: {abs, rel}, ...}`."""
    raw = (data.get("defaults") or {}).get("tolerance") or {}
    where = f"{path}: defaults: tolerance"
    return {k: _tolerance(raw.get(k), Tolerance(), f"{where}: {k}") for k in KINDS}


def kind_ceilings(data: dict[str, Any], path: Path) -> dict[str, float]:
    """Largest plausible submitted value per kind: `defaults: ceiling: {count: 1e8, ...}`."""
    raw = (data.get("defaults") or {}).get("ceiling") or {}
    if not isinstance(raw, dict):
        raise CatalogError("catalog.ceilings_not_a_mapping", where=str(path))
    return {k: _ceiling(v, f"{path}: defaults: ceiling", k) for k, v in raw.items()}


def _ceiling(raw: Any, where: str, key: str) -> float:
    value = _number(raw, where, key)
    if not 0 < value < 1e300:
        raise CatalogError("catalog.ceiling_not_positive", where=where, key=key)
    return value


def _entry(
    entry: dict[str, Any], ident: str, where: str, allowed: set[str], kinds: set[str]
) -> tuple[str, str, str]:
    """(identifier, where, kind) of a catalog entry whose keys are all known."""
    code = _need(entry, ident, where)
    where = f"{where} '{code}'"
    check_keys(entry, allowed, where)
    if not _CODE.fullmatch(str(code)):
        raise CatalogError("catalog.code_form", where=where, key=ident)
    kind = _need(entry, "kind", where)
    if kind not in kinds:
        raise CatalogError("catalog.kind_unknown", where=where, kind=str(kind), kinds=sorted(kinds))
    return str(code), where, str(kind)


def _target(t: Any, where: str) -> Target:
    """{op, value, source, horizon, interim}: a goal, where it comes from, the period it is set
    for (year, half, quarter, month; default year) and how another period is judged (none,
    same, pro_rata; default none)."""
    if not isinstance(t, dict) or t.get("op") not in OPS or "value" not in t:
        raise CatalogError("catalog.target_form", where=where, ops=sorted(OPS))
    if not t.get("source"):
        raise CatalogError("catalog.target_source", where=where)
    horizon = str(t.get("horizon", "year"))
    if horizon not in HORIZONS:
        raise CatalogError(
            "catalog.target_horizon", where=where, value=horizon, allowed=list(HORIZONS)
        )
    interim = str(t.get("interim", "none"))
    if interim not in INTERIMS:
        raise CatalogError(
            "catalog.target_interim", where=where, value=interim, allowed=list(INTERIMS)
        )
    if interim == "pro_rata" and t["op"] not in (">=", ">"):
        raise CatalogError("catalog.target_pro_rata", where=where)
    value = _number(t["value"], where, "target.value")
    return Target(str(t["op"]), value, str(t["source"]), HORIZONS[horizon], interim)


def _unit_targets(
    raw: list[dict[str, Any]], path: Path, indicators: dict[str, Indicator]
) -> tuple[UnitTarget, ...]:
    """`targets:` entries: a unit's (a province's) own goals, each naming its source."""
    out = []
    for n, entry in enumerate(raw, 1):
        where = f"{path}: targets[{n}]"
        code = _need(entry, "indicator", where)
        where = f"{where} '{code}'"
        if code not in indicators:
            raise CatalogError("catalog.target_indicator_unknown", where=where, code=str(code))
        units = entry.get("units")
        codes = [u for u in units if isinstance(u, str)] if isinstance(units, list) else []
        if (
            not codes
            or len(codes) < len(units)  # type: ignore[arg-type]
            or any(not (u.isascii() and u.isdigit()) or len(u) not in (2, 3, 5) for u in codes)
        ):
            raise CatalogError("catalog.target_units", where=where)
        valid_from = _date(entry.get("valid_from"), where, "valid_from")
        valid_to = _date(entry.get("valid_to"), where, "valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise CatalogError("catalog.valid_to_before", where=where)
        target = _target({k: entry[k] for k in TARGET_KEYS if k in entry}, where)
        out.append(UnitTarget(str(code), frozenset(codes), target, valid_from, valid_to))
    return tuple(out)


def _plausible(raw: Any, default: PlausibleChange, where: str) -> PlausibleChange:
    """{ratio, abs} over the default: ratio above 1 (2: double or half), abs >= 0."""
    if not isinstance(raw, dict):
        raise CatalogError("catalog.plausible_not_a_mapping", where=where)
    ratio = _number(raw.get("ratio", default.ratio), where, "plausible_change.ratio")
    if ratio <= 1:
        raise CatalogError("catalog.plausible_ratio", where=where)
    size = _number(raw.get("abs", default.abs), where, "plausible_change.abs", 0)
    return PlausibleChange(ratio, size)


def kind_plausible_changes(data: dict[str, Any], path: Path) -> dict[str, PlausibleChange]:
    """How far a consolidated count or decimal may move against last year before it is a
    plausibility warning: `defaults: plausible_change: {count: {ratio, abs}, decimal: ...}`."""
    raw = (data.get("defaults") or {}).get("plausible_change") or {}
    where = f"{path}: defaults: plausible_change"
    out = {}
    for k, v in raw.items():
        if k not in ("count", "decimal"):
            raise CatalogError("catalog.plausible_kind", where=where, kind=str(k))
        out[k] = _plausible(v, PlausibleChange(), f"{where}: {k}")
    return out


def _indicator(
    entry: dict[str, Any],
    where: str,
    groups: set[str],
    tolerances: dict[str, Tolerance],
    ceilings: dict[str, float] | None = None,
    plausible: dict[str, PlausibleChange] | None = None,
) -> Indicator:
    code, where, kind = _entry(entry, "code", where, INDICATOR_KEYS, KINDS)
    levels = tuple(_need(entry, "levels", where))
    if not levels or any(lv not in LEVELS for lv in levels):
        raise CatalogError("catalog.levels", where=where)
    aggregation = entry.get("aggregation") or {"rate": "ratio", "flag": "count_share"}.get(
        kind, "sum"
    )
    if aggregation not in AGGREGATIONS:
        raise CatalogError(
            "catalog.aggregation_unknown",
            where=where,
            aggregation=str(aggregation),
            allowed=sorted(AGGREGATIONS),
        )
    expected_agg = {"rate": "ratio", "flag": "count_share"}.get(kind, "sum")
    if aggregation != expected_agg:
        raise CatalogError(
            "catalog.aggregation_of_kind",
            where=where,
            kind=kind,
            expected=expected_agg,
            aggregation=str(aggregation),
        )
    relation = str(entry.get("parent_relation", "-"))
    if relation not in RELATIONS:
        raise CatalogError(
            "catalog.relation_unknown", where=where, relation=relation, allowed=sorted(RELATIONS)
        )
    group = _need(entry, "group", where)
    if group not in groups:
        raise CatalogError("catalog.group_unknown", where=where, group=str(group))
    dmin, dmax = {"rate": (0.0, 100.0), "flag": (0.0, 1.0)}.get(kind, (0.0, None))
    target = _target(entry["target"], where) if entry.get("target") else None
    formula = None
    if kind == "rate":
        for k in ("numerator", "denominator"):
            _need(entry, k, where)
        try:
            formula = Formula(entry.get("formula", "ratio"))
        except ValueError as exc:
            raise CatalogError("catalog.formula_unknown", where=where) from exc
    elif any(k in entry for k in ("numerator", "denominator", "formula")):
        raise CatalogError("catalog.formula_for_rates", where=where)
    # how a longer period's figure follows from its months (semantics.OverTime)
    default_time = {"rate": OverTime.DERIVED, "flag": OverTime.STOCK}.get(kind)
    raw_time = entry.get("over_time")
    if raw_time is None and default_time is None:
        raise CatalogError("catalog.over_time_missing", where=where)
    try:
        over_time = OverTime(raw_time or default_time)
    except ValueError as exc:
        raise CatalogError("catalog.over_time_unknown", where=where, value=str(raw_time)) from exc
    allowed_time = {"rate": {OverTime.DERIVED}, "flag": {OverTime.STOCK}}.get(
        kind, {OverTime.FLOW, OverTime.STOCK}
    )
    if over_time not in allowed_time:
        raise CatalogError(
            "catalog.over_time_of_kind",
            where=where,
            kind=kind,
            value=str(over_time),
            allowed=sorted(allowed_time),
        )
    reason = str(entry.get("over_time_reason") or "")
    if over_time == OverTime.STOCK and kind != "flag" and not reason:
        raise CatalogError("catalog.stock_reason", where=where)
    valid_from = _date(entry.get("valid_from"), where, "valid_from")
    valid_to = _date(entry.get("valid_to"), where, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise CatalogError("catalog.valid_to_before", where=where)
    direction = entry.get("direction")
    if direction is None:
        raise CatalogError("catalog.direction_missing", where=where)
    if direction not in DIRECTIONS:
        raise CatalogError(
            "catalog.direction_unknown", where=where, value=str(direction), allowed=list(DIRECTIONS)
        )
    plausible_change = (plausible or {}).get(kind)
    if "plausible_change" in entry:
        raw = entry["plausible_change"]
        if raw is None:
            plausible_change = None
        elif kind not in ("count", "decimal"):
            raise CatalogError("catalog.plausible_for", where=where)
        else:
            plausible_change = _plausible(raw, plausible_change or PlausibleChange(), where)
    return Indicator(
        code=str(code),
        group=str(group),
        label_vi=str(_need(entry, "label_vi", where)),
        label_en=str(_need(entry, "label_en", where)),
        unit_vi=str(_need(entry, "unit_vi", where)),
        unit_en=str(_need(entry, "unit_en", where)),
        levels=levels,
        kind=kind,
        aggregation=aggregation,
        parent_relation=relation,
        required=bool(entry.get("required", kind != "rate")),
        min=entry.get("min", dmin),
        max=entry.get("max", dmax),
        numerator=entry.get("numerator"),
        denominator=entry.get("denominator"),
        formula=formula,
        target=target,
        over_time=over_time,
        over_time_reason=reason,
        tolerance=_tolerance(entry.get("tolerance"), tolerances[kind], where),
        valid_from=valid_from,
        valid_to=valid_to,
        ceiling=(
            _ceiling(entry["ceiling"], where, "ceiling")
            if entry.get("ceiling") is not None
            else (ceilings or {}).get(kind)
        ),
        last_year_of=str(entry["last_year_of"]) if entry.get("last_year_of") else None,
        direction=str(direction),
        plausible_change=plausible_change,
    )


def _rule(entry: dict[str, Any], where: str, codes: set[str]) -> Rule:
    kinds = rule_kinds()
    rid, where, kind = _entry(entry, "id", where, rule_entry_keys(), set(kinds))
    severity = _need(entry, "severity", where)
    if severity not in SEVERITIES:
        raise CatalogError("catalog.severity", where=where)
    texts = {k: str(_need(entry, k, where)) for k in ("message_vi", "message_en")}
    texts |= {k: str(entry.get(k, "")) for k in ("hint_vi", "hint_en")}
    own: dict[str, Any] = {}
    parse = kinds[kind].parse
    if parse is not None:
        try:
            own = dict(parse(entry, codes))
        except EntryError as exc:  # the kind's own code and parameters
            raise CatalogError(exc.reason, where=where, **exc.params) from exc
    fields = {k: own.pop(k) for k in ("left", "op", "right", "when") if k in own}
    return Rule(
        id=str(rid),
        kind=kind,
        severity=severity,
        formula=entry.get("formula"),
        left_text=str(entry.get("left", "")),
        right_text=str(entry.get("right", "")),
        params=tuple(own.items()),
        **fields,
        **texts,
    )


def _outlier_rule(entry: dict[str, Any], where: str, codes: set[str]) -> OutlierRule:
    rid = _need(entry, "id", where)
    where = f"{where} '{rid}'"
    if not _CODE.fullmatch(str(rid)):
        raise CatalogError("catalog.code_form", where=where, key="id")
    known = {"id", "method", "severity", "levels", "exclude", "min_difference_for"}
    known |= set(OUTLIER_THRESHOLDS)
    known |= {f"{m}_{lang}" for m in (*OUTLIER_MESSAGES, "hint") for lang in ("vi", "en")}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise CatalogError(
            "catalog.outlier_unknown_key", where=where, keys=unknown, allowed=sorted(known)
        )
    method = _need(entry, "method", where)
    if method not in OUTLIER_METHODS:
        raise CatalogError(
            "catalog.outlier_method",
            where=where,
            method=str(method),
            methods=sorted(OUTLIER_METHODS),
        )
    severity = entry.get("severity", "warning")
    if severity != "warning":
        raise CatalogError("catalog.outlier_severity", where=where)
    values: dict[str, float] = {}
    for key, default in OUTLIER_THRESHOLDS.items():
        raw = entry.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
            raise CatalogError("catalog.not_a_number", where=where, key=key, value=repr(raw))
        values[key] = float(raw)
    for key in ("history_periods", "min_history", "min_peers"):
        if not values[key].is_integer():
            raise CatalogError("catalog.whole_number", where=where, key=key)
    if values["min_history"] < 2 or values["history_periods"] < values["min_history"]:
        raise CatalogError("catalog.outlier_history", where=where)
    if values["min_peers"] < 2:
        raise CatalogError("catalog.outlier_min_peers", where=where)
    if values["ratio"] <= 1:
        raise CatalogError("catalog.outlier_ratio", where=where)
    if min(values["z"], values["modified_z"]) <= 0 or values["min_difference"] < 0:
        raise CatalogError("catalog.outlier_z", where=where)
    texts = {
        f"{m}_{lang}": str(_need(entry, f"{m}_{lang}", where))
        for m in OUTLIER_MESSAGES
        for lang in ("vi", "en")
    }
    texts |= {f"hint_{lang}": str(entry.get(f"hint_{lang}") or "") for lang in ("vi", "en")}
    exclude = entry.get("exclude") or []
    if not isinstance(exclude, list) or any(c not in codes for c in exclude):
        raise CatalogError("catalog.outlier_exclude", where=where)
    levels = tuple(entry.get("levels") or LEVELS)
    if any(lv not in LEVELS for lv in levels):
        raise CatalogError("catalog.levels", where=where)
    floors = entry.get("min_difference_for") or {}
    if not isinstance(floors, dict):
        raise CatalogError("catalog.outlier_floors", where=where)
    for code, floor in floors.items():
        if code not in codes:
            raise CatalogError("catalog.outlier_floor_unknown", where=where, code=str(code))
        if isinstance(floor, bool) or not isinstance(floor, int | float) or not floor >= 0:
            raise CatalogError("catalog.outlier_floor_value", where=where, code=str(code))
    return OutlierRule(
        id=str(rid),
        method=str(method),
        severity=str(severity),
        history_periods=int(values["history_periods"]),
        min_history=int(values["min_history"]),
        min_peers=int(values["min_peers"]),
        z=values["z"],
        modified_z=values["modified_z"],
        ratio=values["ratio"],
        min_difference=values["min_difference"],
        texts=texts,
        exclude=tuple(str(c) for c in exclude),
        min_difference_for={str(k): float(v) for k, v in floors.items()},
        levels=levels,
    )


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and check a catalog file (default: the national default form)."""
    p = Path(path) if path else DEFAULT_CATALOG
    return _load(p.resolve())


@cache
def _load(path: Path) -> Catalog:
    data = _read(path, ())
    groups = data.get("groups") or {}
    if not isinstance(groups, dict) or not groups:
        raise CatalogError("catalog.groups", where=str(path))
    raw_ind = data.get("indicators")
    if not isinstance(raw_ind, list) or not raw_ind:
        raise CatalogError("catalog.indicators", where=str(path))
    tolerances = kind_tolerances(data, path)
    ceilings = kind_ceilings(data, path)
    plausible = kind_plausible_changes(data, path)
    indicators: dict[str, Indicator] = {}
    for n, entry in enumerate(raw_ind, 1):
        where = f"{path}: indicators[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError("catalog.indicator_not_a_mapping", where=where)
        ind = _indicator(entry, where, set(groups), tolerances, ceilings, plausible)
        if ind.code in indicators:
            raise CatalogError("catalog.indicator_twice", where=where, code=ind.code)
        indicators[ind.code] = ind
    codes = set(indicators)
    for ind in indicators.values():
        for ref in (ind.numerator, ind.denominator):
            if ref is not None and ref not in codes:
                raise CatalogError("catalog.part_unknown", where=str(path), code=ind.code, ref=ref)
            if ref is not None and indicators[ref].kind not in ("count", "decimal"):
                raise CatalogError(
                    "catalog.part_kind",
                    where=str(path),
                    code=ind.code,
                    kind=indicators[ref].kind,
                    ref=ref,
                )
    for ind in indicators.values():
        ref = ind.last_year_of
        if ref is not None and (ref not in codes or indicators[ref].kind != ind.kind):
            raise CatalogError("catalog.last_year_of", where=str(path), code=ind.code, ref=ref)
    rules: dict[str, Rule] = {}
    for n, entry in enumerate(data.get("rules") or [], 1):
        where = f"{path}: rules[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError("catalog.rule_not_a_mapping", where=where)
        rule = _rule(entry, where, codes)
        if rule.id in rules:
            raise CatalogError("catalog.rule_twice", where=where, id=rule.id)
        rules[rule.id] = rule
    for needed in sorted(k for k, v in rule_kinds().items() if v.required):
        if not any(r.kind == needed for r in rules.values()):
            raise CatalogError("catalog.rule_kind_missing", where=str(path), kind=needed)
    raw_out = data.get("outliers") or []
    if not isinstance(raw_out, list):
        raise CatalogError("catalog.outliers", where=str(path))
    outlier_rules: dict[str, OutlierRule] = {}
    for n, entry in enumerate(raw_out, 1):
        where = f"{path}: outliers[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError("catalog.outlier_not_a_mapping", where=where)
        orule = _outlier_rule(entry, where, codes)
        if orule.id in outlier_rules or orule.id in rules:
            raise CatalogError("catalog.rule_twice", where=where, id=orule.id)
        outlier_rules[orule.id] = orule
    cal = data.get("calendar") or {}
    close_day = int(cal.get("close_day", 14))
    if not 1 <= close_day <= 28:
        raise CatalogError("catalog.close_day", where=str(path))
    partial = str(cal.get("partial_months", "sum_reported"))
    if partial not in PARTIAL_MONTHS:
        raise CatalogError(
            "catalog.partial_months", where=str(path), value=partial, allowed=list(PARTIAL_MONTHS)
        )
    divided = str((data.get("reform") or {}).get("divided_communes", "default"))
    if divided not in DIVIDED_RULES:
        raise CatalogError(
            "catalog.divided_communes", where=str(path), value=divided, allowed=list(DIVIDED_RULES)
        )
    try:
        localisation = parse_localisation(data.get("localisation"), KINDS, codes)
    except EntryError as exc:  # the section's own code and parameters
        raise CatalogError(exc.reason, where=f"{path}: localisation", **exc.params) from exc
    return Catalog(
        path=str(path),
        localisation=localisation,
        divided_communes=divided,
        name=str(data.get("name", path.stem)),
        indicators=indicators,
        rules=rules,
        groups=groups,
        close_day=close_day,
        deadline_days={str(k): int(v) for k, v in (cal.get("deadline_days") or {}).items()},
        outlier_rules=outlier_rules,
        unit_targets=_unit_targets(data.get("targets") or [], path, indicators),
        partial_months=partial,
    )
