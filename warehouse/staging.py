"""Immutable staging batches: what intake hands to the single warehouse writer.

A batch is a folder `<staging_dir>/<batch_id>/` holding submissions.parquet, values.parquet,
issues.parquet and manifest.json. It is written into a hidden temporary folder next to it and
renamed into place, so a crash or a full disk never leaves a half batch visible, and an existing
batch is never overwritten. Intake may run in many processes at once: it never opens the
warehouse file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from validations.errors import TonghopError, os_reason
from validations.issue import Issue, Severity, issue_row
from validations.result import ValidationResult
from warehouse.db import now, to_local

FILES = ("submissions.parquet", "values.parquet", "issues.parquet")
MANIFEST = "manifest.json"
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # whole: fullmatch

# Column order and DuckDB types of each staged file; the COPY casts to them, so an empty
# DataFrame still yields a correctly typed Parquet file.
SUBMISSION_COLUMNS = {
    "seq": "INTEGER",
    "batch_id": "VARCHAR",
    "file_name": "VARCHAR",
    "content_hash": "VARCHAR",
    "unit_code": "VARCHAR",
    "period": "VARCHAR",
    "level": "VARCHAR",
    "validation_status": "VARCHAR",
    "received_at": "TIMESTAMP",
    "n_values": "INTEGER",
    "n_errors": "INTEGER",
    "n_warnings": "INTEGER",
    "file_format": "VARCHAR",  # the next three rebuild the submitter's report (read_results)
    "encoding": "VARCHAR",
    "checked": "VARCHAR",  # JSON: rule id -> items checked
}
VALUE_COLUMNS = {
    "seq": "INTEGER",
    "unit_code": "VARCHAR",
    "period": "VARCHAR",
    "indicator": "VARCHAR",
    "value": "DOUBLE",
    "note": "VARCHAR",
    "location": "VARCHAR",
}
ISSUE_COLUMNS = {
    "seq": "INTEGER",
    "rule_id": "VARCHAR",
    "severity": "VARCHAR",
    "unit_code": "VARCHAR",
    "period": "VARCHAR",
    "indicator": "VARCHAR",
    "location": "VARCHAR",
    "value": "VARCHAR",
    "expected": "VARCHAR",
    "message_vi": "VARCHAR",
    "message_en": "VARCHAR",
    "hint_vi": "VARCHAR",
    "hint_en": "VARCHAR",
    "extra": "VARCHAR",
}


class StagingError(TonghopError, RuntimeError):
    """A staging batch could not be written or read; nothing half-written is left behind."""


def content_hash_of(result: ValidationResult) -> str:
    """A fallback content hash when intake gave none: sha256 of the canonical values."""
    v = result.values
    rows = sorted(
        f"{r.unit_code}|{r.period}|{r.indicator}|{r.value!r}|{r.note}"
        for r in v.itertuples(index=False)
    )
    text = "\n".join([str(result.unit_code), str(result.period), *rows])
    return "values:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and x != x)


def _checked_json(checked: dict[str, int], seen: dict[tuple[tuple[str, int], ...], str]) -> str:
    """json.dumps(checked), once per distinct dict: most files of a batch were checked by the
    same rules the same number of times (10,794 encodings took 0.2 s)."""
    key = tuple(checked.items())
    text = seen.get(key)
    if text is None:
        text = seen[key] = json.dumps(checked)
    return text


def _frames(
    results: list[ValidationResult],
    batch_id: str,
    hashes: Mapping[str, str],
    received_at: datetime | Mapping[str, datetime] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    stamp = now()
    seen: dict[tuple[tuple[str, int], ...], str] = {}
    subs: list[dict[str, Any]] = []
    seqs: list[int] = []
    value_cols: dict[str, list[Any]] = {c: [] for c in VALUE_COLUMNS if c != "seq"}
    issues: list[dict[str, Any]] = []
    for seq, r in enumerate(results):
        if isinstance(received_at, Mapping):
            at = received_at.get(r.path, stamp)
        else:
            at = received_at or stamp
        errors = sum(1 for i in r.issues if i.severity == Severity.ERROR)
        subs.append(
            {
                "seq": seq,
                "batch_id": batch_id,
                "file_name": r.path,
                "content_hash": hashes.get(r.path) or content_hash_of(r),
                "unit_code": r.unit_code,
                "period": r.period,
                "level": r.level,
                "validation_status": str(r.status),
                "received_at": to_local(at),
                "n_values": r.n_values,
                "n_errors": errors,
                "n_warnings": len(r.issues) - errors,
                "file_format": r.file_format,
                "encoding": r.encoding,
                "checked": _checked_json(r.checked, seen) if r.checked else None,
            }
        )
        n = r.n_values
        if n:
            # plain lists, not one DataFrame per result: 10,000 results stage in about a second
            seqs.extend([seq] * n)
            got = r.value_columns()  # arrays (or the result's unit and period as scalars)
            for col in VALUE_COLUMNS:
                if col == "seq":
                    continue
                cells = got.get(col)
                fill = {"unit_code": r.unit_code, "period": r.period}.get(col)
                if not isinstance(cells, np.ndarray):  # one value for every row
                    value_cols[col].extend(
                        [fill if fill is not None and _missing(cells) else cells] * n
                    )
                    continue
                data = cells.tolist()
                if fill is not None:  # rows without their own unit or period: the submission's
                    data = [fill if _missing(x) else x for x in data]
                value_cols[col].extend(data)
        issues += [{"seq": seq, **issue_row(i)} for i in r.issues]
    sub_df = pd.DataFrame(subs, columns=list(SUBMISSION_COLUMNS))
    val_df = pd.DataFrame({"seq": seqs, **value_cols}, columns=list(VALUE_COLUMNS))
    val_df["value"] = pd.to_numeric(val_df["value"], errors="coerce").astype("float64")
    iss_df = pd.DataFrame(issues, columns=list(ISSUE_COLUMNS))
    return sub_df, val_df, iss_df


def _copy(
    con: duckdb.DuckDBPyConnection, df: pd.DataFrame, cols: dict[str, str], dest: Path
) -> None:
    name = f"_stage_{uuid.uuid4().hex}"
    con.register(name, df)
    try:
        select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in cols.items())
        target = str(dest).replace("'", "''")
        con.execute(f"COPY (SELECT {select} FROM {name}) TO '{target}' (FORMAT parquet)")
    finally:
        con.unregister(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_staging(
    results: list[ValidationResult],
    staging_dir: str | Path,
    batch_id: str,
    hashes: Mapping[str, str],
    received_at: datetime | Mapping[str, datetime] | None = None,
    refused: list[dict[str, Any]] | None = None,
) -> Path:
    """Write one immutable batch folder for these results and return its path.

    `hashes` maps each result's path to its file's content hash (a hash of the values is used
    when missing). `received_at` is one time for the batch or one per path (default: now,
    Vietnam local time; aware datetimes are converted). `refused`: files refused because their
    sender may not deliver them (validations.authority.Refusal.audit()), kept in the manifest
    for load_batch to write to audit_log in the batch's transaction.
    """
    if not _BATCH_ID.fullmatch(batch_id):
        raise StagingError("staging.batch_id", batch=batch_id)
    root = Path(staging_dir)
    final = root / batch_id
    if final.exists():
        raise StagingError("staging.exists", path=str(final))
    sub_df, val_df, iss_df = _frames(results, batch_id, hashes, received_at)
    tmp = root / f".{batch_id}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        con = duckdb.connect()
        try:
            for df, cols, fname in zip(
                (sub_df, val_df, iss_df),
                (SUBMISSION_COLUMNS, VALUE_COLUMNS, ISSUE_COLUMNS),
                FILES,
                strict=True,
            ):
                _copy(con, df, cols, tmp / fname)
        finally:
            con.close()
        manifest = {
            "batch_id": batch_id,
            "created_at": now().isoformat(),
            "submissions": len(sub_df),
            "values": len(val_df),
            "issues": len(iss_df),
            "files": list(FILES),
        }
        if refused:
            manifest["refused"] = list(refused)
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        for name in (*FILES, MANIFEST):
            _fsync(tmp / name)
        _fsync(tmp)
        if final.exists():
            raise StagingError("staging.appeared", path=str(final))
        os.rename(tmp, final)
        _fsync(root)
    except (OSError, duckdb.Error) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StagingError("staging.write_failed", path=str(final), reason=os_reason(exc)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_manifest(batch_dir: str | Path) -> dict[str, Any]:
    """The manifest of a complete batch; StagingError if the folder is not one."""
    d = Path(batch_dir)
    missing = [f for f in (*FILES, MANIFEST) if not (d / f).is_file()]
    if missing:
        raise StagingError("staging.incomplete", path=str(d), missing=missing)
    try:
        return json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StagingError(
            "staging.manifest_unreadable", path=str(d / MANIFEST), detail=exc
        ) from exc


def read_results(batch_dir: str | Path) -> list[ValidationResult]:
    """The ValidationResults of a staged batch, rebuilt from its Parquet files in staging order
    (file, unit, period, level, issues, values and, for batches staged since 0.2, the rules
    checked): what a later run needs to write the reports of a batch it loaded late."""
    d = Path(batch_dir)
    read_manifest(d)
    con = duckdb.connect()
    try:
        q = {
            name: "'" + str(d / f"{name}.parquet").replace("'", "''") + "'"
            for name in ("submissions", "values", "issues")
        }
        subs = con.execute(f"SELECT * FROM read_parquet({q['submissions']}) ORDER BY seq").df()
        vals = con.execute(f"SELECT * FROM read_parquet({q['values']}) ORDER BY seq").df()
        iss = con.execute(f"SELECT * FROM read_parquet({q['issues']}) ORDER BY seq").df()
    finally:
        con.close()
    by_seq_vals = dict(tuple(vals.groupby("seq", sort=False))) if len(vals) else {}
    by_seq_iss = dict(tuple(iss.groupby("seq", sort=False))) if len(iss) else {}
    out: list[ValidationResult] = []
    for row in subs.to_dict("records"):
        seq = row["seq"]
        issues = []
        for i in by_seq_iss.get(seq, iss.iloc[0:0]).to_dict("records"):
            issues.append(
                Issue(
                    rule_id=i["rule_id"],
                    severity=Severity(i["severity"]),
                    unit_code=_none(i["unit_code"]),
                    period=_none(i["period"]),
                    indicator=_none(i["indicator"]),
                    location=_none(i["location"]),
                    value=_none(i["value"]),
                    expected=_none(i["expected"]),
                    message_vi=i["message_vi"] or "",
                    message_en=i["message_en"] or "",
                    hint_vi=_none(i["hint_vi"]) or "",
                    hint_en=_none(i["hint_en"]) or "",
                    extra=json.loads(i["extra"]) if _none(i["extra"]) else {},
                )
            )
        v = by_seq_vals.get(seq)
        values = (
            v.drop(columns=["seq"]).reset_index(drop=True)
            if v is not None
            else pd.DataFrame(columns=[c for c in VALUE_COLUMNS if c != "seq"])
        )
        checked = _none(row.get("checked"))
        out.append(
            ValidationResult(
                path=row["file_name"],
                unit_code=_none(row["unit_code"]),
                period=_none(row["period"]),
                issues=issues,
                values=values,
                level=_none(row["level"]),
                file_format=_none(row.get("file_format")) or "csv",
                encoding=_none(row.get("encoding")),
                checked=json.loads(checked) if checked else {},
            )
        )
    return out


def _none(x: Any) -> Any:
    """None for SQL NULL / pandas NA / NaN, else the value."""
    if x is None:
        return None
    try:
        return None if pd.isna(x) else x
    except (TypeError, ValueError):
        return x
