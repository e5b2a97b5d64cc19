"""Charts people read: server-side SVG (no script, no library), one module for the portal and
the period summary.

Every chart has a y-axis (or, for bars, a value axis) with round ticks and gridlines, starts at
zero (a scale from the lowest to the highest value makes 83.7-88.7 % look like a collapse),
draws the target as a dashed line and last year's figures beside this year's, and scales to
its container (viewBox, width 100 %: nothing overflows a 390 px phone). Bars are sorted; a
province of 124 communes shows its top and bottom units (at most `limit` bars) and says how
many are left out. Figures come from the warehouse as they are; this module only draws them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping

Fmt = Callable[[float], str]
BLUE, RED, GREY, INK, GRID = "#1f5fa8", "#b00020", "#8a94a3", "#1c2430", "#d5dbe3"
BAR_LIMIT = 30  # at most this many bars: the top and bottom halves beyond it
TEXTS = {
    "vi": {"others": "… {n} đơn vị khác …", "last_year": "Cùng kỳ năm trước", "now": "Kỳ này"},
    "en": {
        "others": "… {n} other units …",
        "last_year": "Same period last year",
        "now": "This period",
    },
}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (lo <= 0 <= hi is kept when the data allow)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _e(text: object) -> str:
    return html.escape(str(text))


def _scale(values: list[float]) -> list[float]:
    """Ticks from zero (or below it, for a negative value) to a little above the largest."""
    top = max(values) if values else 0.0
    return nice_ticks(min(0.0, min(values, default=0.0)), top * 1.05 if top > 0 else 1.0)


def _head(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;height:auto" role="img" '
        f'aria-label="{_e(title)}" font-family="system-ui,sans-serif">',
        f"<title>{_e(title)}</title>",
        f'<text x="{width / 2:.0f}" y="18" font-size="14" font-weight="600" '
        f'text-anchor="middle" fill="{INK}">{_e(title)}</text>',
    ]


def _legend(out: list[str], x: float, y: float, entries: list[tuple[str, str, bool]]) -> None:
    """Small legend: (label, colour, dashed) from (x, y) rightwards."""
    for label, colour, dashed in entries:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(
            f'<line x1="{x:.0f}" x2="{x + 18:.0f}" y1="{y:.0f}" y2="{y:.0f}" stroke="{colour}" '
            f'stroke-width="2"{dash}/><text x="{x + 22:.0f}" y="{y + 4:.0f}" font-size="11" '
            f'fill="{INK}">{_e(label)}</text>'
        )
        x += 34 + 6.2 * len(label)


def line_chart(
    title: str,
    points: list[tuple[str, float]],
    *,
    x_label: str,
    y_label: str,
    fmt: Fmt,
    target: float | None = None,
    target_label: str = "",
    last_year: list[tuple[str, float]] | None = None,
    lang: str = "vi",
) -> str:
    """A line over periods: x = periods (labelled), y = values from zero (ticks, gridlines),
    optional target line and last year's series (dashed grey, matched by position: the same
    months a year before)."""
    if not points:
        return ""
    width, height = 640, 330
    left, right, top, bottom = 72, 24, 48, 64
    before = [v for _, v in (last_year or [])]
    vals = [v for _, v in points] + before + ([target] if target is not None else [])
    ticks = _scale(vals)
    y0, y1 = ticks[0], ticks[-1]
    pw, ph = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (pw * (i + 0.5) / len(points))

    def y(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    out = _head(width, height, title)
    for tv in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tv):.1f}" y2="{y(tv):.1f}" '
            f'stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y(tv) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{INK}">{_e(fmt(tv))}</text>'
        )
    out.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="{INK}"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{y(max(0.0, y0)):.1f}" '
        f'y2="{y(max(0.0, y0)):.1f}" stroke="{INK}"/>'
    )
    step = max(1, math.ceil(len(points) / 12))
    for i, (label, _) in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            out.append(
                f'<text x="{x(i):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle" '
                f'fill="{INK}">{_e(label)}</text>'
            )
    if target is not None:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="{RED}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{width - right}" y="{y(target) - 5:.1f}" font-size="11" text-anchor="end" '
            f'fill="{RED}">{_e(target_label)}</text>'
        )
    texts = TEXTS.get(lang, TEXTS["vi"])
    if last_year:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}"
            for i, (_, v) in enumerate(last_year[: len(points)])
        )
        out.append(
            f'<path d="{path}" fill="none" stroke="{GREY}" stroke-width="2" '
            'stroke-dasharray="4 3"/>'
        )
        for i, (label, v) in enumerate(last_year[: len(points)]):
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{GREY}">'
                f"<title>{_e(label)}: {_e(fmt(v))}</title></circle>"
            )
        _legend(out, left, 36, [(texts["now"], BLUE, False), (texts["last_year"], GREY, True)])
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points)
    )
    out.append(f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    for i, (label, v) in enumerate(points):
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{BLUE}">'
            f"<title>{_e(label)}: {_e(fmt(v))}</title></circle>"
        )
        if len(points) <= 12:
            out.append(
                f'<text x="{x(i):.1f}" y="{y(v) - 7:.1f}" font-size="10" text-anchor="middle" '
                f'fill="{BLUE}">{_e(fmt(v))}</text>'
            )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 14}" font-size="12" text-anchor="middle" '
        f'fill="{INK}">{_e(x_label)}</text>'
        f'<text transform="translate(16 {top + ph / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="{INK}">{_e(y_label)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def top_and_bottom(
    items: list[tuple[str, float]], limit: int = BAR_LIMIT
) -> tuple[list[tuple[str, float]], list[tuple[str, float]], int]:
    """Items sorted from the largest value down; beyond `limit`, the top and the bottom
    halves and how many are left out between them."""
    ranked = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) <= limit:
        return ranked, [], 0
    half = limit // 2
    return ranked[:half], ranked[-(limit - half) :], len(ranked) - limit


def bar_chart(
    title: str,
    items: list[tuple[str, float]],
    *,
    category_label: str,
    value_label: str,
    fmt: Fmt,
    target: float | None = None,
    target_label: str = "",
    last_year: Mapping[str, float] | None = None,
    limit: int = BAR_LIMIT,
    lang: str = "vi",
) -> str:
    """Horizontal bars per unit, sorted from the largest: y = units (named), x = values from
    zero (ticks, gridlines); optional target line and last year's figure of each unit (a grey
    mark on its bar). More than `limit` units: the top and bottom ones and a line saying how
    many are left out."""
    if not items:
        return ""
    texts = TEXTS.get(lang, TEXTS["vi"])
    head, tail, hidden = top_and_bottom(items, limit)
    rows: list[tuple[str, float] | None] = [*head, *([None] if hidden else []), *tail]
    bar = 22
    width = 640
    left, right, top, bottom = 170, 48, 48, 56
    height = top + bottom + bar * len(rows)
    before = [v for k, v in (last_year or {}).items() if k in {n for n, _ in items}]
    vals = [v for _, v in items] + before + ([target] if target is not None else [])
    ticks = _scale(vals)
    x0, x1 = ticks[0], ticks[-1]
    pw = width - left - right
    ph = bar * len(rows)

    def x(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    out = _head(width, height, title)
    for tv in ticks:
        out.append(
            f'<line x1="{x(tv):.1f}" x2="{x(tv):.1f}" y1="{top}" y2="{top + ph}" stroke="{GRID}"/>'
            f'<text x="{x(tv):.1f}" y="{top + ph + 15}" font-size="11" text-anchor="middle" '
            f'fill="{INK}">{_e(fmt(tv))}</text>'
        )
    for i, item in enumerate(rows):
        yy = top + i * bar
        if item is None:
            out.append(
                f'<text x="{left + pw / 2:.0f}" y="{yy + bar / 2 + 4:.1f}" font-size="11" '
                f'text-anchor="middle" fill="{GREY}">{_e(texts["others"].format(n=hidden))}</text>'
            )
            continue
        label, v = item
        short = label if len(label) <= 26 else label[:25] + "…"
        out.append(
            f'<text x="{left - 6}" y="{yy + bar / 2 + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{INK}">{_e(short)}</text>'
            f'<rect x="{x(min(0.0, v)):.1f}" y="{yy + 4}" width="{abs(x(v) - x(0.0)):.1f}" '
            f'height="{bar - 8}" fill="{BLUE}"><title>{_e(label)}: {_e(fmt(v))}</title></rect>'
            f'<text x="{x(max(0.0, v)) + 4:.1f}" y="{yy + bar / 2 + 4:.1f}" font-size="10" '
            f'fill="{INK}">{_e(fmt(v))}</text>'
        )
        then = (last_year or {}).get(label)
        if then is not None:
            out.append(
                f'<line x1="{x(then):.1f}" x2="{x(then):.1f}" y1="{yy + 1}" y2="{yy + bar - 1}" '
                f'stroke="{GREY}" stroke-width="3"><title>{_e(texts["last_year"])}: '
                f"{_e(fmt(then))}</title></line>"
            )
    out.append(
        f'<line x1="{x(0.0):.1f}" x2="{x(0.0):.1f}" y1="{top}" y2="{top + ph}" stroke="{INK}"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{top + ph}" y2="{top + ph}" stroke="{INK}"/>'
    )
    if target is not None:
        out.append(
            f'<line x1="{x(target):.1f}" x2="{x(target):.1f}" y1="{top - 4}" y2="{top + ph}" '
            f'stroke="{RED}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{x(target) + 4:.1f}" y="{top - 6}" font-size="11" fill="{RED}">'
            f"{_e(target_label)}</text>"
        )
    if last_year:
        _legend(out, left, 30, [(texts["last_year"], GREY, False)])
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 12}" font-size="12" text-anchor="middle" '
        f'fill="{INK}">{_e(value_label)}</text>'
        f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="{INK}">{_e(category_label)}</text>'
    )
    out.append("</svg>")
    return "".join(out)
