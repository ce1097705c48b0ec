"""The returns API: ``POST /api/v1/returns``, ``GET /api/v1/returns``, ``GET /api/v1/returns/{submission_id}``.

Every call needs ``Authorization: Bearer <token>``; the locality is the token's, never the request's.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub.api.dependencies import (
    ServicesDep,
    Upload,
    arrival,
    overview_of,
    read_caller,
    receive,
    upload_caller,
    uploaded_file,
)
from surgehub.api.schemas import LIST_RESPONSES, ONE_RESPONSES, UPLOAD_BODY, UPLOAD_RESPONSES
from surgehub.api.tokens import Caller

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])


@router.post(
    "",
    summary="Send a return; validated at once",
    operation_id="submit_return",
    status_code=201,
    response_class=JSONResponse,
    responses=UPLOAD_RESPONSES,
    openapi_extra=UPLOAD_BODY,
)
async def post_return(
    received_at: Annotated[datetime, Depends(arrival)],  # first: the receipt time is the arrival
    caller: Annotated[Caller, Depends(upload_caller)],
    upload: Annotated[Upload, Depends(uploaded_file)],
    services: ServicesDep,
) -> Response:
    answer = await receive(services, caller, upload, received_at)
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get(
    "",
    summary="This locality's submissions and the hub-days it still owes",
    operation_id="list_returns",
    response_class=JSONResponse,
    responses=LIST_RESPONSES,
)
async def list_returns(caller: Annotated[Caller, Depends(read_caller)], services: ServicesDep) -> Response:
    return JSONResponse(await overview_of(services, caller.sub_icb_code))


@router.get(
    "/{submission_id}",
    summary="One submission's outcome and state",
    operation_id="get_return",
    response_class=JSONResponse,
    responses=ONE_RESPONSES,
)
async def get_return(
    submission_id: str, caller: Annotated[Caller, Depends(read_caller)], services: ServicesDep
) -> Response:
    found = await run_in_threadpool(services.receiver.reader.get, caller.sub_icb_code, submission_id)
    if found is None:  # another locality's looks exactly like one that does not exist
        return JSONResponse({"error": "no such submission for this locality"}, status_code=404)
    return JSONResponse(found)
