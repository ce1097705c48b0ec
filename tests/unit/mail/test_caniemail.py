"""The digest and both kinds of receipt (and the reminder) checked against caniemail's client-support
data (npm package ``caniemail``, pinned in tests/support/caniemail/, installed with ``npm ci``).

For Gmail, Outlook, Apple Mail, Yahoo and Samsung Email, every platform, the latest test result:
- nothing used may be unsupported ("n"), except the four documented below, where what is unsupported
  is a declaration that changes nothing a reader sees;
- partial support ("a") only where caniemail's notes, read against how the feature is used here, show
  nothing confusing results: each such feature is listed in ``PARTIAL`` with the reason, and where the
  reason depends on how it is used, a check on every use (e.g. no negative margins);
- "unknown" (u) results are not counted either way.
An entry no longer needed fails the test, so the list stays as small as the templates allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from surgehub.digest.build import build_digest
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.warehouse.db import get_engine
from tests.support.caniemail import FAMILIES, features, install, verdicts
from tests.support.digest_timeline import timeline_settings
from tests.support.mails import mails_of_every_kind
from tests.support.timeline import BOARD_AT

if TYPE_CHECKING:
    from collections.abc import Callable

    pass


def _every(pattern: str) -> Callable[[str], bool]:
    return lambda where: re.search(pattern, where) is not None


def _none(pattern: str) -> Callable[[str], bool]:
    return lambda where: re.search(pattern, where) is None


@dataclass(frozen=True)
class Allowed:
    reason: str
    #: Every use must satisfy this (the reason holds only for such uses).
    holds: Callable[[str], bool] = field(default=lambda _where: True)
    #: Which results it covers: partial only, unless the reason covers "n" too.
    supports: frozenset[str] = frozenset({"a"})


NOT_SUPPORTED_BUT_HARMLESS = frozenset({"a", "n"})

ALLOWED: dict[str, Allowed] = {
    # -- "n" somewhere, with nothing to see -----------------------------------------------------------
    "html-doctype": Allowed(
        "Outlook for Windows, Yahoo for Android and Samsung Email ignore the doctype (caniemail: 'has no "
        "impact'); the layout is tables and inline styles, which do not depend on the rendering mode",
        supports=NOT_SUPPORTED_BUT_HARMLESS,
    ),
    "html-body": Allowed(
        "Where <body> is dropped (Outlook for Mac, Yahoo's apps) or replaced by a <div>, its styles go with "
        "it: every template repeats them (background, colour, font) on its outer table",
        supports=NOT_SUPPORTED_BUT_HARMLESS,
    ),
    "html-meta-color-scheme": Allowed(
        "A hint that the digest is designed light only; clients that ignore it apply their own dark-mode "
        "handling exactly as if it were absent, and every colour pair is checked for contrast on its own",
        supports=NOT_SUPPORTED_BUT_HARMLESS,
    ),
    "html-role": Allowed(
        "role=presentation/status/alert/table are for screen readers; Windows Mail (discontinued) ignores "
        "them and Yahoo keeps them on tables only, where every one of them is: nothing visible changes",
        holds=_every(r"^<table> role"),
        supports=NOT_SUPPORTED_BUT_HARMLESS,
    ),
    # -- partial support ("a"), with the notes read against how each is used --------------------------
    "css-border": Allowed(
        "Outlook for Windows: borders over 8px, and on <p> or <div>, are unreliable; ours are 1-8px, on "
        "table cells and tables",
        holds=lambda w: (
            not re.search(r"^<(p|div)>", w) and all(int(n) <= 8 for n in re.findall(r"(\d+)px", w))
        ),
    ),
    "css-font-size": Allowed(
        "rem, relative and percentage sizes are not supported here and there; every size here is in px",
        holds=_every(r"font-size:\d+px$"),
    ),
    "css-font-weight": Allowed(
        "numeric weights are rounded or unsupported; only bold and normal are used",
        holds=_every(r"font-weight:(bold|normal)$"),
    ),
    "css-line-height": Allowed(
        "Outlook for Windows treats em and px line heights oddly (a little more or less leading); text stays "
        "whole and in order",
    ),
    "css-margin": Allowed(
        "negative and auto margins are unsupported, and Outlook for Windows ignores margins on <span> and "
        "<body>: none is negative or auto, none on a <span>; <body> margin:0 only removes the default",
        holds=lambda w: "-" not in w.split(":", 1)[1] and "auto" not in w and not w.startswith("<span>"),
    ),
    "css-max-width": Allowed(
        "Outlook for Windows applies max-width to tables only: it is used on tables and on the charts, "
        "which Outlook shows at their width attribute (480 px)",
        holds=_every(r"^<(table|img)> "),
    ),
    "css-padding": Allowed(
        "Outlook for Windows pads only table cells (and evens vertical padding across a row): boxes are table "
        "cells; padding on <body>, <caption>, <h2> or a list is then Outlook's default spacing",
        holds=_none(r"^<(div|p|span)> "),
    ),
    "css-text-align": Allowed(
        "start, end and match-parent are unsupported in some clients: only left, right and center are used",
        holds=_every(r"text-align:(left|right|center)$"),
    ),
    "css-width": Allowed(
        "Outlook for Windows ignores CSS width on <img>, <div>, <p>, <span> and <body>; the charts also carry "
        "a width attribute, which it uses",
        holds=_none(r"^<(div|p|span|body)> "),
    ),
    "css-display": Allowed(
        "Only display:block on images is used (no flex, grid or none): where unsupported the image is inline, "
        "the same picture",
        holds=_every(r"^<img> display:block$"),
    ),
    "html-align": Allowed(
        "Outlook for Mac ignores align=left|right on tables; align is used on cells only (center)",
        holds=_every(r"^<td> align"),
    ),
    "html-width": Allowed(
        "Outlook for Windows sizes percentage image widths from the file and does not scale attributes at "
        "120 dpi: image widths are in pixels (the chart's own width), tables 100%",
    ),
    "html-lang": Allowed(
        "Yahoo ignores lang on <td>; it is set on <html> only", holds=_every(r"^<html> lang")
    ),
    "html-lists": Allowed(
        "reversed on <ol> and value on <li> are unsupported; neither is used",
        holds=_every(r"^<(ul|dl)>$"),
    ),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return install(tmp_path_factory.mktemp("caniemail"))


@pytest.fixture(scope="module")
def htmls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The digest as the board gets it after a week of returns, and each kind of receipt and a reminder."""
    settings = timeline_settings(tmp_path_factory.mktemp("caniemail-timeline"))
    digest = render_digest(
        build_digest(get_engine(settings.warehouse_url), DigestKind.BOARD, BOARD_AT, settings)
    )
    home = tmp_path_factory.mktemp("caniemail-home") / "var"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURGEHUB_HOME", str(home))
        patch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
        patch.delenv("SURGEHUB_CONFIG", raising=False)
        built = mails_of_every_kind(home)
    found = {"board digest": digest.html}
    for kind in ("accepted receipt", "rejected receipt", "reminder"):
        html = built[kind][0].html
        assert html is not None
        found[kind] = html
    return found


def problems_in(html: str, data: dict[str, Any]) -> list[str]:
    """Each use of a feature some checked client does not support, or supports only in part, that
    ``ALLOWED`` does not cover (or whose allowance does not hold for that use)."""
    used = features(html, data)
    problems: list[str] = []
    for slug, where in sorted(used.features.items()):
        allowed = ALLOWED.get(slug)
        for verdict in verdicts(data, slug, FAMILIES):
            if verdict.support in {"a", "n"} and (allowed is None or verdict.support not in allowed.supports):
                problems.append(f"{slug} ({where[0]}): {verdict}")
        if allowed is not None:
            problems += [
                f"{slug}: {allowed.reason}, but not for {w!r}" for w in where if not allowed.holds(w)
            ]
    return problems


@pytest.mark.parametrize("kind", ["board digest", "accepted receipt", "rejected receipt", "reminder"])
def test_nothing_unsupported_and_partial_only_where_nothing_confusing_results(
    data: dict[str, Any], htmls: dict[str, str], kind: str
) -> None:
    problems = problems_in(htmls[kind], data)
    assert not problems, "\n".join(problems)


def test_the_check_catches_what_the_templates_used_to_do(data: dict[str, Any]) -> None:
    """The hidden preview text, word-break and <abbr> of the old templates, and a div used as a box."""
    old = (
        '<div style="display:none;max-height:0;overflow:hidden;">preview</div>'
        '<div style="padding:12px;border-left:8px solid #000;">box</div>'
        '<table><tr><td style="word-break:break-word;"><abbr title="x">R09</abbr></td></tr></table>'
    )
    found = "\n".join(problems_in(old, data))
    for slug in ("css-display-none", "css-max-height", "css-overflow", "css-word-break", "html-abbr"):
        assert slug in found, found
    assert "css-padding: " in found, "padding on a <div> is not covered by its allowance"


def test_the_preview_text_is_not_hidden_with_display_none(htmls: dict[str, str]) -> None:
    """Gmail's mobile web client shows display:none text: the digest's first line is its summary, visible."""
    digest = htmls["board digest"]
    assert "display:none" not in digest.replace(" ", "")
    first = re.search(r"<body[^>]*>.*?<p[^>]*>([^<]+)</p>", digest, re.S)
    assert first is not None
    assert "cut-off" in first.group(1)


def test_every_allowance_is_still_needed_and_each_feature_is_read(
    data: dict[str, Any], htmls: dict[str, str]
) -> None:
    used: dict[str, list[str]] = {}
    for html in htmls.values():
        for slug, where in features(html, data).features.items():
            used.setdefault(slug, []).extend(where)
    needed = {slug for slug in used if any(v.support in {"a", "n"} for v in verdicts(data, slug, FAMILIES))}
    assert set(ALLOWED) <= needed, f"allowances no longer needed: {sorted(set(ALLOWED) - needed)}"
    # the reader sees the basics (a reader that saw nothing would pass everything)
    assert {
        "html-table",
        "css-padding",
        "css-background-color",
        "html-img",
        "image-png",
        "css-font-size",
    } <= set(used)
