"""Who gets each kind of mail, now that people have accounts (issue 17): the configured list, plus every
active account holding the role, less every disabled account.

- board digest: ``email.board`` and every active *board* account;
- daily summary: ``email.operations`` and every active *data team* account;
- receipts, chasers and "not taken" notices for a locality: its ``email.locality_contacts`` and every
  active *submitter* account of that locality.

The YAML lists seed the accounts (``seed_accounts`` at ``surgehub db upgrade``), so an address on a
list is normally an account too; one added to the YAML since is still mailed (and made an account at
the next upgrade). Disabling an account stops its mail, whichever list still names it: the one way to
stop someone's mail without a release. A configured address that is not a person's (an operations
mailbox such as ``root@localhost``) is kept as written.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from sqlalchemy import select

from surgehub.accounts import Role, normalise_email
from surgehub.warehouse import tables

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Connection, Engine

    from surgehub.config import Settings


def mail_list(
    engine: Engine, configured: Iterable[str], role: Role, locality: str | None = None
) -> list[str]:
    """The configured addresses that are not disabled accounts (in their order), then the active
    accounts with ``role`` (of ``locality`` for submitters) not already there, sorted; no duplicates."""
    a, r = tables.account, tables.account_role
    holders = select(a.c.email).join(r, r.c.email == a.c.email).where(r.c.role == str(role))
    if locality is not None:
        holders = holders.where(r.c.sub_icb_code == locality)
    with engine.connect() as connection:
        disabled = _disabled(connection)
        active = sorted(set(connection.execute(holders.where(a.c.disabled_at.is_(None))).scalars()))
    return _chosen(configured, active, disabled)


def _disabled(connection: Connection) -> set[str]:
    a = tables.account
    return set(connection.execute(select(a.c.email).where(a.c.disabled_at.is_not(None))).scalars())


def _chosen(configured: Iterable[str], active: list[str], disabled: set[str]) -> list[str]:
    chosen: list[str] = []
    seen: set[str] = set()
    for address in [*configured, *active]:
        key = normalise_email(parseaddr(address)[1]) or address.strip().lower()  # "Jane <jane@…>" is jane@…
        if key in disabled or key in seen:
            continue
        seen.add(key)
        chosen.append(address)
    return chosen


def locality_recipients(engine: Engine | None, settings: Settings, sub_icb_code: str) -> list[str]:
    """Who is told about ``sub_icb_code``'s returns (receipts, chasers, notices): its configured contacts
    and its active submitter accounts; without a warehouse (previews), its configured contacts alone."""
    configured = settings.email.contacts_of(sub_icb_code)
    if engine is None:
        return list(configured)
    return mail_list(engine, configured, Role.SUBMITTER, sub_icb_code.strip().upper())


def recipients_by_locality(
    engine: Engine | None, settings: Settings, codes: Iterable[str]
) -> dict[str, list[str]]:
    """``locality_recipients`` of several localities (keyed by code, upper case) in two queries, not
    two per locality: a run's receipts in a burst are hundreds of localities'."""
    wanted = sorted({code.strip().upper() for code in codes})
    if engine is None:
        return {code: list(settings.email.contacts_of(code)) for code in wanted}
    a, r = tables.account, tables.account_role
    active: dict[str, set[str]] = {code: set() for code in wanted}
    with engine.connect() as connection:
        disabled = _disabled(connection)
        for code, email in connection.execute(
            select(r.c.sub_icb_code, a.c.email)
            .join(r, r.c.email == a.c.email)
            .where(r.c.role == str(Role.SUBMITTER), r.c.sub_icb_code.in_(wanted), a.c.disabled_at.is_(None))
        ):
            active[code].add(email)
    return {
        code: _chosen(settings.email.contacts_of(code), sorted(active[code]), disabled) for code in wanted
    }
