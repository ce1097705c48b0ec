#!/usr/bin/python3
"""Stand-in for Mailpit: catch every message sent to SMTP port 1025 and serve them over HTTP on 8025.

The HTTP API is the subset of Mailpit's (https://mailpit.axllent.org/docs/api-v1/) that this project
uses, with the same paths and JSON field names:

  GET    /api/v1/messages[?start=&limit=]   newest first: {"total", "count", "start", "messages": [...]}
  GET    /api/v1/search?query=...           the same, filtered: words, to:, from:, subject:
  GET    /api/v1/message/{ID}               one message with Text, HTML and Attachments
  GET    /api/v1/message/{ID}/raw           the message as received
  DELETE /api/v1/messages                   all, or {"IDs": [...]}
  GET    /livez, /readyz                    200 once serving

`/mailpit readyz` exits 0 when /readyz answers (the image's healthcheck). Messages are kept in
memory, the newest MP_MAX_MESSAGES (500 by default), as Mailpit does with no database file.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import urllib.request
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from email.message import EmailMessage

SMTP_PORT = 1025
HTTP_PORT = 8025
MAX_MESSAGES = int(os.environ.get("MP_MAX_MESSAGES", "500"))

_lock = threading.Lock()
_messages: list[dict] = []  # oldest first


def _addresses(message: EmailMessage, header: str) -> list[dict[str, str]]:
    return [{"Name": name, "Address": address} for name, address in getaddresses(message.get_all(header, []))]


def _record(raw: bytes) -> None:
    message = message_from_bytes(raw, policy=policy.default)
    text = html = ""
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment":
            attachments.append(
                {
                    "FileName": part.get_filename() or "",
                    "ContentType": part.get_content_type(),
                    "Size": len(part.get_payload(decode=True) or b""),
                }
            )
        elif part.get_content_type() == "text/plain" and not text:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and not html:
            html = part.get_content()
    sender = _addresses(message, "From")
    entry = {
        "ID": uuid.uuid4().hex,
        "MessageID": (message.get("Message-ID") or "").strip().strip("<>"),
        "Read": False,
        "From": sender[0] if sender else {"Name": "", "Address": ""},
        "To": _addresses(message, "To"),
        "Cc": _addresses(message, "Cc"),
        "Bcc": [],
        "ReplyTo": _addresses(message, "Reply-To"),
        "Subject": str(message.get("Subject", "")),
        "Created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "Tags": [],
        "Size": len(raw),
        "Attachments": len(attachments),
        "Snippet": " ".join(text.split())[:250],
        "_text": text,
        "_html": html,
        "_attachments": attachments,
        "_raw": raw,
    }
    with _lock:
        _messages.append(entry)
        del _messages[:-MAX_MESSAGES]


def _summary(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def _matches(entry: dict, query: str) -> bool:
    for term in shlex.split(query):
        field, _, value = term.partition(":") if ":" in term else ("", "", term)
        value = value.lower()
        if field == "to":
            hay = " ".join(a["Address"] + " " + a["Name"] for a in entry["To"] + entry["Cc"])
        elif field == "from":
            hay = entry["From"]["Address"] + " " + entry["From"]["Name"]
        elif field == "subject":
            hay = entry["Subject"]
        else:
            hay = " ".join(
                [entry["Subject"], entry["_text"], json.dumps(entry["To"]), json.dumps(entry["From"])]
            )
        if value not in hay.lower():
            return False
    return True


class Api(BaseHTTPRequestHandler):
    server_version = "mailpit-standin"

    def log_message(self, format: str, *args: object) -> None:  # quiet: one line per request is noise
        pass

    def _send(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _listing(self, entries: list[dict], params: dict[str, list[str]]) -> dict:
        newest_first = list(reversed(entries))
        start = int(params.get("start", ["0"])[0])
        limit = int(params.get("limit", ["50"])[0])
        page = newest_first[start : start + limit]
        return {
            "total": len(entries),
            "unread": sum(not e["Read"] for e in entries),
            "count": len(page),
            "messages_count": len(entries),
            "start": start,
            "tags": [],
            "messages": [_summary(e) for e in page],
        }

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        with _lock:
            entries = list(_messages)
        if url.path in ("/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain")
        if parts == ["api", "v1", "messages"]:
            return self._send(200, self._listing(entries, params))
        if parts == ["api", "v1", "search"]:
            query = params.get("query", [""])[0]
            return self._send(200, self._listing([e for e in entries if _matches(e, query)], params))
        if len(parts) in (4, 5) and parts[:3] == ["api", "v1", "message"]:
            found = next((e for e in entries if e["ID"] == parts[3]), None)
            if found is None:
                return self._send(404, b"message not found", "text/plain")
            if len(parts) == 5 and parts[4] == "raw":
                return self._send(200, found["_raw"], "message/rfc822")
            found["Read"] = True
            detail = _summary(found) | {
                "Text": found["_text"],
                "HTML": found["_html"],
                "Attachments": found["_attachments"],
                "Inline": [],
                "Date": found["Created"],
            }
            return self._send(200, detail)
        if url.path == "/":
            rows = "".join(f"<li>{e['Created']} &mdash; {e['Subject']}</li>" for e in reversed(entries))
            return self._send(200, f"<h1>Mailpit stand-in</h1><ul>{rows}</ul>".encode(), "text/html")
        return self._send(404, b"not found", "text/plain")

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path != "/api/v1/messages":
            return self._send(404, b"not found", "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        ids = set((json.loads(self.rfile.read(length) or b"{}") or {}).get("IDs") or [])
        with _lock:
            _messages[:] = [e for e in _messages if ids and e["ID"] not in ids]
        return self._send(200, b"ok", "text/plain")


class Catcher:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        _record(envelope.original_content)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


def serve() -> None:
    from aiosmtpd.controller import Controller

    smtp = Controller(Catcher(), hostname="0.0.0.0", port=SMTP_PORT)
    smtp.start()
    print(f"mailpit stand-in: SMTP on {SMTP_PORT}, HTTP on {HTTP_PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Api).serve_forever()


def readyz() -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/readyz", timeout=5) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["readyz"]:
        sys.exit(readyz())
    serve()
