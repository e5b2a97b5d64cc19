"""warehouse.summary.word and profile: the period report as the Word document an office signs
(Decree 30/2020/NĐ-CP): its form's parts, read back with python-docx, rendered to PDF and PNG
with LibreOffice and pdftoppm where installed (issue 20 item 1)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import duckdb
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.shared import Pt
from typer.testing import CliRunner

from conftest import SAMPLES
from warehouse.summary import (
    ProfileError,
    build_summary,
    date_line,
    defaults,
    find_profile,
    load_profile,
    write_docx,
)

TITLE = (
    "Kết quả công tác phòng, chống tội phạm, tệ nạn xã hội và xây dựng phong trào Toàn dân "
    "bảo vệ an ninh Tổ quốc 6 tháng đầu năm 2024"
)


@pytest.fixture(scope="module")
def docx_path(season, catalog, units, tmp_path_factory):
    con = duckdb.connect(str(season), read_only=True)
    try:
        s = build_summary(con, "2024-H1", "12", catalog, units)
    finally:
        con.close()
    profile = load_profile(SAMPLES / "profiles" / "12.yaml", s.unit)
    return write_docx(s, units, tmp_path_factory.mktemp("word") / "12_2024-H1.docx", profile)


def _texts(cell) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in cell.paragraphs if p.text.strip()]


def _runs(paragraphs, text: str):  # type: ignore[no-untyped-def]
    return [r for p in paragraphs if p.text == text for r in p.runs if r.text.strip()]


def test_the_document_has_the_form_of_decree_30(docx_path):
    doc = Document(str(docx_path))
    sec = doc.sections[0]
    mm = [round(x.mm) for x in (sec.page_width, sec.page_height)]
    assert mm == [210, 297]  # A4
    margins = [
        round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)
    ]
    assert margins == [20, 20, 30, 15]
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size == Pt(14)
    # the heading: body above, issuing body and number left; nation, motto, place and date right
    heading = doc.tables[0]
    left, right = heading.rows[0].cells
    assert _texts(left) == ["UBND TỈNH LAI CHÂU", "BAN CHỈ ĐẠO 138", "Số:       /BC-BCĐ"]
    assert all(r.bold for r in _runs(left.paragraphs, "BAN CHỈ ĐẠO 138"))
    nation, motto, place = _texts(right)
    assert nation == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and motto == "Độc lập - Tự do - Hạnh phúc"
    assert all(r.bold for r in _runs(right.paragraphs, nation) + _runs(right.paragraphs, motto))
    assert place.startswith("Lai Châu, ngày") and all(
        r.italic for r in _runs(right.paragraphs, place)
    )
    # the motto has its rule under it (a paragraph border, as the decree draws it)
    assert "w:pBdr" in right._tc.xml and "w:pBdr" in left._tc.xml
    sizes = {r.font.size for c in (left, right) for p in c.paragraphs for r in p.runs if r.text}
    assert sizes <= {Pt(12), Pt(12.5), Pt(13), Pt(14)}
    # the kind, its summary line, then the body in parts I-IV in the seeds' order
    paras = doc.paragraphs
    texts = [p.text for p in paras]
    k = texts.index("BÁO CÁO")
    assert paras[k].alignment == WD_ALIGN_PARAGRAPH.CENTER and paras[k].runs[0].bold
    assert texts[k + 1] == TITLE and paras[k + 1].runs[0].bold
    parts = [t for t in texts if t[:4] in ("I. T", "II. ", "III.", "IV. ")]
    assert [p.split(".")[0] for p in parts] == ["I", "II", "III", "IV"]
    assert parts[2] == "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN"
    assert parts[3] == "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI"
    assert any(t.startswith("Xảy ra 1.188 vụ phạm pháp hình sự") for t in texts)
    closing = next(k for k, t in enumerate(texts) if t.startswith("Trên đây là báo cáo"))
    assert texts[closing].endswith("trên địa bàn tỉnh Lai Châu./.")
    assert closing > texts.index(parts[3])  # after part IV, before the recipients
    # what people write is marked: highlighted placeholders in every part
    marked = [r for p in paras for r in p.runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    assert len([r for r in marked if r.text.startswith("[Đơn vị soạn thảo")]) == 4
    # recipients ending "- Lưu: VT.", the signer's capacity, title and name
    ending = doc.tables[1]
    recipients, signer = ending.rows[0].cells
    lines = _texts(recipients)
    assert lines[0] == "Nơi nhận:" and lines[-1] == "- Lưu: VT."
    assert (
        all(x.endswith(";") for x in lines[1:-1]) and "- Ban Chỉ đạo 138/CP (để báo cáo);" in lines
    )
    assert _texts(signer) == ["TM. BAN CHỈ ĐẠO", "TRƯỞNG BAN", "[Họ và tên người ký]"]
    # the appendix: the tables of figures with last year's column
    head = [c.text for c in doc.tables[2].rows[0].cells]
    assert head[:5] == [
        "Chỉ tiêu",
        "Đơn vị tính",
        "Kỳ này",
        "Cùng kỳ năm 2023",
        "Tăng (+), giảm (-)",
    ]
    assert doc.core_properties.title == f"Báo cáo {TITLE}"


def test_a_profile_is_found_checked_and_defaults_come_from_the_units_name(units, tmp_path):
    lai_chau = units.get("12", date(2024, 6, 14))
    base = defaults(lai_chau)
    assert (base.body_above, base.place, base.recipients[-1]) == (
        "UBND TỈNH LAI CHÂU",
        "Lai Châu",
        "Lưu: VT.",
    )
    assert "UBND các huyện, thành phố" in base.recipients
    new_tq = units.get("08", date(2026, 6, 14))
    assert "UBND các xã, phường" in defaults(new_tq).recipients  # no districts after 2025
    assert defaults(units.get("106", date(2024, 6, 14))).place == "Tam Đường"
    own = tmp_path / "12.yaml"
    own.write_text(
        'number: "15"\ndate: 2024-07-05\nrecipients: ["Tỉnh ủy (để báo cáo)"]\n'
        'signer: {name: "Nguyễn Văn A", title: "PHÓ TRƯỞNG BAN", on_behalf: "KT. TRƯỞNG BAN"}\n',
        encoding="utf-8",
    )
    p = find_profile(lai_chau, folder=tmp_path)
    assert p.path == str(own) and p.number == "15" and p.body_above == "UBND TỈNH LAI CHÂU"
    assert p.recipients == ("Tỉnh ủy (để báo cáo)", "Lưu: VT.")  # the office's copy added
    assert date_line(p.place, p.date) == "Lai Châu, ngày 05 tháng 7 năm 2024"
    assert date_line("Lai Châu", date(2025, 2, 3)) == "Lai Châu, ngày 03 tháng 02 năm 2025"
    assert find_profile(lai_chau, folder=tmp_path / "none") == base
    bad = tmp_path / "bad.yaml"
    bad.write_text("issuing_bodyy: x\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="unknown key 'issuing_bodyy'"):
        load_profile(bad, lai_chau)
    bad.write_text("date: 5/7/2024\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="YYYY-MM-DD"):
        load_profile(bad, lai_chau)


def test_tonghop_report_writes_the_docx_with_the_profile_beside_the_warehouse(season, tmp_path):
    from tonghop.cli import app

    wh = tmp_path / "w.duckdb"
    shutil.copy(season, wh)
    shutil.copytree(SAMPLES / "profiles", tmp_path / "profiles")
    out = tmp_path / "r.docx"
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--period",
            "2024-06",
            "--unit",
            "12",
            "--format",
            "docx",
            "-o",
            str(out),
            "--warehouse",
            str(wh),
        ],  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    assert str(tmp_path / "profiles" / "12.yaml") in res.output
    doc = Document(str(out))
    assert doc.tables[0].rows[0].cells[0].paragraphs[0].text == "UBND TỈNH LAI CHÂU"
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--period",
            "2024-06",
            "--unit",
            "12",
            "--format",
            "docx",
            "--warehouse",
            str(wh),
        ],  # fmt: skip
    )
    assert res.exit_code == 2 and "Văn bản docx cần -o TỆP.docx." in res.output


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")


@pytest.mark.slow
@pytest.mark.skipif(
    not (SOFFICE and PDFTOPPM), reason="LibreOffice and poppler-utils are not installed"
)
def test_the_document_renders_to_pdf_and_png(docx_path, tmp_path):
    """LibreOffice opens the file and lays it out on A4 pages; the first page as PNG is what
    docs/warehouse.md shows (docs/report-first-page.png, made the same way from the demo)."""
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'lo'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "12_2024-H1.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    if info.returncode == 0:
        assert "pts (A4)" in info.stdout
        pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
        assert pages >= 3  # the body, the signature, the appendix
    subprocess.run(
        [PDFTOPPM, "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
