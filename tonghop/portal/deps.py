"""What a route needs, as FastAPI dependencies: the portal, the language and its words, the
user (a page redirects to the login page without one; the API answers 401), the user's role.

    def grid_page(request: Request, portal: PortalDep, user: Steward, t: Words) -> Response:

A role that does not allow the route answers 403 before the route runs.

Every dependency is a coroutine: FastAPI runs a plain function in its thread pool, one hop
per dependency and request, and under load (twenty uploads at once, the validator's thread
holding the interpreter) each hop waits its turn; these do no more than a session lookup (one
indexed SQLite read), so they run on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from tonghop.portal.accounts import User
from tonghop.portal.auth import LoginRequired, bearer_user, session_user
from tonghop.portal.context import Portal
from tonghop.portal.i18n import translator
from tonghop.portal.rendering import lang_of


async def get_portal(request: Request) -> Portal:
    return request.app.state.portal


async def get_lang(request: Request) -> str:
    return lang_of(request)


PortalDep = Annotated[Portal, Depends(get_portal)]
Lang = Annotated[str, Depends(get_lang)]


async def get_words(lang: Lang) -> Callable[..., str]:
    return translator(lang)


Words = Annotated[Callable[..., str], Depends(get_words)]


async def get_user(request: Request, portal: PortalDep) -> User:
    """The logged-in user (LoginRequired: the page redirects to the login page)."""
    user = session_user(request, portal.accounts)
    if user is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt)
    return user


CurrentUser = Annotated[User, Depends(get_user)]


def need(ok: bool) -> None:
    """403 unless the user's role allows it."""
    if not ok:
        raise HTTPException(403, "role")


async def get_steward(user: CurrentUser) -> User:
    need(user.is_steward)
    return user


async def get_submitter(user: CurrentUser) -> User:
    need(user.may_submit)
    return user


async def get_figures_reader(user: CurrentUser) -> User:
    need(user.may_read_figures)
    return user


Steward = Annotated[User, Depends(get_steward)]
Submitter = Annotated[User, Depends(get_submitter)]
FiguresReader = Annotated[User, Depends(get_figures_reader)]


async def get_api_user(request: Request, portal: PortalDep) -> User:
    """The API caller, from its bearer token (401 without a valid one)."""
    return bearer_user(request, portal.accounts)


ApiUser = Annotated[User, Depends(get_api_user)]
