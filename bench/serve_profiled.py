"""`surgehub serve` under cProfile in every thread, for ``bench/api_upload.py`` (``BENCH_API_PROFILE``).

``python -m bench.serve_profiled OUT --host H --port P``: serves as `surgehub serve` does; each thread
(the event loop and every worker thread of the pool that validates uploads) gets its own profiler,
and when the server stops (SIGTERM) their statistics are merged and written to OUT (``pstats``).
cProfile's clock is wall time, so time spent waiting (for the joint validation pass, the hand-off
lock, the warehouse) shows under the function that waited. Not part of the figures: the profiler
slows the server several times.
"""

from __future__ import annotations

import cProfile
import pstats
import signal
import sys
import threading


def main(argv: list[str]) -> None:
    out, args = argv[0], argv[1:]
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def per_thread(*_args: object) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()  # replaces this hook in the new thread with the profiler

    def stop(*_args: object) -> None:
        raise SystemExit(0)

    # uvicorn handles SIGTERM itself, then raises it again under the handler it found: this one, so
    # the statistics are still written (with the default handler the process would just end).
    signal.signal(signal.SIGTERM, stop)
    threading.setprofile(per_thread)
    main_profile = cProfile.Profile()
    profiles.append(main_profile)
    from surgehub.cli import cli

    main_profile.enable()
    try:
        cli(["serve", *args], prog_name="surgehub", standalone_mode=False)
    except SystemExit:
        pass
    finally:
        main_profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        with lock:
            stats = pstats.Stats(main_profile)
            for profile in profiles[1:]:
                profile.disable()
                stats.add(profile)
        stats.dump_stats(out)


if __name__ == "__main__":
    main(sys.argv[1:])
