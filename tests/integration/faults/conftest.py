"""Fault-tolerance tests: shared helpers and a throwaway PostgreSQL database.

Every test here breaks one real component (the PostgreSQL connection, the SMTP server, the
scheduler, the archive folder) or loads the pipeline with concurrent submitters, then checks the
one thing that matters: no return is lost and none is loaded twice.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

from surgehub import reference, sample
from surgehub.clock import LONDON
from tests.conftest import port_open, require

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PG_HOST, PG_PORT = "127.0.0.1", 5432
DAY = date(2026, 11, 24)
RECEIVED = datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)


def write_return(
    folder: Path, code: str, day: date = DAY, seed: int = 1, name: str | None = None, **edit: str
) -> Path:
    """A valid return for every active hub of a locality on ``day`` (with ``edit`` applied to each row)."""
    rows = sample.locality_rows(code, [day], random.Random(seed))
    for row in rows:
        row.update(edit)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{code}-{day.isoformat()}-{seed}.csv")
    path.write_bytes(sample.to_csv(rows))
    return path


def hub_days(code: str, day: date = DAY) -> int:
    return len([h for h in reference.shipped_hubs() if h.sub_icb_code == code and h.active_on(day)])


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def doubled_hub_days(engine: Engine) -> list[tuple]:
    """Hub-days with more than one version from the same submission, or more than one current version."""
    with engine.connect() as connection:
        same_file = connection.execute(
            text(
                "select hub_code, activity_date, submission_id, count(*) from hub_day_version"
                " group by hub_code, activity_date, submission_id having count(*) > 1"
            )
        ).all()
        current = connection.execute(
            text(
                "select hub_code, activity_date, count(*) from hub_day_version where is_current"
                " group by hub_code, activity_date having count(*) > 1"
            )
        ).all()
    return [tuple(r) for r in same_file] + [tuple(r) for r in current]


def later(minutes: int) -> datetime:
    return RECEIVED + timedelta(minutes=minutes)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    from surgehub.warehouse import db

    require(port_open(PG_HOST, PG_PORT), f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    user = None
    for candidate in ("postgres", "root"):
        try:
            with psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=candidate, dbname="test", connect_timeout=3
            ):
                user = candidate
                break
        except psycopg.Error:
            continue
    require(user is not None, f"a PostgreSQL login (postgres or root, trust auth) at {PG_HOST}:{PG_PORT}")
    name = f"surgehub_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        db.upgrade(url)
        yield url
    finally:
        db.dispose_engines()
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
