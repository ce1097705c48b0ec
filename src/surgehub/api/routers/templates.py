"""The return templates: ``GET /api/v1/template.csv`` and ``.xlsx``, the header row only (no token needed)."""

import io

from fastapi import APIRouter
from fastapi.responses import Response

from surgehub import spec
from surgehub.api.schemas import XLSX_TYPE, template_response

router = APIRouter(prefix="/api/v1", tags=["templates"])


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


class CsvResponse(Response):
    media_type = "text/csv"


class XlsxResponse(Response):
    media_type = XLSX_TYPE


@router.get(
    "/template.csv",
    summary="An empty return (CSV)",
    operation_id="get_template_csv",
    response_class=CsvResponse,
    responses=template_response("text/csv", binary=False),
)
def get_template_csv() -> Response:
    return CsvResponse(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.csv"'},
    )


@router.get(
    "/template.xlsx",
    summary="An empty return (Excel workbook)",
    operation_id="get_template_xlsx",
    response_class=XlsxResponse,
    responses=template_response(XLSX_TYPE, binary=True),
)
def get_template_xlsx() -> Response:
    return XlsxResponse(
        template_xlsx(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": 'attachment; filename="surge-hub-return-template.xlsx"'},
    )
