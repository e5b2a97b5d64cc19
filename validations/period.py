"""Reporting periods: `2024-06` (month), `2024-Q2`, `2024-H1`, `2024` and their closing calendar.

Government reporting closes its figures on the 14th (Decree 09/2019/ND-CP, art. 12): a monthly
period runs from the 15th of the previous month to the 14th, a year from 15 December to
14 December. The closing day is configuration (`close_day`), not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from validations.errors import TonghopError

DEFAULT_CLOSE_DAY = 14

# Every pattern is matched whole (re.fullmatch): "$" would also accept a final line break.
_CANON = re.compile(r"(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])))?")
# Forms seen in real files, normalised to the canonical one.
_LOOSE = [
    (re.compile(r"(\d{4})[-/.](\d{1,2})"), lambda m: f"{m[1]}-{int(m[2]):02d}"),
    (re.compile(r"(?:T|THÁNG\s*)?(\d{1,2})[-/.](\d{4})"), lambda m: f"{m[2]}-{int(m[1]):02d}"),
    (re.compile(r"(\d{4})[-/ ]?Q([1-4])"), lambda m: f"{m[1]}-Q{m[2]}"),
    (re.compile(r"Q([1-4])[-/ ](\d{4})"), lambda m: f"{m[2]}-Q{m[1]}"),
    (re.compile(r"(\d{4})[-/ ]?H([12])"), lambda m: f"{m[1]}-H{m[2]}"),
    (re.compile(r"(\d{4})\.0"), lambda m: m[1]),
]


class PeriodError(TonghopError, ValueError):
    """A period string that is not one of the accepted forms."""


class AmbiguousPeriodError(PeriodError):
    """A period that reads as two months: "2024.1" is what Excel keeps of a typed 2024.10 (a
    number loses its trailing zero), so it may be January or October."""


# A year, a dot or comma, then 1: October typed as a number, or January.
_AMBIGUOUS = re.compile(r"(\d{4})[.,]1")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting period with its kind and closing-calendar dates."""

    year: int
    kind: str  # "M", "Q", "H", "Y"
    index: int  # month 1-12, quarter 1-4, half 1-2, 1 for a year

    @property
    def code(self) -> str:
        if self.kind == "M":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "Q":
            return f"{self.year}-Q{self.index}"
        if self.kind == "H":
            return f"{self.year}-H{self.index}"
        return f"{self.year}"

    def __str__(self) -> str:
        return self.code

    @property
    def last_month(self) -> int:
        return {"M": self.index, "Q": self.index * 3, "H": self.index * 6, "Y": 12}[self.kind]

    @property
    def months(self) -> int:
        return {"M": 1, "Q": 3, "H": 6, "Y": 12}[self.kind]

    def end(self, close_day: int = DEFAULT_CLOSE_DAY) -> date:
        """The closing date: the close day of the period's last month."""
        return date(self.year, self.last_month, close_day)

    def start(self, close_day: int = DEFAULT_CLOSE_DAY) -> date:
        """The day after the previous period's closing date."""
        first = self.last_month - self.months + 1  # first calendar month of the period
        y, m = (self.year, first - 1) if first > 1 else (self.year - 1, 12)
        return date(y, m, close_day + 1)

    def same_period_last_year(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)

    def month_codes(self) -> list[str]:
        """The monthly periods that make up this one."""
        first = self.last_month - self.months + 1
        return [f"{self.year}-{m:02d}" for m in range(first, self.last_month + 1)]

    @property
    def label_vi(self) -> str:
        if self.kind == "M":
            return f"tháng {self.index:02d}/{self.year}"
        if self.kind == "Q":
            return f"quý {self.index}/{self.year}"
        if self.kind == "H":
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        return f"năm {self.year}"


def parse_period(text: object) -> Period:
    """Parse a canonical or commonly-seen period string; raise PeriodError otherwise."""
    s = str(text).strip().upper() if text is not None else ""
    amb = _AMBIGUOUS.fullmatch(s)
    if amb:
        raise AmbiguousPeriodError("period.ambiguous", text=str(text), year=amb[1])
    m = _CANON.fullmatch(s)
    if not m:
        for pattern, fix in _LOOSE:
            mm = pattern.fullmatch(s)
            if mm:
                m = _CANON.fullmatch(fix(mm))
                break
    if not m:
        raise PeriodError("period.not_a_period", text=str(text))
    year = int(m[1])
    if not 1990 <= year <= 2100:
        raise PeriodError("period.year_out_of_range", text=str(text), year=year)
    if m[2]:
        month = int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError("period.month_out_of_range", text=str(text), month=month)
        return Period(year, "M", month)
    if m[3]:
        return Period(year, "Q", int(m[3]))
    if m[4]:
        return Period(year, "H", int(m[4]))
    return Period(year, "Y", 1)


def normalise_period(text: object) -> str | None:
    """The canonical code of a period string, or None if it cannot be parsed."""
    try:
        return parse_period(text).code
    except PeriodError:
        return None


def latest_closed_month(today: date, close_day: int = DEFAULT_CLOSE_DAY) -> Period:
    """The most recent monthly period whose closing date is on or before `today`."""
    y, m = today.year, today.month
    if today.day < close_day:
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return Period(y, "M", m)
