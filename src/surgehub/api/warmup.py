"""Warming the validator at start-up, so the first locality to send a return does not wait for GX to load."""

from __future__ import annotations

import logging
import random
from datetime import time, timedelta
from typing import TYPE_CHECKING

from surgehub import clock, reference, sample
from surgehub.returns.validate import validate_return

if TYPE_CHECKING:
    from surgehub.config import Settings

log = logging.getLogger(__name__)


def warm_up(settings: Settings) -> str | None:
    """Validate one sample return so Great Expectations is imported; its status (None if it failed).

    The sample is dated on the season's first day and "received" the day after, so it reaches the
    GX suite whatever today's date is (an out-of-season date would stop at F05 and warm nothing).
    """
    day = settings.season.start
    code = next(hub.sub_icb_code for hub in reference.shipped_hubs() if hub.active_on(day))
    data = sample.to_csv(sample.locality_rows(code, [day], random.Random(0)))
    received_at = clock.london_instant(day + timedelta(days=1), time(9, 0))
    try:
        result = validate_return(data, locality=code, received_at=received_at, settings=settings)
        log.info("validator warm: sample return %s", result.status)
        return result.status
    except Exception:  # warming is an optimisation; a failure here must not stop the server
        log.exception("warm-up validation failed")
        return None
