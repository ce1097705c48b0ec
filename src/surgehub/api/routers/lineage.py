"""The explain page ``GET /explain/{code}/{day}``: everything behind one locality-day's status, in words.

The page the HTML digest's locality rows and the board page link to; ``surgehub explain`` on the web.
It renders what :func:`surgehub.lineage.explain` computes (nothing is worked out again here): the
status and the rule of spec §5 that decided it, each parameter's ratio, band, weight and points, and
per hub the register and commissioned-plan rows that applied, its current version (submission, file
name, receipt time, SHA-256, archive path) and the versions it displaced.

``?as_of=`` (an ISO 8601 time; no offset is UK time) or ``?digest=KEY`` (as a sent digest showed it,
as of its cut-off) are the command's ``--as-of`` and ``--digest``. Board and data team see every
locality; a submitter only their own; anyone else the 404 page; not signed in, the sign-in page. A
code that is not a locality, or a date outside every season, is 404; a malformed date, time or key
is 400, never a 500.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import clock, reference
from surgehub.accounts import Role
from surgehub.api import auth
from surgehub.api.dependencies import ServicesDep
from surgehub.api.routers.page import pages
from surgehub.api.routers.people import not_found, to_sign_in, viewer_of
from surgehub.api.routers.signin import page

router = APIRouter(include_in_schema=False)


def _london_text(text: str | None) -> str:
    """An ISO instant as lineage's value holds it, as a UK wall time for people."""
    if not text:
        return "–"
    return clock.to_london(clock.parse_instant(text)).strftime("%a %d %b %Y, %H:%M")


pages.filters["london_text"] = _london_text

#: The longest path or query value read; anything longer is not a code, a date, a time or a key.
_LONGEST = 40


def may_explain(viewer: auth.Viewer, sub_icb_code: str) -> bool:
    """Board and data team: every locality; a submitter: their own."""
    return bool(viewer.account.roles & {Role.BOARD, Role.DATA_TEAM}) or viewer.locality == sub_icb_code


@router.get("/explain/{code}/{day}", response_class=HTMLResponse)
async def explain_page(request: Request, code: str, day: str, services: ServicesDep) -> Response:
    """Why a locality had its status on a day (as it stands now, as of a time, or as a digest showed it)."""
    from surgehub.digest.verify import VerifyError, parse_key
    from surgehub.lineage import explain

    viewer = await viewer_of(request, services)
    if viewer is None:
        return to_sign_in(request)
    locality = reference.locality_by_code(code[:_LONGEST]) if len(code) <= _LONGEST else None
    if locality is None or not may_explain(viewer, locality.sub_icb_code):
        return await not_found(request, viewer)
    errors: list[dict[str, str]] = []
    try:
        asked = date.fromisoformat(day) if len(day) <= _LONGEST else None
    except ValueError:
        asked = None
    if asked is None:
        errors.append({"field": "as_of", "message": "The date in the address is not a date like 2026-11-24"})
    elif not any(asked in season for season in services.settings.seasons):
        return await not_found(request, viewer)
    as_of_text = request.query_params.get("as_of", "")[:_LONGEST].strip()
    digest_key = request.query_params.get("digest", "")[:_LONGEST].strip()
    at, basis = services.resources.clock.now(), None
    if as_of_text and digest_key:
        errors.append({"field": "as_of", "message": "Give a time or a digest, not both"})
    elif digest_key:
        try:
            _, at = parse_key(digest_key)
            basis = f"as the digest {digest_key} showed it (its cut-off)"
        except VerifyError:
            errors.append(
                {"field": "as_of", "message": "The digest is not a key like board:2026-11-26T07:30"}
            )
    elif as_of_text:
        try:
            at = clock.parse_instant(as_of_text)
        except ValueError:
            errors.append({"field": "as_of", "message": "Enter a time like 2026-11-26T07:30"})
    if errors or asked is None:
        return await page(
            request,
            "explain.html.j2",
            400,
            viewer=viewer,
            heading=f"Why {locality.name} has its status",
            errors=errors,
            code=locality.sub_icb_code,
            day=asked,
            as_of_text=as_of_text,
        )
    found = await run_in_threadpool(
        explain, services.engine, services.settings, locality.sub_icb_code, asked, at, basis=basis
    )
    return await page(
        request,
        "explain.html.j2",
        viewer=viewer,
        heading=f"Why {found.locality_name} was {found.status.replace('_', ' ').lower()} on "
        f"{asked.strftime('%A %-d %B %Y')}",
        found=found,
        code=locality.sub_icb_code,
        day=asked,
        as_of_text=as_of_text,
    )
