"""The hostile-file corpus (tests/hostile/corpus.py) through the one validation path, under the parse guard.

Each case must end as its expected rule (a clean rejection: nothing loaded) or accepted, never a crash,
and nothing from inside a hostile file (an entity's target, a secret) is repeated in any finding.
Then the guard itself: a child that runs out of memory, takes too long, or dies, answers F01, and the
next file is read by a fresh child.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime

import pytest

from surgehub import sample
from surgehub.config import load_settings
from surgehub.returns import guard
from surgehub.returns.read import read_guarded, read_return
from surgehub.returns.validate import validate_return
from tests.hostile.corpus import CASES, Case, valid_csv, valid_rows

RECEIVED = datetime.fromisoformat("2026-11-25T09:00:00+00:00")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_file_gets_its_clean_answer(case: Case) -> None:
    data = case.build()
    result = validate_return(data, locality="14L", received_at=RECEIVED, settings=load_settings())
    rules = [f.rule for f in result.errors]
    if case.rule is None:
        assert result.accepted, rules
    else:
        assert not result.accepted
        assert case.rule in rules, (case.why, rules)
        assert len(result.errors) <= 60  # summarised, never one finding a column
    text = " ".join(f.message + str(f.column) for f in [*result.errors, *result.warnings])
    for secret in ("root:x:0:0", "lollollol", "AAAAAAAAAA"):
        assert secret not in text


def test_the_bounds_refuse_before_the_parse_allocates() -> None:
    """The 5,000 XFD rows are judged from the sheet's XML stream: no row is padded to 16,384 cells."""
    [case] = [c for c in CASES if c.name == "xfd-5000-rows.xlsx"]
    raw = read_return(case.build())
    assert [e.rule for e in raw.errors] == ["F03"]
    assert "column XFD" in raw.errors[0].message


def test_a_child_out_of_memory_answers_f01_and_the_next_file_is_read() -> None:
    tight = guard.ParseGuard(headroom=4 * 1024 * 1024)  # far below what a 5 MiB return needs
    rows = (valid_rows() * 170)[:500]
    big = sample.to_csv([{**r, "comments": "padded" + " " * 9000} for r in rows])  # valid, ~5 MiB
    try:
        raw = read_guarded(tight, big, max_file_bytes=5 << 20, max_data_rows=500)
        assert [e.rule for e in raw.errors] == ["F01"]
        assert "memory" in raw.errors[0].message
    finally:
        tight.close()
    assert read_return(valid_csv()).errors == []  # the process's own guard is untouched


def test_a_parse_that_takes_too_long_is_stopped_with_f01() -> None:
    slow = guard.ParseGuard(timeout=0.0001)
    try:
        raw = read_guarded(slow, valid_csv(), max_file_bytes=5 << 20, max_data_rows=500)
        assert [e.rule for e in raw.errors] == ["F01"]
        assert "too long" in raw.errors[0].message
        assert slow._child is None  # killed; the next read starts a fresh child
    finally:
        slow.close()


def test_a_child_killed_while_idle_is_replaced_without_failing_the_next_file() -> None:
    read_return(valid_csv())
    child = guard.guard()._child
    assert child is not None
    os.kill(child.process.pid, signal.SIGKILL)
    child.process.wait()
    assert read_return(valid_csv()).errors == []
    assert guard.guard()._child is not child


def test_a_child_that_dies_mid_parse_answers_f01(monkeypatch: pytest.MonkeyPatch) -> None:
    """As when pyarrow's std::bad_alloc aborts the process: the parent sees the pipe close."""
    dying = guard.ParseGuard()
    try:
        dying.read(valid_csv(), 5 << 20, 500)  # started
        child = dying._child
        assert child is not None
        real_send = child.send

        def stopped_then_sent(datas: list[bytes], max_file_bytes: int, max_data_rows: int) -> None:
            os.kill(child.process.pid, signal.SIGSTOP)  # it takes the request in but never answers
            real_send(datas, max_file_bytes, max_data_rows)
            os.kill(child.process.pid, signal.SIGKILL)  # and dies in the middle of it

        monkeypatch.setattr(child, "send", stopped_then_sent)
        raw = read_guarded(dying, valid_csv(), max_file_bytes=5 << 20, max_data_rows=500)
        assert [e.rule for e in raw.errors] == ["F01"]
        assert dying._child is None
    finally:
        dying.close()


def test_a_reader_that_cannot_start_is_not_the_files_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never F01 for a valid file because the child could not start: an error the caller retries."""
    monkeypatch.setattr(guard.sys, "executable", "/nonexistent/python")
    broken = guard.ParseGuard()
    with pytest.raises(guard.GuardUnavailable):
        read_guarded(broken, valid_csv(), max_file_bytes=5 << 20, max_data_rows=500)


def test_a_parse_is_stopped_by_its_cpu_budget() -> None:
    """The CPU the child spends on one file is what is limited (waiting on a loaded machine is not)."""
    rows = (valid_rows() * 170)[:500]
    big = sample.to_csv([{**r, "comments": "padded" + " " * 9000} for r in rows])
    frugal = guard.ParseGuard(cpu_seconds=-1.0)  # a budget spent before the parse begins
    try:
        raw = read_guarded(frugal, big, max_file_bytes=5 << 20, max_data_rows=500)
        assert [e.rule for e in raw.errors] == ["F01"]
        assert "too long" in raw.errors[0].message
    finally:
        frugal.close()
