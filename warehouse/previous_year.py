"""A reported figure of last year is checked against the warehouse's (same territory).

The catalog marks indicators that are another indicator's figure for the same period last year
(`last_year_of`: crime_cases_prev is last year's crime_cases). At ingest, a submission's value
of such an indicator is compared with what the warehouse holds for the same territory and the
same period last year, read through `rollup_as_of` in the structure of the submission's period:
the unit's own consolidated figure, or, for a unit created by the 2025 reform and a period
before it, the sum of its predecessors' (validations/crosswalk.py), as `rollup_as_of` gives
them (read here with one query on the periods asked, which scales to a national month). A difference beyond the
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
from validations.crosswalk import load_crosswalk
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


def _stored(con: duckdb.DuckDBPyConnection, req: pd.DataFrame, catalog: Catalog) -> list[tuple]:  # type: ignore[type-arg]
    """For each request, the warehouse's figure of the same territory last year: the unit's own
    consolidated row, or across the 2025 reform the sum of its predecessors' rows (shares
    applied, only when every predecessor has it). One query over the periods asked."""
    xw = load_crosswalk(catalog.divided_communes)
    rows = []
    structure_of = {
        last: structure_on(parse_period(last).end(catalog.close_day))
        for last in req["last_period"].unique()
    }
    for k, unit, last, structure in zip(
        req.index, req["unit_code"], req["last_period"], req["structure"], strict=True
    ):
        if structure_of[last] == structure:
            rows.append((k, unit, 1.0, False))
        else:
            rows += [(k, x.old_code, x.share, x.approximate) for x in xw.predecessors(unit)]
    links = pd.DataFrame(rows, columns=["req", "source", "share", "approximate"])
    links = links.join(req[["last_period", "of"]], on="req")
    if links.empty:
        return []
    con.register("_prev_links", links)
    try:
        got = con.execute(
            """
            SELECT l.req, sum(l.share * r.value) AS stored, count(r.value) AS n_found,
                   count(*) AS n_links, list(l.source ORDER BY l.source) AS sources,
                   bool_or(l.approximate) AS approximate
            FROM _prev_links l
            LEFT JOIN fct_rollup r
              ON r.unit_code = l.source AND r.period = l.last_period AND r.indicator = l.of
             AND r.period IN (SELECT DISTINCT last_period FROM _prev_links)
            GROUP BY l.req
            """
        ).fetchall()
    finally:
        con.unregister("_prev_links")
    out = []
    cols = {c: dict(zip(req.index, req[c], strict=True)) for c in REQUEST_COLUMNS}
    for k, stored, n_found, n_links, sources, approx in got:
        if stored is None or n_found != n_links:
            continue
        out.append(
            (cols["sub"][k], cols["indicator"][k], cols["value"][k], cols["location"][k],
             cols["unit_code"][k], cols["last_period"][k], stored, sources, approx)
        )  # fmt: skip
    return sorted(out, key=lambda r: (r[0], r[1]))


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
    found = _stored(con, req, catalog)
    for k, n in req["sub"].value_counts(sort=False).items():
        checked = results[int(k)].checked
        checked[rule.id] = checked.get(rule.id, 0) + int(n)
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
