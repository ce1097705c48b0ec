"""Many files through the parse guard in one request (`ParseGuard.read_many`, `read.read_returns`).

What a batch must keep: each file read exactly as alone, each on its own limits, and a file that runs
out of memory, takes too long or dies with its child fails (F01) only itself — the files after it are
read by a fresh child.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any

import pytest

from surgehub import sample
from surgehub.returns import guard
from surgehub.returns.read import RawReturn, read_guarded, read_return, read_returns
from tests.hostile.corpus import CASES, valid_csv, valid_rows

if TYPE_CHECKING:
    from collections.abc import Iterator

LIMITS = {"max_file_bytes": 5 << 20, "max_data_rows": 500}


def _good(n: int) -> bytes:
    """A distinct valid return (its comment differs)."""
    rows = valid_rows()
    return sample.to_csv([{**rows[0], "comments": f"batch file {n}"}, *rows[1:]])


def _big() -> bytes:
    """A valid return of ~5 MiB: far more than a 4 MiB headroom lets the child parse."""
    rows = (valid_rows() * 170)[:500]
    return sample.to_csv([{**r, "comments": "padded" + " " * 9000} for r in rows])


def _same(batch: RawReturn, alone: RawReturn) -> bool:
    tables_same = (batch.table is None and alone.table is None) or (
        batch.table is not None and alone.table is not None and batch.table.equals(alone.table)
    )
    return (
        tables_same
        and (batch.format, batch.rows, batch.errors, batch.missing, batch.patient)
        == (alone.format, alone.rows, alone.errors, alone.missing, alone.patient)
        and _context(batch) == _context(alone)
    )


def _context(raw: RawReturn) -> tuple[Any, ...] | None:
    """Where each data row is and how it names itself (RowContext holds arrays and lookups)."""
    found = raw.context
    if found is None:
        return None
    rows = range(len(found.row_number))
    return (
        found.row_number.tolist(),
        found.spreadsheet_row.tolist(),
        [found.hub_code(i) for i in rows],
        [found.activity_date(i) for i in rows],
    )


@pytest.fixture
def own_guard() -> Iterator[guard.ParseGuard]:
    found = guard.ParseGuard()
    yield found
    found.close()


def test_the_hostile_corpus_read_in_one_batch_is_read_as_each_alone() -> None:
    datas = [case.build() for case in CASES] + [_good(n) for n in range(3)]
    batch = read_returns(datas, **LIMITS)
    assert len(batch) == len(datas)
    for case_name, data, raw in zip([c.name for c in CASES] + ["good"] * 3, datas, batch, strict=True):
        assert _same(raw, read_return(data, **LIMITS)), case_name


def test_one_request_carries_many_files(own_guard: guard.ParseGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    own_guard.read(_good(0), **_positional())  # started
    child = own_guard._child
    assert child is not None
    requests: list[int] = []
    real_send = child.send
    monkeypatch.setattr(child, "send", lambda datas, *a: (requests.append(len(datas)), real_send(datas, *a)))
    answers = own_guard.read_many([_good(n) for n in range(20)], *_limits())
    assert requests == [20]
    assert all(not isinstance(a, guard.GuardFailure) and a.errors == [] for a in answers)
    assert own_guard._child is child  # the same child answered every file


def test_requests_are_bounded_in_bytes_and_still_read_every_file(
    own_guard: guard.ParseGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    datas = [_good(n) for n in range(7)]
    monkeypatch.setattr(guard, "REQUEST_BYTES", 2 * len(datas[0]) + 10)  # two files a request
    sizes: list[int] = []
    real_send = guard._Child.send

    def counted(self: guard._Child, request: list[bytes], *a: Any) -> None:
        sizes.append(len(request))
        real_send(self, request, *a)

    monkeypatch.setattr(guard._Child, "send", counted)
    answers = own_guard.read_many(datas, *_limits())
    assert sizes == [2, 2, 2, 1]
    for data, answer in zip(datas, answers, strict=True):
        assert _same(answer, read_return(data, **LIMITS))


def test_a_file_out_of_memory_among_good_ones_fails_only_itself() -> None:
    tight = guard.ParseGuard(headroom=4 * 1024 * 1024)
    try:
        answers = tight.read_many([_good(1), _big(), _good(2), _good(3)], *_limits())
    finally:
        tight.close()
    assert isinstance(answers[1], guard.GuardFailure)
    assert answers[1].reason in ("memory", "died")  # a MemoryError, or an abort (std::bad_alloc)
    for n, answer in zip((1, 2, 3), (answers[0], *answers[2:]), strict=True):
        assert _same(answer, read_return(_good(n), **LIMITS))


def test_a_file_too_slow_among_good_ones_fails_only_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first child takes the request in and then never answers (stopped): its first file runs out of
    time; the rest of the request is read by a fresh child."""
    slow = guard.ParseGuard(timeout=1.0)
    real_send = guard._Child.send
    stopped: list[int] = []

    def stop_the_first(self: guard._Child, request: list[bytes], *a: Any) -> None:
        real_send(self, request, *a)
        if not stopped:
            stopped.append(self.process.pid)
            os.kill(self.process.pid, signal.SIGSTOP)

    monkeypatch.setattr(guard._Child, "send", stop_the_first)
    try:
        answers = slow.read_many([_good(n) for n in range(4)], *_limits())
        assert isinstance(answers[0], guard.GuardFailure)
        assert answers[0].reason == "timeout"
        assert all(not isinstance(a, guard.GuardFailure) and a.errors == [] for a in answers[1:])
        assert slow._child is not None
        assert slow._child.process.pid != stopped[0]
    finally:
        slow.close()
    raw = read_returns([_good(0), valid_csv()], **LIMITS)  # the process's own guard is untouched
    assert [r.errors for r in raw] == [[], []]


def test_a_child_dying_mid_request_fails_the_file_it_was_on_and_the_rest_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dying = guard.ParseGuard()
    real_receive = guard._Child.receive
    answered: list[int] = []

    def die_after_two_answers(self: guard._Child, *a: Any) -> tuple[Any, ...]:
        if len(answered) == 2:
            answered.append(-1)
            os.kill(self.process.pid, signal.SIGKILL)  # as if std::bad_alloc aborted it on file 3
        answer = real_receive(self, *a)
        answered.append(1)
        return answer

    monkeypatch.setattr(guard._Child, "receive", die_after_two_answers)
    try:
        dying.read(_good(0), **_positional())  # started (its "ready" is not counted: received at start)
        answered.clear()
        answers = dying.read_many([_good(n) for n in range(5)], *_limits())
    finally:
        dying.close()
    assert [isinstance(a, guard.GuardFailure) for a in answers] == [False, False, True, False, False]
    assert answers[2].reason == "died"
    for n in (0, 1, 3, 4):
        assert _same(answers[n], read_return(_good(n), **LIMITS))


def test_the_f01_of_a_failed_file_in_a_batch_is_the_f01_alone() -> None:
    tight = guard.ParseGuard(headroom=4 * 1024 * 1024)
    try:
        alone = read_guarded(tight, _big(), **LIMITS)
        [answer] = tight.read_many([_big()], *_limits())
    finally:
        tight.close()
    assert isinstance(answer, guard.GuardFailure)
    assert [e.rule for e in alone.errors] == ["F01"]
    assert "memory" in alone.errors[0].message


def _limits() -> tuple[int, int]:
    return LIMITS["max_file_bytes"], LIMITS["max_data_rows"]


def _positional() -> dict[str, int]:
    return dict(zip(("max_file_bytes", "max_data_rows"), _limits(), strict=True))
