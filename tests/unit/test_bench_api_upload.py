"""The pure parts of `make bench`'s api_upload step: the returns its clients send, and how answers count.

The step itself (twenty Locust clients against a live `surgehub serve`) is a benchmark, never a test.
"""

from __future__ import annotations

import pytest

from bench.api_upload import CLIENTS, DAYS, kind_of, upload_for
from surgehub import reference
from surgehub.returns.validate import validate_return
from tests.support.corpus import SETTINGS
from tests.support.timeline import RECEIVED_AT

CODES = [loc.sub_icb_code for loc in reference.localities()]


def test_every_upload_of_every_client_is_distinct() -> None:
    sent = [
        upload_for(client, n, CODES[client % len(CODES)]) for client in range(CLIENTS + 1) for n in range(40)
    ]
    assert len({data for _name, data in sent}) == len(sent)  # never a duplicate of another upload
    assert len({name for name, _data in sent}) == len(sent)


def test_a_client_cycles_through_every_day() -> None:
    days = {upload_for(0, n, "14L")[0].split("-c0-")[0].removeprefix("14L-") for n in range(len(DAYS))}
    assert days == {day.isoformat() for day in DAYS}


@pytest.mark.parametrize("client", range(0, CLIENTS, 3))
def test_the_uploads_are_valid_returns_on_the_fixed_timeline(client: int) -> None:
    code = CODES[client % len(CODES)]
    for n in (0, 7):
        _name, data = upload_for(client, n, code)
        result = validate_return(data, locality=code, received_at=RECEIVED_AT, settings=SETTINGS)
        assert result.accepted, result.to_json_dict()["errors"]


ACCEPTED = {
    "status": "accepted",
    "state": "queued",
    "duplicate": False,
    "locality": "14L",
    "submission_id": "api-3f9c2a7e1b6d4c05",
}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (201, ACCEPTED, "ok"),
        (201, {**ACCEPTED, "duplicate": True}, "other"),
        (201, {**ACCEPTED, "locality": "02A"}, "other"),
        (201, {**ACCEPTED, "state": "loaded"}, "other"),
        (201, None, "other"),
        (422, {**ACCEPTED, "status": "rejected"}, "other"),
        (429, {"error": "too many requests"}, "429"),
        (503, {"error": "send again"}, "5xx"),
        (500, None, "5xx"),
        (0, None, "connection"),
        (413, {"error": "too large"}, "other"),
    ],
)
def test_only_the_documented_answer_counts_as_ok(status: int, body: object, kind: str) -> None:
    assert kind_of(status, body, "14L") == kind
