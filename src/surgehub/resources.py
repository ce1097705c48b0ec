"""What every entry point builds once and passes down: settings, the warehouse engine and the clock.

An entry point is a CLI invocation (the `surgehub` group), a DAG task, the web app (`create_app`) or
the demo. It calls `Resources.from_env()` (a test may use `Resources.of(settings, ...)`) and hands it,
or the parts it needs, to the code below it. Nothing under an entry point loads settings, opens an
engine or reads the system clock by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from surgehub.clock import Clock, SystemClock
from surgehub.config import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Engine


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Settings, warehouse engine and clock for one entry point.

    The engine connects lazily: building it does no I/O, and one engine serves each URL per process.
    """

    settings: Settings
    engine: Engine = field(repr=False)
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def of(cls, settings: Settings, *, engine: Engine | None = None, clock: Clock | None = None) -> Resources:
        """Resources for ``settings``: the engine of its warehouse URL unless one is given; the system clock."""
        if engine is None:
            from surgehub.warehouse.db import get_engine

            engine = get_engine(settings.warehouse_url)
        return cls(settings=settings, engine=engine, clock=clock or SystemClock())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, clock: Clock | None = None) -> Resources:
        """Settings from the environment and the YAML file it names; the system clock (or ``SURGEHUB_NOW``)."""
        return cls.of(load_settings(env), clock=clock)

    def warehouse(self) -> Engine:
        """The engine, once the warehouse is migrated to head and seeded with the reference data."""
        from surgehub.warehouse.db import ensure_warehouse

        return ensure_warehouse(self.engine)
