"""The Submission API and the upload page as one FastAPI application: ``create_app`` wires the routers.

Routes (docs/api.md, interfaces.md), one router each: the returns API (``surgehub.api.routers.returns``),
the templates, the upload page and ``/healthz``. What they share comes through ``Depends``
(``surgehub.api.dependencies``): the services built here once, the caller a token speaks for, and
the limits.

Every API call carries ``Authorization: Bearer <token>``. People sign in to the pages with a code
sent by email (``routers.signin``; sessions and CSRF in ``surgehub.api.auth``); without signing in,
the page still takes a token in a password field of its form. The locality is always the token's or
the signed-in submitter's. The app does its own authentication, so it is safe to mount
where the host does none (an Airflow plugin's ``fastapi_apps`` are served without auth).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect

from surgehub.accounts import seed_accounts
from surgehub.accounts.secret import server_secret
from surgehub.api import auth
from surgehub.api.dependencies import Problem, Services
from surgehub.api.routers import docs, health, oidc, page, people, returns, signin, templates
from surgehub.api.submissions import Receiver
from surgehub.api.warmup import warm_up

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from surgehub.api.limits import Limits
    from surgehub.resources import Resources

log = logging.getLogger(__name__)


def create_app(
    *, resources: Resources, limits: Limits, warm: bool = False, cookie_secure: bool | None = None
) -> FastAPI:
    """The application on ``resources`` (its warehouse is migrated here, and the configured accounts
    seeded), with ``limits`` per token, account, address and client.

    ``warm`` validates a sample return at start-up, so GX is loaded before the first request.
    ``cookie_secure`` defaults to True except where ``email.public_base_url`` is http on loopback.
    """
    engine = resources.warehouse()
    seed_accounts(engine, resources.settings.email, at=resources.clock.now())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, resources.settings)
        yield

    app = FastAPI(
        title="surgehub Submission API",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served by routers.docs from the installed packages, never a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = Services(
        resources=resources,
        engine=engine,
        receiver=Receiver(resources=resources),
        uploads=limits.per_window("uploads", limits.uploads_per_window),
        reads=limits.per_window("reads", limits.reads_per_window),
        limits=limits,
    )
    app.state.sign_in = signin.SignInLimits(
        secret=server_secret(resources.settings),
        codes_per_address=limits.limiter("codes-per-address", limits.codes_per_address),
        codes_per_client=limits.limiter("codes-per-client", limits.codes_per_client),
        tries_per_address=limits.limiter("tries-per-address", limits.tries_per_address),
        tries_per_client=limits.limiter("tries-per-client", limits.tries_per_client),
    )
    if cookie_secure is None:
        cookie_secure = not auth.loopback_http(resources.settings.email.public_base_url)
    auth.install_sessions(
        app, store=auth.session_store(limits.storage_uri, limits.namespace), secure=cookie_secure
    )
    oidc.install(app, oidc.OidcConfig.from_env())
    app.add_exception_handler(Problem, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(Exception, _unexpected)
    for area in (returns, templates, health, page, signin, oidc, people, docs):
        app.include_router(area.router)
    app.add_middleware(NoStore)
    return app


class NoStore:
    """``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff`` on every answer (a pure ASGI
    middleware: nothing is buffered). Answers to a token are never kept by a cache or re-typed by a
    browser; a response that sets its own Cache-Control (the docs' static assets) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Cache-Control", "no-store")
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, with_headers)


async def _gone(_request: Request, _exc: Exception) -> Response:
    """The client went away before its request was read: nothing to answer, nothing to alarm anyone."""
    log.debug("client disconnected before its request was read")
    return Response(status_code=400)


async def _refused(_request: Request, problem: Problem) -> JSONResponse:
    """An API request refused (401, 413, 415, 429, …): ``{"error": …}`` with the problem's headers."""
    return JSONResponse({"error": problem.message}, status_code=problem.status_code, headers=problem.headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return JSONResponse({"error": "something went wrong on the server; please try again"}, status_code=500)
