"""The hub register on the data team's admin page: ``GET /admin/hubs`` (the register as it stands and
the latest register changes) and ``POST /admin/hubs/add``, ``/rename``, ``/close``.

Each form carries the session's CSRF token and calls the function ``surgehub hubs add | rename |
close`` calls (``surgehub.warehouse.register``), with the configured seasons and the signed-in
person's address as the actor, so a change is checked and audited exactly as from the command line.
A refused change shows the page again with the GOV.UK error summary, pointing at the input at fault.
Data team only: anyone else gets the 404 page; not signed in, the sign-in page.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import reference
from surgehub.accounts import Role
from surgehub.api import auth
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.routers.people import allowed, to_sign_in
from surgehub.api.routers.signin import BAD_FORM, base_of, checked_form, page
from surgehub.register import Hub, HubFact
from surgehub.warehouse import register
from surgehub.warehouse.audit import events

router = APIRouter(include_in_schema=False)

#: The longest code or date read from a form; a name (at most 200) and a note (500) are read whole (the
#: form's parts are bounded at 4 kB) so that a longer one is refused, never cut short.
_SHORT = 40
_NOTE = 500


async def _data_team(request: Request, services: Services) -> tuple[auth.Viewer | None, Response | None]:
    """The signed-in data-team member, or the answer for anyone else (sign in, or 404)."""
    return await allowed(request, services, {Role.DATA_TEAM})


async def _hubs_page(
    request: Request,
    services: Services,
    viewer: auth.Viewer,
    status_code: int = 200,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
) -> Response:
    now = services.resources.clock.now()
    facts, changes = await run_in_threadpool(
        lambda: (
            register.read_register(services.engine).as_of(now).hub_facts,
            events(services.engine, action_prefix="hub.")[-20:][::-1],
        )
    )
    return await page(
        request,
        "hubs.html.j2",
        status_code,
        viewer=viewer,
        heading="Hub register",
        facts=facts,
        changes=changes,
        localities=reference.localities(),
        season=services.settings.season,
        form=form,
        values=values or {},
        errors=errors or [],
        notice=notice,
    )


@router.get("/admin/hubs", response_class=HTMLResponse)
async def hubs_page(request: Request, services: ServicesDep) -> Response:
    viewer, refused = await _data_team(request, services)
    if viewer is None:
        return refused or to_sign_in(request)
    changed = request.query_params.get("changed", "")[:_SHORT]
    now = services.resources.clock.now()
    current = await run_in_threadpool(lambda: register.read_register(services.engine).as_of(now).hub(changed))
    # Only a hub that is in the register can be confirmed: a link cannot make up a notice.
    notice = None if current is None else f"{current.hub_code}: {current.name}, active {current.active_from}"
    if notice and current is not None:
        notice += f" to {current.active_to}"
    return await _hubs_page(request, services, viewer, notice=notice)


def _field(form: dict[str, str], name: str) -> str:
    text = (form.get(name) or "").strip()
    return text if name in {"name", "note"} else text[:_SHORT]


def _day(text: str, field: str, what: str, errors: list[dict[str, str]]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append({"field": field, "message": f"Enter {what} as a date like 2026-12-01"})
        return None


async def _change(
    request: Request,
    services: Services,
    form_name: str,
    read: Callable[[dict[str, str], list[dict[str, str]]], Callable[[str], HubFact] | None],
) -> Response:
    """Check the form, read it (``read`` lists what is missing), make the change as the person, redirect."""
    viewer, refused = await _data_team(request, services)
    if viewer is None:
        return refused or to_sign_in(request)
    form = await checked_form(request)
    if form is None:
        errors = [{"field": f"{form_name}-hub_code", "message": BAD_FORM}]
        return await _hubs_page(request, services, viewer, 403, form=form_name, errors=errors)
    values = {
        key: _field(form, key)
        for key in ("hub_code", "sub_icb_code", "name", "active_from", "active_to", "note")
    }
    errors: list[dict[str, str]] = []
    if len(values["note"]) > _NOTE:
        errors.append({"field": "note", "message": f"The note is longer than {_NOTE} characters"})
    change = read(values, errors)
    if change is not None and not errors:
        try:
            fact = await run_in_threadpool(change, viewer.email)
        except register.RegisterError as exc:
            errors.append({"field": exc.field or "hub_code", "message": _sentence(str(exc))})
        else:
            return RedirectResponse(
                f"{base_of(request)}/admin/hubs?changed={fact.hub.hub_code}", status_code=303
            )
    errors = [{"field": f"{form_name}-{e['field']}", "message": e["message"]} for e in errors]
    return await _hubs_page(request, services, viewer, 400, form=form_name, values=values, errors=errors)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


@router.post("/admin/hubs/add", response_class=HTMLResponse)
async def add_hub(request: Request, services: ServicesDep) -> Response:
    now, seasons, engine = services.resources.clock.now(), services.settings.seasons, services.engine

    def read(values: dict[str, str], errors: list[dict[str, str]]) -> Callable[[str], HubFact] | None:
        if not values["hub_code"]:
            errors.append({"field": "hub_code", "message": "Enter the hub's code, for example 01W-H2"})
        if not values["name"]:
            errors.append({"field": "name", "message": "Enter the hub's name"})
        first = _day(values["active_from"], "active_from", "the first active day", errors)
        last = _day(values["active_to"], "active_to", "the last active day", errors)
        if errors or first is None or last is None:
            return None
        hub = Hub(values["hub_code"], values["sub_icb_code"], values["name"], first, last)
        return lambda actor: register.add_hub(
            engine, hub, actor=actor, at=now, note=values["note"] or None, seasons=seasons
        )

    return await _change(request, services, "add", read)


@router.post("/admin/hubs/rename", response_class=HTMLResponse)
async def rename_hub(request: Request, services: ServicesDep) -> Response:
    now, engine = services.resources.clock.now(), services.engine

    def read(values: dict[str, str], errors: list[dict[str, str]]) -> Callable[[str], HubFact] | None:
        if not values["name"]:
            errors.append({"field": "name", "message": "Enter the hub's new name"})
            return None
        code, name = values["hub_code"], values["name"]
        return lambda actor: register.rename_hub(
            engine, code, name, actor=actor, at=now, note=values["note"] or None
        )

    return await _change(request, services, "rename", read)


@router.post("/admin/hubs/close", response_class=HTMLResponse)
async def close_hub(request: Request, services: ServicesDep) -> Response:
    now, seasons, engine = services.resources.clock.now(), services.settings.seasons, services.engine

    def read(values: dict[str, str], errors: list[dict[str, str]]) -> Callable[[str], HubFact] | None:
        last = _day(values["active_to"], "active_to", "the hub's last day", errors)
        if last is None:
            return None
        code = values["hub_code"]
        return lambda actor: register.close_hub(
            engine, code, last, actor=actor, at=now, note=values["note"] or None, seasons=seasons
        )

    return await _change(request, services, "close", read)
