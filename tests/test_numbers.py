"""Vietnamese number parsing: the documented rules, one table row each, plus properties."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.numbers import parse_number, parse_numbers

NAN = float("nan")

# (raw, kind, value, status, read_as)
CASES = [
    # Vietnamese convention
    ("5.100", "count", 5100, "ok", "5100"),
    ("443.000", "count", 443000, "ok", "443000"),
    ("92,86", "rate", 92.86, "ok", "92.86"),
    ("1.234.567,5", "decimal", 1234567.5, "ok", "1234567.5"),
    ("1,250", "count", 1.25, "ok", "1.25"),  # VN reading; the validator flags non-integers
    ("1.250", "count", 1250, "ok", "1250"),
    ("1.250", "rate", 1250, "ambiguous", "1250"),
    ("1.250", "decimal", 1250, "ambiguous", "1250"),
    ("1.250", "flag", 1250, "ambiguous", "1250"),
    ("100.000", "rate", 100000, "ambiguous", "100000"),
    ("1.000.000", "decimal", 1000000, "ok", "1000000"),  # several dots: one reading only
    # English forms
    ("92.86", "rate", 92.86, "ok", "92.86"),
    ("1.5", "decimal", 1.5, "ok", "1.5"),
    ("0.250", "rate", 0.25, "ok", "0.25"),  # a first group "0" is not thousands grouping
    ("1234.5", "decimal", 1234.5, "ok", "1234.5"),
    ("1,234,567.5", "decimal", 1234567.5, "ok", "1234567.5"),
    ("1,234,567", "count", 1234567, "ok", "1234567"),
    ("1,234.5", "decimal", 1234.5, "ok", "1234.5"),
    # spaces, quotes, percent signs, signs
    ("443 000", "count", 443000, "ok", "443000"),
    ("\u00a0443\u202f000\u00a0", "count", 443000, "ok", "443000"),
    ("1 234,5", "decimal", 1234.5, "ok", "1234.5"),
    ("  12  ", "count", 12, "ok", "12"),
    ('"92,86%"', "rate", 92.86, "ok", "92.86"),
    ("92,86 %", "rate", 92.86, "ok", "92.86"),
    ("92,86\uff05", "rate", 92.86, "ok", "92.86"),
    ("'0123", "count", 123, "ok", "123"),
    ("“7”", "count", 7, "ok", "7"),
    ("-9,25", "rate", -9.25, "ok", "-9.25"),
    ("\u22127,49", "rate", -7.49, "ok", "-7.49"),
    ("+5", "count", 5, "ok", "5"),
    (",5", "decimal", 0.5, "ok", "0.5"),
    ("0", "count", 0, "ok", "0"),
    # invalid
    ("abc", "count", NAN, "invalid", ""),
    ("12a", "count", NAN, "invalid", ""),
    ("1..2", "count", NAN, "invalid", ""),
    ("--1", "count", NAN, "invalid", ""),
    ("1 2 3", "count", NAN, "invalid", ""),
    ("5.", "count", NAN, "invalid", ""),
    ("1e3", "count", NAN, "invalid", ""),
    ("1.5,3", "decimal", NAN, "invalid", ""),
    ("12,34.5", "decimal", NAN, "invalid", ""),
    ("1,2,3", "count", NAN, "invalid", ""),
    ("-", "count", NAN, "invalid", ""),
    ("%", "rate", NAN, "blank", ""),
    ("\u0661\u0662", "count", NAN, "invalid", ""),  # Arabic-Indic digits
    # blanks
    ("", "count", NAN, "blank", ""),
    ("   ", "count", NAN, "blank", ""),
    (None, "count", NAN, "blank", ""),
    (NAN, "rate", NAN, "blank", ""),
    # numeric cells are taken as they are
    (1250, "count", 1250, "ok", "1250"),
    (3386.0, "count", 3386, "ok", "3386"),
    (92.86, "rate", 92.86, "ok", "92.86"),
    (1.25, "count", 1.25, "ok", "1.25"),
    (decimal.Decimal("2.5"), "decimal", 2.5, "ok", "2.5"),
    (np.int64(4), "count", 4, "ok", "4"),
    (float("inf"), "count", NAN, "too_large", ""),  # never stored: value_implausible
    ("9" * 400, "count", NAN, "too_large", ""),  # +inf as a float
    ("1" + ".000" * 110, "count", NAN, "too_large", ""),
    (True, "flag", NAN, "invalid", ""),
]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


@pytest.mark.parametrize(("raw", "kind", "value", "status", "read_as"), CASES)
def test_scalar(raw: object, kind: str, value: float, status: str, read_as: str) -> None:
    got, got_status = parse_number(raw, kind)
    assert got_status == status
    assert _same(NAN if got is None else got, value)


def test_column_matches_scalar_rules() -> None:
    raw = pd.Series([c[0] for c in CASES], dtype=object, index=range(100, 100 + len(CASES)))
    kinds = pd.Series([c[1] for c in CASES])  # aligned by position, not by index
    parsed = parse_numbers(raw, kinds)
    assert parsed.values.dtype == "float64"
    assert list(parsed.values.index) == list(raw.index)
    for (raw_item, _, value, status, read_as), v, s, r in zip(
        CASES, parsed.values, parsed.status, parsed.read_as, strict=True
    ):
        assert (s, r) == (status, read_as), raw_item
        assert _same(v, value), raw_item


@pytest.mark.parametrize(
    "raw",
    [
        pd.Series([5, 1250, None], dtype="Int64"),
        pd.Series([5.0, 1250.0, NAN]),
        pd.Series([5, 1250, None], dtype=object),
    ],
)
def test_numeric_fast_path(raw: pd.Series) -> None:
    parsed = parse_numbers(raw, pd.Series(["count"] * 3))
    assert parsed.status.tolist() == ["ok", "ok", "blank"]
    assert parsed.read_as.tolist() == ["5", "1250", ""]


def test_string_dtype_column() -> None:
    raw = pd.Series(["1.250", "92,86", None], dtype="str")
    parsed = parse_numbers(raw, pd.Series(["rate", "rate", "rate"]))
    assert parsed.status.tolist() == ["ambiguous", "ok", "blank"]
    assert parsed.read_as.tolist() == ["1250", "92.86", ""]


def test_length_mismatch() -> None:
    with pytest.raises(ValueError):
        parse_numbers(pd.Series(["1"]), pd.Series(["count", "count"]))


def test_empty_column() -> None:
    parsed = parse_numbers(pd.Series([], dtype=object), pd.Series([], dtype=object))
    assert len(parsed.values) == len(parsed.status) == len(parsed.read_as) == 0


def _vn_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=40))
def test_vietnamese_integers_roundtrip(numbers: list[int]) -> None:
    texts = pd.Series([_vn_thousands(n) for n in numbers], dtype=object)
    parsed = parse_numbers(texts, pd.Series(["count"] * len(numbers)))
    assert (parsed.status == "ok").all()
    assert parsed.values.tolist() == [float(n) for n in numbers]
    assert parsed.read_as.tolist() == [str(n) for n in numbers]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**11), min_size=1, max_size=40),
    st.sampled_from(["decimal", "rate", "count"]),
)
def test_vietnamese_decimals_roundtrip(cents: list[int], kind: str) -> None:
    texts = []
    for c in cents:
        whole, frac = divmod(c, 100)
        texts += [f"{_vn_thousands(whole)},{frac:02d}", f"{whole},{frac:02d}"]
    parsed = parse_numbers(pd.Series(texts, dtype=object), pd.Series([kind] * len(texts)))
    assert (parsed.status == "ok").all()
    expected = [c / 100 for c in cents for _ in range(2)]
    assert parsed.values.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-9)
