"""Each submitter's answer: an HTML and a JSON report per submission in `outbox/<unit_code>/`.

The JSON is the validator's record plus what the warehouse did with the file (version,
status: accepted, accepted_with_warnings, rejected, held, or duplicate).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from validations.catalog import Catalog
from validations.intake import Unreadable
from validations.report import render_html
from validations.result import ValidationResult

UNREADABLE_DIR = "_unreadable"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A file-name-safe version of a submitter-controlled string (no path traversal)."""
    name = _SAFE.sub("_", text).strip("._") or "file"
    return name[:100]


def _write_atomic(path: Path, text: str) -> None:
    try:  # the folder usually exists: no mkdir call per report (21,588 of them a month)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(
    outbox: str | Path,
    results: Iterable[ValidationResult],
    outcomes: Mapping[str, Mapping[str, Any]],
    catalog: Catalog,
    lang: str = "vi",
) -> list[Path]:
    """Write `<outbox>/<unit>/<period>_v<version>.{html,json}` for each result.

    `outcomes` maps a result's path to what the warehouse did (version, status, duplicate...).
    """
    written: list[Path] = []
    root = Path(outbox)
    for res in results:
        done = dict(outcomes.get(res.path, {}))
        unit = safe_name(res.unit_code or "unknown")
        version = done.get("version")
        stem = safe_name(
            f"{res.period or 'unknown'}_v{version}"
            if version
            else f"{res.period}_{Path(res.path).stem}"
        )
        data = res.to_dict(lang) | {"warehouse": done}
        jpath = root / unit / f"{stem}.json"
        _write_atomic(jpath, json.dumps(data, ensure_ascii=False, default=str))
        hpath = root / unit / f"{stem}.html"
        _write_atomic(hpath, render_html(res, catalog, lang, warehouse=done))
        written += [jpath, hpath]
    return written


def write_unreadable(outbox: str | Path, items: Iterable[Unreadable]) -> list[Path]:
    """Files that could not be read: their message, for the steward to forward."""
    written = []
    for item in items:
        path = Path(outbox) / UNREADABLE_DIR / f"{safe_name(Path(item.path).name)}.json"
        _write_atomic(path, json.dumps(item.to_dict(), ensure_ascii=False, indent=2))
        written.append(path)
    return written
