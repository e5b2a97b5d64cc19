"""Great Expectations checkpoint over a consolidated period: the suite comes from the catalog.

`build_suite(catalog)` turns the catalog into plain expectation specs (no rule is written twice
by hand); `run_checkpoint(con, period, unit_code, catalog, docs_dir)` reads the consolidated
frame of one (period, root unit) tree from the warehouse, validates it in ONE Great Expectations
checkpoint run, writes Data Docs into `docs_dir`, turns every failed expectation into Issue
records and stores them in fct_consolidation_issue (rule ids `gx_<expectation type>`, so
v_issues shows them next to the consolidation's own issues).

Great Expectations costs 6-12 s to import: it is imported only inside `_run_gx`, never at module
import time (tested), so the submitter path and the CLI stay fast.

The frame (`quality_frame`): the fct_rollup rows of the period whose unit is in the root's tree
(the root and its consolidated descendants, from the reference units in force on the period's
closing date), plus the rows of the period whose unit is not in dim_unit for the period's
structure at all (orphans belong to no tree, so every checkpoint of that period reports them),
left-joined with dim_unit (`unit_name`, `dim_level`, `dim_parent`), plus three computed columns:

- `value_fraction` = |value - round(value)|: GX has no "is a whole number" expectation for a
  float column, so counts are integer-valued when value_fraction is 0 (within 1e-9);
- `rate_expected` = 100 * numerator / denominator (formula `change`: 100 * (n - d) / d; flags:
  the share of units with 1), NULL when a part is missing or the denominator is 0;
- `rate_diff` = value (flags: share) - rate_expected, expected within +-0.005 (the form's
  two-decimal rounding, as the intake rule `rate_mismatch`).

Per-indicator conditions are GX 1.x row conditions (`Column("indicator").is_in([...])`, the
pandas engine turns them into `df.query`): one expectation per group of indicators sharing a
kind and a domain, not one per indicator. The tree's unit codes and the period's structure are
suite parameters (`$PARAMETER`), so the suite itself depends on the catalog only.

Rollup domains vs the catalog's: counts, decimals and rates carry the catalog's [min, max]; a
flag's rollup value is the NUMBER of units with 1 (count_share), so its domain is [0, reporting
units] and its share must lie in [100 * min, 100 * max].
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.errors import TonghopError
from validations.issue import Issue, Severity
from validations.period import PeriodError, parse_period
from validations.units import ReferenceUnits, load_units, structure_on
from warehouse.db import now, transaction
from warehouse.rollup import fmt_en, fmt_vi

ENV_DOCS = "TONGHOP_DATA_DOCS"
RULE_PREFIX = "gx_"
RATE_TOLERANCE = 0.005  # the form's two-decimal rounding, as the intake rule rate_mismatch
INTEGER_TOLERANCE = 1e-9
MAX_ISSUES_PER_EXPECTATION = 100
SITE_NAME = "tonghop"
GX_PROJECT = "_gx"  # the file context's folder under docs_dir (suite, results, config)
PARAM_UNITS = "tree_unit_codes"
PARAM_STRUCTURES = "structures"
FRAME_COLUMNS = [
    "unit_code",
    "unit_name",
    "level",
    "dim_level",
    "dim_parent",
    "period",
    "structure",
    "indicator",
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "children_reporting",
    "source",
    "value_fraction",
    "rate_expected",
    "rate_diff",
]

log = logging.getLogger(__name__)


class QualityError(TonghopError, ValueError):
    """The checkpoint cannot run for this unit and period."""


# --- the suite, as plain data -----------------------------------------------------------------
_FIX_VALUE_VI = (
    "Kiểm tra báo cáo của đơn vị này và của các đơn vị trực thuộc cho chỉ tiêu này, sửa báo cáo "
    "sai, gửi lại rồi chạy lại tổng hợp (tonghop consolidate --period {period} --unit {root})."
)
_FIX_VALUE_EN = (
    "Check the reports of this unit and of the units below it for this indicator, correct and "
    "resend the wrong one, then consolidate again (tonghop consolidate --period {period} "
    "--unit {root})."
)
_FIX_TABLE_VI = (
    "Bảng tổng hợp bị ghi sai ngoài quy trình tổng hợp: chạy lại tonghop consolidate --period "
    "{period} --unit {root}; nếu vẫn lỗi, báo người quản trị kho dữ liệu."
)
_FIX_TABLE_EN = (
    "The rollup table was written outside the consolidation: run tonghop consolidate --period "
    "{period} --unit {root} again; if the failure remains, tell the warehouse administrator."
)


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of the suite, as plain data (no Great Expectations object).

    `type` is the GX expectation type (snake_case, e.g. expect_column_values_to_be_between),
    `kwargs` its arguments (a `{"$PARAMETER": name}` value is filled at run time), `indicators`
    the row condition (rows whose indicator is one of these; empty: every row). The texts are
    templates formatted per unexpected row with: unit, unit_name, indicator, label_vi,
    label_en, value_vi, value_en, expected, column, period, root, root_name, structure, n.
    """

    check: str
    type: str
    kwargs: dict[str, Any]
    severity: str
    expected: str
    message_vi: str
    message_en: str
    hint_vi: str
    hint_en: str
    indicators: tuple[str, ...] = ()

    @property
    def rule_id(self) -> str:
        return RULE_PREFIX + self.type

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "rule_id": self.rule_id,
            "type": self.type,
            "kwargs": self.kwargs,
            "indicators": list(self.indicators),
            "severity": self.severity,
            "expected": self.expected,
        }


def _num_text(x: float | None) -> str:
    if x is None:
        return "∞"
    return f"{x:g}"


def _domain_text(lo: float | None, hi: float | None) -> str:
    if hi is None:
        return f">= {_num_text(lo)}" if lo is not None else "any"
    if lo is None:
        return f"<= {_num_text(hi)}"
    return f"in [{_num_text(lo)}, {_num_text(hi)}]"


def build_suite(catalog: Catalog) -> list[ExpectationSpec]:
    """The expectation specs of the consolidated-period suite, generated from the catalog."""
    inds = list(catalog.indicators.values())
    sums = [i for i in inds if i.aggregation == "sum"]
    ratios = [i for i in inds if i.aggregation == "ratio"]
    flags = [i for i in inds if i.aggregation == "count_share"]
    specs: list[ExpectationSpec] = []

    def add(check: str, type_: str, kwargs: dict[str, Any], **kw: Any) -> None:
        kw.setdefault("severity", "error")
        kw.setdefault("hint_vi", _FIX_TABLE_VI)
        kw.setdefault("hint_en", _FIX_TABLE_EN)
        kw["indicators"] = tuple(kw.get("indicators", ()))
        specs.append(ExpectationSpec(check=check, type=type_, kwargs=kwargs, **kw))

    # -- the period was consolidated at all
    add(
        "rollup_not_empty",
        "expect_table_row_count_to_be_between",
        {"min_value": 1},
        severity="warning",
        expected=">= 1 row",
        message_vi="{root_name} ({root}) chưa có số liệu tổng hợp nào cho kỳ {period}.",
        message_en="{root_name} ({root}) has no consolidated figures for {period}.",
        hint_vi=(
            "Chạy tổng hợp (tonghop consolidate --period {period} --unit {root}) sau khi các "
            "đơn vị đã gửi báo cáo."
        ),
        hint_en=(
            "Consolidate (tonghop consolidate --period {period} --unit {root}) once the units "
            "have sent their reports."
        ),
    )
    # -- keys complete and unique
    for col in ("unit_code", "period", "indicator"):
        add(
            f"key_not_null:{col}",
            "expect_column_values_to_not_be_null",
            {"column": col},
            expected="not null",
            message_vi=f"Bảng tổng hợp có dòng thiếu khóa {col} (đơn vị {{unit}}, chỉ tiêu "
            "{indicator}).",
            message_en=f"A rollup row has no {col} (unit {{unit}}, indicator {{indicator}}).",
        )
    add(
        "key_unique",
        "expect_compound_columns_to_be_unique",
        {"column_list": ["unit_code", "period", "indicator"]},
        expected="one row per (unit_code, period, indicator)",
        message_vi="{unit_name} ({unit}) có nhiều dòng tổng hợp cho chỉ tiêu {indicator} kỳ "
        "{period}.",
        message_en="{unit_name} ({unit}) has several rollup rows for {indicator} in {period}.",
    )
    # -- indicators and units known
    add(
        "indicator_known",
        "expect_column_values_to_be_in_set",
        {"column": "indicator", "value_set": sorted(catalog.indicators)},
        expected="an indicator of the catalog",
        message_vi="Chỉ tiêu {indicator} của {unit_name} ({unit}) không có trong danh mục chỉ "
        "tiêu.",
        message_en="Indicator {indicator} of {unit_name} ({unit}) is not in the catalog.",
    )
    add(
        "unit_known",
        "expect_column_values_to_be_in_set",
        {"column": "unit_code", "value_set": {"$PARAMETER": PARAM_UNITS}},
        expected="a unit of the tree in dim_unit",
        message_vi="Đơn vị {unit} (chỉ tiêu {indicator}) không có trong danh mục đơn vị hành "
        "chính (dim_unit, cơ cấu {structure}) thuộc {root_name} ({root}): số liệu tổng hợp mồ "
        "côi.",
        message_en="Unit {unit} (indicator {indicator}) is not a unit of {root_name} ({root}) "
        "in dim_unit (structure {structure}): an orphan rollup row.",
    )
    add(
        "structure_matches",
        "expect_column_values_to_be_in_set",
        {"column": "structure", "value_set": {"$PARAMETER": PARAM_STRUCTURES}},
        expected="the structure in force at the period's closing date",
        message_vi="Dòng tổng hợp {indicator} của {unit_name} ({unit}) ghi cơ cấu {value_vi}, "
        "khác cơ cấu của kỳ {period} ({structure}).",
        message_en="The rollup row {indicator} of {unit_name} ({unit}) says structure "
        "{value_en}, not the structure of {period} ({structure}).",
    )
    add(
        "level_matches",
        "expect_column_pair_values_to_be_equal",
        {"column_A": "level", "column_B": "dim_level", "ignore_row_if": "either_value_is_missing"},
        expected="the level of the unit in dim_unit",
        message_vi="Cấp của {unit_name} ({unit}) trong bảng tổng hợp ({value_vi}) khác cấp "
        "trong danh mục đơn vị ({expected}).",
        message_en="The level of {unit_name} ({unit}) in the rollup ({value_en}) differs from "
        "dim_unit ({expected}).",
    )
    # -- values within the catalog's domain
    present = [i.code for i in (*sums, *flags)]
    if present:
        add(
            "value_present",
            "expect_column_values_to_not_be_null",
            {"column": "value"},
            indicators=present,
            expected="a value",
            message_vi="{label_vi} của {unit_name} ({unit}) không có giá trị.",
            message_en="{label_en} of {unit_name} ({unit}) has no value.",
            hint_vi=_FIX_VALUE_VI,
            hint_en=_FIX_VALUE_EN,
        )
    groups: dict[tuple[str, float | None, float | None], list[str]] = {}
    for i in (*sums, *ratios):
        lo = None if i.min is None else float(i.min)
        hi = None if i.max is None else float(i.max)
        groups.setdefault((i.kind, lo, hi), []).append(i.code)
    for (kind, lo, hi), codes in groups.items():
        if lo is None and hi is None:
            continue
        dom = _domain_text(lo, hi)
        add(
            f"value_domain:{kind}:{dom.replace(' ', '')}",
            "expect_column_values_to_be_between",
            {"column": "value", "min_value": lo, "max_value": hi},
            indicators=codes,
            expected=dom,
            message_vi="{label_vi} của {unit_name} ({unit}) = {value_vi}, ngoài miền giá trị "
            f"của chỉ tiêu ({dom}).",
            message_en="{label_en} of {unit_name} ({unit}) = {value_en}, outside the "
            f"indicator's domain ({dom}).",
            hint_vi=_FIX_VALUE_VI,
            hint_en=_FIX_VALUE_EN,
        )
    if flags:
        fcodes = [i.code for i in flags]
        add(
            "flag_count_domain",
            "expect_column_values_to_be_between",
            {"column": "value", "min_value": 0.0, "max_value": None},
            indicators=fcodes,
            expected=">= 0 units",
            message_vi="{label_vi}: số đơn vị của {unit_name} ({unit}) = {value_vi} là số âm.",
            message_en="{label_en}: the number of units of {unit_name} ({unit}) = {value_en} "
            "is negative.",
            hint_vi=_FIX_VALUE_VI,
            hint_en=_FIX_VALUE_EN,
        )
        shares: dict[tuple[float, float], list[str]] = {}
        for i in flags:
            lo = 100.0 * float(i.min if i.min is not None else 0.0)
            hi = 100.0 * float(i.max if i.max is not None else 1.0)
            shares.setdefault((lo, hi), []).append(i.code)
        for (lo, hi), codes in shares.items():
            dom = _domain_text(lo, hi)
            add(
                f"flag_share_domain:{dom.replace(' ', '')}",
                "expect_column_values_to_be_between",
                {"column": "share", "min_value": lo, "max_value": hi},
                indicators=codes,
                expected=dom,
                message_vi="{label_vi}: tỷ lệ đơn vị của {unit_name} ({unit}) = {value_vi}%, "
                f"ngoài khoảng {dom}.",
                message_en="{label_en}: the share of units of {unit_name} ({unit}) = "
                f"{{value_en}}%, outside {dom}.",
                hint_vi=_FIX_VALUE_VI,
                hint_en=_FIX_VALUE_EN,
            )
        add(
            "flag_count_le_reporting",
            "expect_column_pair_values_a_to_be_greater_than_b",
            {
                "column_A": "denominator",
                "column_B": "numerator",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            indicators=fcodes,
            expected="units with 1 <= units reporting",
            message_vi="{label_vi}: {unit_name} ({unit}) có số đơn vị báo 1 lớn hơn số đơn vị "
            "báo cáo ({value_vi}).",
            message_en="{label_en}: {unit_name} ({unit}) counts more units with 1 than units "
            "reporting ({value_en}).",
            hint_vi=_FIX_VALUE_VI,
            hint_en=_FIX_VALUE_EN,
        )
    counts = [i.code for i in inds if i.kind in ("count", "flag")]
    if counts:
        add(
            "count_integer",
            "expect_column_values_to_be_between",
            {"column": "value_fraction", "min_value": 0.0, "max_value": INTEGER_TOLERANCE},
            indicators=counts,
            expected="a whole number",
            message_vi="{label_vi} của {unit_name} ({unit}) không phải số nguyên "
            "({value_vi}, phần lẻ {frac_vi}).",
            message_en="{label_en} of {unit_name} ({unit}) is not a whole number "
            "({value_en}, fraction {frac_en}).",
            hint_vi=_FIX_VALUE_VI,
            hint_en=_FIX_VALUE_EN,
        )
    # -- rates: parts within their own domain and the rate equal to its parts
    with_parts = [*ratios, *flags]
    for part in ("numerator", "denominator"):
        by_min: dict[float, list[str]] = {}
        for i in with_parts:
            ref = catalog.indicators.get(getattr(i, part) or "")
            lo = 0.0 if ref is None or ref.min is None else float(ref.min)
            by_min.setdefault(lo, []).append(i.code)
        for lo, codes in by_min.items():
            add(
                f"{part}_domain:>={lo:g}",
                "expect_column_values_to_be_between",
                {"column": part, "min_value": lo, "max_value": None},
                indicators=codes,
                expected=f">= {lo:g}",
                message_vi=f"{{label_vi}} của {{unit_name}} ({{unit}}): {part} = {{value_vi}} "
                f"nhỏ hơn {lo:g}.",
                message_en=f"{{label_en}} of {{unit_name}} ({{unit}}): {part} = {{value_en}} "
                f"is below {lo:g}.",
                hint_vi=_FIX_VALUE_VI,
                hint_en=_FIX_VALUE_EN,
            )
    if with_parts:
        add(
            "rate_equals_parts",
            "expect_column_values_to_be_between",
            {"column": "rate_diff", "min_value": -RATE_TOLERANCE, "max_value": RATE_TOLERANCE},
            indicators=[i.code for i in with_parts],
            expected=f"100 × numerator / denominator ± {RATE_TOLERANCE:g}",
            message_vi="{label_vi} của {unit_name} ({unit}) = {rate_vi} không bằng tỷ lệ tính từ "
            "các thành phần ({expected_vi}), lệch {diff_vi}.",
            message_en="{label_en} of {unit_name} ({unit}) = {rate_en} does not equal the rate "
            "of its parts ({expected_en}), off by {diff_en}.",
            hint_vi=_FIX_TABLE_VI,
            hint_en=_FIX_TABLE_EN,
        )
    return specs


# --- the frame --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tree:
    root: str
    root_name: str
    period: str
    structure: str
    codes: list[str]  # the tree's units that are in dim_unit for the structure


def _tree(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
) -> _Tree:
    try:
        p = parse_period(period)
    except PeriodError as exc:
        raise QualityError(str(exc)) from exc
    closing = p.end(catalog.close_day)
    root = units.get(unit_code, closing)
    if root is None:
        raise QualityError(f"Unit {unit_code} does not exist on {closing.isoformat()}")
    codes, todo = [root.code], [root.code]
    while todo:
        kids = units.children(todo.pop(), closing)
        codes += [k.code for k in kids]
        todo += [k.code for k in kids if k.level != "C"]
    structure = structure_on(closing)
    known = {
        r[0]
        for r in con.execute(
            "SELECT unit_code FROM dim_unit WHERE structure = ? AND unit_code IN (SELECT unnest(?))",
            [structure, codes],
        ).fetchall()
    }
    return _Tree(root.code, root.name, p.code, structure, [c for c in codes if c in known])


def _frame(con: duckdb.DuckDBPyConnection, tree: _Tree, catalog: Catalog) -> pd.DataFrame:
    df = con.execute(
        """
        SELECT r.unit_code, u.name AS unit_name, r.level, u.level AS dim_level,
               u.parent_code AS dim_parent, r.period, r.structure, r.indicator, r.value,
               r.numerator, r.denominator, r.share, r.children_sum,
               CAST(r.children_reporting AS DOUBLE) AS children_reporting, r.source
        FROM fct_rollup r
        LEFT JOIN dim_unit u ON u.unit_code = r.unit_code AND u.structure = $s
        WHERE r.period = $p AND (r.unit_code IN (SELECT unnest($tree)) OR u.unit_code IS NULL)
        ORDER BY r.unit_code, r.indicator
        """,
        {"p": tree.period, "s": tree.structure, "tree": tree.codes or [""]},
    ).df()
    for c in ("value", "numerator", "denominator", "share", "children_sum"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["value_fraction"] = (df["value"] - df["value"].round()).abs()
    inds = catalog.indicators
    kind = df["indicator"].map(lambda c: inds[c].aggregation if c in inds else None)
    change = df["indicator"].map(lambda c: c in inds and inds[c].formula == "change")
    n, d = df["numerator"], df["denominator"]
    ok = n.notna() & d.notna() & (d != 0)
    safe_d = d.where(ok, 1.0)
    expected = (100.0 * (n - d * change.astype(float)) / safe_d).where(ok)
    rated = kind.isin(["ratio", "count_share"])
    df["rate_expected"] = expected.where(rated)
    shown = df["value"].where(kind == "ratio", df["share"])
    df["rate_diff"] = (shown - df["rate_expected"]).where(rated)
    return df.reindex(columns=FRAME_COLUMNS).reset_index(drop=True)


def quality_frame(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits | None = None,
) -> pd.DataFrame:
    """The consolidated frame of one (period, root unit) tree that the checkpoint validates."""
    tree = _tree(con, period, unit_code, catalog, units or load_units())
    return _frame(con, tree, catalog)


# --- running the checkpoint -------------------------------------------------------------------
@dataclass
class CheckpointResult:
    """What one checkpoint run found: success, the failures as Issues, where the docs are."""

    success: bool
    issues: list[Issue]
    docs_index: Path | None
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_expectations(self) -> int:
        return int(self.statistics.get("unsuccessful_expectations", 0))

    def summary(self) -> dict[str, Any]:
        """The plain dict the flows return: success, evaluated and failed expectation counts,
        issues (Issue.to_dict(), as the consolidation's own) and docs_index (str or None)."""
        return {
            "success": self.success,
            "evaluated_expectations": int(self.statistics.get("evaluated_expectations", 0)),
            "failed_expectations": self.failed_expectations,
            "issues": [i.to_dict() for i in self.issues],
            "docs_index": None if self.docs_index is None else str(self.docs_index),
        }


def data_docs_dir(docs_dir: str | Path | None, warehouse: str | Path) -> Path:
    """Where Data Docs go: the argument, else $TONGHOP_DATA_DOCS, else <warehouse folder>/data_docs."""
    if docs_dir is not None and str(docs_dir) != "":
        return Path(docs_dir)
    env = os.environ.get(ENV_DOCS)
    if env:
        return Path(env)
    return Path(warehouse).parent / "data_docs"


def suite_name(catalog: Catalog) -> str:
    stem = re.sub(r"[^a-z0-9_]+", "_", Path(catalog.path).stem.lower()).strip("_") or "catalog"
    return f"tonghop_rollup_{stem}"


def _gx_type_class(gx: Any, type_: str) -> Any:
    name = "".join(part.capitalize() for part in type_.split("_"))
    return getattr(gx.expectations, name)


def _get_or_add(getter: Any, adder: Any, name: str) -> Any:
    try:
        return getter(name)
    except (KeyError, LookupError, ValueError):
        return adder(name)


def _run_gx(
    df: pd.DataFrame,
    specs: list[ExpectationSpec],
    suite: str,
    tree: _Tree,
    docs_dir: Path,
) -> tuple[Any, Path | None, float]:
    """Run the checkpoint (Great Expectations imported here, and only here)."""
    t0 = time.perf_counter()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.row_conditions import Column

    import_s = time.perf_counter() - t0
    docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(docs_dir / GX_PROJECT))
    bars = context.variables.progress_bars
    if (
        bars.get("globally") if isinstance(bars, dict) else getattr(bars, "globally", True)
    ) is not False:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir.resolve()),
        },
    }
    sites = context.list_data_docs_sites()
    if "local_site" in sites:  # the scaffold's default site, never built here
        context.delete_data_docs_site("local_site")
    if sites.get(SITE_NAME) != site:
        if SITE_NAME in context.list_data_docs_sites():
            context.update_data_docs_site(SITE_NAME, site)
        else:
            context.add_data_docs_site(SITE_NAME, site)

    try:
        source = context.data_sources.get("tonghop_warehouse")
    except (KeyError, LookupError, ValueError):
        source = context.data_sources.add_pandas("tonghop_warehouse")
    asset = _get_or_add(source.get_asset, source.add_dataframe_asset, "consolidated_period")
    batch_def = _get_or_add(
        asset.get_batch_definition, asset.add_batch_definition_whole_dataframe, "whole_period"
    )
    expectations = []
    for spec in specs:
        cls = _gx_type_class(gx, spec.type)
        kw = dict(spec.kwargs)
        if spec.indicators:
            kw["row_condition"] = Column("indicator").is_in(list(spec.indicators))
        expectations.append(
            cls(
                **kw,
                meta={"check": spec.check, "rule_id": spec.rule_id, "severity": spec.severity},
                notes=f"{spec.check}: {spec.expected}",
            )
        )
    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=suite, expectations=expectations)
    )
    vd = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite, data=batch_def, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite,
            validation_definitions=[vd],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])],
            result_format={"result_format": "COMPLETE"},
        )
    )
    result = checkpoint.run(
        batch_parameters={"dataframe": df},
        expectation_parameters={PARAM_UNITS: tree.codes, PARAM_STRUCTURES: [tree.structure]},
        run_id=RunIdentifier(run_name=f"{tree.root}_{tree.period}"),
    )
    index = docs_dir / "index.html"
    return result, (index if index.exists() else None), import_s


def _fmt(x: Any, lang: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, int | float):
        return (fmt_vi if lang == "vi" else fmt_en)(float(x))
    return str(x)


def _plain(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if hasattr(x, "item"):
        x = x.item()
    return x


def _issues_of(
    spec: ExpectationSpec,
    res: Any,
    df: pd.DataFrame,
    tree: _Tree,
    catalog: Catalog,
) -> list[Issue]:
    """One Issue per unexpected row (at most MAX_ISSUES_PER_EXPECTATION, then one summary)."""
    info = dict(res.result or {})
    sev = Severity.ERROR if spec.severity == "error" else Severity.WARNING
    raised = (res.exception_info or {}).get("raised_exception")
    base = {"root": tree.root, "root_name": tree.root_name, "period": tree.period}
    extra = {
        "checkpoint_root": tree.root,
        "check": spec.check,
        "expectation": spec.type,
        "column": spec.column,
        "unexpected_count": info.get("unexpected_count"),
        "element_count": info.get("element_count"),
    }

    def issue(row: pd.Series | None, value: Any, msg_vi: str, msg_en: str, **more: Any) -> Issue:
        code = row["indicator"] if row is not None else None
        ind = catalog.indicators.get(code) if isinstance(code, str) else None
        unit = row["unit_code"] if row is not None and isinstance(row["unit_code"], str) else None
        name = row["unit_name"] if row is not None and isinstance(row["unit_name"], str) else None
        fields = {
            **base,
            "unit": unit or "?",
            "unit_name": name or unit or "?",
            "indicator": code if isinstance(code, str) else "?",
            "label_vi": ind.label_vi if ind else str(code),
            "label_en": ind.label_en if ind else str(code),
            "value_vi": _fmt(value, "vi"),
            "value_en": _fmt(value, "en"),
            "structure": tree.structure,
            "column": spec.column or "",
            "n": info.get("unexpected_count"),
            **more,
        }
        return Issue(
            rule_id=spec.rule_id,
            severity=sev,
            unit_code=unit or tree.root,
            period=tree.period,
            indicator=code if isinstance(code, str) else None,
            location=f"fct_rollup.{spec.column}" if spec.column else "fct_rollup",
            value=_plain(value),
            expected=str(fields.get("expected_text", spec.expected)),
            message_vi=msg_vi.format(**fields),
            message_en=msg_en.format(**fields),
            hint_vi=spec.hint_vi.format(**fields),
            hint_en=spec.hint_en.format(**fields),
            extra=extra,
        )

    if raised:
        msg = str((res.exception_info or {}).get("exception_message") or "unknown error")
        msg = msg.replace("{", "{{").replace("}", "}}")
        return [
            issue(
                None,
                None,
                f"Không chạy được kiểm tra {spec.check} ({spec.type}): {msg}",
                f"The check {spec.check} ({spec.type}) could not run: {msg}",
            )
        ]
    idx = info.get("unexpected_index_list")
    if not idx:  # a table-level expectation: one issue for the tree
        observed = info.get("observed_value")
        return [issue(None, observed, spec.message_vi, spec.message_en)]
    rows = [int(i) for i in idx if isinstance(i, int | float) and int(i) in df.index]
    if not rows:  # GX named the rows in a form this module does not read: say it failed
        return [
            issue(
                None,
                None,
                f"Kiểm tra {spec.check} không đạt ở {len(idx)} dòng; xem Data Docs.",
                f"The check {spec.check} failed on {len(idx)} rows; see the Data Docs.",
            )
        ]
    out = []
    for i in rows[:MAX_ISSUES_PER_EXPECTATION]:
        row = df.loc[i]
        col = spec.column
        value = row[col] if col in df.columns else None
        more: dict[str, Any] = {}
        if spec.check == "level_matches":
            more |= {"expected": row["dim_level"], "expected_text": row["dim_level"]}
        elif spec.check == "rate_equals_parts":
            rate = row["value"] if pd.isna(row["share"]) else row["share"]
            more |= {
                "rate_vi": _fmt(rate, "vi"),
                "rate_en": _fmt(rate, "en"),
                "expected_vi": _fmt(round(row["rate_expected"], 2), "vi"),
                "expected_en": _fmt(round(row["rate_expected"], 2), "en"),
                "expected_text": f"{row['rate_expected']:.2f} ± {RATE_TOLERANCE:g}",
                "diff_vi": _fmt(round(row["rate_diff"], 4), "vi"),
                "diff_en": _fmt(round(row["rate_diff"], 4), "en"),
            }
            value = rate
        elif spec.check == "count_integer":
            more |= {"frac_vi": _fmt(value, "vi"), "frac_en": _fmt(value, "en")}
            value = row["value"]
        elif spec.check == "flag_count_le_reporting":
            value = row["numerator"]
            more["expected_text"] = f"<= {_fmt(row['denominator'], 'en')}"
        more.setdefault("expected", spec.expected)
        out.append(issue(row, value, spec.message_vi, spec.message_en, **more))
    left = len(rows) - len(out)
    if left > 0:
        out.append(
            issue(
                None,
                None,
                f"... và {left} dòng khác cùng lỗi ({spec.check}); xem Data Docs.",
                f"... and {left} more rows failing {spec.check}; see the Data Docs.",
            )
        )
    return out


def store_issues(
    con: duckdb.DuckDBPyConnection,
    tree_root: str,
    period: str,
    structure: str,
    tree_codes: Collection[str],
    issues: list[Issue],
) -> None:
    """Replace the gx_ issues of this (tree, period) in fct_consolidation_issue, in ONE
    transaction: the previous gx_ rows of the tree's units and those this root recorded for
    orphan units go, the new ones come."""
    at = now()
    rows = pd.DataFrame(
        [
            {
                "unit_code": i.unit_code or tree_root,
                "period": period,
                "structure": structure,
                "rule_id": i.rule_id,
                "severity": str(i.severity),
                "indicator": i.indicator,
                "location": i.location,
                "value": None
                if i.value is None
                else (
                    fmt_en(float(i.value)).replace(",", "")
                    if isinstance(i.value, int | float)
                    else str(i.value)
                ),
                "expected": i.expected,
                "message_vi": i.message_vi,
                "message_en": i.message_en,
                "hint_vi": i.hint_vi,
                "hint_en": i.hint_en,
                "extra": json.dumps(i.extra, ensure_ascii=False, default=str),
                "consolidated_at": at,
            }
            for i in issues
        ],
        columns=[
            "unit_code",
            "period",
            "structure",
            "rule_id",
            "severity",
            "indicator",
            "location",
            "value",
            "expected",
            "message_vi",
            "message_en",
            "hint_vi",
            "hint_en",
            "extra",
            "consolidated_at",
        ],
    )
    with transaction(con):
        con.execute(
            "DELETE FROM fct_consolidation_issue WHERE period = $p AND starts_with(rule_id, $pre)"
            " AND (unit_code IN (SELECT unnest($units))"
            "      OR json_extract_string(extra, '$.checkpoint_root') = $root)",
            {"p": period, "pre": RULE_PREFIX, "units": list(tree_codes) or [""], "root": tree_root},
        )
        if len(rows):
            con.register("_gx_issue_rows", rows)
            try:
                con.execute(
                    "INSERT INTO fct_consolidation_issue SELECT unit_code, period, structure,"
                    " rule_id, severity, indicator, location, value, expected, message_vi,"
                    " message_en, hint_vi, hint_en, extra, CAST(consolidated_at AS TIMESTAMP)"
                    " FROM _gx_issue_rows"
                )
            finally:
                con.unregister("_gx_issue_rows")


def run_checkpoint(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    docs_dir: str | Path,
    units: ReferenceUnits | None = None,
    store: bool = True,
) -> CheckpointResult:
    """Validate the consolidated (period, unit tree) in one checkpoint run and build Data Docs.

    Reads with `con`; with `store` (default) replaces the tree's gx_ issues of the period in
    fct_consolidation_issue (one transaction). Raises QualityError for an unknown period/unit.
    """
    t0 = time.perf_counter()
    tree = _tree(con, period, unit_code, catalog, units or load_units())
    df = _frame(con, tree, catalog)
    specs = build_suite(catalog)
    t1 = time.perf_counter()
    result, index, import_s = _run_gx(
        df, specs, suite_name(catalog), tree, Path(docs_dir).absolute()
    )
    t2 = time.perf_counter()
    by_check = {s.check: s for s in specs}
    issues: list[Issue] = []
    stats: dict[str, Any] = {}
    for vr in result.run_results.values():
        stats = dict(vr.statistics)
        for r in vr.results:
            if r.success:
                continue
            spec = by_check.get((r.expectation_config.meta or {}).get("check", ""))
            if spec is None:
                continue
            issues.extend(_issues_of(spec, r, df, tree, catalog))
    if store:
        store_issues(con, tree.root, tree.period, tree.structure, tree.codes, issues)
    failed = [
        (r.expectation_config.meta or {}).get("check")
        for vr in result.run_results.values()
        for r in vr.results
        if not r.success
    ]
    stats |= {
        "rows": len(df),
        "units": int(df["unit_code"].nunique()),
        "failed_checks": failed,
        "frame_seconds": round(t1 - t0, 3),
        "gx_import_seconds": round(import_s, 3),
        "checkpoint_seconds": round(t2 - t1 - import_s, 3),
        "suite": suite_name(catalog),
    }
    return CheckpointResult(
        success=bool(result.success), issues=issues, docs_index=index, statistics=stats
    )
