"""What the API's OpenAPI description says each answer holds: the documentation models, and the
responses each route declares.

The routes build their JSON themselves (``surgehub.api.states`` and ``records``); these models only
describe it, so a client generated from ``/api/openapi.json`` (tests/integration/api/) and a fuzzer
checking conformance (schemathesis) see what the server really sends: ``{"error": …}`` for every
refusal, the submission object for 201 and for a rejected return's 422.
"""

# No `from __future__ import annotations`: pydantic and FastAPI read these annotations at runtime.

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Error(BaseModel):
    """Every refusal: words for people saying what was wrong and what to do."""

    error: str = Field(description="What was wrong, and what to do about it")


class Finding(BaseModel):
    """One error or warning: its rule, where it is, and how to fix it."""

    model_config = ConfigDict(extra="allow")

    rule: str = Field(description="The spec's rule ID, e.g. R09 or W02")
    row: int | None = Field(None, description="1 is the first row under the header; null for file rules")
    column: str | None = None
    message: str
    spreadsheet_row: int | None = Field(None, description="The line (CSV) or sheet row (XLSX) a person sees")
    hub_code: str | None = None
    activity_date: str | None = None


class NotChecked(BaseModel):
    """A rule not evaluated for want of a column."""

    model_config = ConfigDict(extra="allow")

    rule: str
    needs: list[str]


class Capped(BaseModel):
    """A rule with more findings than are listed (50 a rule); the rest follow the same pattern."""

    model_config = ConfigDict(extra="allow")

    rule: str
    listed: int
    total: int
    message: str


class Submission(BaseModel):
    """A return as received: the ``surgehub validate --json`` outcome, plus its id, state and receipt."""

    model_config = ConfigDict(extra="allow")

    submission_id: str = Field(
        description="api- and 16 hex digits (API), or the warehouse number (other channels)"
    )
    state: Literal["queued", "loaded", "rejected", "error"]
    duplicate: bool = Field(description="The same bytes were already accepted from this locality")
    locality: str = Field(description="The sub-ICB code of the token's locality")
    channel: str = Field(description="api, folder or cli")
    received_at: str = Field(description="The receipt time, ISO 8601 in UTC (spec §4)")
    status: Literal["accepted", "rejected"] | None = None
    spec_version: str | None = None
    rows: int | None = None
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    totals: dict[str, int] = Field(default_factory=dict, description="Every finding counted, by rule")
    not_checked: list[NotChecked] = Field(default_factory=list)
    capped: list[Capped] = Field(default_factory=list)
    file_name: str | None = None
    size_bytes: int | None = None
    warehouse_submission_id: int | None = None


class OutstandingHubDay(BaseModel):
    """A hub-day owed: no accepted version received yet, and it can still be sent."""

    model_config = ConfigDict(extra="allow")

    activity_date: str
    hub_code: str
    hub_name: str
    deadline: str
    timeliness: Literal["PENDING", "NO_RETURN"]


class Overview(BaseModel):
    """The locality's submissions on every channel (newest first) and the hub-days it still owes."""

    model_config = ConfigDict(extra="allow")

    locality: str
    locality_name: str
    as_of: str
    submissions: list[Submission]
    outstanding: list[OutstandingHubDay]


def _error(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"model": Error, "description": description}
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"description": "Seconds to wait", "required": True, "schema": {"type": "integer"}}
_WWW_AUTHENTICATE = {"description": 'Bearer realm="surgehub"', "required": True, "schema": {"type": "string"}}

UNAUTHORISED = _error(
    "No valid token (missing, wrong, revoked or expired)", **{"WWW-Authenticate": _WWW_AUTHENTICATE}
)
TOO_MANY = _error("Over this token's rate limit", **{"Retry-After": _RETRY_AFTER})

#: POST /api/v1/returns: every status it answers.
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {
        "model": Submission,
        "description": "Accepted (queued for loading), or a duplicate of bytes already accepted",
    },
    400: _error("The multipart form could not be read, or it holds no single file in the field 'file'"),
    401: UNAUTHORISED,
    408: _error("The body stopped arriving (15 s between chunks, 120 s in all)"),
    413: _error("Over the size limit (5 MiB)"),
    415: _error("Not multipart/form-data"),
    422: {"model": Submission, "description": "Rejected: every error with its rule, row, column and fix"},
    429: TOO_MANY,
    503: _error("Not received just now; nothing was kept: send it again"),
}

#: The file a return is sent as (the route reads the body itself, within its limits).
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "ReturnUpload",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The return: CSV (UTF-8) or Excel .xlsx, at most 5 MiB",
                        }
                    },
                },
                "encoding": {"file": {"contentType": f"text/csv, {XLSX_TYPE}, application/octet-stream"}},
            }
        },
    }
}

LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Overview, "description": "The locality's submissions and what it still owes"},
    401: UNAUTHORISED,
    429: TOO_MANY,
}

ONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Submission, "description": "That submission"},
    401: UNAUTHORISED,
    404: _error("No such submission for this locality (another locality's looks the same)"),
    429: TOO_MANY,
}


def template_response(media_type: str, binary: bool) -> dict[int | str, dict[str, Any]]:
    schema: dict[str, Any] = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {
        200: {
            "description": "The header row, then one row per hub-day when a locality is given",
            "content": {media_type: {"schema": schema}},
        }
    }
