"""The summary's sentences, in the provincial reports' own phrasing.

"Tội phạm về trật tự xã hội xảy ra 215 vụ, được kéo giảm 4,87% so với cùng kỳ (cùng kỳ 226
vụ) ...; tỷ lệ điều tra khám phá đạt 83,72% (vượt chỉ tiêu 8,72%)". Every number is a stored
figure of the Summary (build.py); nothing is computed here but its wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from validations.fmt import fmt_num
from validations.units import ReferenceUnits
from warehouse.summary.build import Summary
from warehouse.summary.build import ok as _ok

CHILD_NAMES_VI = {"D": "huyện, thành phố", "C": "xã, phường, thị trấn"}


def vn(x: object, decimals: int = 2) -> str:
    """Vietnamese number: '5.100', '92,86'."""
    return fmt_num(x, "vi", decimals)


def pct(x: object) -> str:
    return f"{vn(x)}%"


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
    if round(change, 2) == 0:
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
    # last year's figure: the warehouse's, which the change was computed from; else the one the
    # unit reported (crime_cases_prev)
    row = s.row("crime_cases") or {}
    prev = row.get("last_year_value")
    if not _ok(prev):
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
        total, share = flag.get("denominator"), flag.get("share")
        if _ok(total) and _ok(share):
            out += (
                f"; {vn(flag['value'])}/{vn(total)} xã, phường, thị trấn không có ma túy "
                f"({pct(share)})"
            )
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
    """'Đã nhận báo cáo của 8/8 huyện, thành phố (100%): 8/8 huyện đủ số liệu xã; 106/106 xã,
    phường, thị trấn đã báo cáo.' (a district whose communes all reported counts as received)."""
    on = s.period.end(s.catalog.close_day)

    def names(codes: list[str]) -> str:
        found = [units.get(c, on) for c in codes]
        return ", ".join(u.name if u else c for u, c in zip(found, codes, strict=True))

    c = s.completeness
    if c is None or not c.expected:
        return []
    kids = CHILD_NAMES_VI.get(c.child_level or "", "đơn vị")
    text = f"Đã nhận báo cáo của {len(c.received)}/{len(c.expected)} {kids}"
    if c.pct is not None:
        text += f" ({pct(c.pct)})"
    if c.via_children:
        text += (
            f", trong đó {len(c.via_children)} đơn vị được tính đủ vì tất cả xã, phường, thị trấn "
            f"trực thuộc đã báo cáo ({names(c.via_children)})"
        )
    if c.missing:
        text += f"; chưa báo cáo: {names(c.missing)}"
    if c.late:
        text += f"; báo cáo muộn: {names(c.late)}"
    out = [text + "."]
    if c.child_level == "D" and c.leaves_expected:
        line = (
            f"{len(c.children_complete)}/{len(c.expected)} huyện, thành phố đủ số liệu xã; "
            f"{c.leaves_received}/{c.leaves_expected} xã, phường, thị trấn đã báo cáo"
        )
        if c.leaves_missing:
            shown = c.leaves_missing[:10]
            more = len(c.leaves_missing) - len(shown)
            line += f"; chưa báo cáo: {names(shown)}" + (f" và {more} đơn vị khác" if more else "")
        late = [m for cc in s.child_completeness for m in cc.late]
        if late:
            line += f"; báo cáo muộn: {len(late)} đơn vị"
        out.append(line + ".")
    return out


def last_year_note(s: Summary, units: ReferenceUnits | None = None) -> str | None:
    """What "so với cùng kỳ" compares with, said plainly: that last year is not in the warehouse,
    or, across the 2025 reform, which predecessor units the same territory's figures sum."""
    last = s.period.same_period_last_year()
    if not s.has_last_year and s.value("crime_change_rate") is None:
        return (
            f"Chưa có số liệu cùng kỳ ({last.code}) trong kho dữ liệu nên chưa so sánh được với "
            "cùng kỳ; cột “Tăng/giảm so với cùng kỳ” để trống."
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
        f"Số liệu cùng kỳ ({last.code}) là của cùng địa bàn trước khi sắp xếp đơn vị hành chính "
        f"ngày 01/7/2025: tổng số liệu của {names}."
    )
    if row.get("last_year_approx") is True:
        text += (
            " Có xã được chia cho nhiều đơn vị mới: số liệu cùng kỳ là ước tính (quy tắc "
            f"'{s.catalog.divided_communes}', xem tài liệu)."
        )
    return text
