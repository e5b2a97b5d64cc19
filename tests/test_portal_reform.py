"""The portal across the 2025 reform and approvals: an approved period a later correction of
its comparison base would change says so (the steward's grid, the figures page, the summary),
and a unit the reform abolished, asked for a later period, says so in the CLI's sentence."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import pytest
from portal_fixtures import (  # noqa: F401  (fixtures)
    base_warehouse,
    client,
    login,
    settings,
    text_of,
)
from test_warehouse_support import refreshing_load, result

from warehouse.approval import approve
from warehouse.rollup.notes import notes

NOW, THEN = "2024-06", "2023-06"


@pytest.fixture
def portal_root(tmp_path, base_warehouse):
    """The portal's small warehouse (May and June 2024 of Lai Châu), district 105's June
    approved, then June 2023 of one of its communes arriving: a base after the approval."""
    shutil.copy(base_warehouse, tmp_path / "tonghop.duckdb")
    con = duckdb.connect(str(tmp_path / "tonghop.duckdb"))
    try:
        approve(con, "105", NOW, actor="huyen.105")
        base = result("03387", THEN, {"crime_cases": 5, "crime_solved": 4}, path="then.csv")
        refreshing_load(con, tmp_path, [base], "then", received_at=datetime(2024, 7, 2, 10, 15))
        assert len(notes(con, "105", NOW)) == 1
    finally:
        con.close()
    return tmp_path


def test_the_grid_the_figures_and_the_summary_say_the_note(client):
    said = "Số liệu cùng kỳ năm 2023 đã được sửa sau khi phê duyệt (03387 kỳ 2023-06, v1"
    login(client, "huyen.105")
    grid = text_of(client.get(f"/steward?unit=105&period={NOW}").text)
    assert said in grid and "hủy phê duyệt 105 kỳ 2024-06" in grid
    assert said in text_of(client.get(f"/province?unit=105&period={NOW}").text)
    assert said in text_of(client.get(f"/province/summary?unit=105&period={NOW}").text)
    login(client, "tinh.12")  # the province's grid: the district's row says to reopen it
    assert "Cần mở lại để cập nhật" in client.get(f"/steward?unit=12&period={NOW}").text


def test_an_abolished_unit_asked_for_a_later_period_says_who_took_over(client):
    login(client, "huyen.105")
    said = "105 Thành phố Lai Châu không còn từ 01/07/2025 (bỏ cấp huyện"
    for path in ("/steward", "/province", "/units/105"):
        r = client.get(f"{path}?unit=105&period=2026-03" if path != "/units/105" else
                       f"{path}?period=2026-03")  # fmt: skip
        page = text_of(r.text)
        assert said in page and "12 Tỉnh Lai Châu" in page, path
