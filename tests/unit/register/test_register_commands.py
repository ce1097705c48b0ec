"""`surgehub hubs`, `plan`, `audit` and `explain` as a person or a script uses them (issue 19)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from click.testing import CliRunner

from surgehub.cli import cli

if TYPE_CHECKING:
    from pathlib import Path


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_hub_added_renamed_and_closed_is_listed_as_of_each_time_and_audited(surgehub_home: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    added = run("hubs", "add", "01w-h2", "--locality", "01w", "--name", "Stockport East Surge Hub",
                "--from", "2026-11-23", "--to", "2027-03-31", "--note", "opened early", "--by", "ops@example.nhs.uk")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added 01W-H2 (Stockport East Surge Hub), active 2026-11-23 to 2027-03-31" in added.output
    listed = json.loads(run("hubs", "list", "--json").output)
    new = next(h for h in listed["hubs"] if h["hub_code"] == "01W-H2")
    assert (new["change"], new["recorded_by"]) == ("add", "ops@example.nhs.uk")
    before = json.loads(run("hubs", "list", "--json", "--as-of", "2026-11-25T08:00").output)
    assert "01W-H2" not in {h["hub_code"] for h in before["hubs"]}  # recorded at 09:00 (SURGEHUB_NOW)
    plan = run("plan", "set", "01W-H2", "--from", "2026-11-23", "--to", "2027-03-31",
               "--sessions", "mon=5,tue=5,wed=5,thu=5,fri=5,sat=3,sun=2,bh=0", "--appointments", "90")  # fmt: skip
    assert plan.exit_code == 2
    assert "must name the same days" in plan.output
    plan = run(
        "plan",
        "set",
        "01W-H2",
        "--from",
        "2026-11-23",
        "--to",
        "2027-03-31",
        "--sessions",
        "5",
        "--appointments",
        "90",
    )
    assert plan.exit_code == 0, plan.output
    plans = json.loads(run("plan", "list", "--json").output)["plans"]
    mine = next(p for p in plans if p["hub_code"] == "01W-H2")
    assert mine["sessions"]["sun"] == 5
    assert mine["sessions"]["bank_holiday"] == 5  # Sunday's
    events = [json.loads(line) for line in run("audit", "--json").output.splitlines()]
    events = [e for e in events if not e["action"].startswith("account.")]  # the seeded accounts
    assert [(e["action"], e["subject"]) for e in events] == [
        ("hub.add", "hub:01W-H2"),
        ("plan.set", "hub:01W-H2"),
    ]
    assert events[0]["detail"]["note"] == "opened early"


def test_bad_changes_exit_2_naming_what_is_wrong_and_change_nothing(surgehub_home: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    cases = [
        (("hubs", "add", "01W-H1", "--locality", "01W", "--name", "x", "--from", "2026-11-01", "--to", "2027-03-31"), "already in the register"),
        (("hubs", "add", "01W-H2", "--locality", "99Z", "--name", "x", "--from", "2026-11-01", "--to", "2027-03-31"), "unknown locality '99Z'"),
        (("hubs", "add", "01W-H2", "--locality", "01W", "--name", "x", "--from", "1 Dec", "--to", "2027-03-31"), "--from '1 Dec' is not a date"),
        (("hubs", "rename", "01W-H9", "New"), "hub 01W-H9 is not in the register"),
        (("hubs", "close", "01W-H1", "--last-day", "2026-10-01"), "before it opens"),
        (("hubs", "add", "01W-H2", "--locality", "01W", "--name", "x", "--from", "2026-10-01", "--to", "2027-03-31"), "2026-10-01 is outside the surge season (2026-11-01 to 2027-03-31)"),
        (("hubs", "close", "01W-H1", "--last-day", "2027-05-01"), "2027-05-01 is outside the surge season"),
        (("plan", "set", "01W-H1", "--from", "2026-12-01", "--to", "2026-12-07", "--sessions", "mon=x", "--appointments", "1"), "is not DAY=COUNT"),
    ]  # fmt: skip
    for args, words in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
    assert run("audit", "--action", "hub.").output.strip() == "no audit events"
    assert run("audit", "--action", "plan.").output.strip() == "no audit events"


def test_explain_prints_words_or_json_and_takes_a_digest_key(surgehub_home: Path) -> None:
    assert run("db", "upgrade").exit_code == 0
    words = run("explain", "--locality", "01w", "--date", "2026-11-24", "--digest", "board:2026-11-26T07:30")
    assert words.exit_code == 0, words.output
    assert "Stockport (01W), Tue 24 Nov 2026, as the digest board:2026-11-26T07:30 showed it" in words.output
    assert "Decided by: §5: a hub sent no return by the close: No return" in words.output
    as_json = json.loads(run("explain", "--locality", "01W", "--date", "2026-11-24", "--json").output)
    assert as_json["hubs"][0]["current_version"] is None
    assert as_json["hubs"][0]["register"]["change"] == "seed"
    assert as_json["hubs"][0]["commissioned_plan"]["sessions"] == 8
    both = run(
        "explain",
        "--locality",
        "01W",
        "--date",
        "2026-11-24",
        "--as-of",
        "2026-11-26T07:30",
        "--digest",
        "board:2026-11-26T07:30",
    )
    assert both.exit_code == 2
    bad = run("explain", "--locality", "01W", "--date", "2026-11-24", "--digest", "weekly:soon")
    assert bad.exit_code == 2
    assert "is not a digest key" in bad.output
