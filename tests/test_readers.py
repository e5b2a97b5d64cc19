"""Reading submissions: every messy variant of one canonical CSV reads to the same rows;
every file that cannot be read is refused with a ReadError naming it."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import pickle
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from conftest import SAMPLES
from validations import readers
from validations.catalog import load_catalog
from validations.numbers import parse_numbers
from validations.readers import (
    COLUMNS,
    READ_ERROR_CODES,
    TCVN3_TABLE,
    ReadError,
    decode_tcvn3,
    extension,
    looks_like_tcvn3,
    read_submission,
)
from validations.template import write_template
from validations.units import load_units

NOTE = "Ghi chú: đã xác minh"
HEADER = ["unit_code", "period", "indicator", "value", "note"]
CANONICAL = [
    ["03386", "2024-06", "crime_cases", "1.250", NOTE],
    ["03386", "2024-06", "crime_solved", "1.161", ""],
    ["03386", "2024-06", "crime_clearance_rate", "92,86", ""],
    ["03386", "2024-06", "drug_free_commune", "1", "Xã đạt tiêu chí"],
]


def _csv_text(
    rows: list[list[str]] | None = None,
    *,
    header: list[str] = HEADER,
    sep: str = ",",
    eol: str = "\n",
    cell: Callable[[str], str] = lambda s: s,
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=eol)
    w.writerow(header)
    for r in CANONICAL if rows is None else rows:
        w.writerow([cell(c) for c in r])
    return buf.getvalue()


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed where it exists, else base + combining tone."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        for i, mark in enumerate(marks):
            try:
                composed = unicodedata.normalize("NFC", base + mark).encode("cp1258")
                out += composed + (marks[:i] + marks[i + 1 :]).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += d.encode("cp1258")
    return bytes(out)


_TO_TCVN3 = {ch: code for code, ch in TCVN3_TABLE.items() if code >= 0xA1}


def _tcvn3(text: str) -> bytes:
    return bytes(
        ord(c) if ord(c) < 0x80 else _TO_TCVN3[c] for c in unicodedata.normalize("NFC", text)
    )


def _write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return p


def _normalised(rows: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows compared across variants: unit code padded, values parsed."""
    catalog = load_catalog()
    units = load_units()
    kinds = rows["indicator"].map(lambda c: catalog.indicators[c].kind)
    parsed = parse_numbers(rows["value"], kinds)
    padded = [(units.pad(u) or [u])[0] for u in rows["unit_code"]]
    return list(
        zip(padded, rows["period"], rows["indicator"], parsed.read_as, rows["note"], strict=True)
    )


EXPECTED = [
    ("03386", "2024-06", "crime_cases", "1250", NOTE),
    ("03386", "2024-06", "crime_solved", "1161", ""),
    ("03386", "2024-06", "crime_clearance_rate", "92.86", ""),
    ("03386", "2024-06", "drug_free_commune", "1", "Xã đạt tiêu chí"),
]

VARIANTS: dict[str, tuple[Callable[[], bytes], str]] = {
    "canonical": (lambda: _csv_text().encode(), "utf-8"),
    "semicolon": (lambda: _csv_text(sep=";").encode(), "utf-8"),
    "tab": (lambda: _csv_text(sep="\t").encode(), "utf-8"),
    "bom": (lambda: codecs.BOM_UTF8 + _csv_text(sep=";").encode(), "utf-8-sig"),
    "crlf": (lambda: _csv_text(sep=";", eol="\r\n").encode(), "utf-8"),
    "utf16": (lambda: _csv_text(sep="\t", eol="\r\n").encode("utf-16"), "utf-16"),
    "cp1258": (lambda: _cp1258(_csv_text(sep=";", eol="\r\n")), "cp1258"),
    "tcvn3": (lambda: _tcvn3(_csv_text(sep=";", eol="\r\n")), "tcvn3"),
    "padded": (lambda: _csv_text(cell=lambda s: f"  {s}\u00a0 ").encode(), "utf-8"),
    "nfd": (
        lambda: unicodedata.normalize("NFD", _csv_text()).encode(),
        "utf-8",
    ),
    "stripped_unit": (
        lambda: _csv_text([["3386", *r[1:]] for r in CANONICAL]).encode(),
        "utf-8",
    ),
    "excel_float_unit": (
        lambda: _csv_text([["3386.0", *r[1:]] for r in CANONICAL]).encode(),
        "utf-8",
    ),
    "vietnamese_header": (
        lambda: _csv_text(
            header=["Mã đơn vị", "ky_bao_cao", "MA_CHI_TIEU", "so_lieu", "ghi_chu"], sep=";"
        ).encode(),
        "utf-8",
    ),
    "header_case_and_spaces": (
        lambda: _csv_text(header=[" Unit_Code ", "PERIOD", "Indicator ", "Value", "Note"]).encode(),
        "utf-8",
    ),
    "upper_indicator": (
        lambda: _csv_text([[r[0], r[1], r[2].upper(), *r[3:]] for r in CANONICAL]).encode(),
        "utf-8",
    ),
    "blank_lines_trailing_columns": (
        lambda: ("\n" + _csv_text(sep=";").replace("\n", ";;\n\n").replace('"', "")).encode(),
        "utf-8",
    ),
    "quoted_everything": (
        lambda: "\n".join(";".join(f'"{c}"' for c in r) for r in [HEADER, *CANONICAL]).encode(),
        "utf-8",
    ),
    "percent_and_spaces_in_values": (
        lambda: _csv_text(
            [
                [*CANONICAL[0][:3], "1 250", NOTE],
                CANONICAL[1],
                [*CANONICAL[2][:3], "92,86%", ""],
                CANONICAL[3],
            ],
            sep=";",
        ).encode(),
        "utf-8",
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_messy_variants_read_the_same(tmp_path: Path, variant: str) -> None:
    make, encoding = VARIANTS[variant]
    sub = read_submission(_write(tmp_path, f"{variant}.csv", make()))
    assert sub.file_format == "csv"
    assert sub.encoding == encoding
    assert list(sub.rows.columns) == COLUMNS
    assert _normalised(sub.rows) == EXPECTED
    assert sub.rows["formula"].isna().all()
    assert sub.unit_location is None and sub.period_location is None
    for note in sub.rows["note"]:
        assert note == unicodedata.normalize("NFC", note)


def test_values_kept_as_written(tmp_path: Path) -> None:
    sub = read_submission(_write(tmp_path, "a.csv", _csv_text(sep=";")))
    assert sub.rows["value"].tolist() == ["1.250", "1.161", "92,86", "1"]
    assert sub.rows["unit_code"].tolist() == ["03386"] * 4
    assert sub.rows["location"].tolist() == ["row 2", "row 3", "row 4", "row 5"]


def test_empty_cells_are_empty_strings_and_none(tmp_path: Path) -> None:
    text = "unit_code,period,indicator,value\n03386,2024-06,crime_cases,\n,,,\n03386,,x,5\n"
    sub = read_submission(_write(tmp_path, "e.csv", text))
    assert sub.rows["value"].tolist() == [None, "5"]
    assert sub.rows["note"].tolist() == ["", ""]  # no note column at all
    assert sub.rows["period"].tolist() == ["2024-06", ""]
    assert sub.rows["location"].tolist() == ["row 2", "row 4"]


def test_physical_line_numbers(tmp_path: Path) -> None:
    rows = [
        ["03386", "2024-06", "crime_cases", "5", "dòng một\r\ndòng hai"],  # quoted newline
        ["03386", "2024-06", "crime_solved", "4", ""],
    ]
    text = _csv_text(rows, sep=";", eol="\r\n").replace(
        "\r\n03386;2024-06;crime_solved", "\r\n\r\n03386;2024-06;crime_solved"
    )
    sub = read_submission(_write(tmp_path, "lines.csv", text))
    assert sub.rows["location"].tolist() == ["row 2", "row 5"]
    assert sub.rows["note"].iloc[0] == "dòng một\r\ndòng hai"


def test_tcvn3_detection_does_not_take_cp1258_for_it() -> None:
    genuine = [
        NOTE,
        "Người nghiện được quản lý tại cộng đồng «Toàn dân bảo vệ an ninh Tổ quốc»",
        "Microsoft® Excel® 2016 ©2024, 50°C",
        "Số liệu đã được kiểm tra, chưa có biến động lớn",
    ]
    for text in genuine:
        assert not looks_like_tcvn3(_cp1258(text)), text
    for text in (NOTE, "đã", "Số liệu đã được kiểm tra, chưa có biến động lớn"):
        data = _tcvn3(text)
        assert looks_like_tcvn3(data), text
        assert decode_tcvn3(data) == text


def test_tcvn3_can_be_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "TCVN3_CONVERT", False)
    exc = _refused(_write(tmp_path, "abc.csv", _tcvn3(_csv_text())), "TCVN3")
    assert "bảng mã TCVN3 (ABC" in exc.message_vi and "CSV UTF-8" in exc.message_vi


@pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv not installed")
def test_tcvn3_table_matches_iconv() -> None:
    raw = bytes([*range(0x01, 0x18), *range(0x80, 0x100)])
    proc = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=raw, capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip("iconv has no TCVN5712-1")
    expected = unicodedata.normalize("NFC", proc.stdout.decode())
    assert decode_tcvn3(raw) == expected


# --- refusals ------------------------------------------------------------------------------


def _xlsx_bytes(tmp_path: Path) -> bytes:
    wb = Workbook()
    wb.active["A1"] = "x"
    p = tmp_path / "_scratch.xlsx"
    wb.save(p)
    return p.read_bytes()


def _zip_with(tmp_path: Path, name: str, entries: dict[str, bytes]) -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return p


def _refused(path: Path, *words: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_submission(path)
    exc = info.value
    assert path.name in exc.message_vi and path.name in exc.message_en
    assert str(exc) == exc.message_en
    for word in words:
        assert word in exc.message_en or word in exc.message_vi, (word, exc.message_en)
    return exc


def test_missing_file(tmp_path: Path) -> None:
    _refused(tmp_path / "khong_co.csv", "not found")


def test_empty_file(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "rong.csv", b""), "empty")
    _refused(_write(tmp_path, "spaces.csv", b" \r\n\r\n  "), "empty")


def test_header_only(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "header.csv", "unit_code;period;indicator;value\r\n\r\n"), "no data")


def test_binary(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "anh.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "neither")
    _refused(_write(tmp_path, "rac.txt", bytes([0x81, 0x8A, 0x41, 0x9D, 0x0A])), "neither")


def test_html_and_json(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "trang.csv", "<!DOCTYPE html><html><table></table>"), "HTML")
    _refused(_write(tmp_path, "bang.xls", "<table><tr><td>1</td></tr></table>"), ".xlsx")
    _refused(_write(tmp_path, "data.csv", '  {"unit_code": "03386"}'), "JSON")
    _refused(_write(tmp_path, "list.txt", '[{"a": 1}]'), "JSON")


def test_old_xls(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    exc = _refused(_write(tmp_path, "baocao.xls", ole2), ".xlsx")
    assert "Save As" in exc.message_en
    _refused(_write(tmp_path, "renamed.xlsx", ole2), "password")


def test_wrong_columns(tmp_path: Path) -> None:
    exc = _refused(_write(tmp_path, "cot.csv", "ma,thang,chi_tieu,so\n1,2,3,4\n"))
    assert "lacks the column(s) unit_code, period, value " in exc.message_en  # chi_tieu found
    assert "columns found: ma, thang, chi_tieu, so" in exc.message_en
    assert "thiếu cột unit_code, period, value" in exc.message_vi
    _refused(
        _write(tmp_path, "dup.csv", "unit_code,period,indicator,value,gia_tri\n1,2,3,4,5\n"),
        "two",
    )


def test_extension(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "baocao.pdf", "%PDF-1.4"), "'.pdf'")
    assert _refused(_write(tmp_path, "bang.ods", b"PK\x03\x04..."), "'.ods'").instance_code == (
        "old_excel"
    )
    assert _refused(_write(tmp_path, "cu.xls", b"\xd0\xcf\x11\xe0" + bytes(60)), "old Excel")


@pytest.mark.parametrize("name", ["baocao", "baocao.csv ", "baocao.csv.", "BAOCAO.CSV  "])
def test_names_without_extension_or_with_trailing_spaces_are_read_by_content(tmp_path, name):
    """No extension, or one followed by spaces or dots that Windows drops: read as meant."""
    raw = read_submission(_write(tmp_path, name, _csv_text()))
    assert raw.file_format == "csv" and len(raw.columns["indicator"]) == len(CANONICAL)
    wb_name = name.replace("baocao", "form").replace("BAOCAO", "FORM").replace("csv", "xlsx")
    wb_name = wb_name.replace("CSV", "XLSX")
    src = SAMPLES / "messy" / "form.xlsx"
    assert read_submission(_write(tmp_path, wb_name, src.read_bytes())).file_format == "xlsx"
    assert read_submission(_write(tmp_path, "form", src.read_bytes())).file_format == "xlsx"
    assert (
        extension("a.csv ") == ".csv" and extension("a") == "" and extension("a.XLSX.") == ".xlsx"
    )


def test_every_read_error_has_a_stable_code(tmp_path: Path) -> None:
    err = _refused(_write(tmp_path, "e.csv", ""), "empty")
    assert err.instance_code == "file_empty" and err.error_code() == "file_empty"
    assert err.to_dict("en") == {
        "file": "e.csv",
        "status": "unreadable",
        "code": "file_empty",
        "reason": "read.file_empty",
        "message": err.message_en,
        "issues": [],
    }
    again = pickle.loads(pickle.dumps(err))
    assert (again.instance_code, again.message_vi) == ("file_empty", err.message_vi)
    assert set(READ_ERROR_CODES) >= {"hidden_sheet", "binary", "no_rows", "symlink"}


def _hidden_form(tmp_path: Path, state: str, value: int | None) -> Path:
    """The sample form with a copy of its sheet in `state`, holding another value."""
    from openpyxl import load_workbook

    wb = load_workbook(SAMPLES / "messy" / "form.xlsx")
    copy = wb.copy_worksheet(wb["BaoCao"])
    copy.title = "BaoCao_cu"
    copy.sheet_state = state
    if value is not None:
        for row in copy.iter_rows():
            for c in row:
                if c.value == "crime_cases":
                    copy.cell(row=c.row, column=5).value = value
    out = tmp_path / f"hidden_{state}.xlsx"
    wb.save(out)
    return out


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_holding_a_form_is_refused(tmp_path: Path, state: str) -> None:
    err = _refused(_hidden_form(tmp_path, state, 999), "hidden sheet 'BaoCao_cu'")
    assert err.instance_code == "hidden_sheet" and "trang tính bị ẩn" in err.message_vi


def test_a_hidden_sheet_without_a_form_is_ignored_and_only_visible_sheets_are_read(tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(SAMPLES / "messy" / "form.xlsx")
    lists = wb.create_sheet("DanhSach")  # a hidden list of choices, as real forms have
    lists.append(["Có"])
    lists.append(["Không"])
    lists.sheet_state = "veryHidden"
    out = tmp_path / "lists.xlsx"
    wb.save(out)
    plain = read_submission(SAMPLES / "messy" / "form.xlsx")
    assert read_submission(out).columns == plain.columns


def test_cells_beyond_the_header_are_kept_for_the_validator(tmp_path: Path) -> None:
    text = "unit_code,period,indicator,value\n03391,2024-05,poppy_destroyed_m2,2,5\n"
    text += "03391,2024-05,crime_cases,1,,,\n"  # Excel's trailing separators are nothing
    raw = read_submission(_write(tmp_path, "x.csv", text))
    assert raw.columns["extra"] == ["5", ""] and raw.separator == ","
    assert raw.columns["value"] == ["2", "1"]
    semi = read_submission(_write(tmp_path, "y.csv", text.replace(",", ";")))
    assert semi.columns["extra"] == ["5", ""] and semi.separator == ";"


def test_xlsx_not_a_zip(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "hong.xlsx", _csv_text()), "truncated")


def test_truncated_zip(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path)
    _refused(_write(tmp_path, "cut.xlsx", data[: len(data) // 2]), "truncated")


def test_zip_without_workbook(tmp_path: Path) -> None:
    _refused(_zip_with(tmp_path, "word.xlsx", {"word/document.xml": b"<w/>"}), "not an Excel")


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    bomb = _zip_with(tmp_path, "bomb.xlsx", {"xl/workbook.xml": b"\0" * (3 * 1024 * 1024)})
    _refused(bomb, "expands")


def test_zip_bomb_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_XLSX_UNCOMPRESSED", 1000)
    p = tmp_path / "big.xlsx"
    p.write_bytes(_xlsx_bytes(tmp_path))
    _refused(p, "expands")


def test_oversize_checked_by_stat(tmp_path: Path) -> None:
    p = tmp_path / "huge.csv"
    with p.open("wb") as fh:  # sparse: nothing is written, nothing must be read
        fh.truncate(100 * 1024 * 1024)
    _refused(p, "too large")


@pytest.mark.parametrize(
    ("size", "vi", "en"),
    [
        (60 * 10**6, "quá lớn (57,2 MB, tối đa 5 MB)", "too large (57.2 MB, at most 5 MB)"),
        (60 * 2**20, "quá lớn (60 MB, tối đa 5 MB)", "too large (60 MB, at most 5 MB)"),
        (5 * 2**20 + 200_000, "quá lớn (5,2 MB, tối đa 5 MB)", "too large (5.2 MB, at most 5 MB)"),
        # a few bytes over: "5 MB, at most 5 MB" would be no reason at all
        (5 * 2**20 + 10, "quá lớn (hơn 5 MB, tối đa 5 MB)", "(more than 5 MB, at most 5 MB)"),
        (2 * 10**9, "quá lớn (1.907,3 MB, tối đa 5 MB)", "(1,907.3 MB, at most 5 MB)"),
    ],
)
def test_a_file_too_large_says_the_size_sent_the_languages_way(tmp_path, size, vi, en):
    p = tmp_path / "big.csv"
    with p.open("wb") as fh:  # sparse
        fh.truncate(size)
    exc = _refused(p, "too large")
    assert vi in exc.message_vi and en in exc.message_en, (exc.message_vi, exc.message_en)
    assert exc.instance_code == "file_too_large"
    bytes_exc = readers.too_large("big.csv", None)  # an upload cut off at the limit
    assert "hơn 5 MB" in bytes_exc.message("vi") and "more than 5 MB" in bytes_exc.message("en")


def test_a_zip_bomb_says_which_part_expands_and_how_much(tmp_path: Path) -> None:
    bomb = _zip_with(tmp_path, "bomb.xlsx", {"xl/workbook.xml": b"\0" * (3 * 1024 * 1024)})
    exc = _refused(bomb, "expands")
    assert exc.instance_code == "xlsx_too_large" and "'xl/workbook.xml'" in exc.message_en
    # "tăng 1.026 lần (3 MB, tối đa 100 lần)": under the 50 MB total, the ratio is the reason
    assert re.search(r"tăng 1\.0\d\d lần \(3 MB, tối đa 100 lần\)", exc.message_vi)
    assert re.search(r"expands 1,0\d\d times \(3 MB, at most 100 times\)", exc.message_en)


def test_too_many_rows(tmp_path: Path) -> None:
    rows = [["03386", "2024-06", f"x{i}", "1", ""] for i in range(10_000)]
    _refused(_write(tmp_path, "nhieu.csv", _csv_text(rows)), "5.000")


def test_too_many_rows_xlsx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write_template("03386", "2024-06", tmp_path / "form.xlsx")
    monkeypatch.setattr(readers, "MAX_ROWS", 3)
    _refused(p, "more than 3")


def test_read_error_pickles() -> None:
    exc = ReadError("/x/a.csv", "read.too_many_rows", name="a.csv", limit=5000)
    back = pickle.loads(pickle.dumps(exc))
    assert (back.path, back.message_vi, str(back)) == (exc.path, exc.message_vi, str(exc))
    assert "5.000" in back.message_vi and back.error_code() == "too_many_rows"


def test_not_a_form(tmp_path: Path) -> None:
    p = tmp_path / "tu_lam.xlsx"
    p.write_bytes(_xlsx_bytes(tmp_path))
    exc = _refused(p, "tonghop template --unit CODE --period P")
    assert "tonghop template" in exc.message_vi


def test_form_without_unit_label(tmp_path: Path) -> None:
    p = write_template("03386", "2024-06", tmp_path / "f.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(p)
    wb["BaoCao"]["B4"] = None
    wb.save(p)
    _refused(p, "Mã đơn vị")


def test_xlsx_content_in_csv_name_is_read_as_xlsx(tmp_path: Path) -> None:
    p = write_template("03386", "2024-06", tmp_path / "form.xlsx", values={"crime_cases": 3})
    renamed = tmp_path / "form.csv"
    p.rename(renamed)
    sub = read_submission(renamed)
    assert sub.file_format == "xlsx" and sub.encoding is None
    assert sub.rows.set_index("indicator").loc["crime_cases", "value"] == 3


def test_a_file_that_cannot_be_opened_is_answered_by_name(tmp_path, monkeypatch):
    f = tmp_path / "baocao.csv"
    f.write_text("unit_code,period,indicator,value\n03386,2024-06,crime_cases,1\n")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ReadError) as exc:
        read_submission(f)
    err = exc.value
    assert err.instance_code == "file_unreadable" and "file_unreadable" in READ_ERROR_CODES
    assert "'baocao.csv' cannot be read (permission denied)" in err.message_en
    assert "Không đọc được tệp 'baocao.csv'" in err.message_vi
    assert str(tmp_path) not in err.message_en + err.message_vi


def test_the_hash_is_of_the_bytes_read(tmp_path):
    f = tmp_path / "baocao.csv"
    f.write_bytes(b"unit_code,period,indicator,value\n03386,2024-06,crime_cases,1\n")
    assert read_submission(f).sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    form = SAMPLES / "messy" / "form.xlsx"  # a workbook is parsed from the bytes hashed too
    assert read_submission(form).sha256 == hashlib.sha256(form.read_bytes()).hexdigest()
