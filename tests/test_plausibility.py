"""warehouse.rollup.plausibility: a consolidated figure far from the same territory's figure
last year (or its own history) is a warning of the consolidation before approval, on the
steward's grid (v_issues), and footnoted in the period report if approved anyway (issue 20
item 3)."""

from __future__ import annotations

import csv
import shutil

import pytest
from report_fixtures import ingest, sample_values

from validations.catalog import PlausibleChange
from warehouse.approval import approve
from warehouse.db import open_warehouse
from warehouse.rollup import RULE_IMPLAUSIBLE, consolidate
from warehouse.summary import build_report, build_summary, render_markdown, write_docx


@pytest.mark.parametrize(
    ("value", "reference", "ok"),
    [
        (17, 434, False),  # the merged Tuyên Quang's wanted persons (issue 20): -96 %
        (230, 23, False),  # an extra zero typed
        (9, 2, True),  # small counts move a lot: not beyond abs
        (45, 30, True),  # +50 %: within a doubling
        (14, 30, True),  # -53 %, but only 16 apart
        (0, 25, False),
        (25, 0, False),
    ],
)
def test_a_change_is_implausible_beyond_the_ratio_and_the_size(value, reference, ok):
    assert PlausibleChange(ratio=2, abs=20).allows(value, reference) is ok


def _typo(tmp_path, unit: str, period: str, code: str, times: int):
    values = sample_values(unit, period)
    values[code] *= times
    path = tmp_path / f"{unit}_{period}.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unit_code", "period", "indicator", "value", "note"])
        w.writerows([unit, period, k, f"{v:g}", ""] for k, v in values.items())
    return path


def test_a_figure_ten_times_last_year_is_warned_before_approval_and_footnoted(
    season, catalog, units, validator, tmp_path
):
    path = tmp_path / "w.duckdb"
    shutil.copy(season, path)
    con = open_warehouse(path, catalog, units)
    try:
        assert not con.execute(
            "SELECT count(*) FROM fct_consolidation_issue WHERE rule_id = ?"
            " AND unit_code IN ('12', '106')",
            [RULE_IMPLAUSIBLE],
        ).fetchone()[0]  # the province's and Tam Đường's sample figures are plausible
        # Tam Đường's June form sent again with an extra zero on illegal border crossings
        ingest(con, [_typo(tmp_path, "106", "2024-06", "illegal_border_crossings", 10)],
               tmp_path / "staging", "typo", validator)  # fmt: skip
        res = consolidate(con, "2024-06", "12", catalog, units)
        (tam_duong,) = [c for c in res.children if c.unit_code == "106"]
        (issue,) = [i for i in tam_duong.issues if i.rule_id == RULE_IMPLAUSIBLE]
        assert issue.indicator == "illegal_border_crossings" and issue.value == 230
        assert "so với cùng kỳ năm 2023 của cùng địa bàn (17)" in issue.message_vi
        assert issue.extra["basis"] == "last_year"
        # the steward's grid lists consolidation issues from v_issues
        grid = con.execute(
            "SELECT unit_code, severity FROM v_issues WHERE origin = 'consolidation'"
            " AND rule_id = ? AND period = '2024-06'",
            [RULE_IMPLAUSIBLE],
        ).fetchall()
        assert ("106", "warning") in grid
        approve(con, "106", "2024-06", actor="steward.106")  # approved anyway
        s = build_summary(con, "2024-06", "106", catalog, units)
        assert [w["indicator"] for w in s.warnings] == ["illegal_border_crossings"]
        assert s.approval == "approved"
        r = build_report(s, units)
        md = render_markdown(s, units, r)
        assert "| 230 [1] |" in md
        note = next(n for n in r.all_notes if n.startswith("[1]"))
        assert "tăng 1.252,94% so với cùng kỳ năm 2023" in note and "đã được phê duyệt" in note
        write_docx(s, units, tmp_path / "r.docx", report=r)  # the document carries it too
        from docx import Document

        text = "\n".join(p.text for p in Document(str(tmp_path / "r.docx")).paragraphs)
        assert "[1] Số trường hợp xuất nhập cảnh trái phép của Huyện Tam Đường: 230" in text
    finally:
        con.close()


def test_without_last_year_the_units_own_history_is_the_reference(
    season, catalog, units, validator, tmp_path
):
    """2024-05 has no 2023-05 in the warehouse: its previous months are the reference (2024-01
    to 2024-04 and 2023-06)."""
    path = tmp_path / "w.duckdb"
    shutil.copy(season, path)
    con = open_warehouse(path, catalog, units)
    try:
        for m in ("2024-01", "2024-02", "2024-03", "2024-04"):
            consolidate(con, m, "12", catalog, units)
        ingest(con, [_typo(tmp_path, "12", "2024-05", "propaganda_participants", 10)],
               tmp_path / "staging", "typo", validator)  # fmt: skip
        res = consolidate(con, "2024-05", "12", catalog, units)
        found = [i for i in res.issues if i.rule_id == RULE_IMPLAUSIBLE]
        assert [i.indicator for i in found] == ["propaganda_participants"]
        assert found[0].extra["basis"] == "history" and found[0].extra["history_periods"] == 5
        assert "trung vị 5 kỳ trước của đơn vị" in found[0].message_vi
    finally:
        con.close()
