"""Intake of many files: find them, read them, hash them, validate them in one batch.

Plain functions (no Prefect): the ingest flow runs `validate_paths` once per batch of files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from validations.readers import ReadError, read_submission
from validations.result import ValidationResult
from validations.validator import Validator

SUFFIXES = (".csv", ".txt", ".xlsx")


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be read as a submission, with the reader's message."""

    path: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "file": self.path,
            "status": "unreadable",
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


@dataclass
class BatchOutcome:
    """What validating one batch of files produced."""

    results: list[ValidationResult] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256 of the file's bytes


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for .csv/.xlsx (hidden entries skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.suffix.lower() in SUFFIXES
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def file_hash(path: str | Path) -> str:
    """sha256 of the file's bytes: the same file sent twice is the same submission."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_paths(paths: list[str | Path], validator: Validator | None = None) -> BatchOutcome:
    """Read every file (unreadable ones are set aside with their message) and validate the rest
    as one vectorised batch."""
    validator = validator or Validator()
    out = BatchOutcome()
    raws = []
    for p in paths:
        try:
            raw = read_submission(p)
        except ReadError as exc:
            out.unreadable.append(Unreadable(str(p), exc.message_vi, exc.message_en))
            continue
        raws.append(raw)
        out.hashes[raw.path] = file_hash(p)
    out.results = validator.validate(raws)
    return out
