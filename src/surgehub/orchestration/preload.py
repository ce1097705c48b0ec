"""Warm the Airflow processes that fork task runners, so an ingest task does not import GX every time.

On Linux the LocalExecutor's workers are forked from the scheduler and each task runner is forked from
a worker (the Celery worker forks its task runners the same way), so modules imported here once are
inherited by every task for free. Without it each ingest task spends ~5 s importing Great
Expectations before it validates anything — most of the time from a file landing to its receipt.

Only modules are imported: no GX context, engine, thread or connection is created here, since none of
those may cross a fork.
"""

from __future__ import annotations

import logging
import os
import sys

#: `airflow <command>` processes that fork task runners.
FORKING_COMMANDS = (("scheduler",), ("celery", "worker"))


def should_preload(argv: list[str]) -> bool:
    if os.environ.get("SURGEHUB_PRELOAD", "on").lower() in {"off", "0", "false"}:
        return False
    args = [a for a in argv[1:] if not a.startswith("-")]
    return any(tuple(args[: len(command)]) == command for command in FORKING_COMMANDS)


def preload_task_modules() -> None:
    """Import what the ingest, RAG and digest tasks need (Great Expectations, pandas, pyarrow, surgehub)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no analytics client, so no thread to fork
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    import surgehub.ingest
    import surgehub.mail.send
    import surgehub.rag
    import surgehub.returns.batch  # noqa: F401  (every rule module, with pandas and pyarrow)


def preload_if_forking(argv: list[str] | None = None) -> bool:
    """Preload when this process is one that forks task runners; say whether it did."""
    if not should_preload(sys.argv if argv is None else argv):
        return False
    preload_task_modules()
    return True
