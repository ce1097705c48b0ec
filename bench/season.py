"""A whole Greater Manchester winter as an archive folder: every hub's return, 1 November to 31 March.

Each locality sends one return per activity day, received at 09:00 London the next morning (so every
day is on time), written with its receipt record exactly as the archive keeps files; `surgehub
backfill DIR` then replays it. Seeded: the same season every run.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from surgehub import archive, reference, sample
from surgehub.clock import LONDON

SEASON_START = date(2026, 11, 1)
SEASON_END = date(2027, 3, 31)


def season_days(first: date = SEASON_START, last: date = SEASON_END) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def write_season_archive(root: Path, days: list[date] | None = None, seed: int = 2026) -> int:
    """Write every locality's daily return for ``days`` (default: the whole season); returns the file count."""
    rng = random.Random(seed)
    count = 0
    for day in days or season_days():
        received = datetime.combine(day + timedelta(days=1), time(9, 0), tzinfo=LONDON)
        for n, loc in enumerate(reference.localities()):
            rows = sample.locality_rows(loc.sub_icb_code, [day], rng)
            if not rows:
                continue
            data = sample.to_csv(rows)
            at = received + timedelta(seconds=n)  # distinct receipt times, localities in a fixed order
            receipt = archive.Receipt(
                loc.sub_icb_code,
                "folder",
                at,
                _sha256(data),
                f"{loc.slug}-{day.isoformat()}.csv",
                len(data),
                "accepted",
            )
            archive.store(root, receipt, data)
            count += 1
    return count


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def main() -> dict[str, float]:
    """``backfill_season_s`` (the CLI, end to end, into a fresh SQLite warehouse), then the digest figures
    on the warehouse it built: ``digest_render_s`` and ``digest_html_bytes``."""
    import os
    import subprocess
    import sys
    import tempfile
    import time as clock_time

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="surgehub-bench-season-") as tmp:
        root = Path(tmp)
        limit = int(os.environ.get("BENCH_SEASON_DAYS", "0")) or None  # a shorter season, for trying it out
        files = write_season_archive(root / "archive-in", season_days()[:limit] if limit else None)
        env = dict(os.environ)
        env.pop("SURGEHUB_WAREHOUSE_URL", None)
        env.update(SURGEHUB_HOME=str(root / "home"), SURGEHUB_NOW=AS_OF.isoformat())
        surgehub = Path(sys.executable).parent / "surgehub"
        start = clock_time.perf_counter()
        done = subprocess.run(
            [str(surgehub), "backfill", str(root / "archive-in"), "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        figures["backfill_season_s"] = round(clock_time.perf_counter() - start, 2)
        if done.returncode != 0:
            raise RuntimeError(f"backfill failed ({done.returncode}): {done.stdout}\n{done.stderr[-2000:]}")
        counts = json.loads(done.stdout)
        if counts["accepted"] != files:
            raise RuntimeError(f"backfill accepted {counts['accepted']} of {files} files: {counts}")
        figures["backfill_season_files"] = files
        figures["backfill_season_per_file_ms"] = round(1000 * figures["backfill_season_s"] / files, 1)
        figures.update(_digest_figures(env))
    return figures


#: The board digest after the season: Thursday 1 April 2027 07:30 (a board day) — every day judged by then.
AS_OF = datetime(2027, 4, 1, 7, 30, tzinfo=LONDON)


def _digest_figures(env: dict[str, str]) -> dict[str, float]:
    """Build and render the board digest as of AS_OF on the season's warehouse, warm (second build timed)."""
    import os
    import time as clock_time

    os.environ.update({k: env[k] for k in ("SURGEHUB_HOME", "SURGEHUB_NOW")})
    from surgehub.config import load_settings
    from surgehub.digest.build import build_digest
    from surgehub.digest.mails import digest_mails
    from surgehub.digest.model import DigestKind
    from surgehub.digest.render import render_digest
    from surgehub.warehouse.db import get_engine

    settings = load_settings()
    engine = get_engine(settings.warehouse_url)
    # Warm: imports, templates, matplotlib.
    render_digest(build_digest(engine, DigestKind.BOARD, AS_OF, settings))
    start = clock_time.perf_counter()
    rendered = render_digest(build_digest(engine, DigestKind.BOARD, AS_OF, settings))
    mails = digest_mails(rendered, settings)
    render_s = clock_time.perf_counter() - start
    html_bytes = len(rendered.html.encode("utf-8"))
    if not mails:
        raise RuntimeError("the digest has no recipients configured")
    return {"digest_render_s": round(render_s, 3), "digest_html_bytes": html_bytes}


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
