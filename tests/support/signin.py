"""Signing in in tests: the forms' CSRF token, the code as the loopback SMTP server received it, the steps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage
    from pathlib import Path

    from fastapi.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CODE = re.compile(r"sign-in code for GM surge hubs is (\d{6})")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def code_mails(outbox: Path, email: str) -> list[EmailMessage]:
    """The sign-in code emails the loopback server received for ``email``, oldest first."""
    from surgehub.mail.server import read_eml

    found = [read_eml(path) for path in sorted(outbox.glob("*.eml"))]
    return [m for m in found if m["X-Surgehub-Kind"] == "signin" and m["To"] == email]


def latest_code(outbox: Path, email: str) -> str:
    mails = code_mails(outbox, email)
    assert mails, f"no sign-in code was mailed to {email}"
    body = mails[-1].get_body(("plain",))
    assert body is not None
    found = _CODE.search(body.get_content())
    assert found, "the email has no code"
    return found.group(1)


def ask_for_code(client: TestClient, email: str) -> str:
    """The address step; the code step's page (after the redirect)."""
    csrf = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": email, "csrf_token": csrf})
    return response.text


def enter_code(client: TestClient, code: str) -> tuple[int, str]:
    csrf = csrf_of(client.get("/sign-in/code").text)
    response = client.post("/sign-in/code", data={"code": code, "csrf_token": csrf})
    return response.status_code, response.text


def sign_in(client: TestClient, outbox: Path, email: str) -> None:
    ask_for_code(client, email)
    status, html = enter_code(client, latest_code(outbox, email))
    assert status == 200, html[:2000]
    assert f"Signed in as {email}" in html
