"""Who gets mail once people have accounts (issue 17): the configured list and the role's active
accounts, less disabled accounts: disabling an account stops its mail, whichever list names it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from surgehub import clock
from surgehub.accounts import Role, add_account, disable_account, seed_accounts
from surgehub.accounts.recipients import locality_recipients, mail_list, recipients_by_locality
from surgehub.chase import chase_mails
from surgehub.config import load_settings
from surgehub.digest.mails import recipients_for
from surgehub.digest.model import DigestKind
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

CHAIR = "chair@gm.nhs.uk"


def _add(engine: Engine, email: str, *roles: Role, locality: str | None = None) -> None:
    add_account(
        engine, email, roles=set(roles), locality=locality, display_name=None, actor="test", at=TIMELINE_NOW
    )


def test_the_list_is_the_configured_addresses_then_the_roles_active_accounts(warehouse: Engine) -> None:
    _add(warehouse, "zed@gm.nhs.uk", Role.BOARD)
    _add(warehouse, CHAIR, Role.BOARD)
    _add(warehouse, "lead@gm.nhs.uk", Role.SUBMITTER, locality="14L")
    _add(warehouse, "gone@gm.nhs.uk", Role.BOARD)
    disable_account(warehouse, "gone@gm.nhs.uk", actor="test", at=TIMELINE_NOW)
    configured = [
        "Board-List@GM.nhs.uk",
        "root@localhost",
        "gone@gm.nhs.uk",
        "Gone Person <Gone@gm.nhs.uk>",
        "Chair@gm.nhs.uk",
        "The Chair <chair@gm.nhs.uk>",
    ]
    assert mail_list(warehouse, configured, Role.BOARD) == [
        "Board-List@GM.nhs.uk",  # kept as written
        "root@localhost",  # not a person's address: kept
        "Chair@gm.nhs.uk",  # named twice (once as an account): once
        "zed@gm.nhs.uk",
    ]
    assert mail_list(warehouse, [], Role.DATA_TEAM) == []


def test_a_localitys_list_has_its_own_submitters_only(warehouse: Engine, surgehub_home: Path) -> None:
    settings = load_settings()
    _add(warehouse, "lead@gm.nhs.uk", Role.SUBMITTER, locality="14L")
    _add(warehouse, "other@gm.nhs.uk", Role.SUBMITTER, locality="01G")
    _add(warehouse, "member@gm.nhs.uk", Role.BOARD)
    assert locality_recipients(warehouse, settings, "14l") == [
        *settings.email.contacts_of("14L"),
        "lead@gm.nhs.uk",
    ]
    assert locality_recipients(None, settings, "14L") == list(settings.email.contacts_of("14L"))


def test_several_localities_lists_at_once_are_each_localitys_own(
    warehouse: Engine, surgehub_home: Path
) -> None:
    settings = load_settings()
    _add(warehouse, "lead@gm.nhs.uk", Role.SUBMITTER, locality="14L")
    _add(warehouse, "deputy@gm.nhs.uk", Role.SUBMITTER, locality="14L")
    _add(warehouse, "other@gm.nhs.uk", Role.SUBMITTER, locality="01G")
    _add(warehouse, "gone@gm.nhs.uk", Role.SUBMITTER, locality="01G")
    _add(warehouse, "member@gm.nhs.uk", Role.BOARD)
    disable_account(warehouse, "gone@gm.nhs.uk", actor="test", at=TIMELINE_NOW)
    codes = ["14l", "01G", "00T"]
    together = recipients_by_locality(warehouse, settings, codes)
    assert together == {code.upper(): locality_recipients(warehouse, settings, code) for code in codes}
    assert together["14L"][-2:] == ["deputy@gm.nhs.uk", "lead@gm.nhs.uk"]
    assert "gone@gm.nhs.uk" not in together["01G"]
    assert recipients_by_locality(None, settings, ["14L"]) == {"14L": list(settings.email.contacts_of("14L"))}


def test_disabling_a_seeded_board_member_stops_the_digest_and_a_new_member_gets_it(
    warehouse: Engine, surgehub_home: Path
) -> None:
    settings = load_settings()
    [listed] = settings.email.board
    seed_accounts(warehouse, settings.email, at=TIMELINE_NOW)
    assert recipients_for(DigestKind.BOARD, settings, warehouse) == [listed]
    _add(warehouse, "new-member@gm.nhs.uk", Role.BOARD)
    disable_account(warehouse, listed, actor="test", at=TIMELINE_NOW)
    assert recipients_for(DigestKind.BOARD, settings, warehouse) == ["new-member@gm.nhs.uk"]
    assert recipients_for(DigestKind.BOARD, settings) == [listed]  # without the warehouse: the YAML alone
    _add(warehouse, "analyst@gm.nhs.uk", Role.DATA_TEAM)
    assert recipients_for(DigestKind.DAILY, settings, warehouse) == [
        *settings.email.operations,
        "analyst@gm.nhs.uk",
    ]


@pytest.mark.parametrize("disabled", [False, True])
def test_a_disabled_locality_contact_is_not_chased(
    warehouse: Engine, surgehub_home: Path, disabled: bool
) -> None:
    settings = load_settings()
    [bury] = settings.email.contacts_of("00V")
    seed_accounts(warehouse, settings.email, at=TIMELINE_NOW)
    if disabled:
        disable_account(warehouse, bury, actor="test", at=TIMELINE_NOW)
    _, mails = chase_mails(warehouse, datetime(2026, 11, 26, 9, 30, tzinfo=clock.LONDON), settings)
    to_bury = [m.recipient for m in mails if m.period_key.endswith(":00V")]
    assert to_bury == ([] if disabled else [bury])
