"""Reference administrative units, read from the SQLite file shipped by `vietnamadminunits`.

Two structures, each with validity dates:
- `legacy`: 63 provinces / 696 districts / 10,040 communes, valid until 2025-06-30;
- `2025`: 34 provinces / 3,321 communes (districts abolished), valid from 2025-07-01.

Codes are GSO codes kept as zero-padded strings (province 2 digits, district 3, commune 5).
A code can exist in both structures (commune "00004" is Trúc Bạch before and Ba Đình after),
so a unit is identified by (code, structure) and looked up *on a date*.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from validations.errors import TonghopError
from validations.period import DEFAULT_CLOSE_DAY, Period

LEGACY_END = date(2025, 6, 30)
REFORM_START = date(2025, 7, 1)
CODE_WIDTH = {"P": 2, "D": 3, "C": 5}
LEVEL_NAMES_VI = {"P": "tỉnh", "D": "huyện", "C": "xã"}
LEVEL_NAMES_EN = {"P": "province", "D": "district", "C": "commune"}


class ReferenceDataError(TonghopError, RuntimeError):
    """The reference unit data could not be read."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit in one structure."""

    code: str
    name: str
    level: str  # "P", "D" or "C"
    parent_code: str | None
    province_code: str
    structure: str  # "legacy" or "2025"
    valid_from: date | None
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def fold(text: str) -> str:
    """Accent- and case-folded key: 'Huyện Tam Đường ' -> 'huyentamduong'."""
    s = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return "".join(c for c in s.lower() if c.isalnum())


def structure_on(day: date) -> str:
    """Which structure is in force on a date."""
    return "legacy" if day <= LEGACY_END else "2025"


def period_date(period: Period, close_day: int = DEFAULT_CLOSE_DAY) -> date:
    """The date that decides a period's structure: its closing date."""
    return period.end(close_day)


class ReferenceUnits:
    """All units of both structures, indexed by code and by folded name."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self._by_code: dict[str, list[Unit]] = defaultdict(list)
        self._by_name: dict[str, list[Unit]] | None = None  # built on first name lookup
        self._children: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for u in units:
            self._by_code[u.code].append(u)
            if u.parent_code:
                self._children[(u.structure, u.parent_code)].append(u)

    # --- lookup by code ---------------------------------------------------------------------
    def versions(self, code: str) -> list[Unit]:
        """Every structure's unit with this code (possibly none)."""
        return list(self._by_code.get(code, ()))

    def get(self, code: str, on: date | None = None, level: str | None = None) -> Unit | None:
        """The unit with this code in force on `on` (any structure if None), of `level` if given."""
        for u in self._by_code.get(code, ()):
            if (on is None or u.valid_on(on)) and (level is None or u.level == level):
                return u
        return None

    def children(self, code: str, on: date) -> list[Unit]:
        """Direct children of a unit in the structure in force on `on`."""
        return list(self._children.get((structure_on(on), code), ()))

    def communes_of(self, code: str, on: date) -> list[Unit]:
        """All communes below a unit (itself if a commune) on a date."""
        unit = self.get(code, on)
        if unit is None:
            return []
        if unit.level == "C":
            return [unit]
        out: list[Unit] = []
        for child in self.children(code, on):
            out.extend(self.communes_of(child.code, on))
        return out

    def pad(self, raw: str, on: date | None = None) -> list[str]:
        """Candidate codes for a code whose leading zeros were stripped (Excel): '3386' -> '03386'."""
        raw = raw.strip()
        if raw.endswith(".0"):
            raw = raw[:-2]
        if not (raw.isascii() and raw.isdigit()):  # "²" or "٣" is a digit to isdigit
            return []
        if len(raw) in (2, 3, 5) and self.get(raw, on):
            return [raw]
        cands = []
        for width in (2, 3, 5):
            if len(raw) <= width:
                c = raw.zfill(width)
                if self.get(c, on):
                    cands.append(c)
        return cands

    # --- lookup by name ---------------------------------------------------------------------
    def find_by_name(
        self, name: str, on: date | None = None, level: str | None = None
    ) -> list[Unit]:
        """Units whose full or short name folds to the same key ('tam duong' finds Huyện Tam Đường)."""
        if self._by_name is None:
            index: dict[str, list[Unit]] = defaultdict(list)
            for u in self.units:
                key = fold(u.name)
                index[key].append(u)
                short = _short_key(u.name)
                if short != key:
                    index[short].append(u)
            self._by_name = index
        hits = self._by_name.get(fold(name), [])
        return [
            u
            for u in hits
            if (on is None or u.valid_on(on)) and (level is None or u.level == level)
        ]

    def in_force(self, on: date) -> list[Unit]:
        return [u for u in self.units if u.valid_on(on)]


_PREFIXES = ("thanhpho", "thixa", "thitran", "huyen", "quan", "phuong", "xa", "tinh")


def _short_key(name: str) -> str:
    key = fold(name)
    for p in _PREFIXES:
        if key.startswith(p) and len(key) > len(p):
            return key[len(p) :]
    return key


def _dataset_path() -> str:
    # find_spec locates the package without importing it (its __init__ imports pandas).
    spec = find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceDataError("reference_data.package_missing")
    return str(Path(next(iter(spec.submodule_search_locations))) / "data" / "dataset.db")


@cache
def load_units() -> ReferenceUnits:
    """Read both structures from the package's SQLite file (about 20 ms, cached per process)."""
    path = _dataset_path()
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        legacy = con.execute(
            "SELECT provinceCode, province, districtCode, district, wardCode, ward "
            "FROM admin_units_legacy"
        ).fetchall()
        reform = con.execute(
            "SELECT provinceCode, province, wardCode, ward FROM admin_units"
        ).fetchall()
        con.close()
    except sqlite3.Error as exc:
        raise ReferenceDataError(
            "reference_data.units_unreadable", path=str(path), detail=exc
        ) from exc

    units: list[Unit] = []
    seen: set[tuple[str, str]] = set()

    def add(u: Unit) -> None:
        if (u.structure, u.code) not in seen:
            seen.add((u.structure, u.code))
            units.append(u)

    for pc, pn, dc, dn, wc, wn in legacy:
        add(Unit(pc, pn, "P", None, pc, "legacy", None, LEGACY_END))
        add(Unit(dc, dn, "D", pc, pc, "legacy", None, LEGACY_END))
        if wc:  # island districts have no commune level
            add(Unit(wc, wn, "C", dc, pc, "legacy", None, LEGACY_END))
    for pc, pn, wc, wn in reform:
        add(Unit(pc, pn, "P", None, pc, "2025", REFORM_START, None))
        add(Unit(wc, wn, "C", pc, pc, "2025", REFORM_START, None))
    return ReferenceUnits(units)
