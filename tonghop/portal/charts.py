"""Server-side SVG charts with labelled axes and the target line (no script, no library).

Figures come from the warehouse as they are; this module only draws them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

Fmt = Callable[[float], str]
BLUE, RED, INK, GRID = "#1f5fa8", "#b00020", "#1c2430", "#d5dbe3"


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


def _head(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(title)}" '
        'font-family="system-ui,sans-serif">',
        f"<title>{_e(title)}</title>",
        f'<text x="{width / 2:.0f}" y="18" font-size="14" font-weight="600" '
        f'text-anchor="middle" fill="{INK}">{_e(title)}</text>',
    ]


def line_chart(
    title: str,
    points: list[tuple[str, float]],
    *,
    x_label: str,
    y_label: str,
    fmt: Fmt,
    target: float | None = None,
    target_label: str = "",
) -> str:
    """A line over periods: x = periods (labelled), y = values (ticks), optional target line."""
    if not points:
        return ""
    width, height = 640, 320
    left, right, top, bottom = 72, 24, 34, 64
    vals = [v for _, v in points] + ([target] if target is not None else [])
    lo = min(0.0, min(vals))
    ticks = nice_ticks(lo, max(vals) * 1.05 if max(vals) > 0 else 1.0)
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
        f'<line x1="{left}" x2="{width - right}" y1="{top + ph}" y2="{top + ph}" stroke="{INK}"/>'
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


def bar_chart(
    title: str,
    items: list[tuple[str, float]],
    *,
    category_label: str,
    value_label: str,
    fmt: Fmt,
    target: float | None = None,
    target_label: str = "",
) -> str:
    """Horizontal bars per unit: y = units (named), x = values (ticks), optional target line."""
    if not items:
        return ""
    bar = 24
    width = 640
    left, right, top, bottom = 170, 40, 34, 56
    height = top + bottom + bar * len(items)
    vals = [v for _, v in items] + ([target] if target is not None else [])
    ticks = nice_ticks(min(0.0, min(vals)), max(vals) * 1.05 if max(vals) > 0 else 1.0)
    x0, x1 = ticks[0], ticks[-1]
    pw = width - left - right
    ph = bar * len(items)

    def x(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    out = _head(width, height, title)
    for tv in ticks:
        out.append(
            f'<line x1="{x(tv):.1f}" x2="{x(tv):.1f}" y1="{top}" y2="{top + ph}" stroke="{GRID}"/>'
            f'<text x="{x(tv):.1f}" y="{top + ph + 15}" font-size="11" text-anchor="middle" '
            f'fill="{INK}">{_e(fmt(tv))}</text>'
        )
    for i, (label, v) in enumerate(items):
        yy = top + i * bar
        short = label if len(label) <= 26 else label[:25] + "…"
        out.append(
            f'<text x="{left - 6}" y="{yy + bar / 2 + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{INK}">{_e(short)}</text>'
            f'<rect x="{x(min(0.0, v)):.1f}" y="{yy + 4}" width="{abs(x(v) - x(0.0)):.1f}" '
            f'height="{bar - 8}" fill="{BLUE}"><title>{_e(label)}: {_e(fmt(v))}</title></rect>'
            f'<text x="{x(max(0.0, v)) + 4:.1f}" y="{yy + bar / 2 + 4:.1f}" font-size="10" '
            f'fill="{INK}">{_e(fmt(v))}</text>'
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
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 12}" font-size="12" text-anchor="middle" '
        f'fill="{INK}">{_e(value_label)}</text>'
        f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="{INK}">{_e(category_label)}</text>'
    )
    out.append("</svg>")
    return "".join(out)
