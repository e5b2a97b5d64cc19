"""Per-period Parquet exports for readers who must never touch the live warehouse file.

`export_period` copies the stable views (rollup, completeness, submission status, issues) for
one period, restricted to the unit and the units below it (a province's export holds only its
own units), with DuckDB `COPY ... (FORMAT parquet, PARTITION_BY (period))`: the files land in
`<out>/<view>/period=<P>/`. Readers query them with DuckDB's read_parquet, no lock involved.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from validations.errors import RefusedError
from validations.period import parse_period
from validations.reform import abolished
from validations.units import load_units, structure_on

VIEWS = {
    "rollup": "v_rollup",
    "completeness": "v_completeness",
    "submission_status": "v_submission_status",
    "issues": "v_issues",
    "rollup_lineage": "v_rollup_lineage",
}


class ExportError(RefusedError, ValueError):
    """An export cannot be written (no such unit, nothing to export, or the folder is unusable)."""


def tree_codes(con: duckdb.DuckDBPyConnection, unit_code: str, structure: str) -> list[str]:
    """The unit and every unit below it in one structure."""
    rows = con.execute(
        """
        WITH RECURSIVE tree(code) AS (
            SELECT unit_code FROM dim_unit WHERE unit_code = ? AND structure = ?
            UNION
            SELECT u.unit_code FROM dim_unit u JOIN tree t ON u.parent_code = t.code
            WHERE u.structure = ?
        )
        SELECT code FROM tree
        """,
        [unit_code, structure, structure],
    ).fetchall()
    return [r[0] for r in rows]


def export_period(
    con: duckdb.DuckDBPyConnection, period: str, unit_code: str, out_dir: str | Path
) -> dict[str, int]:
    """Write the four views for (period, unit tree) as partitioned Parquet; rows per view."""
    p = parse_period(period)
    structure = structure_on(p.end())
    codes = tree_codes(con, unit_code, structure)
    if not codes:
        gone = abolished(unit_code, p, load_units())  # the 2025 reform ended it: say so
        if gone is not None:
            raise ExportError(gone.reason, **gone.params)
        raise ExportError("export.unit_unknown", unit=unit_code, period=p.code)
    out = Path(out_dir)
    counts: dict[str, int] = {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _export_units AS SELECT unnest(?::VARCHAR[]) AS code", [codes]
    )
    # Values are bound parameters; only the fixed view names and the escaped path are SQL text.
    where = "period = ? AND unit_code IN (SELECT code FROM _export_units)"
    for name, view in VIEWS.items():
        n = con.execute(f"SELECT count(*) FROM {view} WHERE {where}", [p.code]).fetchone()[0]
        counts[name] = int(n)
        if not n:
            continue
        target = out / name
        target.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM {view} WHERE {where}) TO '{_sql_path(target)}' "
            "(FORMAT parquet, PARTITION_BY (period), OVERWRITE_OR_IGNORE)",
            [p.code],
        )
    if not any(counts.values()):
        raise ExportError("export.nothing", unit=unit_code, period=p.code)
    return counts


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
