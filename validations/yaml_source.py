"""YAML read strictly, for the files people edit: the catalog, a report's profile, the messages.

PyYAML's SafeLoader keeps the last of two equal keys of one mapping without a word (a key given
twice: the first value silently lost), and an impossible date (`valid_from: 2025-13-01`) ends
in a ValueError from deep inside its constructor. `StrictLoader`, a subclass of libyaml's
CSafeLoader (10x faster than the pure-Python one, when installed), refuses the first as
`KeyTwice`, naming the line of both keys and the entry that holds them, and keeps the second
as its text, for the reader's own check to name (a date field says "not a date").

Every mapping it builds is a `Located` dict: it remembers the file and the line where it, and
each of its keys, was written (node start marks), so that a check made long after the YAML was
read (a provincial catalog merged over the national one) still names the file and the line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# the keys that name an entry of a list ("indicators[3] 'crime_cases'")
IDENTS = ("code", "id", "indicator")

Mark = tuple[str, int]  # (file, line counted from 1)


class KeyTwice(ValueError):
    """A key given twice in one mapping: where (file, line of the second), the key, the line of
    the first, and the entry holding them ("indicators[3] 'crime_cases'", "" for the top)."""

    def __init__(self, path: str, line: int, key: str, first: int, entry: str) -> None:
        super().__init__(f"{path}, line {line}: {entry}: the key '{key}' is given twice")
        self.path, self.line, self.key, self.first, self.entry = path, line, key, first, entry


class Located(dict):  # type: ignore[type-arg]
    """A mapping read from YAML, with where it and each of its keys were written."""

    __slots__ = ("mark", "marks", "index")

    def __init__(
        self, *args: Any, mark: Mark | None = None, index: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.mark: Mark | None = mark
        self.marks: dict[Any, Mark] = {}
        self.index = index  # its position in the list holding it, counted from 1

    def mark_of(self, key: Any = None) -> Mark | None:
        """Where `key` was written (where the mapping starts when it has no such key)."""
        if key is not None and key in self.marks:
            return self.marks[key]
        return self.mark

    def over(self, other: Any) -> Located:
        """This mapping's keys over `other`'s, each still marked where it was written (a
        provincial catalog's entry over the national one it overrides)."""
        out = Located(mark=self.mark, index=self.index)
        if isinstance(other, dict):
            out.update(other)
            if isinstance(other, Located):
                out.marks.update(other.marks)
        out.update(self)
        out.marks.update(self.marks)
        return out

    def __reduce__(self) -> Any:  # pickles as a plain dict (worker processes, Dask)
        return (dict, (dict(self),))


def mark_of(value: Any, key: Any = None) -> Mark | None:
    """Where a value (or one of its keys) was written, when it was read by StrictLoader."""
    return value.mark_of(key) if isinstance(value, Located) else None


class StrictLoader(_BASE):  # type: ignore[misc,valid-type]
    """A safe loader that refuses a key given twice and keeps impossible dates as text."""

    def __init__(self, stream: Any, path: str | Path = "<text>") -> None:
        super().__init__(stream)
        self.path = str(path)
        self._parents: dict[int, tuple[yaml.Node, str | int]] = {}

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        self._index(node)
        return self.construct_document(node)

    def _index(self, root: yaml.Node) -> None:
        """Each node's parent and its key or position: what names an entry in a message."""
        todo, seen = [root], {id(root)}
        while todo:
            node = todo.pop()
            if isinstance(node, yaml.MappingNode):
                children: Iterator[tuple[yaml.Node, str | int]] = (
                    (v, str(k.value) if isinstance(k, yaml.ScalarNode) else "?")
                    for k, v in node.value
                )
            elif isinstance(node, yaml.SequenceNode):
                children = ((v, i) for i, v in enumerate(node.value))
            else:
                continue
            for child, how in children:
                if id(child) not in seen:
                    seen.add(id(child))
                    self._parents[id(child)] = (node, how)
                    todo.append(child)

    def entry_of(self, node: yaml.Node) -> str:
        """'indicators[3] 'crime_cases'', 'calendar: deadline_days', '' (the top mapping)."""
        steps: list[str] = []
        while id(node) in self._parents:
            parent, how = self._parents[id(node)]
            if isinstance(how, int):
                name = _ident(node)
                steps.append(f"[{how + 1}]" + (f" '{name}'" if name else ""))
            else:
                steps.append(how)
            node = parent
        out = ""
        for step in reversed(steps):
            out = out + step if step.startswith("[") else f"{out}: {step}" if out else step
        return out

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue  # `<<: *base`: its keys are meant to be overridden
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:  # unhashable: the base class names it
                    continue
                line = key_node.start_mark.line + 1
                if seen is not None:
                    raise KeyTwice(self.path, line, _shown(key), seen, self.entry_of(node))
                first[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_located_map(self, node: yaml.MappingNode) -> Iterator[Located]:
        parent = self._parents.get(id(node))
        index = parent[1] + 1 if parent and isinstance(parent[1], int) else None
        data = Located(mark=(self.path, node.start_mark.line + 1), index=index)
        yield data
        data.update(self.construct_mapping(node))
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            with contextlib.suppress(TypeError):  # unhashable: construct_mapping named it
                data.marks[key] = (self.path, key_node.start_mark.line + 1)

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or a time; an impossible one (2025-13-01, 2025-02-30) stays its text."""
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError:
            return self.construct_scalar(node)


StrictLoader.add_constructor(_MAP, StrictLoader.construct_located_map)
StrictLoader.add_constructor(_TIMESTAMP, StrictLoader.construct_lenient_timestamp)


def _ident(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if (
                isinstance(k, yaml.ScalarNode)
                and k.value in IDENTS
                and isinstance(v, yaml.ScalarNode)
            ):
                return str(v.value)[:60]
    return None


def _shown(key: Any) -> str:
    return str(key)[:60]


def read_yaml(text: str, path: str | Path = "<text>") -> Any:
    """The YAML document of `text` (read from `path`), strictly: KeyTwice for a key given
    twice in one mapping; yaml.YAMLError for text that is not YAML."""
    loader = StrictLoader(text, path)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
