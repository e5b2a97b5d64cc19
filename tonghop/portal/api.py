"""The JSON API under /api: the same checks, submissions and rollups as the pages and the CLI,
for scripts. Authorization: Bearer <token> (`tonghop user token NAME`); the caller sees and acts
only on its unit and the units below it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from service import figures
from tonghop.portal.context import Portal
from tonghop.portal.deps import ApiUser, PortalDep
from tonghop.portal.pages.submitter import delivery_state, receive, versions, visible_upload
from tonghop.portal.reader import NoData
from tonghop.portal.rendering import render
from validations.errors import NotFoundError, UsageError
from validations.messages import msg
from validations.period import PeriodError, parse_period
from validations.readers import MAX_FILE_BYTES

router = APIRouter(prefix="/api", tags=["api"])
AUTH = {
    401: {"description": "no valid token"},
    403: {"description": "unit outside your scope or role not allowed"},
}


def _period(text: str) -> str:
    try:
        return parse_period(text).code
    except PeriodError as exc:
        raise HTTPException(422, exc) from None


def _lang(lang: str) -> str:
    if lang not in ("vi", "en"):
        raise HTTPException(422, UsageError("usage.lang", option="lang", value=lang))
    return lang


@router.post(
    "/validate",
    summary="Check a file (dry run): the `tonghop validate --json` object",
    responses={**AUTH, 422: {"description": "unreadable file: the object with status unreadable"}},
    openapi_extra={
        "x-curl": 'curl -H "Authorization: Bearer $TOKEN" -F file=@03386_2024-06.csv '
        "{base}/api/validate"
    },
)
async def api_validate(
    portal: PortalDep,
    user: ApiUser,
    file: Annotated[UploadFile, File(description="the report file (.xlsx or .csv)")],
    lang: Annotated[str, Query(description="language of the messages: vi or en")] = "vi",
) -> Response:
    """Nothing is stored or delivered: the dry run against the warehouse, the verdict the
    stored version would get. 200 with `status` accepted, accepted_with_warnings, rejected or
    refused (a unit outside your scope), `issues` (rule, severity, location, value, expected,
    message, hint, ...; outliers and last year's figures included), `rules` and `outcome`
    (the version it would get, held, duplicate); 422 with `status` unreadable and the
    reader's `message`."""
    with portal.checker.arriving():
        data = await file.read(MAX_FILE_BYTES + 1)
        record = await run_in_threadpool(
            portal.uploads.dry_run, user, file.filename or "upload", data, _lang(lang), file.size
        )
    return JSONResponse(record, 422 if record["status"] == "unreadable" else 200)


@router.post(
    "/submissions",
    summary="Send a file: the validate object plus what was delivered",
    status_code=202,
    responses={**AUTH, 422: {"description": "unreadable file, not delivered"}},
    openapi_extra={
        "x-curl": 'curl -H "Authorization: Bearer $TOKEN" -F file=@03386_2024-06.xlsx '
        "{base}/api/submissions"
    },
)
async def api_submit(
    request: Request,
    portal: PortalDep,
    user: ApiUser,
    file: Annotated[UploadFile, File(description="the report file (.xlsx or .csv)")],
    lang: Annotated[str, Query(description="language of the messages: vi or en")] = "vi",
) -> Response:
    """The file is checked as by /api/validate; when it is readable and reports for a unit you
    cover, it is delivered to your inbox folder and stored by the ingest (202). `delivery`
    says where it went (`delivered`, `upload_id`, `status_url`, `state`); poll `status_url`
    until `stored` is filled. A file for a unit outside your scope: 403, not delivered."""
    _lang(lang)
    if not user.may_submit:
        raise HTTPException(403, msg("portal.role_no_submit"))
    with portal.checker.arriving():
        up, _ = await receive(request, portal, user, file, lang)
    record = dict(up.report)
    record["delivery"] = _delivery(portal, up, lang)
    if up.verdict == "refused":
        return JSONResponse(record, 403)
    if up.verdict == "unreadable":
        return JSONResponse(record, 422)
    return JSONResponse(record, 202)


def _delivery(portal: Portal, up: Any, lang: str) -> dict[str, Any]:
    state = delivery_state(portal, up, lang)
    row = state.get("row")
    return {
        "delivered": up.delivered,
        "upload_id": up.id,
        "status_url": f"/api/uploads/{up.id}",
        "state": state["kind"],
        "message": state["text"],
        "stored": (
            {
                "submission_id": row["submission_id"],
                "version": row["version"],
                "status": row["status"],
                "is_current": row["is_current"],
                "loaded_at": row["loaded_at"].isoformat(),
            }
            if row
            else None
        ),
    }


@router.get(
    "/uploads/{upload_id}",
    summary="Where an upload stands: delivered, stored (version, status)",
    responses={**AUTH, 404: {"description": "no such upload for you"}},
    openapi_extra={"x-curl": 'curl -H "Authorization: Bearer $TOKEN" {base}/api/uploads/42'},
)
def api_upload(
    portal: PortalDep, user: ApiUser, upload_id: int, lang: str = Query("vi")
) -> Response:
    """The upload's verdict record plus `delivery` (as POST /api/submissions answers)."""
    up = visible_upload(portal, user, upload_id)
    record = dict(up.report)
    record["delivery"] = _delivery(portal, up, _lang(lang))
    return JSONResponse(record)


@router.get(
    "/submissions",
    summary="Every stored version of a period you may see",
    responses=AUTH,
    openapi_extra={
        "x-curl": 'curl -H "Authorization: Bearer $TOKEN" "{base}/api/submissions?period=2024-06"'
    },
)
def api_submissions(
    portal: PortalDep,
    user: ApiUser,
    period: str = Query(..., description="2024-06, 2024-Q2, 2024-H1 or 2024"),
    unit: str | None = Query(None, description="only this unit and the units below it"),
) -> Response:
    """One object per version in the warehouse for your unit and the units below it (or `unit`
    and below): submission_id, unit_code, unit_name, level, period, version, status
    (accepted, accepted_with_warnings, rejected, held; `shown_status` adds superseded),
    is_current, received_at, loaded_at, unit_state (the unit's: on_time, late, missing,
    rejected, as the steward's grid and `tonghop status` say it), n_values, n_errors,
    n_warnings."""
    p = _period(period)
    top = unit or user.unit_code
    portal.scope.require(user.unit_code, top, p)
    rows = versions(portal, portal.scope.codes(top, p), p, "vi")
    keep = [
        "submission_id",
        "unit_code",
        "unit_name",
        "level",
        "period",
        "version",
        "status",
        "shown_status",
        "is_current",
        "received_at",
        "loaded_at",
        "unit_state",
        "n_values",
        "n_errors",
        "n_warnings",
    ]
    out = [{k: r[k] for k in keep} for r in rows]
    return Response(json.dumps(out, ensure_ascii=False, default=str), media_type="application/json")


@router.get(
    "/rollup",
    summary="A consolidated unit's rollup: the records of `tonghop rollup --format json`",
    responses={**AUTH, 404: {"description": "not consolidated"}},
    openapi_extra={
        "x-curl": 'curl -H "Authorization: Bearer $TOKEN" "{base}/api/rollup?period=2024-06&unit=12"'
    },
)
def api_rollup(
    portal: PortalDep,
    user: ApiUser,
    period: str = Query(..., description="2024-06, 2024-Q2, 2024-H1 or 2024"),
    unit: str = Query(..., description="a district or province code in your scope"),
) -> Response:
    """One record per indicator from the warehouse's v_rollup (value, numerator, denominator,
    share, children_sum, source, target, attainment, attainment_points, change_vs_last_year,
    completeness), exactly as `tonghop rollup --format json` prints them."""
    if not user.may_read_figures:
        raise HTTPException(403, msg("portal.role_no_rollups"))
    p = _period(period)
    portal.scope.require(user.unit_code, unit, p)
    try:
        df = portal.read(figures.rollup, unit, p)
        why = (
            portal.read(figures.no_rollup, unit, p, portal.catalog, portal.units)
            if df.empty
            else None
        )
    except NoData:
        raise HTTPException(404, msg("portal.no_data")) from None
    if why is not None:
        raise HTTPException(404, NotFoundError(why.reason, **why.params))
    text = df.to_json(orient="records", force_ascii=False, indent=2, date_format="iso")
    return Response(text, media_type="application/json")


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The OpenAPI document as a page (server-rendered: Swagger UI would load from a CDN)."""
    spec = request.app.openapi()
    base = str(request.base_url).rstrip("/")
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = [
                {
                    "name": prm["name"],
                    "in": prm["in"],
                    "required": prm.get("required", False),
                    "description": prm.get("description")
                    or prm.get("schema", {}).get("description", ""),
                }
                for prm in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in body:
                params.append(
                    {
                        "name": "file",
                        "in": "multipart",
                        "required": True,
                        "description": ".xlsx / .csv",
                    }
                )
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "params": params,
                    "responses": [
                        (c, r.get("description", "")) for c, r in op.get("responses", {}).items()
                    ],
                    "examples": [op["x-curl"].replace("{base}", base)] if op.get("x-curl") else [],
                }
            )
    return render(
        request,
        "api_docs.html",
        title="API",
        section="api",
        operations=ops,
        base=base,
        info=spec["info"],
    )
