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

import json
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect

from surgehub.accounts import seed_accounts
from surgehub.accounts.secret import server_secret
from surgehub.api import auth
from surgehub.api.dependencies import Problem, Services
from surgehub.api.routers import (
    datadocs,
    digests,
    docs,
    health,
    hubs,
    lineage,
    localities,
    oidc,
    page,
    pages,
    people,
    returns,
    signin,
    templates,
)
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
    for area in (
        returns,
        templates,
        health,
        page,
        pages,
        signin,
        oidc,
        people,
        hubs,
        lineage,
        localities,
        digests,
        datadocs,
        docs,
    ):
        app.include_router(area.router)
    app.add_middleware(NoStore)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's description, less the request-validation 422 it adds to any route with a parameter:
    no route here can answer it (their errors are ``{"error": …}``; a rejected return's 422 is
    declared by its route)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=API_DESCRIPTION
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                answer = operation.get("responses", {}).get("422")
                if answer is not None and "HTTPValidationError" in json.dumps(answer):
                    del operation["responses"]["422"]
        components = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


API_DESCRIPTION = (
    "Send a surge hub return (spec 2026.2) and learn at once whether it was accepted, with every "
    "error's rule, row, column and fix. Every `/api/v1/returns` call needs "
    "`Authorization: Bearer <token>` (the locality is the token's); every refusal is "
    '`{"error": "..."}`. See docs/api.md.'
)


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
