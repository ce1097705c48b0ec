"""The upload page in Debian's Chromium (Playwright) against a real `surgehub serve`: WCAG 2.2 AA with axe-core,
keyboard use, errors announced, and a return sent and its outcome read.

Screenshots are kept in test-artifacts/api/ (git-ignored).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from surgehub.config import PROJECT_ROOT
from tests.support.browser import axe_violations
from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.api import Server

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "api"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_empty_page_is_accessible_and_usable_by_keyboard(api_server: Server, page: Any) -> None:
    page.goto(api_server.url + "/")
    assert axe_violations(page, best_practice=True) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Send return"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.get_by_role("button", name="Show returns and hub-days owed").focus()
    ring = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert "rgb(11, 12, 12) 0px 0px 0px 6px" in ring  # the secondary button keeps its black focus ring
    shot(page, "01-empty")


def test_submitting_nothing_announces_the_errors_and_focuses_the_summary(
    api_server: Server, page: Any
) -> None:
    page.goto(api_server.url + "/")
    page.get_by_role("button", name="Send return").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert "Enter your locality's submission token" in summary.inner_text()
    page.get_by_role("link", name="Choose the return file to send (CSV or Excel)").click()
    assert page.evaluate("location.hash") == "#file"
    assert page.get_by_label("Return file").get_attribute("aria-invalid") == "true"
    assert axe_violations(page, best_practice=True) == []
    shot(page, "02-errors")


def test_a_rejected_return_shows_each_error_grouped_by_rule(
    api_server: Server, page: Any, tmp_path: Path
) -> None:
    path = tmp_path / "salford-24-nov.csv"
    path.write_bytes(rejected_return("01G"))
    page.goto(api_server.url + "/")
    page.get_by_label("Submission token", exact=True).first.fill(api_server.tokens["01G"])
    page.get_by_label("Return file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Send return").click()
    outcome = page.get_by_role("alert")
    assert "Return rejected" in outcome.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('aria-labelledby')") == "outcome-title"
    assert page.get_by_role("heading", name="Errors to fix (2)").is_visible()
    rules = page.locator("ul.findings > li")
    assert rules.locator("h3").all_inner_texts()[0].startswith("R09 (1): appts_booked")
    assert "spreadsheet row 2, column appts_booked" in rules.first.inner_text()
    assert "cannot exceed" in rules.first.inner_text()
    assert page.get_by_role("link", name="R09").get_attribute("href") == "/guide#rule-R09"
    assert "salford-24-nov.csv" in page.locator(".panel dl.summary").inner_text()
    assert axe_violations(page, best_practice=True) == []
    shot(page, "03-rejected")


def test_an_accepted_return_is_announced_with_its_state(
    api_server: Server, page: Any, tmp_path: Path
) -> None:
    path = tmp_path / "oldham.csv"
    path.write_bytes(valid_return("00Y", seed=3))
    page.goto(api_server.url + "/")
    page.locator("#token").fill(api_server.tokens["00Y"])
    page.locator("#file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Send return").click()
    status = page.get_by_role("status")
    assert "Return accepted" in status.inner_text()
    assert "queued" in page.locator(".panel dl.summary").inner_text()
    owed = page.locator("details.owed")  # the days still owed, summarised; the hub-days collapsed
    assert owed.count() == 1
    assert "2026-11-11, overdue" in (owed.text_content() or "")
    assert "2026-11-24," not in (owed.text_content() or "")  # the day just sent is not owed
    assert axe_violations(page, best_practice=True) == []
    shot(page, "04-accepted")


def test_page_reflows_at_320_css_pixels(api_server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 700})
    narrow = context.new_page()
    try:
        narrow.goto(api_server.url + "/")
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
        assert axe_violations(narrow, best_practice=True) == []
        shot(narrow, "05-320px")
    finally:
        context.close()
