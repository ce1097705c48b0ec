"""The return templates: ``GET /api/v1/template.csv`` and ``.xlsx`` (no token needed).

Without ``locality``, the header row only. With ``locality`` (a code), one row for each of the
locality's hubs active on each day, ``activity_date``, ``sub_icb_code`` and ``hub_code`` filled in,
the figures left for the submitter: for ``date`` when given, otherwise for the days of the next return
due (``timeliness.next_return_days``: on a Monday morning, Friday, Saturday and Sunday). The hubs
come from the register as it stands now, read through ``surgehub.warehouse.register`` (the one reader).
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

import io
from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub import spec
from surgehub.api.dependencies import Services, ServicesDep
from surgehub.api.schemas import XLSX_TYPE, template_response
from surgehub.register import normalise_code

router = APIRouter(prefix="/api/v1", tags=["templates"])

#: The filled-in cells of a pre-filled row: (activity_date, sub_icb_code, hub_code).
Row = tuple[date, str, str]


def template_csv(rows: Sequence[Row] = ()) -> bytes:
    """A return: the header row in the spec's column order, then ``rows`` with their three cells filled
    (UTF-8, CRLF, as Excel saves it)."""
    columns = list(spec.COLUMN_NAMES)
    lines = [",".join(columns)]
    for day, code, hub in rows:
        cells = {"activity_date": day.isoformat(), "sub_icb_code": code, "hub_code": hub}
        lines.append(",".join(cells.get(name, "") for name in columns))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def template_xlsx(rows: Sequence[Row] = ()) -> bytes:
    """A return as a workbook: one sheet named ``Return``, the header row, then ``rows`` (dates as real
    date cells, as the guide asks)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook has one sheet
    sheet.title = "Return"
    columns = list(spec.COLUMN_NAMES)
    sheet.append(columns)
    for day, code, hub in rows:
        cells = {"activity_date": day, "sub_icb_code": code, "hub_code": hub}
        sheet.append([cells.get(name) for name in columns])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class CsvResponse(Response):
    media_type = "text/csv"


class XlsxResponse(Response):
    media_type = XLSX_TYPE


class TemplateRequestError(ValueError):
    """A template asked for an unknown locality or a day that is not a date: ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def template_rows(
    services: Services, locality: str, day: str | None
) -> tuple[str, tuple[date, ...], list[Row]]:
    """(locality name, days, rows) of a pre-filled template; TemplateRequestError for a bad request."""
    from surgehub.timeliness import next_return_days
    from surgehub.warehouse.register import read_register

    now = services.resources.clock.now()
    view = read_register(services.engine).as_of(now)
    found = view.locality_by_code(normalise_code(locality)[:3]) if locality.isascii() else None
    if found is None or len(locality.strip()) != 3:
        raise TemplateRequestError("locality", "Choose a locality from the list")
    if day:
        try:
            days: tuple[date, ...] = (date.fromisoformat(day.strip()),)
        except ValueError:
            raise TemplateRequestError("date", "Enter the activity day as a date, like 2026-11-24") from None
        season = services.settings.season
        if not season.start <= days[0] <= season.end:
            raise TemplateRequestError(
                "date", f"Enter a day in the season, {season.start.isoformat()} to {season.end.isoformat()}"
            )
    else:  # the next return due, its days inside the season (none before it opens)
        season = services.settings.season
        days = tuple(d for d in next_return_days(now, services.settings) if season.start <= d <= season.end)
    code = found.sub_icb_code
    rows = [(d, code, hub.hub_code) for d in days for hub in view.active_hubs(code, d)]
    return found.name, days, rows


def _file_name(code: str | None, days: tuple[date, ...], extension: str) -> str:
    if code is None or not days:
        return f"surge-hub-return-template.{extension}"
    span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}_to_{days[-1].isoformat()}"
    return f"surge-hub-return-{code}-{span}.{extension}"


async def _template(services: Services, locality: str | None, day: str | None, extension: str) -> Response:
    rows: list[Row] = []
    days: tuple[date, ...] = ()
    code = None
    if locality is not None:
        try:
            _name, days, rows = await run_in_threadpool(template_rows, services, locality, day)
        except TemplateRequestError as bad:
            return JSONResponse({"error": bad.message, "field": bad.field}, status_code=422)
        code = rows[0][1] if rows else normalise_code(locality)
    body = template_csv(rows) if extension == "csv" else template_xlsx(rows)
    media = "text/csv; charset=utf-8" if extension == "csv" else XLSX_TYPE
    name = _file_name(code, days, extension)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


#: Written out rather than ``model=Error``: FastAPI would file a model under the route's own media type
#: (text/csv), but this refusal is JSON.
_TEMPLATE_ERRORS: dict[int | str, dict[str, object]] = {
    422: {
        "description": "An unknown locality, or a date that is not a day of the season",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error", "field"],
                    "properties": {
                        "error": {"type": "string", "description": "What was wrong, and what to do about it"},
                        "field": {"type": "string", "enum": ["locality", "date"]},
                    },
                }
            }
        },
    }
}


@router.get(
    "/template.csv",
    summary="A return template (CSV), pre-filled with a locality's hubs when asked",
    operation_id="get_template_csv",
    response_class=CsvResponse,
    responses=template_response("text/csv", binary=False) | _TEMPLATE_ERRORS,
)
async def get_template_csv(
    services: ServicesDep, locality: str | None = None, day: Annotated[str | None, Query(alias="date")] = None
) -> Response:
    return await _template(services, locality, day, "csv")


@router.get(
    "/template.xlsx",
    summary="A return template (Excel workbook), pre-filled when asked",
    operation_id="get_template_xlsx",
    response_class=XlsxResponse,
    responses=template_response(XLSX_TYPE, binary=True) | _TEMPLATE_ERRORS,
)
async def get_template_xlsx(
    services: ServicesDep, locality: str | None = None, day: Annotated[str | None, Query(alias="date")] = None
) -> Response:
    return await _template(services, locality, day, "xlsx")
