"""The return corpus (tests/support/corpus.py): every return gets exactly its findings, no more, no fewer."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from surgehub.returns.validate import validate_return
from tests.support.corpus import CASES, SETTINGS, Case, Key


def _keys(findings: list[Any]) -> Counter[Key]:
    return Counter((f.rule, f.row, f.column) for f in findings)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_return_gets_exactly_its_findings(case: Case) -> None:
    result = validate_return(
        case.data, locality=case.locality, received_at=case.received_at, settings=SETTINGS
    )
    assert _keys(result.errors) == Counter(case.errors)
    assert _keys(result.warnings) == Counter(case.warnings)
    assert result.status == case.status
    assert (result.frame is None) == (case.status == "rejected")
    assert all(f.message.strip() for f in [*result.errors, *result.warnings])


def test_corpus_has_at_least_sixty_returns() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
