"""Reading a catalog file: its YAML, strictly, every key of every section checked, the catalogs
it includes merged under it.

A catalog file may `include:` another (a provincial catalog includes the national default and
overrides targets, tolerances or severities, or adds indicators, rules and targets); entries are
merged by `code` (indicators) and `id` (rules, outlier and security rules), key by key, and
`calendar: deadline_days` level by level. What is checked here, in each file before the merge
(so that the file and the line named are the ones to edit):

- the YAML itself: a key given twice in one mapping (YAML would keep the last one silently);
- every key of every section and entry is known (a typo `targt:` fails, with the closest
  known key, a wrong case `c:` for `C:` too);
- each section has its shape (a list of entries, a mapping), each entry's identifier is text;
- one entry per identifier in one file (two entries for one indicator code would be merged
  silently), one rule per kind for the kinds that check one thing;
- an entry of an including file that names nothing in the included catalog and is not a whole
  new entry (an override of `crime_clearence_rate`) is refused with the closest code.

The values (types, ranges, dates, references between entries) are checked when the merged data
becomes typed objects (validations.catalog.load).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from validations.catalog.entry import CatalogError, Spot, Where, at
from validations.catalog.kinds import rule_keys
from validations.catalog.model import KINDS, LEVELS
from validations.messages import Message
from validations.yaml_source import KeyTwice, Located, read_yaml

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
OUTLIER_KEYS = (
    {"id", "method", "severity", "levels", "exclude", "min_difference_for"}
    | set(OUTLIER_THRESHOLDS)
    | {f"{m}_{lang}" for m in (*OUTLIER_MESSAGES, "hint") for lang in ("vi", "en")}
)
MAPPINGS = ("calendar", "defaults", "groups", "sources", "reform", "localisation")
# the list sections: entries named by this key (targets: by indicator, units and start)
LISTS = {"indicators": "code", "rules": "id", "outliers": "id", "security": "id", "targets": None}
# the key without which an entry of an including file must override one of the included file
NEW_ENTRY_NEEDS = {"indicators": "kind", "rules": "kind", "outliers": "method"}
CODE = re.compile(r"[a-z][a-z0-9_]*")  # whole: fullmatch


def rule_entry_keys() -> set[str]:
    """Every key a rule entry may hold: the common ones and every registered kind's own."""
    return RULE_BASE_KEYS | rule_keys()


def _section_keys() -> dict[str, set[str]]:
    return {
        "indicators": INDICATOR_KEYS,
        "rules": rule_entry_keys(),
        "outliers": OUTLIER_KEYS,
        "security": SECURITY_KEYS,
        "targets": UNIT_TARGET_KEYS,
    }


def close_to(key: Any, allowed: Any) -> str | None:
    """The allowed key `key` most likely meant: the same but for case ('c' for 'C'), else the
    closest spelling ('targt' for 'target')."""
    names = sorted(str(a) for a in allowed)
    text = str(key)
    for name in names:
        if name.casefold() == text.casefold():
            return name
    close = difflib.get_close_matches(text, names, n=1)
    return close[0] if close else None


def hint(key: Any, allowed: Any) -> Message | str:
    """'x' (did you mean 'y'?), or 'x'."""
    close = close_to(key, allowed)
    return Message("catalog.key_hint", {"key": str(key), "close": close}) if close else f"'{key}'"


def check_keys(entry: dict[str, Any], allowed: set[str], where: Where | Spot) -> None:
    """Fail on any key of `entry` not in `allowed`, naming the entry (and the line of the first
    such key, given a Spot) and the closest known key."""
    unknown = sorted((k for k in entry if k not in allowed), key=str)
    if not unknown:
        return
    if isinstance(where, Spot):
        where = where(unknown[0])
    hints = [hint(k, allowed) for k in unknown]
    raise CatalogError("catalog.unknown_key", where=where, keys=hints, allowed=sorted(allowed))


def read_catalog_data(path: str | Path) -> dict[str, Any]:
    """The catalog file as merged YAML data (following `include:`), every key checked."""
    return _read(Path(path), ())


def parse_file(path: Path) -> Any:
    """One file's YAML; CatalogError for a file that cannot be read or is not strict YAML."""
    try:
        return read_yaml(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError as exc:
        raise CatalogError("catalog.file_not_found", where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError("catalog.file_unreadable", where=str(path), detail=exc) from exc
    except KeyTwice as exc:
        raise CatalogError(
            "catalog.key_twice",
            where=at(exc.path, exc.line, exc.entry),
            key=exc.key,
            first=exc.first,
        ) from exc
    except yaml.YAMLError as exc:
        raise CatalogError("catalog.not_yaml", where=str(path), detail=exc) from exc


def _read(path: Path, seen: tuple[Path, ...]) -> Located:
    if path in seen:
        raise CatalogError(
            "catalog.include_cycle", where=str(path), cycle=" -> ".join(map(str, (*seen, path)))
        )
    data = parse_file(path)
    if not isinstance(data, Located):
        raise CatalogError("catalog.not_a_mapping", where=str(path))
    check_file(path, data)
    inc = data.get("include")
    if inc is None:
        return data
    included = (path.parent / str(inc)).resolve()
    if not included.is_file() and included not in seen:
        where = Spot(data, "", path)("include")
        raise CatalogError("catalog.include_not_found", where=where, path=str(included))
    return _merge(_read(included, (*seen, path)), data, path, included.name)


# --- one file ----------------------------------------------------------------------------------
def check_file(path: Path, data: Located) -> None:
    """Every key of this one file is known, every section has its shape, one entry per code."""
    top = Spot(data, "", path)
    check_keys(data, TOP_KEYS, top)
    if "version" in data and (type(data["version"]) is not int or data["version"] != 1):
        raise CatalogError("catalog.version", where=top("version"), value=repr(data["version"]))
    for key in ("name", "include"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            raise CatalogError("catalog.not_text", where=top(key), key=key, value=_shown(data[key]))
    for key in MAPPINGS:
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise CatalogError("catalog.section_not_a_mapping", where=top(key), section=key)
    keys = _section_keys()
    for section, ident in LISTS.items():
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, list):
            raise CatalogError("catalog.not_a_list", where=top(section), section=section)
        first: dict[Any, tuple[int, Where]] = {}
        for n, entry in enumerate(value, 1):
            if not isinstance(entry, dict):
                raise CatalogError(
                    "catalog.entry_not_a_mapping", where=top(section), section=section, n=n
                )
            spot = entry_spot(entry, section, n, path)
            if ident is not None and ident in entry and not isinstance(entry[ident], str):
                raise CatalogError(
                    "catalog.id_not_text", where=spot(ident), key=ident, value=_shown(entry[ident])
                )
            check_keys(entry, keys[section], spot)
            if section == "indicators":
                for sub, allowed in (
                    ("target", TARGET_KEYS),
                    ("tolerance", TOLERANCE_KEYS),
                    ("plausible_change", PLAUSIBLE_KEYS),
                ):
                    if isinstance(entry.get(sub), dict):
                        check_keys(entry[sub], allowed, spot.inner(sub))
            same = _identity(section, entry)
            if same is None:
                continue
            try:
                before = first.get(same)
            except TypeError:  # units: a list of lists; its check names it
                continue
            if before is not None:
                raise CatalogError(
                    "catalog.entry_twice",
                    where=spot(),
                    section=section,
                    entry=_identity_text(section, entry),
                    first=before[0],
                )
            first[same] = (_line(entry), spot())
    _check_settings(path, data)


def entry_spot(entry: Any, section: str, n: int, path: Path | str) -> Spot:
    """An entry of a list section, named by its position in its own file and its code or id
    ("indicators[3] 'crime_cases'", "targets[2]")."""
    ident = LISTS.get(section) or "indicator"  # a target: named by its indicator
    name = entry.get(ident) if isinstance(entry, dict) else None
    index = getattr(entry, "index", None) or n  # in its own file, when read from one
    label = f"{section}[{index}]" + (f" '{name[:60]}'" if isinstance(name, str) and name else "")
    return Spot(entry, label, path)


def _identity(section: str, entry: dict[str, Any]) -> Any:
    """What makes an entry the same as another of its section (None: nothing to compare)."""
    ident = LISTS[section]
    if ident is not None:
        value = entry.get(ident)
        return value if isinstance(value, str) else None
    units = entry.get("units")
    units = tuple(sorted(map(str, units))) if isinstance(units, list) else units
    return (entry.get("indicator"), units, str(entry.get("valid_from")))


def _identity_text(section: str, entry: dict[str, Any]) -> str:
    ident = LISTS[section]
    if ident is not None:
        return str(entry.get(ident))
    units = entry.get("units")
    units = ", ".join(map(str, units)) if isinstance(units, list) else str(units)
    since = entry.get("valid_from")
    return f"{entry.get('indicator')} [{units}]" + (f" from {since}" if since else "")


def _line(entry: Any) -> int:
    mark = entry.mark if isinstance(entry, Located) else None
    return mark[1] if mark else 0


def _check_settings(path: Path, data: Located) -> None:
    """The keys of the mapping sections: calendar, defaults, reform, groups, sources."""
    top = Spot(data, "", path)
    for sub, allowed in (
        ("calendar", CALENDAR_KEYS),
        ("defaults", DEFAULTS_KEYS),
        ("reform", REFORM_KEYS),
    ):
        if isinstance(data.get(sub), dict):
            check_keys(data[sub], allowed, top.inner(sub))
    cal = top.inner("calendar")
    days = cal.value.get("deadline_days") if isinstance(cal.value, dict) else None
    if days is not None:
        spot = cal.inner("deadline_days")
        if not isinstance(days, dict):
            raise CatalogError("catalog.deadline_days", where=spot(), levels=list(LEVELS))
        for level in days:
            if level not in LEVELS:
                raise CatalogError(
                    "catalog.level_unknown",
                    where=Spot(days, "calendar", path)(level),
                    key="deadline_days",
                    level=hint(level, LEVELS),
                    levels=list(LEVELS),
                )
    defaults = top.inner("defaults")
    for sub, keys in (
        ("ceiling", None),
        ("tolerance", TOLERANCE_KEYS),
        ("plausible_change", PLAUSIBLE_KEYS),
    ):
        spot = defaults.inner(sub)
        per_kind = spot.value
        if per_kind is None:
            continue
        if not isinstance(per_kind, dict):
            raise CatalogError(
                "catalog.defaults_per_kind", where=spot(), key=sub, kinds=sorted(KINDS)
            )
        check_keys(per_kind, KINDS, spot)
        for kind, value in per_kind.items():
            if keys is not None and isinstance(value, dict):
                check_keys(value, keys, spot.inner(kind))
    groups = top.inner("groups")
    for code, labels in (groups.value or {}).items():
        spot = groups.inner(str(code))
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise CatalogError("catalog.code_form", where=groups(code), key=f"groups: {code}")
        if not isinstance(labels, dict):
            raise CatalogError("catalog.group_labels", where=spot(), group=code)
        check_keys(labels, GROUP_KEYS, spot)
        for lang in ("vi", "en"):
            if not isinstance(labels.get(lang), str) or not labels[lang].strip():
                raise CatalogError("catalog.group_labels", where=spot(lang), group=code)
    sources = top.inner("sources")
    for name, text in (sources.value or {}).items():
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(
                "catalog.not_text", where=sources(name), key=f"sources: {name}", value=_shown(text)
            )


# --- a file over the one it includes -----------------------------------------------------------
def _merge(base: Located, data: Located, path: Path, base_name: str) -> Located:
    merged = Located(base, mark=data.mark)
    merged.marks.update(base.marks)
    for key, value in data.items():
        merged.marks[key] = data.marks.get(key) or data.mark  # type: ignore[assignment]
        if key in NEW_ENTRY_NEEDS or key == "security":
            merged[key] = _merge_entries(key, base.get(key) or [], value or [], path, base_name)
        elif key in ("groups", "sources", "reform"):
            merged[key] = _over(value, base.get(key))
        elif key == "calendar":
            cal = _over(value, base.get(key))
            days = (value or {}).get("deadline_days")
            if isinstance(days, dict):  # level by level: a province's P does not drop C and D
                cal["deadline_days"] = _over(days, (base.get(key) or {}).get("deadline_days"))
            merged[key] = cal
        elif key == "targets":
            # a unit's entry replaces the included one for the same indicator, units and start
            entries = {_identity("targets", e): e for e in base.get(key) or []}
            entries.update({_identity("targets", e): e for e in value or []})
            merged[key] = list(entries.values())
        elif key == "localisation":
            merged[key] = _merge_localisation(base.get(key), value)
        elif key == "defaults":
            both = _over(value, base.get(key))
            for sub in DEFAULTS_KEYS:
                inner = _over((value or {}).get(sub), (base.get(key) or {}).get(sub))
                if inner:
                    both[sub] = inner
            merged[key] = both
        elif key != "include":
            merged[key] = value
    return merged


def _over(value: Any, base: Any) -> Located:
    """A mapping's keys over the included one's (either may be absent)."""
    if isinstance(value, Located):
        return value.over(base)
    return Located(value or {}).over(base) if isinstance(value, dict | None) else value


def _merge_localisation(base: Any, value: Any) -> Located:
    out = _over(value, base)
    for sub in ("weights", "indicators", "history"):
        a = base.get(sub) if isinstance(base, dict) else None
        b = value.get(sub) if isinstance(value, dict) else None
        if isinstance(a, dict) or isinstance(b, dict):
            out[sub] = _over(b, a)
    return out


def _merge_entries(
    section: str, base: list[Any], entries: list[Any], path: Path, base_name: str
) -> list[Any]:
    """The included section's entries, each overridden key by key by this file's entry of the
    same code or id; this file's new entries after them."""
    ident = LISTS[section]
    assert ident is not None
    by_id = {e.get(ident): e for e in base if isinstance(e, dict)}
    for n, entry in enumerate(entries, 1):
        spot = entry_spot(entry, section, n, path)
        if ident not in entry:
            raise CatalogError("catalog.entry_needs_id", where=spot(), section=section, key=ident)
        code = entry[ident]
        before = by_id.get(code)
        needs = NEW_ENTRY_NEEDS.get(section)
        if before is None and needs is not None and needs not in entry:
            raise CatalogError(
                "catalog.override_unknown",
                where=spot(ident),
                section=section,
                code=hint(code, [c for c in by_id if isinstance(c, str)]),
                base=base_name,
                key=needs,
            )
        by_id[code] = _over(entry, before)
    return list(by_id.values())


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 1] + "…"
