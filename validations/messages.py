"""The message catalog: every sentence an error says, in Vietnamese and English, by stable code.

`validations/messages.yaml` maps a code (`approval.units_open`, `period.month_out_of_range`,
`read.file_too_large`, ...) to a Vietnamese and an English template with named parameters, and
an example parameter set (tests/test_messages.py renders every code with it in both languages).
A code never changes its meaning; a new message gets a new code.

Parameters are formatted in the language of the sentence: numbers as fmt_num writes them
("1.234", "12,5" in Vietnamese), dates as 14/06/2024 or 2024-06-14, lists joined per
language, a nested `Message` (or a TonghopError) rendered in the same language. A template
field may say how: `{n:plain}` (as is: a year, a row number), `{share:pct}`, `{keys:and}`
("a, b và c" / "a, b and c"), `{keys:or}`, `{open:semi}` ("a; b; c"), a limit after a slash
(`{open:semi/20}`: the first 20, then "và 5 mục khác" / "and 5 more"), and `{n:unit|units}`
(the English word for one or for several: Vietnamese nouns have no plural).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from validations.fmt import fmt_num, fmt_pct
from validations.yaml_source import read_yaml

CATALOG_PATH = Path(__file__).with_name("messages.yaml")
LANGS = ("vi", "en")
_JOIN = {
    "": (", ", ", "),
    "comma": (", ", ", "),
    "semi": ("; ", "; "),
    "and": (", ", {"vi": " và ", "en": " and "}),
    "or": (", ", {"vi": " hoặc ", "en": " or "}),
}
_MORE = {"vi": "và {n} mục khác", "en": "and {n} more"}


@dataclass(frozen=True)
class Message:
    """A code of the catalog and its parameters: a sentence not yet in a language."""

    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "vi") -> str:
        return render(self.reason, lang, **self.params)

    def __str__(self) -> str:
        return self.render("en")


def msg(reason: str, /, **params: Any) -> Message:
    """A Message of the catalog (a parameter of another message, a list item, a flash)."""
    return Message(reason, params)


@cache
def catalog() -> dict[str, dict[str, Any]]:
    """The catalog, checked: every entry has vi, en and an example naming each parameter."""
    data = read_yaml(CATALOG_PATH.read_text(encoding="utf-8"), CATALOG_PATH) or {}  # no code twice
    for code, entry in data.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in LANGS):
            raise ValueError(f"{CATALOG_PATH}: {code}: needs vi and en templates")
        unknown = set(entry) - {"vi", "en", "example"}
        if unknown:
            raise ValueError(f"{CATALOG_PATH}: {code}: unknown key(s) {sorted(unknown)}")
        entry.setdefault("example", {})
    return data


def known(reason: str) -> bool:
    return reason in catalog()


def fields(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def render(reason: str, lang: str = "vi", /, **params: Any) -> str:
    """The sentence of `reason` in `lang` (vi unless "en") with `params` formatted for it.
    A code missing from the catalog is shown as it is (never an error while reporting one);
    a missing parameter stays visible as {name} (tests/test_messages.py finds both)."""
    entry = catalog().get(reason)
    if entry is None:
        return reason
    lang = "en" if lang == "en" else "vi"
    return _Formatter(lang).vformat(entry[lang], (), params)


def to_plain(value: Any, lang: str = "vi") -> Any:
    """A parameter as JSON carries it: text, a number, a list, a nested message rendered."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v, lang) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Message):
        return value.render(lang)
    return str(value)


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        self.lang = lang

    def get_value(self, key: Any, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str) and key not in kwargs:
            return _Missing(key)
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        return self.one(value, format_spec)

    def one(self, value: Any, spec: str = "") -> str:
        lang = self.lang
        if isinstance(value, _Missing):
            return "{" + value.name + "}"
        if isinstance(value, Message):
            return value.render(lang)
        if isinstance(value, BaseException):
            message = getattr(value, "message", None)
            return str(message(lang)) if callable(message) else str(value)
        if spec == "plain":
            return str(value)
        if "|" in spec:
            one, many = spec.split("|", 1)
            return one if value == 1 else many
        if spec == "pct":
            return fmt_pct(value, lang)
        if isinstance(value, list | tuple | set | frozenset):
            return self.join(value, spec)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return fmt_num(value, lang)
        if isinstance(value, datetime):
            return value.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y") if lang == "vi" else value.isoformat()
        if isinstance(value, PurePath):
            return str(value)
        return str(value)

    def join(self, items: Iterable[Any], spec: str) -> str:
        style, _, limit = spec.partition("/")
        sep, last = _JOIN.get(style, _JOIN[""])
        last = last[self.lang] if isinstance(last, dict) else last
        shown = [self.one(v) for v in (sorted(items) if isinstance(items, set) else items)]
        extra = 0
        if limit.isdigit() and len(shown) > int(limit):
            extra, shown = len(shown) - int(limit), shown[: int(limit)]
        if extra:
            return sep.join(shown) + sep + _MORE[self.lang].format(n=fmt_num(extra, self.lang))
        if len(shown) < 2:
            return "".join(shown)
        return sep.join(shown[:-1]) + last + shown[-1]


@dataclass(frozen=True)
class _Missing:
    name: str

    def __format__(self, spec: str) -> str:  # pragma: no cover - format_field handles it
        return "{" + self.name + "}"
