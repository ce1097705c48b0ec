"""Submission tokens: shown once, kept only as hashes, one locality each, revocable, optionally expiring."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from click.testing import CliRunner
from sqlalchemy import select

from surgehub.api.tokens import authenticate, create_token, hash_token, list_tokens, revoke_token
from surgehub.cli import cli
from surgehub.warehouse import tables
from tests.support.api import settings_for
from tests.support.timeline import TIMELINE_NOW as NOW

if TYPE_CHECKING:
    from pathlib import Path


def test_token_is_stored_only_as_its_hash(surgehub_home: Path) -> None:
    _settings, engine = settings_for(surgehub_home)
    token, info = create_token(engine, "14L", now=NOW, label="Manchester BI team")
    assert token.startswith(f"sh_{info.prefix}_")
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(select(tables.submission_token))]
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hash_token(token)
    assert token not in json.dumps(rows, default=str)
    assert token.split("_", 2)[2] not in json.dumps(rows, default=str)


def test_token_authenticates_as_its_own_locality_only(surgehub_home: Path) -> None:
    _settings, engine = settings_for(surgehub_home)
    token, info = create_token(engine, "00T", now=NOW)
    caller = authenticate(engine, token, now=NOW)
    assert caller is not None
    assert (caller.sub_icb_code, caller.prefix) == ("00T", info.prefix)
    assert authenticate(engine, f"  {token}\n", now=NOW) is not None  # pasted with spaces


def test_wrong_missing_and_malformed_tokens_are_refused(surgehub_home: Path) -> None:
    _settings, engine = settings_for(surgehub_home)
    token, info = create_token(engine, "00T", now=NOW)
    wrong_secret = f"sh_{info.prefix}_" + ("A" * 43)
    assert authenticate(engine, wrong_secret, now=NOW) is None
    assert authenticate(engine, None, now=NOW) is None
    assert authenticate(engine, "", now=NOW) is None
    assert authenticate(engine, "sh_00000000_" + token.split("_", 2)[2], now=NOW) is None  # another prefix
    assert authenticate(engine, token[:-1], now=NOW) is None
    assert authenticate(engine, hash_token(token), now=NOW) is None  # the stored hash is not a token


def test_revoked_token_is_refused_at_once(surgehub_home: Path) -> None:
    _settings, engine = settings_for(surgehub_home)
    token, info = create_token(engine, "01G", now=NOW)
    assert revoke_token(engine, info.prefix, now=NOW)
    assert authenticate(engine, token, now=NOW) is None
    assert revoke_token(engine, info.prefix, now=NOW)  # revoking twice is fine
    assert not revoke_token(engine, "deadbeef", now=NOW)
    assert [t.state(NOW) for t in list_tokens(engine)] == ["revoked"]


def test_expired_token_is_refused(surgehub_home: Path) -> None:
    _settings, engine = settings_for(surgehub_home)
    soon, _ = create_token(engine, "01G", now=NOW, expires_at=NOW + timedelta(minutes=5))
    past, _ = create_token(engine, "01G", now=NOW, expires_at=NOW - timedelta(seconds=1))
    assert authenticate(engine, soon, now=NOW) is not None
    assert authenticate(engine, past, now=NOW) is None
    states = sorted(t.state(NOW) for t in list_tokens(engine, "01G"))
    assert states == ["active", "expired"]


def test_token_commands_create_list_revoke(surgehub_home: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "--locality", "14l", "--expires-in-days", "30"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("sh_")
    assert "\n" not in token
    assert "shown only now" in created.stderr

    listed = runner.invoke(cli, ["token", "list", "--json"])
    assert listed.exit_code == 0
    [entry] = json.loads(listed.stdout)
    assert entry["sub_icb_code"] == "14L"
    assert entry["state"] == "active"
    assert entry["expires_at"].startswith("2026-12-25")
    assert token not in listed.stdout

    assert runner.invoke(cli, ["token", "revoke", entry["prefix"]]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["token", "list", "--json"]).stdout)[0]["state"] == "revoked"
    missing = runner.invoke(cli, ["token", "revoke", "deadbeef"])
    assert missing.exit_code == 2
    assert "no token" in missing.stderr


def test_token_create_refuses_unknown_locality_and_past_expiry(surgehub_home: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["token", "create", "--locality", "XXX"])
    assert unknown.exit_code == 2
    assert "unknown locality" in unknown.stderr
    past = runner.invoke(cli, ["token", "create", "--locality", "14L", "--expires", "2026-11-01T00:00"])
    assert past.exit_code == 2
    assert "in the past" in past.stderr
