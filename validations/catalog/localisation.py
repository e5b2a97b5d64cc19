"""How the error localisation weighs a change of each cell: the catalog's `localisation:`.

Which figure is wrong (validations/localise/) is the smallest *weighted* set of cells whose
change makes every rule hold. The weights are catalog data, with these defaults:
- per kind (`weights:`): a reported rate is recomputed from its parts, so a wrong rate is the
  cheaper explanation (0.6) than a wrong count, decimal or flag (1); two rates (1.2) still weigh
  more than the one count they both depend on;
- per indicator (`indicators:`), overriding its kind's;
- a value that matches the unit's history (`history:`): within `ratio` (2) times the unit's
  usual value either way ((x + 1) / (usual + 1), so small counts are compared fairly), weighs
  `factor` (1.5) times as much: a figure like the ones the unit always reports is less likely
  the typo than one ten times its usual size;
- `time_limit` (seconds) bounds each solve and `budget` each submission; `alternatives` is how
  many equally good explanations are named at most ("one of these two").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from validations.catalog.entry import EntryError

DEFAULT_WEIGHTS = {"count": 1.0, "decimal": 1.0, "flag": 1.0, "rate": 0.6}
LOCALISATION_KEYS = {"weights", "indicators", "history", "time_limit", "budget", "alternatives"}
HISTORY_KEYS = {"factor", "ratio"}


@dataclass(frozen=True)
class Localisation:
    """The catalog's localisation settings (see the module docstring)."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    indicators: Mapping[str, float] = field(default_factory=dict)
    history_factor: float = 1.5
    history_ratio: float = 2.0
    time_limit: float = 0.25
    budget: float = 1.0
    alternatives: int = 3

    def weight(self, code: str, kind: str) -> float:
        """The weight of changing one cell of this indicator (before its history)."""
        if code in self.indicators:
            return float(self.indicators[code])
        return float(self.weights.get(kind, 1.0))

    def matches(self, value: float, usual: float) -> bool:
        """Does a value match the unit's usual one (its history): within `ratio` times it,
        either way?"""
        r = (abs(value) + 1.0) / (abs(usual) + 1.0)
        return 1.0 / self.history_ratio <= r <= self.history_ratio


def parse_localisation(raw: Any, kinds: set[str], codes: set[str]) -> Localisation:
    """The section as settings; EntryError (a code of the message catalog) saying what is
    wrong."""
    if raw is None:
        return Localisation()
    if not isinstance(raw, dict):
        raise EntryError("catalog.localisation_form")
    _known(raw, LOCALISATION_KEYS)
    weights = dict(DEFAULT_WEIGHTS)
    for kind, w in _mapping(raw.get("weights"), "weights").items():
        if kind not in kinds:
            raise EntryError("catalog.kind_unknown", kind=str(kind), kinds=sorted(kinds)).on(
                "weights"
            )
        weights[kind] = _positive(w, f"weights.{kind}")
    indicators = {}
    for code, w in _mapping(raw.get("indicators"), "indicators").items():
        if code not in codes:
            raise EntryError("catalog.localisation_indicator", code=str(code)).on("indicators")
        indicators[code] = _positive(w, f"indicators.{code}")
    history = _mapping(raw.get("history"), "history")
    try:
        _known(history, HISTORY_KEYS)
    except EntryError as exc:
        raise exc.on("history") from None
    alternatives = raw.get("alternatives", 3)
    if isinstance(alternatives, bool) or not isinstance(alternatives, int) or alternatives < 1:
        raise EntryError("catalog.localisation_alternatives", value=repr(alternatives)).on(
            "alternatives"
        )
    return Localisation(
        weights=weights,
        indicators=indicators,
        history_factor=_positive(history.get("factor", 1.5), "history.factor"),
        history_ratio=_positive(history.get("ratio", 2.0), "history.ratio"),
        time_limit=_positive(raw.get("time_limit", 0.25), "time_limit"),
        budget=_positive(raw.get("budget", 1.0), "budget"),
        alternatives=alternatives,
    )


def _known(raw: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(str(k) for k in set(raw) - allowed)
    if unknown:
        keys = [f"'{k}'" for k in unknown]
        raise EntryError("catalog.unknown_key", keys=keys, allowed=sorted(allowed)).on(unknown[0])


def _mapping(raw: Any, key: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise EntryError("catalog.localisation_mapping", key=key).on(key)
    return raw


def _positive(raw: Any, key: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw > 0:
        raise EntryError("catalog.localisation_positive", key=key, value=repr(raw)).on(
            key.split(".")[0]
        )
    return float(raw)
