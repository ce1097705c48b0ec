"""``burst_gm_*``: the 10:59 burst. All ten localities' returns land within the same 2 s, on the live system.

Returns do not arrive evenly: they arrive in a burst just before the 11:00 deadline. This step starts
the live system exactly as `make up` does (embedded defaults, in a throwaway data folder, on the fixed
timeline), waits until the landing watcher reports that it is polling, and then runs
``BURSTS`` bursts. In each, every locality's return for one activity day is written beside its
landing folder and renamed in (as a well-behaved sender does, spec §4: taken at once), the ten
renames spread evenly over ``SPREAD_S`` seconds; the next burst starts once every receipt of the one
before has been stored. Each file's latency runs from its rename to its first receipt being stored by
the loopback SMTP server.

``burst_gm_in_place_p95_s`` is one more burst of files written *in place* (opened in the landing
folder and written in two halves ``IN_PLACE_GAP_S`` apart, as a careless sender's copy does): those
wait for the quiet period before they are taken, and the figure shows what that costs.

Beside them: ``burst_gm_floor_s`` (two watcher polls, the least a file can wait) and, from
``bench.run``'s calibration step, ``calibration_s``. Figures are absolute seconds: that is what a
person waiting for a receipt feels.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bench.live_receipts import _p95, live_system, wait_for_receipts

if TYPE_CHECKING:
    from sqlalchemy import Engine

BURSTS = 5
SPREAD_S = 2.0
IN_PLACE_GAP_S = 0.5
FIRST_DAY = date(2026, 11, 18)  # bursts use 18–22 November, the in-place burst the 23rd
NOW = "2026-11-25T09:00:00+00:00"


def main() -> dict[str, float]:
    from surgehub import reference, sample
    from surgehub.orchestration.dag_support import landing_poll_seconds

    localities = reference.localities()
    gap = SPREAD_S / max(1, len(localities) - 1)
    renamed: list[float] = []
    in_place: list[float] = []
    with live_system("surgehub-bench-burst-") as (settings, engine):
        rng = random.Random(59)
        for burst in range(BURSTS + 1):
            day = FIRST_DAY + timedelta(days=burst)
            writes_in_place = burst == BURSTS
            bodies = {
                loc: sample.to_csv(sample.locality_rows(loc.sub_icb_code, [day], rng)) for loc in localities
            }
            dropped: dict[str, float] = {}
            for loc, body in bodies.items():
                name = f"{loc.slug}-{day.isoformat()}.csv"
                target = settings.landing_dir / loc.sub_icb_code / name
                if writes_in_place:
                    with open(target, "wb") as out:
                        out.write(body[: len(body) // 2])
                        out.flush()
                        time.sleep(IN_PLACE_GAP_S / len(localities))
                        out.write(body[len(body) // 2 :])
                    dropped[name] = time.time()
                else:
                    partial = target.with_name(f".{name}.part")
                    partial.write_bytes(body)
                    partial.rename(target)
                    dropped[name] = time.time()
                    time.sleep(gap)
            delivered = wait_for_receipts(settings.outbox_dir, engine, dropped, timeout=240)
            if len(delivered) < len(dropped):
                missing = sorted(set(dropped) - set(delivered))
                raise RuntimeError(f"burst {burst + 1}: no receipt within 4 minutes for {missing}")
            latencies = [delivered[name] - dropped[name] for name in dropped]
            (in_place if writes_in_place else renamed).extend(latencies)
            print(
                f"burst {burst + 1}: p95 {_p95(latencies):.2f} s over {len(latencies)} files",
                file=sys.stderr,
            )
        lost_or_doubled = _lost_or_doubled(engine, len(localities) * (BURSTS + 1))
    return {
        "burst_gm_p95_s": round(_p95(renamed), 2),
        "burst_gm_median_s": round(statistics.median(renamed), 2),
        "burst_gm_max_s": round(max(renamed), 2),
        "burst_gm_files": len(renamed),
        "burst_gm_in_place_p95_s": round(_p95(in_place), 2),
        "burst_gm_floor_s": 2 * landing_poll_seconds(),
        "burst_gm_lost_or_doubled": lost_or_doubled,
    }


def _lost_or_doubled(engine: Engine, expected: int) -> int:
    """Submissions beyond or short of one per file dropped (every burst file is distinct)."""
    from sqlalchemy import func, select

    from surgehub.warehouse.tables import submission

    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(submission)).scalar_one()
    return abs(stored - expected)


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
