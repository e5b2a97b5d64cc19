"""What several pages show alike: a unit that does not exist in the period asked for (no
dead end: its periods and its latest one are offered), a library refusal in the page's
language, and why a version is held (the approval that holds it and who can lift it)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from tonghop.portal import periods
from tonghop.portal.i18n import translator
from tonghop.portal.jobs import when
from tonghop.portal.rendering import lang_of, render
from validations.reform import abolished


def absent_text(portal: Any, code: str, p: Any, lang: str) -> str:
    """Why the unit has nothing for the period: the 2025 reform abolished it (since when, who
    took over: validations.reform, the CLI's sentence), or it is not a unit of that period."""
    gone = abolished(code, p, portal.units, portal.catalog.close_day)
    return gone.render(lang) if gone else translator(lang)("no_form_unit", unit=code, period=p.code)


def absent(request: Request, portal: Any, user: Any, code: str, p: Any, page: str) -> Response:
    """The unit does not exist in the period's structure: say so, offer its periods and a
    link to its latest one (404, but no dead end)."""
    lang = lang_of(request)
    t = translator(lang)
    land = periods.landing_of(portal, page, code)
    return render(
        request,
        "absent.html",
        404,
        user=user,
        title=t("not_in_period_title"),
        section=page,
        unit=portal.units.get(code),
        unit_code=code,
        period=p.code,
        periods=periods.picker(portal, code),
        action=f"/{page}",
        text=absent_text(portal, code, p, lang),
        latest=land.period,
    )


def refusal_text(exc: Exception | None, lang: str) -> str:
    """A library refusal as the page says it (its sentence in the language, when it has one)."""
    if exc is None:
        return ""
    message = getattr(exc, "message", None)
    return str(message(lang)) if callable(message) else str(exc)


def held_text(locks: list[dict[str, Any]], units: Any, on: Any, lang: str) -> str:
    """ "Held until 105 2024-06 is unapproved (approved by huyen.105 on ...): who can do it"
    from the approvals that hold a version (service.approval.holding), first one named."""
    return lock_text("held_until", locks, units, on, lang)


def lock_text(key: str, locks: list[dict[str, Any]], units: Any, on: Any, lang: str) -> str:
    """What an approval lock stops until when, and who can lift it, in the page's words:
    `key` is held_until (a version) or locked_until (a consolidation); `locks` the approvals
    (unit_code, period, state, actor, at), the unit's own first (service.approval.holding)."""
    if not locks:
        return ""
    t = translator(lang)
    lock = locks[0]
    unit = lock["unit_code"]
    u = units.get(unit, on)
    parent = u.parent_code if u is not None else None
    by = t("a_by", state=t(f"a_{lock['state']}"), actor=lock["actor"], at=when(lock["at"]))
    if lock["state"] == "accepted" and parent:
        who = t("held_who_accepted", unit=unit, parent=parent)
    else:
        who = t("held_who", unit=unit)
    text = t(key, lock=f"{unit} {lock['period']}", by=by, who=who)
    if len(locks) > 1:
        others = ", ".join(f"{k['unit_code']} {k['period']}" for k in locks[1:])
        text += " " + t("held_also", locks=others)
    return text
