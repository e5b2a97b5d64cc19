"""One entry of a catalog as a typed object: an indicator, a rule, an outlier rule, a security
rule, a unit's target (its values read by validations.catalog.values).

Every value is checked for its type, its range and its case, and every message text for its
placeholders (a `{lable}` would be shown as it is to every submitter, a `{label` would fail
while a file is judged): a mistake is refused when the catalog loads, naming the file, the line
(`Spot`), the entry and the key, never met later as a traceback or a silent default.
"""

from __future__ import annotations

import math
from typing import Any

from validations.catalog.entry import CatalogError, EntryError, Spot
from validations.catalog.kinds import rule_kinds
from validations.catalog.model import (
    AGGREGATIONS,
    DIRECTIONS,
    KINDS,
    LEVELS,
    RELATIONS,
    SEVERITIES,
    Indicator,
    OutlierRule,
    Rule,
    SecurityRule,
    UnitTarget,
)
from validations.catalog.read import (
    CODE,
    OUTLIER_MESSAGES,
    OUTLIER_THRESHOLDS,
    RULE_BASE_KEYS,
    TARGET_KEYS,
    hint,
)
from validations.catalog.semantics import Formula, OverTime, PlausibleChange, Target, Tolerance
from validations.catalog.values import (
    boolean,
    ceiling,
    check_text,
    day,
    levels,
    need,
    number,
    one_of,
    plausible,
    target,
    text,
    tolerance,
)

OUTLIER_METHODS = {"history", "peers"}
SECURITY_RULES = ("sender_unknown", "sender_not_authorized")
# the placeholders a message of each section may hold (what the code that formats it fills)
# (a kind adds the ones its findings fill: `fields` of validations.catalog.kinds)
RULE_FIELDS = {
    "label",
    "indicator",
    "value",
    "expected",
    "unit_code",
    "period",
    "location",
    "detail",
}
OUTLIER_FIELDS = {
    "label",
    "indicator",
    "value",
    "median",
    "n",
    "times",
    "fraction",
    "parent",
    "unit_code",
    "period",
}
SECURITY_FIELDS = {"file", "sender", "unit_code", "period"}
_TEXT_KEYS = ("message_vi", "message_en", "hint_vi", "hint_en")


def _identified(entry: dict[str, Any], ident: str, spot: Spot, kinds: set[str]) -> str:
    """The entry's kind, its identifier checked (lower_snake_case)."""
    code = need(entry, ident, spot)
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise CatalogError("catalog.code_form", where=spot(ident), key=ident)
    kind = need(entry, "kind", spot)
    if not one_of(kind, kinds):
        raise CatalogError(
            "catalog.kind_unknown", where=spot("kind"), kind=str(kind), kinds=sorted(kinds)
        )
    return str(kind)


def reachable(goal: Target, low: float | None, high: float | None) -> bool:
    """Can a figure between `low` and `high` (None: unbounded) attain the goal?"""
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    return {
        "<": lo < goal.value,
        "<=": lo <= goal.value,
        ">": hi > goal.value,
        ">=": hi >= goal.value,
        "==": lo <= goal.value <= hi,
    }[goal.op]


def _optional(entry: dict[str, Any], key: str, spot: Spot, fields: set[str]) -> str:
    """A hint: absent (or null) is none, anything else is a checked text."""
    raw = entry.get(key)
    return "" if raw is None else check_text(raw, spot, key, fields)


# --- indicators --------------------------------------------------------------------------------
def indicator(
    entry: dict[str, Any],
    spot: Spot,
    groups: set[str],
    tolerances: dict[str, Tolerance],
    ceilings: dict[str, float] | None = None,
    plausibles: dict[str, PlausibleChange] | None = None,
) -> Indicator:
    kind = _identified(entry, "code", spot, KINDS)
    lv = levels(need(entry, "levels", spot), spot, "levels")
    expected_agg = {"rate": "ratio", "flag": "count_share"}.get(kind, "sum")
    aggregation = entry.get("aggregation")
    aggregation = expected_agg if aggregation is None else aggregation
    if not one_of(aggregation, AGGREGATIONS):
        raise CatalogError(
            "catalog.aggregation_unknown",
            where=spot("aggregation"),
            aggregation=str(aggregation),
            allowed=sorted(AGGREGATIONS),
        )
    if aggregation != expected_agg:
        raise CatalogError(
            "catalog.aggregation_of_kind",
            where=spot("aggregation", "kind"),
            kind=kind,
            expected=expected_agg,
            aggregation=str(aggregation),
        )
    relation = entry.get("parent_relation", "-")
    if not one_of(relation, RELATIONS):
        raise CatalogError(
            "catalog.relation_unknown",
            where=spot("parent_relation"),
            relation=str(relation),
            allowed=sorted(RELATIONS),
        )
    if relation != "-" and kind in ("rate", "flag"):
        raise CatalogError(
            "catalog.relation_of_kind",
            where=spot("parent_relation", "kind"),
            kind=kind,
            relation=relation,
        )
    if relation != "-" and len(lv) < 2:
        raise CatalogError(
            "catalog.relation_to_nothing",
            where=spot("parent_relation", "levels"),
            relation=relation,
            levels=list(lv),
        )
    group = need(entry, "group", spot)
    if not one_of(group, groups):
        raise CatalogError("catalog.group_unknown", where=spot("group"), group=str(group))
    dmin, dmax = {"rate": (0.0, 100.0), "flag": (0.0, 1.0)}.get(kind, (0.0, None))
    low = entry.get("min", dmin)
    high = entry.get("max", dmax)
    low = None if low is None else number(low, spot("min"), "min")
    high = None if high is None else number(high, spot("max"), "max")
    if low is not None and high is not None and low > high:
        raise CatalogError("catalog.min_max", where=spot("max", "min"), min=low, max=high)
    goal = target(entry["target"], spot("target")) if entry.get("target") is not None else None
    if goal is not None and not reachable(goal, low, high):
        raise CatalogError(
            "catalog.target_unreachable",
            where=spot("target", "min", "max"),
            target=goal.text(),
            min=low,
            max="∞" if high is None else high,
        )
    formula = None
    if kind == "rate":
        for k in ("numerator", "denominator"):
            text(entry, k, spot)
        try:
            formula = Formula(entry.get("formula", "ratio"))
        except ValueError as exc:
            raise CatalogError("catalog.formula_unknown", where=spot("formula")) from exc
    elif any(k in entry for k in ("numerator", "denominator", "formula")):
        raise CatalogError(
            "catalog.formula_for_rates", where=spot("formula", "numerator", "denominator", "kind")
        )
    over_time = _over_time(entry, kind, spot)
    reason = text(entry, "over_time_reason", spot, required=False)
    if over_time == OverTime.STOCK and kind != "flag" and not reason:
        raise CatalogError("catalog.stock_reason", where=spot("over_time"))
    valid_from = day(entry.get("valid_from"), spot("valid_from"), "valid_from")
    valid_to = day(entry.get("valid_to"), spot("valid_to"), "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise CatalogError("catalog.valid_to_before", where=spot("valid_to", "valid_from"))
    direction = entry.get("direction")
    if direction is None:
        raise CatalogError("catalog.direction_missing", where=spot())
    if not one_of(direction, DIRECTIONS):
        raise CatalogError(
            "catalog.direction_unknown",
            where=spot("direction"),
            value=str(direction),
            allowed=list(DIRECTIONS),
        )
    change = (plausibles or {}).get(kind)
    if "plausible_change" in entry:
        raw = entry["plausible_change"]
        if raw is None:
            change = None
        elif kind not in ("count", "decimal"):
            raise CatalogError("catalog.plausible_for", where=spot("plausible_change", "kind"))
        else:
            change = plausible(raw, change or PlausibleChange(), spot("plausible_change"))
    required = entry.get("required")
    required = (
        kind != "rate" if required is None else boolean(required, spot("required"), "required")
    )
    return Indicator(
        code=str(entry["code"]),
        group=str(group),
        label_vi=text(entry, "label_vi", spot),
        label_en=text(entry, "label_en", spot),
        unit_vi=text(entry, "unit_vi", spot),
        unit_en=text(entry, "unit_en", spot),
        levels=lv,
        kind=kind,
        aggregation=aggregation,
        parent_relation=relation,
        required=required,
        min=low,
        max=high,
        numerator=entry.get("numerator"),
        denominator=entry.get("denominator"),
        formula=formula,
        target=goal,
        over_time=over_time,
        over_time_reason=reason,
        tolerance=tolerance(entry.get("tolerance"), tolerances[kind], spot("tolerance")),
        valid_from=valid_from,
        valid_to=valid_to,
        ceiling=(
            ceiling(entry["ceiling"], spot("ceiling"), "ceiling")
            if entry.get("ceiling") is not None
            else (ceilings or {}).get(kind)
        ),
        last_year_of=text(entry, "last_year_of", spot, required=False) or None,
        direction=str(direction),
        plausible_change=change,
    )


def _over_time(entry: dict[str, Any], kind: str, spot: Spot) -> OverTime:
    """How a longer period's figure follows from its months (semantics.OverTime)."""
    default = {"rate": OverTime.DERIVED, "flag": OverTime.STOCK}.get(kind)
    raw = entry.get("over_time")
    if raw is None and default is None:
        raise CatalogError("catalog.over_time_missing", where=spot())
    try:
        over_time = OverTime(default if raw is None else raw)
    except ValueError as exc:
        raise CatalogError(
            "catalog.over_time_unknown", where=spot("over_time"), value=str(raw)
        ) from exc
    allowed = {"rate": {OverTime.DERIVED}, "flag": {OverTime.STOCK}}.get(
        kind, {OverTime.FLOW, OverTime.STOCK}
    )
    if over_time not in allowed:
        raise CatalogError(
            "catalog.over_time_of_kind",
            where=spot("over_time", "kind"),
            kind=kind,
            value=str(over_time),
            allowed=sorted(allowed),
        )
    return over_time


# --- rules -------------------------------------------------------------------------------------
def rule(entry: dict[str, Any], spot: Spot, codes: set[str]) -> Rule:
    kinds = rule_kinds()
    kind = _identified(entry, "id", spot, set(kinds))
    own_keys = RULE_BASE_KEYS | kinds[kind].keys
    other = sorted(k for k in entry if k not in own_keys)
    if other:
        raise CatalogError(
            "catalog.rule_key_of_kind",
            where=spot(other[0]),
            key=other[0],
            kind=kind,
            allowed=sorted(own_keys),
        )
    severity = need(entry, "severity", spot)
    if not one_of(severity, SEVERITIES):
        raise CatalogError(
            "catalog.severity", where=spot("severity"), value=hint(severity, SEVERITIES)
        )
    fields = RULE_FIELDS | kinds[kind].fields
    texts = {k: check_text(need(entry, k, spot), spot, k, fields) for k in _TEXT_KEYS[:2]}
    texts |= {k: _optional(entry, k, spot, fields) for k in _TEXT_KEYS[2:]}
    own: dict[str, Any] = {}
    parse = kinds[kind].parse
    if parse is not None:
        try:
            own = dict(parse(entry, codes))
        except EntryError as exc:  # the kind's own code and parameters
            raise CatalogError(exc.reason, where=spot(exc.key), **exc.params) from exc
    parts = {k: own.pop(k) for k in ("left", "op", "right", "when") if k in own}
    return Rule(
        id=str(entry["id"]),
        kind=kind,
        severity=severity,
        formula=entry.get("formula"),
        left_text=str(entry.get("left", "")),
        right_text=str(entry.get("right", "")),
        params=tuple(own.items()),
        **parts,
        **texts,
    )


def rule_check(entry: dict[str, Any], kind: str) -> tuple[Any, ...]:
    """What a rule checks: its kind and its own keys' values (two rules with the same are one
    rule given twice: a file would be told twice, or only one of them would be used)."""
    keys = sorted(rule_kinds()[kind].keys)
    return (kind, *(str(entry.get(k)) for k in keys))


# --- outlier and security rules ----------------------------------------------------------------
def outlier_rule(entry: dict[str, Any], spot: Spot, codes: set[str]) -> OutlierRule:
    rid = need(entry, "id", spot)
    if not isinstance(rid, str) or not CODE.fullmatch(rid):
        raise CatalogError("catalog.code_form", where=spot("id"), key="id")
    method = need(entry, "method", spot)
    if not one_of(method, OUTLIER_METHODS):
        raise CatalogError(
            "catalog.outlier_method",
            where=spot("method"),
            method=str(method),
            methods=sorted(OUTLIER_METHODS),
        )
    severity = entry.get("severity", "warning")
    if severity != "warning":
        raise CatalogError("catalog.outlier_severity", where=spot("severity"))
    values: dict[str, float] = {}
    for key, default in OUTLIER_THRESHOLDS.items():
        values[key] = number(entry.get(key, default), spot(key), key)
    for key in ("history_periods", "min_history", "min_peers"):
        if not values[key].is_integer():
            raise CatalogError("catalog.whole_number", where=spot(key), key=key)
    if values["min_history"] < 2 or values["history_periods"] < values["min_history"]:
        raise CatalogError("catalog.outlier_history", where=spot("min_history"))
    if values["min_peers"] < 2:
        raise CatalogError("catalog.outlier_min_peers", where=spot("min_peers"))
    if values["ratio"] <= 1:
        raise CatalogError("catalog.outlier_ratio", where=spot("ratio"))
    if min(values["z"], values["modified_z"]) <= 0 or values["min_difference"] < 0:
        raise CatalogError("catalog.outlier_z", where=spot())
    texts = {
        f"{m}_{lang}": check_text(
            need(entry, f"{m}_{lang}", spot), spot, f"{m}_{lang}", OUTLIER_FIELDS
        )
        for m in OUTLIER_MESSAGES
        for lang in ("vi", "en")
    }
    texts |= {
        f"hint_{lang}": _optional(entry, f"hint_{lang}", spot, OUTLIER_FIELDS)
        for lang in ("vi", "en")
    }
    exclude = [] if entry.get("exclude") is None else entry["exclude"]
    if not isinstance(exclude, list) or not all(one_of(c, codes) for c in exclude):
        raise CatalogError("catalog.outlier_exclude", where=spot("exclude"))
    lv = levels(entry["levels"], spot, "levels") if entry.get("levels") is not None else LEVELS
    floors = {} if entry.get("min_difference_for") is None else entry["min_difference_for"]
    if not isinstance(floors, dict):
        raise CatalogError("catalog.outlier_floors", where=spot("min_difference_for"))
    inner = spot.inner("min_difference_for")
    for code, floor in floors.items():
        if not one_of(code, codes):
            raise CatalogError("catalog.outlier_floor_unknown", where=inner(code), code=str(code))
        if isinstance(floor, bool) or not isinstance(floor, int | float) or not floor >= 0:
            raise CatalogError("catalog.outlier_floor_value", where=inner(code), code=str(code))
    return OutlierRule(
        id=rid,
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
        exclude=tuple(exclude),
        min_difference_for={str(k): float(v) for k, v in floors.items()},
        levels=lv,
    )


def security_rule(entry: dict[str, Any], spot: Spot) -> SecurityRule:
    """An entry of `security:` (validations/authority.py): one of the two fixed ids, severity
    error, its four texts."""
    rid = need(entry, "id", spot)
    if not one_of(rid, SECURITY_RULES):
        raise CatalogError("catalog.security_id", where=spot("id"), rules=list(SECURITY_RULES))
    if entry.get("severity", "error") != "error":
        raise CatalogError("catalog.security_severity", where=spot("severity"))
    missing = [k for k in _TEXT_KEYS if not entry.get(k)]
    if missing:
        raise CatalogError("catalog.security_missing", where=spot(), keys=missing)
    texts = [check_text(entry[k], spot, k, SECURITY_FIELDS) for k in _TEXT_KEYS]
    return SecurityRule(str(rid), "error", *texts)


# --- units' own targets ------------------------------------------------------------------------
def unit_target(
    entry: dict[str, Any], spot: Spot, indicators: dict[str, Indicator], known_unit: Any
) -> UnitTarget:
    """An entry of `targets:`: a unit's (a province's) own goal, naming its source; every unit
    code it names exists in the reference units (`known_unit(code)`)."""
    code = need(entry, "indicator", spot)
    if not one_of(code, indicators):
        raise CatalogError(
            "catalog.target_indicator_unknown", where=spot("indicator"), code=str(code)
        )
    units = entry.get("units")
    codes = [u for u in units if isinstance(u, str)] if isinstance(units, list) else []
    if (
        not codes
        or len(codes) < len(units)  # type: ignore[arg-type]
        or any(not (u.isascii() and u.isdigit()) or len(u) not in (2, 3, 5) for u in codes)
    ):
        raise CatalogError("catalog.target_units", where=spot("units"))
    for unit in codes:
        if not known_unit(unit):
            raise CatalogError("catalog.target_unit_unknown", where=spot("units"), unit=unit)
    valid_from = day(entry.get("valid_from"), spot("valid_from"), "valid_from")
    valid_to = day(entry.get("valid_to"), spot("valid_to"), "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise CatalogError("catalog.valid_to_before", where=spot("valid_to", "valid_from"))
    goal = target({k: entry[k] for k in TARGET_KEYS if k in entry}, spot())
    ind = indicators[code]
    if not reachable(goal, ind.min, ind.max):
        raise CatalogError(
            "catalog.target_unreachable",
            where=spot("value"),
            target=goal.text(),
            min=ind.min,
            max="∞" if ind.max is None else ind.max,
        )
    return UnitTarget(str(code), frozenset(codes), goal, valid_from, valid_to)
