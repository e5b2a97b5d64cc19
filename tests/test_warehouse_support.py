"""Shared builders for the warehouse tests (no tests here): real Lai Châu units, DuckDB in tmp_path."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from validations.catalog import load_catalog
from validations.issue import Issue, Severity
from validations.result import VALUE_COLUMNS, ValidationResult
from validations.units import load_units
from warehouse.db import connect, load_reference, migrate
from warehouse.staging import write_staging
from warehouse.store import SubmissionOutcome, load_batch

CATALOG = load_catalog()
UNITS = load_units()
LEGACY_DAY = date(2024, 6, 14)
PROVINCE = "12"  # Lai Châu
DISTRICT = "106"  # Huyện Tam Đường
COMMUNES_106 = [u.code for u in UNITS.children(DISTRICT, LEGACY_DAY)]
LEVEL_OF = {2: "P", 3: "D", 5: "C"}

_TEMPLATE: dict[str, Path] = {}


def warehouse(tmp_path: Path, name: str = "wh.duckdb") -> duckdb.DuckDBPyConnection:
    """A migrated warehouse with the reference dimensions, copied from a per-session template."""
    if "path" not in _TEMPLATE or not _TEMPLATE["path"].exists():
        tpl = tmp_path.parent / "_warehouse_template.duckdb"
        if not tpl.exists():
            con = connect(tpl)
            migrate(con)
            load_reference(con, CATALOG, UNITS)
            con.close()
        _TEMPLATE["path"] = tpl
    dest = tmp_path / name
    shutil.copy(_TEMPLATE["path"], dest)
    return connect(dest)


def result(
    unit: str,
    period: str,
    values: dict[str, float | None],
    path: str | None = None,
    errors: int = 0,
    warnings: int = 0,
) -> ValidationResult:
    """A ValidationResult as the validator would produce for a clean (or failing) file."""
    rows = [
        {
            "unit_code": unit,
            "period": period,
            "indicator": k,
            "value": float("nan") if v is None else float(v),
            "note": None,
            "location": f"row {n + 2}",
        }
        for n, (k, v) in enumerate(values.items())
    ]
    issues = [
        Issue(
            "compare_solved_le_cases" if n < errors else "history_outlier",
            Severity.ERROR if n < errors else Severity.WARNING,
            unit,
            period,
            "crime_solved",
            "row 3",
            values.get("crime_solved"),
            "<= crime_cases",
            "Số vụ khám phá lớn hơn số vụ.",
            "Cases solved exceed cases.",
        )
        for n in range(errors + warnings)
    ]
    return ValidationResult(
        path=path or f"{unit}_{period}.csv",
        unit_code=unit,
        period=period,
        issues=issues,
        values=pd.DataFrame(rows, columns=VALUE_COLUMNS),
        level=LEVEL_OF[len(unit)],
    )


def digest(r: ValidationResult) -> str:
    """A content hash standing in for the file's sha256: derived from the values."""
    return "h:" + "|".join(
        f"{a}={b}" for a, b in zip(r.values["indicator"], r.values["value"], strict=True)
    )


def load(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    results: list[ValidationResult],
    batch_id: str,
    received_at: datetime | dict[str, datetime] | None = None,
) -> list[SubmissionOutcome]:
    batch = write_staging(
        results,
        tmp_path / "staging",
        batch_id,
        {r.path: digest(r) for r in results},
        received_at=received_at or datetime(2024, 6, 16, 9, 0),
    )
    return load_batch(con, batch)


def snapshot(con: duckdb.DuckDBPyConnection, skip_columns: tuple[str, ...] = ()) -> dict[str, list]:
    """Full contents of every base table, sorted, optionally without some columns."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE' AND table_schema = 'main' ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for t in tables:
        cols = [
            c[0]
            for c in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
                " AND table_schema = 'main' ORDER BY ordinal_position",
                [t],
            ).fetchall()
            if c[0] not in skip_columns
        ]
        sel = ", ".join(f'"{c}"' for c in cols)
        out[t] = con.execute(f'SELECT {sel} FROM "{t}" ORDER BY ALL').fetchall()
    return out


def current(con: duckdb.DuckDBPyConnection, unit: str, period: str) -> list[tuple]:
    return con.execute(
        "SELECT submission_id, version, status FROM fct_submission"
        " WHERE unit_code = ? AND period = ? AND is_current",
        [unit, period],
    ).fetchall()


def consolidated(con: duckdb.DuckDBPyConnection, unit: str, period: str) -> None:
    """Consolidate a district or province (its districts first), as approval requires."""
    from warehouse.rollup import consolidate

    consolidate(con, period, unit, CATALOG, UNITS, actor="test")


def approve_districts(
    con: duckdb.DuckDBPyConnection, province: str, period: str, skip: tuple[str, ...] = ()
) -> list[str]:
    """Consolidate the province, then approve and accept each of its districts (but `skip`):
    what a province needs before it may approve. Returns the districts approved."""
    from warehouse.approval import accept, approve

    consolidated(con, province, period)
    on = date(int(period[:4]), int(period[5:7]), 14)
    done = []
    for d in UNITS.children(province, on):
        if d.level == "D" and d.code not in skip:
            approve(con, d.code, period, actor=f"steward.{d.code}")
            accept(con, d.code, period, actor=f"steward.{province}")
            done.append(d.code)
    return done


def refreshing_load(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    results: list[ValidationResult],
    batch_id: str,
    received_at: datetime | None = None,
) -> list[SubmissionOutcome]:
    """`load` as the ingest runs it: the rollups the batch makes stale are consolidated again
    in the same transaction (warehouse.rollup.refresh; approved ones get a note instead)."""
    from warehouse.rollup import refresh

    batch = write_staging(
        results,
        tmp_path / "staging",
        batch_id,
        {r.path: digest(r) for r in results},
        received_at=received_at or datetime(2024, 6, 16, 9, 0),
    )
    return load_batch(
        con, batch, after=lambda c, changed: refresh(c, changed, CATALOG, UNITS, actor="refresh")
    )
