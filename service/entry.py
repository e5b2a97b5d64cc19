"""Entry: a unit's report typed into the web form, checked as it is typed, submitted as a file.

The form is the Excel template's (validations.template.form_sections: the same groups, order,
labels and units). What is typed is never judged by a second set of rules: the values are
written as the canonical CSV the submission will be (`canonical_csv`: unit_code, period,
indicator, value, note; each value read by validations.numbers, the reader's own parser) and
that CSV is validated by the validator (`check_draft`), exactly as the same file uploaded would
be. On top of it, each count and decimal is judged against the unit's own history with the
catalog's history outlier rule (`reference`: the statistics of its history, read once per
warehouse snapshot; `Reference.warnings`: validations.outliers' scores, judgement and Issues),
and the form shows DHIS2's min-max beside the field: the range of values that rule does not
flag (validations.outliers.usual_range). The whole dry run (service.check: the peers, last
year's figure, the version the warehouse would give) runs when asked and at submission, which
goes through the upload's own path.

Reads for the form: the newest stored version's values (`latest_values`), a field's last
periods of the same territory and its previous versions (`field_history`), a version's notes
(`version_notes`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog, Indicator, OutlierRule
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.numbers import AMBIGUOUS, OK, parse_numbers
from validations.outliers import JUDGED_KINDS, outliers_against, usual_range
from validations.period import parse_period
from validations.readers import ReadError, read_csv_bytes
from validations.result import ValidationResult
from validations.rules import expr_array
from validations.units import ReferenceUnits, structure_on
from warehouse.history import history_statistics, history_values

CSV_HEADER = ("unit_code", "period", "indicator", "value", "note")


class Validates(Protocol):
    """A Validator, or the portal's warm Checker: `validate(raws) -> results`."""

    def validate(self, raws: list[Any]) -> list[ValidationResult]: ...


@dataclass(frozen=True)
class Entry:
    """One field of the form as typed: the value's text, a comment, a follow-up mark."""

    indicator: str
    value: str = ""
    note: str = ""
    follow_up: bool = False

    @property
    def blank(self) -> bool:
        return not self.value.strip() and not self.note.strip()


def file_name(unit_code: str, period: str) -> str:
    """The name the form's submission carries (the name a unit gives its own CSV)."""
    return f"{unit_code}_{period}.csv"


def form_indicators(catalog: Catalog, level: str, period: str) -> list[Indicator]:
    """The indicators of the unit's level on the period's form, in the form's order."""
    return catalog.for_level(level, parse_period(period).end(catalog.close_day))


# --- what is typed ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """A typed value as validations.numbers reads it: its status and value, and the canonical
    reading written to the CSV ("1.234" -> "1234", "12,5" -> "12.5")."""

    status: str
    value: float | None
    canonical: str


def readings(entries: Iterable[Entry], catalog: Catalog) -> dict[str, Reading]:
    """Each non-blank value read by the reader's own parser, with its indicator's kind."""
    typed = [e for e in entries if e.value.strip() and e.indicator in catalog.indicators]
    if not typed:
        return {}
    kinds = pd.Series([catalog.indicators[e.indicator].kind for e in typed])
    parsed = parse_numbers(pd.Series([e.value for e in typed], dtype=object), kinds)
    out = {}
    for k, e in enumerate(typed):
        v = parsed.values.iloc[k]
        out[e.indicator] = Reading(
            str(parsed.status.iloc[k]), None if np.isnan(v) else float(v), parsed.read_as.iloc[k]
        )
    return out


def canonical_csv(unit_code: str, period: str, entries: Iterable[Entry], catalog: Catalog) -> bytes:
    """The values as the canonical CSV the form submits (UTF-8, comma, one row per filled
    field, in the given order): a value that reads cleanly as its canonical text, anything else
    as typed (the validator then says what is wrong with it, as it would in a file); the
    comment in `note`."""
    entries = [e for e in entries if not e.blank]
    read = readings(entries, catalog)
    rows = []
    for e in entries:
        r = read.get(e.indicator)
        rows.append((e, r.canonical if r is not None and r.status == OK else e.value.strip()))
    return _csv(unit_code, period, rows)


def typed_csv(unit_code: str, period: str, entries: Iterable[Entry]) -> bytes:
    """The values as typed, in the same rows: what the check as typed validates. Its
    validation is the canonical CSV's (a value that reads cleanly reads the same either way,
    anything else is written as typed in both), without reading every value twice."""
    return _csv(unit_code, period, [(e, e.value.strip()) for e in entries if not e.blank])


def _csv(unit_code: str, period: str, rows: list[tuple[Entry, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for e, value in rows:
        w.writerow([unit_code, period, e.indicator, value, e.note.strip()])
    return buf.getvalue().encode("utf-8")


# --- the unit's history: usual ranges and the history check ------------------------------------
@dataclass(frozen=True)
class UsualRange:
    """The values of an indicator the history check does not flag for this unit and period."""

    indicator: str
    low: float
    high: float | None  # None: no value is flagged above the median
    n: int  # periods of history
    median: float

    def text(self, lang: str = "vi") -> str:
        """'12–30' ('≥ 12' without an upper bound)."""
        if self.high is None:
            return f"≥ {fmt_num(self.low, lang)}"
        return f"{fmt_num(self.low, lang)}–{fmt_num(self.high, lang)}"

    def holds(self, value: float) -> bool:
        return self.low <= value and (self.high is None or value <= self.high)


@dataclass
class Reference:
    """What the typed values of a unit's period are judged against, read once per snapshot:
    the history outlier rule, each judged indicator's history statistics, its usual range."""

    unit_code: str
    period: str
    rule: OutlierRule | None = None
    stats: pd.DataFrame = field(default_factory=pd.DataFrame)  # indexed by indicator
    ranges: dict[str, UsualRange] = field(default_factory=dict)

    def warnings(self, result: ValidationResult, catalog: Catalog) -> list[Issue]:
        """The history check's warnings on a validated draft, as the ingest's check gives
        them: each count and decimal judged against its history's statistics, except where
        an error already concerns the indicator (one mistake, one Issue). Values inside their
        usual range are not scored at all (the range is where the rule flags nothing)."""
        if self.rule is None or not result.n_values or self.stats.empty:
            return []
        cols = result.value_columns()
        errors = {i.indicator for i in result.errors if i.indicator}
        rows = []
        for code, value, loc in zip(
            cols["indicator"], cols["value"], cols["location"], strict=True
        ):
            rng = self.ranges.get(code)
            v = float(value)
            if code in errors or code not in self.stats.index or np.isnan(v):
                continue
            if rng is not None and rng.holds(v):
                continue
            rows.append((code, v, loc))
        if not rows:
            return []
        values = pd.DataFrame(
            {
                "unit_code": result.unit_code,
                "period": result.period,
                "level": result.level,
                "indicator": [r[0] for r in rows],
                "value": [r[1] for r in rows],
                "location": [r[2] for r in rows],
            }
        )
        stats = self.stats.loc[values["indicator"]].set_axis(values.index)
        return list(outliers_against(values, stats, self.rule, catalog))


def history_rule(catalog: Catalog, level: str) -> OutlierRule | None:
    """The catalog's first outlier rule on the unit's own history for units of `level`."""
    return next(
        (r for r in catalog.outlier_rules.values() if r.method == "history" and level in r.levels),
        None,
    )


def reference(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> Reference:
    """The history statistics and usual ranges of the unit's judged indicators for the period
    (warehouse.history: the same history, across the 2025 reform the same territory's, that
    the ingest's check reads)."""
    p = parse_period(period)
    unit = units.get(unit_code, p.end(catalog.close_day))
    rule = history_rule(catalog, unit.level) if unit else None
    if unit is None or rule is None:
        return Reference(unit_code, p.code)
    codes = [
        i.code
        for i in form_indicators(catalog, unit.level, p.code)
        if i.kind in JUDGED_KINDS and i.code not in rule.exclude
    ]
    stats = history_statistics(con, unit_code, p.code, codes, catalog, rule)
    if stats.empty:
        return Reference(unit_code, p.code, rule)
    whole = [catalog.indicators[c].kind == "count" for c in stats["indicator"]]
    bounds = usual_range(stats, rule, whole)
    ranges = {}
    for k, code in enumerate(stats["indicator"]):
        low, high = bounds["low"].iloc[k], bounds["high"].iloc[k]
        if np.isnan(low):
            continue
        ranges[code] = UsualRange(
            code,
            float(low),
            None if np.isnan(high) else float(high),
            int(stats["n"].iloc[k]),
            float(stats["median"].iloc[k]),
        )
    return Reference(unit_code, p.code, rule, stats.set_index("indicator"), ranges)


# --- the check as the form is typed -------------------------------------------------------------
@dataclass
class DraftCheck:
    """A draft validated as its canonical CSV (None: nothing typed yet), with the history
    check's warnings added, and what the form computes from the values."""

    result: ValidationResult | None
    readings: dict[str, Reading]
    rates: dict[str, float]  # a rate recomputed from its typed parts (the catalog's formula)
    totals: dict[str, tuple[tuple[str, ...], float]]  # whole -> (its parts, their sum)

    @property
    def issues(self) -> list[Issue]:
        return list(self.result.issues) if self.result is not None else []


def check_draft(
    unit_code: str,
    period: str,
    entries: list[Entry],
    validator: Validates,
    catalog: Catalog,
    reference: Reference | None = None,
) -> DraftCheck:
    """The draft's values validated as the file they will be (the validator's Issues, the same
    messages and hints as a file's verdict), plus the history check's warnings; each value's
    reading, the rates and totals computed from what the validator read."""
    data = typed_csv(unit_code, period, entries)
    try:
        raw = read_csv_bytes(file_name(unit_code, period), data)
    except ReadError:  # nothing typed yet: a header only
        return DraftCheck(None, {}, {}, {})
    result = validator.validate([raw])[0]
    if reference is not None:
        result.issues.extend(reference.warnings(result, catalog))
    read = read_by(result, catalog)
    rates, totals = derived(read, catalog)
    return DraftCheck(result, read, rates, totals)


def read_by(result: ValidationResult, catalog: Catalog) -> dict[str, Reading]:
    """Each value as the validator read it (validations.numbers): a number, ambiguous (read the
    Vietnamese way and asked about), or nothing it could read."""
    asked = {r.id for r in catalog.rules_of_kind("ambiguous")}
    ambiguous = {i.indicator for i in result.issues if i.rule_id in asked}
    cols = result.value_columns()
    out = {}
    for code, value in zip(cols["indicator"], cols["value"], strict=True):
        v = float(value)
        if not np.isnan(v):
            out[str(code)] = Reading(AMBIGUOUS if code in ambiguous else OK, v, "")
    return out


def preview(entries: Iterable[Entry], catalog: Catalog) -> DraftCheck:
    """What the form computes from the typed values, without validating them."""
    read = readings(entries, catalog)
    rates, totals = derived(read, catalog)
    return DraftCheck(None, read, rates, totals)


def derived(
    read: Mapping[str, Reading], catalog: Catalog
) -> tuple[dict[str, float], dict[str, tuple[tuple[str, ...], float]]]:
    """What the form shows computed from the typed values: each rate from its parts (the
    catalog's formula, as the validator's rate check computes it) and, for each part <= whole
    rule whose side has several parts, their sum beside the whole."""
    values = {c: r.value for c, r in read.items() if r.status == OK and r.value is not None}
    rates = {}
    for ind in catalog.rates():
        if ind.numerator and ind.denominator:
            x = ind.rate(values.get(ind.numerator), values.get(ind.denominator))
            if x is not None:
                rates[ind.code] = x
    totals: dict[str, tuple[tuple[str, ...], float]] = {}
    wide = pd.DataFrame([values]) if values else pd.DataFrame(index=[0])
    for rule in catalog.rules_of_kind("compare"):
        for many, one in ((rule.left, rule.right), (rule.right, rule.left)):
            if len(many) > 1 and len(one) == 1 and all(t.coef == 1 for t in many):
                s = float(expr_array(wide, many)[0])
                if not np.isnan(s):
                    totals[one[0].code] = (tuple(t.code for t in many), s)
    return rates, totals


def by_indicator(issues: Iterable[Issue]) -> tuple[dict[str, list[Issue]], list[Issue]]:
    """Issues grouped by the field they concern, and those of no field (the unit, the
    period)."""
    fields: dict[str, list[Issue]] = {}
    general: list[Issue] = []
    for i in issues:
        if i.indicator:
            fields.setdefault(i.indicator, []).append(i)
        else:
            general.append(i)
    return fields, general


def is_error(issue: Issue) -> bool:
    return issue.severity == Severity.ERROR


# --- reads for the form --------------------------------------------------------------------------
def _records(con: duckdb.DuckDBPyConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    res = con.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def latest_values(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str
) -> dict[str, Any] | None:
    """The newest stored version of the unit's period (whatever its status: a correction
    starts from what was sent last): version, status, received_at, and its values and notes
    by indicator; None when nothing is stored."""
    rows = _records(
        con,
        "SELECT submission_id, version, status, received_at FROM fct_submission"
        " WHERE unit_code = ? AND period = ? ORDER BY version DESC LIMIT 1",
        [unit_code, period],
    )
    if not rows:
        return None
    out = rows[0]
    vals = _records(
        con,
        "SELECT indicator, value, note FROM fct_value WHERE submission_id = ? AND period = ?",
        [out["submission_id"], period],
    )
    out["values"] = {r["indicator"]: (r["value"], r["note"] or "") for r in vals}
    return out


def value_text(value: float | None) -> str:
    """A stored value as the form shows it to be typed over (the canonical reading)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    x = float(value)
    return str(int(x)) if x.is_integer() else repr(x)


def field_history(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: str,
    indicator: str,
    catalog: Catalog,
    n_periods: int = 12,
) -> dict[str, Any]:
    """A field's last `n_periods` periods of the same kind, of the same territory across the
    2025 reform (`mapped`: summed from the unit's predecessors), as the history check reads
    them; and its value in every stored version of this period, newest first."""
    p = parse_period(period)
    own = structure_on(p.end(catalog.close_day))
    hist = history_values(con, unit_code, p.code, [indicator], catalog, n_periods)
    close = catalog.close_day
    periods = [
        {
            "period": str(r.period),
            "value": float(r.value),
            "mapped": structure_on(parse_period(str(r.period)).end(close)) != own,
        }
        for r in hist.itertuples()
    ]
    versions = _records(
        con,
        """
        SELECT s.submission_id, s.version, s.status, s.is_current, s.received_at, s.file_name,
               v.value, v.note
        FROM fct_submission s
        LEFT JOIN fct_value v ON v.submission_id = s.submission_id AND v.period = s.period
                             AND v.indicator = ?
        WHERE s.unit_code = ? AND s.period = ?
        ORDER BY s.version DESC
        """,
        [indicator, unit_code, p.code],
    )
    return {"periods": periods, "versions": versions}


def version_notes(con: duckdb.DuckDBPyConnection, submission_id: str) -> list[dict[str, Any]]:
    """A stored version's values that carry a comment (the CSV's note)."""
    return _records(
        con,
        "SELECT indicator, value, note FROM fct_value WHERE submission_id = ?"
        " AND coalesce(note, '') <> '' ORDER BY indicator",
        [submission_id],
    )
