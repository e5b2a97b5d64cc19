"""Reading numbers written the Vietnamese way, a whole column at a time.

Vietnamese convention: "." groups thousands and "," marks decimals ("5.100" = 5100,
"443.000" = 443000, "92,86" = 92.86, "1.234.567,5" = 1234567.5). Files also carry numbers
typed the English way, so the rules below decide, for each cell, which reading applies.

Product behaviour (the README quotes this list):

1. Numeric cells (an xlsx number, an int or float) are taken as they are: status "ok".
   A missing value (None, NaN, "" or only spaces) is "blank". Booleans (Excel TRUE/FALSE),
   dates and other objects are "invalid". Every value is finite: a number too large for a
   float (a cell of 1e400, a text of 400 nines or of 110,000 digit groups) is "too_large",
   with no value (the validator refuses it as `value_implausible`, like any value above the
   indicator's ceiling).
2. Before reading a text, surrounding whitespace (including no-break, thin and zero-width
   spaces), surrounding quotes (" ' “ ” ‘ ’ « » „, also Excel's leading apostrophe) and a
   trailing percent sign (%, ％, ﹪, ٪) are removed. One leading "+" or "-" (also the
   Unicode minus "−") is allowed, directly before the digits.
3. Both "." and "," present: whichever comes last is the decimal mark and the other one
   groups thousands, which must then be groups of exactly 3 digits ("1.234.567,5" and
   "1,234,567.5" are both 1234567.5; "1.5,3" is invalid).
4. Only ",": a single "," is the decimal mark, the Vietnamese reading ("92,86" = 92.86,
   "1,250" = 1.25; for a count the validator then reports a non-integer with a hint).
   Several "," grouping by 3 ("1,234,567") can only be English thousands: 1234567.
5. Only ".": digits grouped by 3 after a first group of 1-3 digits not starting with 0
   ("1.250", "443.000", "1.234.567") are Vietnamese thousands grouping. With several "."
   there is no other reading ("ok"). With a single "." ("1.250") the English reading 1.25
   is also possible: for kind "count" the thousands reading is taken ("ok", counts are
   integers); for any other kind (decimal, rate, flag, unknown) the status is "ambiguous"
   and the value is the Vietnamese reading (1250, read_as "1250"), for the validator to
   ask the submitter. Any other single "." ("92.86", "1.5", "0.250", "1234.5") is an
   English decimal point: "ok".
6. Spaces inside a number are thousands separators only when they group by 3
   ("443 000" = 443000, "1 234,5" = 1234.5); otherwise ("1 2 3") the text is invalid.
7. Everything else is "invalid": letters ("abc", "12a", "1e3"), repeated or misplaced
   marks ("1..2", "--1", "5.", "12,34.5"), a lone "-" used for "nothing", non-ASCII digits.

`read_as` is the canonical reading shown to users: integers without separators ("1250"),
other numbers with a "." decimal point and no trailing zeros ("92.86"); "" when blank or
invalid. `parse_numbers` works on whole columns with pandas string methods (one regular
expression pass), with a fast path for columns that are already numeric.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

OK = "ok"
BLANK = "blank"
INVALID = "invalid"
AMBIGUOUS = "ambiguous"
TOO_LARGE = "too_large"
STATUSES = (OK, BLANK, INVALID, AMBIGUOUS, TOO_LARGE)

_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_PERCENT = "%\uff05\ufe6a\u066a"
_LEAD = re.compile(rf"^[\s{_INVISIBLE}{_QUOTES}]+")
_TRAIL = re.compile(rf"[\s{_INVISIBLE}{_QUOTES}{_PERCENT}]+\Z")
_INNER_SPACE = re.compile(r"\s+")
# One pass: which alternative matches tells which reading applies (rules 3 to 6 above).
_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)(?:"
    r"(?P<int>[0-9]+)"
    r"|(?P<vnfull>[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+)"
    r"|(?P<enfull>[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+)"
    r"|(?P<cdec>[0-9]*,[0-9]+)"
    r"|(?P<cgrp>[1-9][0-9]{0,2}(?:,[0-9]{3}){2,})"
    r"|(?P<dgrpm>[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,})"
    r"|(?P<dgrp1>[1-9][0-9]{0,2}\.[0-9]{3})"
    r"|(?P<ddec>[0-9]*\.[0-9]+)"
    r"|(?P<space>[1-9][0-9]{0,2}(?: [0-9]{3})+(?:[.,][0-9]+)?)"
    r")\Z"  # the end itself: "$" would also match before a final line break
)
_VN_FAMILY = ("int", "vnfull", "cdec", "dgrpm", "dgrp1")  # drop ".", "," becomes the point
_EN_FAMILY = ("enfull", "cgrp", "ddec")  # drop ","
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}


@dataclass
class ParsedNumbers:
    """The reading of a column: values, a status per item and the canonical text shown."""

    values: pd.Series  # float64, NaN where blank or invalid
    status: pd.Series  # "ok" | "blank" | "invalid" | "ambiguous" | "too_large"
    read_as: pd.Series  # canonical reading ("1250", "92.86"), "" when blank or invalid


def parse_numbers(raw: pd.Series, kinds: pd.Series) -> ParsedNumbers:
    """Read a column of raw cells; `kinds` (count|decimal|rate|flag) is aligned by position."""
    if len(kinds) != len(raw):
        raise ValueError(f"kinds has {len(kinds)} items, raw has {len(raw)}")
    n = len(raw)
    values = np.full(n, np.nan, dtype="float64")
    status = np.full(n, INVALID, dtype=object)

    if pd.api.types.is_bool_dtype(raw.dtype):
        status[raw.isna().to_numpy()] = BLANK
        return _finish(raw.index, values, status)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        _take_numeric(raw.to_numpy(dtype="float64", na_value=np.nan), values, status)
        return _finish(raw.index, values, status)

    obj = raw.astype(object)
    missing = obj.isna().to_numpy()
    status[missing] = BLANK
    inferred = pd.api.types.infer_dtype(obj, skipna=True)
    if inferred == "string":
        is_str = ~missing
        is_num = np.zeros(n, dtype=bool)
    elif inferred in _NUMERIC_INFERRED:
        is_str = np.zeros(n, dtype=bool)
        is_num = ~missing
    else:  # mixed: classify by type (a few distinct types, each tested once)
        types = [type(x) for x in obj.to_numpy()]
        classes = {t: (issubclass(t, str), _is_numeric_type(t)) for t in set(types)}
        is_str = np.fromiter((classes[t][0] for t in types), dtype=bool, count=n)
        is_num = np.fromiter((classes[t][1] for t in types), dtype=bool, count=n) & ~missing
    if is_num.any():
        num = pd.to_numeric(obj[is_num], errors="coerce").to_numpy(dtype="float64")
        sub_values = np.full(len(num), np.nan)
        sub_status = np.full(len(num), INVALID, dtype=object)
        _take_numeric(num, sub_values, sub_status)
        values[is_num] = sub_values
        status[is_num] = sub_status
    if is_str.any():
        # Parse each distinct text once: a national batch repeats the same few thousand texts.
        codes, uniques = pd.factorize(obj[is_str])
        u_values, u_status, u_one_dot = _parse_known(uniques)
        sub_status = u_status[codes]
        not_count = np.asarray(kinds, dtype=object)[is_str] != "count"
        sub_status[u_one_dot[codes] & not_count] = AMBIGUOUS
        values[is_str] = u_values[codes]
        status[is_str] = sub_status
    return _finish(raw.index, values, status)


def parse_number(raw: object, kind: str) -> tuple[float | None, str]:
    """Scalar form of `parse_numbers`, same rules: (value or None, status)."""
    parsed = parse_numbers(pd.Series([raw], dtype=object), pd.Series([kind], dtype=object))
    value = parsed.values.iloc[0]
    return (None if pd.isna(value) else float(value)), str(parsed.status.iloc[0])


def format_number(value: float) -> str:
    """The canonical reading of one number ("1250", "92.86")."""
    if value is None or not np.isfinite(value):
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _is_numeric_type(t: type) -> bool:
    if issubclass(t, (bool, np.bool_)):
        return False
    return issubclass(t, (int, float, np.integer, np.floating, decimal.Decimal))


def _take_numeric(num: np.ndarray, values: np.ndarray, status: np.ndarray) -> None:
    """Numeric cells as they are: NaN is blank, +-inf too large, the rest ok."""
    finite = np.isfinite(num)
    values[finite] = num[finite]
    status[np.isnan(num)] = BLANK
    status[np.isinf(num)] = TOO_LARGE
    status[finite] = OK


# The reading of each text seen lately (the same figures come back with every field check of
# a form and every upload of a commune): (value, status, single-dot thousands), a pure function
# of the text. Emptied when full.
_KNOWN: dict[str, tuple[float, str, bool]] = {}
_KNOWN_MAX = 200_000


def _parse_known(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_parse_strings` of distinct texts, each text parsed once per process (`_KNOWN`)."""
    texts = [str(t) for t in uniques]
    found = {t: _KNOWN.get(t) for t in texts}  # local: another thread may empty _KNOWN
    new = [t for t, k in found.items() if k is None]
    if new:
        if len(_KNOWN) + len(new) > _KNOWN_MAX:
            _KNOWN.clear()
        v, st, od = _parse_strings(pd.Series(new, dtype="str"))
        for t, a, b, c in zip(new, v.tolist(), st.tolist(), od.tolist(), strict=True):
            found[t] = _KNOWN[t] = (a, b, c)
    known = [found[t] for t in texts]
    n = len(known)
    values = np.fromiter((k[0] for k in known), dtype="float64", count=n)
    status = np.array([k[1] for k in known], dtype=object)
    one_dot = np.fromiter((k[2] for k in known), dtype=bool, count=n)
    return values, status, one_dot


def _parse_strings(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The string rules (module docstring, rules 2-7) on distinct texts.

    Returns values, status (ok | blank | invalid) and whether the single-dot thousands
    reading applied (ambiguous unless the indicator is a count).
    """
    s = text.str.replace(_LEAD, "", regex=True).str.replace(_TRAIL, "", regex=True)
    s = s.str.replace("\u2212", "-", regex=False).str.replace(_INNER_SPACE, " ", regex=True)
    n = len(text)
    values = np.full(n, np.nan, dtype="float64")
    status = np.full(n, INVALID, dtype=object)
    one_dot = np.zeros(n, dtype=bool)
    status[(s == "").to_numpy(dtype=bool)] = BLANK

    parts = s.str.extract(_NUMBER)
    matched = parts.drop(columns="sign").notna().any(axis=1).to_numpy(dtype=bool)
    if not matched.any():
        return values, status, one_dot
    parts = parts[matched]

    def family(cols: tuple[str, ...]) -> pd.Series:
        out = parts[cols[0]]
        for c in cols[1:]:
            out = out.fillna(parts[c])
        return out

    vn = family(_VN_FAMILY).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    en = family(_EN_FAMILY).str.replace(",", "", regex=False)
    sp = parts["space"].str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    canon = parts["sign"].fillna("") + vn.fillna(en).fillna(sp)
    read = pd.to_numeric(canon, errors="coerce").to_numpy(dtype="float64")
    finite = np.isfinite(read)
    values[matched] = np.where(finite, read, np.nan)
    status[matched] = np.where(finite, OK, TOO_LARGE)
    one_dot[matched] = parts["dgrp1"].notna().to_numpy(dtype=bool)
    return values, status, one_dot


def _finish(index: pd.Index, values: np.ndarray, status: np.ndarray) -> ParsedNumbers:
    # Format each distinct value once.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([""] * (len(uniques) + 1), dtype=object)  # last slot: NaN
    finite = np.isfinite(uniques)
    integral = finite & (np.abs(uniques) < 1e15)
    integral[integral] = uniques[integral] == np.trunc(uniques[integral])
    texts[:-1][integral] = uniques[integral].astype("int64").astype(str)
    other = finite & ~integral
    texts[:-1][other] = uniques[other].astype(str)  # numpy's shortest repr: "92.86"
    read_as = texts[codes]  # code -1 (NaN) takes the last slot, ""
    return ParsedNumbers(
        values=pd.Series(values, index=index, dtype="float64"),
        status=pd.Series(status, index=index, dtype="str"),
        read_as=pd.Series(read_as, index=index, dtype="str"),
    )
