"""Gathering a period's summary from the warehouse: only stored, consolidated figures.

Everything the summary shows is a row of fct_rollup, fct_completeness or
fct_consolidation_issue (one truth): the unit's figures with last year's, the target each was
judged against and its source, its children side by side, the monthly trend with last year's
months, the plausibility warnings of the consolidation (footnoted) and whether the period was
approved. A period that was not consolidated yet is refused with what to do ("tonghop
consolidate ..."), never recomputed on the side, so the report and the warehouse cannot
disagree.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.period import Period
from validations.units import ReferenceUnits, Unit
from warehouse.approval import approval_state
from warehouse.rollup import (
    RULE_IMPLAUSIBLE,
    notes,
    read_completeness,
    read_completeness_many,
    read_rollup,
)
from warehouse.rollup.reading import nothing_reported
from warehouse.rollup.scope import locate
from warehouse.summary.model import Summary, SummaryError
from warehouse.summary.sentences import SENTENCES

TREND_INDICATORS = ("crime_cases", "crime_clearance_rate")
SIDE_BY_SIDE = (
    "crime_cases",
    "crime_solved",
    "crime_clearance_rate",
    "drug_cases",
    "drug_users_managed",
    "propaganda_sessions",
)
# the words of a unit type, in the order a report lists them ("xã, phường, đặc khu"): the 2025
# structure has no thị trấn and no districts; the words come from the units' own names
UNIT_TYPES = {
    "C": ("xã", "phường", "thị trấn", "đặc khu"),
    "D": ("huyện", "quận", "thị xã", "thành phố"),
    "P": ("tỉnh", "thành phố"),
}


def unit_types(units: list[Unit], level: str | None) -> str:
    """'huyện, thành phố', 'xã, phường': the types of these units, as their names say, in the
    order reports list them; the level's word when none is recognised."""
    if not level:
        return "đơn vị"
    found = {t for u in units for t in UNIT_TYPES[level] if u.name.lower().startswith(t + " ")}
    words = [t for t in UNIT_TYPES[level] if t in found]
    return ", ".join(words) or {"C": "xã", "D": "huyện", "P": "tỉnh"}[level]


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
        nothing = nothing_reported(con, p.code, unit.code)  # consolidated, nobody reported
        if nothing is not None:
            raise SummaryError(nothing.reason, **nothing.params)
        raise SummaryError("summary.not_consolidated", unit=unit.code, period=p.code)
    kids = units.children(unit.code, on)
    comps = read_completeness_many(con, p.code, [k.code for k in kids if k.level != "C"])
    side = read_rollup(con, p.code, [k.code for k in kids])
    names = {k.code: k.name for k in kids}
    side = side.loc[
        side["indicator"].isin(SIDE_BY_SIDE),
        ["unit_code", "indicator", "value", "last_year_value"],
    ]
    side.insert(1, "unit_name", side["unit_code"].map(names))
    leaves = [g for k in kids if k.level != "C" for g in units.children(k.code, on)]
    leaves += [k for k in kids if k.level == "C"]
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
        warnings=_warnings(con, p.code, unit.code),
        approval=approval_state(con, unit.code, p.code),
        approval_notes=[
            m.render("vi") for m in notes.messages(con, unit.code, p.code, catalog.close_day)
        ],
        child_words=unit_types(kids, kids[0].level if kids else None),
        leaf_words=unit_types(leaves, "C"),
    )
    s.sentences = [(g, text) for g, fn in SENTENCES.items() if (text := fn(s))]
    return s


def months_back(p: Period, months: int, years_back: int = 0) -> list[str]:
    y, m = p.year - years_back, p.last_month
    out = []
    for _ in range(months):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _trend(con: duckdb.DuckDBPyConnection, p: Period, unit_code: str, months: int) -> pd.DataFrame:
    """The unit's stored monthly figures of TREND_INDICATORS up to the period's last month, and
    those of the same months a year before (last year's series of the charts): the figure each
    month compares with as its consolidation recorded it (`last_year_value`: the same
    territory across the 2025 reform, and, in an approved period, the base it was approved
    with), else the unit's own stored figure of that month."""
    now, then = months_back(p, months), months_back(p, months, 1)
    df = con.execute(
        "SELECT period, indicator, value, last_year_value FROM fct_rollup WHERE unit_code = $u"
        " AND period IN (SELECT unnest($p)) AND indicator IN (SELECT unnest($i))"
        " ORDER BY period, indicator",
        {"u": unit_code, "p": list(dict.fromkeys(now + then)), "i": list(TREND_INDICATORS)},
    ).df()
    recorded = df.loc[df["period"].isin(now) & df["last_year_value"].notna()]
    base = pd.DataFrame(
        {
            "period": [f"{int(q[:4]) - 1}{q[4:]}" for q in recorded["period"]],
            "indicator": recorded["indicator"].to_numpy(),
            "value": recorded["last_year_value"].to_numpy(),
        }
    )
    own = df.loc[df["value"].notna(), ["period", "indicator", "value"]]
    keys = set(zip(base["period"], base["indicator"], strict=True))
    own = own.loc[
        [(a, b) not in keys for a, b in zip(own["period"], own["indicator"], strict=True)]
    ]
    out = (
        pd.concat([f for f in (own, base) if len(f)], ignore_index=True)
        if len(own) or len(base)
        else pd.DataFrame(columns=["period", "indicator", "value"])
    )
    out = out.sort_values(["period", "indicator"], kind="stable").reset_index(drop=True)
    return out.reindex(columns=["period", "indicator", "value"])


def _warnings(con: duckdb.DuckDBPyConnection, period: str, unit_code: str) -> list[dict[str, Any]]:
    """The consolidation's plausibility warnings of the unit (fct_consolidation_issue)."""
    cur = con.execute(
        "SELECT indicator, value, expected, message_vi, message_en, extra"
        " FROM fct_consolidation_issue WHERE period = $p AND unit_code = $u AND rule_id = $r"
        " ORDER BY indicator",
        {"p": period, "u": unit_code, "r": RULE_IMPLAUSIBLE},
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
