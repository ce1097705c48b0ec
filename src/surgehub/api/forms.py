"""The upload page's form read token first: the token is checked before the file is read (issue 15).

The page sends its fields in the form's order, the token before the file. The body is read chunk by
chunk (each within `Limits.body_idle_seconds`, the whole within `Limits.body_total_seconds`, never past
the size limit) and fed to python-multipart's streaming parser; as soon as the ``token`` part is
complete, the caller's ``on_token`` runs (authentication and the rate limit): a refusal stops the read
there, so an unauthenticated upload costs a few hundred bytes, not five megabytes. A form whose file
comes before any token is refused the same way, unread.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

#: The longest token field the page reads (a token is about 50 characters).
MAX_TOKEN_BYTES = 1024


class TokenMissing(Exception):
    """The form's token is empty, or its first field is not the token (the file came first, or none).

    ``file_chosen`` is False when the part after an empty token is a file field with no file chosen
    (so the page can list both errors at once), else None (not known: the rest was not read).
    """

    def __init__(self, file_chosen: bool | None = None) -> None:
        super().__init__("no token")
        self.file_chosen = file_chosen


class _TokenFinder:
    """Watches a multipart stream for its first part: the token's value once complete, or not a token."""

    def __init__(self, boundary: bytes, field: bytes = b"token") -> None:
        self.field = field
        self.token: str | None = None
        self.not_first = False
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._value = bytearray()
        self._in_token = False
        self._done = False
        self.next_file_chosen: bool | None = None  # after the token: whether the next part holds a file
        self.parser = MultipartParser(
            boundary,
            {
                "on_header_field": self._field,
                "on_header_value": self._header_value,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._header_field.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]
        if len(self._headers[key]) > 1024:
            self.not_first = True
        self._header_field = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if self._done:
            if self.token is not None and self.next_file_chosen is None:
                self.next_file_chosen = bool(options.get(b"filename"))
            return
        name = options.get(b"name")
        if name == self.field and b"filename" not in options:
            self._in_token = True
        else:
            self.not_first = True
            self._done = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_token:
            self._value += data[start:end]
            if len(self._value) > MAX_TOKEN_BYTES:
                self.not_first = True
                self._in_token = False
                self._done = True

    def _part_end(self) -> None:
        if self._in_token:
            self.token = self._value.decode("utf-8", "replace").strip()
            self._in_token = False
            self._done = True
        self._headers = {}

    def write(self, chunk: bytes) -> None:
        if not self._done or (self.token == "" and self.next_file_chosen is None):
            self.parser.write(chunk)


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    return boundary if kind == b"multipart/form-data" and boundary else None


async def read_token_first(
    chunks: AsyncIterator[bytes],
    *,
    boundary: bytes,
    limit: int,
    idle_seconds: float,
    total_seconds: float,
    on_token: Callable[[str], Awaitable[None]],
    field: bytes = b"token",
) -> bytes:
    """The whole body, calling ``on_token`` once the token part is read; raises what ``on_token`` raises,
    `TokenMissing`, limits.BodyTooSlow or limits.BodyTooLarge, each as soon as it is known.

    ``field`` names the first field: ``token`` (a submission token), or ``csrf_token`` when a signed-in
    person sends the form (the session is checked before the body is read; the CSRF token here)."""
    from surgehub.api.limits import BodyTooLarge, BodyTooSlow

    finder = _TokenFinder(boundary, field)
    parts: list[bytes] = []
    size = 0
    checked = False
    deadline = time.monotonic() + total_seconds
    iterator = chunks.__aiter__()
    while True:
        wait = min(idle_seconds, deadline - time.monotonic())
        if wait <= 0:
            raise BodyTooSlow
        try:
            chunk = await asyncio.wait_for(anext(iterator), timeout=wait)
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise BodyTooSlow from None
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        parts.append(chunk)
        if not checked:
            finder.write(chunk)
            if finder.token == "" and finder.next_file_chosen is not None:
                raise TokenMissing(file_chosen=finder.next_file_chosen)
            if finder.token:
                checked = True
                await on_token(finder.token)
            elif finder.not_first:
                raise TokenMissing
    if not checked:  # the whole (small) form read: no file part at all is no file chosen
        raise TokenMissing(file_chosen=bool(finder.next_file_chosen))
    return b"".join(parts)
