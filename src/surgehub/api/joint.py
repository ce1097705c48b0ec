"""Uploads that arrive together are judged together: one validation pass for all that are waiting.

Validating a return costs mostly a fixed amount per pass (Great Expectations builds its metric graph
each time: ~0.15 s on a quiet core, whatever the rows), and the server validates in one process, so
twenty clients each uploading every few seconds queue behind one another. ``Joint`` batches them in
the way a database groups commits: a caller that finds no pass running starts one over everything
waiting at that moment (itself included) and hands each its answer; a caller that arrives while a
pass runs waits for it to end and then goes in the next one. A lone upload is a batch of one and waits
for nothing; under load, each pass takes whatever arrived during the last.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

Item = TypeVar("Item")
Answer = TypeVar("Answer")

#: At most this many items go into one pass (each upload is at most ~5 MiB; `surgehub serve` serves
#: at most 32 requests at once, so this bounds nothing there, only a host that serves more).
MAX_BATCH = 32


@dataclass(eq=False)
class _Entry(Generic[Item, Answer]):
    item: Item
    done: bool = False
    answer: Answer | None = None
    error: BaseException | None = field(default=None, repr=False)


class Joint(Generic[Item, Answer]):
    """Runs ``many`` (items → one answer each, in order) over the items of every caller waiting at once.

    ``run(item)`` returns ``item``'s answer, or raises what ``many`` raised for its batch (each
    caller of that batch gets the exception; the next batch is unaffected).
    """

    def __init__(self, many: Callable[[Sequence[Item]], Sequence[Answer]], *, max_batch: int = MAX_BATCH):
        self._many = many
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._waiting: list[_Entry[Item, Answer]] = []
        self._running = False
        #: The sizes of the latest batches (the most recent last; for tests and the log).
        self.sizes: deque[int] = deque(maxlen=256)

    def run(self, item: Item) -> Answer:
        entry: _Entry[Item, Answer] = _Entry(item)
        with self._changed:
            self._waiting.append(entry)
            while not entry.done:
                if self._running:
                    self._changed.wait()
                    continue
                batch = self._waiting[: self._max_batch]
                del self._waiting[: len(batch)]
                self._running = True
                self._changed.release()
                try:
                    self._settle(batch)
                finally:
                    self._changed.acquire()
                    self._running = False
                    self._changed.notify_all()
        if entry.error is not None:
            raise entry.error
        return entry.answer  # type: ignore[return-value]  # set with done

    def _settle(self, batch: list[_Entry[Item, Answer]]) -> None:
        """Run ``many`` over the batch (no lock held) and give each entry its answer or the error."""
        self.sizes.append(len(batch))
        try:
            answers = list(self._many([entry.item for entry in batch]))
            if len(answers) != len(batch):
                raise RuntimeError(f"{len(answers)} answers for {len(batch)} items")
        except BaseException as exc:
            for entry in batch:
                entry.error, entry.done = exc, True
            if not isinstance(exc, Exception):
                raise
            return
        for entry, answer in zip(batch, answers, strict=True):
            entry.answer, entry.done = answer, True
