"""The digest's HTML and text bodies: email-safe, accessible, hostile text inert, under Gmail's clipping size."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from surgehub.digest import render
from surgehub.digest.build import build_digest
from surgehub.digest.model import DigestKind, ExceptionItem, HubComment, RenderedDigest, WarningItem
from surgehub.warehouse.db import get_engine
from tests.support.digest_timeline import HOSTILE_COMMENT, LOCALITY_NAMES, timeline_settings
from tests.support.timeline import BOARD_AT

GMAIL_CLIP_BYTES = 100_000


class Page(HTMLParser):
    """Tags with attributes, and tables as rows of (tag, text) cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._stack.append({"caption": "", "rows": [], "attrs": dict(attrs)})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._stack:
            self._stack[-1]["rows"].append([])
        elif tag in {"td", "th"} and self._stack:
            self._cell = []
            self._stack[-1]["rows"][-1].append((tag, dict(attrs), self._cell))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
        elif tag == "caption" and self._caption is not None and self._stack:
            self._stack[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None
        elif tag in {"td", "th"}:
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)

    def table(self, caption_start: str) -> list[list[tuple[str, dict, str]]]:
        found = next(t for t in self.tables if t["caption"].startswith(caption_start))
        return [
            [(tag, attrs, " ".join(" ".join(text).split())) for tag, attrs, text in row]
            for row in found["rows"]
        ]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> RenderedDigest:
    settings = timeline_settings(tmp_path_factory.getbasetemp() / "digest-timeline")
    built = build_digest(get_engine(settings.warehouse_url), DigestKind.BOARD, BOARD_AT, settings)
    return render.render_digest(built)


def test_html_stays_under_gmails_clipping_size(board) -> None:
    assert len(board.html.encode("utf-8")) < GMAIL_CLIP_BYTES


def test_html_has_no_script_event_handler_stylesheet_or_external_resource(board) -> None:
    page = parse(board.html)
    tag_names = {tag for tag, _ in page.tags}
    assert not tag_names & {"script", "link", "iframe", "object", "form", "style"}
    for _tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")]
        for name in ("src", "background"):
            value = attrs.get(name)
            assert value is None or value.startswith("cid:"), f"{name}={value}"
        # issue 19: the only links are each locality's lineage page on the configured base URL
        href = attrs.get("href")
        assert href is None or href.startswith("https://surgehub.gm-surgehub.example.nhs.uk/explain/"), href
    assert "<html lang=" in board.html


def test_hostile_comment_is_shown_as_escaped_text_clipped_with_its_non_ascii_intact(board) -> None:
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in board.html
    assert "=HYPERLINK(&#34;http://evil.example/&#34;,&#34;click&#34;)" in board.html
    assert "Zoë’s team — café in Wythenshawe shut; 患者 waited ✓" in board.html
    assert HOSTILE_COMMENT[:200] not in board.html  # escaped, never raw
    page = parse(board.html)
    shown = [t for t in page.tables if "Wigan" in str(t["rows"])]
    assert shown
    assert HOSTILE_COMMENT.split()[-1] + "”" not in board.html  # 990 characters are cut, with an ellipsis
    assert "…”" in board.html


def test_rag_grid_has_ten_localities_and_a_text_label_in_every_cell(board) -> None:
    rows = parse(board.html).table("Status and escalation level")
    header, body = rows[0], rows[1:]
    assert [text for _, _, text in header] == [
        "Locality",
        "Fri 20",
        "Sat 21",
        "Sun 22",
        "Mon 23",
        "Tue 24",
        "Since last digest",
    ]
    assert [row[0][2] for row in body] == LOCALITY_NAMES
    labels = re.compile(r"^(Green 1|Amber 2|Red [34]|No return( ESC)?|Closed|Pending)$")
    for row in body:
        for tag, attrs, text in row[1:-1]:
            assert tag == "td", text
            assert labels.match(text), text
            assert "background-color:" in attrs["style"]
    bolton, oldham = body[0], body[4]
    assert bolton[-2][2] == "Red 3"
    assert bolton[-1][2].startswith("▲ Worse")
    assert oldham[-2][2] == "No return ESC"


def test_every_table_header_has_a_scope_and_every_layout_table_is_presentational(board) -> None:
    page = parse(board.html)
    for tag, attrs in page.tags:
        if tag == "th":
            assert attrs.get("scope") in {"col", "row"}
    data_tables = [t for t in page.tables if t["attrs"].get("role") != "presentation"]
    assert all(any(tag == "th" for row in t["rows"] for tag, *_ in row) for t in data_tables)


def test_charts_are_inline_cid_images_with_descriptive_alt_text(board) -> None:
    page = parse(board.html)
    images = {attrs["src"][4:]: attrs for tag, attrs in page.tags if tag == "img"}
    assert {image.cid for image in board.images} == {"utilisation-trend", "plan-delivery", "source-mix"}
    assert set(images) == {image.content_id for image in board.images}
    assert all("@" in name for name in images), "RFC 2392: cid: names an addr-spec"
    for image in board.images:
        assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert images[image.content_id]["alt"] == image.alt
        assert len(image.png) < 60_000
    trend = next(i for i in board.images if i.cid == "utilisation-trend")
    assert all(name in trend.alt for name in LOCALITY_NAMES)
    assert "Bolton 99% rising" in trend.alt
    mix = next(i for i in board.images if i.cid == "source-mix")
    assert "GP practice" in mix.alt
    assert "NHS 111" in mix.alt


def test_text_alternative_reads_on_its_own_with_all_six_sections(board) -> None:
    text = board.text
    headings = [
        "1. PERIOD AND RETURNS",
        "2. RAG BY LOCALITY",
        "3. ACTIVITY",
        "4. FLOW",
        "5. EXCEPTIONS",
        "6. ABOUT THESE FIGURES",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert text.index("IN SHORT") < positions[0]
    assert "- RED: Bolton, level 3" in text
    assert "- NO RETURN: Oldham (escalated: two days running)" in text
    assert "management information" in text
    assert "REVISED Stockport, 01W-H1, Thu 19 Nov: version 1 -> 2" in text
    assert "Pending, not judged: Wed 25 Nov" in text
    assert all(name in text for name in LOCALITY_NAMES)
    assert "{{" not in text
    assert "{%" not in text


def test_html_holds_the_six_sections_and_the_management_information_caveat(board) -> None:
    for heading in ("1. Period and returns", "2. RAG by locality", "3. Activity", "4. Flow", "5. Exceptions"):
        assert heading in board.html
    assert render.MANAGEMENT_INFORMATION.replace("'", "&#39;") in board.html
    assert "REVISED" in board.html
    assert "GM season to date" in board.html


def test_an_oversized_digest_is_rendered_compact_and_still_fits(board) -> None:
    long = "x" * 400 + " " + HOSTILE_COMMENT
    digest = board.digest
    cell = digest.exceptions[0].cell
    exceptions = tuple(
        ExceptionItem(
            sub_icb_code=loc.sub_icb_code,
            name=loc.name,
            cell=dataclasses.replace(cell, day=date(2026, 11, day)),
            comments=(HubComment("H1", "Hub one", long), HubComment("H2", "Hub two", long)),
        )
        for loc in digest.localities
        for day in range(17, 25)
    )
    warnings = tuple(
        WarningItem(
            sub_icb_code=loc.sub_icb_code,
            name=loc.name,
            rules=("W01", "W04"),
            comment=f"{n} {long}",
            hub_days=(("H1", date(2026, 11, 24)),),
        )
        for loc in digest.localities
        for n in range(12)
    )
    huge = dataclasses.replace(digest, exceptions=exceptions, warnings=warnings)
    html = render.render_html(huge, board.images)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert "Summarised to keep this email readable" in html
    assert "fewer sessions delivered than planned ×12" in html
