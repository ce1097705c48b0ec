"""Proof that a sent digest is right: rebuild it as of its cut-off and compare its figures (the CSV) with
the message the archive holds as sent (``surgehub verify-digest KEY``, and the task after each send).

A digest belongs to its slot (the key names it: ``board:2026-11-26T07:30``, Europe/London wall time),
however late it ran, so it is rebuilt with ``build_digest`` as of that cut-off: only what had been
received, and the register as it stood, then. Every archived copy (one per recipient) is compared.
"""

from __future__ import annotations

import difflib
import email
import email.policy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from surgehub.clock import parse_instant
from surgehub.digest.model import DigestKind

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from surgehub.config import Settings

#: Lines of diff shown at most (the rest are counted).
DIFF_LINES = 60


class VerifyError(ValueError):
    """The key names no digest that was sent and archived; the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class Verification:
    key: str
    cutoff: datetime
    messages: int
    mismatched: list[str] = field(default_factory=list)  # recipients whose CSV differs
    diff: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.messages > 0 and not self.mismatched


def parse_key(key: str) -> tuple[DigestKind, datetime]:
    """``board:2026-11-26T07:30`` → (board, that London wall time as an aware instant)."""
    kind, _, stamp = key.strip().partition(":")
    try:
        return DigestKind(kind), parse_instant(stamp)
    except ValueError:
        raise VerifyError(
            f"{key[:60]!r} is not a digest key such as board:2026-11-26T07:30 or daily:2026-11-25T13:45"
        ) from None


def csv_of(mime: bytes) -> bytes | None:
    """The CSV attachment of an archived message, decoded to the bytes that were attached."""
    message = email.message_from_bytes(mime, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/csv" and part.get_filename():
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def verify_digest(engine: Engine, settings: Settings, key: str) -> Verification:
    """Rebuild the digest of ``key`` as of its cut-off and compare its CSV with every archived copy."""
    from surgehub.digest.build import build_digest
    from surgehub.digest.csv_export import digest_csv
    from surgehub.warehouse.email_log import archived_messages

    kind, cutoff = parse_key(key)
    archived = archived_messages(engine, key)
    if not archived:
        raise VerifyError(
            f"no sent message of {key} is in the archive: check the key (`surgehub audit`, email log)"
        )
    expected = digest_csv(build_digest(engine, kind, cutoff, settings))
    mismatched: list[str] = []
    diff: list[str] = []
    for message in archived:
        sent = csv_of(message.mime)
        if sent == expected:
            continue
        mismatched.append(message.recipient)
        if not diff:
            diff = _diff(sent or b"", expected, message.recipient)
    return Verification(key=key, cutoff=cutoff, messages=len(archived), mismatched=mismatched, diff=diff)


def _diff(sent: bytes, rebuilt: bytes, recipient: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            sent.decode("utf-8-sig", errors="replace").splitlines(),
            rebuilt.decode("utf-8-sig", errors="replace").splitlines(),
            fromfile=f"as sent to {recipient}",
            tofile="rebuilt as of the cut-off",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... {len(lines) - DIFF_LINES} more diff lines"]
    return lines or ["(no CSV attachment in the archived message)"]
