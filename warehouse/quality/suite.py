"""The Great Expectations suite over consolidated figures, generated from the catalog as plain
data (`ExpectationSpec`): no expectation is written by hand, none imports Great Expectations.

Rollup domains vs the catalog's: counts, decimals and rates carry the catalog's [min, max]; a
flag's rollup value is the NUMBER of units with 1 (count_share), so its domain is [0, reporting
units] and its share must lie in [100 * min, 100 * max]. A stored rate (or flag share) equals
its indicator's formula over its stored parts within the indicator's tolerance: the frame
carries `rate_excess` = |rate - formula(parts)| - tolerance, expected <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validations.catalog import FLOAT_EPS, Catalog
from validations.errors import TonghopError

ENV_DOCS = "TONGHOP_DATA_DOCS"
RULE_PREFIX = "gx_"
MAX_ISSUES_PER_EXPECTATION = 100
SITE_NAME = "tonghop"
GX_PROJECT = "_gx"  # the file context's folder under docs_dir (suite, results, config)
PARAM_UNITS = "tree_unit_codes"
PARAM_STRUCTURES = "structures"


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
            {"column": "value_fraction", "min_value": 0.0, "max_value": FLOAT_EPS},
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
            {"column": "rate_excess", "min_value": None, "max_value": 0.0},
            indicators=[i.code for i in with_parts],
            expected="the formula over the parts, within the indicator's tolerance",
            message_vi="{label_vi} của {unit_name} ({unit}) = {rate_vi} không bằng tỷ lệ tính từ "
            "các thành phần ({expected_vi}), lệch {diff_vi}.",
            message_en="{label_en} of {unit_name} ({unit}) = {rate_en} does not equal the rate "
            "of its parts ({expected_en}), off by {diff_en}.",
            hint_vi=_FIX_TABLE_VI,
            hint_en=_FIX_TABLE_EN,
        )
    return specs
