"""The return templates: ``GET /api/v1/template.csv`` and ``.xlsx``, the header row only (no token needed)."""

import io

from fastapi import APIRouter
from fastapi.responses import Response

from surgehub import spec

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/api/v1")


def template_csv() -> bytes:
    """An empty return: the header row in the spec's column order (UTF-8, CRLF, as Excel saves it)."""
    return (",".join(spec.COLUMN_NAMES) + "\r\n").encode("utf-8")


def template_xlsx() -> bytes:
    """An empty return as a workbook: one sheet named ``Return`` holding the header row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook has one sheet
    sheet.title = "Return"
    sheet.append(list(spec.COLUMN_NAMES))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@router.get("/template.csv", summary="An empty return (CSV)")
def get_template_csv() -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.csv"'},
    )


@router.get("/template.xlsx", summary="An empty return (Excel workbook)")
def get_template_xlsx() -> Response:
    return Response(
        template_xlsx(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.xlsx"'},
    )
