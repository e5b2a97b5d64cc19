"""The indicator and rule catalog: YAML loaded into typed objects, checked loudly at load time.

A catalog file may `include:` another (a provincial catalog includes the national default and
overrides targets or adds rules); entries are merged by `code` (indicators) and `id` (rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from validations.errors import TonghopError

DEFAULT_CATALOG = Path(__file__).with_name("catalogs") / "default.yaml"

KINDS = {"count", "decimal", "rate", "flag"}
LEVELS = ("C", "D", "P")
AGGREGATIONS = {"sum", "ratio", "count_share"}
RELATIONS = {"=", ">=", "-"}
SEVERITIES = {"error", "warning"}
OPS = {"<=", ">=", "<", ">", "=="}
RULE_KINDS = {
    "single_submission",
    "duplicate",
    "period_format",
    "period_future",
    "unit_exists",
    "unit_valid",
    "indicator_known",
    "indicator_level",
    "required",
    "formula",
    "number",
    "ambiguous",
    "integer",
    "nonnegative",
    "rate_range",
    "flag",
    "rate_consistency",
    "compare",
    # intake hardening (issue 13, issue 9 part 5)
    "period_ambiguous",
    "extra_fields",
    "split_decimal",
    "ceiling",
}
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
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_TERM = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?([a-z][a-z0-9_]*)\s*$")
_WHEN = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>|==)\s*(-?\d+(?:\.\d+)?)\s*$")


# libyaml's loader is ~10x faster than the pure-Python one (0.25 s -> 0.02 s for the catalog),
# which matters on the submitter path.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(TonghopError, ValueError):
    """The catalog file is invalid; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for an indicator, with where it comes from."""

    op: str
    value: float
    source: str

    def reached(self, value: float) -> bool:
        return _compare(value, self.op, self.value)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of the form."""

    code: str
    group: str
    label_vi: str
    label_en: str
    unit_vi: str
    unit_en: str
    levels: tuple[str, ...]
    kind: str
    aggregation: str
    parent_relation: str
    required: bool
    min: float | None
    max: float | None
    numerator: str | None = None
    denominator: str | None = None
    formula: str | None = None
    target: Target | None = None
    # The largest plausible submitted value (`ceiling:`, default per kind from the catalog's
    # `ceilings:`); above it a submission is refused (rule kind "ceiling"). Submissions only:
    # rollups are not bounded by it.
    ceiling: float | None = None

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def unit(self, lang: str = "vi") -> str:
        return self.unit_vi if lang == "vi" else self.unit_en


@dataclass(frozen=True, slots=True)
class Term:
    """coef * indicator, one term of a linear expression."""

    coef: float
    code: str


@dataclass(frozen=True, slots=True)
class Condition:
    """`code op value`, the guard of a conditional rule."""

    code: str
    op: str
    value: float


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule with a stable id; `kind` selects the check, the texts come from YAML."""

    id: str
    kind: str
    severity: str
    message_vi: str
    message_en: str
    hint_vi: str
    hint_en: str
    left: tuple[Term, ...] = ()
    op: str | None = None
    right: tuple[Term, ...] = ()
    when: Condition | None = None
    formula: str | None = None
    left_text: str = ""
    right_text: str = ""

    @property
    def indicators(self) -> tuple[str, ...]:
        codes = [t.code for t in (*self.left, *self.right)]
        if self.when:
            codes.append(self.when.code)
        return tuple(dict.fromkeys(codes))


@dataclass(frozen=True, slots=True)
class OutlierRule:
    """A warning on a value far from the unit's own history or from its peers (`outliers:`).

    `method` is "history" (the unit's previous periods of the same kind) or "peers" (the other
    units with the same parent, same period). Texts: `message` (higher than usual),
    `message_low` (lower), `message_to_zero` (0 where the usual value is not),
    `message_from_zero` (a value where the usual one is 0), each in vi and en, plus hints.
    """

    id: str
    method: str
    severity: str
    history_periods: int
    min_history: int
    min_peers: int
    z: float
    modified_z: float
    ratio: float
    min_difference: float
    texts: dict[str, str]
    exclude: tuple[str, ...] = ()
    min_difference_for: dict[str, float] = field(default_factory=dict)
    levels: tuple[str, ...] = LEVELS

    def text(self, key: str, lang: str = "vi") -> str:
        """`message`, `message_low`, `message_to_zero`, `message_from_zero` or `hint`."""
        return self.texts[f"{key}_{lang}"]


@dataclass(frozen=True)
class Catalog:
    """Indicators by code, rules by id, groups, calendar; where it was loaded from."""

    path: str
    name: str
    indicators: dict[str, Indicator]
    rules: dict[str, Rule]
    groups: dict[str, dict[str, str]]
    close_day: int = 14
    deadline_days: dict[str, int] = field(default_factory=dict)
    outlier_rules: dict[str, OutlierRule] = field(default_factory=dict)

    def for_level(self, level: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if level in i.levels]

    def rules_of_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.kind == kind]

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def rates(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.kind == "rate"]


def _compare(a: float, op: str, b: float) -> bool:
    return {
        "<=": a <= b,
        ">=": a >= b,
        "<": a < b,
        ">": a > b,
        "==": a == b,
    }[op]


def _read(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise CatalogError(f"{path}: include cycle ({' -> '.join(map(str, (*seen, path)))})")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError as exc:
        raise CatalogError(f"{path}: catalog file not found") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a catalog is a mapping with 'indicators' and 'rules'")
    inc = data.get("include")
    if inc is None:
        return data
    base = _read((path.parent / str(inc)).resolve(), (*seen, path))
    merged = dict(base)
    for key, value in data.items():
        if key in ("indicators", "rules", "outliers"):
            ident = "code" if key == "indicators" else "id"
            by_id = {e.get(ident): dict(e) for e in base.get(key, []) if isinstance(e, dict)}
            for entry in value or []:
                if not isinstance(entry, dict) or ident not in entry:
                    raise CatalogError(f"{path}: every entry of '{key}' needs '{ident}'")
                by_id[entry[ident]] = {**by_id.get(entry[ident], {}), **entry}
            merged[key] = list(by_id.values())
        elif key in ("groups", "calendar", "sources", "ceilings"):
            merged[key] = {**(base.get(key) or {}), **(value or {})}
        elif key != "include":
            merged[key] = value
    return merged


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise CatalogError(f"{where}: missing '{key}'")
    return entry[key]


def _parse_expr(text: str, where: str, codes: set[str]) -> tuple[Term, ...]:
    terms = []
    for part in str(text).split("+"):
        m = _TERM.match(part)
        if not m:
            raise CatalogError(f"{where}: cannot read expression '{text}' (use 'a + 2 * b')")
        if m[2] not in codes:
            raise CatalogError(f"{where}: unknown indicator '{m[2]}' in '{text}'")
        terms.append(Term(float(m[1] or 1), m[2]))
    return tuple(terms)


def _ceilings(data: dict[str, Any], path: Path) -> dict[str, float]:
    """The catalog's `ceilings:` (kind -> largest plausible submitted value), checked."""
    raw = data.get("ceilings") or {}
    if not isinstance(raw, dict) or any(k not in KINDS for k in raw):
        raise CatalogError(f"{path}: 'ceilings' maps kinds ({sorted(KINDS)}) to numbers")
    out: dict[str, float] = {}
    for kind, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e300:
            raise CatalogError(f"{path}: ceilings.{kind} must be a positive number")
        out[str(kind)] = float(value)
    return out


def _ceiling(
    entry: dict[str, Any], where: str, kind: str, ceilings: dict[str, float]
) -> float | None:
    value = entry.get("ceiling", ceilings.get(kind))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e300:
        raise CatalogError(f"{where}: ceiling must be a positive number")
    return float(value)


def _indicator(
    entry: dict[str, Any], where: str, groups: set[str], ceilings: dict[str, float] | None = None
) -> Indicator:
    code = _need(entry, "code", where)
    where = f"{where} '{code}'"
    if not _CODE.match(str(code)):
        raise CatalogError(f"{where}: code must be lower_snake_case")
    kind = _need(entry, "kind", where)
    if kind not in KINDS:
        raise CatalogError(f"{where}: kind '{kind}' is not one of {sorted(KINDS)}")
    levels = tuple(_need(entry, "levels", where))
    if not levels or any(lv not in LEVELS for lv in levels):
        raise CatalogError(f"{where}: levels must be a list of C, D, P")
    aggregation = entry.get("aggregation") or {"rate": "ratio", "flag": "count_share"}.get(
        kind, "sum"
    )
    if aggregation not in AGGREGATIONS:
        raise CatalogError(f"{where}: aggregation '{aggregation}' not in {sorted(AGGREGATIONS)}")
    relation = str(entry.get("parent_relation", "-"))
    if relation not in RELATIONS:
        raise CatalogError(f"{where}: parent_relation '{relation}' not in {sorted(RELATIONS)}")
    group = _need(entry, "group", where)
    if group not in groups:
        raise CatalogError(f"{where}: group '{group}' is not declared under 'groups'")
    dmin, dmax = {"rate": (0.0, 100.0), "flag": (0.0, 1.0)}.get(kind, (0.0, None))
    target = None
    if entry.get("target"):
        t = entry["target"]
        if not isinstance(t, dict) or t.get("op") not in OPS or "value" not in t:
            raise CatalogError(f"{where}: target needs op (one of {sorted(OPS)}) and value")
        if not t.get("source"):
            raise CatalogError(f"{where}: target needs a source (where the goal comes from)")
        target = Target(str(t["op"]), float(t["value"]), str(t["source"]))
    if kind == "rate" or aggregation == "ratio":
        for k in ("numerator", "denominator"):
            _need(entry, k, where)
        if entry.get("formula", "ratio") not in ("ratio", "change"):
            raise CatalogError(f"{where}: formula must be 'ratio' or 'change'")
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
        formula=entry.get("formula", "ratio") if kind == "rate" else None,
        target=target,
        ceiling=_ceiling(entry, where, kind, ceilings or {}),
    )


def _rule(entry: dict[str, Any], where: str, codes: set[str]) -> Rule:
    rid = _need(entry, "id", where)
    where = f"{where} '{rid}'"
    if not _CODE.match(str(rid)):
        raise CatalogError(f"{where}: id must be lower_snake_case")
    kind = _need(entry, "kind", where)
    if kind not in RULE_KINDS:
        raise CatalogError(f"{where}: kind '{kind}' is not one of {sorted(RULE_KINDS)}")
    severity = _need(entry, "severity", where)
    if severity not in SEVERITIES:
        raise CatalogError(f"{where}: severity must be 'error' or 'warning'")
    texts = {k: str(_need(entry, k, where)) for k in ("message_vi", "message_en")}
    texts |= {k: str(entry.get(k, "")) for k in ("hint_vi", "hint_en")}
    left: tuple[Term, ...] = ()
    right: tuple[Term, ...] = ()
    when = None
    op = None
    if kind == "compare":
        left = _parse_expr(_need(entry, "left", where), where, codes)
        right = _parse_expr(_need(entry, "right", where), where, codes)
        op = _need(entry, "op", where)
        if op not in OPS:
            raise CatalogError(f"{where}: op '{op}' not in {sorted(OPS)}")
        if entry.get("when"):
            m = _WHEN.match(str(entry["when"]))
            if not m or m[1] not in codes:
                raise CatalogError(f"{where}: cannot read when '{entry['when']}'")
            when = Condition(m[1], m[2], float(m[3]))
    formula = entry.get("formula")
    if kind == "rate_consistency" and formula not in ("ratio", "change"):
        raise CatalogError(f"{where}: rate_consistency needs formula 'ratio' or 'change'")
    return Rule(
        id=str(rid),
        kind=kind,
        severity=severity,
        left=left,
        op=op,
        right=right,
        when=when,
        formula=formula,
        left_text=str(entry.get("left", "")),
        right_text=str(entry.get("right", "")),
        **texts,
    )


def _outlier_rule(entry: dict[str, Any], where: str, codes: set[str]) -> OutlierRule:
    rid = _need(entry, "id", where)
    where = f"{where} '{rid}'"
    if not _CODE.match(str(rid)):
        raise CatalogError(f"{where}: id must be lower_snake_case")
    known = {"id", "method", "severity", "levels", "exclude", "min_difference_for"}
    known |= set(OUTLIER_THRESHOLDS)
    known |= {f"{m}_{lang}" for m in (*OUTLIER_MESSAGES, "hint") for lang in ("vi", "en")}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    method = _need(entry, "method", where)
    if method not in OUTLIER_METHODS:
        raise CatalogError(f"{where}: method '{method}' is not one of {sorted(OUTLIER_METHODS)}")
    severity = entry.get("severity", "warning")
    if severity != "warning":
        raise CatalogError(f"{where}: severity must be 'warning' (an outlier never rejects)")
    values: dict[str, float] = {}
    for key, default in OUTLIER_THRESHOLDS.items():
        raw = entry.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
            raise CatalogError(f"{where}: {key} must be a number, not {raw!r}")
        values[key] = float(raw)
    for key in ("history_periods", "min_history", "min_peers"):
        if not values[key].is_integer():
            raise CatalogError(f"{where}: {key} must be a whole number")
    if values["min_history"] < 2 or values["history_periods"] < values["min_history"]:
        raise CatalogError(f"{where}: need 2 <= min_history <= history_periods")
    if values["min_peers"] < 2:
        raise CatalogError(f"{where}: min_peers must be at least 2")
    if values["ratio"] <= 1:
        raise CatalogError(f"{where}: ratio must be above 1 (5 means 5 times or 1/5 of usual)")
    if min(values["z"], values["modified_z"]) <= 0 or values["min_difference"] < 0:
        raise CatalogError(f"{where}: z and modified_z must be > 0, min_difference >= 0")
    texts = {
        f"{m}_{lang}": str(_need(entry, f"{m}_{lang}", where))
        for m in OUTLIER_MESSAGES
        for lang in ("vi", "en")
    }
    texts |= {f"hint_{lang}": str(entry.get(f"hint_{lang}") or "") for lang in ("vi", "en")}
    exclude = entry.get("exclude") or []
    if not isinstance(exclude, list) or any(c not in codes for c in exclude):
        raise CatalogError(f"{where}: exclude must list known indicator codes")
    levels = tuple(entry.get("levels") or LEVELS)
    if any(lv not in LEVELS for lv in levels):
        raise CatalogError(f"{where}: levels must be a list of C, D, P")
    floors = entry.get("min_difference_for") or {}
    if not isinstance(floors, dict):
        raise CatalogError(f"{where}: min_difference_for maps indicator codes to numbers")
    for code, floor in floors.items():
        if code not in codes:
            raise CatalogError(f"{where}: min_difference_for: unknown indicator '{code}'")
        if isinstance(floor, bool) or not isinstance(floor, int | float) or not floor >= 0:
            raise CatalogError(f"{where}: min_difference_for.{code} must be a number >= 0")
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
        raise CatalogError(f"{path}: 'groups' must map group codes to {{vi, en}} labels")
    raw_ind = data.get("indicators")
    if not isinstance(raw_ind, list) or not raw_ind:
        raise CatalogError(f"{path}: 'indicators' must be a non-empty list")
    indicators: dict[str, Indicator] = {}
    ceilings = _ceilings(data, path)
    for n, entry in enumerate(raw_ind, 1):
        where = f"{path}: indicators[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: each indicator is a mapping")
        ind = _indicator(entry, where, set(groups), ceilings)
        if ind.code in indicators:
            raise CatalogError(f"{where}: duplicate indicator code '{ind.code}'")
        indicators[ind.code] = ind
    codes = set(indicators)
    for ind in indicators.values():
        for ref in (ind.numerator, ind.denominator):
            if ref is not None and ref not in codes:
                raise CatalogError(f"{path}: indicator '{ind.code}' refers to unknown '{ref}'")
    rules: dict[str, Rule] = {}
    for n, entry in enumerate(data.get("rules") or [], 1):
        where = f"{path}: rules[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: each rule is a mapping")
        rule = _rule(entry, where, codes)
        if rule.id in rules:
            raise CatalogError(f"{where}: duplicate rule id '{rule.id}'")
        rules[rule.id] = rule
    for needed in sorted(RULE_KINDS - {"compare"}):
        if not any(r.kind == needed for r in rules.values()):
            raise CatalogError(
                f"{path}: no rule of kind '{needed}' (every built-in check needs one)"
            )
    raw_out = data.get("outliers") or []
    if not isinstance(raw_out, list):
        raise CatalogError(f"{path}: 'outliers' must be a list of outlier rules")
    outlier_rules: dict[str, OutlierRule] = {}
    for n, entry in enumerate(raw_out, 1):
        where = f"{path}: outliers[{n}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: each outlier rule is a mapping")
        orule = _outlier_rule(entry, where, codes)
        if orule.id in outlier_rules or orule.id in rules:
            raise CatalogError(f"{where}: duplicate rule id '{orule.id}'")
        outlier_rules[orule.id] = orule
    cal = data.get("calendar") or {}
    close_day = int(cal.get("close_day", 14))
    if not 1 <= close_day <= 28:
        raise CatalogError(f"{path}: calendar.close_day must be between 1 and 28")
    return Catalog(
        path=str(path),
        name=str(data.get("name", path.stem)),
        indicators=indicators,
        rules=rules,
        groups=groups,
        close_day=close_day,
        deadline_days={str(k): int(v) for k, v in (cal.get("deadline_days") or {}).items()},
        outlier_rules=outlier_rules,
    )
