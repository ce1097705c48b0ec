"""The submitter guide (docs/submitter-guide.md) as HTML for the guide page, with an anchor per rule ID.

Rendered with markdown-it-py in CommonMark mode with raw HTML off (any HTML in the text is shown as
text, never passed through) and markdown-it's own link check (no ``javascript:`` links); tables
enabled. Each table row whose first cell is a rule ID gets ``id="rule-F01"`` … ``id="rule-W05"`` (the
receipts link there), and each heading an id from its text. The markdown is the one in docs/ (a
source checkout) or the copy the wheel carries (``surgehub/guide/submitter-guide.md``, pyproject's
force-include).
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from importlib import resources
from typing import TYPE_CHECKING

from surgehub.config import PROJECT_ROOT

if TYPE_CHECKING:
    from markdown_it.token import Token

RULE_ID = re.compile(r"[FRW][0-9]{2}")


def guide_markdown() -> str:
    """The guide's text: the wheel's copy, or docs/submitter-guide.md in a source checkout."""
    packaged = resources.files("surgehub").joinpath("guide", "submitter-guide.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (PROJECT_ROOT / "docs" / "submitter-guide.md").read_text(encoding="utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _anchor(tokens: list[Token]) -> list[str]:
    """Ids on headings (from their text) and on rule rows (``rule-R09``), in place; each table's label
    (the heading above it), in order."""
    used: set[str] = set()
    labels: list[str] = []
    heading = "Table"
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            label = heading if heading not in labels else f"{heading} ({len(labels) + 1})"
            labels.append(label)
        if token.type == "heading_open" and i + 1 < len(tokens):
            heading = tokens[i + 1].content.strip()
            slug = _slug(tokens[i + 1].content)
            while slug in used:
                slug += "-"
            used.add(slug)
            token.attrSet("id", slug)
        elif token.type == "tr_open":
            # tr_open, td_open, inline: the first cell's text
            cell = next((t for t in tokens[i + 1 : i + 4] if t.type == "inline"), None)
            if cell is not None and RULE_ID.fullmatch(cell.content.strip()):
                token.attrSet("id", f"rule-{cell.content.strip()}")
    return labels


@cache
def guide_html() -> str:
    """The guide as an HTML fragment (no raw HTML from the text), every rule ID an anchor."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(guide_markdown())
    labels = iter(_anchor(tokens))
    html = md.renderer.render(tokens, md.options, {})
    # Wide tables scroll inside a focusable region named after the heading above it (WCAG 1.4.10).
    parts = html.split("<table>")
    out = [parts[0]]
    for part in parts[1:]:
        label = escape(next(labels, "Table"))
        out.append(f'<div class="table-wrap" tabindex="0" role="region" aria-label="{label}"><table>{part}')
    return "".join(out).replace("</table>", "</table></div>")
