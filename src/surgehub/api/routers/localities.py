"""The data team's view of every locality (issue 17): ``GET /admin/localities`` (each locality's returns
received, hub-days still owed and overdue, as of now) and ``GET /admin/localities/{code}`` (what the
locality's own submitters see: the hub-days it owes and the returns it has sent, each opening at
``/my-returns/<id>?locality=<code>``). Data team only: anyone else gets the 404 page; not signed in,
the sign-in page; a code that is not a locality is 404.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import reference
from surgehub.accounts import Role
from surgehub.api.dependencies import ServicesDep, overview_of
from surgehub.api.outstanding import overview
from surgehub.api.routers.people import allowed, not_found
from surgehub.api.routers.signin import page

router = APIRouter(include_in_schema=False)

#: How many of a locality's submissions the overview lists (``Reader.submissions_of``): a count there
#: or above is shown as "100 or more".
LISTED = 100


@router.get("/admin/localities", response_class=HTMLResponse)
async def localities_page(request: Request, services: ServicesDep) -> Response:
    viewer, refused = await allowed(request, services, {Role.DATA_TEAM})
    if refused is not None:
        return refused
    now = services.resources.clock.now()
    reader, settings = services.receiver.reader, services.settings

    def every() -> list[dict]:
        rows = []
        for locality in reference.localities():
            seen = overview(reader, locality.sub_icb_code, now, settings)
            rows.append(
                {
                    "code": locality.sub_icb_code,
                    "name": locality.name,
                    "received": len(seen["submissions"]),
                    "at_least": len(seen["submissions"]) >= LISTED,  # the overview lists the latest 100
                    "last": seen["submissions"][0] if seen["submissions"] else None,
                    "owed": len(seen["outstanding"]),
                    "overdue_days": sum(1 for d in seen["outstanding_by_day"] if d["overdue"]),
                }
            )
        return rows

    return await page(
        request,
        "localities.html.j2",
        viewer=viewer,
        view="all",
        heading="Every locality's returns",
        rows=await run_in_threadpool(every),
        as_of=now,
    )


@router.get("/admin/localities/{code}", response_class=HTMLResponse)
async def locality_page(request: Request, code: str, services: ServicesDep) -> Response:
    viewer, refused = await allowed(request, services, {Role.DATA_TEAM})
    if refused is not None:
        return refused
    found = reference.locality_by_code(code[:8].upper())
    if found is None:
        return await not_found(request, viewer)  # type: ignore[arg-type]
    return await page(
        request,
        "localities.html.j2",
        viewer=viewer,
        view="one",
        heading=f"{found.name} ({found.sub_icb_code})",
        overview=await overview_of(services, found.sub_icb_code),
    )
