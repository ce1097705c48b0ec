"""Submission tokens: one secret per locality, shown once, stored only as a sha256 hash.

A token reads ``sh_<prefix>_<secret>``: the prefix (8 hex digits) is public and names the token in
listings and revocations; the secret is 32 random bytes (``secrets.token_urlsafe``). The warehouse
keeps the prefix and the sha256 of the whole token. Checking a token looks the row up by prefix and
compares hashes in constant time (``hmac.compare_digest``); an unknown prefix still costs a compare.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from surgehub import clock
from surgehub.warehouse import tables
from surgehub.warehouse.db import writer

TOKEN_PATTERN = re.compile(r"^sh_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret or hash."""

    token_id: int
    prefix: str
    sub_icb_code: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_json_dict(self, now: datetime) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat().replace("+00:00", "Z")

        return {
            "prefix": self.prefix,
            "sub_icb_code": self.sub_icb_code,
            "label": self.label,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "state": self.state(now),
        }


@dataclass(frozen=True)
class Caller:
    """Who a valid token speaks for: the locality comes from here, never from the request."""

    token_id: int
    prefix: str
    sub_icb_code: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine, sub_icb_code: str, *, expires_at: datetime | None = None, label: str | None = None
) -> tuple[str, TokenInfo]:
    """A new token for a locality: the token itself (to show once) and what is kept of it."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware time")
    now = clock.now()
    for _attempt in range(5):  # a prefix collision (1 in 4 billion per token) just draws again
        prefix = secrets.token_hex(4)
        token = f"sh_{prefix}_{secrets.token_urlsafe(32)}"
        with writer(engine).begin() as connection:
            taken = connection.execute(
                select(tables.submission_token.c.token_id).where(tables.submission_token.c.prefix == prefix)
            ).first()
            if taken is not None:
                continue
            token_id = connection.execute(
                tables.submission_token.insert().values(
                    prefix=prefix,
                    token_hash=hash_token(token),
                    sub_icb_code=sub_icb_code,
                    label=label,
                    created_at=now,
                    expires_at=expires_at,
                )
            ).inserted_primary_key[0]
        info = TokenInfo(int(token_id), prefix, sub_icb_code, label, now, expires_at, None)
        return token, info
    raise RuntimeError("could not draw an unused token prefix")


def list_tokens(engine: Engine, sub_icb_code: str | None = None) -> list[TokenInfo]:
    t = tables.submission_token
    query = select(t).order_by(t.c.sub_icb_code, t.c.created_at, t.c.token_id)
    if sub_icb_code is not None:
        query = query.where(t.c.sub_icb_code == sub_icb_code)
    with engine.connect() as connection:
        return [
            TokenInfo(r.token_id, r.prefix, r.sub_icb_code, r.label, r.created_at, r.expires_at, r.revoked_at)
            for r in connection.execute(query)
        ]


def revoke_token(engine: Engine, prefix: str) -> bool:
    """Revoke the token with this prefix (or the whole token); False when there is no such token."""
    match = TOKEN_PATTERN.match(prefix.strip())
    prefix = match.group(1) if match else prefix.strip().lower()
    t = tables.submission_token
    with writer(engine).begin() as connection:
        row = connection.execute(select(t.c.token_id, t.c.revoked_at).where(t.c.prefix == prefix)).first()
        if row is None:
            return False
        if row.revoked_at is None:
            connection.execute(update(t).where(t.c.token_id == row.token_id).values(revoked_at=clock.now()))
    return True


def authenticate(engine: Engine, token: str | None) -> Caller | None:
    """The caller a token stands for, or None (missing, malformed, unknown, wrong, revoked or expired)."""
    if not token:
        return None
    match = TOKEN_PATTERN.match(token.strip())
    prefix = match.group(1) if match else ""
    t = tables.submission_token
    row = None
    if match:
        with engine.connect() as connection:
            row = connection.execute(select(t).where(t.c.prefix == prefix)).first()
    expected = row.token_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_token(token.strip()), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= clock.now():
        return None
    return Caller(int(row.token_id), row.prefix, row.sub_icb_code)
