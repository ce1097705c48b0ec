"""Issue 16's journey in Chromium at a phone's width (390 px) and a desktop's (1280 px), using only the
upload page and what it links to: download a template pre-filled with the locality's hubs, send it
with a mistake, read the errors (grouped, stacked, each rule linked to the guide), follow the rule
to the guide, fix the file, send it again, and see it accepted. Zero axe violations (WCAG 2.2 AA and
best practices, scrollable-region-focusable included) on every page, and nothing scrolls sideways.

Screenshots are kept in test-artifacts/api/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import pytest

from surgehub.config import PROJECT_ROOT
from tests.support.browser import axe_violations
from tests.support.returns import csv_bytes, locality_rows

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.api import Server

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "api"
#: Width and the locality sending at that width (one locality each: the server is shared by the module).
WIDTHS = {390: "01D", 1280: "02A"}


@pytest.fixture(params=sorted(WIDTHS), ids=lambda w: f"{w}px")
def width_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[int, Any]]:
    width = int(request.param)
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield width, opened
    context.close()


def check(page: Any, width: int, name: str) -> None:
    """No axe violation, nothing wider than the screen; a screenshot kept."""
    assert axe_violations(page, best_practice=True) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{width}-{name}.png"), full_page=True)


def filled(template: bytes, code: str, **broken: str) -> bytes:
    """The downloaded template with its figures filled in (from a valid return of the same hubs and
    day); ``broken`` written over the first row."""
    rows = list(csv.DictReader(io.StringIO(template.decode("utf-8"))))
    figures = {(r["hub_code"], r["activity_date"]): r for r in locality_rows(code, [_day(rows)], 5)}
    out = []
    for i, row in enumerate(rows):
        values = dict(figures[(row["hub_code"], row["activity_date"])])
        values.update({name: text for name, text in row.items() if text})  # what the template filled in
        if i == 0:
            values.update(broken)
        out.append(values)
    return csv_bytes(out)


def _day(rows: list[dict[str, str]]) -> Any:
    from datetime import date

    return date.fromisoformat(rows[0]["activity_date"])


def send(page: Any, token: str, path: Path) -> None:
    page.locator("#token").fill(token)
    page.locator("#file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Send return").click()


def test_bad_file_fix_good_file(api_server: Server, width_page: tuple[int, Any], tmp_path: Path) -> None:
    width, page = width_page
    code = WIDTHS[width]
    token = api_server.tokens[code]
    page.goto(api_server.url + "/")
    check(page, width, "01-upload")

    # the template, from the page's own links: pre-filled with the locality's hubs for a chosen day
    page.get_by_role("link", name="Templates pre-filled with your hubs").click()
    check(page, width, "02-templates")
    page.get_by_label("Locality").select_option(code)
    page.get_by_label("Activity day (optional)").fill("2026-11-24")
    with page.expect_navigation():
        page.get_by_role("button", name="Show templates").click()
    check(page, width, "03-template-chosen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the CSV template").click()
    template = download.value.path().read_bytes()
    assert template.decode().count(f",{code},") >= 1

    # a bad file: booked more than offered on the first row, and a hub code that does not exist
    bad = tmp_path / f"{code}-24nov.csv"
    bad.write_bytes(filled(template, code, appts_offered="1", hub_code=f"{code}-H9"))
    page.get_by_role("link", name="Send a return").click()
    send(page, token, bad)
    assert "Return rejected" in page.get_by_role("alert").inner_text()
    summary = page.locator("dl.summary").first.inner_text()
    assert f"{code}-24nov.csv" in summary
    assert "2026-11-24" in summary
    check(page, width, "04-rejected")
    rules = page.locator("ul.findings > li h3").all_inner_texts()
    assert any(r.startswith("R06") for r in rules)

    # the rule's entry in the guide, and the register's hub codes, from the links on the page
    page.get_by_role("link", name="R06", exact=True).click()
    assert page.evaluate("location.hash") == "#rule-R06"
    assert page.locator("#rule-R06").is_visible()
    check(page, width, "05-guide")
    page.get_by_role("link", name="Hub register").first.click()
    page.locator(f'a[href="/register/{code}"]').first.click()
    registered = page.locator("h2.hub code").all_inner_texts()
    assert registered
    check(page, width, "06-register")

    # fixed: the template's own rows, with the figures right
    good = tmp_path / f"{code}-24nov-fixed.csv"
    good.write_bytes(filled(template, code))
    page.goto(api_server.url + "/")
    send(page, token, good)
    assert "Return accepted" in page.get_by_role("status").inner_text()
    owed = page.locator("details.owed")
    assert not owed.locator("li").first.is_visible()  # collapsed: the page stays short on a phone
    page.get_by_text("Show the hub-days owed").click()
    listed = owed.inner_text()
    assert "2026-11-11, overdue" in listed
    assert "2026-11-24," not in listed  # the day just sent is not owed
    check(page, width, "07-accepted")
