"""Named queries on the `submission_token` table: a locality's API tokens, kept only as hashes.

`surgehub.api.tokens` makes and checks the tokens; this module only stores and finds their rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Row, select, update

from surgehub.warehouse import audit, tables
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from datetime import datetime

_t = tables.submission_token


@dataclass(frozen=True, kw_only=True)
class NewToken:
    """A `submission_token` row to store: the public prefix and the hash, never the token."""

    prefix: str
    token_hash: str
    sub_icb_code: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    account_email: str | None = None  # the account it belongs to


def insert_token(engine: Engine, token: NewToken, *, actor: str = "system") -> Row[Any] | None:
    """Store a new token (audited as ``token.create``) and return its row; None (nothing stored) when
    the prefix is already taken."""
    with writer(engine).begin() as connection:
        taken = connection.execute(select(_t.c.token_id).where(_t.c.prefix == token.prefix)).first()
        if taken is not None:
            return None
        row = connection.execute(_t.insert().values(**asdict(token)).returning(*_t.c)).one()
        audit.record(
            connection,
            occurred_at=token.created_at,
            actor=actor,
            action="token.create",
            subject=f"token:{token.prefix}",
            detail={
                "locality": token.sub_icb_code,
                "account": token.account_email,
                "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            },
        )
        return row


def token_rows(engine: Engine, sub_icb_code: str | None = None) -> list[Row[Any]]:
    """Every token (or one locality's), by locality, then in the order they were made."""
    query = select(_t).order_by(_t.c.sub_icb_code, _t.c.created_at, _t.c.token_id)
    if sub_icb_code is not None:
        query = query.where(_t.c.sub_icb_code == sub_icb_code)
    with engine.connect() as connection:
        return list(connection.execute(query))


def token_by_prefix(engine: Engine, prefix: str) -> Row[Any] | None:
    with engine.connect() as connection:
        return connection.execute(select(_t).where(_t.c.prefix == prefix)).first()


def revoke_prefix(engine: Engine, prefix: str, revoked_at: datetime, *, actor: str = "system") -> bool:
    """Mark the token revoked (once: a second revocation keeps the first time; audited as
    ``token.revoke``); False if there is none."""
    with writer(engine).begin() as connection:
        row = connection.execute(
            select(_t.c.token_id, _t.c.revoked_at, _t.c.sub_icb_code).where(_t.c.prefix == prefix)
        ).first()
        if row is None:
            return False
        if row.revoked_at is None:
            connection.execute(update(_t).where(_t.c.token_id == row.token_id).values(revoked_at=revoked_at))
            audit.record(
                connection,
                occurred_at=revoked_at,
                actor=actor,
                action="token.revoke",
                subject=f"token:{prefix}",
                detail={"locality": row.sub_icb_code},
            )
    return True
