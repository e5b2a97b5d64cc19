"""A unit the 2025 reform abolished: when it ended, who took over its territory, and the one
sentence that says so wherever it is named for a period after it.

Every district ended on 30 June 2025 (its communes now report straight to the province) and
so did many provinces and communes (merged into another unit, or divided). `reform_of` gives
the unit's end and its successors (a commune's new commune, from the reform's crosswalk; a
province's new province; a district's province); `abolished` is the sentence the CLI (rollup,
report, status, consolidate) and the portal say when such a unit is asked for a later period
("106 Huyện Tam Đường không còn từ 01/07/2025 ... các xã nay báo cáo thẳng về 12 Tỉnh Lai
Châu"), instead of advice that cannot work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from validations.crosswalk import load_crosswalk
from validations.messages import Message, msg
from validations.period import DEFAULT_CLOSE_DAY, Period, PeriodError, parse_period
from validations.units import ReferenceUnits, Unit


@dataclass
class Reform:
    """A unit the 2025 reform abolished: when it ended, and who took over its territory."""

    unit: Unit  # its last version
    ended: date  # its last day
    successors: list[Unit] = field(default_factory=list)

    @property
    def since(self) -> date:
        """The first day without it."""
        return self.ended + timedelta(days=1)

    def message(self, period: str) -> Message:
        """The sentence: it no longer exists since ..., so no figures for `period`; see ..."""
        return msg(
            "reform.abolished_district" if self.unit.level == "D" else "reform.abolished",
            unit=f"{self.unit.code} {self.unit.name}",
            since=self.since,
            period=period,
            successors=[f"{u.code} {u.name}" for u in self.successors],
        )


def reform_of(code: str, units: ReferenceUnits, today: date) -> Reform | None:
    """The unit's end by the 2025 reform (None while it exists on `today`, or before its
    end)."""
    versions = units.versions(code)
    if not versions or any(v.valid_to is None or v.valid_to >= today for v in versions):
        return None
    last = max(versions, key=lambda v: v.valid_to)  # type: ignore[arg-type, return-value]
    on = last.valid_to
    assert on is not None
    later = on + timedelta(days=1)
    xw = load_crosswalk()
    links = sorted(xw.successors(code), key=lambda k: (not k.is_default, -k.share))
    succ = [u for k in links if k.share > 0 or k.is_default if (u := units.get(k.new_code, later))]
    if not succ and last.level == "D":  # districts were abolished: their province took over
        prov = [k.new_code for k in xw.successors(last.province_code)] or [last.province_code]
        succ = [u for c in prov if (u := units.get(c, later))]
    return Reform(last, on, list({u.code: u for u in succ}.values()))


def abolished(
    code: str, period: str | Period, units: ReferenceUnits, close_day: int = DEFAULT_CLOSE_DAY
) -> Message | None:
    """The sentence for a unit the reform abolished before the period's closing date (None
    for a unit that exists then, or that never existed, or a period that is not one)."""
    try:
        p = period if isinstance(period, Period) else parse_period(period)
    except PeriodError:
        return None
    closing = p.end(close_day)
    if units.get(code, closing) is not None:
        return None
    gone = reform_of(code, units, closing)
    return gone.message(p.code) if gone is not None else None
