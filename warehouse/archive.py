"""The archive of ingested files: every original kept, exactly what was read.

`archive_files` moves each answered file out of the inbox to
`<archive>/<batch_id>/<sender>/<name>`: `<sender>` is the file's first folder under the inbox
root (a unit code or a token folder; `_root` for a file in the root itself) or, without an
inbox root, the name of its own folder. Two files of one sender with the same name get a
suffix (`baocao.csv`, `baocao~2.csv`), never one over the other. `manifest.json` in the batch
folder lists each original path, where it went, its sha256 and its answer.

A file is archived only if it still holds what the run read: the file is renamed into the
archive (atomic on one file system; copied then removed across file systems), then hashed
there. If its content differs from the hash taken when it was read (the sender replaced it
meanwhile), the new content was never read: it goes back to the inbox (under its own name, or
`<name>.unread-N` when a newer file already took that name) and is ingested by the next run.
Plain functions, no Prefect.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
ROOT_SENDER = "_root"


@dataclass
class ArchiveResult:
    """Where each file went; files left in the inbox for the next run, and why."""

    folder: Path
    archived: list[dict[str, Any]] = field(default_factory=list)
    left: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "archived": self.archived, "left": self.left}


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sender_folder(path: str | Path, inbox_root: str | Path | None) -> str:
    """The archive sub-folder of a file: its first folder under the inbox root, else its own
    folder's name; `_root` for a file directly in the inbox root."""
    p = Path(os.path.abspath(path))
    if inbox_root is not None:
        try:
            rel = p.relative_to(os.path.abspath(inbox_root))
        except ValueError:
            rel = None
        if rel is not None:
            return _safe(rel.parts[0]) if len(rel.parts) >= 2 else ROOT_SENDER
    return _safe(p.parent.name) or ROOT_SENDER


def _safe(name: str) -> str:
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip(".")
    return name[:128]


def free_name(folder: Path, name: str, taken: set[Path]) -> Path:
    """`folder/name`, or `folder/<stem>~N<suffix>` (N = 2, 3, ...) when taken or present."""
    cand = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while cand in taken or cand.exists() or cand.is_symlink():
        n += 1
        cand = folder / f"{stem}~{n}{suffix}"
    taken.add(cand)
    return cand


def _move(src: Path, dest: Path) -> None:
    try:
        os.rename(src, dest)
    except OSError:  # another file system: copy, then remove the original
        shutil.copy2(src, dest)
        os.unlink(src)


def _put_back(archived: Path, original: Path) -> Path:
    """The archived file back in the inbox, without replacing a newer file of the same name."""
    dest = original
    n = 0
    while dest.exists() or dest.is_symlink():
        n += 1
        dest = original.with_name(f"{original.name}.unread-{n}")
    _move(archived, dest)
    return dest


def archive_files(
    files: Iterable[str | Path],
    archive_root: str | Path,
    batch_id: str,
    read_hashes: Mapping[str, str],
    answers: Mapping[str, str] | None = None,
    inbox_root: str | Path | None = None,
) -> ArchiveResult:
    """Move each file of `files` that was read (its path in `read_hashes`, with the sha256 of
    what was read) to the batch's archive folder; write the batch's manifest.

    `answers` maps a path to what the run answered (accepted, rejected, duplicate, unreadable,
    refused...), recorded in the manifest. Files not in `read_hashes`, gone, or whose content
    changed since it was read stay in (or go back to) the inbox, listed in `left`."""
    folder = Path(archive_root) / batch_id
    out = ArchiveResult(folder)
    taken: set[Path] = set()
    answers = answers or {}
    for f in files:
        src = Path(f)
        key = str(f)
        read = read_hashes.get(key)
        if read is None:
            out.left.append({"file": key, "reason": "not read by this run"})
            continue
        if not src.exists() and not src.is_symlink():
            out.left.append({"file": key, "reason": "gone from the inbox"})
            continue
        sub = folder / sender_folder(src, inbox_root)
        sub.mkdir(parents=True, exist_ok=True)
        dest = free_name(sub, src.name, taken)
        if src.is_symlink():  # never followed: the link itself is archived
            os.rename(src, dest)
            now = "symlink"
        else:
            _move(src, dest)
            now = sha256_of(dest)
        if now != read and not (read == "symlink" and now == "symlink"):
            back = _put_back(dest, src)
            taken.discard(dest)
            out.left.append(
                {
                    "file": key,
                    "reason": "changed since it was read: left for the next run",
                    "now_at": str(back),
                }
            )
            continue
        out.archived.append(
            {
                "file": key,
                "archived_as": str(dest.relative_to(folder)),
                "sha256": read,
                "answer": answers.get(key),
            }
        )
    if out.archived:
        _write_manifest(folder, batch_id, out)
    return out


def _write_manifest(folder: Path, batch_id: str, out: ArchiveResult) -> None:
    path = folder / MANIFEST
    old: list[dict[str, Any]] = []
    if path.is_file():  # a second archive call for the same batch adds to it
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError):
            old = []
    data = {"batch_id": batch_id, "files": old + out.archived}
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
