"""Gathering a period's summary from the warehouse: only stored, consolidated figures.

Everything the summary shows is a row of fct_rollup or fct_completeness (one truth): the unit's
figures, its children side by side, the monthly trend. A period that was not consolidated
yet is refused with what to do ("tonghop consolidate ..."), never recomputed on the side, so the
report and the warehouse cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.errors import RefusedError
from validations.period import Period
from validations.units import ReferenceUnits, Unit
from warehouse.rollup import Completeness, read_completeness, read_completeness_many, read_rollup
from warehouse.rollup.scope import locate

TREND_INDICATORS = ("crime_cases", "crime_clearance_rate")
SIDE_BY_SIDE = (
    "crime_cases",
    "crime_solved",
    "crime_clearance_rate",
    "drug_cases",
    "drug_users_managed",
    "propaganda_sessions",
)


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
    children: pd.DataFrame  # unit_code, unit_name, indicator, value (side by side)
    trend: pd.DataFrame  # period, indicator, value (monthly, up to this period)
    catalog: Catalog
    consolidated_at: Any = None
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (group, sentence)

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
    def title(self) -> str:
        return (
            "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÒNG, CHỐNG TỘI PHẠM VÀ TỆ NẠN XÃ HỘI "
            f"{self.period.label_vi.upper()}"
        )


def build_summary(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    trend_months: int = 12,
) -> Summary:
    """The summary of a consolidated (period, unit), read from the warehouse."""
    p, on, unit = locate(period, unit_code, catalog, units, SummaryError)
    df = read_rollup(con, p.code, unit.code)
    if df.empty or df["value"].notna().sum() == 0:
        raise SummaryError("summary.not_consolidated", unit=unit.code, period=p.code)
    kids = units.children(unit.code, on)
    comps = read_completeness_many(con, p.code, [k.code for k in kids if k.level != "C"])
    side = read_rollup(con, p.code, [k.code for k in kids])
    names = {k.code: k.name for k in kids}
    side = side.loc[side["indicator"].isin(SIDE_BY_SIDE), ["unit_code", "indicator", "value"]]
    side.insert(1, "unit_name", side["unit_code"].map(names))
    s = Summary(
        unit,
        p,
        df,
        read_completeness(con, p.code, unit.code),
        [comps[k.code] for k in kids if k.code in comps],
        side.reset_index(drop=True),
        _trend(con, p, unit.code, trend_months),
        catalog,
        df["consolidated_at"].max(),
    )
    from warehouse.summary.sentences import SENTENCES

    s.sentences = [(g, text) for g, fn in SENTENCES.items() if (text := fn(s))]
    return s


def _trend(con: duckdb.DuckDBPyConnection, p: Period, unit_code: str, months: int) -> pd.DataFrame:
    """The unit's stored monthly figures of TREND_INDICATORS, up to the period's last month."""
    y, m = p.year, p.last_month
    codes = []
    for _ in range(months):
        codes.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    df = con.execute(
        "SELECT period, indicator, value FROM fct_rollup WHERE unit_code = $u"
        " AND period IN (SELECT unnest($p)) AND indicator IN (SELECT unnest($i))"
        " AND value IS NOT NULL ORDER BY period, indicator",
        {"u": unit_code, "p": codes, "i": list(TREND_INDICATORS)},
    ).df()
    return df.reindex(columns=["period", "indicator", "value"])
