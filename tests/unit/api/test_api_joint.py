"""Uploads that wait together are validated together (`surgehub.api.joint`, and the Receiver's use of it).

Threads really wait on one another here; no test depends on how long anything takes (each wait is
for a condition, bounded only so a bug fails instead of hanging).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from surgehub import clock
from surgehub.api.joint import Joint
from surgehub.api.submissions import Arrival, Receiver
from surgehub.resources import Resources
from surgehub.returns.validate import validate_return
from tests.support.api import settings_for
from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.005)


class Doubler:
    """``many`` for the tests: doubles each item; the first batch can be held until released."""

    def __init__(self, hold_first: bool = False, fail_on: int | None = None) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.batches: list[list[int]] = []
        self.hold_first = hold_first
        self.fail_on = fail_on

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        if self.hold_first and len(self.batches) == 1:
            assert self.release.wait(30)
        if self.fail_on in items:
            raise ValueError(f"cannot judge {self.fail_on}")
        return [2 * item for item in items]


def _waiting(joint: Joint[int, int]) -> int:
    with joint._changed:
        return len(joint._waiting)


def test_a_lone_item_is_a_batch_of_one() -> None:
    many = Doubler()
    joint = Joint(many)
    assert joint.run(21) == 42
    assert joint.run(5) == 10
    assert many.batches == [[21], [5]]


def test_items_arriving_during_a_pass_go_together_into_the_next() -> None:
    many = Doubler(hold_first=True)
    joint = Joint(many)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(joint.run, 1)
        assert many.started.wait(30)
        later = [pool.submit(joint.run, n) for n in range(2, 7)]
        _until(lambda: _waiting(joint) == 5, "five callers waiting behind the first pass")
        many.release.set()
        assert first.result(30) == 2
        assert [f.result(30) for f in later] == [4, 6, 8, 10, 12]
    assert many.batches[0] == [1]
    assert sorted(many.batches[1]) == [2, 3, 4, 5, 6]
    assert list(joint.sizes) == [1, 5]


def test_a_batch_is_at_most_max_batch_items() -> None:
    many = Doubler(hold_first=True)
    joint = Joint(many, max_batch=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(joint.run, 1)
        assert many.started.wait(30)
        later = [pool.submit(joint.run, n) for n in range(2, 7)]
        _until(lambda: _waiting(joint) == 5, "five callers waiting")
        many.release.set()
        assert [f.result(30) for f in [first, *later]] == [2, 4, 6, 8, 10, 12]
    assert list(joint.sizes) == [1, 2, 2, 1]


def test_a_failed_pass_fails_its_own_callers_only() -> None:
    many = Doubler(hold_first=True, fail_on=3)
    joint = Joint(many, max_batch=2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(joint.run, 1)
        assert many.started.wait(30)
        same_pass = [pool.submit(joint.run, n) for n in (3, 4)]
        _until(lambda: _waiting(joint) == 2, "two callers waiting")
        after = pool.submit(joint.run, 5)
        _until(lambda: _waiting(joint) == 3, "a third caller waiting")
        many.release.set()
        assert first.result(30) == 2
        for future in same_pass:
            with pytest.raises(ValueError, match="cannot judge 3"):
                future.result(30)
        assert after.result(30) == 10
    assert many.batches[1:] == [[3, 4], [5]]


# -- the Receiver: what a joint pass gives each upload is what it would get alone -------------------


def _arrival(code: str, data: bytes) -> Arrival:
    import hashlib

    return Arrival(
        locality=code,
        token_id=None,
        data=data,
        name="return.csv",
        sha256=hashlib.sha256(data).hexdigest(),
        received_at=clock.now(),
    )


def test_uploads_judged_together_get_the_answer_each_gets_alone(surgehub_home: Path) -> None:
    settings, _engine = settings_for(surgehub_home)
    receiver = Receiver(resources=Resources.of(settings))
    arrivals = [
        _arrival("14L", valid_return("14L", seed=1)),
        _arrival("00T", rejected_return("00T")),
        _arrival("14L", valid_return("14L", seed=2)),
        _arrival("14L", b"not,a,return\r\n1,2,3\r\n"),
    ]
    together = receiver._judge_together(arrivals)
    assert len(together) == len(arrivals)
    batch, register = together[0]
    assert all(b is batch and r is register for b, r in together)  # one pass, one register, shared
    assert batch is not None
    assert len(batch) == len(arrivals)  # one pass over all four
    statuses = []
    for arrival in arrivals:
        kwargs = {
            "locality": arrival.locality,
            "received_at": arrival.received_at,
            "settings": settings,
            "register": register,
            "file_name": arrival.name,
        }
        joint = validate_return(arrival.data, batch=batch, **kwargs).to_json_dict()
        alone = validate_return(arrival.data, **kwargs).to_json_dict()
        assert joint == alone
        statuses.append(joint["status"])
    assert statuses == ["accepted", "rejected", "accepted", "rejected"]


def test_should_the_joint_pass_fail_each_upload_is_judged_alone(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surgehub.returns import batch as batch_module

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("joint pass broken")

    settings, _engine = settings_for(surgehub_home)
    receiver = Receiver(resources=Resources.of(settings))
    monkeypatch.setattr(batch_module, "ValidationBatch", broken)
    [(batch, _register)] = receiver._judge_together([_arrival("14L", valid_return("14L"))])
    assert batch is None
    answer = receiver.receive(
        locality="14L", token_id=None, data=valid_return("14L"), file_name="r.csv", received_at=clock.now()
    )
    assert answer.status_code == 201
