"""The catalog's typed objects: indicators, rules, outlier rules, the catalog itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from validations.catalog.localisation import Localisation
from validations.catalog.semantics import Formula, OverTime, PlausibleChange, Target, Tolerance
from validations.period import Period

_FLAG_HELP = re.compile(r"\s*\((?:1|yes)\b[^)]*\)\s*\Z", re.I)

KINDS = {"count", "decimal", "rate", "flag"}
LEVELS = ("C", "D", "P")
AGGREGATIONS = {"sum", "ratio", "count_share"}
RELATIONS = {"=", ">=", "-"}
SEVERITIES = {"error", "warning"}
# Which way is good (DOMAIN.md): a fall of crime is good, a rise of the clearance rate is good,
# reports received are neither. Verbs ("kéo giảm") and colours follow it, never the sign alone.
DIRECTIONS = ("down_is_good", "up_is_good", "neutral")
# How a quarter, half-year or year treats a unit that sent only some of its months
# (`calendar: partial_months`): sum_reported (DHIS2's rule: the months it sent, flagged as
# incomplete and said in the report) or leave_out (the unit has no figure for the period).
PARTIAL_MONTHS = ("sum_reported", "leave_out")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of the form, with what its figures mean (semantics.py)."""

    code: str
    group: str
    label_vi: str
    label_en: str
    unit_vi: str
    unit_en: str
    levels: tuple[str, ...]
    kind: str
    aggregation: str  # across units: sum | ratio (of sums) | count_share (flags)
    parent_relation: str  # a parent's own figure vs its children's sum: "=", ">=", "-"
    required: bool
    min: float | None
    max: float | None
    numerator: str | None = None
    denominator: str | None = None
    formula: Formula | None = None
    target: Target | None = None
    over_time: OverTime = OverTime.FLOW
    over_time_reason: str = ""
    tolerance: Tolerance = field(default_factory=Tolerance)
    valid_from: date | None = None
    valid_to: date | None = None
    # The largest plausible submitted value (`ceiling:`, default per kind from the catalog's
    # `defaults: ceiling:`); above it a submission is refused (rule kind "ceiling", rule
    # value_implausible). Submissions only: rollups are not bounded by it.
    ceiling: float | None = None
    last_year_of: str | None = None  # this is that indicator's figure of last year
    direction: str = "neutral"  # down_is_good | up_is_good | neutral (DIRECTIONS)
    # how far a consolidated figure may move against the same territory last year (or its own
    # history) before it is a plausibility warning; None: not checked (rates, flags)
    plausible_change: PlausibleChange | None = None

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def unit(self, lang: str = "vi") -> str:
        return self.unit_vi if lang == "vi" else self.unit_en

    @property
    def is_rate(self) -> bool:
        return self.aggregation == "ratio"

    @property
    def is_flag(self) -> bool:
        return self.aggregation == "count_share"

    @property
    def is_stock(self) -> bool:
        return self.over_time == OverTime.STOCK

    def rate(self, n: object, d: object) -> float | None:
        """This rate from its parts (None for an indicator that is not a rate)."""
        return self.formula.of(n, d) if self.formula else None

    def attainment(self, value: object) -> tuple[str | None, float | None]:
        return self.target.attainment(value) if self.target else (None, None)

    @property
    def is_change(self) -> bool:
        """A change vs the same period last year (a rate of formula `change`)."""
        return self.formula == Formula.CHANGE

    @property
    def is_helper(self) -> bool:
        """A row of the form that is not an indicator of its own in a report's tables: last
        year's figure (`last_year_of`) or a change vs last year (formula `change`); its figure
        is shown in the row of the indicator it belongs to (`subject`)."""
        return self.last_year_of is not None or self.is_change

    @property
    def subject(self) -> str:
        """The indicator a helper row belongs to (itself otherwise)."""
        if self.last_year_of:
            return self.last_year_of
        if self.is_change and self.numerator:
            return self.numerator
        return self.code

    def report_label(self, lang: str = "vi") -> str:
        """The label as a report prints it: a flag's submitter's explanation ("(1 đạt, 0
        không)") left out."""
        return _FLAG_HELP.sub("", self.label(lang)) if self.kind == "flag" else self.label(lang)

    def valid_on(self, day: date) -> bool:
        """Is the indicator on the form on that day (the period's closing date)?"""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def validity_text(self) -> str:
        a = self.valid_from.isoformat() if self.valid_from else "…"
        b = self.valid_to.isoformat() if self.valid_to else "…"
        return f"{a} – {b}"


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
    """One rule with a stable id; `kind` selects the check (validations.catalog.kinds), the
    texts come from YAML."""

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
    params: tuple[tuple[str, Any], ...] = ()  # a kind's own keys (validations.catalog.kinds)

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

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


@dataclass(frozen=True, slots=True)
class SecurityRule:
    """One rule of the catalog's `security:` section (who may submit what:
    validations/authority.py)."""

    id: str
    severity: str
    message_vi: str
    message_en: str
    hint_vi: str
    hint_en: str


@dataclass(frozen=True, slots=True)
class UnitTarget:
    """A unit's own target (`targets:`): a province's resolution sets its own goals. `units`
    are unit codes; a province's code covers every unit of the province. Valid between the
    dates (a period's closing date decides), so a code reused across the 2025 reform (the new
    Tuyên Quang is 08 like the old one) keeps each province's own goals."""

    indicator: str
    units: frozenset[str]
    target: Target
    valid_from: date | None = None
    valid_to: date | None = None

    def applies(self, unit_code: str, province_code: str, day: date) -> int:
        """0: not to this unit on that day; 2: named by its own code; 1: by its province's."""
        if (self.valid_from and day < self.valid_from) or (self.valid_to and day > self.valid_to):
            return 0
        return 2 if unit_code in self.units else 1 if province_code in self.units else 0


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
    divided_communes: str = "default"  # the 2025 crosswalk's rule (validations/crosswalk.py)
    unit_targets: tuple[UnitTarget, ...] = ()  # `targets:` units' own goals, with sources
    partial_months: str = "sum_reported"  # PARTIAL_MONTHS (`calendar: partial_months`)
    localisation: Localisation = field(default_factory=Localisation)  # which figure is wrong
    security: dict[str, SecurityRule] = field(default_factory=dict)  # `security:` by id

    def target_for(self, code: str, unit_code: str, province_code: str, day: date) -> Target | None:
        """The target an indicator has for a unit on a day (the period's closing date), as set:
        the unit's own (`targets:` naming its code), else its province's, else the
        indicator's (`target:`, the form's national goal); the last entry of a kind wins (a
        provincial catalog's entries come after the ones it includes)."""
        best, rank = None, 0
        for t in self.unit_targets:
            if t.indicator == code:
                r = t.applies(unit_code, province_code, day)
                if r and r >= rank:
                    best, rank = t.target, r
        if best is not None:
            return best
        ind = self.indicators.get(code)
        return ind.target if ind else None

    def deadline(self, period: Period, level: str) -> date | None:
        """When a unit of `level` must have sent its report for `period`: the closing date plus
        the level's deadline days (`calendar.deadline_days`); None when the calendar has none."""
        days = self.deadline_days.get(level)
        return None if days is None else period.end(self.close_day) + timedelta(days=days)

    def for_level(self, level: str, on: date | None = None) -> list[Indicator]:
        """The indicators a unit of that level reports (on that day, when given)."""
        return [
            i
            for i in self.indicators.values()
            if level in i.levels and (on is None or i.valid_on(on))
        ]

    def rules_of_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.kind == kind]

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def rates(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.kind == "rate"]

    def codes(
        self, *, over_time: OverTime | None = None, aggregation: str | None = None
    ) -> list[str]:
        """Indicator codes, filtered by how they aggregate over time and across units."""
        return [
            i.code
            for i in self.indicators.values()
            if (over_time is None or i.over_time == over_time)
            and (aggregation is None or i.aggregation == aggregation)
        ]

    def stocks(self) -> list[str]:
        return self.codes(over_time=OverTime.STOCK)
