"""Schemathesis (a tool nobody here wrote) against the hardened API, from its own OpenAPI description.

With a valid token and without one, every generated request must get no server error and an answer
that conforms to the description: a documented status, its media type, its schema and its required
headers. Since the description says what the upload is (multipart, a binary ``file``) and that the API
takes a bearer token, the fuzzer reaches the upload logic: its files are validated, rejected (422)
and recorded like anyone's. Bounded: a fixed number of examples per operation, and a time limit.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from surgehub.api.limits import Limits
from tests.support.api import app_for, settings_for, token_for

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLES = 40
SECONDS = 240
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.mark.timeout(SECONDS + 60)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(surgehub_home: Path) -> None:
    found, engine = settings_for(surgehub_home)
    token = token_for(engine, "14L")
    app = app_for(found, Limits(uploads_per_window=10_000, reads_per_window=10_000))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    seen: Counter[tuple[str, bool, int]] = Counter()
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} == {
        "POST /api/v1/returns",
        "GET /api/v1/returns",
        "GET /api/v1/returns/{submission_id}",
        "GET /api/v1/template.csv",
        "GET /api/v1/template.xlsx",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def conforms(case: schemathesis.Case) -> None:
            assert time.monotonic() - started < SECONDS, "the run is over its time budget"
            for with_token in (True, False):
                headers = {"Authorization": f"Bearer {token}"} if with_token else {}
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)
                seen[(f"{case.method} {case.path}", with_token, response.status_code)] += 1

        conforms()

    assert sum(seen.values()) >= 100
    uploads = {status for (op, with_token, status) in seen if op == "POST /api/v1/returns" and with_token}
    assert 422 in uploads, f"the fuzzer never reached validation: {sorted(uploads)}"  # files were judged
    assert {status for (op, with_token, status) in seen if not with_token and "returns" in op} == {401}
