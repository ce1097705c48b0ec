"""Named queries on ``account``, ``account_role`` and ``sign_in_code``: people, their roles, their codes.

`surgehub.accounts` decides; this module only stores and finds rows. Every change to an account is
written with its audit row in the same transaction (``surgehub.warehouse.audit.record``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from surgehub.warehouse import audit, tables
from surgehub.warehouse.db import writer

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Connection, Engine, Row

_a = tables.account
_r = tables.account_role
_c = tables.sign_in_code


def account_row(engine: Engine, email: str) -> Row[Any] | None:
    with engine.connect() as connection:
        return connection.execute(select(_a).where(_a.c.email == email)).first()


def role_rows(engine: Engine, email: str | None = None) -> list[Row[Any]]:
    query = select(_r).order_by(_r.c.email, _r.c.role)
    if email is not None:
        query = query.where(_r.c.email == email)
    with engine.connect() as connection:
        return list(connection.execute(query))


def account_rows(engine: Engine) -> list[Row[Any]]:
    with engine.connect() as connection:
        return list(connection.execute(select(_a).order_by(_a.c.email)))


def _set_roles(connection: Connection, email: str, roles: Sequence[tuple[str, str | None]]) -> None:
    connection.execute(delete(_r).where(_r.c.email == email))
    for role, code in roles:
        connection.execute(_r.insert().values(email=email, role=role, sub_icb_code=code))


def upsert_account(
    engine: Engine,
    *,
    email: str,
    roles: Sequence[tuple[str, str | None]],
    display_name: str | None,
    actor: str,
    at: datetime,
    action: str,
    detail: Mapping[str, Any],
    only_if_new: bool = False,
) -> bool:
    """Create the account, or (unless ``only_if_new``) add ``roles`` to it and enable it; audited.

    False when nothing was written (``only_if_new`` and the account exists)."""
    with writer(engine).begin() as connection:
        found = connection.execute(select(_a).where(_a.c.email == email)).first()
        if found is not None and only_if_new:
            return False
        if found is None:
            connection.execute(
                _a.insert().values(email=email, display_name=display_name, created_at=at, created_by=actor)
            )
            kept: list[tuple[str, str | None]] = []
        else:
            values: dict[str, Any] = {"disabled_at": None}
            if display_name:
                values["display_name"] = display_name
            connection.execute(update(_a).where(_a.c.email == email).values(**values))
            kept = [
                (row.role, row.sub_icb_code)
                for row in connection.execute(select(_r).where(_r.c.email == email))
                if row.role not in {role for role, _ in roles}
            ]
        _set_roles(connection, email, [*kept, *roles])
        audit.record(
            connection, occurred_at=at, actor=actor, action=action, subject=f"account:{email}", detail=detail
        )
    return True


def disable_account(engine: Engine, email: str, *, actor: str, at: datetime) -> bool:
    """Disable the account (once: a second time keeps the first time); False when there is none."""
    with writer(engine).begin() as connection:
        found = connection.execute(select(_a).where(_a.c.email == email)).first()
        if found is None:
            return False
        if found.disabled_at is None:
            connection.execute(update(_a).where(_a.c.email == email).values(disabled_at=at))
            audit.record(
                connection, occurred_at=at, actor=actor, action="account.disable", subject=f"account:{email}"
            )
    return True


# -- sign-in codes ---------------------------------------------------------------------------------


def insert_code(
    engine: Engine, *, email: str, code_hash: str, created_at: datetime, expires_at: datetime
) -> int:
    """Store a new code for ``email``; every earlier unused code of that address stops working."""
    with writer(engine).begin() as connection:
        connection.execute(
            update(_c).where((_c.c.email == email) & _c.c.used_at.is_(None)).values(used_at=created_at)
        )
        # Codes long past their expiry serve no one: the table stays small whatever is asked of it.
        connection.execute(delete(_c).where(_c.c.expires_at < created_at - timedelta(days=1)))
        result = connection.execute(
            _c.insert().values(
                email=email, code_hash=code_hash, created_at=created_at, expires_at=expires_at, attempts=0
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def live_code(connection: Connection, email: str, now: datetime) -> Row[Any] | None:
    """The address's current code: unused and not expired (at most one: a new code retires the old)."""
    return connection.execute(
        select(_c)
        .where((_c.c.email == email) & _c.c.used_at.is_(None) & (_c.c.expires_at > now))
        .order_by(_c.c.created_at.desc(), _c.c.code_id.desc())
        .limit(1)
    ).first()


def count_attempt(connection: Connection, code_id: int, *, used_at: datetime | None) -> None:
    """One more attempt at the code; ``used_at`` retires it (used, or out of attempts)."""
    values: dict[str, Any] = {"attempts": _c.c.attempts + 1}
    if used_at is not None:
        values["used_at"] = used_at
    connection.execute(update(_c).where(_c.c.code_id == code_id).values(**values))
