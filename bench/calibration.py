"""``calibration_s``: a fixed pure-Python and numpy workload, so absolute seconds from different runs and
machines can be compared (the 2-core machine is shared and noisy: divide by this to compare runs)."""

from __future__ import annotations

import json
import time


def main() -> dict[str, float]:
    import numpy as np

    start = time.perf_counter()
    total = 0
    for n in range(3_000_000):
        total += n % 7
    values = np.random.default_rng(1).random(5_000_000)
    np.sort(values)
    return {"calibration_s": round(time.perf_counter() - start, 3)}


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
