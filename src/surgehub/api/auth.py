"""People signed in to the pages: server-side sessions (starsessions), CSRF on every form (WTForms),
and who is signed in (``viewer``), with the idle and absolute limits enforced on every request.

Sessions (decision 0065): the cookie holds only a random id; the data lives in the store the rate
limits use (``SURGEHUB_REDIS_URL``: Redis, keyed by a hash of the id; unset, this process's memory).
Signing out deletes it there, so a copied cookie is dead at once. The cookie is ``HttpOnly``,
``SameSite=Lax`` and ``Secure`` — except where ``email.public_base_url`` is plain http on a loopback
host (a developer's or the demo's ``surgehub serve``), the one documented exception. A session ends
after ``IDLE`` without a request and ``ABSOLUTE`` after sign-in, whichever comes first, judged on the
injected clock; the session id changes at sign-in (no fixation) and the CSRF secret with it.

CSRF (decision 0066): every state-changing form carries WTForms' session-bound token (an HMAC of a
per-session secret under the server secret); a post without the right one is refused.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starsessions import SessionMiddleware, load_session, regenerate_session_id
from starsessions.session import get_session_handler
from starsessions.stores.memory import InMemoryStore
from wtforms import Form
from wtforms.csrf.session import SessionCSRF

from surgehub.accounts import Account, Role, get_account
from surgehub.warehouse import audit
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from datetime import datetime

    from fastapi import FastAPI
    from sqlalchemy import Engine
    from starlette.requests import Request
    from starsessions.stores.base import SessionStore

    from surgehub.clock import Clock

#: A session ends after this long without a request...
IDLE = timedelta(minutes=30)
#: ...and this long after sign-in, whatever happens.
ABSOLUTE = timedelta(hours=8)
COOKIE = "surgehub_session"


def loopback_http(public_base_url: str) -> bool:
    """True for plain http on a loopback host (localhost, 127.0.0.0/8, ::1): no ``Secure`` cookie there."""
    parts = urlsplit(public_base_url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_store(storage_uri: str, namespace: str) -> SessionStore:
    """Redis (ids hashed in the keys) when the rate limits use Redis; else this process's memory."""
    if storage_uri.startswith(("redis://", "rediss://")):
        from redis.asyncio import Redis
        from starsessions.stores.redis import RedisStore

        def key(session_id: str) -> str:
            return f"{namespace}:session:{hashlib.sha256(session_id.encode()).hexdigest()}"

        return RedisStore(
            connection=Redis.from_url(storage_uri), prefix=key, gc_ttl=int(ABSOLUTE.total_seconds())
        )
    return InMemoryStore()


def install_sessions(app: FastAPI, *, store: SessionStore, secure: bool) -> None:
    """The session middleware: the cookie's flags, and the store's own lifetime as a second barrier."""
    app.add_middleware(
        SessionMiddleware,
        store=store,
        lifetime=int(ABSOLUTE.total_seconds()),
        rolling=False,
        cookie_name=COOKIE,
        cookie_same_site="lax",
        cookie_https_only=secure,
    )


# -- CSRF ------------------------------------------------------------------------------------------


class _CsrfForm(Form):
    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_time_limit = None  # bounded by the session's own limits


def csrf_token(session: dict[str, Any], secret: bytes) -> str:
    """The token for this session's forms (makes the session's CSRF secret on first use)."""
    form = _CsrfForm(meta={"csrf_secret": secret, "csrf_context": session})
    return str(form.csrf_token.current_token)  # type: ignore[attr-defined]


def csrf_valid(session: dict[str, Any], secret: bytes, token: object) -> bool:
    """Whether ``token`` is this session's (a session that never showed a form has none)."""
    if "csrf" not in session or not isinstance(token, str) or len(token) > 200:
        return False
    form = _CsrfForm(FormData([("csrf_token", token)]), meta={"csrf_secret": secret, "csrf_context": session})
    return form.validate()


# -- who is signed in ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Viewer:
    """The signed-in person: their account, as it is now in the warehouse."""

    account: Account

    @property
    def email(self) -> str:
        return self.account.email

    @property
    def locality(self) -> str | None:
        return self.account.locality if Role.SUBMITTER in self.account.roles else None


async def session_of(request: Request) -> dict[str, Any]:
    await load_session(request)
    return request.session


async def viewer_of(request: Request, engine: Engine, clock: Clock) -> Viewer | None:
    """The signed-in person, or None; a session past its limits, or whose account is disabled or gone,
    is ended here (on the server: the store forgets it)."""
    session = await session_of(request)
    email = session.get("account")
    if not isinstance(email, str):
        return None
    now = clock.now().timestamp()
    signed_in_at, seen_at = float(session.get("signed_in_at", 0)), float(session.get("seen_at", 0))
    account = await run_in_threadpool(get_account, engine, email)
    if (
        account is None
        or not account.active
        or now - signed_in_at > ABSOLUTE.total_seconds()
        or now - seen_at > IDLE.total_seconds()
    ):
        await end_session(request)
        return None
    session["seen_at"] = now
    return Viewer(account=account)


async def sign_in(request: Request, email: str, *, now: datetime) -> None:
    """Start a signed-in session: a new id (the old one deleted from the store) and a new CSRF secret."""
    handler = get_session_handler(request)
    if handler.session_id:
        await handler.store.remove(handler.session_id)
    regenerate_session_id(request)
    request.session.clear()
    request.session.update({"account": email, "signed_in_at": now.timestamp(), "seen_at": now.timestamp()})


async def end_session(request: Request) -> None:
    """End the session on the server: its data deleted from the store now, and a new id for whatever
    this response still puts in it (the old cookie then names nothing)."""
    handler = get_session_handler(request)
    if handler.session_id:
        await handler.store.remove(handler.session_id)
    request.session.clear()
    regenerate_session_id(request)


def record(engine: Engine, *, at: datetime, actor: str, action: str, subject: str, **detail: Any) -> None:
    """One audit event in its own transaction (sign-in and sign-out change nothing else)."""
    with writer(engine).begin() as connection:
        audit.record(connection, occurred_at=at, actor=actor, action=action, subject=subject, detail=detail)
