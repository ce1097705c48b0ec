"""The board digest built from the fixed timeline: the six sections of spec §6, reproducible as of its cut-off."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from surgehub.digest.build import build_digest
from surgehub.digest.mails import digest_mails, recipients_for
from surgehub.digest.model import SOURCES, Digest, DigestKind, RenderedDigest
from surgehub.digest.render import render_digest
from surgehub.mail.compose import build_message
from surgehub.rag import compute_rag
from surgehub.warehouse.db import get_engine
from tests.support.digest_timeline import timeline_settings, with_raw
from tests.support.timeline import BOARD_AT, DAILY_AT, london

if TYPE_CHECKING:
    from sqlalchemy import Engine


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    return timeline_settings(tmp_path_factory.getbasetemp() / "digest-timeline")


@pytest.fixture(scope="module")
def engine(settings) -> Engine:
    return get_engine(settings.warehouse_url)


@pytest.fixture(scope="module")
def board(engine, settings) -> Digest:
    return build_digest(engine, DigestKind.BOARD, BOARD_AT, settings)


@pytest.fixture(scope="module")
def rendered(board) -> RenderedDigest:
    return render_digest(board)


def line(digest: Digest, code: str):
    return next(loc for loc in digest.localities if loc.sub_icb_code == code)


def test_board_digest_covers_the_days_closed_since_monday_and_lists_wednesday_pending(board) -> None:
    assert board.period_key == "board:2026-11-26T07:30"
    assert board.days == tuple(date(2026, 11, d) for d in (20, 21, 22, 23, 24))
    assert board.period.pending_days == (date(2026, 11, 25),)


def test_returns_are_counted_on_time_late_and_missing_per_day(board) -> None:
    by_day = {r.day.day: (r.on_time, r.late, r.no_return) for r in board.returns}
    assert by_day[20] == (10, 0, 0)
    assert by_day[23] == (9, 0, 1)  # Oldham sent nothing
    assert by_day[24] == (8, 1, 1)  # Salford late, Oldham nothing


def test_grid_has_every_locality_in_order_with_a_cell_per_day(board) -> None:
    assert [loc.name for loc in board.localities][:3] == ["Bolton", "Bury", "Heywood, Middleton and Rochdale"]
    assert len(board.localities) == 10
    assert all(len(loc.cells) == 5 for loc in board.localities)


def test_grid_cells_carry_status_level_and_escalation(board) -> None:
    bolton = line(board, "00T").cells[-1]
    assert (bolton.status, bolton.level, bolton.short) == ("RED", 3, "Red 3")
    bury = line(board, "00V").cells[3]
    assert (bury.day, bury.status, bury.level) == (date(2026, 11, 23), "RED", 4)
    assert bury.style_key == "RED4"
    oldham = line(board, "00Y").cells
    assert (oldham[3].status, oldham[3].escalated) == ("NO_RETURN", False)
    assert (oldham[4].status, oldham[4].escalated) == ("NO_RETURN", True)
    assert oldham[4].short == "No return, escalated"
    assert {c.status for c in line(board, "14L").cells} == {"AMBER"}


def test_change_is_against_what_the_previous_digest_showed(board) -> None:
    assert line(board, "00T").change.direction == "worse"
    assert line(board, "00T").change.previous.day == date(2026, 11, 19)
    assert line(board, "00Y").change.direction == "worse"
    assert line(board, "14L").change.direction == "same"
    # Trafford had sent no return for Thu 19 by Monday's digest, so it reads "better" now.
    trafford = line(board, "02A").change
    assert (trafford.direction, trafford.previous.status) == ("better", "NO_RETURN")
    assert [loc.name for loc in board.worse] == ["Bolton", "Oldham", "Wigan Borough"]


def test_activity_totals_add_up_to_the_rag_sums(board, engine, settings) -> None:
    expected = {"appts_offered": 0, "appts_booked": 0, "appts_dna": 0, "sessions_planned": 0}
    for day in board.days:
        for loc in compute_rag(engine, day, BOARD_AT, settings).localities:
            for name in expected:
                expected[name] += loc.figures["sums"][name]
    assert {name: board.gm_period[name] for name in expected} == expected
    assert sum(loc.period["appts_booked"] for loc in board.localities) == board.gm_period["appts_booked"]
    # Season to date also holds Thu 19 (the only earlier day with returns), so it is larger.
    assert board.gm_season["appts_offered"] > board.gm_period["appts_offered"]


def test_source_shares_of_booked_add_up_to_one(board) -> None:
    total = sum(board.gm_period.source_share(column) for column, _ in SOURCES)
    assert total == 1


def test_exceptions_are_red_and_no_return_locality_days_with_their_comments(board) -> None:
    found = [(e.sub_icb_code, e.cell.day.day, e.cell.status) for e in board.exceptions]
    assert found == [
        ("00T", 24, "RED"),
        ("00V", 23, "RED"),
        ("00Y", 23, "NO_RETURN"),
        ("00Y", 24, "NO_RETURN"),
        ("02H", 24, "RED"),
    ]
    bury = next(e for e in board.exceptions if e.sub_icb_code == "00V")
    assert [c.text for c in bury.comments] == ["Closed at short notice: building heating failure"]
    wigan = next(e for e in board.exceptions if e.sub_icb_code == "02H")
    assert all(c.text.startswith('<script>alert("x")</script>') for c in wigan.comments)


def test_warnings_are_grouped_by_locality_rule_and_comment(board) -> None:
    manchester = [w for w in board.warnings if w.sub_icb_code == "14L"]
    assert manchester
    assert all("W01" in w.rules for w in manchester)
    assert sum(len(w.hub_days) for w in manchester) >= 5
    bolton = next(w for w in board.warnings if w.sub_icb_code == "00T")
    assert set(bolton.rules) >= {"W02", "W03", "W04"}
    assert bolton.days == [date(2026, 11, 24)]


def test_revisions_mark_figures_changed_and_no_returns_filled_since_the_last_digest(board) -> None:
    revisions = {(r.sub_icb_code, r.hub_code, r.day): r for r in board.revisions}
    assert set(revisions) == {("01W", "01W-H1", date(2026, 11, 19)), ("02A", "02A-H1", date(2026, 11, 19))}
    stockport = revisions[("01W", "01W-H1", date(2026, 11, 19))]
    assert (stockport.old_version, stockport.new_version, stockport.filled) == (1, 2, False)
    assert any(change.startswith("offered ") for change in stockport.changes)
    assert (stockport.was.status, stockport.now.status) == ("GREEN", "AMBER")
    trafford = revisions[("02A", "02A-H1", date(2026, 11, 19))]
    assert trafford.filled
    assert trafford.was.status == "NO_RETURN"
    assert trafford.now.status == "GREEN"


def test_a_digest_is_reproducible_whatever_arrives_after_its_cut_off(
    engine, settings, board, rendered
) -> None:
    later = build_digest(engine, DigestKind.BOARD, london(2026, 11, 26, 12, 0), settings)
    assert later.period_key == board.period_key
    again = render_digest(later)
    assert again.html == rendered.html
    assert again.text == rendered.text
    assert again.csv == rendered.csv


def test_monday_digest_shows_thursday_as_it_stood_then(engine, settings) -> None:
    monday = build_digest(engine, DigestKind.BOARD, london(2026, 11, 23, 7, 30), settings)
    assert monday.days == (date(2026, 11, 18), date(2026, 11, 19))
    trafford = line(monday, "02A").cells[-1]
    assert trafford.status == "NO_RETURN"  # its return came on Tue 24, after this cut-off
    assert monday.revisions == ()


def test_daily_summary_goes_to_operations_and_covers_the_day_that_just_closed(engine, settings) -> None:
    daily = build_digest(engine, DigestKind.DAILY, DAILY_AT, settings)
    assert daily.period_key == "daily:2026-11-25T13:45"
    assert daily.days == (date(2026, 11, 24),)
    assert daily.title == "Daily operations summary"
    oldham = line(daily, "00Y").change
    assert (oldham.direction, oldham.previous.short) == ("worse", "No return")  # now escalated
    mails = digest_mails(render_digest(daily), settings)
    assert (
        [m.recipient for m in mails]
        == recipients_for(DigestKind.DAILY, settings)
        == list(settings.email.operations)
    )
    assert mails[0].kind == "daily"
    assert "daily operations summary" in mails[0].subject


def test_one_mail_per_board_member_with_subject_from_configuration_and_a_message_id_each(
    board, rendered, settings
) -> None:
    two = with_raw(
        settings,
        email={
            "board": ["chair@example.nhs.uk", "Member@example.nhs.uk"],
            "subjects": {"board": "Board {period}"},
        },
    )
    mails = digest_mails(rendered, two)
    assert [m.recipient for m in mails] == ["chair@example.nhs.uk", "Member@example.nhs.uk"]
    assert {m.subject for m in mails} == {f"Board {board.period.label}"}
    assert {m.key for m in mails} == {("board", "board:2026-11-26T07:30", m.recipient) for m in mails}
    messages = [build_message(m, date=BOARD_AT) for m in [*mails, mails[0]]]
    ids = [str(m["Message-ID"]) for m in messages]
    assert len(set(ids)) == 3, "a Message-ID is made afresh for each message (the email log keeps it)"
    message = messages[0]
    assert isinstance(message, EmailMessage)
    assert [a.get_filename() for a in message.iter_attachments()] == [board.csv_filename]


def test_csv_attachment_has_a_row_per_locality_day_and_gm_with_hostile_text_neutralised(rendered) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(rendered.csv.decode("utf-8-sig"), newline="")))
    assert len([r for r in rows if r["row_type"] == "day"]) == 5 * 11
    assert len([r for r in rows if r["row_type"].startswith("plan_")]) == 3 * 11  # issue 19: plan rows
    wigan = next(r for r in rows if r["sub_icb_code"] == "02H" and r["activity_date"] == "2026-11-24")
    assert wigan["status"] == "RED"
    assert wigan["level"] == "3"
    assert wigan["comments"].startswith("02H-H1: <script>")
    assert '=HYPERLINK("http://evil.example/","click")' in wigan["comments"]
    assert all(not r[k].startswith(("=", "+", "-", "@")) for r in rows for k in r)
    assert {r["sub_icb_code"] for r in rows if r["locality_name"] == "Greater Manchester"} == {"GM"}


def test_first_digest_of_the_season_judges_nothing_and_says_so(engine, settings) -> None:
    first = build_digest(engine, DigestKind.BOARD, london(2026, 11, 2, 7, 30), settings)
    assert first.days == ()
    assert first.period.pending_days == (date(2026, 11, 1),)
    assert all(loc.cells == () and loc.change.direction == "new" for loc in first.localities)
    shown = render_digest(first)
    assert "No activity day closed in this period" in shown.text
    assert "No day to judge in this period." in shown.text
    assert "No day to judge in this period." in shown.html
    assert [image.cid for image in shown.images] == ["utilisation-trend", "plan-delivery"]
