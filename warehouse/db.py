"""The DuckDB warehouse file: opening it, migrating its schema, loading the reference dimensions.

DuckDB allows one writing process per file, and a writer blocks even read-only opens from other
processes. The warehouse therefore has a single writer (the load / consolidation step); intake
writes immutable staging Parquet files (warehouse.staging) that the writer loads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import duckdb
import pandas as pd

from validations.catalog import Catalog, Formula
from validations.crosswalk import load_crosswalk
from validations.errors import TonghopError
from validations.units import ReferenceUnits
from warehouse.status import ACCEPTED_SQL, SubmissionStatus

ENV_PATH = "TONGHOP_WAREHOUSE"
DEFAULT_PATH = Path("data") / "tonghop.duckdb"
_MIGRATION_NAME = re.compile(r"([0-9]{3})_([a-z0-9_]+)\.sql")  # whole: fullmatch


class WarehouseError(TonghopError, RuntimeError):
    """The warehouse file could not be opened or migrated."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file open for writing."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema migration file: migrations/NNN_name.sql."""

    version: int
    name: str
    sql: str


def warehouse_path(path: str | Path | None = None) -> Path:
    """The warehouse file: the argument, else $TONGHOP_WAREHOUSE, else ./data/tonghop.duckdb."""
    if path is not None and str(path) != "":
        return Path(path)
    env = os.environ.get(ENV_PATH)
    return Path(env) if env else DEFAULT_PATH


def connect(
    path: str | Path | None = None, read_only: bool = False, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (creating its folder); WarehouseLockedError if another process
    writes it. `threads`: DuckDB's threads for this connection (default: one per core; a
    worker process among others that already fill the cores asks for 1)."""
    p = warehouse_path(path)
    if str(p) != ":memory:" and not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        config = {"threads": threads} if threads else {}
        con = duckdb.connect(str(p), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = re.search(r"held in (.+?\(PID \d+\))", text)
            raise WarehouseLockedError(
                "warehouse_locked.in_use_by" if holder else "warehouse_locked.in_use",
                path=str(p),
                holder=holder[1] if holder else "",
            ) from exc
        raise WarehouseError("warehouse.cannot_open", path=str(p), detail=text) from exc
    except duckdb.Error as exc:
        raise WarehouseError("warehouse.cannot_open", path=str(p), detail=exc) from exc
    # no progress bar: it would write into the CLI's output, the flows' logs and the JSON
    con.execute("SET enable_progress_bar = false")
    return con


def migrations() -> list[Migration]:
    """The shipped migrations, in version order (package data warehouse/migrations/*.sql)."""
    out: list[Migration] = []
    for entry in files("warehouse").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.fullmatch(entry.name)
        if m:
            text = entry.read_text(encoding="utf-8")
            out.append(Migration(int(m[1]), m[2], _with_states(text)))
    out.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in out]
    if len(set(versions)) != len(versions):
        raise WarehouseError("warehouse.migration_versions", versions=versions)
    return out


def _with_states(sql: str) -> str:
    """Status literals of a migration from the one enum (warehouse/status.py): {{accepted}},
    {{rejected}}, {{held}}."""
    return (
        sql.replace("{{accepted}}", ACCEPTED_SQL)
        .replace("{{rejected}}", f"'{SubmissionStatus.REJECTED.value}'")
        .replace("{{held}}", f"'{SubmissionStatus.HELD.value}'")
    )


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded in schema_migrations, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[int] = []
    for mig in migrations():
        if mig.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(mig.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [mig.version, mig.name, now()]
            )
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise WarehouseError(
                    "warehouse.migration_failed",
                    migration=f"{mig.version:03d}_{mig.name}.sql",
                    detail=exc,
                ) from exc
            raise
        applied.append(mig.version)
    return applied


_IN_TRANSACTION: dict[int, duckdb.DuckDBPyConnection] = {}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK and re-raise on any exception: all or nothing.

    Nested use joins the caller's transaction (a load that re-consolidates what it changed
    commits both at once, or neither)."""
    if _IN_TRANSACTION.get(id(con)) is con:
        yield con
        return
    con.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION[id(con)] = con
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _IN_TRANSACTION.pop(id(con), None)


def now() -> datetime:
    """Naive local time in Vietnam (UTC+7, no DST), the warehouse's timestamp convention."""
    return (datetime.now(UTC) + _VN_OFFSET).replace(tzinfo=None)


def to_local(ts: datetime) -> datetime:
    """A timestamp in the warehouse convention: aware ones converted to Vietnam time, naive kept."""
    if ts.tzinfo is None:
        return ts
    return (ts.astimezone(UTC) + _VN_OFFSET).replace(tzinfo=None)


_VN_OFFSET = datetime(2000, 1, 1, 7) - datetime(2000, 1, 1)


def _reference_rows(catalog: Catalog, units: ReferenceUnits) -> list[tuple[str, pd.DataFrame, str]]:
    """Each reference table's rows as this catalog and these units give them: (table, frame,
    the SELECT list that turns a frame row into a table row, in the table's column order)."""
    unit_df = pd.DataFrame(
        {
            "unit_code": [u.code for u in units.units],
            "structure": [u.structure for u in units.units],
            "name": [u.name for u in units.units],
            "level": [u.level for u in units.units],
            "parent_code": [u.parent_code for u in units.units],
            "province_code": [u.province_code for u in units.units],
            "valid_from": pd.to_datetime([u.valid_from for u in units.units]),
            "valid_to": pd.to_datetime([u.valid_to for u in units.units]),
        }
    )
    inds = list(catalog.indicators.values())
    ind_df = pd.DataFrame(
        {
            "code": [i.code for i in inds],
            "grp": [i.group for i in inds],
            "label_vi": [i.label_vi for i in inds],
            "label_en": [i.label_en for i in inds],
            "unit_vi": [i.unit_vi for i in inds],
            "unit_en": [i.unit_en for i in inds],
            "levels": [list(i.levels) for i in inds],
            "kind": [i.kind for i in inds],
            "aggregation": [i.aggregation for i in inds],
            "parent_relation": [i.parent_relation for i in inds],
            "numerator": [i.numerator for i in inds],
            "denominator": [i.denominator for i in inds],
            "formula": [str(i.formula) if i.formula else None for i in inds],
            "target_op": [i.target.op if i.target else None for i in inds],
            "target_value": [i.target.value if i.target else None for i in inds],
            "target_source": [i.target.source if i.target else None for i in inds],
            "over_time": [str(i.over_time) for i in inds],
            "over_time_reason": [i.over_time_reason or None for i in inds],
            "tolerance_abs": [i.tolerance.abs for i in inds],
            "tolerance_rel": [i.tolerance.rel for i in inds],
            "valid_from": pd.to_datetime([i.valid_from for i in inds]),
            "valid_to": pd.to_datetime([i.valid_to for i in inds]),
            "direction": [i.direction for i in inds],
        }
    )
    links = load_crosswalk(catalog.divided_communes).links
    xw_df = pd.DataFrame(
        {
            "old_code": [x.old_code for x in links],
            "old_level": [x.old_level for x in links],
            "new_code": [x.new_code for x in links],
            "new_level": [x.new_level for x in links],
            "share": [x.share for x in links],
            "method": [x.method for x in links],
            "approximate": [x.approximate for x in links],
            "is_default": [x.is_default for x in links],
            "valid_from": pd.to_datetime([x.valid_from for x in links]),
        }
    )
    return [
        (
            "dim_unit",
            unit_df,
            "unit_code, structure, name, level, parent_code, province_code,"
            " CAST(valid_from AS DATE), CAST(valid_to AS DATE)",
        ),
        (
            "dim_indicator",
            ind_df,
            "code, grp, label_vi, label_en, unit_vi, unit_en, CAST(levels AS VARCHAR[]), kind,"
            " aggregation, parent_relation, numerator, denominator, formula, target_op,"
            " CAST(target_value AS DOUBLE), target_source, over_time, over_time_reason,"
            " tolerance_abs, tolerance_rel, CAST(valid_from AS DATE), CAST(valid_to AS DATE),"
            " direction",
        ),
        (
            "dim_unit_crosswalk",
            xw_df,
            "old_code, 'legacy', old_level, new_code, '2025', new_level, share, method,"
            " approximate, is_default, CAST(valid_from AS DATE)",
        ),
    ]


def load_reference(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, units: ReferenceUnits
) -> dict[str, int]:
    """Replace dim_unit (both structures), dim_indicator and dim_unit_crosswalk in one
    transaction, and install the rollup_as_of macro; idempotent."""
    rows = _reference_rows(catalog, units)
    for table, frame, _ in rows:
        con.register(f"_ref_{table}", frame)
    try:
        with transaction(con):
            for table, _, select in rows:
                con.execute(f"DELETE FROM {table}")
                con.execute(f"INSERT INTO {table} SELECT {select} FROM _ref_{table}")
            con.execute(rollup_as_of_sql())
    finally:
        for table, _, _ in rows:
            con.unregister(f"_ref_{table}")
    return {table: len(frame) for table, frame, _ in rows}


def rollup_as_of_sql() -> str:
    """The rollup_as_of(target) table macro, with the catalog's formulas as SQL (their twins)."""
    text = files("warehouse.rollup").joinpath("sql", "rollup_as_of.sql").read_text("utf-8")
    case = (
        "CASE i.formula "
        + " ".join(f"WHEN '{f.value}' THEN {f.sql('nu.value', 'de.value')}" for f in Formula)
        + " END"
    )
    return text.replace("{formula_case}", case).replace(
        "{share_sql}", Formula.RATIO.sql("f.numerator", "f.denominator")
    )


def reference_loaded(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, units: ReferenceUnits
) -> bool:
    """Whether dim_unit, dim_indicator and dim_unit_crosswalk already hold exactly the rows
    load_reference would write (then opening the warehouse need not rewrite 25,000 rows each
    run): the same rows, compared row for row both ways, every column."""
    rows = _reference_rows(catalog, units)
    for table, frame, _ in rows:
        con.register(f"_ref_{table}", frame)
    try:
        for table, _, select in rows:
            wanted = f"SELECT {select} FROM _ref_{table}"
            differ = con.execute(
                f"SELECT (SELECT count(*) FROM ({wanted} EXCEPT ALL SELECT * FROM {table}))"
                f" + (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL {wanted}))"
            ).fetchall()[0][0]
            if differ:
                return False
        return True
    finally:
        for table, _, _ in rows:
            con.unregister(f"_ref_{table}")


def open_warehouse(
    path: str | Path | None = None,
    catalog: Catalog | None = None,
    units: ReferenceUnits | None = None,
) -> duckdb.DuckDBPyConnection:
    """Connect for writing, migrate, and (given a catalog and units) write the reference
    dimensions when they differ from what is stored; the rollup_as_of macro is installed
    either way, so that it is never an older version's."""
    con = connect(path)
    migrate(con)
    if catalog is not None and units is not None:
        if reference_loaded(con, catalog, units):
            con.execute(rollup_as_of_sql())  # the macro as this version of tonghop writes it
        else:
            load_reference(con, catalog, units)
    return con
