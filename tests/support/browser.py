"""Debian's Chromium through Playwright, and axe-core's WCAG 2.2 AA check: shared by every browser test.

The ``browser`` fixture (one Chromium per module, closed after it) is in tests/support/fixtures/browser.py;
``axe_violations`` runs axe on a loaded page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: axe-core rule tags for WCAG 2.2 level AA (2.0, 2.1 and 2.2, A and AA).
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Any, *, best_practice: bool = False) -> list[tuple[str, str, int]]:
    """axe-core's WCAG 2.2 AA violations on ``page`` (rule id, help, nodes); with its best practices too."""
    from axe_playwright_python.sync_playwright import Axe

    tags = WCAG_22_AA + (["best-practice"] if best_practice else [])
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
    return [(v["id"], v["help"], len(v["nodes"])) for v in results.response["violations"]]
