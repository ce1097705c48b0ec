"""RAG cell and chart label colours meet WCAG 2.2 AA contrast for normal text; every status has a label."""

from __future__ import annotations

import pytest

from surgehub.digest.charts import SOURCE_STYLE
from surgehub.digest.model import STATUS_LABELS
from surgehub.digest.render import STATUS_STYLES, clip, percent
from tests.support.colour import contrast


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("key", sorted(STATUS_STYLES))
def test_cell_text_meets_aa_contrast_on_its_background(key: str) -> None:
    background, text, _border = STATUS_STYLES[key]
    assert contrast(background, text) >= 4.5


def test_every_status_has_a_style_and_a_words_label() -> None:
    assert set(STATUS_LABELS) | {"RED4"} == set(STATUS_STYLES)
    assert all(label.strip() for label in STATUS_LABELS.values())


def test_clip_collapses_whitespace_and_marks_the_cut() -> None:
    assert clip("a\n\n b   c", 20) == "a b c"
    assert clip("x" * 50, 10) == "x" * 9 + "…"
    assert clip(None, 10) == ""


def test_percent_shows_a_dash_without_a_denominator() -> None:
    assert percent(None) == "–"
    assert percent(0.8825) == "88.2%"


@pytest.mark.parametrize("style", SOURCE_STYLE)
def test_labels_inside_chart_bars_meet_aa_contrast(style: tuple[str, str, str]) -> None:
    fill, _hatch, text = style
    assert contrast(fill, text) >= 4.5
