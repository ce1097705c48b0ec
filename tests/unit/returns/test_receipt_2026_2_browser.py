"""A 2026.2 receipt (capped rules, rules not checked, spreadsheet rows, R16 in a header) in headless Chromium:
no WCAG 2.2 AA violations at phone and desktop widths, nothing off-screen, the notes visible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from surgehub.returns.receipt import render_receipt
from surgehub.returns.validate import validate_return
from surgehub.spec import COLUMN_NAMES as HEADER
from tests.support.browser import axe_violations
from tests.support.corpus import SETTINGS
from tests.support.returns import corpus_row as row
from tests.support.returns import csv_bytes
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(scope="module")
def receipt_html() -> str:
    header = [h for h in HEADER if h != "comments"] + ["Patient 943 476 5919"]
    data = csv_bytes(
        [row(appts_offered="80", hub_code=f"14L-H{1 + i % 3}") for i in range(60)], header=header
    )
    result = validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)
    return render_receipt(
        result,
        locality_code="14L",
        locality_name="Manchester",
        received_at=RECEIVED_AT,
        submission_id=9,
        settings=SETTINGS,
    )[2]


@pytest.fixture(params=sorted(WIDTHS))
def page(request: pytest.FixtureRequest, browser: Any, receipt_html: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    opened = context.new_page()
    opened.set_content(receipt_html, wait_until="load")
    yield opened
    context.close()


def test_capped_receipt_has_no_wcag_aa_violations(page: Any) -> None:
    assert axe_violations(page) == []


def test_capped_receipt_fits_the_screen_and_says_what_is_not_listed(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.get_by_text("and 10 more R09 like these").is_visible()
    assert page.get_by_role("heading", name="Not checked").is_visible()
    assert page.get_by_text("Header row").first.is_visible()
    assert "5919" not in page.content()
