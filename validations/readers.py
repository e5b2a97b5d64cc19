"""Reading one submission file (CSV or XLSX) into raw rows, refusing what cannot be read.

The reader does not judge values: it returns every data row as written (codes tidied, text
NFC-normalised) with where it came from; the validator parses numbers and applies the rules.
A file that cannot be read at all raises `ReadError` with one sentence in Vietnamese and one
in English that names the file (its own name, never its folder) and says what to do, and a
stable code (READ_ERROR_CODES).

Formats are detected by content, not by name: a zip archive (PK\\x03\\x04) is read as an
Excel workbook, an OLE2 file (D0 CF 11 E0: old .xls or a password-protected workbook) is
refused with "save as .xlsx", anything else must be CSV text. The extension is read as the
sender meant it (trailing spaces and dots ignored): .xls/.xlsm/.xlsb/.ods are refused, other
extensions than .csv/.txt/.xlsx too, and a name without one is read by its content.

CSV: long format with a header `unit_code, period, indicator, value[, note]` (case and
spaces ignored; Vietnamese aliases ma_don_vi, ky_bao_cao / ky, ma_chi_tieu / chi_tieu,
gia_tri / so_lieu, ghi_chu, with or without accents). Separator ",", ";" or tab, chosen from
the header line (kept in `RawSubmission.separator`). Cells beyond the header's columns are not
dropped: they are kept in the row's `extra` cell for the validator to report (an unquoted
"2,5" in a comma file splits in two). Encodings, in this order: UTF-8 with BOM ("utf-8-sig"),
UTF-16 with BOM (Excel "Unicode text"), UTF-8, TCVN3 (ABC, the .VnTime fonts' 8-bit encoding: detected,
then converted with the TCVN 5712:1993 table, or refused when TCVN3_CONVERT is False),
otherwise Windows-1258 ("cp1258"). Text is NFC-normalised (cp1258 and TCVN3 carry combining
tone marks). UTF-16 without a BOM has NUL bytes and is refused as binary.

TCVN3 detection: after a failed UTF-8 decode, count the bytes that TCVN3 uses for frequent
Vietnamese letters but that are symbols in cp1258 (0xA1-0xAE: ă â ê ô ơ ư đ and capitals;
0xB5-0xB9: à ả ã á ạ; 0xBB-0xBE: ằ ẳ ẵ ắ) standing in letter positions (next to a letter
or another high byte). Genuine cp1258 Vietnamese never has ¨ ª ¬ µ ¶ · ¸ ¹ inside a word;
« » © ® do occur next to words there (quotes, marks), so they only count as supporting
evidence. The file is TCVN3 when at least one strong and two signals in all are found and
they are at least a fifth of the high bytes in words. Known limit of TCVN3 itself: capitals
with tone marks were typed with the .VnTimeH fonts using the lowercase codes, so they come
out lowercase.

XLSX: the form written by `validations.template`, on a *visible* sheet (a hidden or veryHidden
sheet holding a form header makes the workbook ambiguous: refused, "hidden_sheet"): the header
row is found by its text ("Mã chỉ tiêu" and "Số liệu", within the first HEADER_SEARCH_ROWS
rows, sheet "BaoCao" first), the unit code and the period by their labels ("Mã đơn vị", "Kỳ
báo cáo") above it: the value is the first non-empty cell to the right of the label. Rows
without an indicator code (group headings, blank rows) are ignored. Formulas are never
evaluated: the formula text is returned with value None. A period cell that Excel stored as a
number is returned as its text ("2024.1") for the validator to read, or refuse when ambiguous.

Limits (everything runs in bounded time and memory):
- MAX_FILE_BYTES: larger files are refused from `stat`, before reading a byte.
- MAX_XLSX_UNCOMPRESSED, MAX_COMPRESSION_RATIO: checked from the zip directory before
  openpyxl opens the file (zip bombs); decompression never exceeds the declared sizes.
- MAX_ROWS: data rows per file; MAX_SHEET_ROWS, MAX_SHEET_COLS: how much of a sheet is read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import stat
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from validations.errors import TonghopError, os_reason
from validations.units import fold

MAX_FILE_BYTES = 5 * 1024 * 1024  # one unit's report for one period is a few kB
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # sum of the sizes declared in the zip directory
MAX_COMPRESSION_RATIO = 100  # per zip entry, for entries over 1 MiB uncompressed
MAX_ROWS = 5000  # data rows per file
MAX_SHEET_ROWS = 20_000  # physical rows of a sheet that are read
MAX_SHEET_COLS = 30  # columns of a sheet that are read
HEADER_SEARCH_ROWS = 50  # the header row of a form must be within these rows
FORM_SHEET = "BaoCao"
# TCVN3 text is converted with the TCVN 5712:1993 table (True) or refused, asking for a
# CSV UTF-8 export (False).
TCVN3_CONVERT = True

# `extra`: a CSV row's cells beyond the header's columns, joined by the separator ("" when none).
COLUMNS = ["unit_code", "period", "indicator", "value", "note", "location", "formula", "extra"]
OBJECT_COLUMNS = ("value", "formula")  # cells as read (text, numbers, None); the rest are text
REQUIRED_CSV = ("unit_code", "period", "indicator", "value")
CSV_ALIASES = {  # folded header text -> canonical column
    "unitcode": "unit_code",
    "madonvi": "unit_code",
    "period": "period",
    "kybaocao": "period",
    "ky": "period",
    "indicator": "indicator",
    "machitieu": "indicator",
    "chitieu": "indicator",
    "value": "value",
    "giatri": "value",
    "solieu": "value",
    "note": "note",
    "ghichu": "note",
}
# In the form, "Chỉ tiêu" is the label column: only the code column is the indicator.
XLSX_HEADERS = {
    "machitieu": "indicator",
    "indicator": "indicator",
    "solieu": "value",
    "giatri": "value",
    "value": "value",
    "ghichu": "note",
    "note": "note",
}
XLSX_LABELS = {"madonvi": "unit_code", "unitcode": "unit_code", "kybaocao": "period"}

_OLE2 = b"\xd0\xcf\x11\xe0"
_ZIP = b"PK\x03\x04"
_TEXT_EXT = {".csv", ".txt"}
_OLD_EXCEL_EXT = {".xls", ".xlsm", ".xlsb", ".ods"}
_EXCEL_FLOAT = re.compile(r"([0-9]+)\.0+")  # whole: fullmatch
_STRIP = " \t\r\n\f\v\u00a0\u2007\u2009\u202f\u200b\u200c\u200d\u2060\ufeff"

# TCVN 5712:1993 (VN1), bytes 0x80-0xFF, as in glibc's TCVN5712-1 charmap. TCVN3 (ABC) is
# its subset VN3 (lowercase letters at 0xA8-0xFE, Ă Â Ê Ô Ơ Ư Đ at 0xA1-0xA7).
_TCVN_HIGH = (
    "\u00c0\u1ea2\u00c3\u00c1\u1ea0\u1eb6\u1eac\u00c8\u1eba\u1ebc\u00c9\u1eb8\u1ec6\u00cc\u1ec8\u0128"
    "\u00cd\u1eca\u00d2\u1ece\u00d5\u00d3\u1ecc\u1ed8\u1edc\u1ede\u1ee0\u1eda\u1ee2\u00d9\u1ee6\u0168"
    "\u00a0\u0102\u00c2\u00ca\u00d4\u01a0\u01af\u0110\u0103\u00e2\u00ea\u00f4\u01a1\u01b0\u0111\u1eb0"
    "\u0300\u0309\u0303\u0301\u0323\u00e0\u1ea3\u00e3\u00e1\u1ea1\u1eb2\u1eb1\u1eb3\u1eb5\u1eaf\u1eb4"
    "\u1eae\u1ea6\u1ea8\u1eaa\u1ea4\u1ec0\u1eb7\u1ea7\u1ea9\u1eab\u1ea5\u1ead\u00e8\u1ec2\u1ebb\u1ebd"
    "\u00e9\u1eb9\u1ec1\u1ec3\u1ec5\u1ebf\u1ec7\u00ec\u1ec9\u1ec4\u1ebe\u1ed2\u0129\u00ed\u1ecb\u00f2"
    "\u1ed4\u1ecf\u00f5\u00f3\u1ecd\u1ed3\u1ed5\u1ed7\u1ed1\u1ed9\u1edd\u1edf\u1ee1\u1edb\u1ee3\u00f9"
    "\u1ed6\u1ee7\u0169\u00fa\u1ee5\u1eeb\u1eed\u1eef\u1ee9\u1ef1\u1ef3\u1ef7\u1ef9\u00fd\u1ef5\u1ed0"
)
# VN1 also puts capitals with tone marks on C0 control codes (never used by TCVN3/ABC).
_TCVN_LOW = {
    0x01: "\u00da",
    0x02: "\u1ee4",
    0x04: "\u1eea",
    0x05: "\u1eec",
    0x06: "\u1eee",
    0x11: "\u1ee8",
    0x12: "\u1ef0",
    0x13: "\u1ef2",
    0x14: "\u1ef6",
    0x15: "\u1ef8",
    0x16: "\u00dd",
    0x17: "\u1ef4",
}
TCVN3_TABLE: dict[int, str] = {0x80 + i: ch for i, ch in enumerate(_TCVN_HIGH)} | _TCVN_LOW
# Bytes of frequent TCVN3 letters that are symbols in cp1258 (¡-¨ ª ¬ SHY µ-¹ ¼-¾), and the
# ones that also occur around words in genuine cp1258 text (© « ® »), in letter positions.
_W = rb"[A-Za-z\x80-\xff]"
_S = rb"[\xa1-\xa8\xaa\xac\xad\xb5-\xb9\xbc-\xbe]"
_TCVN_STRONG_RE = re.compile(rb"(?<=" + _W + rb")" + _S + rb"|" + _S + rb"(?=" + _W + rb")")
# « » © ® count only inside a word; "®" also at the start of one (TCVN3's đ: "®·" = đã).
_TCVN_WEAK_RE = re.compile(rb"(?<=" + _W + rb")[\xa9\xab\xbb](?=" + _W + rb")|\xae(?=" + _W + rb")")
_HIGH_IN_WORD_RE = re.compile(rb"(?<=" + _W + rb")[\x80-\xff]|[\x80-\xff](?=" + _W + rb")")


class ReadError(TonghopError):
    """A file that cannot be read as a submission: a code of the message catalog naming the
    file (its own name, never the folder it sits in) and what to do, in Vietnamese and English.
    Its JSON `code` says why (one of READ_ERROR_CODES): the second part of the message's code
    ("read.old_excel.extension" -> "old_excel")."""

    code = "unreadable"

    def __init__(self, path: str, reason: str = "", /, **params: Any):
        super().__init__(reason, **params)
        self.args = (path, reason)  # pickled with its parameters (flows move exceptions)
        self.path = path
        parts = reason.split(".")
        self.instance_code = parts[1] if len(parts) > 1 and parts[0] == "read" else "unreadable"

    @property
    def message_vi(self) -> str:
        return self.message("vi")

    @property
    def message_en(self) -> str:
        return self.message("en")

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {
            "file": Path(self.path).name,
            "status": "unreadable",
            "code": self.instance_code,
            "reason": self.reason,
            "message": self.message(lang),
            "issues": [],
        }


# Why a file is unreadable: the stable codes of ReadError (JSON `code`, outbox `_unreadable`).
READ_ERROR_CODES = (
    "file_not_found",
    "file_unreadable",
    "not_a_file",
    "symlink",
    "file_too_large",
    "file_empty",
    "old_excel",
    "extension_not_accepted",
    "xlsx_corrupt",
    "xlsx_too_large",
    "xml_entities",
    "not_a_form",
    "hidden_sheet",
    "form_label_missing",
    "json_not_csv",
    "html_not_csv",
    "binary",
    "damaged_utf8",
    "tcvn3",
    "csv_malformed",
    "csv_duplicate_column",
    "csv_columns_missing",
    "no_rows",
    "too_many_rows",
)


@dataclass
class RawSubmission:
    """The rows of one file as written, with where each came from."""

    path: str
    file_format: str  # "csv" | "xlsx"
    encoding: str | None  # detected text encoding for CSV; None for xlsx
    # COLUMNS -> one list of cells per column. Plain lists, not a DataFrame per file: a batch
    # of 10,000 files is put into one frame at once by the validator.
    columns: dict[str, list[Any]]
    unit_location: str | None = None  # xlsx: the cell holding the unit code ("BaoCao!D4")
    period_location: str | None = None
    separator: str | None = None  # CSV: the field separator found in the header line
    sha256: str | None = None  # of the bytes read (validations.intake.file_hash's digest)

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The rows as a DataFrame with columns COLUMNS (built on first use)."""
        return _frame(self.columns)


def read_submission(path: str | Path) -> RawSubmission:
    """Read a CSV or XLSX submission; raise ReadError when it cannot be read."""
    p = Path(path)
    name = p.name
    try:
        st = p.stat()
        size = st.st_size
    except OSError as exc:
        raise ReadError(str(p), "read.file_not_found", name=name) from exc
    if not stat.S_ISREG(st.st_mode):
        what = "read.not_a_file.folder" if p.is_dir() else "read.not_a_file.special"
        raise ReadError(str(p), what, name=name)
    if size > MAX_FILE_BYTES:
        raise too_large(str(p), size)
    if size == 0:
        raise _empty(p)
    try:
        data = p.read_bytes()  # read once: what is checked is what is hashed
    except OSError as exc:
        raise ReadError(str(p), "read.file_unreadable", name=name, reason=os_reason(exc)) from exc
    head = data[:8]
    ext = extension(name)
    if head.startswith(_OLE2):
        raise ReadError(str(p), "read.old_excel", name=name)
    if ext in _OLD_EXCEL_EXT:
        raise ReadError(str(p), "read.old_excel.extension", name=name, ext=ext)
    if ext and ext not in _TEXT_EXT | {".xlsx"}:
        raise ReadError(str(p), "read.extension_not_accepted", name=name, ext=ext)
    digest = hashlib.sha256(data).hexdigest()
    if head.startswith(_ZIP):
        return replace(_read_xlsx(p, data), sha256=digest)
    if ext == ".xlsx":
        raise ReadError(str(p), "read.xlsx_corrupt", name=name)
    return replace(_read_csv(p, data), sha256=digest)


def read_csv_bytes(name: str, data: bytes) -> RawSubmission:
    """The CSV text `data` read as the file `name` holding those bytes would be (the portal's
    web form checks its values as the canonical CSV it will submit, without a file)."""
    if len(data) > MAX_FILE_BYTES:
        raise too_large(name, len(data))
    if not data:
        raise _empty(Path(name))
    return replace(_read_csv(Path(name), data), sha256=hashlib.sha256(data).hexdigest())


def too_large(
    path: str, size: int | None, limit: int | None = None, reason: str = "read.file_too_large"
) -> ReadError:
    """The refusal of a file over `limit` bytes, saying the size that was sent ("57,2 MB"),
    or "more than" the limit when that size is not known (an upload cut off at the limit) or
    would read as the limit itself once rounded (5 MB and a few bytes). An xlsx whose parts
    expand beyond MAX_XLSX_UNCOMPRESSED is said the same way (`reason` read.xlsx_too_large)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    name = Path(path).name
    if size is None or _mb(size) <= _mb(limit):
        return ReadError(path, _SIZE_UNSAID[reason], name=name, limit=_mb(limit))
    return ReadError(path, reason, name=name, size=_mb(size), limit=_mb(limit))


# the message that says "more than the limit" when the size itself cannot be said
_SIZE_UNSAID = {
    "read.file_too_large": "read.file_too_large.over",
    "read.xlsx_too_large": "read.xlsx_too_large.over",
}


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(p: Path, data: bytes) -> RawSubmission:
    name = p.name
    text, encoding = _decode(p, data)
    start = text.lstrip(_STRIP)
    if not start:
        raise _empty(p)
    if start[0] in "{[":
        raise ReadError(str(p), "read.json_not_csv", name=name)
    if start[0] == "<":
        raise ReadError(str(p), "read.html_not_csv", name=name)
    sep = _sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[list[str]] = []  # the data rows' cells, cleaned
    lines: list[int] = []  # the physical line where each of them starts
    header: list[str] | None = None
    columns: dict[str, int] = {}
    last_line = 0
    try:
        for cells in reader:
            line = last_line + 1
            last_line = reader.line_num
            stripped = [_clean(c) for c in cells]
            if not any(stripped):
                continue
            if header is None:
                header = stripped
                columns = _csv_columns(p, header)
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows(p)
            rows.append(stripped)
            lines.append(line)
    except csv.Error as exc:
        raise ReadError(
            str(p), "read.csv_malformed", name=name, line=reader.line_num, detail=str(exc)
        ) from exc
    if header is None:
        raise _empty(p)
    if not rows:
        raise _no_rows(p)
    return RawSubmission(
        str(p), "csv", encoding, _csv_cells(rows, lines, columns, len(header), sep), separator=sep
    )


def _decode(p: Path, data: bytes) -> tuple[str, str]:
    """Text and encoding name; see the module docstring for the order of the guesses."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return _nfc(data[len(codecs.BOM_UTF8) :].decode("utf-8")), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _binary(p) from exc
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise _binary(p)  # UTF-32 (its BOM starts like UTF-16's): not what Excel writes
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _binary(p) from exc
        if "\x00" in text:
            raise _binary(p)
        return _nfc(text), "utf-16"
    controls = sum(data.count(bytes([b])) for b in (*range(0, 9), *range(14, 26), *range(27, 32)))
    if b"\x00" in data or controls > len(data) // 100:
        raise _binary(p)
    try:
        return _nfc(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    if looks_like_damaged_utf8(data):
        raise ReadError(str(p), "read.damaged_utf8", name=p.name, at=bad_at)
    if looks_like_tcvn3(data):
        if TCVN3_CONVERT:
            return decode_tcvn3(data), "tcvn3"
        raise ReadError(str(p), "read.tcvn3", name=p.name)
    try:
        return _nfc(data.decode("cp1258")), "cp1258"
    except UnicodeDecodeError as exc:
        raise _binary(p) from exc


def looks_like_tcvn3(data: bytes) -> bool:
    """Whether 8-bit text that is not UTF-8 is TCVN3 (ABC) rather than cp1258."""
    strong = len(_TCVN_STRONG_RE.findall(data))
    if not strong:
        return False
    signals = strong + len(_TCVN_WEAK_RE.findall(data))
    high = len(_HIGH_IN_WORD_RE.findall(data))
    return signals >= 2 and signals * 5 >= high


def decode_tcvn3(data: bytes) -> str:
    """TCVN3 (ABC) bytes to NFC Unicode text."""
    return _nfc(data.decode("latin-1").translate(TCVN3_TABLE))


def _sniff_separator(text: str) -> str:
    for line in io.StringIO(text, newline=""):
        if line.strip(_STRIP):
            counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
            best = max(counts, key=lambda s: counts[s])
            return best if counts[best] else ","
    return ","


_HEADERS: dict[tuple[str, ...], dict[str, int]] = {}  # headers already read, and their columns


def _csv_columns(p: Path, header: list[str]) -> dict[str, int]:
    known = _HEADERS.get(tuple(header))
    if known is not None:
        return known
    columns: dict[str, int] = {}
    for idx, text in enumerate(header):
        canon = CSV_ALIASES.get(fold(text))
        if canon is None:
            continue  # unknown or empty (trailing) columns are ignored
        if canon in columns:
            raise ReadError(
                str(p),
                "read.csv_duplicate_column",
                name=p.name,
                column=canon,
                first=_shorten(header[columns[canon]]),
                second=_shorten(text),
            )
        columns[canon] = idx
    missing = [c for c in REQUIRED_CSV if c not in columns]
    if missing:
        found = _shorten(", ".join(h for h in header if h))
        raise ReadError(
            str(p),
            "read.csv_columns_missing" if found else "read.csv_columns_missing.none_found",
            name=p.name,
            missing=missing,
            found=found,
        )
    if len(_HEADERS) < 1000:
        _HEADERS[tuple(header)] = columns
    return columns


def _csv_cells(
    rows: list[list[str]], lines: list[int], columns: dict[str, int], width: int, sep: str
) -> dict[str, list[Any]]:
    """The data rows as one list per column of COLUMNS (RawSubmission.columns)."""

    def column(name: str) -> list[str]:
        idx = columns.get(name)
        if idx is None:
            return [""] * len(rows)
        return [r[idx] if idx < len(r) else "" for r in rows]

    codes = column("unit_code")
    as_written = {c: _unit_code(c) for c in set(codes)}
    return {
        "unit_code": [as_written[c] for c in codes],
        "period": column("period"),
        "indicator": [c.lower() for c in column("indicator")],
        "value": [c or None for c in column("value")],
        "note": column("note"),
        "location": [f"row {line}" for line in lines],
        "formula": [None] * len(rows),
        "extra": [_beyond(r, width, sep) if len(r) > width else "" for r in rows],
    }


def _beyond(cells: list[str], width: int, sep: str) -> str:
    """Cells beyond the header (a "2,5" left unquoted in a comma file splits in two): kept for
    the validator, which reports the row; trailing empty cells (Excel's ",,,") are nothing."""
    beyond = cells[width:]
    while beyond and not beyond[-1]:
        beyond.pop()
    return sep.join(beyond)


# --- XLSX ------------------------------------------------------------------------------------


def _read_xlsx(p: Path, data: bytes) -> RawSubmission:
    """The form in the workbook `p` whose bytes (read once, and hashed) are `data`."""
    _check_zip(p, data)
    from openpyxl import load_workbook  # imported here: CSV-only runs do not pay for it

    # A file object, not the path: openpyxl would refuse a workbook not named .xlsx.
    with io.BytesIO(data) as fh:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
                wb = load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # untrusted input: openpyxl fails in many ways on broken files
            raise _corrupt(p, exc) from exc
        try:
            # Only a visible sheet is the form: a hidden or "veryHidden" sheet that holds a form
            # (figures nobody sees in Excel) makes the workbook ambiguous, and it is refused.
            names = [n for n in wb.sheetnames if wb[n].sheet_state == "visible"]
            for sheet in wb.sheetnames:
                if sheet not in names and _has_form_header(wb[sheet]):
                    raise _hidden_sheet(p, sheet)
            order = [FORM_SHEET] if FORM_SHEET in names else []
            order += [n for n in names if n != FORM_SHEET]
            for sheet in order:
                found = _read_form_sheet(p, wb[sheet], sheet)
                if found is not None:
                    return found
        except ReadError:
            raise
        except Exception as exc:  # broken XML inside an otherwise valid zip
            raise _corrupt(p, exc) from exc
        finally:
            wb.close()
    raise ReadError(str(p), "read.not_a_form", name=p.name, sheet=FORM_SHEET)


def _check_zip(p: Path, data: bytes) -> None:
    """Refuse truncated archives and zip bombs from the zip directory, before openpyxl."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _corrupt(p, exc) from exc
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise too_large(str(p), total, MAX_XLSX_UNCOMPRESSED, "read.xlsx_too_large")
    for i in infos:  # under the total, one part may still expand a hundredfold (a zip bomb)
        if i.file_size > 1024 * 1024 and i.file_size > MAX_COMPRESSION_RATIO * max(
            i.compress_size, 1
        ):
            raise ReadError(
                str(p),
                "read.xlsx_too_large.ratio",
                name=p.name,
                part=_shorten(i.filename, 100),
                size=_mb(i.file_size),
                ratio=i.file_size // max(i.compress_size, 1),
                limit=MAX_COMPRESSION_RATIO,
            )
    if not any(i.filename == "xl/workbook.xml" for i in infos):
        raise _corrupt(p, None)
    if _declares_entities(p, data, infos):
        raise ReadError(str(p), "read.xml_entities", name=p.name)


def _declares_entities(p: Path, data: bytes, infos: list[zipfile.ZipInfo]) -> bool:
    """A <!DOCTYPE or <!ENTITY in the head of an XML part (entity bombs, external entities).

    Only the first 4 kB of each part are read: a DTD must come before the root element, and a
    prolog padded beyond that is still bounded by the XML parser's own amplification limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as fh:
                        if _DTD.search(fh.read(4096)):
                            return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error) as exc:
        raise _corrupt(p, exc) from exc
    return False


def _read_form_sheet(p: Path, ws: Any, sheet: str) -> RawSubmission | None:
    """The form's rows from one sheet, or None if the sheet has no form header."""
    from openpyxl.utils import get_column_letter

    ref = sheet if re.fullmatch(r"[A-Za-z0-9_]+", sheet) else "'" + sheet.replace("'", "''") + "'"
    labels: dict[str, tuple[Any, str]] = {}  # unit_code/period -> (value, location)
    columns: dict[str, int] | None = None
    header_row = 0
    records: list[dict[str, Any]] = []
    for row_no, row in _rows(ws):
        if columns is None:
            if row_no > HEADER_SEARCH_ROWS:
                return None
            columns = _xlsx_header(row)
            if columns is not None:
                header_row = row_no
                continue
            _xlsx_labels(row, row_no, ref, labels, get_column_letter)
            continue
        if row_no > MAX_SHEET_ROWS:
            if any(c.value not in (None, "") for c in row):
                raise _too_many_rows(p)
            break
        code = _cell_text(_at(row, columns["indicator"]))
        if not code:
            continue
        if len(records) >= MAX_ROWS:
            raise _too_many_rows(p)
        vcell = _at(row, columns["value"])
        value, formula = _cell_value(vcell)
        note = _cell_text(_at(row, columns["note"])) if "note" in columns else ""
        col = get_column_letter(columns["value"] + 1)
        records.append(
            {
                "unit_code": "",
                "period": "",
                "indicator": code.lower(),
                "value": value,
                "note": note,
                "location": f"{ref}!{col}{row_no}",
                "formula": formula,
                "extra": "",
            }
        )
    if columns is None:
        return None
    for key in ("unit_code", "period"):
        if key not in labels:
            label = "Mã đơn vị" if key == "unit_code" else "Kỳ báo cáo"
            raise ReadError(
                str(p), "read.form_label_missing", name=p.name, label=label, row=header_row
            )
    if not records:
        raise _no_rows(p)
    unit_raw, unit_loc = labels["unit_code"]
    period_raw, period_loc = labels["period"]
    unit_code = _unit_code(_scalar_text(unit_raw))
    period = _period_text(period_raw)
    for r in records:
        r["unit_code"] = unit_code
        r["period"] = period
    return RawSubmission(
        str(p),
        "xlsx",
        None,
        _columns(records),
        unit_location=unit_loc or None,
        period_location=period_loc or None,
    )


def _has_form_header(ws: Any) -> bool:
    """Whether a sheet has the form's header row within its first HEADER_SEARCH_ROWS rows."""
    for row_no, row in _rows(ws):
        if row_no > HEADER_SEARCH_ROWS:
            return False
        if _xlsx_header(row) is not None:
            return True
    return False


def _rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    # The sheet's <dimension> is written by whatever made the file and may be stale or forged:
    # read-only openpyxl would stop there and silently drop the rows below it.
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    yield from enumerate(ws.iter_rows(min_row=1, max_col=MAX_SHEET_COLS), start=1)


def _at(row: tuple[Any, ...], idx: int) -> Any:
    return row[idx] if idx < len(row) else None


def _xlsx_header(row: tuple[Any, ...]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for idx, c in enumerate(row):
        if isinstance(c.value, str):
            canon = XLSX_HEADERS.get(fold(c.value))
            if canon and canon not in columns:
                columns[canon] = idx
    return columns if "indicator" in columns and "value" in columns else None


def _xlsx_labels(
    row: tuple[Any, ...], row_no: int, ref: str, labels: dict[str, tuple[Any, str]], letter: Any
) -> None:
    for idx, c in enumerate(row):
        if not isinstance(c.value, str):
            continue
        key = XLSX_LABELS.get(fold(c.value))
        if key is None or key in labels:
            continue
        labels[key] = (None, "")
        for j in range(idx + 1, len(row)):
            v = row[j].value
            if v is not None and not (isinstance(v, str) and not v.strip(_STRIP)):
                labels[key] = (v, f"{ref}!{letter(j + 1)}{row_no}")
                break


def _cell_value(cell: Any) -> tuple[Any, str | None]:
    """(value, formula): a formula is returned as text, never evaluated."""
    if cell is None or cell.value is None:
        return None, None
    v = cell.value
    if cell.data_type == "f" or not isinstance(v, (str, int, float, date, datetime)):
        text = getattr(v, "text", None) or str(v)  # ArrayFormula / DataTableFormula
        return None, text if text.startswith("=") else "=" + text
    if isinstance(v, str):
        v = _clean(v)
        return (v or None), None
    return v, None


def _cell_text(cell: Any) -> str:
    return "" if cell is None else _scalar_text(cell.value)


def _scalar_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _clean(str(v))


def _period_text(v: Any) -> str:
    """Excel turns a typed "2024-06" into a date: give the month back."""
    if isinstance(v, (date, datetime)):
        return f"{v.year}-{v.month:02d}"
    return _scalar_text(v)


# --- shared ----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    if text.isascii():  # most cells: NFC changes nothing, skip it
        return text.strip(_STRIP)
    return unicodedata.normalize("NFC", text).strip(_STRIP)


def extension(name: str) -> str:
    """The extension as the sender meant it, lower case ("" for none): trailing spaces and
    dots, which Windows drops without a word ("report.csv "), are ignored."""
    return Path(name.rstrip(_STRIP + ".") or name).suffix.lower()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _unit_code(text: str) -> str:
    """Kept as written, except Excel's float form "3386.0" -> "3386" (padding is later)."""
    m = _EXCEL_FLOAT.fullmatch(text)
    return m[1] if m else text


def _columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {col: [r[col] for r in records] for col in COLUMNS}


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for col in COLUMNS:
        data[col] = pd.Series(columns[col], dtype=object if col in OBJECT_COLUMNS else "str")
    return pd.DataFrame(data, columns=COLUMNS)


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def looks_like_damaged_utf8(data: bytes) -> bool:
    """Not valid UTF-8, yet nearly every non-ASCII byte belongs to a well-formed UTF-8 sequence:
    a UTF-8 file with a few damaged bytes (decoding it as cp1258 or TCVN3 would silently turn
    every accented letter into garbage)."""
    seqs = _UTF8_SEQ.findall(data)
    high = sum(data.count(bytes([b])) for b in range(0x80, 0x100))
    return len(seqs) >= 3 and sum(map(len, seqs)) >= 0.9 * high


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + f"… (+{len(text) - limit})"


def _mb(n: int) -> float:
    """A size in MB (as Windows counts them, 2^20 bytes) with one decimal, formatted by the
    message in its language ("5,2 MB")."""
    return round(n / 1024 / 1024, 1)


def _empty(p: Path) -> ReadError:
    return ReadError(str(p), "read.file_empty", name=p.name)


def _no_rows(p: Path) -> ReadError:
    return ReadError(str(p), "read.no_rows", name=p.name)


def _too_many_rows(p: Path) -> ReadError:
    return ReadError(str(p), "read.too_many_rows", name=p.name, limit=MAX_ROWS)


def _binary(p: Path) -> ReadError:
    return ReadError(str(p), "read.binary", name=p.name)


def _hidden_sheet(p: Path, sheet: str) -> ReadError:
    return ReadError(
        str(p), "read.hidden_sheet", name=p.name, sheet=_shorten(sheet, 40), form_sheet=FORM_SHEET
    )


def _corrupt(p: Path, exc: BaseException | None) -> ReadError:
    return ReadError(
        str(p),
        "read.xlsx_corrupt.detail" if exc is not None else "read.xlsx_corrupt",
        name=p.name,
        detail=type(exc).__name__,
    )
