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
from fastapi.responses import HTMLResponse, Response

from tonghop.portal import charts
from tonghop.portal.accounts import User
from tonghop.portal.i18n import translator
from tonghop.portal.pages import lang_of, need, portal_of, render, user_of
from tonghop.portal.pages.steward import completeness_line
from tonghop.portal.pages.submitter import period_or_400
from tonghop.portal.reader import NoData
from validations.fmt import fmt_num, fmt_pct
from validations.period import parse_period

router = APIRouter()
DEFAULT_CHART = "crime_clearance_rate"
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def _scoped(request: Request, user: User, unit: str | None, period: str | None) -> tuple[Any, Any]:
    portal = portal_of(request)
    code = unit or user.unit_code
    p = period_or_400(period, portal.catalog) if period else None
    if p is None:
        try:
            rows = portal.reader.query(
                "SELECT max(period) AS p FROM v_rollup WHERE unit_code = ? AND length(period) = 7",
                [code],
            )
        except NoData:
            rows = []
        p = period_or_400(rows[0]["p"] if rows and rows[0]["p"] else None, portal.catalog)
    portal.scope.require(user.unit_code, code, p.code)
    u = portal.scope.unit(code, p)
    if u is None:
        raise HTTPException(404)
    return u, p


def change_text(r: dict[str, Any], lang: str) -> tuple[str, str]:
    t = translator(lang)
    ch = r["change_vs_last_year"]
    if ch is None or ch != ch:
        return t("no_last_year"), ""
    sign = "+" if ch > 0 else ""
    text = (
        f"{sign}{fmt_pct(ch, lang)}"
        if r["change_kind"] == "percent"
        else f"{sign}{fmt_num(ch, lang)} {t('points')}"
    )
    return text, ("pos" if ch > 0 else "neg" if ch < 0 else "")


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
    unit: str | None = None,
    period: str | None = None,
    indicator: str | None = None,
) -> Response:
    user = user_of(request)
    need(user.may_read_figures)
    portal = portal_of(request)
    lang = lang_of(request)
    t = translator(lang)
    cat = portal.catalog
    u, p = _scoped(request, user, unit, period)
    r = portal.reader
    try:
        rows = r.query(
            "SELECT * FROM v_rollup WHERE unit_code = ? AND period = ? ORDER BY indicator",
            [u.code, p.code],
        )
        comp = r.query(
            "SELECT * FROM v_completeness WHERE unit_code = ? AND period = ?", [u.code, p.code]
        )
        known = [
            x["period"]
            for x in r.query(
                "SELECT DISTINCT period FROM v_rollup WHERE unit_code = ? ORDER BY period DESC",
                [u.code],
            )
        ]
    except NoData:
        rows, comp, known = [], [], []
    order = {c: n for n, c in enumerate(cat.indicators)}
    rows.sort(key=lambda x: order.get(x["indicator"], 999))
    groups: dict[str, list[dict[str, Any]]] = {}
    for x in rows:
        ind = cat.indicators.get(x["indicator"])
        change, cls = change_text(x, lang)
        target = x["target"] or ""
        for op, sym in _OPS.items():
            target = target.replace(op, sym)
        value = x["share"] if ind and ind.kind == "flag" and x["share"] is not None else x["value"]
        groups.setdefault(cat.groups.get(x["grp"] or "", {}).get(lang, x["grp"] or ""), []).append(
            {
                "label": ind.label(lang) if ind else x["indicator"],
                "value": fmt_num(value, lang),
                "unit": "%" if ind and ind.kind == "flag" else (ind.unit(lang) if ind else ""),
                "change": change,
                "change_class": cls,
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
    chart_svgs = _charts(request, u, p.code, chosen, lang) if chosen else []
    choices = [x for x in portal.scope.tree(user.unit_code, p) if x.level != "C"]
    return render(
        request,
        "province.html",
        user=user,
        title=t("province_title"),
        section="province",
        unit=u,
        period=p.code,
        periods=known,
        unit_choices=choices,
        indicator=chosen,
        indicator_choices=[
            (c, cat.indicators[c].label(lang)) for c in cat.indicators if c in codes
        ],
        rows=rows,
        groups=list(groups.items()),
        completeness=completeness_line(comp[0] if comp else None, lang),
        charts=chart_svgs,
        empty_text=t("no_rollup", unit=f"{u.code} {u.name}", period=p.code),
    )


def _charts(request: Request, u: Any, period: str, code: str, lang: str) -> list[str]:
    portal = portal_of(request)
    t = translator(lang)
    ind = portal.catalog.indicators[code]
    r = portal.reader
    months = _months_back(period)
    trend = r.query(
        "SELECT period, value FROM v_rollup WHERE unit_code = ? AND indicator = ?"
        " AND period IN (SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL ORDER BY period",
        [u.code, code, months],
    )
    target = r.query("SELECT target_op, target_value FROM dim_indicator WHERE code = ?", [code])
    tv = target[0]["target_value"] if target and target[0]["target_op"] else None
    tl = (
        t("target_line", op=_OPS.get(target[0]["target_op"], ""), v=fmt_num(tv, lang))
        if tv is not None
        else ""
    )
    unit_label = "%" if ind.kind in ("rate", "flag") else ind.unit(lang)

    def fmt(v: float) -> str:
        return fmt_num(v, lang)

    out = []
    if trend:
        out.append(
            charts.line_chart(
                t("chart_trend", label=ind.label(lang)),
                [(f"{x['period'][5:]}/{x['period'][:4]}", float(x["value"])) for x in trend],
                x_label=t("axis_period"),
                y_label=f"{ind.label(lang)} ({unit_label})",
                fmt=fmt,
                target=tv,
                target_label=tl,
            )
        )
    kids = portal.units.children(u.code, portal.scope.day(period))
    if kids:
        names = {k.code: k.name for k in kids}
        vals = r.query(
            "SELECT unit_code, value FROM v_rollup WHERE period = ? AND indicator = ?"
            " AND unit_code IN (SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL",
            [period, code, list(names)],
        )
        if vals:
            out.append(
                charts.bar_chart(
                    t("chart_units", label=ind.label(lang), period=period),
                    [
                        (names[x["unit_code"]], float(x["value"]))
                        for x in sorted(vals, key=lambda x: x["unit_code"])
                    ],
                    category_label=t("axis_unit"),
                    value_label=f"{ind.label(lang)} ({unit_label})",
                    fmt=fmt,
                    target=tv,
                    target_label=tl,
                )
            )
    return out


def _summary(request: Request, unit: str, period: str) -> Any:
    from warehouse.summary import SummaryError, build_summary

    portal = portal_of(request)

    def build() -> Any:
        with portal.reader.cursor() as cur:
            try:
                return build_summary(cur, period, unit, portal.catalog, portal.units)
            except SummaryError as exc:
                return exc

    s = portal.cached(("summary", unit, period), build)
    if isinstance(s, Exception):
        raise HTTPException(404, str(s))
    return s


@router.get("/province/summary", include_in_schema=False)
def summary_page(request: Request, unit: str | None = None, period: str | None = None) -> Response:
    from warehouse.summary import render_html

    user = user_of(request)
    need(user.may_read_figures)
    portal = portal_of(request)
    u, p = _scoped(request, user, unit, period)
    text = portal.cached(
        ("summary.html", u.code, p.code),
        lambda: render_html(_summary(request, u.code, p.code), portal.units),
    )
    return HTMLResponse(text)


@router.get("/province/summary.xlsx", include_in_schema=False)
def summary_xlsx(request: Request, unit: str | None = None, period: str | None = None) -> Response:
    from warehouse.summary import write_xlsx

    user = user_of(request)
    need(user.may_read_figures)
    portal = portal_of(request)
    u, p = _scoped(request, user, unit, period)

    def build() -> bytes:
        s = _summary(request, u.code, p.code)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_xlsx(s, portal.units, Path(tmp) / "s.xlsx")
            return path.read_bytes()

    data = portal.cached(("summary.xlsx", u.code, p.code), build)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{u.code}_{p.code}.xlsx"'},
    )


@router.get("/province/export.zip", include_in_schema=False)
def export_zip(request: Request, unit: str | None = None, period: str | None = None) -> Response:
    from warehouse.export import ExportError, export_period

    user = user_of(request)
    need(user.may_read_figures)
    portal = portal_of(request)
    u, p = _scoped(request, user, unit, period)

    def build() -> bytes | Exception:
        with tempfile.TemporaryDirectory() as tmp, portal.reader.cursor() as cur:
            try:
                export_period(cur, p.code, u.code, tmp)
            except ExportError as exc:
                return exc
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(Path(tmp).rglob("*.parquet")):
                    z.write(f, f.relative_to(tmp).as_posix())
            return buf.getvalue()

    data = portal.cached(("export.zip", u.code, p.code), build)
    if isinstance(data, Exception):
        raise HTTPException(404, str(data))
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{u.code}_{p.code}_parquet.zip"'},
    )
