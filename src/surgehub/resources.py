"""What every entry point builds once and passes down: settings, the warehouse engine and the clock.

An entry point is a CLI invocation (the `surgehub` group), a DAG task, the web app (`create_app`) or
the demo. It calls `Resources.from_env()` (or builds one by hand in a test) and hands it, or the
parts it needs, to the code below it. Nothing under an entry point loads settings, opens an engine
or reads the system clock by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from surgehub.clock import Clock, SystemClock
from surgehub.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Settings, engine and clock for one entry point. The engine is created on first use (no I/O before)."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, clock: Clock | None = None) -> Resources:
        """Settings from the environment and the YAML file it names; the system clock (or ``SURGEHUB_NOW``)."""
        return cls(settings=load_settings(env), clock=clock or SystemClock())

    @cached_property
    def engine(self) -> Engine:
        """The warehouse engine (one per URL per process; connects lazily)."""
        from surgehub.warehouse.db import get_engine

        return get_engine(self.settings.warehouse_url)

    def warehouse(self) -> Engine:
        """The engine of a warehouse that is migrated to head and seeded with the reference data."""
        from surgehub.warehouse.db import ensure_warehouse

        return ensure_warehouse(self.engine)
