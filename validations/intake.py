"""Intake of many files: find them, read them, hash them, validate them in one batch.

Every file found gets an answer: a folder is searched for *all* its files (an `.xls`, an `.ods`,
a name without an extension or ending in a space is read or refused with one sentence, never
skipped), except hidden entries (names starting with ".": uploads in progress, left for the next
run) and the inbox manifest at the top of a folder.

Plain functions (no Prefect): the ingest flow runs `validate_paths` once per batch of files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validations.readers import RawSubmission, ReadError, read_submission
from validations.result import ValidationResult
from validations.validator import Validator

SUFFIXES = (".csv", ".txt", ".xlsx")  # what a submission is (readers.py); folders yield every file
MANIFEST = "manifest.yaml"  # the inbox manifest (validations/authority.py), never a submission


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be read as a submission, with the reader's message."""

    path: str
    message_vi: str
    message_en: str
    code: str = "unreadable"  # why (validations.readers.READ_ERROR_CODES)
    # the message's code in validations/messages.yaml and its parameters (a ReadError again)
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, exc: ReadError) -> Unreadable:
        return cls(
            exc.path, exc.message_vi, exc.message_en, exc.error_code(), exc.reason, exc.params
        )

    def error(self) -> ReadError:
        """The reader's error again (to be said in any language)."""
        return ReadError(self.path, self.reason, **self.params)

    def to_dict(self) -> dict[str, str]:
        """For the steward (the ingest result): the path as given."""
        return {
            "file": self.path,
            "status": "unreadable",
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }

    def public_dict(self) -> dict[str, str]:
        """For the sender (its outbox): the file's own name, never the folder it sat in."""
        return self.to_dict() | {"file": Path(self.path).name}


@dataclass
class BatchOutcome:
    """What validating one batch of files produced."""

    results: list[ValidationResult] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256 of the file's bytes
    # path -> the outbox folder of the file's sender (set by validations.authority.check_senders
    # when files come from an inbox): where its answer goes when it names no known unit.
    senders: dict[str, str] = field(default_factory=dict)


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given; folders searched recursively for every file (whatever its name: each
    one gets an answer), hidden entries and a folder's own `manifest.yaml` skipped. Symbolic
    links and other non-regular entries are listed too: the reader refuses them by name."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(Path(f) for f in _walk(str(p), top=True)))
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def _walk(folder: str, top: bool = False) -> Iterator[str]:
    """The entries under `folder` that are not folders (a link to a folder is neither listed
    nor followed), hidden ones and the top folder's manifest skipped; os.scandir's entries
    tell folders apart without a stat call each (10,795 files: 0.05 s, not 0.3)."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except PermissionError:
        if top:
            raise
        return  # a subfolder the service may not read is skipped, as pathlib's rglob does
    for e in entries:
        if e.name.startswith(".") or (top and e.name == MANIFEST):
            continue
        if e.is_dir(follow_symlinks=False):
            yield from _walk(e.path)
        elif not e.is_dir():  # a link to a folder is skipped, as a folder is
            yield e.path


def file_hash(path: str | Path) -> str:
    """sha256 of the file's bytes: the same file sent twice is the same submission."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ReadBatch:
    """Files read, not yet validated: the submissions, the unreadable files, the hashes."""

    raws: list[RawSubmission] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)

    def __add__(self, other: ReadBatch) -> ReadBatch:
        return ReadBatch(
            self.raws + other.raws, self.unreadable + other.unreadable, self.hashes | other.hashes
        )


def read_paths(paths: list[str | Path]) -> ReadBatch:
    """Read every file; unreadable ones are set aside with their message (never a link: it
    could make the service read, and quote, any file)."""
    out = ReadBatch()
    for p in paths:
        if Path(p).is_symlink():
            name = Path(p).name
            out.unreadable.append(Unreadable.of(ReadError(str(p), "read.symlink", name=name)))
            continue
        try:
            raw = read_submission(p)
        except ReadError as exc:
            out.unreadable.append(Unreadable.of(exc))
            continue
        out.raws.append(raw)
        out.hashes[raw.path] = raw.sha256 or file_hash(p)
    return out


def validate_read(read: ReadBatch, validator: Validator) -> BatchOutcome:
    """The files read, validated as one vectorised batch."""
    return BatchOutcome(
        results=validator.validate(read.raws),
        unreadable=list(read.unreadable),
        hashes=dict(read.hashes),
    )


def validate_paths(paths: list[str | Path], validator: Validator | None = None) -> BatchOutcome:
    """Read every file (unreadable ones are set aside with their message) and validate the rest
    as one vectorised batch."""
    return validate_read(read_paths(paths), validator or Validator())


def merge_outcomes(parts: list[BatchOutcome], out: BatchOutcome | None = None) -> BatchOutcome:
    """The outcomes of several batches as one (in order)."""
    out = out if out is not None else BatchOutcome()
    for part in parts:
        out.results += part.results
        out.unreadable += part.unreadable
        out.hashes |= part.hashes
        out.senders |= part.senders
    return out
