"""What the web form shows of a check, as JSON for its script and as context for its template.

Every field's state comes from a record shaped like a verdict's (`ValidationResult.to_dict`,
`Verdict.record`: issues with their rule, severity, message and hint in the page's language,
and `suspects` where the localisation gives them), so the check as typed and the full dry run
are shown by one function, with the words a file's verdict uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.entry import DraftCheck, Entry, Reference, UsualRange
from tonghop.portal.drafts import Field
from tonghop.portal.i18n import translator
from validations.catalog import Catalog, Indicator
from validations.fmt import fmt_num
from validations.localise.suspect import Suspect
from validations.numbers import OK
from validations.report import STATUS_TEXT


def when(stamp: str | None) -> str:
    """'2026-12-07T10:02:03' -> '10:02:03 07/12'."""
    if not stamp:
        return ""
    day, _, time = stamp.partition("T")
    return f"{time[:8]} {day[8:10]}/{day[5:7]}"


def rule_kind(catalog: Catalog, rule_id: str) -> str:
    if rule_id in catalog.rules:
        return catalog.rules[rule_id].kind
    if rule_id in catalog.outlier_rules:
        return "outlier"
    return "other"


def issue_json(issue: Mapping[str, Any], catalog: Catalog, lang: str) -> dict[str, Any]:
    """An issue of a record as the form shows it: the verdict's message and hint."""
    rule = str(issue.get("rule") or issue.get("rule_id") or "")
    return {
        "rule": rule,
        "kind": rule_kind(catalog, rule),
        "severity": str(issue.get("severity")),
        "message": issue.get(f"message_{lang}") or issue.get("message") or "",
        "hint": issue.get(f"hint_{lang}") or issue.get("hint") or "",
        "expected": issue.get("expected") or "",
    }


def suspect_text(s: Mapping[str, Any], lang: str) -> str:
    """The localisation's sentence for a suspect cell (validations.localise), said beside its
    field: without the CSV row the verdict names (the form has fields, not rows)."""
    cell = Suspect(
        indicator=s["indicator"],
        label_vi=s.get("label_vi") or s.get("label") or s["indicator"],
        label_en=s.get("label_en") or s.get("label") or s["indicator"],
        location=None,
        value=s.get("value"),  # type: ignore[arg-type]
        low=s.get("fits_min"),
        high=s.get("fits_max"),
        explains=tuple(tuple(e) for e in s.get("explains") or ()),  # type: ignore[misc]
        group=int(s.get("group") or 1),
        option=int(s.get("option") or 1),
        options=int(s.get("options") or 1),
        recompute=bool(s.get("recompute")),
    )
    return cell.message(lang)


def range_json(rng: UsualRange | None, lang: str) -> dict[str, Any] | None:
    if rng is None:
        return None
    t = translator(lang)
    return {
        "text": t("e_usual", range=rng.text(lang)),
        "title": t("e_usual_title", n=rng.n, median=fmt_num(round(rng.median, 2), lang)),
        "low": rng.low,
        "high": rng.high,
    }


def state(
    record: Mapping[str, Any] | None,
    check: DraftCheck,
    indicators: list[Indicator],
    fields: Mapping[str, Field],
    entries: Mapping[str, Entry],
    catalog: Catalog,
    lang: str,
    seq: int,
    full: bool = False,
) -> dict[str, Any]:
    """The form's state: each field's value, reading, computed rate or total, issues (and the
    fields a failing rule involves), suspect, last change; the issues of no field; counts (as
    typed, blank required fields are counted apart, in `missing`; `full`: as the verdict
    counts them)."""
    t = translator(lang)
    on_form = {i.code for i in indicators}
    issues = [issue_json(i, catalog, lang) | {"indicator": i.get("indicator")} for i in
              (record or {}).get("issues", [])]  # fmt: skip
    per: dict[str, list[dict[str, Any]]] = {}
    involved: dict[str, list[str]] = {}
    general = []
    for i in issues:
        code = i.pop("indicator")
        if code in on_form:
            per.setdefault(code, []).append(i)
            rule = catalog.rules.get(i["rule"])
            for other in rule.indicators if rule else ():
                if other != code and other in on_form:
                    involved.setdefault(other, []).append(i["rule"])
        else:
            general.append(i)
    suspects = {
        s["indicator"]: suspect_text(s, lang)
        for s in (record or {}).get("suspects", []) or []
        if s.get("indicator")
    }
    out: dict[str, Any] = {}
    filled = 0
    for ind in indicators:
        code = ind.code
        e = entries.get(code) or Entry(code)
        f = fields.get(code)
        r = check.readings.get(code)
        reading = ""
        if r is not None and r.status == OK and r.value is not None:
            shown = fmt_num(r.value, lang)
            if shown != e.value.strip():
                reading = t("e_reading", v=shown)
        if e.value.strip():
            filled += 1
        computed = check.rates.get(code)
        total = check.totals.get(code)
        out[code] = {
            "value": e.value,
            "note": e.note,
            "follow_up": e.follow_up,
            "reading": reading,
            "computed": t("e_computed", v=fmt_num(round(computed, 2), lang))
            if computed is not None
            else "",
            "total": t(
                "e_total",
                parts=" + ".join(catalog.indicators[c].label(lang) for c in total[0]),
                v=fmt_num(total[1], lang),
            )
            if total
            else "",
            "issues": per.get(code, []),
            "involved": involved.get(code, []),
            "suspect": suspects.get(code, ""),
            "by": f.changed_by if f else "",
            "at": when(f.changed_at) if f else "",
            "from_version": f.from_version if f else None,
        }
    missing = [c for c, s in out.items() if any(i["kind"] == "required" for i in s["issues"])]
    counted = issues if full else [i for i in issues if i["kind"] != "required"]
    n_err = sum(1 for i in counted if i["severity"] == "error")
    n_warn = len(counted) - n_err
    status = (record or {}).get("status")
    return {
        "seq": seq,
        "fields": out,
        "general": general,
        "missing": missing,
        "summary": {
            "errors": n_err,
            "warnings": n_warn,
            "filled": filled,
            "total": len(indicators),
            "text": t(
                "e_summary", errors=n_err, warnings=n_warn, filled=filled, total=len(indicators)
            ),  # fmt: skip
            "status": status,
            "status_text": STATUS_TEXT[lang].get(status, "") if status else "",  # type: ignore[call-overload]
        },
    }


def ranges_json(ref: Reference | None, lang: str) -> dict[str, Any]:
    """Each judged field's usual range, as the form shows it."""
    if ref is None:
        return {}
    return {c: range_json(r, lang) for c, r in ref.ranges.items()}
