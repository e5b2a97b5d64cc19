"""Who may submit what: the sender of each file, and whether it may deliver the unit it names.

Inbox layout (the folder the `ingest-inbox` deployment reads; `inbox_root` of the ingest flow):

    inbox/
      manifest.yaml          optional: per-unit tokens (below)
      03386/...              a unit's own folder, named by its GSO code (e.g. an SFTP chroot
                             or a shared-drive folder only that unit can write)
      k7Qp...Z2/...          or a folder named by the unit's secret token (upload links)

The sender of a file is the unit whose folder is the first folder under the inbox root: a
unit code of the reference units, or a token listed in `manifest.yaml`:

    tokens:                  # token -> unit code; tokens are 16-128 letters, digits, - or _
      "k7QpXw2M9rT4vB8nY3cL": "03386"
      "Hq3ZmW8pN5xR2tK7jV4d": "105"
    require_tokens: false    # true: plain unit-code folders are not trusted, tokens only

Tokens and unit codes are YAML strings (quoted): an unquoted `00013` is read by YAML as a number
(octal 11, or 13) and would silently become another unit, so anything but a string, a token
listed twice or an unknown key is refused when the manifest is loaded, naming its line.

A file may deliver its sender's own unit or a unit below it in the structure in force for the
file's period (a district on behalf of one of its communes, a province for its districts and
communes). Anything else is refused: `sender_unknown` (a file directly in the inbox root, or in
a folder that is neither a unit code nor a known token) or `sender_not_authorized` (the file
names a unit that is not the sender's own nor below it). The rules' texts are in the catalog's
`security:` section. A refused file is not stored as a submission of the unit it names (it
cannot add a version, a value or a duplicate hash to another unit's history); the refusal is
written to `audit_log` (action `refuse`, actor the sender) in the same transaction as the batch
(warehouse.staging manifest `refused`, loaded by warehouse.store.load_batch), and the sender
gets the report in its own outbox folder.

Plain typed Python, no Prefect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from validations.catalog import Catalog, CatalogError, SecurityRule
from validations.fmt import one_line
from validations.intake import MANIFEST, BatchOutcome
from validations.issue import Issue, Severity
from validations.messages import Message
from validations.outbox import (
    UNKNOWN_SENDER_DIR,
    _write_atomic,
    folder_name,
    public_record,
    safe_name,
    short_hash,
    write_json,
)
from validations.period import PeriodError, parse_period
from validations.report import render_html
from validations.result import ValidationResult
from validations.units import ReferenceUnits

SENDER_UNKNOWN = "sender_unknown"
SENDER_NOT_AUTHORIZED = "sender_not_authorized"
SECURITY_RULES = (SENDER_UNKNOWN, SENDER_NOT_AUTHORIZED)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # whole: fullmatch


class AuthorityError(CatalogError):
    """The inbox manifest is invalid; the message names the file, the line and the entry (a
    CatalogError: configuration the steward fixes, shown as one sentence by the CLI)."""

    code = "inbox_manifest"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who delivered a file: a unit code, and how it was recognised ("folder" or "token")."""

    unit_code: str
    via: str


@dataclass
class Refusal:
    """A file refused because its sender may not deliver the unit it names."""

    result: ValidationResult  # the validator's result, with the security Issue added
    rule_id: str
    sender: Sender | None
    folder: str | None  # the first folder under the inbox root, as found (None: root)

    @property
    def actor(self) -> str:
        """Who is recorded in audit_log: the sender's unit code, never a token."""
        if self.sender is not None:
            return self.sender.unit_code
        return "unknown sender"

    def audit(self) -> dict[str, Any]:
        """The staging-manifest record that warehouse.store.load_batch writes to audit_log
        (a token folder is written `<token of CODE>`: tokens are never logged; control
        characters of a file name are escaped: the detail is one line of a log)."""
        via = f" via {self.sender.via}" if self.sender else ""
        path = self.result.path
        if self.sender and self.sender.via == "token" and self.folder:
            parts = [
                f"<token of {self.sender.unit_code}>" if p == self.folder else p
                for p in Path(path).parts
            ]
            path = str(Path(*parts))
        return {
            "actor": self.actor,
            "rule_id": self.rule_id,
            "unit_code": self.result.unit_code,
            "period": self.result.period,
            "file_name": path,
            "detail": one_line(
                f"{self.rule_id}: {path} names unit {self.result.unit_code or '?'} "
                f"period {self.result.period or '?'}; sender {self.actor}{via}: not stored"
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.result.path,
            "status": "refused",
            "rule": self.rule_id,
            "unit_code": self.result.unit_code,
            "period": self.result.period,
            "sender": self.sender.unit_code if self.sender else None,
            "via": self.sender.via if self.sender else None,
        }


# --- the catalog's security: section ----------------------------------------------------------
def security_rules(catalog: Catalog) -> dict[str, SecurityRule]:
    """The `security:` rules of the catalog (read and checked when it loads:
    validations.catalog.entries.security_rule)."""
    return catalog.security


# --- the inbox: who sent each file --------------------------------------------------------------
class Inbox:
    """The inbox root and its manifest: tells the sender of each file under it."""

    def __init__(self, root: str | Path, units: ReferenceUnits):
        self.root = Path(os.path.abspath(root))
        self.units = units
        self.tokens: dict[str, str] = {}
        self.require_tokens = False
        path = self.root / MANIFEST
        if path.is_file():
            self._load_manifest(path)

    def _load_manifest(self, path: Path) -> None:
        """Read the manifest node by node (not yaml.safe_load): every token and unit code must
        be a YAML string, and each refusal names the line."""
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise AuthorityError("inbox_manifest.unreadable", path=str(path), detail=exc) from exc
        if root is None:
            return
        if not isinstance(root, yaml.MappingNode):
            raise AuthorityError("inbox_manifest.not_a_mapping", path=str(path))
        top = _mapping(path, root, "the manifest")
        unknown = sorted(set(top) - {"tokens", "require_tokens"})
        if unknown:
            key_node = top[unknown[0]][0]
            raise AuthorityError("inbox_manifest.unknown_key", at=_at(path, key_node), keys=unknown)
        if "require_tokens" in top:
            node = top["require_tokens"][1]
            if node.tag != _BOOL:
                raise AuthorityError(
                    "inbox_manifest.require_tokens", at=_at(path, node), value=_shown(node)
                )
            self.require_tokens = node.value.lower() in ("true", "yes", "on")
        if "tokens" not in top or top["tokens"][1].tag == _NULL:
            return
        tokens = top["tokens"][1]
        if not isinstance(tokens, yaml.MappingNode):
            raise AuthorityError("inbox_manifest.tokens_not_a_mapping", at=_at(path, tokens))
        for token, (key_node, code_node) in _mapping(path, tokens, "tokens").items():
            if key_node.tag != _STR:
                raise AuthorityError(
                    "inbox_manifest.token_not_text",
                    at=_at(path, key_node),
                    token=_shown(key_node, True),
                )
            if code_node.tag != _STR:
                raise AuthorityError(
                    "inbox_manifest.unit_not_text", at=_at(path, code_node), unit=_shown(code_node)
                )
            code = str(code_node.value)
            if not _TOKEN.fullmatch(token):
                raise AuthorityError("inbox_manifest.token_form", at=_at(path, key_node), unit=code)
            if not self.units.versions(code):
                raise AuthorityError(
                    "inbox_manifest.unit_unknown", at=_at(path, code_node), unit=code
                )
            self.tokens[token] = code

    def folder_of(self, path: str | Path) -> str | None:
        """The first folder under the inbox root holding `path` (None: outside it, or in the root)."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.root)
        except ValueError:
            return None
        return rel.parts[0] if len(rel.parts) >= 2 else None

    def sender_of(self, path: str | Path) -> Sender | None:
        """The unit that delivered `path`, or None when its folder names no sender."""
        folder = self.folder_of(path)
        if folder is None:
            return None
        if folder in self.tokens:
            return Sender(self.tokens[folder], "token")
        if not self.require_tokens and self.units.versions(folder):
            return Sender(folder, "folder")
        return None


_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def _at(path: Path, node: yaml.Node) -> Message:
    return Message("inbox_manifest.at", {"path": str(path), "line": node.start_mark.line + 1})


def _shown(node: yaml.Node, secret: bool = False) -> str:
    """A node's text for a message; a token (`secret`) only by its first 4 characters."""
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else f"<{node.id}>"
    if secret and len(text) > 4:
        text = text[:4] + "…"
    return one_line(text)[:60]


def _mapping(
    path: Path, node: yaml.MappingNode, what: str
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's entries by key text; a key given twice is refused (YAML would keep the
    last one without a word)."""
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise AuthorityError(
                "inbox_manifest.key_not_text"
                if what == "tokens"
                else "inbox_manifest.key_not_text.top",
                at=_at(path, key_node),
                section=what,
            )
        key = str(key_node.value)
        if key in out:
            raise AuthorityError(
                "inbox_manifest.key_twice" if what == "tokens" else "inbox_manifest.key_twice.top",
                at=_at(path, key_node),
                section=what,
                key=_shown(key_node, what == "tokens"),
                first=out[key][0].start_mark.line + 1,
            )
        out[key] = (key_node, value_node)
    return out


def may_deliver(
    sender: str, unit_code: str, period: str | None, units: ReferenceUnits, close_day: int = 14
) -> bool:
    """Whether `sender` may deliver the report of `unit_code`: its own, or a unit below it in
    the structure in force for `period` (any structure when the period cannot be read)."""
    if unit_code == sender:
        return True
    try:
        on = parse_period(period).end(close_day) if period else None
    except PeriodError:
        on = None
    versions = [units.get(unit_code, on)] if on is not None else units.versions(unit_code)
    return any(u is not None and sender in (u.parent_code, u.province_code) for u in versions)


# --- applying it to a batch ------------------------------------------------------------------------
def _issue(rule: SecurityRule, result: ValidationResult, sender: Sender | None) -> Issue:
    fields = {
        "file": Path(result.path).name,
        "sender": sender.unit_code if sender else "?",
        "unit_code": result.unit_code or "?",
        "period": result.period or "?",
    }
    return Issue(
        rule_id=rule.id,
        severity=Severity(rule.severity),
        unit_code=result.unit_code,
        period=result.period,
        indicator=None,
        location=None,
        value=result.unit_code,
        expected=sender.unit_code if sender else None,
        message_vi=rule.message_vi.format_map(fields),
        message_en=rule.message_en.format_map(fields),
        hint_vi=rule.hint_vi.format_map(fields),
        hint_en=rule.hint_en.format_map(fields),
        extra={
            "sender": sender.unit_code if sender else None,
            "via": sender.via if sender else None,
        },
    )


def check_senders(
    outcome: BatchOutcome,
    inbox: Inbox,
    catalog: Catalog,
) -> tuple[BatchOutcome, list[Refusal]]:
    """Split a validated batch into what its senders may deliver and what is refused.

    A result without a unit (unit_unknown) names nobody's figures: it is kept (and stored as
    rejected). The returned outcome keeps the unreadable files and the hashes of kept results.
    """
    rules = security_rules(catalog)
    kept = BatchOutcome(unreadable=list(outcome.unreadable), senders=dict(outcome.senders))
    for item in outcome.unreadable:
        kept.senders[item.path] = sender_folder(inbox.sender_of(item.path))
    refused: list[Refusal] = []
    for res in outcome.results:
        sender = inbox.sender_of(res.path)
        kept.senders[res.path] = sender_folder(sender)
        if sender is None:
            rule_id = SENDER_UNKNOWN
        elif res.unit_code is None or may_deliver(
            sender.unit_code, res.unit_code, res.period, inbox.units, catalog.close_day
        ):
            kept.results.append(res)
            if res.path in outcome.hashes:
                kept.hashes[res.path] = outcome.hashes[res.path]
            continue
        else:
            rule_id = SENDER_NOT_AUTHORIZED
        res.issues.append(_issue(rules[rule_id], res, sender))
        res.checked[rule_id] = res.checked.get(rule_id, 0) + 1
        refused.append(Refusal(res, rule_id, sender, inbox.folder_of(res.path)))
    return kept, refused


def sender_folder(sender: Sender | None) -> str:
    """The outbox folder of a sender: its unit code (never its token), or `_unknown_sender`."""
    return sender.unit_code if sender is not None else UNKNOWN_SENDER_DIR


def write_refusals(
    outbox: str | Path, refusals: Iterable[Refusal], catalog: Catalog, lang: str = "vi"
) -> list[Path]:
    """Each refused file's report (HTML and JSON) in its *sender's* outbox folder
    (`_unknown_sender/` when there is none), never in the folder of the unit it names."""
    written: list[Path] = []
    for r in refusals:
        folder = folder_name(sender_folder(r.sender))
        stem = safe_name(
            f"{r.result.period or 'unknown'}_{Path(r.result.path).stem}_"
            f"{short_hash(r.result.path)}_refused"
        )
        done = {"status": "refused", "rule": r.rule_id}
        jpath = Path(outbox) / folder / f"{stem}.json"
        hpath = Path(outbox) / folder / f"{stem}.html"
        write_json(jpath, public_record(r.result, lang, done))
        _write_atomic(hpath, render_html(r.result, catalog, lang, warehouse=done))
        written += [jpath, hpath]
    return written
