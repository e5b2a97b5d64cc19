"""Writing a computed consolidation: rollups, completeness, issues, lineage, audit.

Each (unit, period) consolidated replaces its previous rows in every table, set-based (one
DELETE and one INSERT per table whatever the number of units), inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from validations.issue import ROW_COLUMNS, Issue, issue_row
from warehouse.rollup.aggregation import ROLLUP_COLUMNS, rollup_frame
from warehouse.rollup.computation import Level

TABLES = (
    "fct_rollup",
    "fct_completeness",
    "fct_consolidation_issue",
    "fct_rollup_lineage",
    "fct_approval_note",  # written anew: what a note said would change now is the figure
)


def insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    select: str,
    at: datetime,
    columns: str = "",
) -> None:
    """INSERT INTO table [(columns)] SELECT <select> FROM df (one statement, not one per row),
    in order."""
    if not len(df):
        return
    df = _categorical(df)
    con.register("_insert_rows", df.assign(_pos=np.arange(len(df))))
    target = f"{table} ({columns})" if columns else table
    try:
        con.execute(
            f"INSERT INTO {target} SELECT {select} FROM _insert_rows ORDER BY _pos",
            {"at": at} if "$at" in select else None,
        )
    finally:
        con.unregister("_insert_rows")


def _categorical(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categories: DuckDB reads them as ENUMs (integers), several times faster
    than one Python string per cell (a national month writes 340,000 rollup rows)."""
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype == object and len(col) > 1000:
            sample = col.dropna().head(100)
            if len(sample) and all(isinstance(x, str) for x in sample):
                out[c] = col.astype("category")
    return df.assign(**out) if out else df


def consolidation_issue_rows(found: list[tuple[str, str, Issue]], at: datetime) -> pd.DataFrame:
    """(unit_code, structure, Issue) as fct_consolidation_issue rows, through issue_row."""
    rows = [
        issue_row(i) | {"unit_code": i.unit_code or unit, "structure": structure}
        for unit, structure, i in found
    ]
    return pd.DataFrame(rows, columns=[*ROW_COLUMNS, "structure"]).assign(consolidated_at=at)


ISSUE_SELECT = (
    "unit_code, period, structure, rule_id, severity, indicator, location, value, expected,"
    " message_vi, message_en, hint_vi, hint_en, extra, CAST(consolidated_at AS TIMESTAMP)"
)


def write_levels(
    con: duckdb.DuckDBPyConnection,
    levels: list[Level],
    issues: list[list[list[Issue]]],
    actor: str,
    at: datetime,
    keep: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Replace the consolidation of every unit (and commune) of `levels`, one period, except
    the units of `keep` (locked by an approval: their rows stay as approved)."""
    if not levels:
        return
    period = levels[0].scopes[0].period.code
    frames = [
        f.loc[~f["unit_code"].isin(keep)] if keep else f for f in (lv.frame() for lv in levels)
    ]
    lineage: dict[str, list[str]] = {}
    for lv in levels:
        lineage.update({u: ids for u, ids in lv.lineage.items() if u not in keep})
    # every unit of the tree, communes included: a commune with no figures any more loses its rows
    codes = sorted(
        (
            {s.unit.code for lv in levels for s in lv.scopes}
            | {c.code for lv in levels for s in lv.scopes for c in s.children}
        )
        - set(keep)
    )
    for table in TABLES:
        con.execute(
            f"DELETE FROM {table} WHERE period = $p AND unit_code IN (SELECT unnest($u))",
            {"p": period, "u": codes},
        )
    out = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else rollup_frame([])
    )
    out = out.drop_duplicates(["unit_code", "indicator"], keep="last")
    cols = ", ".join(ROLLUP_COLUMNS)
    insert_frame(con, "fct_rollup", out, f"{cols}, $at", at, f"{cols}, consolidated_at")
    lin = pd.DataFrame(
        [(u, period, sid) for u, ids in lineage.items() for sid in dict.fromkeys(ids)],
        columns=["unit_code", "period", "submission_id"],
    )
    insert_frame(con, "fct_rollup_lineage", lin, "unit_code, period, submission_id, $at", at)
    comp_rows = pd.DataFrame(
        [
            [
                s.unit.code,
                s.unit.level,
                s.period.code,
                s.structure,
                comp.child_level,
                len(comp.expected),
                len(comp.received),
                len(comp.missing),
                len(comp.on_time),
                len(comp.late),
                comp.pct,
                comp.deadline,
                comp.missing,
                comp.late,
                comp.expected,
                comp.via_children,
                comp.children_complete,
                comp.leaves_expected,
                comp.leaves_received,
                comp.leaves_missing,
                comp.months,
                comp.leaves_months_expected,
                comp.leaves_months_received,
                list(comp.partial),
                list(comp.partial.values()),
            ]
            for lv in levels
            for s, comp in zip(lv.scopes, lv.comps, strict=True)
            if s.unit.code not in keep
        ],
        columns=[f"c{k}" for k in range(25)],
        dtype=object,
    )
    insert_frame(
        con,
        "fct_completeness",
        comp_rows,
        "c0, c1, c2, c3, c4, CAST(c5 AS INTEGER), CAST(c6 AS INTEGER), CAST(c7 AS INTEGER),"
        " CAST(c8 AS INTEGER), CAST(c9 AS INTEGER), CAST(c10 AS DOUBLE), CAST(c11 AS DATE),"
        " CAST(c12 AS VARCHAR[]), CAST(c13 AS VARCHAR[]), $at, CAST(c14 AS VARCHAR[]),"
        " CAST(c15 AS VARCHAR[]), CAST(c16 AS VARCHAR[]), CAST(c17 AS INTEGER),"
        " CAST(c18 AS INTEGER), CAST(c19 AS VARCHAR[]), CAST(c20 AS INTEGER),"
        " CAST(c21 AS INTEGER), CAST(c22 AS INTEGER), CAST(c23 AS VARCHAR[]),"
        " CAST(c24 AS INTEGER[])",
        at,
    )
    found = [
        (s.unit.code, s.structure, i)
        for lv, lv_issues in zip(levels, issues, strict=True)
        for s, unit_issues in zip(lv.scopes, lv_issues, strict=True)
        if s.unit.code not in keep
        for i in unit_issues
        if (i.unit_code or s.unit.code) not in keep
    ]
    insert_frame(
        con,
        "fct_consolidation_issue",
        consolidation_issue_rows(found, at).assign(period=period),
        ISSUE_SELECT,
        at,
    )
    audit = []
    for lv, lv_issues in zip(levels, issues, strict=True):
        for s, unit_rows, comp, unit_issues in zip(
            lv.scopes, lv.rows, lv.comps, lv_issues, strict=True
        ):
            if s.unit.code in keep:
                continue
            pct = "-" if comp.pct is None else f"{comp.pct:.1f}%"
            audit.append(
                [
                    at,
                    actor,
                    s.unit.code,
                    s.period.code,
                    f"{len(unit_rows)} indicators, {len(comp.received)}/{len(comp.expected)} "
                    f"children ({pct}, {len(comp.late)} late), {len(unit_issues)} consistency "
                    f"issues, {len(lineage.get(s.unit.code, []))} submissions",
                ]
            )
    insert_frame(
        con,
        "audit_log",
        pd.DataFrame(
            audit, columns=["at_", "actor", "unit_code", "period", "detail"], dtype=object
        ),
        "CAST(at_ AS TIMESTAMP), actor, 'consolidate', unit_code, period, NULL, NULL, NULL, detail",
        at,
    )
