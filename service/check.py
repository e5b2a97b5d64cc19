"""Check: the dry run of submission files against the warehouse.

A file is read and validated, its sender's authority checked, then judged against the
warehouse exactly as the ingest would judge it (outliers against the unit's history and its
peers, last year's figures), and the warehouse's answer foretold: the version it would get,
whether it duplicates a stored one, whether it would be held because its period is approved.
So the verdict a submitter reads before sending (the portal's upload page, `POST
/api/validate`, `tonghop validate --warehouse W`) is the report the stored version gets.

Nothing is written. The warehouse is read through a `WarehouseFile` (the portal passes its
snapshot); without one, or while it cannot be read, the checks that need it are left out and
the verdict says so (`warehouse_checked` false).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from validations.authority import Refusal, Sender, check_senders
from validations.catalog import Catalog
from validations.intake import ReadBatch, Unreadable, read_paths, validate_read
from validations.report import warehouse_line
from validations.result import ValidationResult
from validations.units import ReferenceUnits
from warehouse.access import WarehouseFile
from warehouse.db import WarehouseError
from warehouse.ingest_settings import IngestSettings
from warehouse.reading import add_outliers
from warehouse.store import SubmissionOutcome, predict_outcomes

LOG = logging.getLogger("tonghop.check")


class Validates(Protocol):
    """A Validator, or the portal's warm Checker: `validate(raws) -> results`."""

    def validate(self, raws: list[Any]) -> list[ValidationResult]: ...


@dataclass
class Verdict:
    """The dry run of one file."""

    file: str
    result: ValidationResult | None  # None: unreadable
    unreadable: Unreadable | None = None
    refusal: Refusal | None = None  # its sender may not deliver the unit it names
    outcome: SubmissionOutcome | None = None  # what the warehouse would do with it
    content_hash: str | None = None
    warehouse_checked: bool = False  # outliers, last year and the outcome were judged

    @property
    def status(self) -> str:
        """unreadable | refused | accepted | accepted_with_warnings | rejected."""
        if self.result is None:
            return "unreadable"
        if self.refusal is not None:
            return "refused"
        return str(self.result.status)

    @property
    def deliverable(self) -> bool:
        """Readable, for a unit and a period, and the sender may deliver it."""
        r = self.result
        return r is not None and self.refusal is None and bool(r.unit_code and r.period)

    def record(self, lang: str = "vi", name: str | None = None) -> dict[str, Any]:
        """The JSON record (`tonghop validate --json`, the portal's verdict): the validator's
        record with every issue the stored version would carry, and `outcome`."""
        if self.result is None:
            u = self.unreadable
            assert u is not None
            return {
                "file": name or Path(self.file).name,
                "status": "unreadable",
                "code": u.code,
                "message": u.message_vi if lang == "vi" else u.message_en,
                "message_vi": u.message_vi,
                "message_en": u.message_en,
                "issues": [],
            }
        rec = self.result.to_dict(lang)
        rec["file"] = name or Path(self.file).name
        if self.refusal is not None:
            rec["status"] = "refused"
            rec["rule"] = self.refusal.rule_id
        rec["warehouse_checked"] = self.warehouse_checked
        if self.outcome is not None:
            o = self.outcome
            done = {
                "version": o.version,
                "status": o.status,
                "duplicate": o.duplicate,
                "superseded": o.superseded,
                "current": o.current,
            }
            rec["outcome"] = done | {
                "message_vi": warehouse_line(done, "vi", predicted=True),
                "message_en": warehouse_line(done, "en", predicted=True),
            }
        return rec


class _Senders:
    """Who sends each file (a portal user's unit): what check_senders asks an inbox."""

    def __init__(self, senders: Mapping[str, str], units: ReferenceUnits) -> None:
        self.senders = senders
        self.units = units

    def sender_of(self, path: str | Path) -> Sender | None:
        code = self.senders.get(str(path))
        return Sender(code, "portal") if code else None

    def folder_of(self, path: str | Path) -> str | None:
        return self.senders.get(str(path))


def check(
    paths: list[str | Path],
    validator: Validates,
    catalog: Catalog,
    units: ReferenceUnits,
    wh: WarehouseFile | None = None,
    sender: str | None = None,
    log: logging.Logger | None = None,
) -> list[Verdict]:
    """The dry run of each file, in order: read, validate (`validator`), the sender's
    authority (`sender`: the unit code that sends them; None: not checked), outliers and last
    year's figures against the warehouse (`wh`), and what the warehouse would do."""
    senders = {str(p): sender for p in paths} if sender is not None else None
    found = judge(read_paths(list(paths)), validator, catalog, units, wh, senders, log)
    return [found[str(p)] for p in paths]


def judge(
    read: ReadBatch,
    validator: Validates,
    catalog: Catalog,
    units: ReferenceUnits,
    wh: WarehouseFile | None = None,
    senders: Mapping[str, str] | None = None,
    log: logging.Logger | None = None,
) -> dict[str, Verdict]:
    """`check` of files already read, as one batch (the portal's concurrent uploads: one
    validation, one set of warehouse queries), each file with its own sender (`senders`:
    path -> unit code; None: not checked). The verdict of each file, by its path."""
    log = log or LOG
    outcome = validate_read(read, validator)  # type: ignore[arg-type]
    refusals: list[Refusal] = []
    if senders is not None:
        outcome, refusals = check_senders(outcome, _Senders(senders, units), catalog)  # type: ignore[arg-type]
    checked = wh is not None and wh.exists()
    if checked and outcome.results:
        assert wh is not None
        settings = IngestSettings.resolve(wh.path, catalog=catalog.path)
        outcome = add_outliers(outcome, settings, log, wh=wh)
    predicted: dict[str, SubmissionOutcome | None] = {}
    if checked and outcome.results:
        assert wh is not None
        try:
            with wh.reading() as con:
                predicted = predict_outcomes(
                    con,
                    [
                        (
                            r.path,
                            r.unit_code,
                            r.period,
                            outcome.hashes.get(r.path),
                            str(r.status),
                        )
                        for r in outcome.results
                    ],
                    catalog.close_day,
                )
        except WarehouseError as exc:
            log.warning("check: the warehouse could not be read: %s", exc)
            checked = False
    by_path: dict[str, Verdict] = {}
    for r in outcome.results:
        by_path[r.path] = Verdict(
            r.path, r, None, None, predicted.get(r.path), outcome.hashes.get(r.path), checked
        )
    for ref in refusals:
        by_path[ref.result.path] = Verdict(
            ref.result.path, ref.result, None, ref, None, read.hashes.get(ref.result.path), checked
        )
    for u in outcome.unreadable:
        by_path[u.path] = Verdict(u.path, None, u)
    return by_path
