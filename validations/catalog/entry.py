"""What a parser of one catalog entry raises when it cannot read it."""

from __future__ import annotations

from typing import Any


class EntryError(ValueError):
    """A catalog entry a parser cannot read (a rule entry of a kind, by its `parse`; the
    `localisation:` section): a code of the message catalog (validations/messages.yaml) and its
    parameters; the loader raises it as the CatalogError naming the file and the entry
    (`where`)."""

    def __init__(self, reason: str, /, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params
