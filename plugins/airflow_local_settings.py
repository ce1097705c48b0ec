"""Airflow local settings (imported by every Airflow process at start; plugins/ is on its path).

The scheduler and Celery workers, which fork the task runners, import the validation stack once here
so that no ingest task pays for it again (see surgehub.orchestration.preload). Set
SURGEHUB_PRELOAD=off to turn it off.
"""

from __future__ import annotations

from surgehub.orchestration.preload import preload_if_forking

preload_if_forking()
