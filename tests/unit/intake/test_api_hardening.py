"""The Submission API and page under abuse (issue 15): the token before the body, bounded reads, strict
ids, quiet disconnects, no-store and nosniff, Swagger UI from the package, and a slow-loris guard."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from surgehub.api.limits import Limits
from surgehub.api.serving import GuardedHttpTools
from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import valid_return

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from fastapi import FastAPI

BOUNDARY = "hostileboundary"


def token_part(token: str) -> bytes:
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{token}\r\n').encode()


def file_head(name: str = "r.csv") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


async def stalls_after(*parts: bytes) -> AsyncIterator[bytes]:
    """A body that sends ``parts`` and then never another byte (a slow or malicious client)."""
    for part in parts:
        yield part
    await asyncio.sleep(3600)
    yield b""


async def post_stalling(app: FastAPI, url: str, body: AsyncIterator[bytes], **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await asyncio.wait_for(
            client.post(
                url,
                content=body,
                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **headers},
            ),
            timeout=30,
        )


@pytest.fixture
def app(surgehub_home: Path) -> tuple[FastAPI, str]:
    settings, engine = settings_for(surgehub_home)
    limits = Limits(body_idle_seconds=0.5, body_total_seconds=5)
    return app_for(settings, limits), token_for(engine, "14L")


def test_the_page_checks_the_token_before_reading_the_file(app: tuple[FastAPI, str]) -> None:
    application, _ = app
    body = stalls_after(token_part("sh_wrong_token"), file_head(), b"x" * 65536)
    response = asyncio.run(post_stalling(application, "/", body))
    assert response.status_code == 401  # answered while the file was still "arriving"
    assert "not recognised" in response.text


def test_the_page_refuses_a_file_sent_before_any_token(app: tuple[FastAPI, str]) -> None:
    application, _ = app
    response = asyncio.run(post_stalling(application, "/", stalls_after(file_head(), b"x" * 65536)))
    assert response.status_code == 400
    assert "Enter your locality" in response.text


def test_the_api_checks_the_bearer_token_before_reading_the_body(app: tuple[FastAPI, str]) -> None:
    application, _ = app
    response = asyncio.run(
        post_stalling(application, "/api/v1/returns", stalls_after(file_head(), b"x" * 65536))
    )
    assert response.status_code == 401


@pytest.mark.parametrize("url", ["/", "/api/v1/returns"])
def test_an_authenticated_body_that_stalls_is_stopped(app: tuple[FastAPI, str], url: str) -> None:
    application, token = app
    started = time.monotonic()
    body = stalls_after(token_part(token), file_head(), b"x" * 1024)
    response = asyncio.run(post_stalling(application, url, body, Authorization=f"Bearer {token}"))
    assert response.status_code == 408
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    "submission_id",
    ["%C2%B2", "%D9%A1", "1%0A", "%EF%BC%91", "+1", "01", "api-0123456789abcdef%0A", "1" * 19],
)
def test_ids_are_ascii_only_and_never_an_error(app: tuple[FastAPI, str], submission_id: str) -> None:
    application, token = app
    with TestClient(application) as client:
        client.post(
            "/api/v1/returns",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("r.csv", valid_return("14L"))},
        )
        response = client.get(
            f"/api/v1/returns/{submission_id}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 404


def test_every_answer_is_no_store_and_nosniff(app: tuple[FastAPI, str]) -> None:
    application, token = app
    with TestClient(application) as client:
        for response in (
            client.get("/api/v1/returns", headers={"Authorization": f"Bearer {token}"}),
            client.get("/api/v1/returns", headers={"Authorization": "Bearer wrong"}),
            client.get("/api/v1/returns/1", headers={"Authorization": f"Bearer {token}"}),
            client.post(
                "/api/v1/returns",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("r.csv", valid_return("14L", seed=3))},
            ),
        ):
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-content-type-options"] == "nosniff"


def test_swagger_ui_is_served_from_the_package_under_a_csp(app: tuple[FastAPI, str]) -> None:
    application, _ = app
    with TestClient(application) as client:
        page = client.get("/api/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower()
        assert "<script>" not in page.text  # no inline script: the CSP allows none
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"):
            assert f"/api/docs/assets/{asset}" in page.text
            served = client.get(f"/api/docs/assets/{asset}")
            assert served.status_code == 200
            assert len(served.content) > 100
        assert client.get("/api/docs/assets/..%2F..%2Fapp.py").status_code == 404
        assert client.get("/api/openapi.json").json()["info"]["title"] == "surgehub Submission API"


def test_a_client_that_goes_away_mid_upload_is_logged_at_debug_only(
    app: tuple[FastAPI, str], caplog: pytest.LogCaptureFixture
) -> None:
    application, token = app
    caplog.set_level(logging.DEBUG)
    messages = [
        {"type": "http.request", "body": token_part(token) + file_head(), "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": "/api/v1/returns",
        "raw_path": b"/api/v1/returns",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    }
    asyncio.run(application(scope, receive, send))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("disconnected" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_connection_whose_headers_trickle_in_is_closed(
    app: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    application, _ = app
    monkeypatch.setattr(GuardedHttpTools, "header_seconds", 0.5)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host="127.0.0.1",
            port=port,
            http=GuardedHttpTools,
            limit_concurrency=8,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", port), timeout=10) as good:
            good.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert good.recv(1024).startswith(b"HTTP/1.1 ")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_patient_number_in_an_uploaded_file_name_is_never_stored_or_shown(app: tuple[FastAPI, str]) -> None:
    application, token = app
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(application) as client:
        sent = client.post(
            "/api/v1/returns",
            headers=headers,
            files={"file": ("Patient 943 476 5919.csv", valid_return("14L", seed=4))},
        )
        listing = client.get("/api/v1/returns", headers=headers)
    for text in (sent.text, listing.text):
        assert "943 476 5919" not in text
        assert "9434765919" not in text
