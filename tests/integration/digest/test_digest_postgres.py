"""The digest queries are portable: the same timeline on PostgreSQL gives the same digest as on SQLite."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest

from surgehub.digest.build import build_digest
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.warehouse import db
from tests.conftest import port_open, require
from tests.unit.digest.digest_timeline import BOARD_AT, london, timeline_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.postgres

PG_HOST = os.environ.get("SURGEHUB_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SURGEHUB_TEST_PG_PORT", "5432"))


def _login() -> str | None:
    import psycopg

    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=3):
                return user
        except psycopg.Error:
            continue
    return None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database for this module, dropped at the end."""
    import psycopg

    require(port_open(PG_HOST, PG_PORT), f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    user = _login()
    require(user is not None, f"a PostgreSQL login (postgres or root, trust auth) at {PG_HOST}:{PG_PORT}")
    name = f"surgehub_digest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.mark.parametrize(
    ("kind", "as_of"), [(DigestKind.BOARD, BOARD_AT), (DigestKind.DAILY, london(2026, 11, 25, 13, 45))]
)
def test_postgres_and_sqlite_give_the_same_digest(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, kind: str, as_of
) -> None:
    base = tmp_path_factory.getbasetemp()
    on_sqlite = timeline_settings(base / "digest-timeline")
    on_postgres = timeline_settings(base / "digest-pg-timeline", postgres_url)
    expected = render_digest(build_digest(db.get_engine(on_sqlite.warehouse_url), kind, as_of, on_sqlite))
    found = render_digest(build_digest(db.get_engine(on_postgres.warehouse_url), kind, as_of, on_postgres))
    assert found.text == expected.text
    assert found.csv == expected.csv
    assert found.html == expected.html
    assert [i.png for i in found.images] == [i.png for i in expected.images]
