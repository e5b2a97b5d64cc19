"""A suspect: a cell whose change (with the other cells of its set) makes every rule hold, the
value or range it must take, and the Issues it explains; and the sentences that lead a verdict
("Số liệu có thể sai: Số vụ phạm pháp hình sự (dòng 2) = 21; giá trị làm mọi quy tắc thỏa
mãn: 215")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from validations.fmt import fmt_location, fmt_num

TEXTS = {
    "vi": {
        "lead": "Số liệu có thể sai: {cell}; {fits_word}: {fits}",
        "fits_one": "giá trị làm mọi quy tắc thỏa mãn",
        "fits_range": "giá trị làm mọi quy tắc thỏa mãn",
        "one_of": "Số liệu có thể sai (một trong {n} khả năng, mỗi khả năng đủ để mọi quy tắc thỏa mãn):",
        "together": "cùng với",
        "between": "từ {low} đến {high}",
        "recompute": "tính lại từ các số liệu thành phần đã sửa",
        "any": "bất kỳ giá trị nào hợp lệ",
        "numbers": {2: "hai", 3: "ba", 4: "bốn", 5: "năm"},
        "stems": "Bắt nguồn từ {cells}:",
        "stems_one_of": "Bắt nguồn từ một trong: {cells}:",
        "or": "hoặc",
        "other": "Các vấn đề khác:",
    },
    "en": {
        "lead": "Figure likely wrong: {cell}; {fits_word}: {fits}",
        "fits_one": "the value that satisfies every rule",
        "fits_range": "the values that satisfy every rule",
        "one_of": "One of these figures is likely wrong ({n} possibilities, each alone makes every rule hold):",
        "together": "together with",
        "between": "from {low} to {high}",
        "recompute": "recompute it from the corrected parts",
        "any": "any valid value",
        "numbers": {2: "two", 3: "three", 4: "four", 5: "five"},
        "stems": "Stemming from {cells}:",
        "stems_one_of": "Stemming from one of: {cells}:",
        "or": "or",
        "other": "Other problems:",
    },
}


@dataclass(frozen=True)
class Suspect:
    """One cell of a smallest set of cells whose change makes every rule hold.

    `group` numbers the independent parts of the form that break rules; a group with several
    equally small sets (`options` > 1) is uncertain: one of them is wrong ("one of these two"),
    and `option` says which set this cell belongs to. `low`/`high` bound the values that make
    every rule hold with the other cells of the set (None: no bound from the rules; equal: the
    one value that fits); `recompute` is a rate whose parts change too. `explains` lists the
    Issues (rule id, indicator) whose broken rule this cell's change repairs, each under one
    cell only."""

    indicator: str
    label_vi: str
    label_en: str
    location: str | None
    value: float
    low: float | None
    high: float | None
    explains: tuple[tuple[str, str | None], ...]
    group: int = 1
    option: int = 1
    options: int = 1
    recompute: bool = False
    weight: float = 1.0

    @property
    def certain(self) -> bool:
        return self.options == 1

    @property
    def fits(self) -> float | None:
        """The one value that makes every rule hold, where it is determined."""
        if self.low is not None and self.high is not None and self.low == self.high:
            return self.low
        return None

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for r, _ in self.explains))

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def cell_text(self, lang: str = "vi") -> str:
        """'Số vụ phạm pháp hình sự (dòng 2) = 21'."""
        where = fmt_location(self.location, lang)
        where = f" ({where[:1].lower()}{where[1:]})" if where else ""
        return f"{self.label(lang)}{where} = {fmt_num(self.value, lang)}"

    def fits_text(self, lang: str = "vi") -> str:
        if self.recompute:
            return TEXTS[lang]["recompute"]
        return range_text(self.low, self.high, lang)

    def message(self, lang: str = "vi") -> str:
        """The verdict's lead sentence for this cell."""
        t = TEXTS[lang]
        word = t["fits_one"] if self.fits is not None or self.recompute else t["fits_range"]
        return t["lead"].format(
            cell=self.cell_text(lang), fits_word=word, fits=self.fits_text(lang)
        )

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON form (`suspects` of a verdict)."""
        return {
            "indicator": self.indicator,
            "label": self.label(lang),
            "label_vi": self.label_vi,
            "label_en": self.label_en,
            "location": self.location,
            "value": _num(self.value),
            "fits": _num(self.fits),
            "fits_min": _num(self.low),
            "fits_max": _num(self.high),
            "recompute": self.recompute,
            "rules": list(self.rules),
            "explains": [[r, i] for r, i in self.explains],
            "group": self.group,
            "option": self.option,
            "options": self.options,
            "certain": self.certain,
            "message": self.message(lang),
            "message_vi": self.message("vi"),
            "message_en": self.message("en"),
        }


def range_text(low: float | None, high: float | None, lang: str = "vi") -> str:
    """'215', 'từ 180 đến 215', '≥ 570', '≤ 77' (None: no bound)."""
    t = TEXTS[lang]
    if low is not None and high is not None:
        if low == high:
            return fmt_num(low, lang)
        return t["between"].format(low=fmt_num(low, lang), high=fmt_num(high, lang))
    if low is not None:
        return f"≥ {fmt_num(low, lang)}"
    if high is not None:
        return f"≤ {fmt_num(high, lang)}"
    return t["any"]


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else float(x)


def lead_lines(suspects: Sequence[Suspect], lang: str = "vi") -> list[str]:
    """The sentences that lead a verdict: one per certain suspect; for a group with several
    equally small sets, one line saying so and one per set."""
    t = TEXTS[lang]
    out: list[str] = []
    groups: dict[int, list[Suspect]] = {}
    for s in suspects:
        groups.setdefault(s.group, []).append(s)
    for members in groups.values():
        n = members[0].options
        if n == 1:
            out += [s.message(lang) for s in members]
            continue
        out.append(t["one_of"].format(n=t["numbers"].get(n, str(n))))
        sets: dict[int, list[Suspect]] = {}
        for s in members:
            sets.setdefault(s.option, []).append(s)
        for cells in sets.values():
            parts = [f"{s.cell_text(lang)} → {s.fits_text(lang)}" for s in cells]
            out.append(f"  - {(' ' + t['together'] + ' ').join(parts)}")
    return out


def issue_groups(
    keys: Sequence[tuple[str, str | None]], suspects: Sequence[Suspect]
) -> list[tuple[list[Suspect], list[int]]]:
    """The Issues (given by their (rule id, indicator), in order) grouped under the cells they
    stem from: for each certain suspect, the Issues it explains; for a group with several
    possible sets, the Issues any of them explains, under all its cells; then, under no cell,
    the rest. Each Issue once; a group that explains none is left out."""
    taken: set[int] = set()
    out: list[tuple[list[Suspect], list[int]]] = []
    groups: dict[int, list[Suspect]] = {}
    for s in suspects:
        groups.setdefault(s.group, []).append(s)
    heads: list[list[Suspect]] = []
    for members in groups.values():
        heads += [[s] for s in members] if members[0].certain else [members]
    for head in heads:
        explained = {e for s in head for e in s.explains}
        mine = [n for n, k in enumerate(keys) if k in explained and n not in taken]
        taken.update(mine)
        if mine:
            out.append((head, mine))
    rest = [n for n in range(len(keys)) if n not in taken]
    if rest:
        out.append(([], rest))
    return out


def group_heading(head: Sequence[Suspect], lang: str = "vi", alone: bool = False) -> str:
    """'Bắt nguồn từ Số vụ ... (dòng 2) = 21:', '... một trong: A hoặc B:', or, for the Issues
    no cell explains, 'Các vấn đề khác:' (nothing when they are the only group: `alone`)."""
    t = TEXTS[lang]
    if not head:
        return "" if alone else t["other"]
    cells = f" {t['or']} ".join(dict.fromkeys(s.cell_text(lang) for s in head))
    key = "stems" if head[0].certain else "stems_one_of"
    return t[key].format(cells=cells)


def suspects_from_records(records: Sequence[dict[str, Any]]) -> list[Suspect]:
    """Suspects back from their JSON form (a stored verdict record)."""
    out = []
    for r in records:
        out.append(
            Suspect(
                indicator=str(r["indicator"]),
                label_vi=str(r.get("label_vi") or r.get("label") or r["indicator"]),
                label_en=str(r.get("label_en") or r.get("label") or r["indicator"]),
                location=r.get("location"),
                value=float(r["value"]),
                low=None if r.get("fits_min") is None else float(r["fits_min"]),
                high=None if r.get("fits_max") is None else float(r["fits_max"]),
                explains=tuple((str(a), b) for a, b in r.get("explains") or []),
                group=int(r.get("group", 1)),
                option=int(r.get("option", 1)),
                options=int(r.get("options", 1)),
                recompute=bool(r.get("recompute")),
            )
        )
    return out
