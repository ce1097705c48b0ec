"""What the routes share through ``Depends``: the app's services, the arrival time, the caller, the limits.

A refusal raises ``Problem`` (an HTTP status and words for people): the API answers it as
``{"error": …}`` (the handler ``create_app`` installs); the page catches it and shows it on the
form, so the page calls the same steps (``authenticate``, ``allow``, ``multipart_form``,
``file_from``) itself rather than through ``Depends``.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from surgehub.api import tokens
from surgehub.api.limits import (
    MULTIPART_OVERHEAD,
    BodyTooLarge,
    BodyTooSlow,
    LimiterDown,
    Limits,
    RateLimiter,
    read_body,
)
from surgehub.api.outstanding import overview
from surgehub.api.records import Answer
from surgehub.api.submissions import Receiver
from surgehub.config import Settings
from surgehub.resources import Resources

log = logging.getLogger(__name__)


class Problem(Exception):
    """A request refused before it reached validation: an HTTP status and words for people."""

    def __init__(self, status_code: int, message: str, field: str | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field  # the page's form field the message belongs to
        self.headers = headers


@dataclass(frozen=True, kw_only=True)
class Services:
    """What ``create_app`` builds once and every request shares (``app.state.services``)."""

    resources: Resources
    engine: Engine  # the warehouse, migrated and seeded
    receiver: Receiver
    uploads: RateLimiter  # per token
    reads: RateLimiter  # per token
    limits: Limits = field(default_factory=Limits)  # body timeouts

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def max_file_bytes(self) -> int:
        return self.settings.limits.max_file_bytes

    @property
    def max_body_bytes(self) -> int:
        return self.max_file_bytes + MULTIPART_OVERHEAD


@dataclass(frozen=True, kw_only=True)
class Upload:
    """The one file of a multipart form: its bytes and the name the submitter gave it."""

    data: bytes
    file_name: str | None


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def arrival(services: ServicesDep) -> datetime:
    """The receipt time: when the request arrived, before its body is read (spec §4)."""
    return services.resources.clock.now()


# -- the caller and the rate limits ------------------------------------------------------------------


async def authenticate(services: Services, token: str | None) -> tokens.Caller:
    """The caller ``token`` speaks for; 401 for a missing, wrong, revoked or expired token."""
    now = services.resources.clock.now()
    caller = await run_in_threadpool(tokens.authenticate, services.engine, token, now=now)
    if caller is None:
        raise Problem(
            401,
            "no valid submission token: send 'Authorization: Bearer <token>' with your locality's token",
            "token",
            **{"WWW-Authenticate": 'Bearer realm="surgehub"'},
        )
    return caller


def allow(limiter: RateLimiter, caller: tokens.Caller) -> None:
    """Count one request against the caller's token; 429 (with ``Retry-After``) when over the limit."""
    allowed, wait = counted(limiter, caller.prefix)
    if not allowed:
        seconds = max(1, int(wait + 0.999))
        raise Problem(
            429,
            f"too many requests for this token: try again in {seconds} s",
            None,
            **{"Retry-After": str(seconds)},
        )


def counted(limiter: RateLimiter, key: str) -> tuple[bool, float]:
    """``limiter.allow(key)``; 503 when the rate-limit store cannot be reached."""
    try:
        return limiter.allow(key)
    except LimiterDown:
        raise Problem(503, "the service cannot check its limits just now: try again in a minute") from None


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


#: The API's security scheme in the OpenAPI description (``bearer``); it never answers by itself
#: (``auto_error=False``): a missing or wrong token is ``authenticate``'s 401, as ``{"error": …}``.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="sh_<prefix>_<secret>",
    description="The locality's submission token (`surgehub token create`)",
)


async def api_caller(
    request: Request,
    services: ServicesDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> tokens.Caller:
    """The caller of an API request (its bearer token)."""
    return await authenticate(services, bearer(request))


async def upload_caller(
    caller: Annotated[tokens.Caller, Depends(api_caller)], services: ServicesDep
) -> tokens.Caller:
    """The caller of an upload, within its token's upload allowance."""
    allow(services.uploads, caller)
    return caller


async def read_caller(
    caller: Annotated[tokens.Caller, Depends(api_caller)], services: ServicesDep
) -> tokens.Caller:
    """The caller of a read, within its token's read allowance."""
    allow(services.reads, caller)
    return caller


# -- the body, within the size limit ---------------------------------------------------------------


async def multipart_form(request: Request, services: Services) -> FormData:
    """The request's multipart form, read within the size and time limits; malformed or abusive forms refused."""
    check_declared_size(request, services)
    try:
        body = await read_body(
            request.stream(),
            services.max_body_bytes,
            idle_seconds=services.limits.body_idle_seconds,
            total_seconds=services.limits.body_total_seconds,
        )
    except BodyTooLarge:
        raise Problem(413, too_large(services.settings), "file") from None
    except BodyTooSlow:
        raise Problem(408, TOO_SLOW, "file") from None
    return await parse_form(request, body)


#: Words for a body that stalled or crawled (408).
TOO_SLOW = "the upload was too slow and was stopped; check the connection and send the file again"


def check_declared_size(request: Request, services: Services) -> None:
    """415 for a body that is not a multipart form; 413 at once for a declared length over the limit."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise Problem(415, "send the return as multipart/form-data with the file in the field 'file'")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise Problem(400, "Content-Length is not a number")
        if int(declared) > services.max_body_bytes:
            raise Problem(413, too_large(services.settings), "file")


async def parse_form(request: Request, body: bytes) -> FormData:
    """A body already read (within the limits) parsed as the request's multipart form; abuse refused."""

    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(request.headers, replay(), max_files=1, max_fields=8, max_part_size=8 * 1024)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise Problem(400, f"the multipart form could not be read: {exc}") from None
    except Exception as exc:  # a malformed body the parser chokes on is the client's fault
        raise Problem(400, f"the multipart form could not be read ({type(exc).__name__})") from None


async def file_from(form: FormData, services: Services) -> Upload:
    """The form's one file (field ``file``), at most the file size limit."""
    files = form.getlist("file")
    if len(files) != 1 or not isinstance(files[0], UploadFile):
        raise Problem(400, "choose one return file (CSV or XLSX) and send it in the field 'file'", "file")
    upload = files[0]
    data = await upload.read(services.max_file_bytes + 1)
    await upload.close()
    if len(data) > services.max_file_bytes:
        raise Problem(413, too_large(services.settings), "file")
    return Upload(data=data, file_name=upload.filename)


async def uploaded_file(request: Request, services: ServicesDep) -> Upload:
    """The file of an API upload."""
    return await file_from(await multipart_form(request, services), services)


def too_large(settings: Settings) -> str:
    mib = settings.limits.max_file_bytes / (1024 * 1024)
    return f"the file is over the {mib:g} MiB limit (spec §1): split it into smaller returns"


# -- the work, off the event loop ------------------------------------------------------------------


async def receive(services: Services, caller: tokens.Caller, upload: Upload, received_at: datetime) -> Answer:
    """The receiver's answer to an upload; 503 when it could not be received (nothing kept)."""
    try:
        return await run_in_threadpool(
            lambda: services.receiver.receive(
                locality=caller.sub_icb_code,
                token_id=caller.token_id,
                data=upload.data,
                file_name=upload.file_name,
                received_at=received_at,
                sent_by=caller.sent_by,
            )
        )
    except Exception:  # e.g. the warehouse is down: not received, and the sender must know it
        log.exception("return from %s not received", caller.sub_icb_code)
        return Answer(
            status_code=503,
            body={
                "error": "the return could not be received just now; nothing was kept: "
                "please send it again in a few minutes"
            },
        )


async def overview_of(services: Services, locality: str) -> dict[str, Any]:
    """The locality's submissions and the hub-days it still owes, as of now."""
    now = services.resources.clock.now()
    return await run_in_threadpool(overview, services.receiver.reader, locality, now, services.settings)
