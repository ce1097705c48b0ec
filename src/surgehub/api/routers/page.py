"""The upload page: ``GET /`` and ``POST /`` (send a return), ``POST /my-returns`` (what was sent, what
is owed), ``GET /my-returns/{submission_id}`` (one submission, signed in).

Server-rendered (Jinja2, autoescaped), no script. A signed-in submitter (``surgehub.api.auth``) sees
no token field: the locality is their account's, the form carries the session's CSRF token, and their
submissions and the hub-days still owed are shown at once. Without signing in, the token is typed
(or filled by a password manager) into each form. Every refusal is shown on the form, in an error
summary linked to its field, with the API's status code.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from surgehub import clock
from surgehub.accounts import Role
from surgehub.api import auth, tokens
from surgehub.api.dependencies import (
    TOO_SLOW,
    Problem,
    Services,
    ServicesDep,
    allow,
    arrival,
    authenticate,
    check_declared_size,
    file_from,
    overview_of,
    parse_form,
    receive,
    too_large,
)
from surgehub.api.forms import TokenMissing, boundary_of, read_token_first
from surgehub.api.limits import BodyTooLarge, BodyTooSlow

router = APIRouter(include_in_schema=False)

#: The page's own words for refusals whose API message is written for scripts (None: the API's).
PAGE_WORDS: dict[int, str | None] = {
    401: "The submission token was not recognised, or it has expired or been revoked. "
    "Check it, or ask the GM primary care data team for a new one",
    408: None,
    413: None,
    415: "Send the return using this form",
}

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _london(text: str | None) -> str:
    if not text:
        return ""
    return clock.to_london(clock.parse_instant(text)).strftime("%a %d %b %Y, %H:%M:%S")


pages = Environment(
    loader=PackageLoader("surgehub.api", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
pages.filters["london"] = _london


def render(request: Request, services: Services, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page with ``context`` (errors, outcome, overview), under the page's security headers."""
    # Links and form actions carry the mount prefix (e.g. /surgehub inside the Airflow API server).
    context["base"] = str(request.scope.get("root_path", "")).rstrip("/")
    context.setdefault("viewer", None)
    context.setdefault("show_sign_in_link", True)
    if context["viewer"] is not None:  # the session is loaded: its forms carry its CSRF token
        context["csrf"] = auth.csrf_token(request.session, request.app.state.sign_in.secret)
    context.setdefault("errors", [])
    context["field_errors"] = {e["field"]: e["message"] for e in context["errors"]}
    context.setdefault("max_mib", services.max_file_bytes // (1024 * 1024))
    context.update(_grouped(context.get("outcome"), context["base"]))
    html = pages.get_template("upload.html.j2").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _grouped(outcome: dict[str, Any] | None, base: str) -> dict[str, Any]:
    """An answer's errors and warnings grouped as the receipt groups them (by rule, then hub and day),
    each rule linked to the guide page under ``base``; and each list's total (past the cap too)."""
    from surgehub.returns.findings import Finding
    from surgehub.returns.receipt import group_findings

    if not outcome:
        return {"error_groups": [], "warning_groups": [], "error_count": 0, "warning_count": 0}
    totals = {str(k): int(v) for k, v in (outcome.get("totals") or {}).items()}
    out: dict[str, Any] = {}
    for kind in ("error", "warning"):
        findings = [Finding.from_dict(f) for f in outcome.get(f"{kind}s") or []]
        groups = group_findings(findings, totals, base=base)
        out[f"{kind}_groups"] = groups
        out[f"{kind}_count"] = sum(g.total for g in groups)
    return out


def misplaced_notice(services: Services, outcome: dict[str, Any]) -> dict[str, Any] | None:
    """For a rejected upload that looks like another locality's return (decision 0063): whose, and
    what to do; None otherwise."""
    from surgehub.returns.receipt import misplaced_advice, misplaced_as
    from surgehub.returns.result import Coverage
    from surgehub.warehouse.register import read_register

    if outcome.get("status") != "rejected" or not outcome.get("received_at"):
        return None
    view = read_register(services.engine).as_of(clock.parse_instant(str(outcome["received_at"])))
    sender = view.locality_by_code(str(outcome.get("locality") or ""))
    if sender is None:
        return None
    found = misplaced_as(Coverage.from_dict(outcome.get("coverage")), sender.sub_icb_code, view)
    if found is None:
        return None
    advice = misplaced_advice(found, sender=sender.sub_icb_code, sender_name=sender.name, channel="api")
    return {
        "code": found.code,
        "name": found.name,
        "hubs": list(found.hubs),
        "named": found.named,
        "advice": advice,
    }


def field_error(problem: Problem, token_field: str = "token") -> dict[str, str]:
    """A refusal as an error on the page's form: the field it belongs to and words for people."""
    message = PAGE_WORDS.get(problem.status_code) or (problem.message[:1].upper() + problem.message[1:])
    field = problem.field or "file"
    return {"field": token_field if field == "token" else field, "message": message}


def _token_of(form: FormData) -> str:
    text = form.get("token")
    return text.strip() if isinstance(text, str) else ""


async def _viewer(request: Request, services: Services) -> auth.Viewer | None:
    return await auth.viewer_of(request, services.engine, services.resources.clock)


@router.get("/", response_class=HTMLResponse)
async def upload_page(request: Request, services: ServicesDep) -> HTMLResponse:
    viewer = await _viewer(request, services)
    if viewer is not None and viewer.locality is not None:
        return render(request, services, viewer=viewer, overview=await overview_of(services, viewer.locality))
    return render(request, services, viewer=viewer)


def _signed_in_caller(viewer: auth.Viewer) -> tokens.Caller:
    """A signed-in submitter as the caller of an upload: their locality, their account."""
    if viewer.locality is None:
        raise Problem(403, "Your account cannot send returns: ask the GM primary care data team", "file")
    return tokens.Caller(
        token_id=None, prefix=f"account:{viewer.email}", sub_icb_code=viewer.locality, account=viewer.email
    )


#: A signed-in form without this session's CSRF token: forged, or from before a sign-out.
FORM_EXPIRED = "The form had expired: send the file again from this page"


def _gate(
    request: Request, services: Services, viewer: auth.Viewer | None, callers: list[tokens.Caller]
) -> Callable[[str], Awaitable[None]]:
    """What checks the form's first field as soon as it has arrived: a submission token, or (signed
    in) this session's CSRF token; then the caller's upload allowance."""

    async def on_token(token: str) -> None:
        if viewer is not None:
            if not auth.csrf_valid(request.session, request.app.state.sign_in.secret, token):
                raise Problem(403, FORM_EXPIRED, "file")
            caller = _signed_in_caller(viewer)
        else:
            caller = await authenticate(services, token)
        allow(services.uploads, caller)
        callers.append(caller)

    return on_token


def _token_missing(
    request: Request, services: Services, viewer: auth.Viewer | None, missing: TokenMissing
) -> HTMLResponse:
    if viewer is not None:
        return render(
            request, services, 403, viewer=viewer, errors=[{"field": "file", "message": FORM_EXPIRED}]
        )
    errors = [{"field": "token", "message": "Enter your locality's submission token"}]
    if missing.file_chosen is False:
        errors.append({"field": "file", "message": "Choose the return file to send (CSV or Excel)"})
    return render(request, services, 400, errors=errors)


@router.post("/", response_class=HTMLResponse)
async def upload_from_page(
    received_at: Annotated[datetime, Depends(arrival)], request: Request, services: ServicesDep
) -> HTMLResponse:
    """The token (or, signed in, the session and then the form's CSRF token) is checked as soon as
    its field has arrived, before the file is read (`api.forms`)."""
    callers: list[tokens.Caller] = []
    viewer = await _viewer(request, services)
    on_token = _gate(request, services, viewer, callers)

    try:
        check_declared_size(request, services)
        boundary = boundary_of(request.headers.get("content-type", ""))
        if boundary is None:
            raise Problem(400, "the form could not be read: send it from this page")
        body = await read_token_first(
            request.stream(),
            boundary=boundary,
            limit=services.max_body_bytes,
            idle_seconds=services.limits.body_idle_seconds,
            total_seconds=services.limits.body_total_seconds,
            on_token=on_token,
            field=b"token" if viewer is None else b"csrf_token",
        )
        form = await parse_form(request, body)
    except Problem as problem:
        return render(request, services, problem.status_code, viewer=viewer, errors=[field_error(problem)])
    except TokenMissing as missing:
        return _token_missing(request, services, viewer, missing)
    except BodyTooLarge:
        problem = Problem(413, too_large(services.settings), "file")
        return render(request, services, 413, viewer=viewer, errors=[field_error(problem)])
    except BodyTooSlow:
        return render(
            request,
            services,
            408,
            viewer=viewer,
            errors=[{"field": "file", "message": TOO_SLOW.capitalize()}],
        )
    if not [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]:
        return render(
            request,
            services,
            400,
            viewer=viewer,
            errors=[{"field": "file", "message": "Choose the return file to send (CSV or Excel)"}],
        )
    [caller] = callers
    try:
        upload = await file_from(form, services)
    except Problem as problem:
        return render(request, services, problem.status_code, viewer=viewer, errors=[field_error(problem)])
    answer = await receive(services, caller, upload, received_at)
    if answer.status_code >= 500:
        return render(
            request,
            services,
            answer.status_code,
            viewer=viewer,
            errors=[{"field": "file", "message": answer.body["error"]}],
        )
    return render(
        request,
        services,
        200 if answer.status_code == 201 else answer.status_code,
        viewer=viewer,
        outcome=answer.body,
        overview=await overview_of(services, caller.sub_icb_code),
        misplaced=await run_in_threadpool(misplaced_notice, services, answer.body),
    )


@router.post("/my-returns", response_class=HTMLResponse)
async def my_returns_page(request: Request, services: ServicesDep) -> HTMLResponse:
    try:
        form = await request.form(max_files=0, max_fields=4, max_part_size=8 * 1024)
    except Exception:
        return render(
            request,
            services,
            400,
            errors=[{"field": "status-token", "message": "The form could not be read"}],
        )
    token = _token_of(form)
    if not token:
        return render(
            request,
            services,
            400,
            errors=[{"field": "status-token", "message": "Enter your locality's submission token"}],
        )
    try:
        caller = await authenticate(services, token)
        allow(services.reads, caller)
    except Problem as problem:
        return render(request, services, problem.status_code, errors=[field_error(problem, "status-token")])
    return render(request, services, overview=await overview_of(services, caller.sub_icb_code))


@router.get("/my-returns/{submission_id}", response_class=HTMLResponse)
async def one_return_page(submission_id: str, request: Request, services: ServicesDep) -> Response:
    """One of the signed-in submitter's submissions; another locality's answers 404, like one that
    does not exist. The data team opens any locality's, named by ``?locality=CODE``."""
    viewer = await _viewer(request, services)
    if viewer is None:
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return RedirectResponse(f"{base}/sign-in", status_code=303)
    locality = viewer.locality
    if Role.DATA_TEAM in viewer.account.roles:  # the data team opens any locality's (?locality=CODE)
        locality = (request.query_params.get("locality") or locality or "")[:8].upper() or None
    found = None
    if locality is not None:
        found = await run_in_threadpool(services.receiver.reader.get, locality, submission_id[:40])
    if found is None:
        problem = Problem(404, "There is no such return for your locality", "file")
        return render(request, services, 404, viewer=viewer, errors=[field_error(problem)])
    return render(request, services, viewer=viewer, outcome=found)
