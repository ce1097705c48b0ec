"""The digest archive (issue 17): every board digest and daily summary as it was sent.

- ``GET /digests``: the list, newest first, searchable by words in the subject or key (``?q=``) and by
  kind (``?kind=board|daily``);
- ``GET /digests/{key}``: one digest: when it went, how many copies, its SHA-256 as archived, links to
  the email as mailed, its CSV as attached, the whole message (``.eml``) and why each status;
  for the data team, who it went to and a form to re-send it to one address;
- ``GET /digests/{key}/email.html``, ``/csv``, ``/eml``: the message's parts as archived;
- ``POST /digests/{key}/resend``: the data team re-sends it (``surgehub.digest.resend``), audited.

Board and data team only: anyone else gets the 404 page; not signed in, the sign-in page. A key that
is not a digest key, or names nothing sent, is 404. The email's HTML is served under a CSP that runs
no script and loads nothing (its charts are inlined as ``data:`` URIs).
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub.accounts import Role
from surgehub.api import auth
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.routers.people import allowed
from surgehub.api.routers.signin import BAD_FORM, base_of, checked_form, page
from surgehub.digest.resend import ResendError, SentCopy, resend_digest, sent_copy
from surgehub.warehouse.email_log import sent_digests

router = APIRouter(include_in_schema=False)

#: The longest key (``board:2026-11-26T07:30`` is 22) or search read; anything longer is not one.
_LONGEST = 40
_ROLES = {Role.BOARD, Role.DATA_TEAM}

#: The email as mailed: it may style itself and show its inlined images, and nothing else.
EMAIL_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox allow-popups "
    "allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _file_stem(key: str) -> str:
    """``board:2026-11-26T07:30`` → ``board-2026-11-26T0730`` (a file name with no colon)."""
    return key.replace(":", "-", 1).replace(":", "")


async def _copy(request: Request, services: Services, key: str) -> tuple[SentCopy | None, Response | None]:
    """The signed-in board or data-team member's view of the digest ``key``, or the answer instead."""
    viewer, refused = await allowed(request, services, _ROLES)
    if refused is not None:
        return None, refused
    if len(key) > _LONGEST:
        return None, await _missing(request, viewer)
    try:
        return await run_in_threadpool(sent_copy, services.engine, key), None
    except ResendError:
        return None, await _missing(request, viewer)


async def _missing(request: Request, viewer: auth.Viewer | None) -> Response:
    return await page(
        request, "people.html.j2", 404, viewer=viewer, view="none", heading="There is no such page"
    )


@router.get("/digests", response_class=HTMLResponse)
async def digest_list(request: Request, services: ServicesDep) -> Response:
    """Every board digest and daily summary sent, newest first; ``q`` and ``kind`` narrow the list."""
    viewer, refused = await allowed(request, services, _ROLES)
    if refused is not None:
        return refused
    words = (request.query_params.get("q") or "")[:_LONGEST].strip()
    kind = request.query_params.get("kind") or ""
    kind = kind if kind in ("board", "daily") else ""
    every = await run_in_threadpool(sent_digests, services.engine)
    shown = [
        d
        for d in every
        if (not kind or d.kind == kind)
        and all(w in f"{d.subject} {d.period_key}".lower() for w in words.lower().split())
    ]
    return await page(
        request,
        "digests.html.j2",
        viewer=viewer,
        view="list",
        heading="Digests as sent",
        digests=shown,
        total=len(every),
        words=words,
        kind=kind,
    )


async def _digest_page(
    request: Request,
    services: Services,
    copy: SentCopy,
    status_code: int = 200,
    **context: object,
) -> Response:
    viewer = await auth.viewer_of(request, services.engine, services.resources.clock)
    return await page(
        request,
        "digests.html.j2",
        status_code,
        viewer=viewer,
        view="one",
        heading=copy.subject or copy.key,
        copy=copy,
        stem=_file_stem(copy.key),
        may_resend=viewer is not None and Role.DATA_TEAM in viewer.account.roles,
        **context,
    )


@router.get("/digests/{key}", response_class=HTMLResponse)
async def digest_page(request: Request, key: str, services: ServicesDep) -> Response:
    copy, refused = await _copy(request, services, key)
    if copy is None:
        return refused  # type: ignore[return-value]
    return await _digest_page(request, services, copy, resent=request.query_params.get("resent") == "1")


@router.get("/digests/{key}/email.html", response_class=HTMLResponse)
async def digest_email(request: Request, key: str, services: ServicesDep) -> Response:
    copy, refused = await _copy(request, services, key)
    if copy is None:
        return refused  # type: ignore[return-value]
    html = copy.html()
    if html is None:
        return await _missing(request, None)
    return HTMLResponse(html, headers=EMAIL_HEADERS)


@router.get("/digests/{key}/csv")
async def digest_csv(request: Request, key: str, services: ServicesDep) -> Response:
    copy, refused = await _copy(request, services, key)
    if copy is None:
        return refused  # type: ignore[return-value]
    data = copy.csv
    if data is None:
        return await _missing(request, None)
    disposition = f'attachment; filename="surgehub-{_file_stem(key)}.csv"'
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={**_FILE_HEADERS, "Content-Disposition": disposition},
    )


@router.get("/digests/{key}/eml")
async def digest_eml(request: Request, key: str, services: ServicesDep) -> Response:
    copy, refused = await _copy(request, services, key)
    if copy is None:
        return refused  # type: ignore[return-value]
    disposition = f'attachment; filename="surgehub-{_file_stem(key)}.eml"'
    return Response(
        copy.mime, media_type="message/rfc822", headers={**_FILE_HEADERS, "Content-Disposition": disposition}
    )


@router.post("/digests/{key}/resend", response_class=HTMLResponse)
async def resend(request: Request, key: str, services: ServicesDep) -> Response:
    """The data team sends the digest as sent to one address (audited as ``digest.resend``)."""
    from surgehub.mail.send import MailDeliveryError

    viewer, refused = await allowed(request, services, {Role.DATA_TEAM})
    if refused is not None:
        return refused
    copy, refused = await _copy(request, services, key)
    if copy is None:
        return refused  # type: ignore[return-value]
    form = await checked_form(request)
    if form is None:
        return await _digest_page(request, services, copy, 403, errors=[{"field": "to", "message": BAD_FORM}])
    to = (form.get("to") or "")[:320]
    try:
        done = await run_in_threadpool(
            resend_digest,
            services.engine,
            services.settings,
            services.resources.clock,
            key,
            to,
            actor=viewer.email,  # type: ignore[union-attr]
        )
    except ResendError:
        message = "Enter an email address in the correct format, like name@nhs.net"
        return await _digest_page(
            request, services, copy, 400, to=to, errors=[{"field": "to", "message": message}]
        )
    except MailDeliveryError:
        message = "The mail server did not take the message. Nothing was sent: try again in a few minutes"
        return await _digest_page(
            request, services, copy, 503, to=to, errors=[{"field": "to", "message": message}]
        )
    return RedirectResponse(f"{base_of(request)}/digests/{done.key}?resent=1", status_code=303)
