"""The period's summary as a province publishes it: sentences, tables, charts (md, html, xlsx).

Built from the warehouse with the read-only rollup computation (warehouse.rollup.rollup), so it
works for a consolidated period, for a quarter or half-year built from months, and for a unit
that sent its own report only. The sentences follow the seeds' phrasing: "tội phạm về trật tự
xã hội được kéo giảm 9,25% so với cùng kỳ; tỷ lệ điều tra khám phá đạt 92,86% (vượt chỉ tiêu
17,86%)".
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from validations.catalog import Catalog
from validations.errors import RefusedError
from validations.fmt import fmt_num
from validations.period import Period, parse_period
from validations.units import LEVEL_NAMES_VI, ReferenceUnits, Unit
from warehouse.rollup import Completeness, completeness, rollup

CHILD_NAMES_VI = {"D": "huyện, thành phố", "C": "xã, phường, thị trấn"}


def vn(x: object, decimals: int = 2) -> str:
    """Vietnamese number: '5.100', '92,86'."""
    return fmt_num(x, "vi", decimals)


def pct(x: object) -> str:
    return f"{vn(x)}%"


def _ok(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@dataclass
class Summary:
    """Everything the period report shows."""

    unit: Unit
    period: Period
    rollup: pd.DataFrame  # one row per indicator (warehouse.rollup.ROLLUP_COLUMNS)
    completeness: Completeness
    child_completeness: list[Completeness]
    children: pd.DataFrame  # unit_code, unit_name, indicator, value (side by side)
    trend: pd.DataFrame  # period, indicator, value (monthly, up to this period)
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (group, sentence)
    catalog: Catalog | None = None

    def value(self, code: str) -> float | None:
        row = self.rollup.loc[self.rollup["indicator"] == code]
        if row.empty or not _ok(row["value"].iloc[0]):
            return None
        return float(row["value"].iloc[0])

    def row(self, code: str) -> dict[str, Any] | None:
        row = self.rollup.loc[self.rollup["indicator"] == code]
        return None if row.empty else row.iloc[0].to_dict()

    @property
    def title(self) -> str:
        return (
            "BÁO CÁO KẾT QUẢ CÔNG TÁC PHÒNG, CHỐNG TỘI PHẠM VÀ TỆ NẠN XÃ HỘI "
            f"{self.period.label_vi.upper()}"
        )


# --- sentences ---------------------------------------------------------------------------------
def attainment_clause(row: dict[str, Any] | None) -> str:
    """'(vượt chỉ tiêu 17,86%)', '(đạt chỉ tiêu)', '(chưa đạt chỉ tiêu 60%, còn thiếu 8,04%)'.

    A target on a change (crime must fall by 5%) reads 'chỉ tiêu kéo giảm 5%'."""
    if not row or not _ok(row.get("attainment")) or row.get("attainment") is None:
        return ""
    points = row.get("attainment_points")
    target = str(row.get("target") or "").split()[-1] if row.get("target") else ""
    if row["attainment"] == "exceeded":
        return f" (vượt chỉ tiêu {pct(points)})"
    if row["attainment"] == "reached":
        return " (đạt chỉ tiêu)"
    goal = ""
    if target:
        t = float(target)
        goal = f" kéo giảm {pct(abs(t))}" if t < 0 else f" {pct(t)}"
    return f" (chưa đạt chỉ tiêu{goal}, còn thiếu {pct(points)})"


def change_clause(s: Summary, code: str, *, falling_is_good: bool = False) -> str:
    """'tăng 5,2% so với cùng kỳ' / 'giảm ...' / 'bằng cùng kỳ' from the warehouse or the form."""
    row = s.row(code)
    change = row.get("change_vs_last_year") if row else None
    if not _ok(change) and code == "crime_cases":
        change = s.value("crime_change_rate")
    if not _ok(change):
        return ""
    change = float(change)  # type: ignore[arg-type]
    if abs(change) < 0.005:
        return ", bằng cùng kỳ"
    if change < 0:
        verb = "được kéo giảm" if falling_is_good else "giảm"
        return f", {verb} {pct(abs(change))} so với cùng kỳ"
    return f", tăng {pct(change)} so với cùng kỳ"


def _count(s: Summary, code: str) -> str:
    v = s.value(code)
    return vn(v) if v is not None else "—"


def _rate_part(s: Summary, code: str, lead: str) -> str:
    v = s.value(code)
    if v is None:
        return ""
    return f"{lead} {pct(round(v, 2))}{attainment_clause(s.row(code))}"


def _crime(s: Summary) -> str | None:
    if s.value("crime_cases") is None:
        return None
    out = (
        f"Tội phạm về trật tự xã hội xảy ra {_count(s, 'crime_cases')} vụ"
        f"{change_clause(s, 'crime_cases', falling_is_good=True)}"
    )
    prev = s.value("crime_cases_prev")
    if prev is not None:
        out += f" (cùng kỳ {vn(prev)} vụ)"
    target = s.row("crime_change_rate")
    if target and _ok(target.get("attainment")) and target.get("attainment"):
        out += attainment_clause(target).replace(" (", ", ", 1).rstrip(")")
    out += f"; điều tra, khám phá {_count(s, 'crime_solved')} vụ"
    out += _rate_part(s, "crime_clearance_rate", ", tỷ lệ điều tra khám phá đạt")
    if s.value("serious_cases") is not None:
        out += (
            f"; án rất nghiêm trọng, đặc biệt nghiêm trọng {_count(s, 'serious_cases')} vụ, "
            f"khám phá {_count(s, 'serious_solved')} vụ"
            + _rate_part(s, "serious_clearance_rate", ", đạt")
        )
    return out + "."


def _reports(s: Summary) -> str | None:
    if s.value("reports_received") is None:
        return None
    return (
        f"Tiếp nhận {_count(s, 'reports_received')} tin báo, tố giác tội phạm và kiến nghị khởi tố, "
        f"đã giải quyết {_count(s, 'reports_resolved')} tin"
        + _rate_part(s, "reports_resolution_rate", ", đạt")
        + "."
    )


def _wanted(s: Summary) -> str | None:
    if s.value("wanted_existing") is None:
        return None
    return (
        f"Truy nã: hiện có {_count(s, 'wanted_existing')} đối tượng; vận động đầu thú "
        f"{_count(s, 'wanted_surrendered')}, bắt {_count(s, 'wanted_arrested')} đối tượng"
        + _rate_part(s, "wanted_surrender_rate", "; tỷ lệ vận động đầu thú")
        + "."
    )


def _economy(s: Summary) -> str | None:
    if s.value("economic_cases") is None:
        return None
    return (
        f"Phát hiện {_count(s, 'economic_cases')} vụ phạm tội về kinh tế, "
        f"{_count(s, 'corruption_cases')} vụ tham nhũng, chức vụ; tài sản bị chiếm đoạt "
        f"{_count(s, 'assets_lost_mvnd')} triệu đồng, đã thu hồi {_count(s, 'assets_recovered_mvnd')} "
        "triệu đồng" + _rate_part(s, "asset_recovery_rate", ", tỷ lệ thu hồi đạt") + "."
    )


def _drugs(s: Summary) -> str | None:
    if s.value("drug_cases") is None:
        return None
    out = (
        f"Phát hiện {_count(s, 'drug_cases')} vụ, {_count(s, 'drug_suspects')} đối tượng phạm tội "
        f"về ma túy{change_clause(s, 'drug_cases')}; quản lý {_count(s, 'drug_users_managed')} "
        "người nghiện, sử dụng ma túy có hồ sơ"
    )
    if s.value("rehab_compulsory") is not None:
        out += f"; cai nghiện bắt buộc {_count(s, 'rehab_compulsory')} người"
    out += f", cai nghiện tự nguyện {_count(s, 'rehab_voluntary')} người"
    if s.value("methadone_patients") is not None:
        out += f"; điều trị methadone {_count(s, 'methadone_patients')} người"
    out += (
        f"; triệt xóa {_count(s, 'drug_hotspots_cleared')} điểm, tụ điểm; phá bỏ "
        f"{_count(s, 'poppy_destroyed_m2')} m2 cây thuốc phiện"
    )
    flag = s.row("drug_free_commune")
    if flag and _ok(flag.get("value")):
        share = flag.get("share")
        if _ok(share) and share:
            total = round(float(flag["value"]) * 100 / float(share))
            out += f"; {vn(flag['value'])}/{vn(total)} xã, phường, thị trấn không có ma túy ({pct(share)})"
        else:
            out += f"; {vn(flag['value'])} xã, phường, thị trấn không có ma túy"
    return out + "."


def _vice(s: Summary) -> str | None:
    parts = []
    if s.value("vice_inspections") is not None:
        parts.append(
            f"kiểm tra {_count(s, 'vice_inspections')} lượt cơ sở kinh doanh dịch vụ, phát hiện "
            f"{_count(s, 'vice_violations')} cơ sở vi phạm"
        )
    if s.value("prostitution_cases") is not None:
        parts.append(f"phát hiện {_count(s, 'prostitution_cases')} vụ mại dâm")
    if s.value("hiv_new_cases") is not None:
        parts.append(
            f"phát hiện mới {_count(s, 'hiv_new_cases')} người nhiễm HIV, "
            f"{_count(s, 'hiv_arv_patients')} người đang điều trị ARV"
        )
    return (parts[0][0].upper() + "; ".join(parts)[1:] + ".") if parts else None


def _trafficking(s: Summary) -> str | None:
    if s.value("trafficking_cases") is None:
        return None
    if not any(
        s.value(c) for c in ("trafficking_cases", "trafficking_suspects", "trafficking_victims")
    ):
        return "Không phát hiện vụ mua bán người."
    return (
        f"Mua bán người: {_count(s, 'trafficking_cases')} vụ, {_count(s, 'trafficking_suspects')} "
        f"bị can; tiếp nhận {_count(s, 'trafficking_victims')} nạn nhân."
    )


def _movement(s: Summary) -> str | None:
    if s.value("propaganda_sessions") is None:
        return None
    out = (
        f"Tổ chức {_count(s, 'propaganda_sessions')} buổi tuyên truyền với "
        f"{_count(s, 'propaganda_participants')} lượt người tham dự"
    )
    if s.value("media_items") is not None:
        out += f"; đăng {_count(s, 'media_items')} tin, bài, phóng sự"
    out += (
        f"; xây dựng mới {_count(s, 'security_models_new')} mô hình, duy trì "
        f"{_count(s, 'security_models_maintained')} mô hình về an ninh, trật tự; chuyển hóa "
        f"{_count(s, 'hotspots_transformed')}/{_count(s, 'hotspots_total')} địa bàn trọng điểm, "
        "phức tạp" + _rate_part(s, "hotspot_transformation_rate", ", đạt")
    )
    out += (
        f"; {_count(s, 'residential_areas_safe')}/{_count(s, 'residential_areas')} khu dân cư đạt "
        "tiêu chí an toàn về an ninh, trật tự" + _rate_part(s, "safe_area_rate", ", đạt")
    )
    return out + "."


def _borders(s: Summary) -> str | None:
    if s.value("illegal_border_crossings") is None:
        return None
    return (
        f"Phát hiện {_count(s, 'illegal_border_crossings')} trường hợp xuất nhập cảnh trái phép"
        f"{change_clause(s, 'illegal_border_crossings')}."
    )


def _recidivism(s: Summary) -> str | None:
    if s.value("released_prisoners") is None:
        return None
    return (
        f"Tiếp nhận {_count(s, 'released_prisoners')} người chấp hành xong án phạt tù về địa "
        f"phương, {_count(s, 'reoffenders')} người tái phạm"
        + _rate_part(s, "reoffending_rate", ", tỷ lệ tái phạm")
        + "."
    )


SENTENCES: dict[str, Callable[[Summary], str | None]] = {
    "crime": _crime,
    "reports": _reports,
    "wanted": _wanted,
    "economy": _economy,
    "drugs": _drugs,
    "vice": _vice,
    "trafficking": _trafficking,
    "movement": _movement,
    "borders": _borders,
    "recidivism": _recidivism,
}


def completeness_sentences(s: Summary, units: ReferenceUnits) -> list[str]:
    """'Đã nhận báo cáo của 8/8 huyện, thành phố (100%); báo cáo muộn: Huyện Nậm Nhùn.'"""
    out = []
    on = s.period.end(s.catalog.close_day if s.catalog else 14)

    def names(codes: list[str]) -> str:
        return ", ".join((units.get(c, on).name if units.get(c, on) else c) for c in codes)

    c = s.completeness
    if c.expected:
        text = (
            f"Đã nhận báo cáo của {len(c.received)}/{len(c.expected)} "
            f"{CHILD_NAMES_VI.get(c.child_level or '', 'đơn vị')}"
        )
        if c.pct is not None:
            text += f" ({pct(c.pct)})"
        if c.missing:
            text += f"; chưa báo cáo: {names(c.missing)}"
        if c.late:
            text += f"; báo cáo muộn: {names(c.late)}"
        out.append(text + ".")
    if s.child_completeness:
        exp = sum(len(cc.expected) for cc in s.child_completeness)
        rec = sum(len(cc.received) for cc in s.child_completeness)
        missing = [m for cc in s.child_completeness for m in cc.missing]
        late = [m for cc in s.child_completeness for m in cc.late]
        text = f"Cấp xã: {rec}/{exp} xã, phường, thị trấn đã báo cáo"
        if missing:
            text += f"; chưa báo cáo: {names(missing)}"
        if late:
            text += f"; báo cáo muộn: {len(late)} đơn vị"
        out.append(text + ".")
    return out


# --- building ------------------------------------------------------------------------------------
TREND_INDICATORS = ("crime_cases", "crime_clearance_rate")
SIDE_BY_SIDE = (
    "crime_cases",
    "crime_solved",
    "crime_clearance_rate",
    "drug_cases",
    "drug_users_managed",
    "propaganda_sessions",
)


def build_summary(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    trend_months: int = 12,
) -> Summary:
    """Gather the rollup, completeness, children side by side and the monthly trend."""
    p = parse_period(period)
    on = p.end(catalog.close_day)
    unit = units.get(unit_code, on)
    if unit is None:
        raise SummaryError(f"Unit {unit_code} does not exist in period {p.code}.")
    df = rollup(con, p.code, unit.code, catalog, units)
    if df.empty or df["value"].notna().sum() == 0:
        raise SummaryError(
            f"No data for {unit.code} {p.code} in the warehouse: ingest its report or its "
            "children's first."
        )
    comp = completeness(con, p.code, unit.code, catalog, units)
    kids = units.children(unit.code, on)
    child_comp = []
    rows = []
    for child in kids:
        if child.level != "C":
            child_comp.append(completeness(con, p.code, child.code, catalog, units))
        try:
            cdf = rollup(con, p.code, child.code, catalog, units)
        except Exception:  # a child without any data: shown as blank
            continue
        for r in cdf.itertuples():
            if r.indicator in SIDE_BY_SIDE:
                rows.append((child.code, child.name, r.indicator, r.value))
    children = pd.DataFrame(rows, columns=["unit_code", "unit_name", "indicator", "value"])
    trend = _trend(con, p, unit.code, catalog, units, trend_months)
    s = Summary(unit, p, df, comp, child_comp, children, trend, catalog=catalog)
    s.sentences = [(g, text) for g, fn in SENTENCES.items() if (text := fn(s))]
    return s


def _trend(
    con: duckdb.DuckDBPyConnection,
    p: Period,
    unit_code: str,
    catalog: Catalog,
    units: ReferenceUnits,
    months: int,
) -> pd.DataFrame:
    y, m = p.year, p.last_month
    codes = []
    for _ in range(months):
        codes.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    rows = []
    for code in reversed(codes):
        on = parse_period(code).end(catalog.close_day)
        if units.get(unit_code, on) is None:
            continue
        try:
            df = rollup(con, code, unit_code, catalog, units)
        except Exception:
            continue
        for r in df.itertuples():
            if r.indicator in TREND_INDICATORS and _ok(r.value):
                rows.append((code, r.indicator, float(r.value)))
    return pd.DataFrame(rows, columns=["period", "indicator", "value"])


class SummaryError(RefusedError, ValueError):
    """The summary cannot be built (no data for that unit and period)."""


# --- tables --------------------------------------------------------------------------------------
TABLE_HEADERS = [
    "Chỉ tiêu",
    "Đơn vị tính",
    "Kỳ này",
    "Tăng/giảm so với cùng kỳ",
    "Chỉ tiêu giao",
    "Đánh giá",
]
ATTAIN_VI = {"exceeded": "Vượt", "reached": "Đạt", "missed": "Chưa đạt"}


def group_tables(s: Summary) -> list[tuple[str, list[list[str]]]]:
    """One table per indicator group, rows of display strings."""
    cat = s.catalog
    assert cat is not None
    out = []
    by_code = {r["indicator"]: r for r in s.rollup.to_dict("records")}
    for group, labels in cat.groups.items():
        rows = []
        for ind in cat.indicators.values():
            r = by_code.get(ind.code)
            if ind.group != group or r is None or not _ok(r.get("value")):
                continue
            value = pct(round(r["value"], 2)) if ind.kind == "rate" else vn(r["value"])
            if ind.kind == "flag" and _ok(r.get("share")):
                value = f"{vn(r['value'])} ({pct(r['share'])})"
            change = r.get("change_vs_last_year")
            change_s = ""
            if _ok(change):
                unit = " điểm" if r.get("change_kind") == "points" else "%"
                change_s = f"{'+' if change > 0 else ''}{vn(change)}{unit}"
            target = ind.target
            target_s = f"{target.op} {vn(target.value)}%" if target else ""
            attain = ""
            if _ok(r.get("attainment")) and r.get("attainment"):
                attain = f"{ATTAIN_VI.get(r['attainment'], r['attainment'])} ({vn(r['attainment_points'])} điểm)"
            rows.append([ind.label_vi, ind.unit_vi, value, change_s, target_s, attain])
        if rows:
            out.append((labels["vi"], rows))
    return out


# --- markdown ------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(s: Summary, units: ReferenceUnits) -> str:
    lines = [
        f"# {s.title}",
        "",
        f"**{s.unit.name}** ({LEVEL_NAMES_VI[s.unit.level]}, mã {s.unit.code}), "
        f"kỳ {s.period.code}: từ {s.period.start(s.catalog.close_day if s.catalog else 14):%d/%m/%Y} "
        f"đến {s.period.end(s.catalog.close_day if s.catalog else 14):%d/%m/%Y}.",
        "",
    ]
    lines += ["## Tình hình báo cáo", ""] + [f"- {t}" for t in completeness_sentences(s, units)]
    lines += ["", "## Kết quả chủ yếu", ""] + [f"- {t}" for _, t in s.sentences]
    for title, rows in group_tables(s):
        lines += [
            "",
            f"### {title}",
            "",
            "| " + " | ".join(TABLE_HEADERS) + " |",
            "|" + "---|" * len(TABLE_HEADERS),
        ]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    if not s.children.empty:
        lines += ["", "## Các đơn vị trực thuộc", ""] + _children_md(s)
    return "\n".join(lines) + "\n"


def _children_pivot(s: Summary) -> pd.DataFrame:
    piv = s.children.pivot_table(
        index=["unit_code", "unit_name"], columns="indicator", values="value", aggfunc="first"
    )
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    return piv[cols].reset_index()


def _children_md(s: Summary) -> list[str]:
    cat = s.catalog
    assert cat is not None
    piv = _children_pivot(s)
    cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
    head = ["Đơn vị"] + [cat.indicators[c].label_vi for c in cols]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in piv.to_dict("records"):
        cells = [_md_cell(r["unit_name"])] + [
            (pct(round(r[c], 2)) if cat.indicators[c].kind == "rate" else vn(r[c]))
            if _ok(r[c])
            else "—"
            for c in cols
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


# --- html with inline SVG charts -------------------------------------------------------------
def _svg_bars(title: str, items: list[tuple[str, float]], unit: str) -> str:
    if not items:
        return ""
    e = html.escape
    width, bar_h, left = 640, 22, 190
    height = 40 + bar_h * len(items)
    top = max(v for _, v in items) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{e(title)}</text>',
    ]
    for i, (label, v) in enumerate(items):
        y = 28 + i * bar_h
        w = (width - left - 80) * (v / top)
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{e(label)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="#2f6db5"/>'
        )
        parts.append(
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{e(vn(v))}{e(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_line(title: str, points: list[tuple[str, float]], unit: str) -> str:
    if len(points) < 2:
        return ""
    e = html.escape
    width, height, pad = 640, 220, 40
    vals = [v for _, v in points]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / (len(points) - 1)
    xy = [
        (pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad - 20))
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{e(title)}</text>',
        f'<path d="{path}" fill="none" stroke="#b5462f" stroke-width="2"/>',
    ]
    for (label, v), (x, y) in zip(points, xy, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#b5462f"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle">{e(vn(v))}{e(unit)}</text>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" font-size="11" text-anchor="middle">{e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(s: Summary) -> list[str]:
    cat = s.catalog
    assert cat is not None
    out = []
    for code in TREND_INDICATORS:
        pts = [
            (r.period[5:] + "/" + r.period[:4], r.value)
            for r in s.trend.itertuples()
            if r.indicator == code
        ]
        unit = "%" if cat.indicators[code].kind == "rate" else ""
        out.append(_svg_line(f"{cat.indicators[code].label_vi}: diễn biến theo tháng", pts, unit))
    if not s.children.empty:
        piv = _children_pivot(s)
        for code in ("crime_cases", "crime_clearance_rate"):
            if code in piv.columns:
                items = [
                    (r["unit_name"], float(r[code])) for r in piv.to_dict("records") if _ok(r[code])
                ]
                unit = "%" if cat.indicators[code].kind == "rate" else ""
                out.append(_svg_bars(f"{cat.indicators[code].label_vi} theo đơn vị", items, unit))
    return [c for c in out if c]


def render_html(s: Summary, units: ReferenceUnits) -> str:
    """One self-contained page (inline CSS and SVG, no script, no external resource)."""
    e = html.escape
    body = [
        f"<h1>{e(s.title)}</h1>",
        f"<p><strong>{e(s.unit.name)}</strong> — kỳ {e(s.period.code)} ({e(s.period.label_vi)})</p>",
        "<h2>Tình hình báo cáo</h2><ul>",
    ]
    body += [f"<li>{e(t)}</li>" for t in completeness_sentences(s, units)]
    body += (
        ["</ul><h2>Kết quả chủ yếu</h2><ul>"]
        + [f"<li>{e(t)}</li>" for _, t in s.sentences]
        + ["</ul>"]
    )
    body += (
        ['<h2>Biểu đồ</h2><div class="charts">']
        + [f"<figure>{c}</figure>" for c in charts(s)]
        + ["</div>"]
    )
    for title, rows in group_tables(s):
        body.append(
            f"<h3>{e(title)}</h3><table><thead><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in TABLE_HEADERS)
            + "</tr></thead><tbody>"
        )
        body += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        body.append("</tbody></table>")
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(s.title)} — {e(s.unit.name)}</title>
<style>
body{{font-family:"Times New Roman",serif;margin:2rem auto;max-width:60rem;line-height:1.45}}
table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}
td,th{{border:1px solid #999;padding:.25rem .45rem;text-align:left;vertical-align:top}}
th{{background:#eef2f7}} figure{{margin:1rem 0}}
</style></head><body>
{"".join(body)}
</body></html>
"""


# --- xlsx ----------------------------------------------------------------------------------------
def write_xlsx(s: Summary, units: ReferenceUnits, path: str | Path) -> Path:
    """The same tables as a workbook; every text cell is written as text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from validations.report import xlsx_text

    wb = Workbook()
    ws = wb.active
    ws.title = "TongHop"

    def add(sheet: Any, row: list[object]) -> None:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            xlsx_text(cell)  # text stays text: never a formula, no visible apostrophe

    def put(row: list[object], bold: bool = False) -> None:
        add(ws, row)
        if bold:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)

    put([s.title], bold=True)
    put([f"{s.unit.name} — kỳ {s.period.code} ({s.period.label_vi})"])
    put([])
    for t in completeness_sentences(s, units):
        put([t])
    for _, t in s.sentences:
        put([t])
    for title, rows in group_tables(s):
        put([])
        put([title], bold=True)
        put(list(TABLE_HEADERS), bold=True)
        for row in rows:
            put(list(row))
    ws.column_dimensions["A"].width = 60
    for col in "BCDEF":
        ws.column_dimensions[col].width = 18
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if not s.children.empty:
        cs = wb.create_sheet("DonVi")
        piv = _children_pivot(s)
        cat = s.catalog
        assert cat is not None
        cols = [c for c in SIDE_BY_SIDE if c in piv.columns]
        add(cs, ["Mã", "Đơn vị"] + [cat.indicators[c].label_vi for c in cols])
        for r in piv.to_dict("records"):
            add(
                cs,
                [r["unit_code"], r["unit_name"]]
                + [float(r[c]) if _ok(r[c]) else None for c in cols],
            )
    ts = wb.create_sheet("XuHuong")
    add(ts, ["Kỳ", "Chỉ tiêu", "Giá trị"])
    for r in s.trend.itertuples():
        add(ts, [r.period, r.indicator, float(r.value)])
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
