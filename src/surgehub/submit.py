"""`surgehub submit FILE --url URL --token TOKEN`: send a return to the Submission API and say what happened.

Built on requests. Network errors (no connection, timeout) and 502/503/504 answers are retried with
a growing pause; 429 waits as long as the server's ``Retry-After`` says. Sending the same file twice
is harmless: the server recognises the same bytes from the same locality as a duplicate.

Exit codes as every command: 0 accepted (duplicate included), 1 rejected (422) or over the size
limit (413), 2 usage, configuration or transport error (bad token, server unreachable, anything the
server did not judge): the return was then not received.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click
import requests

RETRY_STATUSES = {502, 503, 504}
MAX_RETRY_AFTER = 60.0


class SubmitError(Exception):
    """The return was not received; ``code`` is the exit code."""

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
    sleep: Any = time.sleep,
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


def human(body: dict[str, Any], name: str) -> str:
    """The outcome in words, with each error and warning: rule, row, column and fix."""
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


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"surgehub submit: {message}", err=True)
    sys.exit(code)


@click.command("submit")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--url", required=True, envvar="SURGEHUB_URL", help="The API's address, e.g. https://host:8000."
)
@click.option(
    "--token", required=True, envvar="SURGEHUB_TOKEN", help="Your locality's token (or SURGEHUB_TOKEN)."
)
@click.option(
    "--retries", default=3, show_default=True, type=click.IntRange(0, 10), help="Retries on network errors."
)
@click.option(
    "--timeout", default=60.0, show_default=True, type=click.FloatRange(min=1), help="Seconds per attempt."
)
@click.option("--json", "as_json", is_flag=True, help="Print the server's JSON answer on stdout.")
def submit(file: Path, url: str, token: str, retries: int, timeout: float, as_json: bool) -> None:
    """Send the return FILE to the Submission API; print the outcome at once.

    Exit codes: 0 accepted, 1 rejected (or over the size limit), 2 not received (bad token, server
    unreachable after retries, usage error).
    """
    if not file.is_file():
        _fail(f"file not found: {file}", 2)
    if not url.startswith(("http://", "https://")):
        _fail(f"--url must start with http:// or https:// (got {url!r})", 2)
    try:
        status, body = submit_file(file, url, token, retries=retries, timeout=timeout)
    except SubmitError as exc:
        _fail(str(exc), exc.code)
    click.echo(json.dumps(body, ensure_ascii=False) if as_json else human(body, file.name))
    sys.exit(0 if status == 201 else 1)
