"""Shared by the period report's tests (summary, tables, Word document, plausibility): Lai
Châu's reporting season from the sample files, loaded with library calls (no Prefect).

The season is the demo's: last year (2023-06, 2023-H1), every month of 2024-H1, except that two
communes of Tam Đường never send June (MISSING: they sent five of six months), consolidated for
the province for June and the half-year.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from conftest import SAMPLES

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
LAST_YEAR = ["2023-06", "2023-H1"]
MISSING = ("03394", "03430")  # Xã Thèn Sin, Xã Khun Há: no June report
PROVINCE = "12"


def season_files() -> list[Path]:
    out = []
    for period in [*LAST_YEAR, *MONTHS]:
        for f in sorted((SAMPLES / "valid" / period).rglob("*")):
            if f.suffix not in (".csv", ".xlsx"):
                continue
            if period == "2024-06" and f.stem.split("_")[0] in MISSING:
                continue
            out.append(f)
    return out


def sample_values(unit: str, period: str) -> dict[str, float]:
    """A unit's figures as its sample file gives them (CSV, or the Excel form read by the
    validator's reader)."""
    (path,) = [
        p for p in (SAMPLES / "valid" / period).rglob(f"{unit}_{period}.*") if p.suffix != ".json"
    ]
    if path.suffix == ".csv":
        with open(path, encoding="utf-8") as fh:
            return {r["indicator"]: float(r["value"]) for r in csv.DictReader(fh)}
    from conftest import TODAY
    from validations.validator import Validator

    res = Validator(today=TODAY).validate_file(path)
    return dict(zip(res.values["indicator"], res.values["value"].astype(float), strict=True))


def ingest(con, files: list[Path], staging: Path, batch: str, validator) -> None:  # type: ignore[no-untyped-def]
    from validations.intake import validate_paths
    from warehouse.staging import write_staging
    from warehouse.store import load_batch

    out = validate_paths(files, validator)
    load_batch(
        con, write_staging(out.results, staging, batch, out.hashes, datetime(2024, 6, 16, 9))
    )


def build_season(path: Path, catalog, units, validator) -> Path:  # type: ignore[no-untyped-def]
    """The season's warehouse file, the province consolidated for 2024-06 and 2024-H1."""
    from warehouse.db import open_warehouse
    from warehouse.rollup import consolidate

    con = open_warehouse(path, catalog, units)
    try:
        ingest(con, season_files(), path.parent / "staging", "season", validator)
        for period in ("2023-06", "2023-H1", "2024-06", "2024-H1"):
            consolidate(con, period, PROVINCE, catalog, units)
    finally:
        con.close()
    return path
