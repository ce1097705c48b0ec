"""Signing in in tests: the forms' CSRF token, the code as the loopback SMTP server received it, the steps."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from email.message import EmailMessage

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


@contextlib.contextmanager
def serving(home: Path, port: int, env: Mapping[str, str]) -> Iterator[str]:
    """A real `surgehub serve` on 127.0.0.1:``port`` with ``env``, until the block ends; its URL."""
    import pytest
    import requests

    from surgehub.config import PROJECT_ROOT

    log = home / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("surgehub")), "serve", "--port", str(port)],
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"surgehub serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"surgehub serve not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
