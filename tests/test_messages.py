"""The message catalog: every code in both languages, and every error raised with one of them."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from validations.errors import TonghopError, os_reason
from validations.messages import LANGS, Message, catalog, fields, msg, render

CODES = sorted(catalog())
SOURCES = sorted(
    p
    for d in ("validations", "warehouse", "service", "tonghop", "flows")
    for p in (ROOT / d).rglob("*.py")
    if ".venv" not in p.parts
)
# English function words that no Vietnamese sentence needs (codes, options, file names, YAML
# keys and quoted words are taken out first).
ENGLISH = re.compile(
    r"\b(the|is|are|not|must|cannot|can|should|with|and|or|of|to|for|from|this|that|it|its|"
    r"has|have|does|was|were|be|been|please|first|then|again|which|while|needs?)\b",
    re.IGNORECASE,
)
VIETNAMESE = re.compile("[\u00c0-\u1ef9]")  # a letter with a Vietnamese accent or đ


def _example(value: Any) -> Any:
    """A YAML example parameter: {msg: code, ...} is a nested Message."""
    if isinstance(value, dict) and "msg" in value:
        rest = {k: _example(v) for k, v in value.items() if k != "msg"}
        return Message(value["msg"], rest)
    if isinstance(value, list):
        return [_example(v) for v in value]
    return value


def _params(code: str) -> dict[str, Any]:
    return {k: _example(v) for k, v in catalog()[code]["example"].items()}


@pytest.mark.parametrize("code", CODES)
def test_every_code_renders_in_both_languages(code: str) -> None:
    entry, params = catalog()[code], _params(code)
    for lang in LANGS:
        assert fields(entry[lang]) <= set(params), (code, lang, fields(entry[lang]) - set(params))
    assert fields(entry["vi"]) == fields(entry["en"]), code
    vi, en = render(code, "vi", **params), render(code, "en", **params)
    for lang, text in (("vi", vi), ("en", en)):
        # no parameter left unfilled: the only braces are the template's own {{ }}
        assert text.count("{") == entry[lang].count("{{"), (code, lang, text)
        assert text.strip() and "\n" not in text, (code, lang)
    assert vi != en, code


@pytest.mark.parametrize("code", CODES)
def test_vietnamese_templates_hold_no_english_sentence(code: str) -> None:
    vi = catalog()[code]["vi"]
    bare = re.sub(r"\{[^{}]*\}", " ", vi)  # parameters
    bare = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\([A-Z][^()]*\)", " ", bare)  # quoted, (Save As)
    bare = re.sub(
        r"(?<!\w)-{1,2}[a-z][\w-]*|\b\w+_\w+\b|\b[\w.]+\.(py|sql|yaml|xlsx|csv)\b", " ", bare
    )
    assert not ENGLISH.search(bare), (code, ENGLISH.search(bare), vi)
    words = re.findall(r"[^\W\d_]{2,}", bare)
    assert not words or VIETNAMESE.search(bare), (code, vi)


def test_parameters_are_formatted_in_the_language_of_the_sentence() -> None:
    params = {"unit": "12", "period": "2024-06", "count": 2}
    params["open"] = [
        msg("approval.open.district_not_approved", unit=f"{n:03d}") for n in range(25)
    ]
    vi = render("approval.units_open", "vi", **params)
    en = render("approval.units_open", "en", **params)
    assert "huyện 000: chưa phê duyệt; huyện 001" in vi and "và 5 mục khác" in vi
    assert "2 units below it" in en and "district 019: not approved; and 5 more" in en
    assert "1 unit below" in render("approval.units_open", "en", **{**params, "count": 1})
    assert render("read.too_many_rows", "vi", name="a.csv", limit=5000).count("5.000") == 1
    assert "5,000" in render("read.too_many_rows", "en", name="a.csv", limit=5000)
    assert "(5,2 MB, tối đa 5 MB)" in render(
        "read.file_too_large", "vi", name="a", size=5.2, limit=5.0
    )
    on = date(2025, 8, 14)
    assert "14/08/2025" in render("rollup.unit_not_on", "vi", unit="105", closing=on, period="x")
    assert "2025-08-14" in render("rollup.unit_not_on", "en", unit="105", closing=on, period="x")
    assert "area hoặc equal" in render(
        "crosswalk.unknown_rule", "vi", rule="x", rules=["a", "area", "equal"]
    )
    # a parameter forgotten at a raise site stays visible; an unknown code is shown as it is
    assert "{month}" in render("period.month_out_of_range", "en", text="2024-13")
    assert render("no.such.code", "vi") == "no.such.code"


def test_an_error_says_its_message_in_both_languages_and_pickles() -> None:
    import pickle

    from validations.period import PeriodError, parse_period
    from warehouse.rollup import RollupError

    with pytest.raises(PeriodError) as info:
        parse_period("2024-13")
    exc = info.value
    assert (exc.reason, exc.params, exc.error_code()) == (
        "period.month_out_of_range",
        {"text": "2024-13", "month": 13},
        "period",
    )
    assert str(exc) == "'2024-13': month 13 does not exist" == exc.message("en")
    assert exc.message("vi") == "'2024-13': không có tháng 13"
    assert exc.to_dict("vi") == {
        "status": "error",
        "code": "period",
        "reason": "period.month_out_of_range",
        "params": {"text": "2024-13", "month": 13},
        "message": "'2024-13': không có tháng 13",
    }
    back = pickle.loads(pickle.dumps(exc))
    assert (type(back), back.message("vi")) == (PeriodError, exc.message("vi"))
    # an error wrapped by another keeps its words, under the wrapper's category
    wrapped = RollupError(exc.reason, **exc.params)
    assert wrapped.error_code() == "rollup" and wrapped.message("vi") == exc.message("vi")
    nested = RollupError("usage.portal_settings", detail=exc)
    assert "không có tháng 13" in nested.message("vi") and "month 13" in str(nested)
    assert os_reason(PermissionError(13, "Permission denied")).render("vi") == "không có quyền"


# --- every raise site names a code of the catalog ---------------------------------------------
def _error_classes() -> dict[str, type[TonghopError]]:
    import tonghop.cli  # noqa: F401  (imports every shell's error classes)
    import tonghop.portal.app  # noqa: F401
    import validations.template  # noqa: F401
    import warehouse.approval  # noqa: F401
    import warehouse.export  # noqa: F401
    import warehouse.quality  # noqa: F401
    import warehouse.rollup  # noqa: F401
    import warehouse.staging  # noqa: F401
    import warehouse.store  # noqa: F401
    import warehouse.summary  # noqa: F401

    out: dict[str, type[TonghopError]] = {}
    todo: list[type[TonghopError]] = [TonghopError]
    while todo:
        cls = todo.pop()
        out[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return out


def _literals(node: ast.AST) -> list[str] | None:
    """The codes a reason argument may be: a literal, or a choice between literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        a, b = _literals(node.body), _literals(node.orelse)
        return None if a is None or b is None else a + b
    return None


def _sites() -> list[tuple[str, int, str, ast.Call]]:
    """(file, line, class, call) of every construction of a TonghopError class, of msg() and
    Message(), and of the CLI's _fail()."""
    names = set(_error_classes()) | {"msg", "Message", "_fail", "err"}
    out = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else None
                if name in names and (node.args or node.keywords):
                    out.append((str(path.relative_to(ROOT)), node.lineno, name, node))
    return out


def test_every_raise_site_names_a_code_of_the_catalog_with_its_parameters() -> None:
    bad = []
    for file, line, name, call in _sites():
        args = call.args[1:] if name == "ReadError" else call.args
        if name == "Message" and not args:
            continue
        reason = args[0] if args else None
        where = f"{file}:{line} {name}"
        if reason is None:
            bad.append(f"{where}: no code")
            continue
        if isinstance(reason, ast.JoinedStr | ast.BinOp) or (
            isinstance(reason, ast.Call) and getattr(reason.func, "id", "") in ("str", "one_line")
        ):
            bad.append(f"{where}: a sentence, not a code of the catalog")
            continue
        codes = _literals(reason)
        if codes is None:
            if isinstance(reason, ast.Name | ast.Subscript) or (
                isinstance(reason, ast.Attribute) and reason.attr == "reason"
            ):
                continue  # a name, a table's entry, exc.reason: their literals are checked below
            bad.append(f"{where}: not a code of the catalog ({ast.unparse(reason)})")
            continue
        given = {k.arg for k in call.keywords}
        if name == "Message" and len(args) > 1 and isinstance(args[1], ast.Dict):
            given = {k.value for k in args[1].keys if isinstance(k, ast.Constant)}
        for code in codes:
            if code not in catalog():
                bad.append(f"{where}: '{code}' is not in validations/messages.yaml")
            elif None not in given:  # no **params
                missing = fields(catalog()[code]["en"]) - given
                if missing:
                    bad.append(f"{where}: '{code}' misses {sorted(missing)}")
    assert not bad, "\n".join(bad)


def _file_or_module(text: str) -> bool:
    """'summary.html', 'warehouse.rollup': a file name or a module, not a code."""
    import importlib.util

    if re.search(
        r"\.(zip|html|xlsx|docx|csv|md|json|sql|py|yaml|duckdb|parquet|secret|sqlite|txt|log|lock)$",
        text,
    ):
        return True
    try:
        return importlib.util.find_spec(text) is not None
    except ModuleNotFoundError:
        return False


def test_every_code_of_the_catalog_is_used_and_every_code_used_exists() -> None:
    prefixes = {c.split(".")[0] for c in CODES}
    shape = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
    used: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                s = node.value
                if shape.match(s) and s.split(".")[0] in prefixes and not _file_or_module(s):
                    used.add(s)
    assert not sorted(used - set(CODES)), "codes used but not in the catalog"
    assert not sorted(set(CODES) - used), "codes in the catalog that nothing uses"


def test_every_error_class_has_a_stable_category() -> None:
    classes = _error_classes()
    codes = {cls.code for cls in classes.values()}
    for code in ("catalog", "inbox_manifest", "period", "warehouse", "warehouse_locked",
                 "staging", "store", "rollup", "approval", "summary", "export", "output",
                 "file_access", "unreadable", "usage", "not_found", "account", "delivery"):  # fmt: skip
        assert code in codes, code
    # every code of the catalog starts with the category of an error, or is a part of one
    parts = {"os", "read", "approval", "inbox_manifest", "upload", "file_access", "portal"}
    parts.add("reform")  # validations.reform's sentence, raised by the rollup, summary, CLI
    assert {c.split(".")[0] for c in CODES} <= codes | parts


def test_the_catalog_file_is_sorted_by_module_and_every_entry_has_an_example_when_it_needs_one() -> (
    None
):
    for code in CODES:
        entry = catalog()[code]
        assert fields(entry["en"]) <= set(entry["example"]), code
    text = Path(ROOT / "validations" / "messages.yaml").read_text(encoding="utf-8")
    assert len(re.findall(r"^[a-z_]+(?:\.[a-z0-9_]+)+:$", text, re.M)) == len(CODES)
