"""Renders a built digest as its email carries it: charts, CSV, HTML (tables, inline CSS, CID images), text.

``render_digest(digest)`` draws the charts (``charts``), writes the CSV (``csv_export``) and fills
the two templates in ``templates/``; all three read the :class:`~surgehub.digest.model.Digest` value.

Jinja2 with autoescape on for the HTML template, so everything a locality wrote (comments, which
may hold ``<script>`` or anything else) is shown as text, never as markup. The HTML stays under
Gmail's clipping size: comments are cut to a length (the full text is in the CSV attachment); when a
digest is still too big the warnings are summarised per locality and the exceptions listed tersely,
and as a last step the exceptions are listed without the comments (which the CSV holds in full).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from surgehub.clock import to_london
from surgehub.digest import charts, csv_export
from surgehub.digest.model import SOURCES, WARNING_WORDS, RenderedDigest

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime
    from fractions import Fraction

    from jinja2 import Environment

    from surgehub.digest.model import Digest
    from surgehub.mail.compose import InlineImage

#: Gmail clips HTML bodies over about 102 kB; stay well below with a margin for headers and encoding.
HTML_BUDGET_BYTES = 95_000
COMMENT_CHARS = 300
COMPACT_COMMENT_CHARS = 90

#: Cell colours (background, text, border) with their text label; every pair is ≥ 4.5:1 (WCAG AA).
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "GREEN": ("#007f3b", "#ffffff", "#007f3b"),
    "AMBER": ("#ffb81c", "#212b32", "#ffb81c"),
    "RED": ("#d5281b", "#ffffff", "#d5281b"),
    "RED4": ("#7a0019", "#ffffff", "#7a0019"),
    "NO_RETURN": ("#212b32", "#ffffff", "#212b32"),
    "CLOSED": ("#e8edee", "#212b32", "#aeb7bd"),
    "PENDING": ("#ffffff", "#212b32", "#4c6272"),
}

MANAGEMENT_INFORMATION = (
    "These are management information figures, taken from the localities' own daily returns as "
    "received by the cut-off. They are not official statistics, have not been audited, and may be "
    "revised by a later return."
)


def percent(value: Fraction | float | None) -> str:
    """``88.3%``; an en dash when there is no figure (a zero denominator)."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.1f}%"


def number(value: int | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def day_label(day: date) -> str:
    return day.strftime("%a %d %b")


def instant_label(instant: datetime) -> str:
    return to_london(instant).strftime("%H:%M %a %d %b %Y")


def clip(text: str | None, limit: int) -> str:
    """One line of at most ``limit`` characters, whitespace collapsed, an ellipsis when cut."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def style(key: str) -> dict[str, str]:
    background, colour, border = STATUS_STYLES.get(key, STATUS_STYLES["PENDING"])
    return {"background": background, "colour": colour, "border": border}


@cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("surgehub.digest", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(percent=percent, number=number, day=day_label, instant=instant_label, clip=clip)
    env.globals.update(style=style, caveat=MANAGEMENT_INFORMATION)
    return env


def _context(digest: Digest, images: Sequence[InlineImage], detail: int) -> dict[str, Any]:
    """Template variables; ``detail`` 2 is everything, 1 compact, 0 compact without exception comments."""
    latest = digest.days[-1] if digest.days else None
    warning_counts: dict[str, dict[str, int]] = {}
    for item in digest.warnings:
        per = warning_counts.setdefault(item.name, {})
        for rule in item.rules:
            per[rule] = per.get(rule, 0) + len(item.hub_days)
    return {
        "d": digest,
        "latest_day": latest,
        "images": {image.cid: image for image in images},
        "sources": SOURCES,
        "warning_words": WARNING_WORDS,
        "warning_counts": warning_counts,
        "compact": detail < 2,
        "show_comments": detail > 0,
        "comment_chars": COMMENT_CHARS if detail == 2 else COMPACT_COMMENT_CHARS,
        "pending_closes": digest.pending_closes,
    }


def render_html(digest: Digest, images: Sequence[InlineImage]) -> str:
    """The HTML body, with less detail (each step says where the rest is) until Gmail would not clip it."""
    template = environment().get_template("digest.html.j2")
    for detail in (2, 1, 0):
        html = template.render(**_context(digest, images, detail))
        if len(html.encode("utf-8")) <= HTML_BUDGET_BYTES:
            return html
    return html  # still too big: sent as is; Gmail shows a "view entire message" link


def render_text(digest: Digest, images: Sequence[InlineImage]) -> str:
    """The plain-text alternative: the same sections, written to be read on its own (charts as words)."""
    return environment().get_template("digest.txt.j2").render(**_context(digest, images, 2))


def render_digest(digest: Digest) -> RenderedDigest:
    """The digest as its email carries it: charts, HTML and text bodies, and the CSV attachment."""
    images = charts.digest_charts(digest)
    return RenderedDigest(
        digest=digest,
        images=images,
        html=render_html(digest, images),
        text=render_text(digest, images),
        csv=csv_export.digest_csv(digest),
    )
