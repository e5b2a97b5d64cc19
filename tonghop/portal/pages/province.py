"""Province pages: the rollup of any unit in the user's tree for any period, with the change
against the same period last year and target attainment, charts (labelled axes, target line),
the period summary (warehouse.summary) and downloads (xlsx, Parquet). Every figure is read from
the warehouse's consolidated views (v_rollup, v_completeness) or made by warehouse.summary."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from service import figures
from tonghop.portal import periods
from tonghop.portal.accounts import User
from tonghop.portal.changes import change
from tonghop.portal.context import Portal
from tonghop.portal.deps import FiguresReader, Lang, PortalDep, Words
from tonghop.portal.i18n import translator
from tonghop.portal.pages.shared import absent
from tonghop.portal.pages.steward import completeness_line
from tonghop.portal.rendering import render
from validations.fmt import fmt_num
from validations.period import parse_period
from warehouse import charts
from warehouse.export import ExportError
from warehouse.summary import SummaryError, docx_bytes, find_profile, render_html, write_xlsx

router = APIRouter()
DEFAULT_CHART = "crime_clearance_rate"
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def _scoped(portal: Portal, user: User, unit: str | None, period: str | None) -> tuple[Any, Any]:
    """The unit and period asked for (default: the unit's newest consolidated period,
    service.landing); 404 when the unit does not exist in that period's structure."""
    code = unit or user.unit_code
    p = periods.page_period(portal, "province", code, period)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        raise HTTPException(404)
    return u, p


def attainment_text(r: dict[str, Any], lang: str) -> str:
    t = translator(lang)
    a = r["attainment"]
    if not a:
        return ""
    return t(f"att_{a}", p=fmt_num(r["attainment_points"], lang))


def _months_back(period: str, n: int = 12) -> list[str]:
    p = parse_period(period)
    y, m = p.year, p.last_month
    out = []
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return list(reversed(out))


@router.get("/province", include_in_schema=False)
def rollup_page(
    request: Request,
    portal: PortalDep,
    user: FiguresReader,
    lang: Lang,
    t: Words,
    unit: str | None = None,
    period: str | None = None,
    indicator: str | None = None,
) -> Response:
    cat = portal.catalog
    code = unit or user.unit_code
    p = periods.page_period(portal, "province", code, period)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        return absent(request, portal, user, code, p, "province")
    rows = portal.read(figures.rollup_rows, u.code, p.code, default=[])
    comp = portal.read(figures.completeness_row, u.code, p.code, default=None)
    notes = portal.read(figures.approval_notes, u.code, p.code, cat, default=[])
    known = portal.read(figures.consolidated_periods, u.code, default=[])
    order = {c: n for n, c in enumerate(cat.indicators)}
    rows.sort(key=lambda x: order.get(x["indicator"], 999))
    groups: dict[str, list[dict[str, Any]]] = {}
    for x in rows:
        ind = cat.indicators.get(x["indicator"])
        ch = change(x["change_vs_last_year"], x["change_kind"], ind, lang)
        target = x["target"] or ""
        for op, sym in _OPS.items():
            target = target.replace(op, sym)
        value = x["share"] if ind and ind.kind == "flag" and x["share"] is not None else x["value"]
        groups.setdefault(cat.groups.get(x["grp"] or "", {}).get(lang, x["grp"] or ""), []).append(
            {
                "label": ind.label(lang) if ind else x["indicator"],
                "value": fmt_num(value, lang),
                "unit": "%" if ind and ind.kind == "flag" else (ind.unit(lang) if ind else ""),
                "change": ch,
                "target": target,
                "attainment": attainment_text(x, lang),
                "attainment_key": x["attainment"] or "",
                "source": t(f"src_{x['source']}") if x["source"] else "",
            }
        )
    codes = {x["indicator"] for x in rows}
    chosen = (
        indicator if indicator in codes else (DEFAULT_CHART if DEFAULT_CHART in codes else None)
    )
    chart_svgs = _charts(portal, u, p.code, chosen, lang) if chosen else []
    choices = [x for x in portal.scope.tree(user.unit_code, p) if x.level != "C"]
    return render(
        request,
        "province.html",
        user=user,
        title=t("province_title"),
        section="province",
        unit=u,
        period=p.code,
        periods=sorted(
            set(known) | set(periods.picker(portal, u.code, p.code)),
            key=lambda c: (parse_period(c).end(cat.close_day), parse_period(c).kind == "M"),
            reverse=True,
        ),
        unit_choices=choices,
        indicator=chosen,
        indicator_choices=[
            (c, cat.indicators[c].label(lang)) for c in cat.indicators if c in codes
        ],
        rows=rows,
        groups=list(groups.items()),
        completeness=completeness_line(comp, lang),
        approval_notes=[m.render(lang) for m in notes],
        charts=chart_svgs,
        empty_text=t("no_rollup", unit=f"{u.code} {u.name}", period=p.code),
    )


def _charts(portal: Portal, u: Any, period: str, code: str, lang: str) -> list[str]:
    t = translator(lang)
    ind = portal.catalog.indicators[code]
    trend = portal.read(figures.trend, u.code, code, _months_back(period))
    target = portal.read(figures.target, u.code, period, code)
    tv = target[1] if target else None
    tl = t("target_line", op=_OPS.get(target[0], ""), v=fmt_num(tv, lang)) if target else ""
    unit_label = "%" if ind.kind in ("rate", "flag") else ind.unit(lang)

    def fmt(v: float) -> str:
        return fmt_num(v, lang)

    out = []
    if len(trend) >= 2:  # a trend of one month says nothing (as the period summary)
        months = [per for per, _ in trend]
        before = portal.read(figures.last_years, [u.code], months, code, default={})
        last = [(f"{per[5:]}/{int(per[:4]) - 1}", before.get((u.code, per))) for per in months]
        out.append(
            charts.line_chart(
                t("chart_trend", label=ind.label(lang)),
                [(f"{per[5:]}/{per[:4]}", value) for per, value in trend],
                x_label=t("axis_period"),
                y_label=f"{ind.label(lang)} ({unit_label})",
                fmt=fmt,
                target=tv,
                target_label=tl,
                # the same months a year before, the same territory (only when every one is known)
                last_year=[(k, v) for k, v in last if v is not None]
                if all(v is not None for _, v in last)
                else None,
                lang=lang,
            )
        )
    kids = portal.units.children(u.code, portal.scope.day(period))
    if kids:
        names = {k.code: k.name for k in kids}
        vals = portal.read(figures.values_of, list(names), period, code)
        before = portal.read(figures.last_years, list(names), [period], code, default={})
        if vals:
            out.append(
                charts.bar_chart(  # sorted, at most 30 bars (the top and the bottom units)
                    t("chart_units", label=ind.label(lang), period=period),
                    [(names[c], v) for c, v in sorted(vals.items())],
                    category_label=t("axis_unit"),
                    value_label=f"{ind.label(lang)} ({unit_label})",
                    fmt=fmt,
                    target=tv,
                    target_label=tl,
                    last_year={names[c]: v for (c, _), v in before.items()} or None,
                    lang=lang,
                )
            )
    return out


def _summary(portal: Portal, unit: str, period: str) -> Any:
    def build() -> Any:
        try:
            return portal.read(figures.summary, period, unit, portal.catalog, portal.units)
        except SummaryError as exc:
            return exc

    s = portal.cached(("summary", unit, period), build)
    if isinstance(s, Exception):
        raise HTTPException(404, s)
    return s


def body_of(page: str) -> str:
    """The body of a self-contained page (warehouse.summary.render_html): what the portal
    shows inside its own header, with its own styles."""
    start = page.find("<body>")
    end = page.rfind("</body>")
    return page[start + len("<body>") : end] if start >= 0 and end > start else page


@router.get("/province/summary", include_in_schema=False)
def summary_page(
    request: Request,
    portal: PortalDep,
    user: FiguresReader,
    unit: str | None = None,
    period: str | None = None,
) -> Response:
    code = unit or user.unit_code
    p = periods.page_period(portal, "province", code, period)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        return absent(request, portal, user, code, p, "province")
    s = _summary(portal, u.code, p.code)
    text = portal.cached(
        ("summary.html", u.code, p.code), lambda: body_of(render_html(s, portal.units))
    )
    return render(
        request,
        "summary.html",
        user=user,
        title=f"{s.title} — {u.name}",
        section="province",
        unit=u,
        period=p.code,
        periods=periods.picker(portal, u.code, p.code),
        document=Markup(text),  # noqa: S704 - warehouse.summary escapes every value it writes
    )


@router.get("/province/summary.xlsx", include_in_schema=False)
def summary_xlsx(
    portal: PortalDep, user: FiguresReader, unit: str | None = None, period: str | None = None
) -> Response:
    u, p = _scoped(portal, user, unit, period)

    def build() -> bytes:
        s = _summary(portal, u.code, p.code)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_xlsx(s, portal.units, Path(tmp) / "s.xlsx")
            return path.read_bytes()

    data = portal.cached(("summary.xlsx", u.code, p.code), build)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{u.code}_{p.code}.xlsx"'},
    )


@router.get("/province/summary.docx", include_in_schema=False)
def summary_docx(
    portal: PortalDep, user: FiguresReader, unit: str | None = None, period: str | None = None
) -> Response:
    """The period report as the Word document an office edits and signs (Decree 30), its
    heading from the unit's profile (profiles/ beside the warehouse)."""
    u, p = _scoped(portal, user, unit, period)

    def build() -> bytes:
        s = _summary(portal, u.code, p.code)
        office = find_profile(s.unit, warehouse=portal.settings.warehouse)
        return docx_bytes(s, portal.units, office)

    data = portal.cached(("summary.docx", u.code, p.code), build)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{u.code}_{p.code}.docx"'},
    )


@router.get("/province/export.zip", include_in_schema=False)
def export_zip(
    portal: PortalDep, user: FiguresReader, unit: str | None = None, period: str | None = None
) -> Response:
    u, p = _scoped(portal, user, unit, period)

    def build() -> bytes | Exception:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                portal.read(figures.export, p.code, u.code, tmp)
            except ExportError as exc:
                return exc
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(Path(tmp).rglob("*.parquet")):
                    z.write(f, f.relative_to(tmp).as_posix())
            return buf.getvalue()

    data = portal.cached(("export.zip", u.code, p.code), build)
    if isinstance(data, Exception):
        raise HTTPException(404, data)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{u.code}_{p.code}_parquet.zip"'},
    )
