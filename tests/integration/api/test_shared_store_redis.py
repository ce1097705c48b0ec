"""Two replicas of the API on one Redis (as in production): the rate limits and the sessions are shared.

The real Redis on 127.0.0.1:6379 (required when CI=true); each test uses its own key namespace.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from surgehub.accounts import Role, add_account
from surgehub.api.auth import COOKIE
from surgehub.api.limits import Limits
from tests.support.api import app_for, settings_for, token_for
from tests.support.services import port_open, require
from tests.support.signin import ask_for_code, code_mails, csrf_of, sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def limits() -> Limits:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    return Limits(
        storage_uri=REDIS,
        namespace=f"test-{uuid.uuid4().hex}",
        uploads_per_window=2,
        codes_per_address="2/hour",
    )


def test_replicas_count_one_limit_and_share_sessions(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer, limits: Limits
) -> None:
    settings, engine = settings_for(surgehub_home)
    add_account(
        engine,
        "lead@nhs.net",
        roles={Role.SUBMITTER},
        locality="14L",
        display_name=None,
        actor="t",
        at=TIMELINE_NOW,
    )
    token = token_for(engine, "14L")
    first, second = (
        app_for(settings, limits),
        app_for(settings, replace(limits, _storage=[])),
    )  # its own client
    with (
        TestClient(first, base_url="https://testserver") as one,
        TestClient(second, base_url="https://testserver") as two,
    ):
        bearer = {"Authorization": f"Bearer {token}"}
        assert one.get("/api/v1/returns", headers=bearer).status_code == 200
        # uploads: two a minute, counted across both replicas (an empty form is still counted)
        assert one.post("/api/v1/returns", headers=bearer, files={"x": ("a", b"")}).status_code != 429
        assert two.post("/api/v1/returns", headers=bearer, files={"x": ("a", b"")}).status_code != 429
        refused = one.post("/api/v1/returns", headers=bearer, files={"x": ("a", b"")})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        # a session made on one replica is good on the other; signing out on it ends it on both
        sign_in(one, smtp_server.outbox, "lead@nhs.net")
        two.cookies.set(COOKIE, one.cookies[COOKIE])
        assert "Signed in as lead@nhs.net" in two.get("/").text
        # the second code request is the address's second this hour; a third, on the other replica, is refused
        ask_for_code(two, "lead@nhs.net")
        assert "Too many attempts" in ask_for_code(one, "lead@nhs.net")
        assert len(code_mails(smtp_server.outbox, "lead@nhs.net")) == 2
        signed_out = two.post("/sign-out", data={"csrf_token": csrf_of(two.get("/").text)})
        assert "You have signed out" in signed_out.text
        assert "Signed in as" not in one.get("/").text


def test_a_store_that_cannot_be_reached_refuses_rather_than_lets_through(surgehub_home: Path) -> None:
    settings, engine = settings_for(surgehub_home)
    token = token_for(engine, "14L")
    down = Limits(storage_uri="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with TestClient(app_for(settings, down), base_url="https://testserver") as client:
        response = client.get("/api/v1/returns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
