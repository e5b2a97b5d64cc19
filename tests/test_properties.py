"""Property-based tests (hypothesis).

1. Any reformatting a real office produces of a valid commune report (separator, encoding,
   Vietnamese numbers, padding, CRLF, quoting, column order, Vietnamese headers, period
   spellings, stripped leading zeros, NFD notes) reads to the same unit, period, values and
   notes as the canonical file, with the same (no) errors; and any text given as a number
   reads to a status, never an exception.
2. Rollups over random hierarchies (real Lai Châu districts and communes, random subsets
   reporting, random values) equal a naive recomputation: sums, ratio-of-sums rates (never an
   average of rates), the change vs the previous year's figure, flag counts and shares, at
   the district and at the province.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import itertools
import math
import random
import tempfile
import unicodedata
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_warehouse_support import CATALOG, UNITS, warehouse

from conftest import ROOT
from validations.numbers import STATUSES, parse_numbers
from validations.readers import ReadError
from warehouse.rollup import consolidate, preview, rollup
from warehouse.staging import write_staging
from warehouse.store import load_batch

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

_spec = importlib.util.spec_from_file_location(
    "generate", ROOT / "sample_submissions" / "generate.py"
)
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)  # type: ignore[union-attr]

DAY = date(2024, 6, 14)
PROVINCE = "12"
DISTRICTS = [u.code for u in UNITS.children(PROVINCE, DAY)]
COMMUNES = {d: [u.code for u in UNITS.children(d, DAY)] for d in DISTRICTS}
ALL_COMMUNES = [c for d in DISTRICTS for c in COMMUNES[d]]
NOTES = [
    "",
    "Ghi chú: đã xác minh",
    'Số liệu từ Công an xã, "ước tính"',
    "Tăng 2 người; giảm 1\tso với tháng trước",
    "Đường dài 1.250 m, rộng 3,5 m",
    '=HYPERLINK("http://evil.example","x")',
]
VI_HEADER = ["Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị", "Ghi chú"]
EN_HEADER = ["unit_code", "period", "indicator", "value", "note"]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --- 1. reformatting a valid report ----------------------------------------------------------------
@st.composite
def reports(draw):
    """A valid commune report: real unit, values from the sample generator's own model."""
    commune = draw(st.sampled_from(ALL_COMMUNES))
    month = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    vals = generate.own_record("C", rng, parent=False, stable=random.Random(seed + 1))
    if draw(st.booleans()):  # numbers that need a thousands separator or decimals
        vals["propaganda_sessions"] = draw(st.integers(1, 40))
        vals["propaganda_participants"] = vals["propaganda_sessions"] * draw(st.integers(1, 1900))
        vals["poppy_destroyed_m2"] = draw(st.integers(0, 2_000_000)) / 10
    vals = generate.with_rates(vals, CATALOG, "C")
    rows = generate.rows_for(commune, f"2024-{month:02d}", vals, CATALOG)
    notes = draw(st.lists(st.sampled_from(NOTES), min_size=len(rows), max_size=len(rows)))
    for r, n in zip(rows, notes, strict=True):
        r[4] = n
    return rows


@st.composite
def formats(draw):
    return {
        "sep": draw(st.sampled_from([",", ";", "\t"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1258", "utf-16"])),
        "vn_numbers": draw(st.booleans()),
        "pad": draw(st.sampled_from(["", " ", "  ", "\u00a0"])),
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
        "quote_all": draw(st.booleans()),
        "order": draw(st.permutations(range(5))),
        "vi_header": draw(st.booleans()),
        "period": draw(st.sampled_from(["{y}-{m:02d}", "{m}/{y}", "T{m}/{y}", "{y}-{m}"])),
        "unit": draw(st.sampled_from(["{u}", "{s}", "{s}.0"])),  # leading zeros stripped
        "nfd": draw(st.booleans()),
    }


def write(rows: list[list[str]], fmt: dict, path: Path, raw: bool = False) -> None:
    """`rows` in the format `fmt`; with `raw`, unit and period cells are written as given."""
    buf = io.StringIO()
    w = csv.writer(
        buf,
        delimiter=fmt["sep"],
        lineterminator=fmt["newline"],
        quoting=csv.QUOTE_ALL if fmt["quote_all"] else csv.QUOTE_MINIMAL,
    )
    order = fmt["order"]
    header = VI_HEADER if fmt["vi_header"] else EN_HEADER
    w.writerow([header[i] for i in order])
    pad = fmt["pad"]
    for u, p, ind, v, note in rows:
        y, m = p.split("-") if not raw else ("0", "0")
        cells = [
            u if raw else fmt["unit"].format(u=u, s=u.lstrip("0")),
            p if raw else fmt["period"].format(y=int(y), m=int(m)),
            ind,
            generate.vn_number(v) if fmt["vn_numbers"] else v,
            unicodedata.normalize("NFD", note) if fmt["nfd"] else note,
        ]
        cells = [f"{pad}{c}{pad}" if c else c for c in cells]
        w.writerow([cells[i] for i in order])
    text = buf.getvalue()
    enc = fmt["encoding"]
    path.write_bytes(to_cp1258(text) if enc == "cp1258" else text.encode(enc))


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Word/Excel write it: a letter cp1258 lacks is its largest encodable
    precomposed base plus combining marks ("ệ" is "ê" + dot below). (The sample generator's
    helper composes marks in canonical order only and cannot encode "ệ".)"""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for order in itertools.permutations(marks):
            head, rest = base, list(order)
            while rest and len(c := unicodedata.normalize("NFC", head + rest[0])) == 1:
                try:
                    c.encode("cp1258")
                except UnicodeEncodeError:
                    break
                head, rest = c, rest[1:]
            try:
                out.append((head + "".join(rest)).encode("cp1258"))
                break
            except UnicodeEncodeError:
                continue
        else:
            raise UnicodeEncodeError("cp1258", ch, 0, 1, "no cp1258 spelling")
    return b"".join(out)


def reading(res) -> tuple:
    v = res.values
    return (
        res.unit_code,
        res.period,
        dict(zip(v["indicator"], v["value"], strict=True)),
        {
            i: unicodedata.normalize("NFC", n)
            for i, n in zip(v["indicator"], v["note"], strict=True)
        },
        sorted(i.rule_id for i in res.errors),
    )


@SETTINGS
@given(rows=reports(), fmt=formats())
def test_any_reformatting_reads_to_the_same_values(validator, rows, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        canon = Path(tmp) / "canon.csv"
        write(rows, _CANON, canon)
        expected = reading(validator.validate_file(canon))
        assert expected[4] == [], expected[4]  # the generator's reports are valid
        messy = Path(tmp) / "messy.csv"
        write(rows, fmt, messy)
        try:
            got = reading(validator.validate_file(messy))
        except ReadError as exc:  # a refusal is allowed only as a clean sentence...
            assert exc.message_en and "\n" not in exc.message_en
            raise AssertionError(f"refused a valid reformatting: {exc.message_en}") from exc
        assert got == expected  # ...but none of these reformattings deserves one


_CANON = {
    "sep": ",",
    "encoding": "utf-8",
    "vn_numbers": False,
    "pad": "",
    "newline": "\n",
    "quote_all": False,
    "order": (0, 1, 2, 3, 4),
    "vi_header": False,
    "period": "{y}-{m:02d}",
    "unit": "{u}",
    "nfd": False,
}


# Spellings of one period and one unit that real files mix row by row, and of another one.
SAME_PERIOD = [
    "{y}-{m:02d}",
    "{m}/{y}",
    "T{m}/{y}",
    "{y}-{m}",
    "{m:02d}/{y}",
    "{y}/{m:02d}",
    "tháng {m}/{y}",
    " {y}-{m:02d} ",
]
SAME_UNIT = ["{u}", "{s}", "{s}.0", " {u}", "{u} "]


@SETTINGS
@given(
    rows=reports(),
    periods=st.lists(st.sampled_from(SAME_PERIOD), min_size=60, max_size=60),
    units=st.lists(st.sampled_from(SAME_UNIT), min_size=60, max_size=60),
    other=st.sampled_from([None, "period", "unit", "both"]),
    where=st.integers(0, 200),
    sep=st.sampled_from([",", ";"]),
)
def test_any_mix_of_spellings_gives_the_same_values_or_one_clear_error(
    validator, rows, periods, units, other, where, sep
):
    """Each row writes the period and the unit in its own spelling: the file reads to the
    canonical values; or, when a row names another period or unit (in any spelling), the one
    error is file_several_submissions and it names what differs."""
    y, m = (int(x) for x in rows[0][1].split("-"))
    u = rows[0][0]
    mixed = []
    for i, r in enumerate(rows):
        mixed.append(
            [
                units[i % 60].format(u=u, s=u.lstrip("0")),
                periods[i % 60].format(y=y, m=m),
                *r[2:],
            ]
        )
    k = where % len(mixed)
    other_period = f"{m % 12 + 1}/{y}" if m < 12 else f"1/{y + 1}"
    other_unit = next(c for c in ALL_COMMUNES if c != u).lstrip("0")
    if other in ("period", "both"):
        mixed[k][1] = other_period
    if other in ("unit", "both"):
        mixed[k][0] = other_unit
    with tempfile.TemporaryDirectory() as tmp:
        canon, messy = Path(tmp) / "canon.csv", Path(tmp) / "messy.csv"
        write(rows, _CANON, canon)
        write(mixed, _CANON | {"sep": sep, "period": "{p}", "unit": "{u}"}, messy, raw=True)
        expected = reading(validator.validate_file(canon))
        res = validator.validate_file(messy)
    if other is None:
        assert reading(res) == expected
        assert res.n_values == len(rows)
        return
    assert [i.rule_id for i in res.issues] == ["file_several_submissions"], [
        i.message_en for i in res.issues
    ]
    message = res.issues[0].message_en
    if other in ("period", "both"):
        assert f"'{other_period}'" in message
    if other in ("unit", "both"):
        assert f"'{other_unit}'" in message


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.one_of(st.text(max_size=20), st.from_regex(r"[ +\-−]?[0-9., ]{1,15}%?", fullmatch=True)),
        min_size=1,
        max_size=30,
    ),
    kind=st.sampled_from(["count", "decimal", "rate", "flag"]),
)
def test_any_text_reads_to_a_status_never_an_exception(texts, kind):
    raw = pd.Series(texts, dtype=object)
    parsed = parse_numbers(raw, pd.Series([kind] * len(texts), dtype=object))
    assert set(parsed.status) <= set(STATUSES)
    ok = parsed.status.isin(["ok", "ambiguous"])
    assert parsed.values[ok].map(math.isfinite).all()
    assert parsed.values[~ok].isna().all()


@SETTINGS
@given(
    n=st.integers(0, 10**12),
    cents=st.integers(0, 99),
    lead=st.sampled_from(["", " ", "'", "\u00a0", '"']),
)
def test_vietnamese_and_english_groupings_read_to_the_same_number(n, cents, lead):
    vn_int = generate.vn_number(str(n))
    en_int = f"{n:,}"
    vn_dec = generate.vn_number(f"{n}.{cents:02d}")
    en_dec = f"{n:,}.{cents:02d}"
    raw = pd.Series([lead + t + lead for t in (vn_int, en_int, vn_dec, en_dec)], dtype=object)
    parsed = parse_numbers(raw, pd.Series(["count", "count", "decimal", "decimal"], dtype=object))
    want = [float(n), float(n), n + cents / 100, n + cents / 100]
    for text, got, status, w in zip(raw, parsed.values, parsed.status, want, strict=True):
        if text.strip(" '\"\u00a0") == en_int and "," in en_int and en_int.count(",") == 1:
            assert status == "ok" and got == n / 1000  # "1,250": the comma is decimal (documented)
            continue
        assert status in ("ok", "ambiguous") and math.isclose(got, w, rel_tol=1e-12), (text, got)


# --- 2. rollups equal a naive recomputation -------------------------------------------------------------
PAIRS = [  # (whole, part): every reporting commune sends both, as accepted reports do
    ("crime_cases", "crime_solved"),
    ("reports_received", "reports_resolved"),
    ("hotspots_total", "hotspots_transformed"),
    ("residential_areas", "residential_areas_safe"),
    ("released_prisoners", "reoffenders"),
]
SUMS = [c for pair in PAIRS for c in pair] + ["crime_cases_prev", "poppy_destroyed_m2"]
RATES = [
    i for i in CATALOG.rates() if i.numerator in SUMS and i.denominator in SUMS and "C" in i.levels
]
FLAG = "drug_free_commune"
_WAREHOUSES = tempfile.mkdtemp(prefix="tonghop-properties-")  # this session's template lives here


@st.composite
def hierarchies(draw):
    """Some districts of Lai Châu, some of their communes reporting, random values."""
    districts = draw(st.lists(st.sampled_from(DISTRICTS), min_size=1, max_size=3, unique=True))
    reports: dict[str, dict[str, float]] = {}
    for d in districts:
        for c in draw(st.lists(st.sampled_from(COMMUNES[d]), max_size=6, unique=True)):
            v: dict[str, float] = {}
            for whole, part in PAIRS:
                v[whole] = draw(st.integers(0, 5000))
                v[part] = draw(st.integers(0, int(v[whole])))
            v["crime_cases_prev"] = draw(st.integers(0, 5000))
            if draw(st.booleans()):  # an optional figure not every commune sends
                v["poppy_destroyed_m2"] = draw(st.integers(0, 10**7)) / 10
            if draw(st.booleans()):
                v[FLAG] = draw(st.sampled_from([0, 1]))
            reports[c] = v
    return districts, reports


def naive(reports: dict[str, dict[str, float]], communes: list[str]) -> dict[str, float | None]:
    """Straight from the communes' figures, the way a steward would on paper."""
    mine = [reports[c] for c in communes if c in reports]
    out: dict[str, float | None] = {}
    for code in SUMS:
        have = [r[code] for r in mine if code in r]
        out[code] = math.fsum(have) if have else None
    for ind in RATES:
        n, d = out[ind.numerator], out[ind.denominator]
        if n is None or not d:
            out[ind.code] = None
        elif ind.formula == "change":
            out[ind.code] = 100 * (n - d) / d
        else:
            out[ind.code] = 100 * n / d
    flags = [r[FLAG] for r in mine if FLAG in r]
    out[FLAG] = float(sum(flags)) if flags else None
    out[FLAG + ":share"] = 100 * sum(flags) / len(flags) if flags else None
    return out


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or math.isnan(a)) and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def check(df: pd.DataFrame, want: dict[str, float | None], where: str) -> None:
    got = {r.indicator: r for r in df.itertuples()}
    for code, w in want.items():
        if code.endswith(":share"):
            r = got.get(code.split(":")[0])
            g = None if r is None else r.share
        else:
            r = got.get(code)
            g = None if r is None else r.value
            if r is not None and w is not None:
                assert r.source == "children", (where, code)
        assert close(g, w), (where, code, g, w)


@SETTINGS
@given(h=hierarchies())
def test_rollups_equal_a_naive_recomputation(h):
    districts, reports = h
    results = []
    for c, v in reports.items():
        res = _result(c, v)
        results.append(res)
    with tempfile.TemporaryDirectory(dir=_WAREHOUSES) as tmp:
        con = warehouse(Path(tmp))  # a copy of the migrated template in _WAREHOUSES
        try:
            if results:
                hashes = {r.path: f"h:{r.path}" for r in results}
                load_batch(con, write_staging(results, Path(tmp) / "st", "b", hashes))
            for d in districts:
                check(preview(con, "2024-06", d, CATALOG, UNITS), naive(reports, COMMUNES[d]), d)
            if reports:
                consolidate(con, "2024-06", PROVINCE, CATALOG, UNITS)  # districts first
                prov = rollup(con, "2024-06", PROVINCE)
                check(prov, naive(reports, ALL_COMMUNES), PROVINCE)
                stored = con.execute(
                    "SELECT indicator, value, share, source FROM fct_rollup"
                    " WHERE unit_code = ? AND period = '2024-06'",
                    [PROVINCE],
                ).df()
                check(stored, naive(reports, ALL_COMMUNES), PROVINCE + " (stored)")
        finally:
            con.close()


def _result(commune: str, values: dict[str, float]):
    from test_warehouse_support import result

    return result(commune, "2024-06", values, path=f"{commune}.csv")
