"""The values a catalog entry is made of, each checked for its type, its range and its case:
texts, numbers, whole numbers, true/false, dates, levels, message texts and their placeholders,
tolerances, ceilings, plausible changes, targets. A wrong one is a CatalogError naming where it
is (`Where`, `Spot`: the file, the line, the entry) and the key."""

from __future__ import annotations

import string
from datetime import date, datetime
from typing import Any

from validations.catalog.entry import CatalogError, Spot, Where
from validations.catalog.model import LEVELS
from validations.catalog.read import hint
from validations.catalog.semantics import (
    HORIZONS,
    INTERIMS,
    OPS,
    PlausibleChange,
    Target,
    Tolerance,
)


def shown(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: 'text', 12, [1, 2], cut at `limit` characters."""
    text = f"'{value}'" if isinstance(value, str) else repr(value)
    if isinstance(value, date):
        text = f"'{value.isoformat()}'"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_of(value: Any, allowed: Any) -> bool:
    """Is `value` one of the allowed names (a list or a number never is, and never fails)?"""
    return isinstance(value, str) and value in allowed


def need(entry: dict[str, Any], key: str, spot: Spot) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise CatalogError("catalog.missing_key", where=spot(key), key=key)
    return entry[key]


def text(entry: dict[str, Any], key: str, spot: Spot, required: bool = True) -> str:
    """A text value: required (present, not empty) or "" when absent."""
    raw = need(entry, key, spot) if required else entry.get(key)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise CatalogError("catalog.not_text", where=spot(key), key=key, value=shown(raw))
    return raw


def number(raw: Any, where: Where, key: str, minimum: float | None = None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise CatalogError("catalog.not_a_number", where=where, key=key, value=shown(raw))
    if minimum is not None and raw < minimum:
        raise CatalogError("catalog.number_below", where=where, key=key, minimum=minimum)
    return float(raw)


def whole(raw: Any, where: Where, key: str, minimum: int) -> int:
    """A whole number at least `minimum` (14, not 14.5, '14' or true)."""
    value = number(raw, where, key, minimum)
    if not value.is_integer():
        raise CatalogError("catalog.whole_number", where=where, key=key)
    return int(value)


def boolean(raw: Any, where: Where, key: str) -> bool:
    if not isinstance(raw, bool):
        raise CatalogError("catalog.not_a_bool", where=where, key=key, value=shown(raw))
    return raw


def day(raw: Any, where: Where, key: str) -> date | None:
    """A date YYYY-MM-DD (an impossible one, 2025-13-01, reaches here as its text)."""
    if raw is None:
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        if isinstance(raw, str) and len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise CatalogError("catalog.not_a_date", where=where, key=key, value=shown(raw))


def levels(raw: Any, spot: Spot, key: str) -> tuple[str, ...]:
    """A list of levels, each exactly C, D or P, each once."""
    if not isinstance(raw, list) or not raw:
        raise CatalogError("catalog.levels", where=spot(key))
    for i, level in enumerate(raw):
        if level not in LEVELS:
            raise CatalogError(
                "catalog.level_unknown",
                where=spot(key),
                key=key,
                level=hint(level, LEVELS),
                levels=list(LEVELS),
            )
        if level in raw[:i]:
            raise CatalogError("catalog.level_twice", where=spot(key), key=key, level=level)
    return tuple(raw)


def check_text(raw: Any, spot: Spot, key: str, fields: set[str]) -> str:
    """A message or hint: text whose placeholders are all ones the code fills."""
    if not isinstance(raw, str):
        raise CatalogError("catalog.not_text", where=spot(key), key=key, value=shown(raw))
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(raw) if f is not None]
    except ValueError as exc:
        raise CatalogError("catalog.text_malformed", where=spot(key), key=key) from exc
    for name in names:
        if name not in fields:
            raise CatalogError(
                "catalog.text_placeholder",
                where=spot(key),
                key=key,
                name=hint(name, fields),
                allowed=sorted(fields),
            )
    return raw


def tolerance(raw: Any, default: Tolerance, where: Where) -> Tolerance:
    """{abs, rel} over the default; rel is a fraction (0.01 = 1 %)."""
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise CatalogError("catalog.tolerance_not_a_mapping", where=where)
    a = number(raw.get("abs", default.abs), where, "tolerance.abs", 0)
    r = number(raw.get("rel", default.rel), where, "tolerance.rel", 0)
    if r >= 1:
        raise CatalogError("catalog.tolerance_rel", where=where)
    return Tolerance(a, r)


def ceiling(raw: Any, where: Where, key: str) -> float:
    value = number(raw, where, key)
    if not 0 < value < 1e300:
        raise CatalogError("catalog.ceiling_not_positive", where=where, key=key)
    return value


def plausible(raw: Any, default: PlausibleChange, where: Where) -> PlausibleChange:
    """{ratio, abs} over the default: ratio above 1 (2: double or half), abs >= 0."""
    if not isinstance(raw, dict):
        raise CatalogError("catalog.plausible_not_a_mapping", where=where)
    ratio = number(raw.get("ratio", default.ratio), where, "plausible_change.ratio")
    if ratio <= 1:
        raise CatalogError("catalog.plausible_ratio", where=where)
    size = number(raw.get("abs", default.abs), where, "plausible_change.abs", 0)
    return PlausibleChange(ratio, size)


def target(t: Any, where: Where) -> Target:
    """{op, value, source, horizon, interim}: a goal, where it comes from, the period it is set
    for (year, half, quarter, month; default year) and how another period is judged (none,
    same, pro_rata; default none)."""
    if not isinstance(t, dict) or not one_of(t.get("op"), OPS) or "value" not in t:
        raise CatalogError("catalog.target_form", where=where, ops=sorted(OPS))
    if not isinstance(t.get("source"), str) or not t["source"].strip():
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
    value = number(t["value"], where, "target.value")
    return Target(str(t["op"]), value, str(t["source"]), HORIZONS[horizon], interim)
