"""warehouse.charts: one chart module for the portal and the period summary (issue 18 item 6,
issue 19 item 6): a y-axis with gridlines, a zero baseline, the target line, last year's
series, sorted bars, at most about 30 bars, nothing overflowing a phone."""

from __future__ import annotations

import re

from warehouse import charts


def _fmt(v: float) -> str:
    return f"{v:g}"


def _numbers(svg: str, pattern: str) -> list[float]:
    return [float(x) for x in re.findall(pattern, svg)]


def test_a_line_starts_at_zero_with_ticks_gridlines_target_and_last_year():
    points = [(f"{m:02d}/2024", v) for m, v in enumerate([83.7, 85.1, 88.7, 84.2], 1)]
    last = [(f"{m:02d}/2023", v) for m, v in enumerate([80.0, 82.0, 81.5, 86.0], 1)]
    svg = charts.line_chart(
        "Tỷ lệ điều tra, khám phá",
        points,
        x_label="Tháng",
        y_label="%",
        fmt=_fmt,
        target=75,
        target_label="chỉ tiêu ≥ 75",
        last_year=last,
    )
    ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="#1c2430">([\d.]+)<', svg)]
    assert ticks[0] == 0 and ticks[-1] >= 88.7  # zero baseline: 83.7-88.7 % is not a collapse
    assert svg.count('stroke="#d5dbe3"') == len(ticks)  # one gridline per tick
    assert 'stroke-dasharray="6 4"' in svg and "chỉ tiêu ≥ 75" in svg  # the target line
    assert 'stroke-dasharray="4 3"' in svg and "Cùng kỳ năm trước" in svg  # last year's series
    assert 'viewBox="0 0 640 330"' in svg and 'width="100%"' in svg  # scales to a phone
    assert 'width="640"' not in svg


def test_bars_are_sorted_and_a_124_commune_province_shows_its_top_and_bottom():
    items = [(f"Xã {k:03d}", float((k * 37) % 101)) for k in range(124)]
    svg = charts.bar_chart(
        "Số vụ theo đơn vị",
        items,
        category_label="Đơn vị",
        value_label="vụ",
        fmt=_fmt,
        last_year={"Xã 000": 5.0},
    )
    bars = re.findall(r"<rect [^>]*><title>([^<]+): ([\d.]+)</title>", svg)
    assert len(bars) == charts.BAR_LIMIT == 30
    values = [float(v) for _, v in bars]
    assert values == sorted(values, reverse=True)  # largest first
    ranked = sorted((v for _, v in items), reverse=True)
    assert values[:15] == ranked[:15] and values[15:] == ranked[-15:]  # top and bottom
    assert "… 94 đơn vị khác …" in svg
    english = charts.bar_chart(
        "Cases", items, category_label="Unit", value_label="cases", fmt=_fmt, lang="en"
    )
    assert "… 94 other units …" in english
    few = charts.bar_chart("x", items[:8], category_label="u", value_label="v", fmt=_fmt)
    assert few.count("<rect") == 8 and "khác" not in few
    assert charts.bar_chart("x", [], category_label="u", value_label="v", fmt=_fmt) == ""


def test_the_portal_and_the_summary_draw_with_the_same_module():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert not (root / "tonghop" / "portal" / "charts.py").exists()
    province = (root / "tonghop" / "portal" / "pages" / "province.py").read_text(encoding="utf-8")
    render = (root / "warehouse" / "summary" / "render.py").read_text(encoding="utf-8")
    assert "from warehouse import charts" in province
    assert "from warehouse import charts" in render
    assert "<svg" not in render  # no second chart maker
