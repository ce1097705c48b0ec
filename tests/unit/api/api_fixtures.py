"""Shared helpers for the Submission API tests: an app on an isolated warehouse, tokens, sample returns."""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from surgehub import clock, reference, sample
from surgehub.api.app import create_app
from surgehub.api.limits import Limits
from surgehub.api.tokens import create_token
from surgehub.config import Settings, load_settings
from surgehub.resources import Resources
from surgehub.warehouse.db import ensure_warehouse, get_engine

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi import FastAPI
    from sqlalchemy import Engine

#: The activity day of the test timeline's returns (received 2026-11-25 around 09:00, London).
DAY = date(2026, 11, 24)
CODES = [loc.sub_icb_code for loc in reference.localities()]


def settings_for(home: Path) -> tuple[Settings, Engine]:
    settings = load_settings()
    assert settings.home == home.resolve()
    return settings, ensure_warehouse(get_engine(settings.warehouse_url))


def token_for(engine: Engine, code: str, **kwargs: object) -> str:
    secret, _info = create_token(engine, code, now=clock.now(), **kwargs)  # type: ignore[arg-type]
    return secret


def app_for(settings: Settings, limits: Limits | None = None) -> FastAPI:
    """The application on ``settings`` (the system clock, which follows SURGEHUB_NOW), default limits."""
    return create_app(resources=Resources.of(settings), limits=limits or Limits())


def valid_return(code: str, seed: int = 0, day: date = DAY) -> bytes:
    """A valid return from ``code`` for ``day``; a different seed gives different bytes."""
    return sample.to_csv(sample.locality_rows(code, [day], random.Random(seed)))


def rejected_return(code: str) -> bytes:
    """A return with one hard error: booked more than offered (R09) on row 1."""
    rows = sample.locality_rows(code, [DAY], random.Random(7))
    rows[0]["appts_booked"] = str(int(rows[0]["appts_offered"]) + 5)
    return sample.to_csv(rows)
