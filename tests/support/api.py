"""The Submission API in tests: the application on an isolated warehouse, tokens, and a served instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from surgehub import clock
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


@dataclass
class Server:
    """A real `surgehub serve` on loopback (the ``api_server`` fixture): its URL, data folder and tokens."""

    url: str
    home: Path
    settings: Settings
    engine: Engine
    tokens: dict[str, str]
    log: Path


def settings_for(home: Path) -> tuple[Settings, Engine]:
    """The settings of the data folder ``home`` (SURGEHUB_HOME) and its warehouse, migrated."""
    settings = load_settings()
    assert settings.home == home.resolve()
    return settings, ensure_warehouse(get_engine(settings.warehouse_url))


def token_for(engine: Engine, code: str, **kwargs: object) -> str:
    secret, _info = create_token(engine, code, now=clock.now(), **kwargs)  # type: ignore[arg-type]
    return secret


def app_for(settings: Settings, limits: Limits | None = None) -> FastAPI:
    """The application on ``settings`` (the system clock, which follows SURGEHUB_NOW), default limits."""
    return create_app(resources=Resources.of(settings), limits=limits or Limits())
