"""The Submission API's HTTP client (``surgehub submit``): send a return, and read the server's judgement.

Built on requests. Network errors (no connection, timeout) and 502/503/504 answers are retried with
a growing pause; 429 waits as long as the server's ``Retry-After`` says. Sending the same file twice
is harmless: the server recognises the same bytes from the same locality as a duplicate.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

RETRY_STATUSES = {502, 503, 504}
MAX_RETRY_AFTER = 60.0


class SubmitError(Exception):
    """The return was not judged by the server; ``code`` is the command's exit code (1 too large, 2 else)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def endpoint(url: str) -> str:
    """The returns endpoint for a base URL (``http://host:8000``) or the endpoint itself."""
    base = url.rstrip("/")
    return base if base.endswith("/api/v1/returns") else f"{base}/api/v1/returns"


def submit_file(
    path: Path,
    url: str,
    token: str,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
    session: requests.Session | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> tuple[int, dict[str, Any]]:
    """POST the file; (HTTP status, JSON body) of the server's judgement. Raises SubmitError otherwise."""
    data = path.read_bytes()
    http = session or requests.Session()
    target = endpoint(url)
    attempt = 0
    while True:
        attempt += 1
        try:
            response = http.post(
                target,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                files={"file": (path.name, data, "application/octet-stream")},
                timeout=timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt > retries:
                raise SubmitError(
                    f"could not reach {target} after {attempt} attempt(s): {type(exc).__name__}"
                ) from None
            sleep(backoff * 2 ** (attempt - 1))
            continue
        if response.status_code in RETRY_STATUSES and attempt <= retries:
            sleep(backoff * 2 ** (attempt - 1))
            continue
        if response.status_code == 429 and attempt <= retries:
            sleep(min(MAX_RETRY_AFTER, _retry_after(response)))
            continue
        return _judged(response, path)


def _judged(response: requests.Response, path: Path) -> tuple[int, dict[str, Any]]:
    """(status, JSON) of an accepted (201) or rejected (422) return; SubmitError for any other answer."""
    body = _json(response)
    if response.status_code in (201, 422):
        return response.status_code, body
    message = body.get("error") or response.reason or "unexpected answer"
    if response.status_code == 401:
        raise SubmitError(f"the token was not accepted: {message}")
    if response.status_code == 413:
        raise SubmitError(f"{path.name} is too large: {message}", code=1)
    raise SubmitError(f"the server answered {response.status_code}: {message}")


def _retry_after(response: requests.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "5")))
    except ValueError:
        return 5.0


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def in_words(body: dict[str, Any], name: str) -> str:
    """The server's answer in words, with each error and warning: rule, row, column and fix."""
    if body.get("status") == "accepted":
        if body.get("duplicate"):
            head = f"{name}: ACCEPTED (the same file was accepted before; nothing new loaded)"
        else:
            head = f"{name}: ACCEPTED, {body.get('rows')} row(s), state {body.get('state')}"
    else:
        head = f"{name}: REJECTED, nothing loaded: fix the errors and send the whole file again"
    lines = [head, f"submission {body.get('submission_id')}, received {body.get('received_at')}"]
    for title, key in (("Errors", "errors"), ("Warnings", "warnings")):
        findings = body.get(key) or []
        if findings:
            lines += ["", f"{title} ({len(findings)}):"]
            for f in findings:
                row = "-" if f.get("row") is None else str(f["row"])
                lines.append(
                    f"  {f.get('rule', ''):<5} {row:>5}  {f.get('column') or '-':<22} {f.get('message', '')}"
                )
    return "\n".join(lines)
