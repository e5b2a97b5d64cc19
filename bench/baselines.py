"""What a team would otherwise build: a loop that validates one file at a time.

Two baselines, both given the same rules as tonghop as far as each tool can express them, both
reading each CSV the way such a loop would (pandas.read_csv, numbers with pandas.to_numeric:
plain numbers only, no Vietnamese formats, no encoding repair):

- pandera: per file, `schema.validate(df, lazy=True)` with the schemas tonghop compiles from the
  catalog (validations/rules.py): the long frame (one row per value: integer counts,
  non-negative counts and decimals, rates within their range, 0/1 flags) and the wide frame
  (one row: every part <= whole rule, the conditional rules, every reported rate against its
  parts within the form's rounding).
- Great Expectations: one ephemeral context, two suites built once (long and wide frame, the
  same rules as GX expectations: ExpectColumnValuesToBeBetween / ToBeInSet with row conditions
  per kind or per indicator, ExpectColumnPairValuesAToBeGreaterThanB for parts and wholes,
  derived columns where GX has no expression: the fractional part for whole numbers,
  surrendered + arrested, 2,000 x sessions, |rate - 100 n / d|), plus the indicator codes in the
  catalog and unique per file; per file, two batch validations.

Not covered by either loop (tonghop checks them, a per-file schema cannot without the
reference data): the unit code against the reference units and the period's structure, the
period's format and whether it has started, indicators of another level, required indicators
missing, one unit and period per file, Vietnamese number formats and ambiguous values, formulas
in xlsx cells. XLSX files are not in the baselines' samples (a team's loop would need another
reader); their CSV files are.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validations.catalog import Catalog
from validations.rules import long_schema, wide_schema


class FileFrames:
    """One CSV read the way a per-file loop would, as the long and the wide frame."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        ind = catalog.indicators
        self.codes = list(ind)
        self.kind = {c: i.kind for c, i in ind.items()}
        self.min = {c: i.min for c, i in ind.items()}
        self.max = {c: i.max for c, i in ind.items()}

    def read(self, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        indicator = df["indicator"].str.strip().str.lower()
        raw = df["value"].str.strip()
        value = pd.to_numeric(raw, errors="coerce")
        long = pd.DataFrame(
            {
                "sub": 0,
                "indicator": indicator,
                "kind": indicator.map(self.kind).fillna("decimal"),
                "value": value.astype(float),
                "min": indicator.map(self.min).astype(float),
                "max": indicator.map(self.max).astype(float),
            }
        )
        known = long.loc[long["indicator"].isin(self.codes) & long["value"].notna()]
        wide = (
            known.drop_duplicates("indicator")
            .pivot(index="sub", columns="indicator", values="value")
            .reindex(columns=self.codes)
            .astype(float)
        )
        wide.columns = [str(c) for c in wide.columns]
        return long, wide


def sample_files(files: list[Path], n: int, seed: int = 2024) -> list[Path]:
    """A reproducible random sample of the CSV files."""
    csvs = [f for f in files if f.suffix == ".csv"]
    return sorted(random.Random(seed).sample(csvs, min(n, len(csvs))))


# --- pandera ------------------------------------------------------------------------------------
def run_pandera(files: list[Path], catalog: Catalog) -> dict[str, Any]:
    """schema.validate(df, lazy=True) per file with tonghop's compiled schemas."""
    from pandera.errors import SchemaErrors

    t0 = time.perf_counter()
    frames = FileFrames(catalog)
    long_s, wide_s = long_schema(catalog), wide_schema(catalog)
    setup = time.perf_counter() - t0
    flagged: list[str] = []
    t1 = time.perf_counter()
    for path in files:
        long, wide = frames.read(path)
        failed = False
        for schema, df in ((long_s, long), (wide_s, wide)):
            try:
                schema.validate(df, lazy=True)
            except SchemaErrors:
                failed = True
        if failed:
            flagged.append(str(path))
    loop = time.perf_counter() - t1
    return {"setup_s": setup, "loop_s": loop, "files": len(files), "flagged": flagged}


# --- Great Expectations ---------------------------------------------------------------------
def _gx_suites(gx: Any, catalog: Catalog) -> tuple[Any, Any, dict[str, Any]]:
    """The long-frame and the wide-frame suites, and the wide frame's derived columns."""
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    inds = catalog.indicators.values()
    long_exp = [
        E.ExpectColumnValuesToBeInSet(column="indicator", value_set=sorted(catalog.indicators)),
        E.ExpectColumnValuesToBeUnique(column="indicator"),
        E.ExpectColumnValuesToNotBeNull(column="value"),
        # count_not_integer: GX has no whole-number expectation for floats
        E.ExpectColumnValuesToBeBetween(
            column="value_fraction", max_value=1e-9, row_condition=Column("kind") == "count"
        ),
        E.ExpectColumnValuesToBeBetween(
            column="value",
            min_value=0,
            row_condition=Column("kind").is_in(["count", "decimal"]),
        ),
        E.ExpectColumnValuesToBeInSet(
            column="value", value_set=[0.0, 1.0], row_condition=Column("kind") == "flag"
        ),
    ]
    for ind in inds:  # rate_out_of_range: each rate's own domain
        if ind.kind == "rate":
            kw: dict[str, Any] = {"min_value": ind.min}
            if ind.max is not None:
                kw["max_value"] = ind.max
            long_exp.append(
                E.ExpectColumnValuesToBeBetween(
                    column="value", row_condition=Column("indicator") == ind.code, **kw
                )
            )
    derived: dict[str, Any] = {}
    wide_exp = []
    for rule in catalog.rules_of_kind("compare"):
        terms = {"left": rule.left, "right": rule.right}
        cols = {}
        for side, ts in terms.items():
            if len(ts) == 1 and ts[0].coef == 1:
                cols[side] = ts[0].code
            else:  # a sum or a multiple: a derived column
                name = f"__{rule.id}_{side}"
                derived[name] = ts
                cols[side] = name
        big, small = (
            (cols["right"], cols["left"])
            if rule.op in ("<=", "<")
            else (
                cols["left"],
                cols["right"],
            )
        )
        kw = {}
        if rule.when is not None:
            col = Column(rule.when.code)
            kw["row_condition"] = {
                ">": col > rule.when.value,
                ">=": col >= rule.when.value,
                "<": col < rule.when.value,
                "<=": col <= rule.when.value,
                "==": col == rule.when.value,
            }[rule.when.op]
        wide_exp.append(
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=big,
                column_B=small,
                or_equal=rule.op in ("<=", ">="),
                ignore_row_if="either_value_is_missing",
                **kw,
            )
        )
    for ind in inds:  # rate_mismatch, change_rate_mismatch: |reported - 100 n / d|
        if ind.kind == "rate" and ind.numerator and ind.denominator:
            name = f"__diff_{ind.code}"
            derived[name] = ("rate", ind)
            wide_exp.append(
                E.ExpectColumnValuesToBeBetween(column=name, max_value=ind.tolerance.abs)
            )
    long_suite = gx.ExpectationSuite(name="long", expectations=long_exp)
    wide_suite = gx.ExpectationSuite(name="wide", expectations=wide_exp)
    return long_suite, wide_suite, derived


def _derive(wide: pd.DataFrame, derived: dict[str, Any]) -> pd.DataFrame:
    wide = wide.copy()
    for name, how in derived.items():
        if isinstance(how, tuple) and how and how[0] == "rate":
            ind = how[1]
            exp = ind.formula.array(wide[ind.numerator], wide[ind.denominator])
            wide[name] = (wide[ind.code] - exp).abs()
        else:
            total = pd.Series(0.0, index=wide.index)
            for t in how:
                total = total + t.coef * wide[t.code]
            wide[name] = total
    return wide


def run_gx(files: list[Path], catalog: Catalog) -> dict[str, Any]:
    """Two batch validations per file (long and wide frame) in one ephemeral GX context."""
    import logging

    t0 = time.perf_counter()
    import great_expectations as gx

    import_s = time.perf_counter() - t0
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: BLE001 (only cosmetic)
        pass
    source = context.data_sources.add_pandas("files")
    long_bd = source.add_dataframe_asset("long").add_batch_definition_whole_dataframe("file")
    wide_bd = source.add_dataframe_asset("wide").add_batch_definition_whole_dataframe("file")
    long_suite, wide_suite, derived = _gx_suites(gx, catalog)
    long_suite = context.suites.add(long_suite)
    wide_suite = context.suites.add(wide_suite)
    frames = FileFrames(catalog)
    setup = time.perf_counter() - t0
    flagged: list[str] = []
    t1 = time.perf_counter()
    for path in files:
        long, wide = frames.read(path)
        v = long["value"]
        long["value_fraction"] = (v - np.round(v)).abs()
        wide = _derive(wide, derived)
        ok = True
        for bd, suite, df in ((long_bd, long_suite, long), (wide_bd, wide_suite, wide)):
            res = bd.get_batch(batch_parameters={"dataframe": df}).validate(suite)
            ok = ok and bool(res.success)
        if not ok:
            flagged.append(str(path))
    loop = time.perf_counter() - t1
    return {
        "import_s": import_s,
        "setup_s": setup,
        "loop_s": loop,
        "files": len(files),
        "flagged": flagged,
        "expectations": len(long_suite.expectations) + len(wide_suite.expectations),
    }


def extrapolate(run: dict[str, Any], total_files: int) -> float:
    """Setup once plus the sample's mean time per file for every file of the month."""
    per_file = run["loop_s"] / max(run["files"], 1)
    return run["setup_s"] + per_file * total_files


def _finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))
