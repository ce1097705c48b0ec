"""The upload page in Debian's Chromium (Playwright) against a real `surgehub serve`: WCAG 2.2 AA with axe-core,
keyboard use, errors announced, and a return sent and its outcome read.

Screenshots are kept in test-artifacts/api/ (git-ignored).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from surgehub.config import PROJECT_ROOT
from tests.conftest import require
from tests.integration.api.conftest import Server
from tests.unit.api.api_fixtures import rejected_return, valid_return

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "api"
WCAG = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), f"Debian's chromium at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "the playwright package")
    require(
        importlib.util.find_spec("axe_playwright_python") is not None, "the axe-playwright-python package"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def axe_violations(page: Any) -> list[tuple[str, str, int]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    return [(v["id"], v["help"], len(v["nodes"])) for v in results.response["violations"]]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_empty_page_is_accessible_and_usable_by_keyboard(server: Server, page: Any) -> None:
    page.goto(server.url + "/")
    assert axe_violations(page) == []
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
    shot(page, "01-empty")


def test_submitting_nothing_announces_the_errors_and_focuses_the_summary(server: Server, page: Any) -> None:
    page.goto(server.url + "/")
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
    assert axe_violations(page) == []
    shot(page, "02-errors")


def test_a_rejected_return_shows_each_error_in_a_table(server: Server, page: Any, tmp_path: Path) -> None:
    path = tmp_path / "salford-24-nov.csv"
    path.write_bytes(rejected_return("01G"))
    page.goto(server.url + "/")
    page.get_by_label("Submission token", exact=True).first.fill(server.tokens["01G"])
    page.get_by_label("Return file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Send return").click()
    outcome = page.get_by_role("alert")
    assert "Return rejected" in outcome.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('aria-labelledby')") == "outcome-title"
    table = page.get_by_role("table", name="Errors (2)")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Rule", "Row", "Column", "What is wrong and how to fix it"]
    rows = [r.locator("td").all_inner_texts() for r in table.locator("tbody tr").all()]
    assert rows[0][:3] == ["R09", "1", "appts_booked"]
    assert "cannot exceed" in rows[0][3]
    assert "salford-24-nov.csv" in page.locator("dl.summary").inner_text()
    assert axe_violations(page) == []
    shot(page, "03-rejected")


def test_an_accepted_return_is_announced_with_its_state(server: Server, page: Any, tmp_path: Path) -> None:
    path = tmp_path / "oldham.csv"
    path.write_bytes(valid_return("00Y", seed=3))
    page.goto(server.url + "/")
    page.locator("#token").fill(server.tokens["00Y"])
    page.locator("#file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Send return").click()
    status = page.get_by_role("status")
    assert "Return accepted" in status.inner_text()
    assert "queued" in page.locator("dl.summary").inner_text()
    owed = page.get_by_role("table", name="with no accepted return yet")
    assert owed.is_visible()
    assert axe_violations(page) == []
    shot(page, "04-accepted")


def test_page_reflows_at_320_css_pixels(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 700})
    narrow = context.new_page()
    try:
        narrow.goto(server.url + "/")
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
        assert axe_violations(narrow) == []
        shot(narrow, "05-320px")
    finally:
        context.close()
