"""`surgehub user add|list|disable` and the token commands' owner and expiry, as a data team uses them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from surgehub.cli import cli

if TYPE_CHECKING:
    from pathlib import Path


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_db_upgrade_seeds_the_configured_accounts(surgehub_home: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    listed = {a["email"]: a for a in json.loads(run("user", "list", "--json").output)}
    manchester = listed["manchester-gp-board@gm-surgehub.example.nhs.uk"]
    assert (manchester["roles"], manchester["locality"], manchester["created_by"]) == (
        ["submitter"],
        "14L",
        "seed",
    )
    assert listed["pcsb-board@gm-surgehub.example.nhs.uk"]["roles"] == ["board"]
    assert run("db", "upgrade").exit_code == 0  # again: nothing new
    assert len(json.loads(run("user", "list", "--json").output)) == len(listed)


def test_a_locality_lead_is_invited_in_one_command_and_disabled_in_another(surgehub_home: Path) -> None:
    added = run(
        "user", "add", "Lead@NHS.net", "--role", "submitter", "--locality", "14l", "--by", "dt@nhs.net"
    )
    assert added.exit_code == 0, added.output
    assert "lead@nhs.net: submitter for 14L; signs in at " in added.output
    assert "/sign-in" in added.output
    listed = {a["email"]: a for a in json.loads(run("user", "list", "--json").output)}
    assert listed["lead@nhs.net"]["state"] == "active"
    assert run("user", "disable", "lead@nhs.net").exit_code == 0
    assert "disabled" in run("user", "list").output
    audit = [json.loads(line) for line in run("audit", "--action", "account.", "--json").output.splitlines()]
    assert [(e["action"], e["actor"]) for e in audit if e["subject"] == "account:lead@nhs.net"] == [
        ("account.add", "dt@nhs.net"),
        ("account.disable", audit[-1]["actor"]),
    ]
    assert audit[-1]["actor"].startswith("os:")


def test_user_commands_exit_2_on_usage_errors_and_1_on_a_missing_account(surgehub_home: Path) -> None:
    assert run("user", "add", "not-an-address", "--role", "board").exit_code == 2
    missing_locality = run("user", "add", "a@nhs.net", "--role", "submitter")
    assert missing_locality.exit_code == 2
    assert "a submitter needs a locality" in missing_locality.output
    assert run("user", "add", "a@nhs.net", "--role", "submitter", "--locality", "XXX").exit_code == 2
    assert run("user", "add", "a@nhs.net", "--role", "owner").exit_code == 2
    assert run("user", "disable", "nobody@nhs.net").exit_code == 1


def test_tokens_expire_by_default_and_may_belong_to_an_account(surgehub_home: Path) -> None:
    assert run("user", "add", "lead@nhs.net", "--role", "submitter", "--locality", "14L").exit_code == 0
    made = run("token", "create", "--locality", "14L", "--account", "lead@nhs.net")
    assert made.exit_code == 0, made.output
    [token] = json.loads(run("token", "list", "--json").output)
    assert token["expires_at"].startswith("2027-05-24")  # 180 days after 25 Nov 2026
    assert token["account"] == "lead@nhs.net"
    forever = run("token", "create", "--locality", "14L", "--no-expiry")
    assert forever.exit_code == 0
    assert run("token", "create", "--locality", "14L", "--account", "who@nhs.net").exit_code == 2
    assert run("token", "create", "--locality", "14L", "--no-expiry", "--expires-in-days", "3").exit_code == 2
    prefix = token["prefix"]
    assert run("token", "revoke", prefix).exit_code == 0
    audit = [json.loads(line) for line in run("audit", "--action", "token.", "--json").output.splitlines()]
    assert [e["action"] for e in audit] == ["token.create", "token.create", "token.revoke"]
    assert audit[-1]["subject"] == f"token:{prefix}"
