"""A deterministic national month: every unit of the three-level structure reports, as files.

    python bench/national.py [--scale national|province] [--period 2024-06] [--out DIR]

Real unit codes from the reference data (validations.units.load_units, legacy structure):
63 provinces, 696 districts and 10,035 communes, plus 5 island districts without communes that
report as districts. Every commune, district and province sends one file for the month:
10,794 files at national scale (`--scale province`: Lai Châu, 12, 115 files).

Values come from the sample generator (sample_submissions/generate.py: own_record, with_rates,
Generator): a parent's own figures are consistent with its children's ("=" indicators equal
their sum, ">=" ones add the parent's own cases, rates are recomputed from their parts).

About 1% of the files break one rule on purpose (`PLANTS`: a part above its whole, a rate that
disagrees with its parts, a negative or unreadable value, a missing or unknown indicator, ...;
a few are warnings only). Which file breaks which rule is written to manifest.json, so a run
can check that every planted violation was found and nothing else. About 1% of the units send
the Excel form (.xlsx) instead of a CSV.

Deterministic: every random draw is seeded from the unit code and period (zlib.crc32), so the
same command writes the same bytes. The output folder is reused when its manifest says it was
written by the same GENERATOR_VERSION for the same scale and period.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from validations.catalog import Catalog, load_catalog  # noqa: E402
from validations.period import parse_period  # noqa: E402
from validations.units import ReferenceUnits, Unit, load_units  # noqa: E402

GENERATOR_VERSION = 4
DEFAULT_PERIOD = "2024-06"
PROVINCE_SCALE_CODE = "12"  # Lai Châu, the sample province
PLANT_SHARE = 0.01  # share of files that break a rule on purpose
XLSX_SHARE = 0.01  # share of units that send the Excel form
DATA = ROOT / "data" / "bench"


def load_sample_generator() -> Any:
    """sample_submissions/generate.py as a module (it is a script, not a package)."""
    path = ROOT / "sample_submissions" / "generate.py"
    spec = importlib.util.spec_from_file_location("tonghop_sample_generate", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- planted violations --------------------------------------------------------------------
# rule id -> (levels it applies to, change). A change gets the unit's values (parts, no rates)
# and returns (part changes, other changes applied after the rates are recomputed, rows to
# drop, extra rows). Only the planted rule breaks, as in sample_submissions/invalid/.
Change = Callable[[dict[str, float]], tuple[dict, dict, tuple, list]]


def _parts(**changes: Any) -> Change:
    def f(v: dict[str, float]) -> tuple[dict, dict, tuple, list]:
        return {k: c(v) if callable(c) else c for k, c in changes.items()}, {}, (), []

    return f


def _after(**changes: Any) -> Change:
    def f(v: dict[str, float]) -> tuple[dict, dict, tuple, list]:
        return {}, {k: c(v) if callable(c) else c for k, c in changes.items()}, (), []

    return f


def _rate_mismatch(v: dict[str, float]) -> tuple[dict, dict, tuple, list]:
    cases = max(int(v["crime_cases"]), 4)
    return {"crime_cases": cases, "crime_solved": cases - 1}, {"crime_clearance_rate": 50.0}, (), []


def _change_mismatch(v: dict[str, float]) -> tuple[dict, dict, tuple, list]:
    parts = {"crime_cases": 9, "crime_solved": min(v["crime_solved"], 9), "crime_cases_prev": 10}
    return parts, {"crime_change_rate": -25.0}, (), []


def _drop(code: str) -> Change:
    return lambda v: ({}, {}, (code,), [])


def _extra(indicator: str, value: Callable[[dict[str, float]], str]) -> Change:
    return lambda v: ({}, {}, (), [(indicator, value(v))])


PLANTS: dict[str, tuple[str, Change]] = {
    "crime_solved_le_cases": ("CDP", _parts(crime_solved=lambda v: v["crime_cases"] + 2)),
    "reports_resolved_le_received": (
        "CDP",
        _parts(reports_resolved=lambda v: v["reports_received"] + 1),
    ),
    "drug_suspects_ge_cases": ("CDP", _parts(drug_cases=3, drug_suspects=1)),
    "participants_ge_sessions": (
        "CDP",
        _parts(propaganda_sessions=5, propaganda_participants=3),
    ),
    "hotspots_transformed_le_total": ("CDP", _parts(hotspots_total=2, hotspots_transformed=3)),
    "safe_areas_le_areas": (
        "C",
        _parts(residential_areas_safe=lambda v: v["residential_areas"] + 2),
    ),
    "reoffenders_le_released": ("C", _parts(released_prisoners=2, reoffenders=3)),
    "serious_solved_le_cases": ("DP", _parts(serious_solved=lambda v: v["serious_cases"] + 1)),
    "wanted_resolved_le_existing": (
        "DP",
        _parts(wanted_existing=5, wanted_surrendered=3, wanted_arrested=3),
    ),
    "assets_recovered_le_lost": ("DP", _parts(assets_lost_mvnd=100.0, assets_recovered_mvnd=150.5)),
    "vice_violations_le_inspections": ("DP", _parts(vice_inspections=3, vice_violations=4)),
    "trafficking_suspects_ge_cases": ("DP", _parts(trafficking_cases=3, trafficking_suspects=2)),
    "rate_mismatch": ("CDP", _rate_mismatch),
    "change_rate_mismatch": ("CDP", _change_mismatch),
    "rate_out_of_range": ("CDP", _after(reports_resolution_rate=120.0)),
    "value_negative": ("CDP", _parts(rehab_voluntary=-1)),
    "value_not_number": ("CDP", _after(rehab_voluntary="hai")),
    "count_not_integer": ("CDP", _after(rehab_voluntary="2,5")),
    "flag_not_binary": ("C", _after(drug_free_commune=2)),
    "indicator_missing": ("CDP", _drop("drug_users_managed")),
    "indicator_unknown": ("CDP", _extra("crime_casess", lambda v: "3")),
    "indicator_wrong_level": ("C", _extra("serious_cases", lambda v: "1")),
    "duplicate_value": (
        "CDP",
        _extra("propaganda_sessions", lambda v: str(int(v["propaganda_sessions"]) + 1)),
    ),
    # warnings: the file is accepted with a remark
    "value_ambiguous": ("CDP", _after(poppy_destroyed_m2="1.250")),
    "participants_per_session_plausible": (
        "CDP",
        _parts(propaganda_sessions=2, propaganda_participants=5000),
    ),
    "rehab_compulsory_le_users": ("DP", _parts(rehab_compulsory=10_000)),
}
WARNING_PLANTS = {
    "value_ambiguous",
    "participants_per_session_plausible",
    "rehab_compulsory_le_users",
}


def planted_values(
    gen_mod: Any, catalog: Catalog, level: str, values: dict[str, float], rule: str
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """The unit's values changed so that exactly `rule` breaks; plus extra (indicator, text) rows."""
    counts = {k: x for k, x in values.items() if catalog.indicators[k].kind != "rate"}
    parts, after, drop, extra = PLANTS[rule][1](counts)
    counts.update(parts)
    out: dict[str, object] = dict(gen_mod.with_rates(counts, catalog, level))
    out.update(after)
    for k in drop:
        out.pop(k, None)
    return out, extra


# --- the month -----------------------------------------------------------------------------
def _units_of(units: ReferenceUnits, scale: str, on: Any) -> list[Unit]:
    provinces = [u for u in units.in_force(on) if u.level == "P"]
    if scale == "province":
        provinces = [p for p in provinces if p.code == PROVINCE_SCALE_CODE]
    provinces.sort(key=lambda u: u.code)
    out: list[Unit] = []
    for p in provinces:
        out.append(p)
        for d in sorted(units.children(p.code, on), key=lambda u: u.code):
            out.append(d)
            out.extend(sorted(units.children(d.code, on), key=lambda u: u.code))
    return out


def month_dir(scale: str, period: str = DEFAULT_PERIOD, out: Path | None = None) -> Path:
    return (out or DATA) / f"{scale}-{period}"


def generate_month(
    scale: str = "national",
    period: str = DEFAULT_PERIOD,
    out: Path | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write the month's files (or reuse them) and return the manifest."""
    folder = month_dir(scale, period, out)
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file() and not force:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("generator_version") == GENERATOR_VERSION:
            return manifest
    t0 = time.perf_counter()
    gen_mod = load_sample_generator()
    catalog, units = load_catalog(), load_units()
    gen = gen_mod.Generator(catalog, units)
    on = parse_period(period).end(catalog.close_day)
    shutil.rmtree(folder, ignore_errors=True)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    files: list[dict[str, Any]] = []
    planted: dict[str, str] = {}
    rules_by_level = {lv: [r for r, (lvs, _) in PLANTS.items() if lv in lvs] for lv in "CDP"}
    for unit in _units_of(units, scale, on):
        values = gen.values(unit, period)
        rng = gen_mod.rng_for("bench-plant", unit.code, period)
        rule = None
        if rng.random() < PLANT_SHARE:
            rule = rng.choice(rules_by_level[unit.level])
            vals, extra = planted_values(gen_mod, catalog, unit.level, values, rule)
        else:
            vals, extra = dict(values), []
        xlsx = gen_mod.rng_for("bench-xlsx", unit.code).random() < XLSX_SHARE and not extra
        sub = {"P": [], "D": [unit.code], "C": [unit.parent_code or ""]}[unit.level]
        rel = Path(unit.province_code, *sub, f"{unit.code}_{period}.{'xlsx' if xlsx else 'csv'}")
        path = tmp / rel
        notes = gen_mod._notes(unit.code, period)
        if xlsx:
            gen_mod.write_xlsx(path, unit.code, period, vals, notes)
        else:
            rows = gen_mod.rows_for(unit.code, period, vals, catalog, notes)  # type: ignore[arg-type]
            rows += [[unit.code, period, ind, text, ""] for ind, text in extra]
            gen_mod.write_csv(path, rows)
        files.append({"path": str(rel), "unit_code": unit.code, "level": unit.level})
        if rule:
            planted[str(rel)] = rule
    counts = {lv: sum(1 for f in files if f["level"] == lv) for lv in "PDC"}
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": scale,
        "period": period,
        "files": len(files),
        "by_level": counts,
        "xlsx": sum(1 for f in files if f["path"].endswith(".xlsx")),
        "planted": planted,
        "planted_errors": sum(1 for r in planted.values() if r not in WARNING_PLANTS),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    tmp.rename(folder)
    return manifest


def month_files(folder: Path) -> list[Path]:
    """The month's submission files, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".xlsx"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", choices=("national", "province"), default="national")
    ap.add_argument("--period", default=DEFAULT_PERIOD)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--force", action="store_true", help="rewrite even if the folder is current")
    args = ap.parse_args()
    m = generate_month(args.scale, args.period, args.out, args.force)
    print(
        f"{month_dir(args.scale, args.period, args.out)}: {m['files']} files {m['by_level']}, "
        f"{m['xlsx']} xlsx, {len(m['planted'])} planted violations "
        f"({m['planted_errors']} errors), written in {m['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
