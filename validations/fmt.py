"""Numbers and locations as people read them: '5.100', '92,86' in Vietnamese; '5,100', '92.86' in English."""

from __future__ import annotations

import math
import re


def fmt_num(value: object, lang: str = "vi", decimals: int = 2) -> str:
    """Format a number with the language's separators; integers without decimals."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "—"
    if x.is_integer() and abs(x) < 1e15:
        s = f"{int(x):,}"
    else:
        s = f"{x:,.{decimals}f}".rstrip("0").rstrip(".")
    if lang == "vi":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def fmt_pct(value: object, lang: str = "vi") -> str:
    """'92,86%'."""
    s = fmt_num(value, lang)
    return s if s == "—" else f"{s}%"


_ROW = re.compile(r"row ([0-9]+)")  # whole: fullmatch


def fmt_location(location: str | None, lang: str = "vi") -> str:
    """'row 14' -> 'Dòng 14' / 'Row 14'; a cell reference 'BaoCao!E14' is kept as is."""
    if not location:
        return ""
    m = _ROW.fullmatch(location)
    if m:
        return f"Dòng {m[1]}" if lang == "vi" else f"Row {m[1]}"
    return f"Ô {location}" if lang == "vi" else f"Cell {location}"


# Control characters, line and paragraph separators and bidi overrides: what would let a file
# name or a cell forge a line, colour a terminal or reorder what is shown.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: object) -> str:
    """Control, line-separator and bidi-override characters (a file named "a\\nb.csv") written
    as escapes, so that a message stays one line and shows what is really there."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), str(text))


def json_safe(text: str) -> str:
    """JSON text whose strings carry no raw line separator or bidi override (the encoder
    already escapes control characters below U+0020): \\u2028 stays valid JSON and inert."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
