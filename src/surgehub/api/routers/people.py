"""Pages for signed-in people beyond the upload page: a submitter's own tokens (``/tokens``), the
board's RAG table (``/board``: every locality's status for a day, with its reasons) and the data
team's admin page (``/admin``: `surgehub health`, accounts, every token with revoke, the audit trail).

A token made here belongs to the signed-in account and its locality, expires (30, 90 or 180 days)
and is shown once. Another person's page, or one for a role the account does not have, answers 404
(as if it did not exist); not signed in, the page sends the person to sign in. Every form carries the
session's CSRF token; creating and revoking are audited under the person's address.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import clock
from surgehub.accounts import Role, list_accounts
from surgehub.api import auth, tokens
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.routers.signin import base_of, checked_form, page
from surgehub.warehouse.audit import latest

router = APIRouter(include_in_schema=False)

#: The lives a person may give a token they make, in days; the first is the default.
TOKEN_DAYS = (90, 30, 180)
NOT_FOUND = "There is no such page"


async def viewer_of(request: Request, services: Services) -> auth.Viewer | None:
    return await auth.viewer_of(request, services.engine, services.resources.clock)


def to_sign_in(request: Request) -> Response:
    return RedirectResponse(f"{base_of(request)}/sign-in", status_code=303)


async def not_found(request: Request, viewer: auth.Viewer) -> Response:
    return await page(request, "people.html.j2", 404, viewer=viewer, view="none", heading=NOT_FOUND)


async def allowed(
    request: Request, services: Services, roles: set[Role]
) -> tuple[auth.Viewer | None, Response | None]:
    """The signed-in person if they hold one of ``roles``; else the answer to give instead: the sign-in
    page when nobody is signed in, the 404 page (as if the page did not exist) for anyone else."""
    viewer = await viewer_of(request, services)
    if viewer is None:
        return None, to_sign_in(request)
    if not viewer.account.roles & roles:
        return None, await not_found(request, viewer)
    return viewer, None


# -- a submitter's own tokens ----------------------------------------------------------------------


async def _tokens_page(
    request: Request, services: Services, viewer: auth.Viewer, status_code: int = 200, **context: object
) -> Response:
    mine = [
        t
        for t in await run_in_threadpool(tokens.list_tokens, services.engine)
        if t.account_email == viewer.email
    ]
    now = services.resources.clock.now()
    return await page(
        request,
        "people.html.j2",
        status_code,
        viewer=viewer,
        view="tokens",
        heading="Tokens for scripts",
        tokens=mine,
        now=now,
        days=TOKEN_DAYS,
        **context,
    )


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, services: ServicesDep) -> Response:
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    if viewer.locality is None:
        return await not_found(request, viewer)
    return await _tokens_page(request, services, viewer)


@router.post("/tokens", response_class=HTMLResponse)
async def make_token(request: Request, services: ServicesDep) -> Response:
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    if viewer.locality is None:
        return await not_found(request, viewer)
    form = await checked_form(request)
    if form is None:
        return await _tokens_page(
            request,
            services,
            viewer,
            403,
            errors=[{"field": "label", "message": "The form had expired. Try again"}],
        )
    days = (
        int(form["days"])
        if form.get("days", "").isdigit() and int(form["days"]) in TOKEN_DAYS
        else TOKEN_DAYS[0]
    )
    label = (form.get("label") or "").strip()[:100] or None
    now = services.resources.clock.now()
    secret, info = await run_in_threadpool(
        lambda: tokens.create_token(
            services.engine,
            viewer.locality or "",
            now=now,
            expires_at=now + timedelta(days=days),
            label=label,
            account_email=viewer.email,
            actor=viewer.email,
        )
    )
    return await _tokens_page(request, services, viewer, 201, made=secret, made_info=info)


@router.post("/tokens/revoke", response_class=HTMLResponse)
async def revoke_own_token(request: Request, services: ServicesDep) -> Response:
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    form = await checked_form(request)
    prefix = (form or {}).get("prefix", "")
    mine = {
        t.prefix
        for t in await run_in_threadpool(tokens.list_tokens, services.engine)
        if t.account_email == viewer.email
    }
    if form is None or prefix not in mine:
        return await not_found(request, viewer)
    now = services.resources.clock.now()
    await run_in_threadpool(lambda: tokens.revoke_token(services.engine, prefix, now=now, actor=viewer.email))
    return RedirectResponse(f"{base_of(request)}/tokens", status_code=303)


# -- the data team's admin page --------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request, services: ServicesDep) -> Response:
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    if Role.DATA_TEAM not in viewer.account.roles:
        return await not_found(request, viewer)
    from surgehub.health import check_health

    accounts, every_token, events, health = await run_in_threadpool(
        lambda: (
            list_accounts(services.engine),
            tokens.list_tokens(services.engine),
            latest(services.engine, limit=100),
            check_health(services.resources),
        )
    )
    return await page(
        request,
        "people.html.j2",
        viewer=viewer,
        view="admin",
        heading="Accounts, tokens and audit",
        accounts=accounts,
        tokens=every_token,
        events=events,
        health=health,
        now=services.resources.clock.now(),
        notice=_revoked_notice(request.query_params.get("revoked", ""), every_token),
    )


def _revoked_notice(prefix: str, every_token: list[tokens.TokenInfo]) -> str | None:
    """The prefix to confirm as revoked: only a token that is revoked (a link cannot make up a notice)."""
    return prefix if any(t.prefix == prefix and t.revoked_at is not None for t in every_token) else None


@router.post("/admin/tokens/revoke", response_class=HTMLResponse)
async def admin_revoke(request: Request, services: ServicesDep) -> Response:
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    form = await checked_form(request)
    if Role.DATA_TEAM not in viewer.account.roles or form is None:
        return await not_found(request, viewer)
    prefix = form.get("prefix", "")[:16]
    now = services.resources.clock.now()
    done = await run_in_threadpool(
        lambda: tokens.revoke_token(services.engine, prefix, now=now, actor=viewer.email)
    )
    if not done:
        return await not_found(request, viewer)
    return RedirectResponse(f"{base_of(request)}/admin?revoked={prefix}", status_code=303)


# -- the board's RAG table -------------------------------------------------------------------------


def _board_day(text: str | None, services: Services) -> tuple[date, str | None]:
    """The day asked for (default: yesterday, UK time), or yesterday and why the asked day is not shown."""
    yesterday = clock.london_day(services.resources.clock.now()) - timedelta(days=1)
    if not text:
        return yesterday, None
    try:
        asked = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return yesterday, "Enter a date like 2026-11-24"
    if not any(asked in season for season in services.settings.seasons):
        return yesterday, "That date is outside the surge season"
    return asked, None


@router.get("/board", response_class=HTMLResponse)
async def board_page(request: Request, services: ServicesDep) -> Response:
    """Every locality's RAG status for one day as it stands now, with its reasons (board and data team)."""
    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    if not viewer.account.roles & {Role.BOARD, Role.DATA_TEAM}:
        return await not_found(request, viewer)
    day, problem = _board_day(request.query_params.get("date"), services)
    now = services.resources.clock.now()
    from surgehub.rag import compute_rag

    day_rag = await run_in_threadpool(compute_rag, services.engine, day, now, services.settings)
    errors = [{"field": "date", "message": problem}] if problem else []
    return await page(
        request,
        "people.html.j2",
        400 if problem else 200,
        viewer=viewer,
        view="board",
        heading=f"RAG status for {day.strftime('%A %-d %B %Y')}",
        day=day,
        rag=day_rag,
        errors=errors,
    )
