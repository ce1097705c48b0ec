"""Schemathesis (a tool nobody here wrote) against the hardened API: no generated request, with a valid
token or none, gets a server error (the review's 1,001 requests with 0 server errors, kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.support.api import app_for, settings_for, token_for

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLES = 60


def test_no_generated_request_gets_a_server_error(surgehub_home: Path) -> None:
    found, engine = settings_for(surgehub_home)
    token = token_for(engine, "14L")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app_for(found))
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_server_error(case: schemathesis.Case) -> None:
            nonlocal calls
            for headers in ({"Authorization": f"Bearer {token}"}, {}):
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error])
                calls += 1

        no_server_error()
    assert calls >= 100
