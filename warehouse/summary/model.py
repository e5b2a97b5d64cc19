"""The period's summary as data: every stored figure the report shows (build.py gathers it,
sentences.py words it; tables.py, document.py, render.py and word.py lay it out)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from validations.catalog import Catalog
from validations.errors import RefusedError
from validations.period import Period
from validations.units import Unit
from warehouse.rollup import Completeness


class SummaryError(RefusedError, ValueError):
    """The summary cannot be built (no consolidated data for that unit and period)."""


def ok(x: object) -> bool:
    """A present figure (not None, not NaN)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@dataclass
class Summary:
    """Everything the period report shows."""

    unit: Unit
    period: Period
    rollup: pd.DataFrame  # one row per indicator (warehouse.rollup.ROLLUP_COLUMNS)
    completeness: Completeness | None
    child_completeness: list[Completeness]
    children: pd.DataFrame  # unit_code, unit_name, indicator, value, last_year_value
    trend: pd.DataFrame  # period, indicator, value (monthly: this year's and last year's)
    catalog: Catalog
    consolidated_at: Any = None
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (group, sentence)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # plausibility, footnoted
    approval: str | None = None  # approved | accepted | None (open)
    # corrections after the approval the approved figures do not show (warehouse.rollup.notes)
    approval_notes: list[str] = field(default_factory=list)
    child_words: str = "đơn vị"  # "huyện, thành phố" / "xã, phường"
    leaf_words: str = "xã"  # the communes under the unit: "xã, phường, thị trấn"

    def row(self, code: str) -> dict[str, Any] | None:
        hit = self.rollup.loc[self.rollup["indicator"] == code]
        return None if hit.empty else hit.iloc[0].to_dict()

    def value(self, code: str) -> float | None:
        r = self.row(code)
        return float(r["value"]) if r and ok(r["value"]) else None

    @property
    def has_last_year(self) -> bool:
        """Does the warehouse hold the same period last year (any change filled)?"""
        return bool(self.rollup["change_vs_last_year"].notna().any())

    @property
    def last_year(self) -> int:
        """The year "so với cùng kỳ" compares with."""
        return self.period.same_period_last_year().year

    @property
    def subject(self) -> str:
        """The report's summary line (trích yếu), without the period."""
        return (
            "Kết quả công tác phòng, chống tội phạm, tệ nạn xã hội và xây dựng phong trào "
            "Toàn dân bảo vệ an ninh Tổ quốc"
        )

    @property
    def summary_line(self) -> str:
        """'Kết quả công tác ... Tổ quốc 6 tháng đầu năm 2024'."""
        return f"{self.subject} {self.period.label_vi}"

    @property
    def title(self) -> str:
        return f"BÁO CÁO {self.summary_line.upper()}"
