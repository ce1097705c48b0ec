"""R16 (spec 2026.2): what counts as a run of digits, which runs are NHS numbers, and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surgehub.identifiers import REMOVED, contains_nhs_number, is_nhs_number, mask, runs

VALID = "9434765919"  # passes modulus 11
INVALID = "9434765918"


def test_the_modulus_11_check() -> None:
    assert is_nhs_number(VALID)
    assert not is_nhs_number(INVALID)
    assert not is_nhs_number("943476591")  # nine digits
    assert not is_nhs_number("94347659190")


@pytest.mark.parametrize(
    "text",
    [
        VALID,
        "943 476 5919",
        "943  476\t5919",  # a run of spaces and tabs is one separator
        "943\u00a0476\u00a05919",  # no-break spaces
        "943-476-5919",
        "943\u2010476\u20115919",  # hyphen, non-breaking hyphen
        "943\u2013476\u20145919",  # en and em dash
        "943\u2212476\u22125919",  # minus sign
        "943.476.5919",
        "943/476/5919",
        "９４３４７６５９１９",  # full-width digits (NFKC)
        "patient 943 476 5919 seen",
    ],
)
def test_runs_with_the_separators_the_spec_allows_are_found(text: str) -> None:
    assert contains_nhs_number(text)
    assert REMOVED in mask(text)
    assert "5919" not in mask(text)


@pytest.mark.parametrize(
    "text",
    [
        INVALID,
        "943 476 5919 1",  # an 11-digit run: not an NHS number
        "0161 943 476 5919",  # one 14-digit run: the spec's runs are maximal
        "1 943 476 5919",
        "943 476 591",  # nine digits
        "943 -476 5919",  # two separators in a row end the run
        "943--476-5919",
        "943,476,5919",  # a comma is not a separator
        "943_476_5919",
        "",
        "no digits here",
    ],
)
def test_other_runs_are_not_identifiers(text: str) -> None:
    assert not contains_nhs_number(text)
    assert mask(text) == text


def test_a_run_maps_back_to_the_original_characters() -> None:
    text = "ref: ９４３ ４７６ ５９１９."
    [run] = runs(text)
    assert text[run.start : run.end] == "９４３ ４７６ ５９１９"
    assert run.digits == VALID
    assert mask(text) == f"ref: {REMOVED}."


def test_every_identifier_in_a_text_is_masked_and_the_rest_kept() -> None:
    text = f"first {VALID}, second 943-476-5919; not {INVALID}"
    assert mask(text) == f"first {REMOVED}, second {REMOVED}; not {INVALID}"


@given(st.text(alphabet=st.sampled_from("0123456789 -./\t\u00a0abc,"), max_size=60))
def test_masking_leaves_no_identifier_behind_and_is_idempotent(text: str) -> None:
    masked = mask(text)
    assert not contains_nhs_number(masked)
    assert mask(masked) == masked
