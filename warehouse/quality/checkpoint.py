"""The Great Expectations checkpoint over a consolidated period: frame, run, Data Docs, Issues.

`run_checkpoint(con, period, unit_code, catalog, docs_dir)` reads the consolidated frame of one
(period, root unit) tree from the warehouse (fct_rollup: the one truth), validates it in ONE
Great Expectations checkpoint run with the suite of suite.py, writes Data Docs into
`docs_dir`, turns every failed expectation into Issue records and stores them in
fct_consolidation_issue (rule ids `gx_<expectation type>`, so v_issues shows them next to the
consolidation's own issues).

Great Expectations costs 6-12 s to import: it is imported only inside `_run_gx`, never at module
import time (tested), so the submitter path and the CLI stay fast.

The frame (`quality_frame`): the fct_rollup rows of the period whose unit is in the root's tree
(the root, its consolidated descendants and their communes, from the reference units in force
on the period's closing date), plus the rows of the period whose unit is not in dim_unit for
the period's structure at all (orphans belong to no tree, so every checkpoint of that period
reports them), left-joined with dim_unit (`unit_name`, `dim_level`, `dim_parent`), plus
computed columns: `value_fraction` = |value - round(value)| (counts are whole within 1e-9);
`rate_expected` (the indicator's formula over the stored parts), `rate_diff` and `rate_excess`
= |rate_diff| - the indicator's tolerance.
"""

from __future__ import annotations

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
import numpy as np
import pandas as pd

from validations.catalog import Catalog, Formula
from validations.fmt import fmt_num
from validations.issue import Issue, Severity
from validations.units import ReferenceUnits, load_units, structure_on
from warehouse.db import now, transaction
from warehouse.quality.suite import (
    ENV_DOCS,
    GX_PROJECT,
    MAX_ISSUES_PER_EXPECTATION,
    PARAM_STRUCTURES,
    PARAM_UNITS,
    RULE_PREFIX,
    SITE_NAME,
    ExpectationSpec,
    QualityError,
    build_suite,
)
from warehouse.rollup.aggregation import ROLLUP_COLUMNS
from warehouse.rollup.scope import locate
from warehouse.rollup.writing import ISSUE_SELECT, consolidation_issue_rows, insert_frame

FRAME_COLUMNS = [
    "unit_code",
    "unit_name",
    "level",
    "dim_level",
    "dim_parent",
    "period",
    "structure",
    "indicator",
    *ROLLUP_COLUMNS[5:12],  # value, numerator, denominator, share, children_..., source
    "value_fraction",
    "rate_expected",
    "rate_diff",
    "rate_excess",
]

log = logging.getLogger(__name__)


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
    p, closing, root = locate(period, unit_code, catalog, units, QualityError)
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
    # a stored rate (a flag's share) against its indicator's formula over its stored parts,
    # within its tolerance: both from the catalog (validations.catalog.semantics)
    for c in ("rate_expected", "rate_diff", "rate_excess"):
        df[c] = np.nan
    for code, idx in df.groupby("indicator", sort=False).groups.items():
        ind = catalog.indicators.get(str(code))
        if ind is None or not (ind.is_rate or ind.is_flag):
            continue
        part = df.loc[idx]
        formula = ind.formula or Formula.RATIO  # a flag's share: units with 1 / reporting
        expected = formula.array(part["numerator"], part["denominator"])
        shown = (part["value"] if ind.is_rate else part["share"]).to_numpy(dtype="float64")
        limit = np.array([ind.tolerance.limit(x) if x == x else np.nan for x in expected])
        df.loc[idx, "rate_expected"] = expected
        df.loc[idx, "rate_diff"] = shown - expected
        df.loc[idx, "rate_excess"] = np.abs(shown - expected) - limit
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
        return fmt_num(float(x), lang)
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
                "expected_text": f"{row['rate_expected']:.2f} ± "
                f"{abs(row['rate_diff']) - row['rate_excess']:.3g}",
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
    rows = consolidation_issue_rows([(tree_root, structure, i) for i in issues], at)
    rows["period"] = period
    with transaction(con):
        con.execute(
            "DELETE FROM fct_consolidation_issue WHERE period = $p AND starts_with(rule_id, $pre)"
            " AND (unit_code IN (SELECT unnest($units))"
            "      OR json_extract_string(extra, '$.checkpoint_root') = $root)",
            {"p": period, "pre": RULE_PREFIX, "units": list(tree_codes) or [""], "root": tree_root},
        )
        insert_frame(con, "fct_consolidation_issue", rows, ISSUE_SELECT, at)


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
