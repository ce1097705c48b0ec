"""The register, the commissioned plan and the audit trail in the warehouse (SQLite here; the same
cases run on PostgreSQL in tests/integration/warehouse/test_register_postgres.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from surgehub.register import WEEKDAYS, DayKind, Hub, Offer
from surgehub.warehouse import audit, db
from surgehub.warehouse.register import (
    PlanInput,
    RegisterError,
    add_hub,
    close_hub,
    read_register,
    rename_hub,
    set_plan,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

T1 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return db.upgrade(f"sqlite:///{tmp_path / 'w.sqlite'}")


def test_an_empty_warehouse_is_seeded_with_the_shipped_register_recorded_before_any_return(engine) -> None:
    register = read_register(engine)
    view = register.as_of(datetime(2026, 11, 1, tzinfo=UTC))
    assert len(view.hubs) == 16
    assert [h.hub_code for h in view.active_hubs("01Y", date(2026, 11, 14))] == ["01Y-H1"]
    assert len(register.plan_facts) == 16
    assert view.commissioned("00V-H1", date(2026, 11, 23), lambda d: False) == Offer(8, 150)
    assert all(f.recorded_by == "seed" for f in register.hub_facts)


def test_close_and_rename_are_new_facts_and_the_old_ones_stay_readable_as_of_before(engine) -> None:
    close_hub(engine, "01D-H2", date(2026, 12, 31), actor="ops", at=T1, note="funding ends early")
    rename_hub(engine, "01D-H2", "Heywood Surge Hub", actor="ops", at=T2)
    register = read_register(engine)
    before, after = register.as_of(T1.replace(hour=9)), register.as_of(T2)
    assert before.hub("01D-H2") == Hub(
        "01D-H2", "01D", "Heywood and Middleton Surge Hub", date(2026, 11, 1), date(2027, 1, 31)
    )
    assert after.hub("01D-H2") == Hub(
        "01D-H2", "01D", "Heywood Surge Hub", date(2026, 11, 1), date(2026, 12, 31)
    )
    assert not after.active_on("01D-H2", date(2027, 1, 5))
    assert [e.action for e in audit.events(engine)] == ["hub.close", "hub.rename"]
    assert audit.events(engine)[0].detail["was"]["active_to"] == "2027-01-31"


@pytest.mark.parametrize(
    ("hub", "message"),
    [
        (Hub("01W-H1", "01W", "Again", date(2026, 11, 1), date(2027, 3, 31)), "already in the register"),
        (Hub("99X-H1", "99X", "Nowhere", date(2026, 11, 1), date(2027, 3, 31)), "unknown locality 99X"),
        (Hub("01W H 2", "01W", "Spaces", date(2026, 11, 1), date(2027, 3, 31)), "not of the form 01W-H1"),
        (Hub("00T-H9", "01W", "Elsewhere", date(2026, 11, 1), date(2027, 3, 31)), "not of the form 01W-H1"),
        (
            Hub("01W-H2", "01W", "Backwards", date(2026, 12, 1), date(2026, 11, 1)),
            "close (2026-11-01) before it opens",
        ),
    ],
)
def test_a_bad_hub_is_refused_with_a_reason_and_nothing_is_recorded(engine, hub: Hub, message: str) -> None:
    with pytest.raises(RegisterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_hub(engine, hub, actor="ops", at=T1)
    assert len(read_register(engine).hub_facts) == 16
    assert audit.events(engine) == []


def test_a_change_recorded_before_the_latest_one_is_refused(engine) -> None:
    rename_hub(engine, "01W-H1", "Stockport Central", actor="ops", at=T2)
    with pytest.raises(RegisterError, match="after now"):
        rename_hub(engine, "01W-H1", "Stockport", actor="ops", at=T1)


def test_a_plan_over_a_whole_earlier_plan_supersedes_it_and_a_partial_one_overrides_its_days(engine) -> None:
    weekly = dict.fromkeys(WEEKDAYS, Offer(3, 40))
    set_plan(
        engine,
        PlanInput(hub_code="00v-h1", valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 7), offers=weekly),
        actor="ops",
        at=T1,
    )
    register = read_register(engine)
    view = register.as_of(T2)
    assert view.commissioned("00V-H1", date(2026, 12, 2), lambda d: False) == Offer(3, 40)
    assert view.commissioned("00V-H1", date(2026, 12, 8), lambda d: False) == Offer(8, 150)
    assert (
        sum(1 for p in register.plan_facts if p.superseded_at is not None) == 0
    )  # seeded plan partly covered
    whole = dict.fromkeys(WEEKDAYS, Offer(6, 100))
    set_plan(
        engine,
        PlanInput(hub_code="00V-H1", valid_from=date(2026, 11, 1), valid_to=date(2027, 3, 31), offers=whole),
        actor="ops",
        at=T2,
    )
    superseded = [p for p in read_register(engine).plan_facts if p.superseded_at is not None]
    assert {p.hub_code for p in superseded} == {"00V-H1"}
    assert len(superseded) == 2
    assert [e.action for e in audit.events(engine)] == ["plan.set", "plan.set"]


def test_a_plan_needs_every_weekday_and_counts(engine) -> None:
    with pytest.raises(RegisterError, match="missing sun"):
        set_plan(
            engine,
            PlanInput(
                hub_code="00V-H1",
                valid_from=date(2026, 12, 1),
                valid_to=date(2026, 12, 7),
                offers={k: Offer(1, 1) for k in WEEKDAYS[:6]},
            ),
            actor="ops",
            at=T1,
        )
    with pytest.raises(RegisterError, match="0 or more"):
        set_plan(
            engine,
            PlanInput(
                hub_code="00V-H1",
                valid_from=date(2026, 12, 1),
                valid_to=date(2026, 12, 7),
                offers={**dict.fromkeys(WEEKDAYS, Offer(1, 1)), DayKind.BANK_HOLIDAY: Offer(-1, 0)},
            ),
            actor="ops",
            at=T1,
        )
    with pytest.raises(RegisterError, match="not in the register"):
        set_plan(
            engine,
            PlanInput(
                hub_code="00V-H7",
                valid_from=date(2026, 12, 1),
                valid_to=date(2026, 12, 7),
                offers=dict.fromkeys(WEEKDAYS, Offer(1, 1)),
            ),
            actor="ops",
            at=T1,
        )


def test_the_audit_trail_is_append_only(engine) -> None:
    with engine.begin() as connection:
        audit.record(
            connection, occurred_at=T1, actor="ops", action="test.event", subject="x", detail={"a": 1}
        )
    for statement in ("update audit_event set actor = 'someone else'", "delete from audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    [event] = audit.events(engine)
    assert (event.actor, event.detail) == ("ops", {"a": 1})
