"""Board digest and daily summary HTML in headless Chromium at phone and desktop widths: visible, accessible.

Screenshots are kept in test-artifacts/digest/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

import pytest

from surgehub.config import PROJECT_ROOT
from surgehub.digest.build import build_digest
from surgehub.digest.model import DigestKind, RenderedDigest
from surgehub.digest.render import render_digest
from surgehub.warehouse.db import get_engine
from tests.support.browser import axe_violations
from tests.support.digest_timeline import LOCALITY_NAMES, timeline_settings
from tests.support.timeline import BOARD_AT, DAILY_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "digest"
WIDTHS = {"phone": 375, "desktop": 1280}
GRID_NAME = re.compile(r"^Status and escalation level")


@pytest.fixture(scope="module")
def digests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedDigest]:
    settings = timeline_settings(tmp_path_factory.getbasetemp() / "digest-timeline")
    engine = get_engine(settings.warehouse_url)
    return {
        "board": render_digest(build_digest(engine, DigestKind.BOARD, BOARD_AT, settings)),
        "daily": render_digest(build_digest(engine, DigestKind.DAILY, DAILY_AT, settings)),
    }


def as_opened(rendered: RenderedDigest) -> str:
    """The HTML as a mail client shows it: each cid: image resolved to its MIME part (here a data URI)."""
    html = rendered.html
    for image in rendered.images:
        data = base64.b64encode(image.png).decode("ascii")
        html = html.replace(f'src="cid:{image.content_id}"', f'src="data:image/png;base64,{data}"')
    return html


@pytest.fixture(params=[(kind, screen) for kind in ("board", "daily") for screen in sorted(WIDTHS)], ids=str)
def page(request: pytest.FixtureRequest, browser, digests) -> Iterator[object]:
    kind, screen = request.param
    width = WIDTHS[screen]
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.set_content(as_opened(digests[kind]), wait_until="load")
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    opened.rendered = digests[kind]  # type: ignore[attr-defined]
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{kind}-{screen}-{width}px.png"), full_page=True)
    context.close()


def test_grid_and_all_ten_locality_names_are_visible_without_sideways_scrolling(page) -> None:
    grid = page.get_by_role("table", name=GRID_NAME)
    assert grid.is_visible()
    width = page.viewport_size["width"]
    box = grid.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width
    row_headers = grid.locator("th[scope=row]")
    assert row_headers.all_inner_texts() == LOCALITY_NAMES
    for index in range(row_headers.count()):
        header = row_headers.nth(index)
        assert header.is_visible()
        cell_box = header.bounding_box()
        assert cell_box["x"] >= 0
        assert cell_box["x"] + cell_box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_every_grid_cell_shows_its_label_in_readable_text(page) -> None:
    grid = page.get_by_role("table", name=GRID_NAME)
    cells = grid.locator("td[style*='background-color']")
    assert cells.count() == 10 * len(page.rendered.digest.days)
    texts = cells.all_inner_texts()
    assert all(
        text.split("\n")[0] in {"Green", "Amber", "Red", "No return", "Closed", "Pending"} for text in texts
    )
    sizes = cells.evaluate_all("cells => cells.map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert min(sizes) >= 12


def test_charts_load_and_fit_the_screen(page) -> None:
    images = page.locator("img")
    assert (
        images.count() == len(page.rendered.images) == 3
    )  # trend, delivery against plan (issue 19), source mix
    width = page.viewport_size["width"]
    for index in range(images.count()):
        image = images.nth(index)
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
        assert image.bounding_box()["width"] <= width
        assert image.get_attribute("alt")


def test_hostile_comment_does_not_run(page) -> None:
    assert page.dialogs == []
    assert page.locator("script").count() == 0
    assert page.get_by_text('<script>alert("x")</script>', exact=False).first.is_visible()


def test_no_wcag_aa_violations(page) -> None:
    assert axe_violations(page) == []
