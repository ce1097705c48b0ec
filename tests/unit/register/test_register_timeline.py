"""The register as data, on a fixed timeline (issue 19, "What it must show").

On Fri 27 Nov 2026 a second Stockport hub, 01W-H2, is recorded, backdated to start on Mon 23 Nov. It
sends a return for Mon 23 on Sat 28 Nov, and nothing for Tue 24. Then:

- the Thu 26 Nov digest, rebuilt as of its cut-off, is byte-for-byte the same CSV as before the change;
- the Mon 30 Nov digest shows what changed for 23 and 24 Nov as revisions caused by a register change,
  named as such;
- ``explain`` for Stockport on 24 Nov differs as of 26 and 30 Nov, and says why;
- Stockport is never "no return", late or escalated for a day before anyone knew the hub existed;
- R06 judges each return against the register as it stood at its receipt;
- ``verify-digest`` passes for the Thu 26 digest as archived, and fails once the archived copy is
  tampered with in the email log.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from surgehub import sample
from surgehub.digest.build import build_digest
from surgehub.digest.csv_export import digest_csv
from surgehub.digest.mails import digest_mails
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.digest.verify import verify_digest
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.lineage import explain
from surgehub.mail.compose import build_message
from surgehub.rag import compute_rag
from surgehub.register import WEEKDAYS, Hub, Offer
from surgehub.resources import Resources
from surgehub.warehouse import audit, email_log
from surgehub.warehouse.db import get_engine
from surgehub.warehouse.register import PlanInput, add_hub, read_register, set_plan
from surgehub.warehouse.tables import email_message
from tests.support.digest_timeline import timeline_settings
from tests.support.timeline import BOARD_AT, london

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.config import Settings

RECORDED_AT = london(2026, 11, 27, 10, 0)
MONDAY_BOARD_AT = london(2026, 11, 30, 7, 30)
NEW_HUB = Hub("01W-H2", "01W", "Stockport East Surge Hub", date(2026, 11, 23), date(2027, 3, 31))


def ingest(settings: Settings, folder: Path, name: str, rows: list[dict[str, str]], received_at) -> str:
    path = folder / name
    path.write_bytes(sample.to_csv(rows))
    item = IncomingReturn(path=path, locality="01W", channel=Channel.CLI, received_at=received_at)
    [outcome] = ingest_returns([item], Resources.of(settings, engine=get_engine(settings.warehouse_url)))
    assert outcome.error is None
    return (
        str(outcome.validation.status)
        + " "
        + "; ".join(f"{e.rule} {e.message}" for e in outcome.validation.errors)
    )


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory):
    """(settings, engine, Thu 26 CSV before the change, R06 answers before/after the change)."""
    root = tmp_path_factory.mktemp("register-timeline")
    settings = timeline_settings(root)
    engine = get_engine(settings.warehouse_url)
    thursday = render_digest(build_digest(engine, DigestKind.BOARD, BOARD_AT, settings))
    # The Thursday digest as sent: its messages kept in the archive with their email-log rows.
    for mail in digest_mails(thursday, settings.overridden({"email": {"board": ["board@example.nhs.uk"]}})):
        message = build_message(mail, date=BOARD_AT)
        email_log.record_attempt(
            engine,
            kind=mail.kind,
            period_key=mail.period_key,
            recipient=mail.recipient,
            message_id=str(message["Message-ID"]),
            subject=mail.subject,
            status="sent",
            error=None,
            now=BOARD_AT,
            mime=message.as_bytes(),
        )
    rng = random.Random(27)
    folder = root / "later"
    folder.mkdir()
    monday_row = sample.hub_day_row("01W-H2", date(2026, 11, 23), rng, hub=NEW_HUB)
    before = ingest(settings, folder, "early.csv", [monday_row], london(2026, 11, 26, 9, 0))
    add_hub(
        engine, NEW_HUB, actor="data.team@example.nhs.uk", at=RECORDED_AT, note="opened early, recorded late"
    )
    set_plan(
        engine,
        PlanInput(
            hub_code="01W-H2",
            valid_from=date(2026, 11, 23),
            valid_to=date(2027, 3, 31),
            offers=dict.fromkeys(WEEKDAYS, Offer(5, 90)),
        ),
        actor="data.team@example.nhs.uk",
        at=RECORDED_AT,
    )
    after = ingest(settings, folder, "late.csv", [monday_row], london(2026, 11, 28, 9, 0))
    return settings, engine, thursday.csv, before, after


def test_r06_judges_a_return_against_the_register_as_it_stood_at_its_receipt(timeline) -> None:
    _, _, _, before, after = timeline
    assert before.startswith('rejected R06 hub_code "01W-H2" is not in the hub register')
    assert after == "accepted "


def test_the_thursday_digest_rebuilt_as_of_its_cutoff_is_byte_for_byte_the_same_csv(timeline) -> None:
    settings, engine, thursday_csv, _, _ = timeline
    rebuilt = digest_csv(build_digest(engine, DigestKind.BOARD, BOARD_AT, settings))
    assert rebuilt == thursday_csv
    assert b"01W-H2" not in rebuilt


def test_the_monday_digest_names_the_register_change_as_the_cause_of_revisions(timeline) -> None:
    settings, engine, _, _, _ = timeline
    monday = build_digest(engine, DigestKind.BOARD, MONDAY_BOARD_AT, settings)
    by_register = [r for r in monday.revisions if r.register_change and r.hub_code == "01W-H2"]
    assert [r.day for r in by_register] == [date(2026, 11, 23), date(2026, 11, 24)]
    assert all(
        "register change: Stockport East Surge Hub (01W-H2) added to this day" in r.changes[0]
        for r in by_register
    )
    assert all("recorded Fri 27 Nov 10:00" in r.changes[0] for r in by_register)
    returned = [r for r in monday.revisions if not r.register_change and r.hub_code == "01W-H2"]
    assert [(r.day, r.old_version, r.new_version) for r in returned] == [(date(2026, 11, 23), None, 1)]
    shown = render_digest(monday)
    assert "REGISTER CHANGE" in shown.text
    assert "REGISTER CHANGE" in shown.html
    assert "added to this day by a change recorded Fri 27 Nov 10:00" in shown.text


def test_a_backdated_hub_day_is_not_owed_so_never_no_return_late_or_escalated(timeline) -> None:
    settings, engine, _, _, _ = timeline
    for day in (date(2026, 11, 24), date(2026, 11, 25)):
        stockport = compute_rag(engine, day, MONDAY_BOARD_AT, settings).locality("01W")
        hub = next(h for h in stockport.hubs if h.hub_code == "01W-H2")
        assert not hub.owed
        assert not any(
            "01W-H2 sent no return" in r or "01W-H2 return was late" in r for r in stockport.reasons
        )
        assert any(
            "01W-H2 was added to the register on Fri 27 Nov, after this day's deadline" in r
            for r in stockport.reasons
        )
    tuesday = compute_rag(engine, date(2026, 11, 24), MONDAY_BOARD_AT, settings).locality("01W")
    assert tuesday.status != "NO_RETURN"  # 01W-H1 sent Tue 24 on time; 01W-H2 owed nothing
    assert not tuesday.escalated
    wednesday = compute_rag(engine, date(2026, 11, 25), MONDAY_BOARD_AT, settings).locality("01W")
    assert wednesday.reasons[0] == "hub 01W-H1 sent no return"  # the hub that was owed, only
    monday = compute_rag(engine, date(2026, 11, 23), MONDAY_BOARD_AT, settings).locality("01W")
    hub = next(h for h in monday.hubs if h.hub_code == "01W-H2")
    assert hub.row is not None
    assert hub.timeliness == "ON_TIME"  # sent on Sat 28 for Mon 23: counted, never late
    assert monday.assurance != "LATE" or any(
        h.timeliness == "LATE" for h in monday.hubs if h.hub_code != "01W-H2"
    )


def test_a_hub_day_after_the_recording_is_owed_as_usual(timeline) -> None:
    settings, engine, _, _, _ = timeline
    friday = compute_rag(engine, date(2026, 11, 27), MONDAY_BOARD_AT, settings).locality("01W")
    hub = next(h for h in friday.hubs if h.hub_code == "01W-H2")
    assert hub.owed  # recorded before Fri 27's deadline (Mon 30 11:00)


def test_explain_for_stockport_on_the_24th_differs_as_of_26_and_30_november_and_says_why(timeline) -> None:
    settings, engine, _, _, _ = timeline
    day = date(2026, 11, 24)
    then = explain(engine, settings, "01W", day, BOARD_AT)
    now = explain(engine, settings, "01W", day, MONDAY_BOARD_AT)
    assert [h.hub_code for h in then.hubs] == ["01W-H1"]
    assert [h.hub_code for h in now.hubs] == ["01W-H1", "01W-H2"]
    new = now.hubs[1]
    assert not new.owed
    assert new.register["change"] == "add"
    assert new.register["recorded_by"] == "data.team@example.nhs.uk"
    assert new.plan is not None
    assert new.plan["sessions"] == 5
    text = now.to_text()
    assert "NOT OWED" in text
    assert "after the deadline (Wed 25 Nov 2026 11:00): no return owed" in text
    current = now.hubs[0].current
    assert current is not None
    assert len(current["sha256"]) == 64
    assert current["archive_path"]
    assert current["file_name"].endswith(".csv")
    json_then, json_now = then.to_json_dict(), now.to_json_dict()
    assert json_then != json_now
    assert {p["name"] for p in json_now["parameters"]} == {
        "capacity_delivered",
        "utilisation",
        "onward_ed",
        "dna_rate",
    }
    assert all("weight" in p and "band" in p for p in json_now["parameters"])
    assert json_now["decided_by"].startswith("§5")
    html = now.to_html()
    assert "<script" not in html
    assert "Stockport" in html


def test_explain_shows_the_versions_a_revision_displaced(timeline) -> None:
    settings, engine, _, _, _ = timeline
    revised = explain(engine, settings, "01W", date(2026, 11, 19), MONDAY_BOARD_AT)  # revised on Tue 24
    [hub] = revised.hubs
    assert hub.current is not None
    assert hub.current["version"] == 2
    assert [v["version"] for v in hub.displaced] == [1]


def test_register_changes_are_audited(timeline) -> None:
    _, engine, _, _, _ = timeline
    found = audit.events(engine, action_prefix="hub.")
    assert [(e.action, e.subject, e.actor) for e in found] == [
        ("hub.add", "hub:01W-H2", "data.team@example.nhs.uk")
    ]
    assert found[0].detail["active_from"] == "2026-11-23"
    assert [e.action for e in audit.events(engine, action_prefix="plan.")] == ["plan.set"]


def test_the_register_read_now_holds_both_versions_of_history(timeline) -> None:
    _, engine, _, _, _ = timeline
    register = read_register(engine)
    assert register.as_of(BOARD_AT).hub("01W-H2") is None
    assert register.as_of(MONDAY_BOARD_AT).hub("01W-H2") == NEW_HUB


def test_verify_digest_passes_as_sent_and_fails_once_the_archived_copy_is_tampered_with(timeline) -> None:
    settings, engine, _, _, _ = timeline
    key = "board:2026-11-26T07:30"
    assert verify_digest(engine, settings, key).matches
    [message] = email_log.archived_messages(engine, key)
    tampered = message.mime.replace(b"Content-Type: text/csv", b"Content-Type: text/csv", 1)
    # change one figure in the base64 CSV: re-encode the attachment with Bolton's status altered
    import email as email_lib
    import email.policy

    parsed = email_lib.message_from_bytes(tampered, policy=email.policy.default)
    for part in parsed.walk():
        if part.get_content_type() == "text/csv":
            csv_bytes = part.get_payload(decode=True).replace(b",RED,3,", b",GREEN,1,", 1)
            part.set_content(csv_bytes, maintype="text", subtype="csv", filename=part.get_filename())
    with engine.begin() as connection:
        connection.execute(
            update(email_message)
            .where(email_message.c.email_id == message.email_id)
            .values(mime=parsed.as_bytes())
        )
    found = verify_digest(engine, settings, key)
    assert not found.matches
    assert found.mismatched == ["board@example.nhs.uk"]
    assert any(line.startswith("-") and ",GREEN,1," in line for line in found.diff)
    assert any(line.startswith("+") and ",RED,3," in line for line in found.diff)
