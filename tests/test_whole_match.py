"""Every value checked by a pattern is checked whole (issue 23, item 6).

`re.match(r"^...$")` accepts a final line break ("$" matches before it): a user name, a catalog
code, an inbox token or a batch id ending in "\\n" passed its check and then forged a line, a
folder or a key. The checks use `re.fullmatch` (or `\\Z`), and a digit is an ASCII digit where
a code is made of digits ("²".isdigit() is True). A scan of the sources keeps it so."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT
from validations.catalog import CatalogError, load_catalog

SOURCES = sorted(
    p
    for d in ("validations", "warehouse", "service", "tonghop", "flows")
    for p in (ROOT / d).rglob("*.py")
    if ".venv" not in p.parts
)


def _patterns(tree: ast.AST) -> list[tuple[int, str]]:
    """The literal patterns given to re.compile / re.match / re.search / re.fullmatch."""
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in ("compile", "match", "search", "fullmatch")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def test_no_pattern_of_the_sources_ends_in_a_dollar():
    """A pattern anchored with "$" accepts a final line break: write it for re.fullmatch, or
    end it with \\Z."""
    found = []
    for path in SOURCES:
        for line, pattern in _patterns(ast.parse(path.read_text(encoding="utf-8"))):
            if re.search(r"(?<!\\)\$\)*$", pattern):
                found.append(f"{path.relative_to(ROOT)}:{line}: {pattern!r}")
    assert not found, "\n".join(found)


def test_no_bare_re_match_checks_a_value():
    """`re.match(p, text)` checks only a prefix: a check of a whole value is re.fullmatch."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr == "match"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


# --- the values themselves --------------------------------------------------------------------
@pytest.mark.parametrize("end", ["\n", "\r\n", " ", "\u2028", "\x00"])
def test_a_catalog_code_with_a_line_break_or_a_space_is_refused(tmp_path, end):
    from validations.catalog import DEFAULT_CATALOG

    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    escaped = end.encode("unicode_escape").decode("ascii")
    bad = text.replace("- id: duplicate_value", f'- id: "duplicate_value{escaped}"', 1)
    assert bad != text
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    assert "lower_snake_case" in str(err.value) and "\n" not in err.value.message("vi")


@pytest.mark.parametrize("end", ["\n", " ", "\u2028"])
def test_an_inbox_token_with_a_line_break_is_refused(tmp_path, end):
    from validations.authority import AuthorityError, Inbox
    from validations.units import load_units

    token = "k7QpXw2M9rT4vB8nY3cL" + end.encode("unicode_escape").decode("ascii")
    (tmp_path / "manifest.yaml").write_text(f'tokens:\n  "{token}": "03386"\n', encoding="utf-8")
    with pytest.raises(AuthorityError) as err:
        _ = Inbox(tmp_path, load_units()).tokens
    assert err.value.reason == "inbox_manifest.token_form"


@pytest.mark.parametrize("batch", ["b2024-06\n", "b 1", "b1\u2028", "../b1"])
def test_a_batch_id_is_checked_whole(tmp_path, batch):
    from warehouse.staging import StagingError, write_staging

    with pytest.raises(StagingError):
        write_staging([], tmp_path, batch, {})
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("text", "shown"),
    [("row 12", "Dòng 12"), ("row 12\n", "Ô row 12\\n"), ("row 1x", "Ô row 1x")],
)
def test_a_location_is_a_row_only_when_it_is_one(text, shown):
    from validations.fmt import fmt_location, one_line

    assert one_line(fmt_location(text)) == shown


@pytest.mark.parametrize("raw", ["0338²", "３３８６", "٣٣٨٦"])
def test_a_unit_code_is_made_of_ascii_digits(raw):
    from validations.units import load_units

    assert load_units().pad(raw) == []
    assert load_units().pad("3386") == ["03386"]


def test_a_snapshot_folder_ignores_a_file_named_by_another_digit(tmp_path):
    from warehouse.snapshot import _generations

    for name in ("3.duckdb", "².duckdb", "12.duckdb", "x.duckdb"):
        (tmp_path / name).write_bytes(b"")
    assert _generations(tmp_path) == [3, 12]
