"""The 2025 reform's crosswalk: which old units each new unit's territory comes from.

From 1 July 2025 Vietnam has 34 provinces (from 63) and 3,321 communes (from 10,035); districts
were abolished. `vietnamadminunits` ships the mapping (`converter_2025.json`): every old
province merged whole into one new province; every old commune either went whole into one new
commune (possibly with others: a merge) or was *divided* between several new communes, one of
which is its default new unit; old island districts without communes became special zones
(đặc khu), communes of the new structure.

A `Link` says that a share of an old unit's figures belongs to a new unit's territory:
- provinces and undivided communes: share 1 (`method` "same" when the new unit is exactly the
  old one, "merged" when it joins others);
- divided communes (method "divided", always `approximate`): the package gives each candidate
  new commune and its total area, but not the area of the old commune inside it, so any split
  of the old commune's figures is an estimate. The rule is configurable (catalog `reform:
  divided_communes:`):
  - `default` (the default): all of the old commune's figures go to its default new commune,
    as the package's own address converter does for an address without a street. Counts stay
    whole numbers and every province total is exact (a commune is only ever divided inside
    its province); the comparison is flagged approximate.
  - `area`: split in proportion to the candidate new communes' areas (a proxy: the areas of
    the new communes, not of the parts of the old one);
  - `equal`: split equally between the candidates.
Comparisons over time use these links (warehouse.rollup.change): a new unit's figure for a
period before the reform is the sum of its predecessors' figures, shares applied.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from validations.errors import TonghopError
from validations.units import REFORM_START, ReferenceDataError, _dataset_path

DIVIDED_RULES = ("default", "area", "equal")


class CrosswalkError(TonghopError, ValueError):
    """The crosswalk cannot be built (unknown rule, unreadable reference data)."""


@dataclass(frozen=True, slots=True)
class Link:
    """A share of an old unit's figures that belongs to a new unit's territory."""

    old_code: str
    old_level: str  # P, D (island district) or C
    new_code: str
    new_level: str  # P or C
    share: float
    method: str  # same | merged | divided
    approximate: bool
    is_default: bool = True
    valid_from: date = REFORM_START


class Crosswalk:
    """Links from the legacy structure to the 2025 one, by new and by old code."""

    def __init__(self, links: list[Link], divided: str):
        self.links = links
        self.divided = divided
        self._by_new: dict[str, list[Link]] = defaultdict(list)
        self._by_old: dict[str, list[Link]] = defaultdict(list)
        for link in links:
            self._by_new[link.new_code].append(link)
            self._by_old[link.old_code].append(link)

    def predecessors(self, new_code: str) -> list[Link]:
        """The old units (with a share > 0) whose figures make up the new unit's territory."""
        return [link for link in self._by_new.get(new_code, ()) if link.share > 0]

    def successors(self, old_code: str) -> list[Link]:
        """Where an old unit's figures went (every candidate of a divided commune, share 0
        included)."""
        return list(self._by_old.get(old_code, ()))

    def unchanged(self, old_code: str) -> str | None:
        """The new code of an old unit whose territory is exactly one new unit's, else None."""
        succ = [link for link in self._by_old.get(old_code, ()) if link.share > 0]
        if (
            len(succ) == 1
            and succ[0].share == 1
            and not succ[0].approximate  # a divided commune lost part of its territory
            and len(self.predecessors(succ[0].new_code)) == 1
        ):
            return succ[0].new_code
        return None


def _shares(candidates: list[dict], rule: str) -> list[float]:
    if rule == "default":
        return [1.0 if c["isDefaultNewWard"] else 0.0 for c in candidates]
    if rule == "equal":
        return [1.0 / len(candidates)] * len(candidates)
    areas = [float(c.get("newWardAreaKm2") or 0.0) for c in candidates]
    total = sum(areas)
    return [a / total for a in areas] if total > 0 else [1.0 / len(areas)] * len(areas)


@cache
def load_crosswalk(divided: str = "default") -> Crosswalk:
    """Read the package's 2025 mapping into links by GSO code (cached per rule and process)."""
    if divided not in DIVIDED_RULES:
        raise CrosswalkError("crosswalk.unknown_rule", rule=str(divided), rules=list(DIVIDED_RULES))
    db = _dataset_path()
    path = Path(db).parent / "converter_2025.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        legacy = con.execute(
            "SELECT provinceCode, provinceKey, districtCode, districtKey, wardKey, wardCode"
            " FROM admin_units_legacy"
        ).fetchall()
        reform = con.execute(
            "SELECT provinceCode, provinceKey, wardKey, wardCode FROM admin_units"
        ).fetchall()
        con.close()
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise ReferenceDataError(
            "reference_data.crosswalk_unreadable", path=str(path), detail=exc
        ) from exc
    old_province = {pk: pc for pc, pk, *_ in legacy}
    old_unit: dict[str, tuple[str, str]] = {}  # province_district_ward key -> (code, level)
    for _pc, pk, dc, dk, wk, wc in legacy:
        old_unit[f"{pk}_{dk}_{wk or ''}"] = (wc, "C") if wc else (dc, "D")
    new_province = {pk: pc for pc, pk, _, _ in reform}
    new_unit = {(pk, wk): wc for _, pk, wk, wc in reform}
    links: list[Link] = []
    for new_pk, olds in data["DICT_PROVINCE"].items():
        method = "same" if len(olds) == 1 else "merged"
        links += [
            Link(old_province[o], "P", new_province[new_pk], "P", 1.0, method, False) for o in olds
        ]
    for new_pk, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, olds in wards.items():
            code = new_unit[(new_pk, ward_key)]
            method = "same" if len(olds) == 1 else "merged"
            for o in olds:
                old_code, level = old_unit[o]
                links.append(Link(old_code, level, code, "C", 1.0, method, False))
    for new_pk, olds in data["DICT_PROVINCE_WARD_DIVIDED"].items():
        for o, candidates in olds.items():
            old_code, level = old_unit[o]
            for c, share in zip(candidates, _shares(candidates, divided), strict=True):
                code = new_unit[(new_pk, c["newWardKey"])]
                links.append(
                    Link(old_code, level, code, "C", share, "divided", True, c["isDefaultNewWard"])
                )
    return Crosswalk(links, divided)
