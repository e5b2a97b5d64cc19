"""Validate submissions: one file, or a whole batch at once (vectorised), into ValidationResults.

The batch is the unit of work: all submissions' rows are checked together by the pandera
schemas compiled from the catalog (see rules.py), and the Issues are then split per
submission. Validating one file is a batch of one.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog import Catalog, Rule, load_catalog
from validations.catalog.kinds import Finding
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.localise import Localiser, Suspect
from validations.numbers import TOO_LARGE, parse_numbers
from validations.period import AmbiguousPeriodError, Period, PeriodError, parse_period
from validations.readers import COLUMNS, OBJECT_COLUMNS, RawSubmission, read_submission
from validations.result import BatchValues, ValidationResult
from validations.rules import (
    CompiledCheck,
    failures,
    long_checks,
    long_schema,
    wide_checks,
    wide_schema,
)
from validations.units import LEGACY_END, LEVEL_NAMES_EN, LEVEL_NAMES_VI, ReferenceUnits, load_units


def default_today() -> date:
    """Today, or the date in TONGHOP_TODAY (YYYY-MM-DD) for reproducible runs."""
    env = os.environ.get("TONGHOP_TODAY")
    return date.fromisoformat(env) if env else date.today()


def _listed(items: list[str], n: int = 10, chars: int = 200) -> str:
    """At most n items and about `chars` characters of submitter text in a message (a file of
    4,000 duplicate rows or a 100 kB cell still gets a message one can read)."""
    text = ", ".join(items[:n]) + (f", … (+{len(items) - n})" if len(items) > n else "")
    return text if len(text) <= chars else text[:chars] + f"… (+{len(text) - chars})"


class _Fields(dict):  # type: ignore[type-arg]
    """format_map mapping that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class _Sub:
    """What the validator learns about one submission's header."""

    raw: RawSubmission
    unit_code: str | None = None
    period: Period | None = None
    level: str | None = None
    issues: list[Issue] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Validator:
    """Holds the catalog, reference units and compiled schemas; reusable across batches."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        units: ReferenceUnits | None = None,
        today: date | None = None,
        localise: bool = True,
    ):
        self.catalog = catalog or load_catalog()
        self.units = units or load_units()
        self.today = today or default_today()
        self._long_schema = long_schema(self.catalog)
        self._long_checks = {c.name: c for c in long_checks(self.catalog)}
        self._wide_schema = wide_schema(self.catalog)
        self._wide_checks = {c.name: c for c in wide_checks(self.catalog)}
        ind = self.catalog.indicators
        self._kind = {c: i.kind for c, i in ind.items()}
        self._min = {c: i.min for c, i in ind.items()}
        self._max = {c: i.max for c, i in ind.items()}
        self._ceiling = {c: i.ceiling for c, i in ind.items()}
        self._allowed = {f"{c}|{lv}" for c, i in ind.items() for lv in i.levels}
        self._dated = {c: i for c, i in ind.items() if i.valid_from or i.valid_to}
        # which figure is wrong, for a rejected submission (`localise=False`: the bench's
        # measure of what it adds)
        self._localiser = (
            Localiser(self.catalog, [c.spec for c in self._wide_checks.values() if c.spec])
            if localise
            else None
        )

    # --- public API ---------------------------------------------------------------------------
    def validate_file(self, path: str | Path) -> ValidationResult:
        """Read and validate one file; raises readers.ReadError when it cannot be read."""
        return self.validate([read_submission(path)])[0]

    def validate(self, raws: list[RawSubmission]) -> list[ValidationResult]:
        """Validate a batch of read submissions; one result per submission, in order."""
        if not raws:
            return []
        subs = [_Sub(raw) for raw in raws]
        rows = self._concat(raws)
        rows, respelled = self._normalise(rows)
        self._check_headers(subs, rows, respelled)
        rows = self._primary_rows(rows)
        rows = self._annotate(subs, rows)
        self._check_shape(subs, rows)
        self._check_rows(subs, rows)
        vals = self._parse_values(subs, rows)
        self._check_required(subs, vals, rows)
        parsed = vals
        vals = self._check_domain(subs, vals)
        self._check_wide(subs, vals)
        suspects = self._locate(subs, parsed)
        # Every result's values are a slice of the same arrays (rows sorted by submission):
        # no DataFrame per result unless someone reads ValidationResult.values.
        mine = vals.loc[vals["value"].notna()]  # blank cells are not reported values
        order = np.argsort(mine["sub"].to_numpy(), kind="stable")
        sub_of = mine["sub"].to_numpy()[order]
        arrays = {
            "indicator": mine["indicator"].to_numpy()[order],
            "value": mine["value"].to_numpy(dtype=float)[order],
            "note": mine["note"].to_numpy()[order],
            "location": mine["location"].to_numpy()[order],
        }
        bounds = np.searchsorted(sub_of, np.arange(len(subs) + 1), side="left")
        order_of = {r: n for n, r in enumerate(self.catalog.rules)}
        return [
            self._result(s, arrays, bounds[k], bounds[k + 1], order_of, suspects.get(k, []))
            for k, s in enumerate(subs)
        ]

    def _locate(self, subs: list[_Sub], vals: pd.DataFrame) -> dict[int, list[Suspect]]:
        """Which figure is wrong, for each submission an error of a linear rule rejects (its
        values as read, those that broke a domain rule included); accepted ones cost nothing."""
        loc = self._localiser
        if loc is None:
            return {}
        rejected = [
            k
            for k, sub in enumerate(subs)
            if any(i.severity == Severity.ERROR and i.rule_id in loc.rules for i in sub.issues)
        ]
        if not rejected:
            return {}
        mine = vals.loc[vals["sub"].isin(rejected) & vals["value"].notna() & vals["allowed"]]
        values: dict[int, dict[str, float]] = {k: {} for k in rejected}
        where: dict[int, dict[str, str]] = {k: {} for k in rejected}
        for k, code, x, loc_text in zip(
            mine["sub"].tolist(),
            mine["indicator"].tolist(),
            mine["value"].tolist(),
            mine["location"].tolist(),
            strict=True,
        ):
            values[k][code] = float(x)
            where[k][code] = str(loc_text) if loc_text else ""
        out = {}
        for k in rejected:
            issues = [(i.rule_id, i.indicator) for i in subs[k].issues]
            found = loc.locate(values[k], {c: w for c, w in where[k].items() if w}, issues)
            if found:
                out[k] = found
        return out

    # --- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _concat(raws: list[RawSubmission]) -> pd.DataFrame:
        """One frame of every submission's rows (one Series per column, not a frame per file)."""
        data: dict[str, pd.Series] = {}
        for col in COLUMNS:
            cells = list(chain.from_iterable(raw.columns[col] for raw in raws))
            data[col] = pd.Series(cells, dtype=object if col in OBJECT_COLUMNS else "str")
        rows = pd.DataFrame(data, columns=COLUMNS)
        sizes = [len(raw.columns["indicator"]) for raw in raws]
        rows["sub"] = np.repeat(np.arange(len(raws), dtype="int64"), sizes)
        for col in ("unit_code", "period", "indicator", "note", "location", "extra"):
            rows[col] = rows[col].fillna("").astype(str)
        return rows

    def _normalise(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
        """Every row's period and unit code in canonical form, before anything is compared:
        `2024-05`, `5/2024` and `T5/2024` are one period, `03386`, `3386` and `3386.0` one unit
        (padded on the period's closing date). What cannot be read stays as written (and
        `period_raw`, `unit_raw` keep every cell as written, for the messages)."""
        rows["period_raw"] = rows["period"]  # rows is the batch's own frame (from _concat)
        rows["unit_raw"] = rows["unit_code"]
        canon_p: dict[str, str] = {}
        readable: set[str] = set()  # canonical codes of the periods that could be read
        for text in rows["period"].unique():
            try:
                canon_p[text] = parse_period(text).code if text else text
                readable.add(canon_p[text])
            except PeriodError:
                canon_p[text] = text
        readable.discard("")
        respelled = any(k != v for k, v in canon_p.items())
        if respelled:
            rows["period"] = rows["period"].map(canon_p)
        # units: only a submission that writes its unit in more than one way needs a canonical
        # form here (one spelling is padded once by _check_headers); it is padded on the
        # closing date of the submission's first readable period
        sub = rows["sub"].to_numpy(dtype=np.int64)
        codes, uniq = pd.factorize(rows["unit_code"].to_numpy(dtype=object))
        if "" in set(uniq):
            codes = np.where(codes == list(uniq).index(""), -1, codes)
        width = len(uniq) + 1
        keys = np.unique(sub[codes >= 0] * width + codes[codes >= 0])
        spellings = np.bincount(keys // width, minlength=int(sub.max()) + 1 if len(sub) else 0)
        several = np.flatnonzero(spellings > 1)
        if len(several):
            close = self.catalog.close_day
            mine = np.isin(sub, several)
            part = rows.loc[mine, ["sub", "unit_code", "period"]]
            firsts = part.loc[part["period"].isin(readable)].drop_duplicates("sub")
            on_of = {
                int(k): parse_period(text).end(close)
                for k, text in zip(firsts["sub"].tolist(), firsts["period"].tolist(), strict=True)
            }
            canon_u: dict[tuple[int, str], str] = {}
            pairs = part.loc[part["unit_code"] != "", ["sub", "unit_code"]].drop_duplicates()
            for k, text in zip(pairs["sub"].tolist(), pairs["unit_code"].tolist(), strict=True):
                cands = self.units.pad(text, on_of.get(k)) or self.units.pad(text)
                canon_u[(k, text)] = cands[0] if cands else text
            if any(k != v for (_, k), v in canon_u.items()):
                respelled = True
                rows.loc[mine, "unit_code"] = [
                    canon_u.get((k, u), u)
                    for k, u in zip(part["sub"].tolist(), part["unit_code"].tolist(), strict=True)
                ]
        # whether any cell was written otherwise: a flag beside the frame, never in its attrs
        # (pandas deep-copies attrs into every Series and frame derived from it: 10% of a
        # small batch's validation)
        return rows, respelled

    def _label(self, code: str | None, lang: str) -> str:
        ind = self.catalog.indicators.get(code or "")
        return ind.label(lang) if ind else str(code)

    def _issue(
        self,
        rule: Rule,
        sub: _Sub,
        *,
        indicator: str | None = None,
        location: str | None = None,
        value: Any = None,
        expected: str | None = None,
        fields: Callable[[str], dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Issue:
        texts = {}
        for lang in ("vi", "en"):
            f = _Fields(
                label=self._label(indicator, lang) if indicator else "",
                indicator=indicator or "",
                value=fmt_num(value, lang) if not isinstance(value, str) else _listed([value]),
                expected=expected or "",
                unit_code=sub.unit_code or "",
                period=sub.period.code if sub.period else "",
                location=location or "",
            )
            if fields:
                f.update(fields(lang))
            texts[lang] = (
                getattr(rule, f"message_{lang}").format_map(f),
                getattr(rule, f"hint_{lang}").format_map(f),
            )
        issue = Issue(
            rule_id=rule.id,
            severity=Severity(rule.severity),
            unit_code=sub.unit_code,
            period=sub.period.code if sub.period else None,
            indicator=indicator,
            location=location,
            value=value,
            expected=expected,
            message_vi=texts["vi"][0],
            message_en=texts["en"][0],
            hint_vi=texts["vi"][1],
            hint_en=texts["en"][1],
            extra=extra or {},
        )
        sub.issues.append(issue)
        return issue

    def _one_rule(self, kind: str) -> Rule:
        return self.catalog.rules_of_kind(kind)[0]

    # --- header: unit, period, single submission ---------------------------------------------
    def _check_headers(self, subs: list[_Sub], rows: pd.DataFrame, respelled: bool) -> None:
        firsts = rows.drop_duplicates(["sub"])
        first_locs = dict(zip(firsts["sub"].tolist(), firsts["location"].tolist(), strict=True))
        periods = rows.loc[rows["period"] != "", ["sub", "period"]].drop_duplicates()
        units = rows.loc[rows["unit_code"] != "", ["sub", "unit_code"]].drop_duplicates()
        parsed: dict[str, Period | None] = {}
        ambiguous: set[str] = set()
        for p in periods["period"].unique():
            try:
                parsed[p] = parse_period(p)
            except AmbiguousPeriodError:
                parsed[p] = None
                ambiguous.add(p)
            except PeriodError:
                parsed[p] = None
        periods_by_sub = _lists(periods["sub"], periods["period"])
        units_by_sub = _lists(units["sub"], units["unit_code"])
        spellings = self._spellings(rows) if respelled else {}
        close = self.catalog.close_day
        header_rules = [
            self._one_rule(kind).id
            for kind in (
                "single_submission",
                "period_format",
                "period_ambiguous",
                "period_future",
                "unit_exists",
            )
        ]
        for k, sub in enumerate(subs):
            raw = sub.raw
            first_loc = str(first_locs[k]) if k in first_locs else None
            praw = periods_by_sub.get(k, [])
            uraw = units_by_sub.get(k, [])
            for rule_id in header_rules:
                sub.checked[rule_id] += 1
            # several periods or units in one file (compared in canonical form: two spellings
            # of one period or unit are one; what still differs is listed with its spellings)
            if len(praw) > 1 or len(uraw) > 1:
                shown = [
                    v for v in (uraw if len(uraw) > 1 else []) + (praw if len(praw) > 1 else [])
                ]
                detail = _listed([spellings.get((k, v), v) for v in shown])
                self._issue(
                    self._one_rule("single_submission"),
                    sub,
                    location=first_loc,
                    value=detail,
                    fields=lambda _lang, d=detail: {"detail": d},
                )
            # period
            p_text = praw[0] if praw else ""
            sub.period = parsed.get(p_text) if p_text else None
            if p_text in ambiguous:
                year = p_text[:4]

                def months(lang: str, y: str = year) -> dict[str, str]:
                    if lang == "vi":
                        return {"detail": f"tháng 01/{y} hoặc tháng 10/{y}"}
                    return {"detail": f"January or October {y}"}

                self._issue(
                    self._one_rule("period_ambiguous"),
                    sub,
                    location=raw.period_location or first_loc,
                    value=p_text,
                    fields=months,
                )
            elif sub.period is None:
                self._issue(
                    self._one_rule("period_format"),
                    sub,
                    location=raw.period_location or first_loc,
                    value=p_text,
                )
            elif sub.period.start(close) > self.today:
                start = sub.period.start(close)
                self._issue(
                    self._one_rule("period_future"),
                    sub,
                    location=raw.period_location or first_loc,
                    value=sub.period.code,
                    expected=start.strftime("%d/%m/%Y"),
                )
            # unit
            u_text = uraw[0] if uraw else ""
            on = sub.period.end(close) if sub.period else None
            cands = self.units.pad(u_text, on) if u_text else []
            unit = self.units.get(cands[0], on) if cands else None
            unit_loc = raw.unit_location or first_loc
            if unit is not None:
                sub.unit_code, sub.level = unit.code, unit.level
                continue
            other = self.units.pad(u_text) if u_text else []
            if other and on is not None:
                sub.checked[self._one_rule("unit_valid").id] += 1
                sub.unit_code = other[0]
                version = self.units.versions(other[0])[0]

                def detail(lang: str, v: Any = version) -> dict[str, str]:
                    if v.valid_to == LEGACY_END:
                        return {
                            "detail": f"{v.name}: danh mục hết hiệu lực ngày 30/06/2025"
                            if lang == "vi"
                            else f"{v.name}: in the list valid until 30 June 2025"
                        }
                    return {
                        "detail": f"{v.name}: danh mục có hiệu lực từ 01/07/2025"
                        if lang == "vi"
                        else f"{v.name}: in the list valid from 1 July 2025"
                    }

                self._issue(
                    self._one_rule("unit_valid"),
                    sub,
                    location=unit_loc,
                    value=other[0],
                    fields=detail,
                )
            elif not other:
                self._issue(self._one_rule("unit_exists"), sub, location=unit_loc, value=u_text)
            else:  # known code but the period is unreadable: keep the code, level unknown
                sub.unit_code = other[0]

    @staticmethod
    def _primary_rows(rows: pd.DataFrame) -> pd.DataFrame:
        """Rows of the submission's own unit and period (the first ones named in the file).

        Rows of other units or periods were reported by file_several_submissions and are not
        checked further, so that one mistake yields one Issue.
        """
        sub = rows["sub"].to_numpy()
        n_subs = int(sub.max()) + 1 if len(sub) else 0
        keep = np.ones(len(rows), dtype=bool)
        for col in ("unit_code", "period"):
            cells = rows[col].to_numpy(dtype=object)
            filled = cells != ""
            # the first non-empty cell of each submission
            owners, at = np.unique(sub[filled], return_index=True)
            first = np.full(n_subs, "", dtype=object)
            first[owners] = cells[filled][at]
            keep &= (cells == first[sub]) | ~filled
        return rows.loc[keep]

    @staticmethod
    def _spellings(rows: pd.DataFrame) -> dict[tuple[int, str], str]:
        """(submission, canonical unit or period) -> "canonical ('spelling', ...)" where the
        file wrote it otherwise, for a message that shows what really differs."""
        out: dict[tuple[int, str], list[str]] = {}
        for col, raw_col in (("unit_code", "unit_raw"), ("period", "period_raw")):
            diff = rows.loc[rows[col] != rows[raw_col], ["sub", col, raw_col]].drop_duplicates()
            for k, canon, raw in diff.itertuples(index=False):
                out.setdefault((int(k), str(canon)), []).append(f"'{raw}'")
        return {key: f"{key[1]} ({', '.join(v[:3])})" for key, v in out.items()}

    # --- rows ------------------------------------------------------------------------------------
    def _annotate(self, subs: list[_Sub], rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.copy()
        rows["level"] = [subs[k].level or "" for k in rows["sub"]]
        rows["known"] = rows["indicator"].isin(self.catalog.indicators.keys())
        rows["allowed"] = (rows["indicator"] + "|" + rows["level"]).isin(self._allowed)
        rows["kind"] = rows["indicator"].map(self._kind).fillna("decimal")
        return rows

    def _check_shape(self, subs: list[_Sub], rows: pd.DataFrame) -> None:
        """CSV rows whose cells do not line up with the header: more cells than columns
        (`row_extra_fields`), or, in a comma-separated file, a note of digits only right after
        a whole value (`value_split_decimal`: `2,5` left unquoted reads as value 2, note 5).
        Neither is guessed: each is an error on its row."""
        r_extra = self._one_rule("extra_fields")
        r_split = self._one_rule("split_decimal")
        sub_ids = rows["sub"].to_numpy()
        is_csv = np.array([s.raw.file_format == "csv" for s in subs], dtype=bool)
        is_comma = np.array([s.raw.separator == "," for s in subs], dtype=bool)
        in_csv = is_csv[sub_ids]
        if not in_csv.any():
            return
        for k, n in _sizes(rows.loc[in_csv, "sub"]):
            subs[k].checked[r_extra.id] += n
            if is_comma[k]:
                subs[k].checked[r_split.id] += n
        extra = rows["extra"].to_numpy(dtype=object)
        note = rows["note"].to_numpy(dtype=object)
        for row in rows.loc[in_csv & (extra != "")].itertuples():
            shown = _listed([str(row.extra)])
            self._issue(
                r_extra,
                subs[row.sub],
                indicator=row.indicator if row.known else None,
                location=row.location,
                value=shown,
                fields=lambda _lang, d=shown: {"detail": d},
            )
        # only rows of comma files with a note and nothing beyond it are looked at closely
        near = rows.loc[is_comma[sub_ids] & (extra == "") & (note != ""), ["value", "note"]]
        if near.empty:
            return
        split = near["note"].str.fullmatch(r"[0-9]+").to_numpy(dtype=bool) & near["value"].astype(
            str
        ).str.fullmatch(r"[+-]?[0-9][0-9.]*").to_numpy(dtype=bool)
        for row in rows.loc[near.index[split]].itertuples():
            self._issue(
                r_split,
                subs[row.sub],
                indicator=row.indicator if row.known else None,
                location=row.location,
                value=str(row.value),
                fields=lambda _lang, d=str(row.note): {"detail": d},
            )

    def _check_rows(self, subs: list[_Sub], rows: pd.DataFrame) -> None:
        r_unknown = self._one_rule("indicator_known")
        r_level = self._one_rule("indicator_level")
        r_dup = self._one_rule("duplicate")
        r_formula = self._one_rule("formula")
        for k, n in _sizes(rows["sub"]):
            subs[k].checked[r_unknown.id] += n
            subs[k].checked[r_formula.id] += n
        known_mask = rows["known"].to_numpy(dtype=bool)
        for row in _rows_where(rows, ~known_mask):
            self._issue(r_unknown, subs[row.sub], location=row.location, value=row.indicator)
        known_lvl = rows["known"] & (rows["level"] != "")
        for k, n in _sizes(rows.loc[known_lvl, "sub"]):
            subs[k].checked[r_level.id] += n
        for row in _rows_where(rows, (known_lvl & ~rows["allowed"]).to_numpy(dtype=bool)):
            sub = subs[row.sub]
            self._issue(
                r_level,
                sub,
                indicator=row.indicator,
                location=row.location,
                value=row.value if row.value is not None else None,
                fields=lambda lang, lv=row.level: {
                    "detail": (LEVEL_NAMES_VI if lang == "vi" else LEVEL_NAMES_EN)[lv]
                },
            )
        self._check_validity(subs, rows.loc[known_lvl & rows["allowed"]])
        known = rows.loc[rows["known"]]
        for k, n in _sizes(known["sub"]):
            subs[k].checked[r_dup.id] += n
        dups = known.loc[known.duplicated(["sub", "indicator"], keep=False)]
        for (k, code), grp in dups.groupby(["sub", "indicator"], sort=False):
            locs = _listed(list(grp["location"]))
            self._issue(
                r_dup,
                subs[int(k)],
                indicator=str(code),
                location=str(grp["location"].iloc[1]),
                value=_listed([str(v) for v in grp["value"]]),
                fields=lambda _lang, d=locs: {"detail": d},
            )
        formula = rows["formula"].notna() & (rows["formula"].astype(str) != "")
        for row in _rows_where(rows, formula.to_numpy(dtype=bool)):
            self._issue(
                r_formula,
                subs[row.sub],
                indicator=row.indicator if row.known else None,
                location=row.location,
                value=str(row.formula),
            )

    def _check_validity(self, subs: list[_Sub], rows: pd.DataFrame) -> None:
        """An indicator outside its valid_from / valid_to (catalog) is not on that period's form."""
        rule = self._one_rule("indicator_validity")
        for k, n in _sizes(rows["sub"]):
            subs[k].checked[rule.id] += n
        if not self._dated:
            return
        for row in rows.loc[rows["indicator"].isin(self._dated)].itertuples():
            sub, ind = subs[row.sub], self._dated[row.indicator]
            if sub.period is None or ind.valid_on(sub.period.end(self.catalog.close_day)):
                continue
            self._issue(
                rule,
                sub,
                indicator=ind.code,
                location=row.location,
                value=row.value if row.value is not None else None,
                fields=lambda _lang, i=ind: {"detail": i.validity_text()},
            )

    def _parse_values(self, subs: list[_Sub], rows: pd.DataFrame) -> pd.DataFrame:
        """Known-indicator rows with parsed values, minus duplicates and formula cells."""
        has_formula = rows["formula"].notna() & (rows["formula"].astype(str) != "")
        vals = rows.loc[rows["known"] & ~has_formula].copy()
        parsed = parse_numbers(vals["value"], vals["kind"])
        vals["raw_value"] = vals["value"]
        vals["value"] = parsed.values.astype(float)
        vals["status"] = parsed.status.astype(str)
        vals["read_as"] = parsed.read_as.astype(str)
        r_num = self._one_rule("number")
        r_amb = self._one_rule("ambiguous")
        for k, n in _sizes(vals.loc[vals["status"] != "blank", "sub"]):
            subs[k].checked[r_num.id] += n
            subs[k].checked[r_amb.id] += n
        status = vals["status"].to_numpy()
        for row in _rows_where(vals, status == "invalid"):
            self._issue(
                r_num,
                subs[row.sub],
                indicator=row.indicator,
                location=row.location,
                value=str(row.raw_value),
            )
        r_ceiling = self._one_rule("ceiling")
        large = status == TOO_LARGE
        if large.any():
            for k, n in _sizes(vals.loc[large, "sub"]):
                subs[k].checked[r_ceiling.id] += n  # the others are counted with the domain rules
        for row in _rows_where(vals, large):
            ceiling = self._ceiling.get(row.indicator)
            self._issue(
                r_ceiling,
                subs[row.sub],
                indicator=row.indicator,
                location=row.location,
                value=_listed([str(row.raw_value)], chars=40),
                expected=f"≤ {fmt_num(ceiling, 'en')}" if ceiling else "số hữu hạn / finite",
            )
        for row in _rows_where(vals, status == "ambiguous"):
            self._issue(
                r_amb,
                subs[row.sub],
                indicator=row.indicator,
                location=row.location,
                value=str(row.raw_value),
                expected=row.read_as,
            )
        vals["min"] = vals["indicator"].map(self._min).astype(float)
        vals["max"] = vals["indicator"].map(self._max).astype(float)
        vals["ceiling"] = vals["indicator"].map(self._ceiling).astype(float)
        vals = vals.loc[~vals.duplicated(["sub", "indicator"], keep="first")]
        return vals

    def _check_domain(self, subs: list[_Sub], vals: pd.DataFrame) -> pd.DataFrame:
        """Domain rules (kinds of stage "long"); returns the values that passed them (for the
        cross-indicator rules)."""
        ok = vals.loc[vals["value"].notna()]
        frame = ok[["sub", "indicator", "kind", "value", "min", "max", "ceiling"]].reset_index(
            drop=True
        )
        for name, check in self._long_checks.items():
            assert check.spec is not None
            for k, n in _sizes(frame.loc[check.spec.applies(frame), "sub"]):
                subs[k].checked[name] += n
        bad_rows: set[int] = set()
        for name, idx in failures(self._long_schema, frame, self._long_checks.values()).items():
            check = self._long_checks[name]
            for i in idx:
                row = ok.iloc[i]
                bad_rows.add(int(ok.index[i]))
                self._finding(check, subs[int(row["sub"])], row, lambda _f, r=row: r["location"])
        # values that broke a domain rule do not take part in cross-indicator rules
        return vals.drop(index=list(bad_rows))

    def _finding(
        self,
        check: CompiledCheck,
        sub: _Sub,
        row: pd.Series,
        where: Callable[[Finding], Any],
    ) -> None:
        """The Issue of a check that failed on a row (its kind says what it reports); `where`
        gives the location of the cell the finding names."""
        assert check.spec is not None
        f = check.spec.finding(row)
        self._issue(
            check.rule,
            sub,
            indicator=f.indicator,
            location=where(f),
            value=f.value,
            expected=f.expected,
            fields=f.fields,
            extra=f.extra,
        )

    def _required(self, sub: _Sub) -> list[str]:
        """The required indicators of the submission's level, on its period's closing date."""
        on = sub.period.end(self.catalog.close_day) if sub.period else None
        return [i.code for i in self.catalog.for_level(sub.level or "", on) if i.required]

    def _check_required(self, subs: list[_Sub], vals: pd.DataFrame, rows: pd.DataFrame) -> None:
        rule = self._one_rule("required")
        filled = pd.concat(
            [
                vals.loc[vals["status"] != "blank", ["sub", "indicator"]],
                rows.loc[
                    rows["known"] & (rows["formula"].fillna("").astype(str) != ""),
                    ["sub", "indicator"],
                ],
            ]
        )
        present: dict[int, set[str]] = {}
        for k, code in zip(filled["sub"].tolist(), filled["indicator"].tolist(), strict=True):
            present.setdefault(k, set()).add(code)
        locs: dict[tuple[int, str], str] | None = None  # where a blank value was, if any
        several = self._one_rule("single_submission").id
        for k, sub in enumerate(subs):
            # a file of several units or periods: which of them lacks what is not for us to
            # guess (its one issue says to split the file)
            if not sub.level or any(i.rule_id == several for i in sub.issues):
                continue
            required = self._required(sub)
            sub.checked[rule.id] += len(required)
            have = present.get(k, set())
            for code in required:
                if code not in have:
                    if locs is None:
                        locs = {}
                        for key in zip(
                            vals["sub"].tolist(),
                            vals["indicator"].tolist(),
                            vals["location"].tolist(),
                            strict=True,
                        ):
                            locs.setdefault(key[:2], key[2])
                    loc = locs.get((k, code))
                    self._issue(
                        rule, sub, indicator=code, location=None if loc is None else str(loc)
                    )

    def _check_wide(self, subs: list[_Sub], vals: pd.DataFrame) -> pd.DataFrame:
        ok = vals.loc[vals["value"].notna() & vals["allowed"]]
        wide = ok.pivot(index="sub", columns="indicator", values="value")
        wide = wide.reindex(range(len(subs)))
        wide.columns = [str(c) for c in wide.columns]
        locs = dict(
            zip(
                zip(
                    ok["sub"].to_numpy().tolist(), ok["indicator"].to_numpy().tolist(), strict=False
                ),
                ok["location"].to_numpy().tolist(),
                strict=False,
            )
        )
        if wide.empty:
            return wide
        labels = wide.index.to_numpy()
        for cc in self._wide_checks.values():
            assert cc.spec is not None
            for k in labels[np.asarray(cc.spec.applies(wide), dtype=bool)]:
                subs[int(k)].checked[cc.rule.id] += 1
        for name, idx in failures(self._wide_schema, wide, self._wide_checks.values()).items():
            cc = self._wide_checks[name]
            for k in idx:
                self._finding(cc, subs[k], wide.loc[k], lambda f, k=k: locs.get((k, f.indicator)))
        return wide

    def _result(
        self,
        sub: _Sub,
        arrays: dict[str, np.ndarray],
        start: int,
        stop: int,
        order: dict[str, int],
        suspects: list[Suspect],
    ) -> ValidationResult:
        period = sub.period.code if sub.period else None
        values = BatchValues(arrays, start, stop, sub.unit_code, period)
        sub.issues.sort(key=lambda i: (i.severity != Severity.ERROR, order.get(i.rule_id, 0)))
        checked = {r: sub.checked.get(r, 0) for r in self.catalog.rules}
        return ValidationResult(
            path=sub.raw.path,
            unit_code=sub.unit_code,
            period=sub.period.code if sub.period else None,
            issues=sub.issues,
            values=values,
            level=sub.level,
            file_format=sub.raw.file_format,
            encoding=sub.raw.encoding,
            checked=checked,
            suspects=suspects,
        )


def _lists(keys: pd.Series, values: pd.Series) -> dict[int, list[Any]]:
    """key -> its values in order (a groupby(...).agg(list) without the per-group cost)."""
    out: dict[int, list[Any]] = {}
    for k, v in zip(keys.tolist(), values.tolist(), strict=True):
        out.setdefault(k, []).append(v)
    return out


def _rows_where(frame: pd.DataFrame, mask: np.ndarray) -> Iterator[Any]:
    """The rows of `frame` where `mask` holds, as named tuples; nothing selected (no pandas
    `take` over every column) when it holds nowhere, the common case."""
    if not mask.any():
        return iter(())
    return frame.loc[mask].itertuples()


def _sizes(subs: pd.Series) -> list[tuple[int, int]]:
    """(submission, number of rows) for each submission with rows (a groupby size, faster)."""
    counts = np.bincount(subs.to_numpy(dtype="int64"))
    return [(int(k), int(counts[k])) for k in np.flatnonzero(counts)]


def validate_file(path: str | Path, **kwargs: Any) -> ValidationResult:
    """Validate one submission file (raises readers.ReadError if it cannot be read)."""
    return Validator(**kwargs).validate_file(path)


def validate_files(paths: Iterable[str | Path], **kwargs: Any) -> list[ValidationResult]:
    """Validate readable files as one batch; unreadable ones raise ReadError."""
    return Validator(**kwargs).validate([read_submission(p) for p in paths])
