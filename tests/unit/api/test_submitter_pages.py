"""Pages for submitters (issue 16): the guide with an anchor per rule, each locality's hub register,
and templates pre-filled with the locality's hubs for the next return due or a chosen day."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from surgehub import spec
from surgehub.api.guide import guide_html
from surgehub.config import load_settings
from surgehub.timeliness import next_return_days
from surgehub.warehouse.register import read_register
from tests.support.api import app_for, settings_for
from tests.support.timeline import london

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

MONDAY_MORNING = "2026-11-30T09:00:00+00:00"


@pytest.fixture
def site(surgehub_home: Path) -> Iterator[tuple[TestClient, Engine]]:
    settings, engine = settings_for(surgehub_home)
    with TestClient(app_for(settings)) as client:
        yield client, engine


def test_the_guide_is_served_with_an_anchor_for_every_rule(site: tuple[TestClient, Engine]) -> None:
    client, _ = site
    response = client.get("/guide")
    assert response.status_code == 200
    html = response.text
    for rule in spec.RULES:
        assert f'id="rule-{rule}"' in html, rule
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # the guide lists hub codes, each locality linked to its register page
    assert 'href="/register/14L"' in html
    assert "<code>14L-H1</code>" in html
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # every anchor unique


def test_the_guide_passes_no_raw_html_through() -> None:
    from markdown_it import MarkdownIt

    assert "<script" not in guide_html()
    md = MarkdownIt("commonmark", {"html": False})
    assert "&lt;script&gt;" in md.render("<script>alert(1)</script>")


def test_each_locality_has_its_hub_register_page(site: tuple[TestClient, Engine]) -> None:
    client, engine = site
    index = client.get("/register").text
    view = read_register(engine).latest()
    for loc in view.localities:
        assert f'href="/register/{loc.sub_icb_code}"' in index
    page = client.get("/register/14l")  # any case
    assert page.status_code == 200
    for hub in view.hubs_of("14L"):
        assert hub.hub_code in page.text
        assert hub.active_from.isoformat() in page.text
    assert 'href="/api/v1/template.csv?locality=14L"' in page.text
    assert client.get("/register/XXX").status_code == 404
    assert client.get("/register/%E2%91%A0%E2%91%A0%E2%91%A0").status_code == 404


def test_the_next_return_due_is_the_weekend_on_a_monday() -> None:
    settings = load_settings()
    monday = london(2026, 11, 30, 9, 0)
    assert next_return_days(monday, settings) == (date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29))
    assert next_return_days(london(2026, 11, 30, 13, 30), settings) == (date(2026, 11, 30),)
    assert next_return_days(london(2026, 11, 25, 9, 0), settings) == (date(2026, 11, 24),)


def test_a_template_is_prefilled_with_the_hubs_active_on_the_days_of_the_next_return(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURGEHUB_NOW", MONDAY_MORNING)
    settings, engine = settings_for(surgehub_home)
    hubs = sorted(h.hub_code for h in read_register(engine).latest().hubs_of("14L"))
    with TestClient(app_for(settings)) as client:
        response = client.get("/api/v1/template.csv?locality=14L")
        assert response.status_code == 200
        assert "surge-hub-return-14L-2026-11-27_to_2026-11-29.csv" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
        assert [(r["activity_date"], r["hub_code"]) for r in rows] == [
            (day, hub) for day in ("2026-11-27", "2026-11-28", "2026-11-29") for hub in hubs
        ]
        assert {r["sub_icb_code"] for r in rows} == {"14L"}
        assert {r["appts_offered"] for r in rows} == {""}  # the figures are the submitter's

        workbook = client.get("/api/v1/template.xlsx?locality=14L&date=2026-11-24")
        sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == list(spec.COLUMN_NAMES)
        assert [(r[0].date(), r[1], r[2]) for r in values[1:]] == [
            (date(2026, 11, 24), "14L", h) for h in hubs
        ]

        assert client.get("/api/v1/template.csv?locality=ZZZ").status_code == 422
        assert client.get("/api/v1/template.csv?locality=14L&date=24.11.2026").status_code == 422
        header_only = client.get("/api/v1/template.csv").content.decode()
        assert header_only.strip() == ",".join(spec.COLUMN_NAMES)


def test_the_templates_page_offers_a_chosen_day_and_says_what_is_wrong(
    site: tuple[TestClient, Engine],
) -> None:
    client, _ = site
    page = client.get("/templates?locality=14L&date=2026-11-24").text
    assert 'href="/api/v1/template.csv?locality=14L&amp;date=2026-11-24"' in page
    assert "14L-H1" in page
    bad = client.get("/templates?locality=14L&date=tomorrow")
    assert bad.status_code == 400
    assert '<a href="#date">Enter the activity day as a date' in bad.text
    assert 'aria-invalid="true"' in bad.text


def test_the_upload_page_links_the_guide_register_and_templates(site: tuple[TestClient, Engine]) -> None:
    client, _ = site
    html = client.get("/").text
    for href in ("/guide", "/register", "/templates"):
        assert re.search(rf'<a href="{href}"', html), href


def test_before_the_season_the_template_is_the_header_row(
    surgehub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURGEHUB_NOW", "2026-10-20T09:00:00+00:00")  # the season opens on 1 November
    settings, _engine = settings_for(surgehub_home)
    with TestClient(app_for(settings)) as client:
        response = client.get("/api/v1/template.csv?locality=14L")
        assert response.status_code == 200
        assert response.content.decode().strip() == ",".join(spec.COLUMN_NAMES)
        assert client.get("/templates?locality=14L").status_code == 200
