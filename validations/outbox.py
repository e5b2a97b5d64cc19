"""Each submitter's answer: an HTML and a JSON report per submission in `outbox/<unit_code>/`.

The JSON is the validator's record plus what the warehouse did with the file (version,
status: accepted, accepted_with_warnings, rejected, held, or duplicate).

What a sender reads never shows where the file sat on the server: the report names the file by
its own name only (an inbox folder may be a secret token), and the warehouse outcome carries no
path. Answers never overwrite one another's: a file that names no known unit is answered in its
sender's folder (`senders`, from validations.authority.check_senders) under a name unique to the
file, and so is an unreadable one (`<sender>/_unreadable/`; `_unreadable/` without an inbox, with
a suffix when two files of one batch share a name).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from validations.catalog import Catalog
from validations.fmt import json_safe
from validations.intake import Unreadable
from validations.report import render_html
from validations.result import ValidationResult

UNREADABLE_DIR = "_unreadable"
UNKNOWN_UNIT_DIR = "unknown"
UNKNOWN_SENDER_DIR = "_unknown_sender"  # files of no known sender (inbox root, unknown folder)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# What the warehouse's outcome may tell a sender (never the stored path or the batch).
PUBLIC_OUTCOME = ("unit_code", "period", "version", "status", "duplicate", "superseded", "rule")


def safe_name(text: str) -> str:
    """A file-name-safe version of a submitter-controlled string (no path traversal)."""
    name = _SAFE.sub("_", text).strip("._") or "file"
    return name[:100]


def folder_name(text: str) -> str:
    """The outbox folder for a unit code or sender (`_unknown_sender` kept as it is)."""
    return text if text == UNKNOWN_SENDER_DIR else safe_name(text)


def short_hash(text: str) -> str:
    """8 hex digits that tell two paths apart in a file name."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def public_outcome(done: Mapping[str, Any]) -> dict[str, Any]:
    """The warehouse outcome as its sender may read it."""
    return {k: done[k] for k in PUBLIC_OUTCOME if k in done}


def public_record(result: ValidationResult, lang: str, done: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON a sender reads: the validator's record, the file's own name, the outcome."""
    return result.to_dict(lang) | {
        "file": Path(result.path).name,
        "warehouse": public_outcome(done),
    }


_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_tmp_names = itertools.count()


def _write_atomic(path: str | Path, text: str) -> None:
    """Write `text` to a hidden file beside `path`, then rename it into place: a reader sees
    the old report or the new one, never half of one. Plain os calls on str paths (21,588
    reports a national month: pathlib and tempfile were a quarter of the time)."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_tmp_names)}")
    try:  # the folder usually exists: no mkdir call per report
        fd = os.open(tmp, _TMP_FLAGS, 0o600)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, _TMP_FLAGS, 0o600)
    except FileExistsError:  # left by a crashed run of a process with the same pid
        os.unlink(tmp)
        fd = os.open(tmp, _TMP_FLAGS, 0o600)
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, data: Any) -> None:
    """JSON for a program to read: UTF-8, no raw line separator or bidi override; compact (the
    C encoder: 21,588 reports a national month)."""
    _write_atomic(path, json_safe(json.dumps(data, ensure_ascii=False, default=str)))


def write_reports(
    outbox: str | Path,
    results: Iterable[ValidationResult],
    outcomes: Mapping[str, Mapping[str, Any]],
    catalog: Catalog,
    lang: str = "vi",
    senders: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write `<outbox>/<unit>/<period>_v<version>.{html,json}` for each result.

    `outcomes` maps a result's path to what the warehouse did (version, status, duplicate...).
    A result that names no known unit is answered in its sender's folder (`senders`: path ->
    folder) or in `unknown/`, as `<period>_<file stem>_<hash of its path>`: two such files never
    share an answer.
    """
    written: list[Path] = []
    root = os.fspath(outbox)
    senders = senders or {}
    for res in results:
        done = dict(outcomes.get(res.path, {}))
        version = done.get("version")
        if res.unit_code:
            folder = safe_name(res.unit_code)
            stem = (
                f"{res.period or 'unknown'}_v{version}"
                if version
                else f"{res.period or 'unknown'}_{Path(res.path).stem}_{short_hash(res.path)}"
            )
        else:
            folder = folder_name(senders.get(res.path, UNKNOWN_UNIT_DIR))
            stem = f"{res.period or 'unknown'}_{Path(res.path).stem}_{short_hash(res.path)}"
        base = os.path.join(root, folder, safe_name(stem))
        write_json(base + ".json", public_record(res, lang, done))
        _write_atomic(base + ".html", render_html(res, catalog, lang, warehouse=done))
        written += [Path(base + ".json"), Path(base + ".html")]
    return written


def write_unreadable(
    outbox: str | Path, items: Iterable[Unreadable], senders: Mapping[str, str] | None = None
) -> list[Path]:
    """Files that could not be read: their message, as `<sender>/_unreadable/<name>.json` when
    the sender is known (`senders`), else `_unreadable/<name>.json` (with a suffix telling
    apart two files of the batch with one name). The JSON names the file by its own name."""
    items = list(items)
    senders = senders or {}
    where = {
        u.path: Path(folder_name(senders[u.path])) / UNREADABLE_DIR
        if u.path in senders
        else Path(UNREADABLE_DIR)
        for u in items
    }
    names = Counter((where[u.path], safe_name(Path(u.path).name)) for u in items)
    written = []
    for item in items:
        name = safe_name(Path(item.path).name)
        if names[(where[item.path], name)] > 1:
            name = f"{name}-{short_hash(item.path)}"
        path = Path(outbox) / where[item.path] / f"{name}.json"
        write_json(path, item.public_dict())
        written.append(path)
    return written
