"""The delivery-against-plan chart, tested as the other digest charts are: a small PNG, alt text that says
what it shows in words, AA contrast for its marks and labels, drawn for a phone."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
from PIL import Image

from surgehub.digest.charts import DISPLAY_WIDTH_PX, INK, LINE, PLAN_CID, plan_alt, plan_delivery
from surgehub.digest.plan import Delivery, PlanLine
from surgehub.register import Offer
from tests.support.colour import contrast


class _Line:
    def __init__(self, name: str, plan: PlanLine) -> None:
        self.name = name
        self.plan = plan


def _plan(delivered: int, commissioned: int, recent: tuple[int, int], remaining: int) -> PlanLine:
    return PlanLine(
        period=Delivery(delivered_sessions=delivered // 4, commissioned_sessions=commissioned // 4),
        season=Delivery(delivered_sessions=delivered, commissioned_sessions=commissioned),
        recent=Delivery(delivered_sessions=recent[0], commissioned_sessions=recent[1]),
        remaining=Offer(remaining, remaining * 18),
    )


LINES = [
    _Line("Bolton", _plan(820, 1000, (90, 100), 1000)),
    _Line("Bury", _plan(1010, 1000, (100, 100), 1000)),
    _Line("Wigan Borough", _plan(0, 0, (0, 0), 1000)),  # no figure yet: says so, draws no bar
]
GM = sum(
    (line.plan for line in LINES),
    PlanLine(period=Delivery(), season=Delivery(), recent=Delivery(), remaining=Offer()),
)


@pytest.fixture(scope="module")
def image():
    return plan_delivery(LINES, GM)  # type: ignore[arg-type]


def test_the_chart_is_a_small_png_drawn_for_a_phone(image) -> None:
    assert image.cid == PLAN_CID
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image.png) < 60_000
    width, height = Image.open(io.BytesIO(image.png)).size
    assert width >= DISPLAY_WIDTH_PX  # sharp when shown 480 px wide
    assert height < width * 1.5  # one screen on a phone


def test_the_alt_text_gives_every_localitys_figure_and_projection(image) -> None:
    assert image.alt == plan_alt([(line.name, line.plan) for line in LINES] + [("Greater Manchester", GM)])
    assert "Bolton 82%, projected 86%" in image.alt  # (820 + 0.9 × 1000) / 2000
    assert "Bury 101%, projected 100%" in image.alt
    assert "Wigan Borough no figure" in image.alt
    assert image.alt.startswith("Bar chart of the sessions delivered as a share of those commissioned")
    # GM at its own recent rate (190 of 200): (1830 + 0.95 × 3000) / (2000 + 3000)
    assert GM.projected_sessions_ratio == Fraction(1830 + 2850, 5000)


def test_bars_and_labels_meet_aa_contrast_on_white() -> None:
    assert contrast(LINE, "#ffffff") >= 4.5  # locality bars (and the projection diamond's ink edge)
    assert contrast(INK, "#ffffff") >= 4.5  # GM's bar, the labels and the 100% line
