"""Receipts in headless Chromium at phone and desktop widths: no WCAG AA violations, nothing off-screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from surgehub.returns.receipt import render_receipt
from surgehub.returns.validate import validate_return
from tests.support.browser import axe_violations
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.returns import corpus_row, csv_bytes
from tests.support.timeline import RECEIVED_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 375, "desktop": 1280}


def _receipts() -> dict[str, str]:
    rejected = csv_bytes(
        [
            corpus_row(appts_offered="80", comments="Pt 943 476 5919 <script>alert(1)</script>"),
            corpus_row(hub_code="14L-H2", hub_status="Shut", sessions_delivered="5"),
            corpus_row(hub_code="14L-H9", signed_off_by="L" * 101),
        ]
    )
    out = {}
    for name, data in (("rejected", rejected), ("warned", corpus_file("example-return.csv"))):
        result = validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)
        out[name] = render_receipt(
            result,
            locality_code="14L",
            locality_name="Manchester",
            received_at=RECEIVED_AT,
            submission_id=3,
            settings=SETTINGS,
        )[2]
    return out


@pytest.fixture(scope="module")
def receipts() -> dict[str, str]:
    return _receipts()


@pytest.fixture(params=[(k, w) for k in ("rejected", "warned") for w in sorted(WIDTHS)], ids=str)
def page(request: pytest.FixtureRequest, browser, receipts) -> Iterator[object]:
    kind, screen = request.param
    context = browser.new_context(viewport={"width": WIDTHS[screen], "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.set_content(receipts[kind], wait_until="load")
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    yield opened
    context.close()


def test_receipt_has_no_wcag_aa_violations(page) -> None:
    assert axe_violations(page) == []


def test_receipt_fits_the_screen_and_runs_no_script(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.dialogs == []
    assert page.locator("script").count() == 0
    assert page.get_by_text("Outcome:").first.is_visible()
