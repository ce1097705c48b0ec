"""Submission tokens: one secret per locality, shown once, stored only as a sha256 hash.

A token reads ``sh_<prefix>_<secret>``: the prefix (8 hex digits) is public and names the token in
listings and revocations; the secret is 32 random bytes (``secrets.token_urlsafe``). The warehouse
(`surgehub.warehouse.tokens`) keeps the prefix and the sha256 of the whole token. Checking a token
looks the row up by prefix and compares hashes in constant time (``hmac.compare_digest``); an
unknown prefix still costs a compare. Every function takes the time it acts at (``now``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from surgehub.api.records import iso
from surgehub.warehouse import tokens as stored

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine, Row

TOKEN_PATTERN = re.compile(r"^sh_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    """A token as listed: never its secret or hash."""

    token_id: int
    prefix: str
    sub_icb_code: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    account_email: str | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> TokenInfo:
        """What is listed of a stored token (a `submission_token` row)."""
        return cls(**{field.name: getattr(row, field.name) for field in fields(cls)})

    def state(self, now: datetime) -> TokenState:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenState.EXPIRED
        return TokenState.ACTIVE

    def to_json_dict(self, now: datetime) -> dict[str, object]:
        return {
            "prefix": self.prefix,
            "sub_icb_code": self.sub_icb_code,
            "label": self.label,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "account": self.account_email,
            "state": str(self.state(now)),
        }


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who a request speaks for (a valid token, or a signed-in submitter): the locality comes from here,
    never from the request."""

    token_id: int | None
    prefix: str  # the rate limits' key: the token's prefix, or "account:<email>"
    sub_icb_code: str
    account: str | None = None  # the signed-in account, or the account the token belongs to

    @property
    def sent_by(self) -> str:
        """Who sent an upload, as recorded with it: ``account:<email>`` or ``token:<prefix>``."""
        return f"token:{self.prefix}" if self.token_id is not None else f"account:{self.account}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine,
    sub_icb_code: str,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    label: str | None = None,
    account_email: str | None = None,
    actor: str = "system",
) -> tuple[str, TokenInfo]:
    """A new token for a locality (a normalised code): the token itself (to show once) and what is kept."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware time")
    for _attempt in range(5):  # a prefix collision (1 in 4 billion per token) just draws again
        prefix = secrets.token_hex(4)
        token = f"sh_{prefix}_{secrets.token_urlsafe(32)}"
        new = stored.NewToken(
            prefix=prefix,
            token_hash=hash_token(token),
            sub_icb_code=sub_icb_code,
            label=label,
            created_at=now,
            expires_at=expires_at,
            account_email=account_email,
        )
        row = stored.insert_token(engine, new, actor=actor)
        if row is not None:
            return token, TokenInfo.from_row(row)
    raise RuntimeError("could not draw an unused token prefix")


def list_tokens(engine: Engine, sub_icb_code: str | None = None) -> list[TokenInfo]:
    return [TokenInfo.from_row(row) for row in stored.token_rows(engine, sub_icb_code)]


def revoke_token(engine: Engine, prefix: str, *, now: datetime, actor: str = "system") -> bool:
    """Revoke the token with this prefix (or the whole token); False when there is no such token."""
    match = TOKEN_PATTERN.match(prefix.strip())
    return stored.revoke_prefix(engine, match.group(1) if match else prefix.strip().lower(), now, actor=actor)


def authenticate(engine: Engine, token: str | None, *, now: datetime) -> Caller | None:
    """The caller a token stands for, or None (missing, malformed, unknown, wrong, revoked or expired)."""
    if not token:
        return None
    match = TOKEN_PATTERN.match(token.strip())
    row = stored.token_by_prefix(engine, match.group(1)) if match else None
    expected = row.token_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_token(token.strip()), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.account_email is not None and not _account_active(engine, row.account_email):
        return None  # a disabled account's tokens stop working with it
    return Caller(
        token_id=int(row.token_id),
        prefix=row.prefix,
        sub_icb_code=row.sub_icb_code,
        account=row.account_email,
    )


def _account_active(engine: Engine, email: str) -> bool:
    from surgehub.warehouse.accounts import account_row

    found = account_row(engine, email)
    return found is not None and found.disabled_at is None
