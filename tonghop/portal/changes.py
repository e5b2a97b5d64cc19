"""What changed, and is it good: a change against the same period last year as the pages show
it, its arrow following the sign and its colour following the indicator's direction.

Each indicator says in the catalog which way is good (`direction`: up_is_good, down_is_good or
neutral; DOMAIN.md "Which way is good"): a fall in crime cases is good (green), a fall in the
clearance rate is bad (red), a rise in reports received is neither (grey). A colour never
follows the sign alone. An indicator without a direction is neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tonghop.portal.i18n import translator
from validations.fmt import fmt_num, fmt_pct

DIRECTIONS = ("up_is_good", "down_is_good", "neutral")
UP, DOWN, FLAT = "▲", "▼", "="


@dataclass(frozen=True)
class Change:
    """One change as a page shows it."""

    text: str  # "+12,5%", "-3 điểm", "chưa có số liệu cùng kỳ"
    arrow: str  # ▲ ▼ = or "" (no comparison)
    tone: str  # good | bad | flat | "" (CSS class)
    meaning: str  # "tốt lên", "xấu đi", ... (the tone in words, for readers without colour)


def direction_of(indicator: Any) -> str:
    """The indicator's direction from the catalog (neutral when it declares none)."""
    d = getattr(indicator, "direction", None) if indicator is not None else None
    return d if d in DIRECTIONS else "neutral"


def tone(delta: float, direction: str) -> str:
    """good, bad or flat for a change `delta` of an indicator with `direction`."""
    if delta == 0 or direction == "neutral":
        return "flat"
    rising = delta > 0
    return "good" if rising == (direction == "up_is_good") else "bad"


def change(delta: float | None, kind: str | None, indicator: Any, lang: str) -> Change:
    """A change as shown: `delta` in percent (`kind` "percent") or in points ("points")."""
    t = translator(lang)
    if delta is None or delta != delta:
        return Change(t("no_last_year"), "", "", "")
    sign = "+" if delta > 0 else ""
    text = (
        f"{sign}{fmt_pct(delta, lang)}"
        if kind == "percent"
        else f"{sign}{fmt_num(delta, lang)} {t('points')}"
    )
    arrow = UP if delta > 0 else DOWN if delta < 0 else FLAT
    shade = tone(delta, direction_of(indicator))
    return Change(text, arrow, shade, t("tone_same") if delta == 0 else t(f"tone_{shade}"))


def change_of_values(value: float | None, last: float | None, indicator: Any, lang: str) -> Change:
    """The change from last year's value to this one: in points for a rate or a flag, in
    percent of last year's for a count (none when last year's was 0 or missing)."""
    if value is None or last is None:
        return change(None, None, indicator, lang)
    kind = getattr(indicator, "kind", None)
    if kind in ("rate", "flag"):
        return change(round(value - last, 2), "points", indicator, lang)
    if last == 0:
        return change(None, None, indicator, lang)
    return change(round(100 * (value - last) / last, 2), "percent", indicator, lang)
