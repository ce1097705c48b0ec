"""The digest queries are portable: the same timeline on PostgreSQL gives the same digest as on SQLite."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub.digest.build import build_digest
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.warehouse import db
from tests.support.digest_timeline import timeline_settings
from tests.support.postgres import throwaway_database
from tests.support.timeline import BOARD_AT, DAILY_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def digest_postgres_url() -> Iterator[str]:
    """A database of this module's own for the timeline (the session's is emptied between tests)."""
    with throwaway_database("surgehub_digest") as url:
        yield url


@pytest.mark.parametrize(("kind", "as_of"), [(DigestKind.BOARD, BOARD_AT), (DigestKind.DAILY, DAILY_AT)])
def test_postgres_and_sqlite_give_the_same_digest(
    tmp_path_factory: pytest.TempPathFactory, digest_postgres_url: str, kind: str, as_of
) -> None:
    base = tmp_path_factory.getbasetemp()
    on_sqlite = timeline_settings(base / "digest-timeline")
    on_postgres = timeline_settings(base / "digest-pg-timeline", digest_postgres_url)
    expected = render_digest(build_digest(db.get_engine(on_sqlite.warehouse_url), kind, as_of, on_sqlite))
    found = render_digest(build_digest(db.get_engine(on_postgres.warehouse_url), kind, as_of, on_postgres))
    assert found.text == expected.text
    assert found.csv == expected.csv
    assert found.html == expected.html
    assert [i.png for i in found.images] == [i.png for i in expected.images]
