"""Sign-in codes sent by email: six digits, single use, 10 minutes, five tries, kept only as an HMAC.

``issue_code`` does the same work for every address — draws a code, stores its HMAC, retires the
address's earlier code — whether or not an account has that address: whether mail goes out is
decided later, off the request path (``surgehub.api.signin``). ``redeem_code`` compares in constant
time, counts the try, and retires the code when it is used or out of tries. The HMAC key is the
server secret (``surgehub.accounts.secret``), so a copy of the warehouse gives no usable code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from surgehub.warehouse import accounts as stored
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5


class Redeemed(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # a live code, not this one
    NO_CODE = "no_code"  # none asked for, expired, used, or out of tries


@dataclass(frozen=True, kw_only=True)
class Issued:
    code: str  # the plain code: only ever in memory, on its way into one email
    code_id: int
    expires_at: datetime


def code_hash(secret: bytes, email: str, code: str) -> str:
    """HMAC-SHA256 of the address and code under the server secret (hex)."""
    return hmac.new(secret, f"{email}\x1f{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(text: str | None) -> str:
    """What a person typed, as digits only (spaces and dashes people add are dropped)."""
    return "".join(c for c in (text or "") if c.isascii() and c.isdigit())[: CODE_DIGITS + 1]


def issue_code(engine: Engine, email: str, *, secret: bytes, now: datetime) -> Issued:
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    expires_at = now + CODE_LIFETIME
    code_id = stored.insert_code(
        engine, email=email, code_hash=code_hash(secret, email, code), created_at=now, expires_at=expires_at
    )
    return Issued(code=code, code_id=code_id, expires_at=expires_at)


_DUMMY = "0" * 64


def redeem_code(engine: Engine, email: str, code_text: str, *, secret: bytes, now: datetime) -> Redeemed:
    """Try ``code_text`` against the address's live code; OK uses it up."""
    code = normalise_code(code_text)
    with writer(engine).begin() as connection:
        live = stored.live_code(connection, email, now)
        expected = live.code_hash if live is not None else _DUMMY
        matches = hmac.compare_digest(code_hash(secret, email, code), expected)  # a compare either way
        if live is None:
            return Redeemed.NO_CODE
        if matches and len(code) == CODE_DIGITS:
            stored.count_attempt(connection, live.code_id, used_at=now)
            return Redeemed.OK
        out_of_tries = live.attempts + 1 >= MAX_TRIES
        stored.count_attempt(connection, live.code_id, used_at=now if out_of_tries else None)
        return Redeemed.WRONG
