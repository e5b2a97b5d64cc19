"""The summary's sentences, in the provincial reports' own phrasing.

"Tội phạm về trật tự xã hội xảy ra 215 vụ, được kéo giảm 4,87% so với cùng kỳ năm 2023 (cùng
kỳ 226 vụ) ...; tỷ lệ điều tra khám phá đạt 83,72% (vượt chỉ tiêu 8,72%)". Every number is a
stored figure of the Summary (build.py); nothing is computed here but its wording:
- which way is good (catalog `direction`): "kéo giảm" for a good fall, plain "tăng" / "giảm"
  otherwise;
- the year compared with is named ("so với cùng kỳ năm 2023");
- a target is worded by its comparison: "vượt chỉ tiêu 10,94%" for ">=", "dưới mức chỉ tiêu
  15% (đạt chỉ tiêu)" for "<", "vượt 2,69% so với chỉ tiêu kéo giảm 5%" for a change; a
  target judged pro rata says so; one not judged this period (a year's goal in a month) is
  not judged;
- nothing found is said so ("Không phát hiện vụ mua bán người"), never "0 vụ ... 0 triệu đồng";
- unit types are the period's (no "thị trấn" after 1 July 2025).
Sentences are keyed; PARTS says which part of the report each belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from validations.crosswalk import load_crosswalk
from validations.fmt import fmt_num
from validations.period import parse_period
from validations.units import ReferenceUnits
from warehouse.rollup.pieces import mapped_months
from warehouse.summary.model import Summary, ok


def vn(x: object, decimals: int = 2) -> str:
    """Vietnamese number: '5.100', '92,86'."""
    return fmt_num(x, "vi", decimals)


def pct(x: object) -> str:
    return f"{vn(x)}%"


def _num(x: object) -> float | None:
    return float(x) if ok(x) else None  # type: ignore[arg-type]


# --- targets -----------------------------------------------------------------------------------
def _goal(text: object) -> tuple[str, float] | None:
    """'>= 75' -> ('>=', 75.0)."""
    if not isinstance(text, str) or " " not in text:
        return None
    op, value = text.split(" ", 1)
    try:
        return op, float(value)
    except ValueError:
        return None


HORIZON_VI = {"Y": "năm", "H": "6 tháng", "Q": "quý", "M": "tháng"}


def attainment_clause(row: dict[str, Any] | None, period_kind: str = "") -> str:
    """How a figure stands against its target, worded by the comparison:
    ">=": '(vượt chỉ tiêu 17,86%)', '(đạt chỉ tiêu)', '(chưa đạt chỉ tiêu 60%, còn thiếu
    8,04%)'; "<" / "<=": '(dưới mức chỉ tiêu 15%: đạt chỉ tiêu)', '(chưa đạt chỉ tiêu dưới 15%:
    cao hơn 1,2 điểm phần trăm)'; a pro-rata goal says the year's goal it comes from. Empty when
    the figure was not judged (no target, or a target of another horizon)."""
    if not row or not ok(row.get("attainment")) or not row.get("attainment"):
        return ""
    judged = _goal(row.get("target"))
    if judged is None:
        return ""
    op, goal = judged
    state, points = row["attainment"], _num(row.get("attainment_points")) or 0.0
    set_as = _goal(row.get("target_goal"))
    basis = ""
    if set_as and set_as[1] != goal:
        horizon = HORIZON_VI.get(str(row.get("target_horizon") or ""), "năm")
        span = {"M": "1 tháng", "Q": "1 quý"}.get(period_kind) or HORIZON_VI.get(period_kind, "kỳ")
        basis = f" tính cho {span} từ chỉ tiêu {horizon} {pct(set_as[1])}"
    if op in (">=", ">"):
        if state == "exceeded" and basis:
            return f" (vượt {pct(points)} so với chỉ tiêu {pct(goal)}{basis})"
        if state == "exceeded":
            return f" (vượt chỉ tiêu {pct(points)})"
        if state == "reached":
            return f" (đạt chỉ tiêu {pct(goal)}{basis})"
        return f" (chưa đạt chỉ tiêu {pct(goal)}{basis}, còn thiếu {pct(points)})"
    bound = "dưới" if op == "<" else "không quá"
    if state in ("exceeded", "reached"):
        return f" ({bound} mức chỉ tiêu {pct(goal)}: đạt chỉ tiêu)"
    return f" (chưa đạt chỉ tiêu {bound} {pct(goal)}: cao hơn {vn(points)} điểm phần trăm)"


def change_target_clause(row: dict[str, Any] | None) -> str:
    """A target on the change vs last year (crime must fall by at least 5 %):
    ', vượt 2,69% so với chỉ tiêu kéo giảm 5%' / ', đạt chỉ tiêu kéo giảm 5%' / ', chưa đạt chỉ
    tiêu kéo giảm 5%'."""
    if not row or not ok(row.get("attainment")) or not row.get("attainment"):
        return ""
    judged = _goal(row.get("target"))
    if judged is None:
        return ""
    op, goal = judged
    aim = f"kéo giảm {pct(abs(goal))}" if goal < 0 and op in ("<=", "<") else f"{op} {pct(goal)}"
    if row["attainment"] == "exceeded":
        return f", vượt {pct(row['attainment_points'])} so với chỉ tiêu {aim}"
    if row["attainment"] == "reached":
        return f", đạt chỉ tiêu {aim}"
    return f", chưa đạt chỉ tiêu {aim}"


# --- changes -----------------------------------------------------------------------------------
def change_clause(
    s: Summary, code: str, *, unit: str = "", with_then: bool = False, subject: str = ""
) -> str:
    """', được kéo giảm 7,69% so với cùng kỳ năm 2023' (a good fall), ', tăng 5,2% so với
    cùng kỳ năm 2023', ', bằng cùng kỳ năm 2023'; with `with_then`, last year's figure follows
    ('(cùng kỳ 1.287 vụ)'). From the warehouse's comparison; for crime_cases without it, the
    change and last year's figure the unit reported itself (crime_change_rate,
    crime_cases_prev)."""
    row = s.row(code) or {}
    ind = s.catalog.indicators[code]
    change, then = _num(row.get("change_vs_last_year")), _num(row.get("last_year_value"))
    helpers = [i for i in s.catalog.indicators.values() if i.is_helper and i.subject == code]
    if change is None and then is None:
        for h in helpers:
            if h.is_change and change is None:
                change = s.value(h.code)
            elif h.last_year_of and then is None:
                then = s.value(h.code)
    now = s.value(code)
    year = f"cùng kỳ năm {s.last_year}"
    lead = f" {subject}" if subject else ""
    tail = f" (cùng kỳ {vn(then)} {unit})".replace(" )", ")") if with_then and ok(then) else ""
    if change is None:
        if then == 0 and now:
            return f",{lead} tăng {vn(now)} {unit} so với {year} (cùng kỳ không có)".replace(
                "  ", " "
            )
        return ""
    if round(change, 2) == 0:
        return f",{lead} bằng {year}{tail}"
    if change < 0:
        verb = "được kéo giảm" if ind.direction == "down_is_good" else "giảm"
        return f",{lead} {verb} {pct(round(abs(change), 2))} so với {year}{tail}"
    return f",{lead} tăng {pct(round(change, 2))} so với {year}{tail}"


def _count(s: Summary, code: str) -> str:
    v = s.value(code)
    return vn(v) if v is not None else "—"


def _some(s: Summary, *codes: str) -> bool:
    """Is any of these figures present and not zero?"""
    return any(s.value(c) for c in codes)


def _listing(parts: list[tuple[str, str]], s: Summary) -> list[str]:
    """'{n} vụ ...' for each (code, template) whose figure is present and not zero."""
    out = []
    for code, template in parts:
        v = s.value(code)
        if v:
            out.append(template.format(n=vn(v)))
    return out


def _rate(s: Summary, code: str, lead: str) -> str:
    v = s.value(code)
    if v is None:
        return ""
    return f"{lead} {pct(round(v, 2))}{attainment_clause(s.row(code), s.period.kind)}"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "." if text else ""


# --- part I: the situation ---------------------------------------------------------------------
def _crime(s: Summary) -> str | None:
    if s.value("crime_cases") is None:
        return None
    if not s.value("crime_cases"):
        return f"Không xảy ra vụ phạm pháp hình sự{change_clause(s, 'crime_cases', unit='vụ')}."
    out = (
        f"Xảy ra {_count(s, 'crime_cases')} vụ phạm pháp hình sự (tội phạm về trật tự xã hội)"
        f"{change_clause(s, 'crime_cases', unit='vụ', with_then=True)}"
    )
    changes = [i.code for i in s.catalog.indicators.values() if i.is_change]
    for code in changes:
        if s.catalog.indicators[code].subject == "crime_cases":
            out += change_target_clause(s.row(code))
    if s.value("serious_cases"):
        out += (
            f"; trong đó án rất nghiêm trọng, đặc biệt nghiêm trọng {_count(s, 'serious_cases')} "
            f"vụ{change_clause(s, 'serious_cases')}"
        )
    return out + "."


def _economy(s: Summary) -> str | None:
    if s.value("economic_cases") is None:
        return None
    found = _listing(
        [
            ("economic_cases", "{n} vụ phạm tội về kinh tế"),
            ("corruption_cases", "{n} vụ tham nhũng, chức vụ"),
        ],
        s,
    )
    if not found:
        return "Không phát hiện vụ phạm tội về kinh tế, tham nhũng, chức vụ."
    out = "Phát hiện " + ", ".join(found)
    if s.value("assets_lost_mvnd"):
        out += f"; tài sản bị chiếm đoạt {_count(s, 'assets_lost_mvnd')} triệu đồng"
    return out + "."


def _drugs(s: Summary) -> str | None:
    if s.value("drug_cases") is None:
        return None
    if s.value("drug_cases"):
        out = (
            f"Phát hiện {_count(s, 'drug_cases')} vụ, {_count(s, 'drug_suspects')} đối tượng "
            f"phạm tội về ma túy{change_clause(s, 'drug_cases', subject='số vụ')}"
        )
    else:
        out = "Không phát hiện vụ phạm tội về ma túy"
    if s.value("drug_users_managed") is not None:
        out += (
            f"; {_count(s, 'drug_users_managed')} người nghiện, sử dụng ma túy có hồ sơ quản lý"
            f"{change_clause(s, 'drug_users_managed')}"
        )
    return out + "."


def _vice(s: Summary) -> str | None:
    if s.value("prostitution_cases") is None and s.value("hiv_new_cases") is None:
        return None
    found = _listing(
        [
            ("prostitution_cases", "phát hiện {n} vụ mại dâm"),
            ("hiv_new_cases", "phát hiện mới {n} người nhiễm HIV"),
        ],
        s,
    )
    if not found:
        return "Không phát hiện vụ mại dâm, người nhiễm HIV mới."
    return _sentence("; ".join(found))


def _trafficking(s: Summary) -> str | None:
    if s.value("trafficking_cases") is None:
        return None
    if not _some(s, "trafficking_cases", "trafficking_suspects", "trafficking_victims"):
        return "Không phát hiện vụ mua bán người."
    found = _listing(
        [("trafficking_cases", "{n} vụ"), ("trafficking_suspects", "{n} bị can")],
        s,
    )
    out = "Phát hiện " + ", ".join(found) + " mua bán người" if found else ""
    if s.value("trafficking_victims"):
        out += ("; t" if out else "T") + f"iếp nhận {_count(s, 'trafficking_victims')} nạn nhân"
    return out + "."


def _borders(s: Summary) -> str | None:
    if s.value("illegal_border_crossings") is None:
        return None
    if not s.value("illegal_border_crossings"):
        return "Không phát hiện trường hợp xuất nhập cảnh trái phép."
    return (
        f"Phát hiện {_count(s, 'illegal_border_crossings')} trường hợp xuất nhập cảnh trái phép"
        f"{change_clause(s, 'illegal_border_crossings')}."
    )


# --- part II: the results ----------------------------------------------------------------------
def _reports(s: Summary) -> str | None:
    if s.value("reports_received") is None:
        return None
    if not s.value("reports_received"):
        return "Không tiếp nhận tin báo, tố giác tội phạm và kiến nghị khởi tố."
    return (
        f"Tiếp nhận {_count(s, 'reports_received')} tin báo, tố giác tội phạm và kiến nghị khởi "
        f"tố, đã giải quyết {_count(s, 'reports_resolved')} tin"
        + _rate(s, "reports_resolution_rate", ", đạt")
        + "."
    )


def _investigation(s: Summary) -> str | None:
    if not s.value("crime_cases"):
        return None
    out = f"Điều tra, khám phá {_count(s, 'crime_solved')} vụ"
    out += _rate(s, "crime_clearance_rate", ", tỷ lệ điều tra khám phá đạt")
    if s.value("serious_cases"):
        out += (
            f"; án rất nghiêm trọng, đặc biệt nghiêm trọng khám phá "
            f"{_count(s, 'serious_solved')}/{_count(s, 'serious_cases')} vụ"
            + _rate(s, "serious_clearance_rate", ", đạt")
        )
    return out + "."


def _wanted(s: Summary) -> str | None:
    if s.value("wanted_existing") is None:
        return None
    out = f"Truy nã: hiện có {_count(s, 'wanted_existing')} đối tượng"
    caught = _listing(
        [
            ("wanted_surrendered", "vận động đầu thú {n}"),
            ("wanted_arrested", "bắt {n}"),
        ],
        s,
    )
    if caught:
        out += "; " + ", ".join(caught) + " đối tượng"
        out += _rate(s, "wanted_surrender_rate", "; tỷ lệ vận động đầu thú")
    else:
        out += "; chưa vận động đầu thú, bắt được đối tượng nào"
    return out + "."


def _assets(s: Summary) -> str | None:
    if not s.value("assets_lost_mvnd"):
        return None
    return (
        f"Thu hồi {_count(s, 'assets_recovered_mvnd')} triệu đồng tài sản bị chiếm đoạt"
        + _rate(s, "asset_recovery_rate", ", tỷ lệ thu hồi đạt")
        + "."
    )


def _drug_work(s: Summary) -> str | None:
    found = _listing(
        [
            ("rehab_compulsory", "đưa {n} người vào cơ sở cai nghiện bắt buộc"),
            ("rehab_voluntary", "{n} người cai nghiện tự nguyện"),
            ("methadone_patients", "điều trị methadone {n} người"),
            ("drug_hotspots_cleared", "triệt xóa {n} điểm, tụ điểm ma túy"),
            ("poppy_destroyed_m2", "phá bỏ {n} m2 cây thuốc phiện"),
        ],
        s,
    )
    flag = s.row("drug_free_commune")
    if flag and ok(flag.get("value")) and ok(flag.get("denominator")):
        found.append(
            f"{vn(flag['value'])}/{vn(flag['denominator'])} {s.leaf_words} không có ma túy"
            + (f" ({pct(flag['share'])})" if ok(flag.get("share")) else "")
        )
    return _sentence("; ".join(found)) if found else None


def _vice_work(s: Summary) -> str | None:
    found = _listing([("vice_inspections", "kiểm tra {n} lượt cơ sở kinh doanh dịch vụ")], s)
    if found and s.value("vice_violations") is not None:
        found[0] += (
            f", phát hiện {_count(s, 'vice_violations')} cơ sở vi phạm"
            if s.value("vice_violations")
            else ", không phát hiện cơ sở vi phạm"
        )
    found += _listing([("hiv_arv_patients", "{n} người nhiễm HIV đang điều trị ARV")], s)
    return _sentence("; ".join(found)) if found else None


def _movement(s: Summary) -> str | None:
    if s.value("propaganda_sessions") is None:
        return None
    found = _listing(
        [
            ("propaganda_sessions", "tổ chức {n} buổi tuyên truyền"),
            ("media_items", "đăng {n} tin, bài, phóng sự"),
            ("security_models_new", "xây dựng mới {n} mô hình"),
            ("security_models_maintained", "duy trì {n} mô hình về an ninh, trật tự"),
        ],
        s,
    )
    if found and s.value("propaganda_sessions") and s.value("propaganda_participants"):
        found[0] += f" với {_count(s, 'propaganda_participants')} lượt người tham dự"
    if s.value("hotspots_total"):
        found.append(
            f"chuyển hóa {_count(s, 'hotspots_transformed')}/{_count(s, 'hotspots_total')} địa "
            "bàn trọng điểm, phức tạp về an ninh, trật tự"
            + _rate(s, "hotspot_transformation_rate", ", đạt")
        )
    if s.value("residential_areas"):
        found.append(
            f"{_count(s, 'residential_areas_safe')}/{_count(s, 'residential_areas')} khu dân cư "
            "đạt tiêu chí an toàn về an ninh, trật tự" + _rate(s, "safe_area_rate", ", đạt")
        )
    return _sentence("; ".join(found)) if found else None


def _recidivism(s: Summary) -> str | None:
    if s.value("released_prisoners") is None:
        return None
    if not s.value("released_prisoners"):
        return "Không có người chấp hành xong án phạt tù trở về địa phương."
    out = (
        f"Tiếp nhận {_count(s, 'released_prisoners')} người chấp hành xong án phạt tù về địa phương"
    )
    if s.value("reoffenders"):
        out += f"; {_count(s, 'reoffenders')} người tái phạm"
        out += _rate(s, "reoffending_rate", ", tỷ lệ tái phạm")
    else:
        out += ", không có người tái phạm"
    return out + "."


SENTENCES: dict[str, Callable[[Summary], str | None]] = {
    # I. the situation
    "crime": _crime,
    "economy": _economy,
    "drugs": _drugs,
    "vice": _vice,
    "trafficking": _trafficking,
    "borders": _borders,
    # II. the results
    "reports": _reports,
    "investigation": _investigation,
    "wanted": _wanted,
    "assets": _assets,
    "drug_work": _drug_work,
    "vice_work": _vice_work,
    "movement": _movement,
    "recidivism": _recidivism,
}
# the part of the report each sentence belongs to, with its numbered item's title
PARTS: dict[str, tuple[str, str]] = {
    "crime": ("I", "Tội phạm về trật tự xã hội"),
    "economy": ("I", "Tội phạm về kinh tế, tham nhũng, chức vụ"),
    "drugs": ("I", "Tội phạm và tệ nạn ma túy"),
    "vice": ("I", "Tệ nạn mại dâm, HIV/AIDS"),
    "trafficking": ("I", "Tội phạm mua bán người"),
    "borders": ("I", "Xuất nhập cảnh trái phép"),
    "reports": ("II", "Tiếp nhận, giải quyết tin báo, tố giác tội phạm và kiến nghị khởi tố"),
    "investigation": ("II", "Điều tra, khám phá án"),
    "wanted": ("II", "Truy bắt, vận động đầu thú đối tượng truy nã"),
    "assets": ("II", "Thu hồi tài sản"),
    "drug_work": ("II", "Phòng, chống ma túy"),
    "vice_work": ("II", "Phòng, chống tệ nạn xã hội"),
    "movement": ("II", "Xây dựng phong trào Toàn dân bảo vệ an ninh Tổ quốc"),
    "recidivism": ("II", "Quản lý, giáo dục, tái hòa nhập cộng đồng"),
}


# --- how complete, what last year means --------------------------------------------------------
def completeness_sentences(s: Summary, units: ReferenceUnits) -> list[str]:
    """'Đã nhận báo cáo của 8/8 huyện, thành phố (100%)...'; for a quarter, half-year or year,
    the months too: '104/106 xã đủ 6 tháng; 634/636 báo cáo tháng (99,69%); thiếu tháng: Xã
    Thèn Sin (5/6 tháng)' and what their figures are."""
    on = s.period.end(s.catalog.close_day)

    def names(codes: list[str]) -> str:
        found = [units.get(c, on) for c in codes]
        return ", ".join(u.name if u else c for u, c in zip(found, codes, strict=True))

    c = s.completeness
    if c is None or not c.expected:
        return []
    partial = dict(c.partial)
    kids = s.child_words
    text = f"Đã nhận báo cáo của {len(c.received)}/{len(c.expected)} {kids}"
    if c.months > 1:
        text += f" đủ {c.months} tháng"
    if c.pct is not None:
        text += f" ({pct(c.pct)})"
    if c.via_children:
        text += (
            f", trong đó {len(c.via_children)} đơn vị được tính đủ vì tất cả {s.leaf_words} "
            f"trực thuộc đã báo cáo ({names(c.via_children)})"
        )
    missing = [m for m in c.missing if m not in partial]
    if missing:
        text += f"; chưa báo cáo: {names(missing)}"
    if c.late:
        text += f"; báo cáo muộn: {names(c.late)}"
    out = [text + "."]
    if c.child_level == "D" and c.leaves_expected:
        leaves_missing = [m for m in c.leaves_missing if m not in partial]
        line = f"{len(c.children_complete)}/{len(c.expected)} {kids} đủ số liệu {s.leaf_words}; "
        line += f"{c.leaves_received}/{c.leaves_expected} {s.leaf_words} đã báo cáo"
        if c.months > 1:
            line += f" đủ {c.months} tháng"
        if leaves_missing:
            shown = leaves_missing[:10]
            more = len(leaves_missing) - len(shown)
            line += f"; chưa báo cáo: {names(shown)}" + (f" và {more} đơn vị khác" if more else "")
        late = [m for cc in s.child_completeness for m in cc.late]
        if late:
            line += f"; báo cáo muộn: {len(late)} đơn vị"
        out.append(line + ".")
    if c.months > 1 and c.leaves_months_received < c.leaves_months_expected:
        line = (
            f"Đã nhận {vn(c.leaves_months_received)}/{vn(c.leaves_months_expected)} báo cáo "
            f"tháng của {s.leaf_words} ({pct(round(c.leaves_months_pct or 0, 2))})"
        )
        if partial:
            shown = list(partial.items())[:10]
            line += "; thiếu tháng: " + ", ".join(
                f"{names([u])} ({n}/{c.months} tháng)" for u, n in shown
            )
            if len(partial) > len(shown):
                line += f" và {len(partial) - len(shown)} đơn vị khác"
            line += (
                f". Số liệu {s.period.label_vi.split(' năm')[0]} của các đơn vị thiếu tháng là "
                "tổng các tháng đã báo cáo (số liệu thời điểm: tháng gần nhất đã báo cáo)"
                if s.catalog.partial_months == "sum_reported"
                else ". Các đơn vị thiếu tháng không được tính vào số liệu của kỳ"
            )
        out.append(line + ".")
    return out


def last_year_note(s: Summary, units: ReferenceUnits | None = None) -> str | None:
    """What "so với cùng kỳ" compares with, said plainly: that last year is not in the warehouse,
    or, across the 2025 reform, which predecessor units the same territory's figures sum."""
    last = s.period.same_period_last_year()
    if not s.has_last_year and s.value("crime_change_rate") is None:
        return (
            f"Chưa có số liệu cùng kỳ năm {last.year} ({last.label_vi}) trong kho dữ liệu nên "
            "chưa so sánh được với cùng kỳ; các cột cùng kỳ để trống."
        )
    if not s.has_last_year:
        return (
            f"Kho dữ liệu chưa có số liệu {last.label_vi}: tăng, giảm số vụ phạm pháp hình sự "
            "so với cùng kỳ theo số liệu cùng kỳ do đơn vị báo cáo."
        )
    row = s.row("crime_cases") or {}
    basis = row.get("last_year_units")
    if not hasattr(basis, "__len__") or isinstance(basis, str) or not len(basis):
        return None
    if list(basis) == [s.unit.code]:
        return None
    on = last.end(s.catalog.close_day)
    found = [(units.get(c, on) if units else None, c) for c in basis]
    names = ", ".join(f"{u.name} ({c})" if u else c for u, c in found)
    text = (
        f"Số liệu cùng kỳ năm {last.year} ({last.label_vi}) là của cùng địa bàn trước khi sắp "
        f"xếp đơn vị hành chính ngày 01/7/2025: tổng số liệu của {names}."
    )
    flags = [
        s.catalog.indicators[str(c)].report_label().lower()
        for c in s.rollup["indicator"]
        if str(c) in s.catalog.indicators and s.catalog.indicators[str(c)].is_flag
    ]
    if flags:
        text += (
            f" Tỷ lệ {', '.join(flags)} không so sánh với cùng kỳ: các {s.leaf_words} trước và "
            "sau sắp xếp không phải là cùng các đơn vị."
        )
    if row.get("last_year_approx") is True:
        text += (
            " Có xã được chia cho nhiều đơn vị mới: số liệu cùng kỳ là ước tính (quy tắc "
            f"'{s.catalog.divided_communes}', xem tài liệu)."
        )
    return text


def reform_note(s: Summary, units: ReferenceUnits | None = None) -> str | None:
    """For a period that began before the 2025 reform and closed after it (the year 2025):
    that its first months are the same territory's figures before the reform, the sum of its
    predecessors' (warehouse.rollup.pieces)."""
    close = s.catalog.close_day
    months = mapped_months(s.period, close)
    if not months:
        return None
    first, last = parse_period(months[0]), parse_period(months[-1])
    on = last.end(close)
    links = load_crosswalk(s.catalog.divided_communes).predecessors(s.unit.code)
    found = [(units.get(x.old_code, on) if units else None, x.old_code) for x in links]
    names = ", ".join(f"{u.name} ({c})" if u else c for u, c in found)
    label = s.period.label_vi
    return (
        f"{label[0].upper()}{label[1:]} trải qua sắp xếp đơn vị hành chính ngày 01/7/2025: số "
        f"liệu từ tháng {first.index}/{first.year} đến tháng {last.index}/{last.year} (đến ngày "
        f"{on:%d/%m/%Y}) là của cùng địa bàn trước khi sắp xếp"
        + (f", tổng số liệu của {names}" if names else "")
        + f" (số liệu của mỗi {s.leaf_words.split(',')[0]}: tổng số liệu của các đơn vị cũ trên "
        f"địa bàn đó); từ tháng {last.index % 12 + 1}/{last.year} là số liệu của các đơn vị "
        "hiện nay."
    )
