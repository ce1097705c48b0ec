"""Pause points: hold a task at a named step, so a test can break something at a known moment.

Off unless ``SURGEHUB_PAUSE_DIR`` names a folder: then a call costs one environment lookup and
returns. With it set, ``pause_point(name)`` looks for a file called ``name`` in that folder; when it is
there, the call writes ``<name>.reached`` (this host's name and process id, one per line), then
waits, looking every ``POLL_SECONDS``, until ``name`` is removed (or ``MAX_WAIT_SECONDS`` pass). With
no such file it returns at once.

The stack test (``tests/stack/``) arms ``ingest.after_load`` to stop an ingest after the returns are
committed and before their files leave landing, kills the Celery worker it is on, and checks that the
retry loads nothing twice. ``mail.after_relay`` holds a send after the relay accepted the message and
before the email log marks it sent (``tests/integration/mail/``: the sender is killed there and the
retry resends it once, with the same Message-ID). Never set ``SURGEHUB_PAUSE_DIR`` in production.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

from surgehub.files import write_atomically

log = logging.getLogger(__name__)

#: The folder holding armed pause points; unset (the default) turns every pause point off.
PAUSE_DIR_ENV = "SURGEHUB_PAUSE_DIR"
POLL_SECONDS = 0.2
#: A forgotten pause point lets go after this long, so a stray file cannot hang a worker for good.
MAX_WAIT_SECONDS = 900.0


def pause_point(name: str) -> None:
    """Wait here while ``$SURGEHUB_PAUSE_DIR/<name>`` exists; return at once when it does not."""
    folder = os.environ.get(PAUSE_DIR_ENV)
    if not folder:
        return
    armed = Path(folder) / name
    if not armed.exists():
        return
    reached = armed.with_name(f"{name}.reached")
    # whole or not at all: whoever waits for it (a test, the stack test's helper) reads it on sight
    write_atomically(reached, f"{socket.gethostname()}\n{os.getpid()}\n".encode())
    log.warning("pause point %s reached: waiting until %s is removed", name, armed)
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while armed.exists() and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    log.warning("pause point %s released", name)
