"""Pages for the people who fill in returns: ``GET /guide`` (the submitter guide, an anchor per rule
ID), ``GET /register`` and ``GET /register/{code}`` (each locality's hubs: codes, names, active dates)
and ``GET /templates`` (pre-filled templates for a chosen locality and day). No token: nothing here
is a locality's own data. The register is read through ``surgehub.warehouse.register`` (the one
reader), as it stands now, so a hub the data team records shows at once.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from surgehub import clock
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.routers.page import HEADERS, pages
from surgehub.api.routers.templates import TemplateRequestError, template_rows
from surgehub.register import normalise_code

router = APIRouter(include_in_schema=False)


def _show(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context["base"] = str(request.scope.get("root_path", "")).rstrip("/")
    context.setdefault("errors", [])
    context["field_errors"] = {e["field"]: e["message"] for e in context["errors"]}
    html = pages.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _registered(services: Services) -> dict[str, Any]:
    """The register as it stands now: each locality with its hubs (code, name, dates, active today)."""
    from surgehub.warehouse.register import read_register

    now = services.resources.clock.now()
    today = clock.london_day(now)
    view = read_register(services.engine).as_of(now)
    localities = [
        {
            "code": loc.sub_icb_code,
            "name": loc.name,
            "hubs": [
                {
                    "hub_code": hub.hub_code,
                    "name": hub.name,
                    "active_from": hub.active_from.isoformat(),
                    "active_to": hub.active_to.isoformat(),
                    "active_today": hub.active_on(today),
                }
                for hub in sorted(view.hubs_of(loc.sub_icb_code), key=lambda h: h.hub_code)
            ],
        }
        for loc in view.localities
    ]
    return {"localities": localities, "today": today.isoformat(), "view": view, "now": now}


@router.get("/guide", response_class=HTMLResponse)
async def guide_page(request: Request, services: ServicesDep) -> HTMLResponse:
    from surgehub.api.guide import guide_html

    registered = await run_in_threadpool(_registered, services)
    return _show(request, "guide.html.j2", guide=guide_html(), localities=registered["localities"])


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request, services: ServicesDep) -> HTMLResponse:
    registered = await run_in_threadpool(_registered, services)
    return _show(request, "register.html.j2", locality=None, localities=registered["localities"])


@router.get("/register/{code}", response_class=HTMLResponse)
async def locality_register_page(code: str, request: Request, services: ServicesDep) -> HTMLResponse:
    from surgehub.timeliness import next_return_days

    registered = await run_in_threadpool(_registered, services)
    wanted = normalise_code(code) if code.isascii() else ""
    found = next((loc for loc in registered["localities"] if loc["code"] == wanted), None)
    if found is None:
        return _show(request, "register.html.j2", 404, locality=None, localities=registered["localities"])
    locality = registered["view"].locality(wanted)
    return _show(
        request,
        "register.html.j2",
        locality=locality,
        hubs=found["hubs"],
        today=registered["today"],
        due_days=[d.isoformat() for d in next_return_days(registered["now"], services.settings)],
    )


@router.get("/templates", response_class=HTMLResponse)
async def templates_page(
    request: Request, services: ServicesDep, locality: str | None = None, date: str | None = None
) -> HTMLResponse:
    from surgehub.timeliness import next_return_days

    registered = await run_in_threadpool(_registered, services)
    context: dict[str, Any] = {
        "localities": registered["localities"],
        "due_days": [d.isoformat() for d in next_return_days(registered["now"], services.settings)],
        "chosen": None,
        "day": (date or "").strip()[:40],
    }
    if locality is None:
        return _show(request, "templates.html.j2", **context)
    try:
        name, days, rows = await run_in_threadpool(template_rows, services, locality, date or None)
    except TemplateRequestError as bad:
        return _show(
            request,
            "templates.html.j2",
            400,
            errors=[{"field": bad.field, "message": bad.message}],
            **context,
        )
    code = normalise_code(locality)
    query = {"locality": code, **({"date": days[0].isoformat()} if date else {})}
    context.update(
        chosen=code,
        chosen_name=name,
        days=[d.isoformat() for d in days],
        rows=len(rows),
        hub_codes=sorted({hub for _d, _c, hub in rows}),
        query=urlencode(query),
    )
    return _show(request, "templates.html.j2", **context)
