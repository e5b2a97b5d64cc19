"""The Excel form: content per level, roundtrip through read_submission, validations, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from validations.catalog import load_catalog
from validations.numbers import parse_numbers
from validations.readers import read_submission
from validations.template import HEADER_ROW, SHEET, TemplateError, write_template

COMMUNE = "03386"  # Phường Quyết Thắng, Thành phố Lai Châu
DISTRICT = "105"  # Thành phố Lai Châu


def _codes_by_row(path: Path) -> dict[str, int]:
    ws = load_workbook(path)[SHEET]
    return {
        str(ws.cell(row=r, column=2).value): r
        for r in range(HEADER_ROW + 1, ws.max_row + 1)
        if ws.cell(row=r, column=2).value
    }


@pytest.mark.parametrize(("unit", "level"), [(COMMUNE, "C"), (DISTRICT, "D")])
def test_indicators_are_those_of_the_level(tmp_path: Path, unit: str, level: str) -> None:
    path = write_template(unit, "2024-06", tmp_path / f"{unit}.xlsx")
    expected = [i.code for i in load_catalog().for_level(level)]
    assert list(_codes_by_row(path)) == expected  # catalog order
    sub = read_submission(path)
    assert sub.rows["indicator"].tolist() == expected
    assert sub.rows["value"].isna().all()
    assert set(sub.rows["unit_code"]) == {unit}
    assert set(sub.rows["period"]) == {"2024-06"}


def test_layout(tmp_path: Path) -> None:
    path = write_template(COMMUNE, "2024-06", tmp_path / "f.xlsx")
    ws = load_workbook(path)[SHEET]
    assert ws["A1"].value.startswith("BÁO CÁO KẾT QUẢ CÔNG TÁC PHÒNG, CHỐNG TỘI PHẠM")
    assert ws["B4"].value == "Mã đơn vị"
    assert ws["D4"].value == COMMUNE and ws["D4"].data_type == "s"
    assert ws["D4"].number_format == "@"
    assert ws["D5"].value == "Phường Quyết Thắng"
    assert ws["D6"].value == "xã (C)"
    assert ws["D7"].value == "2024-06" and ws["D7"].number_format == "@"
    assert ws["D8"].value == "tháng 06/2024"
    assert ws["D9"].value.date().isoformat() == "2024-06-14"
    headers = [ws.cell(row=HEADER_ROW, column=c).value for c in range(1, 7)]
    assert headers == ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú"]
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws[f"A{HEADER_ROW + 1}"].value == "I. Tội phạm về trật tự xã hội"
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width


def test_roundtrip_officer_fills_values(tmp_path: Path) -> None:
    path = write_template(COMMUNE, "2024-06", tmp_path / "f.xlsx")
    rows = _codes_by_row(path)
    wb = load_workbook(path)
    ws = wb[SHEET]
    ws[f"E{rows['crime_cases']}"] = 14
    ws[f"E{rows['crime_solved']}"] = 13
    ws[f"E{rows['crime_clearance_rate']}"] = 92.86
    ws[f"E{rows['propaganda_participants']}"] = "1.250"  # typed as text
    ws[f"E{rows['drug_free_commune']}"] = 1
    ws[f"F{rows['crime_cases']}"] = "Ghi chú: đã xác minh"
    ws[f"E{rows['reports_received']}"] = "=1+1"
    wb.save(path)

    sub = read_submission(path)
    assert (sub.file_format, sub.encoding) == ("xlsx", None)
    assert sub.unit_location == "BaoCao!D4" and sub.period_location == "BaoCao!D7"
    got = sub.rows.set_index("indicator")
    for code, value in [
        ("crime_cases", 14),
        ("crime_solved", 13),
        ("crime_clearance_rate", 92.86),
        ("propaganda_participants", "1.250"),
        ("drug_free_commune", 1),
    ]:
        assert got.loc[code, "value"] == value
        assert got.loc[code, "location"] == f"BaoCao!E{rows[code]}"
        assert got.loc[code, "formula"] is None
    assert got.loc["crime_cases", "note"] == "Ghi chú: đã xác minh"
    assert got.loc["reports_received", "value"] is None
    assert got.loc["reports_received", "formula"] == "=1+1"
    kinds = sub.rows["indicator"].map(lambda c: load_catalog().indicators[c].kind)
    parsed = parse_numbers(sub.rows["value"], kinds)
    assert (
        dict(zip(sub.rows["indicator"], parsed.read_as, strict=True))["propaganda_participants"]
        == "1250"
    )


def test_prefilled_values_notes_and_formula(tmp_path: Path) -> None:
    path = write_template(
        COMMUNE,
        "2024-06",
        tmp_path / "f.xlsx",
        values={"crime_cases": 5, "crime_solved": "=SUM(E10:E12)"},
        notes={"crime_cases": "đã xác minh"},
    )
    got = read_submission(path).rows.set_index("indicator")
    assert got.loc["crime_cases", "value"] == 5
    assert got.loc["crime_cases", "note"] == "đã xác minh"
    assert got.loc["crime_solved", "value"] is None
    assert got.loc["crime_solved", "formula"] == "=SUM(E10:E12)"


def test_inserted_rows_do_not_break_reading(tmp_path: Path) -> None:
    path = write_template(COMMUNE, "2024-06", tmp_path / "f.xlsx", values={"crime_cases": 7})
    wb = load_workbook(path)
    wb[SHEET].insert_rows(3, amount=2)  # an officer adds blank rows above the header
    wb.save(path)
    sub = read_submission(path)
    assert sub.unit_location == "BaoCao!D6"
    got = sub.rows.set_index("indicator")
    assert got.loc["crime_cases", "value"] == 7
    assert got.loc["crime_cases", "location"] == f"BaoCao!E{HEADER_ROW + 2 + 2}"


def test_stripped_unit_code_read_as_written(tmp_path: Path) -> None:
    path = write_template(COMMUNE, "2024-06", tmp_path / "f.xlsx")
    wb = load_workbook(path)
    wb[SHEET]["D4"] = 3386.0  # Excel turned the code into a number
    wb.save(path)
    assert set(read_submission(path).rows["unit_code"]) == {"3386"}


def test_data_validations_on_value_cells(tmp_path: Path) -> None:
    path = write_template(DISTRICT, "2024-06", tmp_path / "f.xlsx")
    rows = _codes_by_row(path)
    ws = load_workbook(path)[SHEET]
    catalog = load_catalog()
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.error and dv.errorTitle == "Số liệu không hợp lệ"
        for rng in dv.sqref.ranges:
            by_cell[rng.coord] = dv
    for code, row in rows.items():
        dv = by_cell[f"E{row}"]
        ind = catalog.indicators[code]
        if ind.kind == "count":
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
        elif ind.kind == "decimal":
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        elif code == "crime_change_rate":
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "-100")
        elif ind.kind == "rate":
            assert (dv.type, dv.operator, dv.formula1, dv.formula2) == (
                "decimal",
                "between",
                "0",
                "100",
            )
    commune = write_template(COMMUNE, "2024-06", tmp_path / "c.xlsx")
    crow = _codes_by_row(commune)["drug_free_commune"]
    cws = load_workbook(commune)[SHEET]
    flag = [dv for dv in cws.data_validations.dataValidation if f"E{crow}" in dv.sqref]
    assert len(flag) == 1 and flag[0].type == "list" and flag[0].formula1 == '"0,1"'


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="99999"):
        write_template("99999", "2024-06", tmp_path / "x.xlsx")
    with pytest.raises(TemplateError, match="03386"):  # stripped code: suggest the padded one
        write_template("3386", "2024-06", tmp_path / "x.xlsx")
    with pytest.raises(TemplateError, match="period"):
        write_template(COMMUNE, "2024-13", tmp_path / "x.xlsx")
    with pytest.raises(TemplateError, match="105"):  # districts abolished from 2025-07-01
        write_template(DISTRICT, "2025-12", tmp_path / "x.xlsx")
    with pytest.raises(TemplateError, match="serious_cases"):  # not on the commune form
        write_template(COMMUNE, "2024-06", tmp_path / "x.xlsx", values={"serious_cases": 1})
    assert not (tmp_path / "x.xlsx").exists()
