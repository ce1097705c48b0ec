"""The upload page's HTML (server-rendered, no script): labels, errors, outcome table, escaping."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def page(surgehub_home: Path) -> Iterator[tuple[TestClient, str]]:
    settings, engine = settings_for(surgehub_home)
    token = token_for(engine, "01W")
    with TestClient(app_for(settings)) as client:
        yield client, token


def test_page_has_labelled_fields_hints_and_template_links(page: tuple[TestClient, str]) -> None:
    client, _ = page
    response = client.get("/")
    html = response.text
    assert response.status_code == 200
    assert '<html lang="en-GB">' in html
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for field in ("token", "file", "status-token"):
        assert f'<label for="{field}">' in html
        assert f'id="{field}"' in html
        assert f'aria-describedby="{field}-hint"' in html
    assert 'type="password" id="token"' in html
    assert 'autocomplete="current-password"' in html
    assert 'href="/api/v1/template.csv"' in html
    assert 'href="/api/v1/template.xlsx"' in html
    assert 'href="#main-content"' in html


def test_missing_token_and_file_are_listed_in_an_error_summary_linked_to_the_fields(
    page: tuple[TestClient, str],
) -> None:
    client, _ = page
    response = client.post("/", files={"token": (None, "")}, data={})
    html = response.text
    assert response.status_code == 400
    assert re.search(r'class="error-summary" role="alert"[^>]*tabindex="-1" autofocus', html)
    assert '<a href="#token">Enter your locality' in html
    assert '<a href="#file">Choose the return file' in html
    assert 'aria-describedby="token-hint token-error" aria-invalid="true"' in html
    assert "<title>Error: " in html


def test_wrong_token_is_an_error_on_the_token_field(page: tuple[TestClient, str]) -> None:
    client, _ = page
    response = client.post("/", data={"token": "sh_nope"}, files={"file": ("r.csv", valid_return("01W"))})
    assert response.status_code == 401
    assert '<a href="#token">The submission token was not recognised' in response.text


def test_rejected_return_shows_each_error_with_rule_row_column_and_fix(page: tuple[TestClient, str]) -> None:
    client, token = page
    response = client.post(
        "/", data={"token": token}, files={"file": ("stockport.csv", rejected_return("01W"))}
    )
    html = response.text
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert "Return rejected" in html
    assert "<h2>Errors to fix (2)</h2>" in html
    assert "<table" not in html  # findings stack as lists: nothing scrolls sideways on a phone
    assert re.search(r'<h3><a href="/guide#rule-R09">R09</a> \(1\): appts_booked', html)
    assert re.search(
        r"<strong>Hub 01W-H1, 2026-11-24</strong>, spreadsheet row 2, column <code>appts_booked</code>:"
        r"\s+appts_booked \d+ is more",
        html,
    )
    assert "<dt>File</dt><dd>stockport.csv</dd>" in html
    assert "<dt>Activity dates</dt><dd>2026-11-24</dd>" in html
    assert "Hub-days Stockport still owes" in html  # the locality's own view follows the outcome


def test_accepted_return_is_announced_as_a_status(page: tuple[TestClient, str]) -> None:
    client, token = page
    response = client.post("/", data={"token": token}, files={"file": ("ok.csv", valid_return("01W"))})
    html = response.text
    assert response.status_code == 200
    assert re.search(r'class="panel panel--accepted"\s+role="status"', html)
    assert "Return accepted" in html
    assert "<dd>queued</dd>" in html


def test_file_names_are_escaped_not_rendered(page: tuple[TestClient, str]) -> None:
    client, token = page
    name = '<img src=x onerror="alert(1)">.csv'
    html = client.post("/", data={"token": token}, files={"file": (name, valid_return("01W"))}).text
    assert "<img src=x" not in html
    assert re.search(
        r"<dd>&lt;img src=x onerror=\S+alert\(1\)\S+&gt;\.csv</dd>", html
    )  # httpx sends " as %22


def test_my_returns_lists_submissions_and_owed_hub_days(page: tuple[TestClient, str]) -> None:
    client, token = page
    client.post("/", data={"token": token}, files={"file": ("ok.csv", valid_return("01W"))})
    html = client.post("/my-returns", data={"token": token}).text
    assert "Returns Stockport has sent" in html
    assert "ok.csv" in html
    assert "01W-H1" in html
    refused = client.post("/my-returns", data={"token": ""})
    assert refused.status_code == 400
    assert '<a href="#status-token">' in refused.text


def test_mounted_under_a_prefix_the_page_links_and_posts_within_it(surgehub_home: Path) -> None:
    """As an Airflow plugin's ``fastapi_apps`` entry would mount it (served there without auth)."""
    from fastapi import FastAPI

    settings, engine = settings_for(surgehub_home)
    token = token_for(engine, "02H")
    host = FastAPI()
    host.mount("/surgehub", app_for(settings))
    with TestClient(host) as client:
        html = client.get("/surgehub/").text
        assert 'action="/surgehub/"' in html
        assert 'href="/surgehub/api/v1/template.csv"' in html
        assert 'action="/surgehub/my-returns"' in html
        assert client.get("/surgehub/api/v1/template.xlsx").status_code == 200
        assert client.get("/surgehub/api/v1/returns").status_code == 401  # its own auth, whatever the host
        sent = client.post(
            "/surgehub/", data={"token": token}, files={"file": ("w.csv", valid_return("02H"))}
        )
        assert sent.status_code == 200
        assert "Return accepted" in sent.text


def test_warm_up_reaches_the_gx_suite_whatever_the_date(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surgehub.api.warmup import warm_up

    monkeypatch.setenv("SURGEHUB_NOW", "2027-07-01T09:00")  # summer: outside the season
    settings, _engine = settings_for(surgehub_home)
    assert warm_up(settings) == "accepted"  # a whole valid return, so every rule (GX included) ran
