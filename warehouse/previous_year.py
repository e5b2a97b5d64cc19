"""A reported figure of last year is checked against the warehouse's (same territory).

The catalog marks indicators that are another indicator's figure for the same period last year
(`last_year_of`: crime_cases_prev is last year's crime_cases). At ingest, a submission's value
of such an indicator is compared with what the warehouse holds for the same territory and the
same period last year, read through `rollup_as_of` in the structure of the submission's period:
the unit's own consolidated figure, or, for a unit created by the 2025 reform and a period
before it, the sum of its predecessors' (validations/crosswalk.py). A difference beyond the
indicator's tolerance is a warning (rule kind `previous_year`) naming both figures and the
units summed; it never rejects. Nothing is checked where the warehouse has no such figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.period import PeriodError, parse_period
from validations.result import ValidationResult
from validations.units import ReferenceUnits, structure_on

REQUEST_COLUMNS = [
    "sub",
    "unit_code",
    "last_period",
    "structure",
    "indicator",
    "of",
    "value",
    "location",
]


def _requests(results: Sequence[ValidationResult], catalog: Catalog) -> pd.DataFrame:
    """One row per reported value of a `last_year_of` indicator of a readable submission."""
    dated = {c: i.last_year_of for c, i in catalog.indicators.items() if i.last_year_of}
    rows: list[tuple] = []  # type: ignore[type-arg]
    for k, r in enumerate(results):
        if not dated or not r.unit_code or not r.period or not r.n_values:
            continue
        try:
            p = parse_period(r.period)
        except PeriodError:
            continue
        errs = {i.indicator for i in r.errors if i.indicator}
        cols = r.value_columns()
        inds = np.asarray(cols["indicator"], dtype=object)
        for j in np.flatnonzero(np.isin(inds, list(dated))):
            code = str(inds[j])
            value = float(cols["value"][j])
            if code in errs or value != value:
                continue
            loc = cols.get("location")
            rows.append(
                (
                    k,
                    r.unit_code,
                    p.same_period_last_year().code,
                    structure_on(p.end(catalog.close_day)),
                    code,
                    dated[code],
                    value,
                    None if loc is None else loc[j],
                )
            )
    return pd.DataFrame(rows, columns=REQUEST_COLUMNS)


def add_previous_year_warnings(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[ValidationResult],
    catalog: Catalog,
    units: ReferenceUnits,
) -> int:
    """Append a `previous_year` warning to each result whose last-year figure disagrees with the
    warehouse's for the same territory; returns how many were added."""
    rules = catalog.rules_of_kind("previous_year")
    req = _requests(results, catalog)
    if not rules or req.empty:
        return 0
    rule = rules[0]
    con.register("_prev_req", req)
    try:
        found = con.execute(
            """
            SELECT q.sub, q.indicator, q.value, q.location, q.unit_code, q.last_period,
                   a.value AS stored, a.source_units, a.approximate
            FROM _prev_req q
            JOIN (SELECT '2025' AS target, * FROM rollup_as_of('2025')
                  UNION ALL SELECT 'legacy', * FROM rollup_as_of('legacy')) a
              ON a.target = q.structure AND a.unit_code = q.unit_code
             AND a.period = q.last_period AND a.indicator = q.of
            WHERE a.value IS NOT NULL
            ORDER BY q.sub, q.indicator
            """
        ).fetchall()
    finally:
        con.unregister("_prev_req")
    for k in req["sub"].unique():
        checked = results[int(k)].checked
        checked[rule.id] = checked.get(rule.id, 0) + int((req["sub"] == k).sum())
    added = 0
    for sub, code, value, location, _unit, last, stored, sources, approx in found:
        ind = catalog.indicators[code]
        if ind.tolerance.allows(value, stored):
            continue
        result = results[int(sub)]
        on: date = parse_period(last).end(catalog.close_day)
        names = [(units.get(c, on), c) for c in sources]
        listed = ", ".join(f"{u.name} ({c})" if u else c for u, c in names)
        texts = {}
        for lang in ("vi", "en"):
            of = catalog.indicators[ind.last_year_of or ""].label(lang)
            if lang == "vi":
                detail = f"{of} kỳ {last} của {listed}" + (" (ước tính)" if approx else "")
            else:
                detail = f"{of}, {last}, of {listed}" + (" (an estimate)" if approx else "")
            fields = {
                "label": ind.label(lang),
                "value": fmt_num(value, lang),
                "expected": fmt_num(stored, lang),
                "detail": detail,
            }
            texts[lang] = (
                getattr(rule, f"message_{lang}").format_map(fields),
                getattr(rule, f"hint_{lang}").format_map(fields),
            )
        result.issues.append(
            Issue(
                rule_id=rule.id,
                severity=Severity(rule.severity),
                unit_code=result.unit_code,
                period=result.period,
                indicator=code,
                location=location,
                value=value,
                expected=fmt_num(stored, "en").replace(",", ""),
                message_vi=texts["vi"][0],
                message_en=texts["en"][0],
                hint_vi=texts["vi"][1],
                hint_en=texts["en"][1],
                extra={"stored": stored, "source_units": list(sources), "approximate": approx},
            )
        )
        added += 1
    return added
