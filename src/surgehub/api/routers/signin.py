"""Signing in and out: ``GET/POST /sign-in`` (an address), ``GET/POST /sign-in/code`` (the emailed code),
``POST /sign-out``.

The address step answers the same for every address by construction: it counts the limits, issues
and stores a code, remembers the address in the session and redirects to the code step; whether the
code is mailed is decided after the answer, by ``surgehub.accounts.mail.deliver_code``. Every form
carries the session's CSRF token; every outcome is audited (``auth.sign_in``, ``auth.sign_in_failed``,
``auth.sign_out``).
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import clock
from surgehub.accounts import get_account, normalise_email
from surgehub.accounts.codes import Redeemed, issue_code, redeem_code
from surgehub.accounts.mail import deliver_code
from surgehub.api import auth
from surgehub.api.dependencies import Problem, Services, ServicesDep, counted
from surgehub.api.limits import RateLimiter
from surgehub.api.routers.page import HEADERS, pages

router = APIRouter(include_in_schema=False)


def _london_at(instant: datetime | None) -> str:
    return clock.to_london(instant).strftime("%a %d %b %Y, %H:%M") if instant else ""


pages.filters["london_at"] = _london_at  # the people pages show stored instants, not API text

WRONG_CODE = (
    "The code is not right, or it has expired or been used. Check the latest email, or ask for a new code"
)
BAD_FORM = "The form had expired. Try again"


@dataclass(frozen=True, kw_only=True)
class SignInLimits:
    """The sign-in rate limits (``app.state.sign_in``), on the same shared store as the API's."""

    secret: bytes
    codes_per_address: RateLimiter
    codes_per_client: RateLimiter
    tries_per_address: RateLimiter
    tries_per_client: RateLimiter


def _limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in


async def signed_in(
    request: Request, services: Services, email: str, *, now: datetime, method: str
) -> Response:
    """The end of every sign-in (emailed code, OIDC): a new session for ``email``, the audit event
    naming how, and the upload page."""
    await auth.sign_in(request, email, now=now)
    await run_in_threadpool(
        auth.record,
        services.engine,
        at=now,
        actor=email,
        action="auth.sign_in",
        subject=f"account:{email}",
        method=method,
        client=client_of(request),
    )
    return RedirectResponse(f"{base_of(request)}/", status_code=303)


def base_of(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


async def page(
    request: Request, template: str, status_code: int = 200, viewer: auth.Viewer | None = None, **context: Any
) -> HTMLResponse:
    """A signed-in-aware page: the mount prefix, the session's CSRF token, the errors by field."""
    session = await auth.session_of(request)
    sso = getattr(request.app.state, "oidc", None)
    context.update(
        base=base_of(request),
        viewer=viewer,
        csrf=auth.csrf_token(session, _limits(request).secret),
        sso_name=sso[0].name if sso else None,
    )
    context.setdefault("errors", [])
    context["field_errors"] = {e["field"]: e["message"] for e in context["errors"]}
    html = pages.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _over(limiters: list[tuple[RateLimiter, str]]) -> float | None:
    """Count one event on each limiter; the longest wait if any is over its limit, else None."""
    waits = [wait for allowed, wait in (counted(limiter, key) for limiter, key in limiters) if not allowed]
    return max(waits) if waits else None


def _too_many(wait: float, what: str) -> dict[str, str]:
    minutes = max(1, int(wait // 60 + 1))
    return {
        "field": what,
        "message": f"Too many attempts. Wait {minutes} minute{'s' if minutes > 1 else ''} and try again",
    }


async def _form(request: Request) -> dict[str, str]:
    try:
        form = await request.form(max_files=0, max_fields=8, max_part_size=4 * 1024)
    except Exception:
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def checked_form(request: Request) -> dict[str, str] | None:
    """The posted form if it carries this session's CSRF token, else None."""
    form = await _form(request)
    session = await auth.session_of(request)
    return form if auth.csrf_valid(session, _limits(request).secret, form.get("csrf_token")) else None


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, services: ServicesDep) -> Response:
    if await auth.viewer_of(request, services.engine, services.resources.clock) is not None:
        return RedirectResponse(f"{base_of(request)}/", status_code=303)
    notice = "You have signed out." if request.query_params.get("signed-out") else None
    return await page(request, "signin.html.j2", step="email", notice=notice)


@router.post("/sign-in", response_class=HTMLResponse)
async def ask_for_code(request: Request, services: ServicesDep, background: BackgroundTasks) -> Response:
    form = await checked_form(request)
    if form is None:
        return await page(
            request, "signin.html.j2", 400, step="email", errors=[{"field": "email", "message": BAD_FORM}]
        )
    email = normalise_email(form.get("email"))
    if email is None:
        message = "Enter an email address in the correct format, like name@nhs.net"
        return await page(
            request,
            "signin.html.j2",
            400,
            step="email",
            email=form.get("email", "")[:320],
            errors=[{"field": "email", "message": message}],
        )
    limits = _limits(request)
    try:
        wait = _over([(limits.codes_per_address, email), (limits.codes_per_client, client_of(request))])
    except Problem as problem:
        return await page(
            request,
            "signin.html.j2",
            503,
            step="email",
            errors=[{"field": "email", "message": problem.message}],
        )
    if wait is not None:
        return await page(
            request, "signin.html.j2", 429, step="email", email=email, errors=[_too_many(wait, "email")]
        )
    # The same work for every address: a code is issued and stored; only the mail depends on the account.
    now = services.resources.clock.now()
    issued = await run_in_threadpool(issue_code, services.engine, email, secret=limits.secret, now=now)
    background.add_task(deliver_code, services.resources, email, issued)
    session = await auth.session_of(request)
    session["pending_email"] = email
    return RedirectResponse(f"{base_of(request)}/sign-in/code", status_code=303)


@router.get("/sign-in/code", response_class=HTMLResponse)
async def code_page(request: Request) -> Response:
    session = await auth.session_of(request)
    email = session.get("pending_email")
    if not isinstance(email, str):
        return RedirectResponse(f"{base_of(request)}/sign-in", status_code=303)
    return await page(request, "signin.html.j2", step="code", email=email)


@router.post("/sign-in/code", response_class=HTMLResponse)
async def enter_code(request: Request, services: ServicesDep) -> Response:
    form = await checked_form(request)
    session = await auth.session_of(request)
    email = session.get("pending_email")
    if not isinstance(email, str):
        return RedirectResponse(f"{base_of(request)}/sign-in", status_code=303)
    if form is None:
        return await page(
            request,
            "signin.html.j2",
            400,
            step="code",
            email=email,
            errors=[{"field": "code", "message": BAD_FORM}],
        )
    limits = _limits(request)
    try:
        wait = _over([(limits.tries_per_address, email), (limits.tries_per_client, client_of(request))])
    except Problem as problem:
        return await page(
            request,
            "signin.html.j2",
            503,
            step="code",
            email=email,
            errors=[{"field": "code", "message": problem.message}],
        )
    now = services.resources.clock.now()
    if wait is not None:
        await run_in_threadpool(_audit_failure, services, email, "rate_limited", client_of(request))
        return await page(
            request, "signin.html.j2", 429, step="code", email=email, errors=[_too_many(wait, "code")]
        )
    outcome = await run_in_threadpool(
        redeem_code, services.engine, email, form.get("code", ""), secret=limits.secret, now=now
    )
    account = await run_in_threadpool(get_account, services.engine, email) if outcome is Redeemed.OK else None
    if account is None or not account.active:
        reason = str(outcome) if outcome is not Redeemed.OK else "no_active_account"
        await run_in_threadpool(_audit_failure, services, email, reason, client_of(request))
        return await page(
            request,
            "signin.html.j2",
            400,
            step="code",
            email=email,
            errors=[{"field": "code", "message": WRONG_CODE}],
        )
    return await signed_in(request, services, account.email, now=now, method="email_code")


def _audit_failure(services: Services, email: str, reason: str, client: str) -> None:
    auth.record(
        services.engine,
        at=services.resources.clock.now(),
        actor=email,
        action="auth.sign_in_failed",
        subject=f"account:{email}",
        reason=reason,
        client=client,
    )


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request, services: ServicesDep) -> Response:
    form = await checked_form(request)
    viewer = await auth.viewer_of(request, services.engine, services.resources.clock)
    if form is None:
        return await page(
            request,
            "signin.html.j2",
            400,
            viewer=viewer,
            step="email",
            errors=[{"field": "email", "message": BAD_FORM}],
        )
    if viewer is not None:
        await run_in_threadpool(
            auth.record,
            services.engine,
            at=services.resources.clock.now(),
            actor=viewer.email,
            action="auth.sign_out",
            subject=f"account:{viewer.email}",
        )
    await auth.end_session(request)
    return RedirectResponse(f"{base_of(request)}/sign-in?signed-out=1", status_code=303)
