"""The Submission API and the upload page as one FastAPI application (``create_app``).

Routes (docs/api.md, interfaces.md): ``POST /api/v1/returns``, ``GET /api/v1/returns``,
``GET /api/v1/returns/{submission_id}``, ``GET /api/v1/template.csv|.xlsx``, ``GET /`` and
``POST /`` (the page), ``POST /my-returns`` (the page's list), ``GET /healthz``.

Every API call carries ``Authorization: Bearer <token>``; the page takes the token in a password
field of each form instead (no cookie, no session: nothing for a cross-site request to ride on).
The locality is always the token's. The app does its own authentication, so it is safe to mount
where the host does none (an Airflow plugin's ``fastapi_apps`` are served without auth).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from surgehub import clock, reference, spec
from surgehub.api import tokens
from surgehub.api.limits import BodyTooLarge, RateLimiter, read_body
from surgehub.api.submissions import Answer, Receiver, outstanding_hub_days
from surgehub.config import Settings, load_settings
from surgehub.warehouse.db import ensure_warehouse, get_engine

log = logging.getLogger(__name__)

#: Room for the multipart framing and the page's token field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Limits:
    """Per-token request limits (sliding windows, in this process's memory)."""

    uploads_per_window: int = 30
    reads_per_window: int = 300
    window_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            uploads_per_window=int(os.environ.get("SURGEHUB_API_UPLOADS_PER_MINUTE", "30")),
            reads_per_window=int(os.environ.get("SURGEHUB_API_READS_PER_MINUTE", "300")),
        )


class Problem(Exception):
    """A request refused before it reached validation: an HTTP status and words for people."""

    def __init__(self, status_code: int, message: str, field: str | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field
        self.headers = headers


def _error(problem: Problem) -> JSONResponse:
    return JSONResponse({"error": problem.message}, status_code=problem.status_code, headers=problem.headers)


_pages = Environment(
    loader=PackageLoader("surgehub.api", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _london(text: str | None) -> str:
    if not text:
        return ""
    return clock.to_london(clock.parse_instant(text)).strftime("%a %d %b %Y, %H:%M:%S")


_pages.filters["london"] = _london


def template_csv() -> bytes:
    """An empty return: the header row in the spec's column order (UTF-8, CRLF, as Excel saves it)."""
    return (",".join(spec.COLUMN_NAMES) + "\r\n").encode("utf-8")


def template_xlsx() -> bytes:
    """An empty return as a workbook: one sheet named ``Return`` holding the header row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Return"
    sheet.append(list(spec.COLUMN_NAMES))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def create_app(settings: Settings | None = None, limits: Limits | None = None, warm: bool = False) -> FastAPI:
    """The application. ``warm`` validates a sample return at start-up, so GX is loaded before the first request."""
    settings = settings or load_settings()
    limits = limits or Limits.from_env()
    engine = ensure_warehouse(get_engine(settings.warehouse_url))
    receiver = Receiver(settings, engine)
    uploads = RateLimiter(limits.uploads_per_window, limits.window_seconds)
    reads = RateLimiter(limits.reads_per_window, limits.window_seconds)
    body_limit = settings.limits.max_file_bytes + MULTIPART_OVERHEAD

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(_warm_up, settings)
        yield

    app = FastAPI(
        title="surgehub Submission API",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.receiver = receiver

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return JSONResponse(
            {"error": "something went wrong on the server; please try again"}, status_code=500
        )

    # -- shared steps ----------------------------------------------------------------------------

    async def caller_from(token: str | None) -> tokens.Caller:
        caller = await run_in_threadpool(tokens.authenticate, engine, token)
        if caller is None:
            raise Problem(
                401,
                "no valid submission token: send 'Authorization: Bearer <token>' with your locality's token",
                "token",
                **{"WWW-Authenticate": 'Bearer realm="surgehub"'},
            )
        return caller

    def bearer(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def limit(limiter: RateLimiter, caller: tokens.Caller) -> None:
        allowed, wait = limiter.allow(caller.prefix)
        if not allowed:
            seconds = max(1, int(wait + 0.999))
            raise Problem(
                429,
                f"too many requests for this token: try again in {seconds} s",
                None,
                **{"Retry-After": str(seconds)},
            )

    async def multipart_form(request: Request) -> FormData:
        """The request's multipart form, read within the size limit; malformed or abusive forms refused."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "multipart/form-data":
            raise Problem(415, "send the return as multipart/form-data with the file in the field 'file'")
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Problem(400, "Content-Length is not a number")
            if int(declared) > body_limit:
                raise Problem(413, _too_large(settings), "file")
        try:
            body = await read_body(request.stream(), body_limit)
        except BodyTooLarge:
            raise Problem(413, _too_large(settings), "file") from None

        async def replay() -> AsyncIterator[bytes]:
            yield body

        parser = MultiPartParser(request.headers, replay(), max_files=1, max_fields=8, max_part_size=8 * 1024)
        try:
            return await parser.parse()
        except MultiPartException as exc:
            raise Problem(400, f"the multipart form could not be read: {exc}") from None
        except Exception as exc:  # a malformed body the parser chokes on is the client's fault
            raise Problem(400, f"the multipart form could not be read ({type(exc).__name__})") from None

    async def upload_from(form: FormData) -> tuple[bytes, str | None]:
        files = form.getlist("file")
        if len(files) != 1 or not isinstance(files[0], UploadFile):
            raise Problem(400, "choose one return file (CSV or XLSX) and send it in the field 'file'", "file")
        upload = files[0]
        data = await upload.read(settings.limits.max_file_bytes + 1)
        await upload.close()
        if len(data) > settings.limits.max_file_bytes:
            raise Problem(413, _too_large(settings), "file")
        return data, upload.filename

    async def receive(caller: tokens.Caller, data: bytes, name: str | None, received_at: datetime) -> Answer:
        try:
            return await run_in_threadpool(
                lambda: receiver.receive(
                    locality=caller.sub_icb_code,
                    token_id=caller.token_id,
                    data=data,
                    file_name=name,
                    received_at=received_at,
                )
            )
        except Exception:  # e.g. the warehouse is down: not received, and the sender must know it
            log.exception("return from %s not received", caller.sub_icb_code)
            return Answer(
                503,
                {
                    "error": "the return could not be received just now; nothing was kept: "
                    "please send it again in a few minutes"
                },
            )

    # -- the API ---------------------------------------------------------------------------------

    @app.post("/api/v1/returns", summary="Send a return; validated at once")
    async def post_return(request: Request) -> Response:
        received_at = clock.now()  # the receipt time is the request's arrival (spec §4)
        try:
            caller = await caller_from(bearer(request))
            limit(uploads, caller)
            form = await multipart_form(request)
            data, name = await upload_from(form)
        except Problem as problem:
            return _error(problem)
        answer = await receive(caller, data, name, received_at)
        return JSONResponse(answer.body, status_code=answer.status_code)

    @app.get("/api/v1/returns", summary="This locality's submissions and the hub-days it still owes")
    async def list_returns(request: Request) -> Response:
        try:
            caller = await caller_from(bearer(request))
            limit(reads, caller)
        except Problem as problem:
            return _error(problem)
        return JSONResponse(await run_in_threadpool(_overview, receiver, caller.sub_icb_code, settings))

    @app.get("/api/v1/returns/{submission_id}", summary="One submission's outcome and state")
    async def get_return(submission_id: str, request: Request) -> Response:
        try:
            caller = await caller_from(bearer(request))
            limit(reads, caller)
        except Problem as problem:
            return _error(problem)
        found = await run_in_threadpool(receiver.get, caller.sub_icb_code, submission_id)
        if found is None:  # another locality's looks exactly like one that does not exist
            return JSONResponse({"error": "no such submission for this locality"}, status_code=404)
        return JSONResponse(found)

    @app.get("/api/v1/template.csv", summary="An empty return (CSV)")
    def get_template_csv() -> Response:
        return Response(
            template_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.csv"'},
        )

    @app.get("/api/v1/template.xlsx", summary="An empty return (Excel workbook)")
    def get_template_xlsx() -> Response:
        return Response(
            template_xlsx(),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.xlsx"'},
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # -- the page --------------------------------------------------------------------------------

    def page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        # Links and form actions carry the mount prefix (e.g. /surgehub inside the Airflow API server).
        context["base"] = str(request.scope.get("root_path", "")).rstrip("/")
        context.setdefault("errors", [])
        context["field_errors"] = {e["field"]: e["message"] for e in context["errors"]}
        context.setdefault("max_mib", settings.limits.max_file_bytes // (1024 * 1024))
        html = _pages.get_template("upload.html.j2").render(**context)
        return HTMLResponse(html, status_code=status_code, headers=_page_headers())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def upload_page(request: Request) -> HTMLResponse:
        return page(request)

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def upload_from_page(request: Request) -> HTMLResponse:
        received_at = clock.now()
        try:
            form = await multipart_form(request)
        except Problem as problem:
            return page(request, problem.status_code, errors=[_field_error(problem)])
        token_text = form.get("token")
        token_value = token_text.strip() if isinstance(token_text, str) else ""
        errors = []
        if not token_value:
            errors.append({"field": "token", "message": "Enter your locality's submission token"})
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
        if not files:
            errors.append({"field": "file", "message": "Choose the return file to send (CSV or Excel)"})
        if errors:
            return page(request, 400, errors=errors)
        try:
            caller = await caller_from(token_value)
            limit(uploads, caller)
            data, name = await upload_from(form)
        except Problem as problem:
            return page(request, problem.status_code, errors=[_field_error(problem)])
        answer = await receive(caller, data, name, received_at)
        if answer.status_code >= 500:
            return page(
                request, answer.status_code, errors=[{"field": "file", "message": answer.body["error"]}]
            )
        overview = await run_in_threadpool(_overview, receiver, caller.sub_icb_code, settings)
        return page(
            request,
            200 if answer.status_code == 201 else answer.status_code,
            outcome=answer.body,
            overview=overview,
        )

    @app.post("/my-returns", response_class=HTMLResponse, include_in_schema=False)
    async def my_returns_page(request: Request) -> HTMLResponse:
        try:
            form = await request.form(max_files=0, max_fields=4, max_part_size=8 * 1024)
        except Exception:
            return page(
                request, 400, errors=[{"field": "status-token", "message": "The form could not be read"}]
            )
        token_text = form.get("token")
        token_value = token_text.strip() if isinstance(token_text, str) else ""
        if not token_value:
            return page(
                request,
                400,
                errors=[{"field": "status-token", "message": "Enter your locality's submission token"}],
            )
        try:
            caller = await caller_from(token_value)
            limit(reads, caller)
        except Problem as problem:
            error = _field_error(problem)
            if error["field"] == "token":
                error["field"] = "status-token"
            return page(request, problem.status_code, errors=[error])
        overview = await run_in_threadpool(_overview, receiver, caller.sub_icb_code, settings)
        return page(request, overview=overview)

    return app


def _too_large(settings: Settings) -> str:
    mib = settings.limits.max_file_bytes / (1024 * 1024)
    return f"the file is over the {mib:g} MiB limit (spec §1): split it into smaller returns"


def _field_error(problem: Problem) -> dict[str, str]:
    words = {
        401: "The submission token was not recognised, or it has expired or been revoked. "
        "Check it, or ask the GM primary care data team for a new one",
        413: None,
        415: "Send the return using this form",
    }.get(problem.status_code)
    message = words or (problem.message[:1].upper() + problem.message[1:])
    return {"field": problem.field or "file", "message": message}


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _overview(receiver: Receiver, locality: str, settings: Settings) -> dict[str, Any]:
    now = clock.now()
    found = reference.locality_by_code(locality)
    return {
        "locality": locality,
        "locality_name": found.name if found else locality,
        "as_of": now.isoformat().replace("+00:00", "Z"),
        "submissions": receiver.submissions_of(locality),
        "outstanding": outstanding_hub_days(receiver.engine, locality, now, settings),
    }


def _warm_up(settings: Settings) -> str | None:
    """Validate one sample return so Great Expectations is imported before the first request.

    The sample is dated on the season's first day and "received" the day after, so it reaches the
    GX suite whatever today's date is (an out-of-season date would stop at F05 and warm nothing).
    """
    import random
    from datetime import time, timedelta

    from surgehub import sample
    from surgehub.returns.validate import validate_return

    day = settings.season.start
    code = next(
        loc.sub_icb_code for loc in reference.localities() if reference.active_hubs(loc.sub_icb_code, day)
    )
    data = sample.to_csv(sample.locality_rows(code, [day], random.Random(0)))
    received_at = clock.london_instant(day + timedelta(days=1), time(9, 0))
    try:
        result = validate_return(data, locality=code, received_at=received_at, settings=settings)
        log.info("validator warm: sample return %s", result.status)
        return result.status
    except Exception:  # warming is an optimisation; a failure here must not stop the server
        log.exception("warm-up validation failed")
        return None
