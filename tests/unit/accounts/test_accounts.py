"""Accounts, roles, the seed and sign-in codes against a real warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from surgehub.accounts import (
    AccountError,
    Role,
    add_account,
    get_account,
    list_accounts,
    normalise_email,
    seed_accounts,
)
from surgehub.accounts.codes import MAX_TRIES, Redeemed, issue_code, redeem_code
from surgehub.accounts.secret import SecretError, server_secret
from surgehub.warehouse import tables
from surgehub.warehouse.audit import events
from tests.support.api import settings_for
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

SECRET = b"k" * 32


@pytest.fixture
def engine(warehouse: Engine) -> Engine:
    """The warehouse on SQLite and on PostgreSQL."""
    return warehouse


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Jo.Bloggs@NHS.net ", "jo.bloggs@nhs.net"),
        ("a+tag@sub.nhs.uk", "a+tag@sub.nhs.uk"),
        ("no-at-sign", None),
        ("two@@nhs.net", None),
        ("spaces in@nhs.net", None),
        ("nodot@localhost", None),
        ("evil@nhs.net\r\nBcc: x@y.z", None),
        ("", None),
    ],
)
def test_addresses_are_normalised_once_and_anything_else_refused(typed: str, kept: str | None) -> None:
    assert normalise_email(typed) == kept


def test_a_submitter_needs_one_locality_and_only_a_submitter_has_one(engine: Engine) -> None:
    with pytest.raises(AccountError, match="needs a locality"):
        add_account(
            engine,
            "a@nhs.net",
            roles={Role.SUBMITTER},
            locality=None,
            display_name=None,
            actor="t",
            at=TIMELINE_NOW,
        )
    with pytest.raises(AccountError, match="submitter role only"):
        add_account(
            engine,
            "a@nhs.net",
            roles={Role.BOARD},
            locality="14L",
            display_name=None,
            actor="t",
            at=TIMELINE_NOW,
        )
    assert get_account(engine, "a@nhs.net") is None


def test_adding_roles_to_an_account_keeps_the_others_and_is_audited(engine: Engine) -> None:
    add_account(
        engine, "A@nhs.net", roles={Role.BOARD}, locality=None, display_name="A", actor="dt", at=TIMELINE_NOW
    )
    account = add_account(
        engine,
        "a@nhs.net",
        roles={Role.SUBMITTER},
        locality="01W",
        display_name=None,
        actor="dt",
        at=TIMELINE_NOW,
    )
    assert account.roles == {Role.BOARD, Role.SUBMITTER}
    assert account.locality == "01W"
    assert account.display_name == "A"
    found = [(e.action, e.subject) for e in events(engine, action_prefix="account.add")]
    found += [(e.action, e.subject) for e in events(engine, action_prefix="account.change")]
    assert found == [("account.add", "account:a@nhs.net"), ("account.change", "account:a@nhs.net")]


def test_the_seed_makes_the_configured_accounts_once_and_never_undoes_a_change(surgehub_home: Path) -> None:
    settings, engine = settings_for(surgehub_home)
    contacts = {c for cs in settings.email.locality_contacts.values() for c in cs}
    assert seed_accounts(engine, settings.email, at=TIMELINE_NOW) == len(contacts | set(settings.email.board))
    seeded = {a.email: a for a in list_accounts(engine)}
    assert contacts | set(settings.email.board) == set(seeded)
    manchester = settings.email.contacts_of("14L")[0]
    assert seeded[manchester].roles == {Role.SUBMITTER}
    assert seeded[manchester].locality == "14L"
    assert seeded[settings.email.board[0]].roles == {Role.BOARD}
    from surgehub.accounts import disable_account

    disable_account(engine, manchester, actor="dt", at=TIMELINE_NOW)
    assert seed_accounts(engine, settings.email, at=TIMELINE_NOW + timedelta(days=1)) == 0
    assert not get_account(engine, manchester).active  # type: ignore[union-attr]


def test_audit_rows_cannot_be_changed(engine: Engine) -> None:
    add_account(
        engine, "a@nhs.net", roles={Role.BOARD}, locality=None, display_name=None, actor="t", at=TIMELINE_NOW
    )
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text("delete from audit_event"))


# -- codes ------------------------------------------------------------------------------------------


def test_a_code_works_once(engine: Engine) -> None:
    issued = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW)
    assert redeem_code(engine, "a@nhs.net", issued.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.OK
    assert redeem_code(engine, "a@nhs.net", issued.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.NO_CODE


def test_a_code_expires_after_ten_minutes(engine: Engine) -> None:
    issued = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW)
    at_expiry = TIMELINE_NOW + timedelta(minutes=10)
    assert redeem_code(engine, "a@nhs.net", issued.code, secret=SECRET, now=at_expiry) is Redeemed.NO_CODE


def test_a_code_is_for_its_address_and_the_newest_only(engine: Engine) -> None:
    first = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW)
    assert redeem_code(engine, "b@nhs.net", first.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.NO_CODE
    second = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW + timedelta(seconds=1))
    if first.code != second.code:
        assert redeem_code(engine, "a@nhs.net", first.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.WRONG
    assert redeem_code(engine, "a@nhs.net", second.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.OK


def test_wrong_tries_retire_a_code(engine: Engine) -> None:
    issued = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW)
    wrong = f"{(int(issued.code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_TRIES):
        assert redeem_code(engine, "a@nhs.net", wrong, secret=SECRET, now=TIMELINE_NOW) is Redeemed.WRONG
    assert redeem_code(engine, "a@nhs.net", issued.code, secret=SECRET, now=TIMELINE_NOW) is Redeemed.NO_CODE


def test_only_a_keyed_hash_of_the_code_is_stored(engine: Engine) -> None:
    import hashlib

    issued = issue_code(engine, "a@nhs.net", secret=SECRET, now=TIMELINE_NOW)
    with engine.connect() as connection:
        row = connection.execute(select(tables.sign_in_code)).one()
    assert issued.code not in str(tuple(row))
    assert row.code_hash != hashlib.sha256(issued.code.encode()).hexdigest()
    assert redeem_code(engine, "a@nhs.net", issued.code, secret=b"x" * 32, now=TIMELINE_NOW) is Redeemed.WRONG


def test_the_server_secret_is_made_once_and_kept_private(surgehub_home: Path) -> None:
    settings, _ = settings_for(surgehub_home)
    first = server_secret(settings, env={})
    assert server_secret(settings, env={}) == first
    assert (settings.home / "secret_key").stat().st_mode & 0o077 == 0
    assert server_secret(settings, env={"SURGEHUB_SECRET_KEY": "s" * 40}) == b"s" * 40
    with pytest.raises(SecretError):
        server_secret(settings, env={"SURGEHUB_SECRET_KEY": "short"})
