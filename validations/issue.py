"""One failure, one record: the Issue that every check yields, end to end."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """An error rejects the submission; a warning accepts it with a remark."""

    ERROR = "error"
    WARNING = "warning"


class Status(StrEnum):
    """The verdict on one submission."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Issue:
    """A single rule failure, printed identically by reports, JSON output and the warehouse."""

    rule_id: str
    severity: Severity
    unit_code: str | None
    period: str | None
    indicator: str | None
    location: str | None
    value: Any
    expected: str | None
    message_vi: str
    message_en: str
    hint_vi: str = ""
    hint_en: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def message(self, lang: str = "vi") -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def hint(self, lang: str = "vi") -> str:
        return self.hint_vi if lang == "vi" else self.hint_en

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON form: stable keys, the message in the chosen language plus both originals."""
        d = asdict(self)
        d.pop("extra")
        d["severity"] = str(self.severity)
        d["rule"] = self.rule_id
        d["message"] = self.message(lang)
        d["hint"] = self.hint(lang)
        if isinstance(self.value, float) and self.value.is_integer():
            d["value"] = int(self.value)
        return d


ROW_COLUMNS = (
    "rule_id",
    "severity",
    "unit_code",
    "period",
    "indicator",
    "location",
    "value",
    "expected",
    "message_vi",
    "message_en",
    "hint_vi",
    "hint_en",
    "extra",
)


def value_text(value: Any) -> str | None:
    """The one convention for an Issue's value in a table: text as written; a number in full
    precision without grouping (12, 92.85714285714286), never rounded; NaN and None are NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        x = float(value)
        if math.isnan(x):
            return None
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    return str(value)


def issue_row(issue: Issue) -> dict[str, Any]:
    """An Issue as a row of fct_issue / fct_consolidation_issue (columns ROW_COLUMNS): the only
    place an Issue becomes a row."""
    return {
        "rule_id": issue.rule_id,
        "severity": str(issue.severity),
        "unit_code": issue.unit_code,
        "period": issue.period,
        "indicator": issue.indicator,
        "location": issue.location,
        "value": value_text(issue.value),
        "expected": value_text(issue.expected),
        "message_vi": issue.message_vi,
        "message_en": issue.message_en,
        "hint_vi": issue.hint_vi,
        "hint_en": issue.hint_en,
        "extra": json.dumps(issue.extra, ensure_ascii=False, default=str) if issue.extra else None,
    }


def status_of(issues: list[Issue]) -> Status:
    """Rejected if any error, accepted with warnings if any warning, else accepted."""
    if any(i.severity == Severity.ERROR for i in issues):
        return Status.REJECTED
    if issues:
        return Status.ACCEPTED_WITH_WARNINGS
    return Status.ACCEPTED
