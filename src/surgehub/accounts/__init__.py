"""People: an account is an email address (normalised once, here) with roles — submitter for one
locality, board (read only), data team (everything) — stored in the warehouse, every change audited.

``seed_accounts`` makes the accounts the configuration already names (each locality's contacts as its
submitters, the board list as board members) and never changes an account that exists: after the
seed, `surgehub user` is the one way accounts change. Sign-in codes are in `surgehub.accounts.codes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from surgehub.warehouse import accounts as stored

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Engine

    from surgehub.config import EmailConfig


class Role(StrEnum):
    SUBMITTER = "submitter"
    BOARD = "board"
    DATA_TEAM = "data_team"


#: A plain address: one @, no spaces or controls, a dotted domain (what NHSmail and GOV.UK accept).
_EMAIL = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def normalise_email(text: str | None) -> str | None:
    """The address as accounts are keyed (trimmed, lower case), or None when it is not an address."""
    if not text:
        return None
    email = text.strip().lower()
    return email if len(email) <= 254 and _EMAIL.match(email) else None


def verified_email(claims: Any) -> str | None:
    """The email an OpenID provider's claims vouch for, normalised, or None. ``email_verified`` false
    (``False``, or the string "false" some providers send) refuses it; absent, the provider is trusted
    (Entra ID sends none: its tenant owns the addresses); docs/accounts.md, "Single sign-on"."""
    verified = claims.get("email_verified", True)
    if verified is False or (isinstance(verified, str) and verified.strip().lower() != "true"):
        return None
    return normalise_email(str(claims.get("email") or ""))


@dataclass(frozen=True, kw_only=True)
class Account:
    email: str
    display_name: str | None
    roles: frozenset[Role]
    locality: str | None  # the submitter role's locality
    created_at: datetime
    created_by: str
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def can_submit_for(self, sub_icb_code: str) -> bool:
        return self.active and Role.SUBMITTER in self.roles and self.locality == sub_icb_code

    def to_json_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "display_name": self.display_name,
            "roles": sorted(self.roles),
            "locality": self.locality,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
            "state": "active" if self.active else "disabled",
        }


class AccountError(ValueError):
    """An account change that cannot be made; the message says why, in words for people."""


def get_account(engine: Engine, email: str) -> Account | None:
    row = stored.account_row(engine, email)
    if row is None:
        return None
    return _account(row, stored.role_rows(engine, email))


def list_accounts(engine: Engine) -> list[Account]:
    roles: dict[str, list[Any]] = {}
    for role in stored.role_rows(engine):
        roles.setdefault(role.email, []).append(role)
    return [_account(row, roles.get(row.email, [])) for row in stored.account_rows(engine)]


def _account(row: Any, role_rows: Sequence[Any]) -> Account:
    """An ``account`` row and its ``account_role`` rows as one value."""
    return Account(
        email=row.email,
        display_name=row.display_name,
        roles=frozenset(Role(r.role) for r in role_rows),
        locality=next((r.sub_icb_code for r in role_rows if r.role == Role.SUBMITTER), None),
        created_at=row.created_at,
        created_by=row.created_by,
        disabled_at=row.disabled_at,
    )


def _checked_roles(roles: set[Role], locality: str | None) -> list[tuple[str, str | None]]:
    if not roles:
        raise AccountError("give at least one role: submitter, board or data_team")
    if Role.SUBMITTER in roles and not locality:
        raise AccountError("a submitter needs a locality (--locality CODE)")
    if locality and Role.SUBMITTER not in roles:
        raise AccountError("--locality goes with the submitter role only")
    return [(str(role), locality if role is Role.SUBMITTER else None) for role in sorted(roles)]


def add_account(
    engine: Engine,
    email_text: str,
    *,
    roles: set[Role],
    locality: str | None,
    display_name: str | None,
    actor: str,
    at: datetime,
) -> Account:
    """Create the account, or give an existing one these roles (a submitter's locality replaced) and
    enable it; audited as ``account.add`` or ``account.change``."""
    email = normalise_email(email_text)
    if email is None:
        raise AccountError(f"{email_text!r} is not an email address")
    checked = _checked_roles(roles, locality)
    existed = stored.account_row(engine, email) is not None
    stored.upsert_account(
        engine,
        email=email,
        roles=checked,
        display_name=display_name,
        actor=actor,
        at=at,
        action="account.change" if existed else "account.add",
        detail={"roles": sorted(str(r) for r in roles), "locality": locality},
    )
    found = get_account(engine, email)
    assert found is not None
    return found


def disable_account(engine: Engine, email_text: str, *, actor: str, at: datetime) -> bool:
    """Disable an account: it can no longer sign in, its sessions end at their next request and its
    tokens stop working. False when there is no such account."""
    email = normalise_email(email_text)
    return email is not None and stored.disable_account(engine, email, actor=actor, at=at)


def seed_accounts(engine: Engine, email: EmailConfig, *, at: datetime) -> int:
    """Accounts for the configured locality contacts (submitters) and board list; existing accounts
    are left as they are. The number of accounts made."""
    wanted: dict[str, list[tuple[str, str | None]]] = {}
    for code, contacts in sorted(email.locality_contacts.items()):
        for contact in contacts:
            address = normalise_email(contact)
            if address and not any(r == Role.SUBMITTER for r, _ in wanted.get(address, [])):
                wanted.setdefault(address, []).append((str(Role.SUBMITTER), code))
    for member in email.board:
        address = normalise_email(member)
        if address:
            wanted.setdefault(address, []).append((str(Role.BOARD), None))
    from sqlalchemy.exc import IntegrityError

    made = 0
    for address, roles in sorted(wanted.items()):
        try:
            made += _seed_one(engine, address, roles, at)
        except IntegrityError:  # another process (a replica starting too) made it first
            continue
    return made


def _seed_one(engine: Engine, address: str, roles: list[tuple[str, str | None]], at: datetime) -> bool:
    return stored.upsert_account(
        engine,
        email=address,
        roles=roles,
        display_name=None,
        actor="seed",
        at=at,
        action="account.seed",
        detail={"roles": [r for r, _ in roles], "locality": next((c for _, c in roles if c), None)},
        only_if_new=True,
    )
