"""Where a catalog entry is, and what is raised when it cannot be read.

Every refusal of a catalog names the file, the line (where YAML gave it: validations.yaml_source
keeps each mapping's and each key's start mark), the entry and the key, in one sentence:
"tinh.yaml, dòng 12: indicators 'cyber_fraud_cases': valid_from phải là ngày YYYY-MM-DD, không
phải '2025-13-01'". `at` makes the first part (a message of the catalog, so that "line" is said
in the user's language); `Spot` makes it for one entry and any of its keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validations.errors import TonghopError
from validations.messages import Message
from validations.yaml_source import mark_of


class CatalogError(TonghopError, ValueError):
    """The catalog file is invalid; the message names the file, the line, the entry, the key."""


class EntryError(ValueError):
    """A catalog entry a parser cannot read (a rule entry of a kind, by its `parse`; the
    `localisation:` section): a code of the message catalog (validations/messages.yaml) and its
    parameters; the loader raises it as the CatalogError naming the file and the entry
    (`where`)."""

    def __init__(self, reason: str, /, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params
        self.key: str | None = None  # the entry's key it is about (the line named)

    def on(self, key: str) -> EntryError:
        """The same error, about this key of the entry."""
        self.key = self.key or key
        return self


Where = Message | str


def at(path: str | Path, line: int | None = None, entry: str = "") -> Where:
    """'tinh.yaml, line 12: indicators 'x'' in the user's language; without a line, the file
    and the entry as they are."""
    if line is None:
        return f"{path}: {entry}" if entry else str(path)
    return Message(
        "catalog.at" if entry else "catalog.at_line",
        {"path": str(path), "line": line, "entry": entry},
    )


class Spot:
    """Where one entry of a catalog (or one of its keys) is: `spot()` the entry, `spot(key)` the
    line of that key (a provincial catalog's key in its own file, an included one's in the
    national file), `spot.inner(key)` a mapping under it ("indicators 'x': target")."""

    def __init__(self, value: Any, name: str, path: str | Path, mark: Any = None) -> None:
        self.value = value
        self.name = name
        self.path = str(path)
        self.mark = mark_of(value) or mark

    def __call__(self, *keys: Any) -> Where:
        """The entry, on the line of the first of `keys` it holds; of two keys that contradict
        each other (min and max), the one written in the entry's own file (a provincial
        catalog's, over the national one it includes)."""
        marks = [mark_of(self.value, k) for k in keys if k is not None and _holds(self.value, k)]
        own = self.mark[0] if self.mark else None
        mark = next((m for m in marks if m and m[0] == own), marks[0] if marks else None)
        path, line = mark or self.mark or (self.path, None)
        return at(path, line, self.name)

    def inner(self, key: str) -> Spot:
        value = self.value.get(key) if isinstance(self.value, dict) else None
        name = f"{self.name}: {key}" if self.name else key
        return Spot(value, name, self.path, mark_of(self.value, key) or self.mark)


def _holds(value: Any, key: Any) -> bool:
    try:
        return isinstance(value, dict) and key in value
    except TypeError:  # an unhashable key: not one of the entry's
        return False
