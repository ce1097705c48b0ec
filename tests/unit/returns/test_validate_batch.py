"""Validating many returns in one batch (one GX run) gives exactly what validating each alone gives."""

from __future__ import annotations

import random
from datetime import date

from test_validate_corpus import CASES

from surgehub import sample
from surgehub.returns.validate import ValidationBatch, validate_return


def test_every_corpus_return_gets_the_same_answer_in_a_batch_as_alone() -> None:
    batch = ValidationBatch([case.data for case in CASES])
    for case in CASES:
        alone = validate_return(case.data, locality=case.locality, received_at=case.received_at)
        together = validate_return(
            case.data, locality=case.locality, received_at=case.received_at, batch=batch
        )
        assert together.to_json_dict() == alone.to_json_dict(), case.id
        if alone.frame is not None:
            assert together.frame is not None and together.frame.equals(alone.frame), case.id


def test_the_same_hub_day_in_two_files_of_a_batch_is_not_a_repeat() -> None:
    """R08 is a rule within one file: a revision in another file of the same batch is not a duplicate."""
    rows = sample.locality_rows("14L", [date(2026, 11, 24)], random.Random(1))
    first, revised = sample.to_csv(rows), sample.to_csv([{**rows[0], "signed_off_by": "Deputy lead"}])
    batch = ValidationBatch([first, revised])
    from tests.conftest import TIMELINE_NOW

    for data in (first, revised):
        result = validate_return(data, locality="14L", received_at=TIMELINE_NOW, batch=batch)
        assert result.status == "accepted", result.errors


def test_bytes_not_in_the_batch_are_validated_on_their_own() -> None:
    rows = sample.locality_rows("00T", [date(2026, 11, 24)], random.Random(2))
    rows[0]["appts_booked"] = str(int(rows[0]["appts_offered"]) + 1)
    from tests.conftest import TIMELINE_NOW

    batch = ValidationBatch([sample.to_csv(rows)])
    other = sample.to_csv(sample.locality_rows("00V", [date(2026, 11, 24)], random.Random(3)))
    assert batch.lookup(other) is None
    assert validate_return(other, locality="00V", received_at=TIMELINE_NOW, batch=batch).status == "accepted"
