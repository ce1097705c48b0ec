"""Receipts go out once, from whichever task gets to them first.

The ingest task sends its own run's receipts as soon as the returns are stored (the quick path), and
every run's ``send_receipts`` task sweeps whatever is still unsent (the safety net). The email log's
send-once rule (``surgehub.mail.send.send_once``) looks the message up, logs it as sending, sends it,
then marks it sent: two processes doing that for the same receipt at the same moment could both send it. So each receipt is
sent holding the receipt lock, from the look-up to the record:

- PostgreSQL: a transaction-scoped advisory lock (released if the process dies);
- SQLite: an exclusive ``flock`` on a file beside the database (an SQLite warehouse is on one machine;
  the kernel releases the lock if the process dies). In-memory databases use a lock in this process.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import text

from surgehub.mail.send import DEFAULT_TIMEOUT_S, Delivery, MailDeliveryError, Relay, send_once
from surgehub.warehouse.db import sqlite_file

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from surgehub.clock import Clock
    from surgehub.mail.compose import Mail

log = logging.getLogger(__name__)

#: Arbitrary constant key of the PostgreSQL advisory lock held while a receipt is checked, sent and logged.
RECEIPT_LOCK_KEY = 4_104_202_612

_POLL_S = 0.05
_process_lock = threading.Lock()


class ReceiptLockBusy(RuntimeError):
    """Another process held the receipt lock for longer than we were prepared to wait."""


def lock_file(engine: Engine) -> Path | None:
    """The lock file of an SQLite warehouse on disk (None for PostgreSQL or an in-memory database)."""
    database = sqlite_file(engine)
    return None if database is None else database.with_name(database.name + "-receipts.lock")


@contextlib.contextmanager
def receipt_lock(engine: Engine, timeout: float) -> Iterator[None]:
    """Hold the warehouse-wide receipt lock; raise ``ReceiptLockBusy`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout

    def wait_or_give_up() -> None:
        if time.monotonic() >= deadline:
            raise ReceiptLockBusy(f"the receipt lock was busy for {timeout:.0f} s")
        time.sleep(_POLL_S)

    if engine.dialect.name == "postgresql":
        with engine.connect() as connection, connection.begin():
            while not connection.execute(
                text("select pg_try_advisory_xact_lock(:key)"), {"key": RECEIPT_LOCK_KEY}
            ).scalar_one():
                wait_or_give_up()
            yield
        return
    path = lock_file(engine)
    if path is None:
        while not _process_lock.acquire(blocking=False):
            wait_or_give_up()
        try:
            yield
        finally:
            _process_lock.release()
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                wait_or_give_up()
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def send_receipts_once(
    engine: Engine,
    mails: Sequence[Mail],
    *,
    smtp_conn_id: str,
    clock: Clock,
    lock_timeout: float,
    timeout: float = DEFAULT_TIMEOUT_S,
    stop_at_first_failure: bool = False,
) -> list[Delivery]:
    """``send_all`` for receipts, each under the receipt lock: none is ever sent twice by two tasks.

    Tries every message before raising ``MailDeliveryError`` (unless ``stop_at_first_failure``: the
    ingest task gives up at the first refusal and leaves the rest to the sweep). ``ReceiptLockBusy``
    is raised at once.
    """
    deliveries: list[Delivery] = []
    failures: list[str] = []
    with Relay(smtp_conn_id, timeout) as relay:  # one SMTP session for them all, opened when first needed
        for mail in mails:
            try:
                with receipt_lock(engine, lock_timeout):
                    result = send_once(
                        engine, mail, smtp_conn_id=smtp_conn_id, clock=clock, timeout=timeout, relay=relay
                    )
                    deliveries.append(Delivery(mail, result))
            except MailDeliveryError as exc:
                failures.append(str(exc))
                relay.close()  # the next message starts a fresh session
                if stop_at_first_failure:
                    break
    if failures:
        raise MailDeliveryError("; ".join(failures))
    return deliveries
