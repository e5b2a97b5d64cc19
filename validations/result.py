"""What validating one submission file produces: the verdict, its Issues and the parsed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from validations.issue import Issue, Severity, Status, status_of

VALUE_COLUMNS = ["unit_code", "period", "indicator", "value", "note", "location"]


@dataclass
class ValidationResult:
    """The outcome for one file.

    `values` holds one row per (unit_code, period, indicator) that could be read, with
    columns VALUE_COLUMNS (value is float, NaN when unreadable); rows of unknown indicators
    are left out. `unit_code` and `period` are the canonical ones (None when unreadable).
    """

    path: str
    unit_code: str | None
    period: str | None
    issues: list[Issue]
    values: pd.DataFrame
    level: str | None = None
    file_format: str = "csv"
    encoding: str | None = None
    checked: dict[str, int] = field(default_factory=dict)  # rule id -> items checked

    @property
    def status(self) -> Status:
        return status_of(self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.WARNING]

    def failed(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.issues:
            out[i.rule_id] = out.get(i.rule_id, 0) + 1
        return out

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {
            "file": self.path,
            "status": str(self.status),
            "unit_code": self.unit_code,
            "period": self.period,
            "level": self.level,
            "format": self.file_format,
            "encoding": self.encoding,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "rules": [
                {"rule": r, "checked": n, "failed": self.failed().get(r, 0)}
                for r, n in self.checked.items()
            ],
            "issues": [i.to_dict(lang) for i in self.issues],
        }
