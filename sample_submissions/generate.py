"""Generate the sample submissions of Lai Châu (province 12) from real reference units.

    python sample_submissions/generate.py        # rewrites sample_submissions/{valid,invalid,messy,unreadable}

Deterministic: the same code writes the same bytes (xlsx files carry fixed timestamps).
- valid/<period>/: every commune (CSV; Tam Đường's communes as XLSX), every district (XLSX)
  and the province (CSV) for 2024-01 .. 2024-06 (three-level structure), the same for 2023-06
  and the half-year 2023-H1 (last year, for the comparison "so với cùng kỳ"; 2024's
  crime_cases_prev are 2023's crime_cases), and every commune and the province for 2025-07
  (two-level structure). A parent's own figures are consistent with
  its children's: "=" indicators equal the children's sum, ">=" ones add cases handled by the
  parent itself, and every rate is recomputed from its parts.
- invalid/<rule_id>.csv|xlsx: a valid file changed to break exactly that rule.
- messy/: the same commune report in every variant real offices produce (must parse to the
  same values as messy/canonical.csv).
- corrections/: valid reports sent again with a corrected figure (a new version).
- anomalies/: a report every rule accepts but with a typo (x10) that consolidation traces.
- unreadable/: files that must be refused with exit code 2.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import sys
import unicodedata
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
OUT = ROOT  # where files are written; main(out=...) changes it

from validations.catalog import Catalog, Indicator, load_catalog  # noqa: E402
from validations.period import parse_period  # noqa: E402
from validations.units import ReferenceUnits, Unit, load_units  # noqa: E402

PROVINCE = "12"
MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
# Lai Châu in the two-level structure, the present: every month from the reform to 2026-10
TWO_LEVEL_MONTHS = [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
# A merged province: the new Tuyên Quang (08) is the old Tuyên Quang (08) plus the old Hà Giang
# (02). Its predecessors' half-years before the reform and its own after it, so that a 2026
# period is compared with the same territory the year before ("so với cùng kỳ").
MERGED = "08"
MERGED_FROM = ("08", "02")
MERGED_LEGACY = ["2024-H2", "2025-H1"]
MERGED_NEW = ["2025-H2", "2026-H1"]
FIRST_GENERATED = "2023-01"  # crime_cases_prev is last year's crime_cases from here on
# The same period last year, for "so với cùng kỳ": 2023's months are generated (so that each
# 2024 report's crime_cases_prev is last year's crime_cases), June and the first half-year are
# written (the half-year report built from the months as the catalog aggregates them over time).
LAST_YEAR_MONTHS = [f"2023-{m:02d}" for m in range(1, 7)]
LAST_YEAR_WRITTEN = ["2023-06", "2023-H1"]
XLSX_DISTRICT = "106"  # Tam Đường: its communes submit the Excel form
BASE_COMMUNE = "03386"  # Phường Quyết Thắng, Thành phố Lai Châu
BASE_DISTRICT = "106"
BASE_PERIOD = "2024-06"
NOTES = ["Đã xác minh, đối chiếu sổ sách", "Số liệu từ Công an xã", "Ước tính đến ngày 14"]


def rng_for(*key: str) -> random.Random:
    return random.Random(zlib.crc32("|".join(key).encode()))


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; small lambdas only
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def own_record(
    level: str,
    rng: random.Random,
    *,
    parent: bool,
    stable: random.Random,
    key: tuple[str, str] = ("", ""),
) -> dict[str, float]:
    """Figures a unit handles itself; each record satisfies every part/whole rule on its own.

    Flows (cases, sessions...) are drawn per period from `rng`; stocks (drug users under
    management, residential areas, released prisoners) come from the unit's own `stable`
    generator with a small monthly drift, as they do in reality."""
    scale = {"C": 1.0, "D": 2.0, "P": 3.0}[level]
    r: dict[str, float] = {}
    cases = poisson(rng, 1.6 * scale)
    r["crime_cases"] = cases
    r["crime_solved"] = sum(rng.random() < 0.86 for _ in range(cases))
    r["crime_cases_prev"] = poisson(rng, 1.8 * scale)
    rec = cases + poisson(rng, 1.2 * scale)
    r["reports_received"] = rec
    r["reports_resolved"] = sum(rng.random() < 0.93 for _ in range(rec))
    dc = poisson(rng, 0.5 * scale)
    r["drug_cases"] = dc
    r["drug_suspects"] = dc + (poisson(rng, 0.4) if dc else 0)
    r["rehab_voluntary"] = poisson(rng, 0.8 * scale)
    r["drug_hotspots_cleared"] = poisson(rng, 0.2 * scale)
    r["poppy_destroyed_m2"] = round(rng.choice([0, 0, 0, rng.uniform(50, 900)]), 1)
    r["prostitution_cases"] = poisson(rng, 0.05 * scale)
    sessions = rng.randint(1, 6) * (1 if level == "C" else 2)
    r["propaganda_sessions"] = sessions
    r["propaganda_participants"] = sessions * rng.randint(25, 140)
    r["security_models_new"] = poisson(rng, 0.3 * scale)
    r["security_models_maintained"] = rng.randint(0, 3)
    total = rng.randint(0, 2)
    r["hotspots_total"] = total
    r["hotspots_transformed"] = rng.randint(0, total)
    r["illegal_border_crossings"] = poisson(rng, 1.5 * scale)
    if parent:  # stock indicators ("=") are the children's sum only
        for k in (
            "drug_users_managed",
            "residential_areas",
            "residential_areas_safe",
            "released_prisoners",
            "reoffenders",
        ):
            r[k] = 0
    else:
        r["drug_users_managed"] = max(0, stable.randint(4, 45) + rng.randint(-2, 2))
        areas = stable.randint(5, 18)
        r["residential_areas"] = areas
        r["residential_areas_safe"] = min(
            areas, stable.randint(areas // 2, areas) + rng.randint(0, 1)
        )
        released = max(0, stable.randint(0, 6) + rng.randint(-1, 1))
        r["released_prisoners"] = released
        r["reoffenders"] = sum(rng.random() < 0.1 for _ in range(released))
        r["drug_free_commune"] = int(r["drug_users_managed"] < 15 and dc == 0)
    if level in ("D", "P"):
        sc = poisson(rng, 0.6 * scale)
        r["serious_cases"] = sc
        r["serious_solved"] = sum(rng.random() < 0.9 for _ in range(sc))
        ex = rng.randint(2, 12)
        r["wanted_existing"] = ex
        sur = rng.randint(0, ex // 3)
        r["wanted_surrendered"] = sur
        r["wanted_arrested"] = rng.randint(0, (ex - sur) // 2)
        r["economic_cases"] = poisson(rng, 0.6 * scale)
        r["corruption_cases"] = poisson(rng, 0.1 * scale)
        lost = round(rng.choice([0, rng.uniform(20, 800)]), 1)
        r["assets_lost_mvnd"] = lost
        r["assets_recovered_mvnd"] = round(lost * rng.uniform(0.4, 1.0), 1)
        r["rehab_compulsory"] = poisson(rng, 2.0 * scale)
        # stocks (patients in treatment on the closing date): the unit's own level with a small
        # monthly drift (`key`: unit, period), as for wanted persons. The draw from `rng` is
        # kept so that the period's other figures stay as they were.
        steady, drift = rng_for(key[0], "stocks"), rng_for(*key, "drift")
        rng.randint(5, 60)
        r["methadone_patients"] = steady.randint(5, 60) + drift.randint(-2, 2)
        insp = rng.randint(2, 15)
        r["vice_inspections"] = insp
        r["vice_violations"] = rng.randint(0, insp // 2)
        r["hiv_new_cases"] = poisson(rng, 0.4 * scale)
        rng.randint(10, 90)
        r["hiv_arv_patients"] = steady.randint(10, 90) + drift.randint(-3, 3)
        tc = poisson(rng, 0.15 * scale)
        r["trafficking_cases"] = tc
        r["trafficking_suspects"] = tc + (rng.randint(0, 2) if tc else 0)
        r["trafficking_victims"] = tc + rng.randint(0, 1) if tc else 0
        r["media_items"] = rng.randint(2, 12)
        # stocks: the persons at large, about the same from month to month (the surrenders and
        # arrests of a half-year stay below them: surrendered + arrested <= existing)
        r["wanted_existing"] = stable.randint(14, 30) + rng.randint(-2, 2)
        r["wanted_surrendered"] = rng.randint(0, 1)
        r["wanted_arrested"] = rng.randint(0, 1)
    # a stock: the unit's listed hotspot areas, the same from month to month; drawn last so
    # that the other figures keep their values
    r["hotspots_total"] = stable.randint(0, 2)
    r["hotspots_transformed"] = min(r["hotspots_transformed"], r["hotspots_total"])
    return r


def with_rates(values: dict[str, float], catalog: Catalog, level: str) -> dict[str, float]:
    """Add every rate of the level that can be computed, rounded as the form does."""
    out = dict(values)
    for ind in catalog.rates():
        if level not in ind.levels:
            continue
        n, d = values.get(ind.numerator or ""), values.get(ind.denominator or "")
        out.pop(ind.code, None)
        rate = ind.rate(n, d)
        if rate is None:
            continue
        lo = ind.min if ind.min is not None else float("-inf")
        hi = ind.max if ind.max is not None else float("inf")
        if lo <= rate <= hi:
            out[ind.code] = round(rate, 2)
    return out


class Generator:
    """Values for every unit and period, children first.

    A commune of the two-level structure is the territory of its predecessors (the 2025
    crosswalk): its figures are the sum of theirs, so a new unit compares with the same
    territory a year before. Every report's crime_cases_prev is its territory's crime_cases of
    the same period last year (from FIRST_GENERATED on)."""

    def __init__(self, catalog: Catalog, units: ReferenceUnits):
        from validations.crosswalk import load_crosswalk

        self.catalog = catalog
        self.units = units
        self.crosswalk = load_crosswalk()
        self.cache: dict[tuple[str, str, str], dict[str, float]] = {}

    def values(self, unit: Unit, period: str) -> dict[str, float]:
        key = (unit.structure, unit.code, period)
        if key in self.cache:
            return self.cache[key]
        p = parse_period(period)
        if p.kind != "M":
            return self.cache.setdefault(key, self._from_months(unit, p.month_codes()))
        on = p.end(self.catalog.close_day)
        inside = on if unit.valid_on(on) else (unit.valid_to or unit.valid_from or on)
        children = self.units.children(unit.code, inside)  # in the unit's own structure
        level_inds = [i for i in self.catalog.for_level(unit.level) if i.kind != "rate"]
        out: dict[str, float] = {}
        if unit.structure == "2025" and unit.level == "C":
            out = self._territory(unit, period, [i.code for i in level_inds])
        elif unit.structure == "2025" and unit.level == "P":
            out = self._new_province(unit, period, level_inds, children)
        else:
            own = own_record(
                unit.level,
                rng_for(unit.code, period),
                parent=bool(children),
                stable=rng_for(unit.code),
                key=(unit.code, period),
            )
            kids = [self.values(c, period) for c in children]
            for ind in level_inds:
                out[ind.code] = self._combine(ind, own, kids)
        last = p.same_period_last_year()
        if "crime_cases_prev" in out and last.code >= FIRST_GENERATED:
            out["crime_cases_prev"] = self.territory_cases(unit, last.code)
        out = with_rates(out, self.catalog, unit.level)
        self.cache[key] = out
        return out

    def _predecessors(self, unit: Unit) -> list[tuple[Unit, float]]:
        from validations.units import LEGACY_END

        out = []
        for link in self.crosswalk.predecessors(unit.code):
            old = self.units.get(link.old_code, LEGACY_END, level=link.old_level)
            if old is not None:
                out.append((old, link.share))
        return out

    def _territory(self, unit: Unit, period: str, codes: list[str]) -> dict[str, float]:
        """A new commune's figures: its predecessors' figures summed (flags: all of them 1)."""
        parts = [(self.values(old, period), share) for old, share in self._predecessors(unit)]
        out: dict[str, float] = {}
        for code in codes:
            ind = self.catalog.indicators[code]
            have = [(v[code], share) for v, share in parts if code in v]
            if not have:
                continue
            if ind.kind == "flag":
                out[code] = float(min(x for x, _ in have))
            else:
                total = sum(x * share for x, share in have)
                out[code] = round(total, 1) if ind.kind == "decimal" else round(total)
        return out

    def _new_province(
        self, unit: Unit, period: str, inds: list[Indicator], children: list[Unit]
    ) -> dict[str, float]:
        """A province of the two-level structure reports its territory's figures: the work of
        the abolished district police is now its own, so a figure its communes do not report
        (wanted persons, methadone patients, Team 178's inspections...) is the territory's as
        its predecessor provinces would have reported it for the same period, not the
        province's own small share (issue 20: the merged Tuyên Quang's 2026-H1 showed 17
        wanted persons against 434 a year before). Kept consistent with its communes: "="
        figures are their sum, ">=" ones at least their sum."""
        before = [(self.values(old, period), share) for old, share in self._predecessors(unit)]
        kids = [self.values(c, period) for c in children]
        own = own_record(
            "P",
            rng_for(unit.code, period),
            parent=True,
            stable=rng_for(unit.code),
            key=(unit.code, period),
        )
        out: dict[str, float] = {}
        for ind in inds:
            child_vals = [k[ind.code] for k in kids if ind.code in k]
            parts = [v[ind.code] * share for v, share in before if ind.code in v]
            if ind.parent_relation == "=" and child_vals or not parts:
                out[ind.code] = self._combine(ind, own, kids)
                continue
            total = max(sum(parts), sum(child_vals)) if child_vals else sum(parts)
            out[ind.code] = round(total, 1) if ind.kind == "decimal" else round(total)
        return out

    def territory_cases(self, unit: Unit, period: str) -> float:
        """crime_cases of the unit's territory in a period, in that period's structure."""
        on = parse_period(period).end(self.catalog.close_day)
        if unit.valid_on(on):
            return self.values(unit, period)["crime_cases"]
        return sum(
            self.values(old, period)["crime_cases"] * share
            for old, share in self._predecessors(unit)
        )

    def _from_months(self, unit: Unit, months: list[str]) -> dict[str, float]:
        """A quarter's, half-year's or year's report from the unit's months, as the catalog
        aggregates over time: flows summed, stocks the last month's, rates recomputed."""
        each = [self.values(unit, m) for m in months]
        out: dict[str, float] = {}
        for code in each[-1]:
            ind = self.catalog.indicators[code]
            if ind.kind == "rate":
                continue
            if ind.is_stock:
                out[code] = each[-1][code]
            else:
                total = sum(m.get(code, 0) for m in each)
                out[code] = round(total, 2) if ind.kind == "decimal" else total
        return with_rates(out, self.catalog, unit.level)

    @staticmethod
    def _combine(ind: Indicator, own: dict[str, float], kids: list[dict[str, float]]) -> float:
        child_vals = [k[ind.code] for k in kids if ind.code in k]
        if not child_vals or ind.parent_relation == "-":
            return own.get(ind.code, 0)
        total = sum(child_vals)
        if ind.parent_relation == ">=":
            total += own.get(ind.code, 0)
        return round(total, 1) if ind.kind == "decimal" else total


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(round(float(x), 2))


def rows_for(
    unit: str,
    period: str,
    values: dict[str, float],
    catalog: Catalog,
    notes: dict[str, str] | None = None,
) -> list[list[str]]:
    order = [c for c in catalog.indicators if c in values] + [
        c for c in values if c not in catalog.indicators
    ]
    notes = notes or {}
    return [
        [
            unit,
            period,
            c,
            num(values[c]) if not isinstance(values[c], str) else values[c],
            notes.get(c, ""),
        ]
        for c in order
    ]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=newline)
    w.writerow(["unit_code", "period", "indicator", "value", "note"])
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = buf.getvalue()
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: letters with a tone mark become base + combining mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            ch.encode("cp1258")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        while marks:
            composed = unicodedata.normalize("NFC", base + marks[0])
            try:
                composed.encode("cp1258")
            except UnicodeEncodeError:
                break
            if len(composed) != 1:
                break
            base, marks = composed, marks[1:]
        out.append(base + marks)
    return "".join(out).encode("cp1258")


def write_xlsx(
    path: Path,
    unit: str,
    period: str,
    values: dict[str, object],
    notes: dict[str, str] | None = None,
) -> None:
    from validations.template import write_template

    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(unit, period, path, values=values, notes=notes)
    _fix_zip_timestamps(path)


def _fix_zip_timestamps(path: Path) -> None:
    """Rewrite an xlsx with fixed member timestamps and core dates so output is reproducible."""
    import re
    import zipfile

    data = {}
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for n in names:
            data[n] = z.read(n)
    core = "docProps/core.xml"
    if core in data:
        data[core] = re.sub(
            rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
            rb"\g<1>2024-01-01T00:00:00Z\g<2>",
            data[core],
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            info = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data[n])


# --- valid ----------------------------------------------------------------------------------
def write_valid(gen: Generator) -> int:
    n = 0
    for period in LAST_YEAR_WRITTEN + MONTHS + TWO_LEVEL_MONTHS:
        n += write_tree(gen, PROVINCE, period, xlsx=True)
    for period in MERGED_LEGACY:
        for province in MERGED_FROM:
            n += write_tree(gen, province, period)
    for period in MERGED_NEW:
        n += write_tree(gen, MERGED, period)
    return n


def write_tree(gen: Generator, province: str, period: str, xlsx: bool = False) -> int:
    """Every unit of a province for one period: communes (CSV; with `xlsx`, Tam Đường's as the
    Excel form), districts (the Excel form with `xlsx`, else CSV) and the province (CSV)."""
    units, n = gen.units, 0
    on = parse_period(period).end(gen.catalog.close_day)
    prov = units.get(province, on)
    assert prov is not None
    folder = OUT / "valid" / period
    for child in units.children(province, on):
        communes = units.children(child.code, on) if child.level == "D" else []
        for c in communes:
            vals = gen.values(c, period)
            notes = _notes(c.code, period)
            if xlsx and child.code == XLSX_DISTRICT:
                write_xlsx(
                    folder / child.code / f"{c.code}_{period}.xlsx",
                    c.code,
                    period,
                    dict(vals),
                    notes,
                )
            else:
                write_csv(
                    folder / child.code / f"{c.code}_{period}.csv",
                    rows_for(c.code, period, vals, gen.catalog, notes),
                )
            n += 1
        vals = gen.values(child, period)
        if child.level == "D" and xlsx:
            write_xlsx(
                folder / child.code / f"{child.code}_{period}.xlsx",
                child.code,
                period,
                dict(vals),
                _notes(child.code, period),
            )
        elif child.level == "D":
            write_csv(
                folder / child.code / f"{child.code}_{period}.csv",
                rows_for(child.code, period, vals, gen.catalog, _notes(child.code, period)),
            )
        else:  # two-level: communes straight under the province
            write_csv(
                folder / f"communes_{province}" / f"{child.code}_{period}.csv",
                rows_for(child.code, period, vals, gen.catalog, _notes(child.code, period)),
            )
        n += 1
    write_csv(
        folder / f"{province}_{period}.csv",
        rows_for(province, period, gen.values(prov, period), gen.catalog),
    )
    return n + 1


def _notes(code: str, period: str) -> dict[str, str]:
    rng = rng_for("note", code, period)
    if rng.random() < 0.15:
        return {"crime_cases": rng.choice(NOTES)}
    return {}


# --- invalid: one file per rule ---------------------------------------------------------------
def write_invalid(gen: Generator) -> int:
    cat = gen.catalog
    units = gen.units
    on = parse_period(BASE_PERIOD).end(cat.close_day)
    commune = units.get(BASE_COMMUNE, on)
    district = units.get(BASE_DISTRICT, on)
    assert commune and district
    c_vals = gen.values(commune, BASE_PERIOD)
    d_vals = gen.values(district, BASE_PERIOD)
    out = OUT / "invalid"

    def base_counts(v: dict[str, float], level: str) -> dict[str, float]:
        return {k: x for k, x in v.items() if cat.indicators[k].kind != "rate"}

    def emit(
        rule: str,
        level: str,
        changes: dict[str, object],
        *,
        unit: str | None = None,
        period: str = BASE_PERIOD,
        extra_rows: list[list[str]] | None = None,
        drop: tuple[str, ...] = (),
        edit: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        """A valid report with `changes` applied: parts first, rates recomputed, then the
        changed rates and text values on top, so that only the intended rule breaks."""
        is_part = {
            k: not isinstance(v, str) and cat.indicators[k].kind != "rate"
            for k, v in changes.items()
        }
        counts = base_counts(c_vals if level == "C" else d_vals, level)
        counts.update({k: v for k, v in changes.items() if is_part[k]})  # type: ignore[misc]
        vals: dict[str, object] = dict(with_rates(counts, cat, level))
        vals.update({k: v for k, v in changes.items() if not is_part[k]})
        for k in drop:
            vals.pop(k, None)
        code = unit or (BASE_COMMUNE if level == "C" else BASE_DISTRICT)
        rows = rows_for(code, period, vals, cat)  # type: ignore[arg-type]
        if edit:  # a raw edit of one row (cells as the CSV writer will write them)
            rows = [edit(r) for r in rows]
        write_csv(out / f"{rule}.csv", rows + (extra_rows or []))

    c_rates = with_rates(base_counts(c_vals, "C"), cat, "C")
    # file / period / unit
    other = units.children(commune.parent_code or "", on)[1]
    # previous_year_mismatch: crime_cases_prev 5 above the commune's crime_cases of 2023-06,
    # which the warehouse holds once valid/2023-06 is loaded
    truth = gen.values(commune, "2023-06")["crime_cases"]
    emit("previous_year_mismatch", "C", {"crime_cases_prev": truth + 5})
    # indicator_not_in_force: with the provincial catalog sample_submissions/catalogs/lai_chau.yaml,
    # whose cyber_fraud_cases is on the form from 2025-07-01 only
    emit(
        "indicator_not_in_force",
        "C",
        {},
        extra_rows=[[BASE_COMMUNE, BASE_PERIOD, "cyber_fraud_cases", "2", ""]],
    )
    emit(
        "file_several_submissions",
        "C",
        {},
        extra_rows=rows_for(other.code, BASE_PERIOD, gen.values(other, BASE_PERIOD), cat),
    )
    emit(
        "duplicate_value",
        "C",
        {},
        extra_rows=[
            [
                BASE_COMMUNE,
                BASE_PERIOD,
                "propaganda_sessions",
                num(c_vals["propaganda_sessions"] + 1),
                "dòng gõ trùng",
            ]
        ],
    )
    emit("period_malformed", "C", {}, period="2024/Jun")
    reform_commune = units.children(PROVINCE, date(2025, 7, 14))[0]
    reform_vals = gen.values(reform_commune, "2025-07")
    write_csv(out / "period_future.csv", rows_for(reform_commune.code, "2099-06", reform_vals, cat))
    emit("unit_unknown", "C", {}, unit="99999")
    write_csv(
        out / "unit_not_valid_for_period.csv",
        rows_for(BASE_DISTRICT, "2025-07", with_rates(base_counts(d_vals, "D"), cat, "D"), cat),
    )
    # indicators
    emit(
        "indicator_unknown",
        "C",
        {},
        extra_rows=[[BASE_COMMUNE, BASE_PERIOD, "crime_casess", "3", ""]],
    )
    emit(
        "indicator_wrong_level",
        "C",
        {},
        extra_rows=[[BASE_COMMUNE, BASE_PERIOD, "serious_cases", "1", ""]],
    )
    emit("indicator_missing", "C", {}, drop=("drug_users_managed",))
    # values
    formula_vals: dict[str, object] = dict(c_rates)
    formula_vals["rehab_voluntary"] = "=1+1"
    write_xlsx(out / "value_formula.xlsx", BASE_COMMUNE, BASE_PERIOD, formula_vals)
    emit("value_not_number", "C", {"rehab_voluntary": "hai"})
    emit("value_ambiguous", "C", {"poppy_destroyed_m2": "1.250"})
    emit("count_not_integer", "C", {"rehab_voluntary": "2,5"})
    emit("value_negative", "C", {"rehab_voluntary": -1})
    emit(
        "rate_out_of_range",
        "C",
        {"crime_clearance_rate": 120.0, "crime_cases": 5, "crime_solved": 4},
    )
    emit("flag_not_binary", "C", {"drug_free_commune": 2})
    emit("rate_mismatch", "C", {"crime_cases": 7, "crime_solved": 6, "crime_clearance_rate": 50.0})
    emit(
        "change_rate_mismatch",
        "C",
        {"crime_cases": 9, "crime_cases_prev": 10, "crime_change_rate": -25.0},
    )
    # parts and wholes
    emit("crime_solved_le_cases", "C", {"crime_cases": 3, "crime_solved": 5})
    emit("serious_solved_le_cases", "D", {"serious_cases": 1, "serious_solved": 2})
    emit("reports_resolved_le_received", "C", {"reports_received": 4, "reports_resolved": 6})
    emit(
        "wanted_resolved_le_existing",
        "D",
        {"wanted_existing": 5, "wanted_surrendered": 3, "wanted_arrested": 3},
    )
    emit(
        "assets_recovered_le_lost", "D", {"assets_lost_mvnd": 100.0, "assets_recovered_mvnd": 150.5}
    )
    emit("drug_suspects_ge_cases", "C", {"drug_cases": 3, "drug_suspects": 1})
    emit("rehab_compulsory_le_users", "D", {"rehab_compulsory": 10_000})
    emit("vice_violations_le_inspections", "D", {"vice_inspections": 3, "vice_violations": 4})
    emit("trafficking_suspects_ge_cases", "D", {"trafficking_cases": 3, "trafficking_suspects": 2})
    emit("participants_ge_sessions", "C", {"propaganda_sessions": 5, "propaganda_participants": 3})
    emit(
        "participants_per_session_plausible",
        "C",
        {"propaganda_sessions": 2, "propaganda_participants": 5000},
    )
    emit("hotspots_transformed_le_total", "C", {"hotspots_total": 2, "hotspots_transformed": 3})
    emit("safe_areas_le_areas", "C", {"residential_areas": 10, "residential_areas_safe": 12})
    emit("reoffenders_le_released", "C", {"released_prisoners": 2, "reoffenders": 3})
    # nothing guessed: an Excel number for October, cells that do not line up, absurd values
    emit("period_ambiguous", "C", {}, period="2024.1")

    def poppy(cells: list[str]) -> list[str]:
        return [*cells[:3], "2", "5"] if cells[2] == "poppy_destroyed_m2" else cells

    emit("value_split_decimal", "C", {}, edit=poppy)  # "2,5" unquoted: value 2, note "5"
    emit(
        "row_extra_fields",
        "C",
        {},
        edit=lambda c: [*poppy(c), "đã kiểm tra"] if c[2] == "poppy_destroyed_m2" else c,
    )
    emit("value_implausible", "C", {"rehab_voluntary": 250_000_000})  # digits typed twice
    return len(list(out.iterdir()))


# --- messy variants of one commune report -----------------------------------------------------
def vn_number(x: str) -> str:
    """'1250' -> '1.250', '92.86' -> '92,86' (Vietnamese formatting)."""
    if "." in x:
        whole, frac = x.split(".")
    else:
        whole, frac = x, ""
    neg = whole.startswith("-")
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    s = ("-" if neg else "") + ".".join(groups)
    return s + ("," + frac if frac else "")


def write_messy(gen: Generator) -> int:
    cat = gen.catalog
    on = parse_period(BASE_PERIOD).end(cat.close_day)
    commune = gen.units.get(BASE_COMMUNE, on)
    assert commune
    vals = dict(gen.values(commune, BASE_PERIOD))
    vals["propaganda_participants"] = 1250  # a count that needs a thousands separator
    vals["propaganda_sessions"] = 9
    vals = with_rates(vals, cat, "C")
    notes = {
        "crime_cases": "Ghi chú: đã xác minh",
        "drug_users_managed": "Tăng 2 người so với tháng trước",
    }
    rows = rows_for(BASE_COMMUNE, BASE_PERIOD, vals, cat, notes)
    out = OUT / "messy"
    write_csv(out / "canonical.csv", rows)
    vn_rows = [[u, p, i, vn_number(v), n] for u, p, i, v, n in rows]
    write_csv(out / "semicolon_vn_numbers.csv", vn_rows, sep=";")
    write_csv(out / "bom_crlf.csv", rows, encoding="utf-8-sig", newline="\r\n")
    write_csv(out / "cp1258.csv", vn_rows, sep=";", encoding="cp1258", newline="\r\n")
    write_csv(out / "utf16_tab.csv", vn_rows, sep="\t", encoding="utf-16")
    padded = [[f"  {u} ", f" {p}", f" {i}  ", f"  {v} ", f"{n}   "] for u, p, i, v, n in rows]
    write_csv(out / "padded_cells.csv", padded)
    nfd = [[u, p, i, v, unicodedata.normalize("NFD", n)] for u, p, i, v, n in rows]
    write_csv(out / "nfd_text.csv", nfd)
    stripped = [[u.lstrip("0"), p, i, v, n] for u, p, i, v, n in rows]
    write_csv(out / "leading_zeros_stripped.csv", stripped)
    excel_float = [[f"{int(u)}.0", p, i, v, n] for u, p, i, v, n in rows]
    write_csv(out / "unit_code_as_float.csv", excel_float)
    write_xlsx(out / "form.xlsx", BASE_COMMUNE, BASE_PERIOD, dict(vals), notes)
    # TCVN3 (ABC), the 8-bit encoding of the .VnTime fonts, with glibc's TCVN5712-1 table
    from validations.readers import TCVN3_TABLE

    to_tcvn3 = {ch: bytes([b]) for b, ch in TCVN3_TABLE.items()}
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(
        [["unit_code", "period", "indicator", "value", "note"], *vn_rows]
    )
    text = unicodedata.normalize("NFC", buf.getvalue())
    (out / "tcvn3.csv").write_bytes(b"".join(to_tcvn3.get(ch) or ch.encode("ascii") for ch in text))
    return len(list(out.iterdir()))


# --- corrections: a second, changed version of valid reports ------------------------------
CORRECTED = ("03387", "03388")


def write_corrections(gen: Generator) -> int:
    """Valid reports sent again with a corrected figure (one more case, solved)."""
    cat = gen.catalog
    on = parse_period(BASE_PERIOD).end(cat.close_day)
    out = OUT / "corrections"
    for code in CORRECTED:
        unit = gen.units.get(code, on)
        assert unit
        vals = {
            k: v
            for k, v in gen.values(unit, BASE_PERIOD).items()
            if cat.indicators[k].kind != "rate"
        }
        vals["crime_cases"] += 1
        vals["crime_solved"] += 1
        vals["reports_received"] += 1
        vals["reports_resolved"] += 1
        notes = {"crime_cases": "Bổ sung 1 vụ phát hiện sau ngày chốt số liệu"}
        write_csv(
            out / f"{code}_{BASE_PERIOD}.csv",
            rows_for(code, BASE_PERIOD, with_rates(vals, cat, "C"), cat, notes),
        )
    return len(list(out.iterdir()))


# --- anomalies: files every rule accepts but that are wrong --------------------------------
TYPO_COMMUNE = "03478"  # Xã ... of Huyện Sìn Hồ (108)


def write_anomalies(gen: Generator) -> int:
    """A commune types an extra zero: drug users managed x10. Every intake rule passes; the
    district's own total then disagrees with its communes' sum, and consolidation names this
    commune as the likely cause (its value departs most from its own history)."""
    cat = gen.catalog
    on = parse_period(BASE_PERIOD).end(cat.close_day)
    unit = gen.units.get(TYPO_COMMUNE, on)
    assert unit
    vals = dict(gen.values(unit, BASE_PERIOD))
    vals["drug_users_managed"] *= 10
    out = OUT / "anomalies"
    write_csv(
        out / f"{TYPO_COMMUNE}_{BASE_PERIOD}.csv", rows_for(TYPO_COMMUNE, BASE_PERIOD, vals, cat)
    )
    return len(list(out.iterdir()))


# --- unreadable ---------------------------------------------------------------------------------
def write_unreadable(gen: Generator) -> int:
    out = OUT / "unreadable"
    out.mkdir(parents=True, exist_ok=True)
    (out / "empty.csv").write_bytes(b"")
    (out / "header_only.csv").write_bytes(b"unit_code,period,indicator,value,note\n")
    rng = rng_for("binary")
    (out / "binary.csv").write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    (out / "web_page.csv").write_text(
        "<!DOCTYPE html><html><head><title>Báo cáo</title></head><body><table><tr><td>1</td>"
        "</tr></table></body></html>\n",
        encoding="utf-8",
    )
    (out / "json_export.csv").write_text(
        '{"unit_code": "03386", "period": "2024-06", "crime_cases": 3}\n', encoding="utf-8"
    )
    (out / "wrong_columns.csv").write_text("ma_xa;thang;so_vu\n03386;6;3\n", encoding="utf-8")
    form = OUT / "messy" / "form.xlsx"
    data = form.read_bytes()
    (out / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    (out / "not_really.xlsx").write_text("unit_code,period\n03386,2024-06\n", encoding="utf-8")
    return len(list(out.iterdir()))


def main(out: Path = ROOT) -> dict[str, int]:
    global OUT
    OUT = out
    catalog, units = load_catalog(), load_units()
    for sub in ("valid", "invalid", "messy", "corrections", "anomalies", "unreadable"):
        shutil.rmtree(OUT / sub, ignore_errors=True)
    gen = Generator(catalog, units)
    counts = {
        "valid": write_valid(gen),
        "invalid": write_invalid(gen),
        "messy": write_messy(gen),
        "corrections": write_corrections(gen),
        "anomalies": write_anomalies(gen),
        "unreadable": write_unreadable(gen),
    }
    return counts


if __name__ == "__main__":
    result = main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
    print(", ".join(f"{k}: {v} files" for k, v in result.items()))
