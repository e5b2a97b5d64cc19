"""What validating one submission file produces: the verdict, its Issues and the parsed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from validations.issue import Issue, Severity, Status, status_of
from validations.localise.suspect import Suspect

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
    # which figure is wrong (validations/localise): for a rejected submission, the fewest cells
    # whose change makes every linear rule hold; an addition to the Issues, never one of them
    suspects: list[Suspect] = field(default_factory=list)

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

    @property
    def n_values(self) -> int:
        """len(values), without building the frame."""
        v = self.__dict__["_values"]
        return v.stop - v.start if isinstance(v, BatchValues) else len(v)

    def value_columns(self) -> dict[str, Any]:
        """The values as one array per column of VALUE_COLUMNS, without building a DataFrame
        (unit_code and period are the result's own, as scalars)."""
        v = self.__dict__["_values"]
        if isinstance(v, BatchValues):
            return v.columns()
        return {c: v[c].to_numpy() for c in VALUE_COLUMNS if c in v}

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
            "suspects": [s.to_dict(lang) for s in self.suspects],
            "issues": [i.to_dict(lang) for i in self.issues],
        }


class BatchValues:
    """A result's values as rows start:stop of arrays shared by every result of a batch.

    The validator checks 10,000 files as one frame; building one small DataFrame per result
    (and reading it back column by column to stage it) would cost more than the validation.
    The DataFrame is built the first time `ValidationResult.values` is read, exactly as a
    result of its own would hold it; `value_columns()` and `n_values` never build it.
    """

    __slots__ = ("arrays", "start", "stop", "unit_code", "period")

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        start: int,
        stop: int,
        unit_code: str | None,
        period: str | None,
    ):
        self.arrays = arrays  # indicator, value, note, location: shared, never modified
        self.start, self.stop = int(start), int(stop)
        self.unit_code, self.period = unit_code, period

    def columns(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit_code": self.unit_code, "period": self.period}
        for c in ("indicator", "value", "note", "location"):
            out[c] = self.arrays[c][self.start : self.stop]
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns(), columns=VALUE_COLUMNS)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.arrays, self.start, self.stop, self.unit_code, self.period)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.arrays, self.start, self.stop, self.unit_code, self.period = state


def _get_values(self: ValidationResult) -> pd.DataFrame:
    v = self.__dict__["_values"]
    if isinstance(v, BatchValues):
        v = self.__dict__["_values"] = v.frame()
    return v


def _set_values(self: ValidationResult, value: pd.DataFrame | BatchValues) -> None:
    self.__dict__["_values"] = value


# `values` stays a dataclass field (constructor, eq, repr) whose frame may be built lazily.
ValidationResult.values = property(_get_values, _set_values)  # type: ignore[assignment]
