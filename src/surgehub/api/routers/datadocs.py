"""The GX Data Docs, served to the data team behind the sign-in: ``GET /data-docs/`` and the site's files.

The site is built by ``surgehub gx-docs build`` and by the ingest DAG's ``build_data_docs`` task into
``<SURGEHUB_HOME>/gx/uncommitted/data_docs/local_site/`` (``surgehub.gx.store.site_dir``). Only a
signed-in data-team account sees it; anyone else signed in gets 404, as for the admin page, and
nobody signed in is sent to sign in.

Every path is hostile until proven otherwise: it must name a regular file inside the site once
resolved (no ``..``, no link leading out, no folder), with a known suffix; anything else is 404. The
pages are served with a policy that runs no script at all: GX's own index builds its table with
scripts from public CDNs, which an authenticated page must never load, so the entry point is
surgehub's own page (``surgehub.html``: every return of each day with its GX results and the rules
outside GX), which needs none; GX's result pages read complete without their scripts.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from surgehub.accounts import Role
from surgehub.api import auth
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.routers.signin import base_of, page

router = APIRouter(include_in_schema=False)

#: What the site holds, by suffix; anything else is not served.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

ENTRY = "surgehub.html"


def site_file(site: Path, path: str) -> Path | None:
    """The regular file ``path`` names inside ``site``, or None: never anything outside it."""
    if not path or "\x00" in path or "\\" in path or len(path) > 512 or path.startswith("/"):
        return None
    if Path(path).suffix.lower() not in MEDIA_TYPES:
        return None
    try:
        root = site.resolve(strict=True)
        candidate = (root / path).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a link loop, a name too long
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


async def _data_team(request: Request, services: Services) -> tuple[auth.Viewer | None, Response | None]:
    """(the viewer, None) when a data-team account is signed in; otherwise (viewer, the answer to give)."""
    viewer = await auth.viewer_of(request, services.engine, services.resources.clock)
    if viewer is None:
        return None, RedirectResponse(f"{base_of(request)}/sign-in", status_code=303)
    if Role.DATA_TEAM not in viewer.account.roles:
        return viewer, await _missing(request, viewer, "There is no such page")
    return viewer, None


async def _missing(request: Request, viewer: auth.Viewer, heading: str) -> Response:
    return await page(request, "people.html.j2", 404, viewer=viewer, view="none", heading=heading)


@router.get("/data-docs", response_class=RedirectResponse)
@router.get("/data-docs/", response_class=RedirectResponse)
async def data_docs_entry(request: Request, services: ServicesDep) -> Response:
    _viewer, refused = await _data_team(request, services)
    return refused or RedirectResponse(f"{base_of(request)}/data-docs/{ENTRY}", status_code=303)


@router.get("/data-docs/{path:path}")
async def data_docs_file(path: str, request: Request, services: ServicesDep) -> Response:
    viewer, refused = await _data_team(request, services)
    if refused is not None or viewer is None:
        return refused or RedirectResponse(f"{base_of(request)}/sign-in", status_code=303)
    from surgehub.gx.store import site_dir

    found = site_file(site_dir(services.settings.home), path)
    if found is None:
        if path == ENTRY:
            return await _missing(
                request,
                viewer,
                "No Data Docs yet: run surgehub gx-docs build, or wait for the next ingest run",
            )
        return await _missing(request, viewer, "There is no such page")
    return FileResponse(found, media_type=MEDIA_TYPES[found.suffix.lower()], headers=HEADERS)
