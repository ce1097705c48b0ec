"""Receipts: subject, text and accessible HTML for accepted, warned, rejected and duplicate returns."""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import escape

from surgehub.returns.receipt import render_receipt
from surgehub.returns.validate import ValidationResult, validate_return
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.returns import corpus_row, csv_bytes
from tests.support.timeline import RECEIVED_AT


def receipt(result: ValidationResult, **kwargs: object) -> tuple[str, str, str]:
    return render_receipt(
        result,
        locality_code="14L",
        locality_name="Manchester",
        received_at=RECEIVED_AT,
        submission_id=7,
        settings=SETTINGS,
        **kwargs,  # type: ignore[arg-type]
    )


def validated(data: bytes) -> ValidationResult:
    return validate_return(data, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_accepted_receipt() -> None:
    subject, text, html = receipt(validated(csv_bytes([corpus_row()])), file_name="manchester-24nov.csv")
    assert subject == (
        "Surge hub return accepted: manchester-24nov.csv (Tue 24 Nov 2026; 14L-H1), "
        "Manchester (14L), received Wed 25 Nov 09:00"
    )
    assert "Outcome: ACCEPTED. All 1 row were accepted and loaded." in text  # sent once loaded
    assert "will be loaded" not in text + html
    assert "2026-11-24" in text
    assert "Outcome: Accepted" in html
    assert "Errors to fix" not in html


def test_accepted_with_warnings_lists_each_warning() -> None:
    subject, text, html = receipt(validated(corpus_file("example-return.csv")))
    assert "accepted with 1 warning" in subject
    assert "W01 (1): sessions_delivered < sessions_planned" in text
    assert "Hub 14L-H3, 2026-11-24, spreadsheet row 4, column sessions_delivered:" in text
    assert "sessions_delivered 3 is fewer than sessions_planned 4" in html
    # the row has a comment (else R15 would have rejected it): no asking for one
    assert "say why in comments" not in text
    assert "explain them in comments" not in text


def test_rejected_receipt_lists_every_error_with_rule_row_column_and_fix() -> None:
    data = csv_bytes(
        [
            corpus_row(appts_offered="80"),
            corpus_row(hub_code="14L-H2", hub_status="Shut"),
            corpus_row(hub_code="14L-H9"),
        ]
    )
    result = validated(data)
    subject, text, html = receipt(result)
    assert "REJECTED" in subject
    assert "3 errors" in subject
    for finding in result.errors:
        assert f"{finding.rule} (" in text
        assert f"spreadsheet row {finding.spreadsheet_row}" in text
        assert str(escape(finding.message)) in html
    assert "correct one of them" in text


def test_duplicate_receipt_says_nothing_was_loaded() -> None:
    subject, text, html = receipt(validated(csv_bytes([corpus_row()])), duplicate=True)
    assert "already received" in subject
    assert "nothing was loaded again" in text
    assert "Already received" in html


def test_file_rule_errors_say_whole_file() -> None:
    _, text, _ = receipt(validated(corpus_file("png-image.csv")))
    assert "F01 (1): the file can be read" in text
    assert "- Whole file:" in text
    assert "PNG image" in text


def test_receipt_never_echoes_an_nhs_number() -> None:
    result = validated(csv_bytes([corpus_row(comments="Pt 943 476 5919 <script>")]))
    subject, text, html = receipt(result)
    for out in (subject, text, html):
        assert "943 476 5919" not in out
        assert "9434765919" not in out
    assert "NHS number" in text
    assert "patient identifier" in html


def test_html_is_escaped_and_accessible() -> None:
    result = validated(csv_bytes([corpus_row(hub_status="<b>x</b>")]))
    _, _, html = receipt(result)
    assert "<b>x</b>" not in html.lower()
    assert "&lt;b&gt;x&lt;/b&gt;" in html.lower()
    found = tags(html)
    names = [t for t, _ in found]
    assert ("html", {"lang": "en-GB"}) in found
    assert names.count("h1") == 1
    assert "h3" in names  # one heading a rule, under "Errors to fix"
    # findings stack as lists (nothing to scroll sideways on a phone); tables only lay out boxes for
    # mail clients (caniemail), never as data tables
    assert "th" not in names
    assert all(attrs.get("role") in {"presentation", "status", "alert"} for t, attrs in found if t == "table")
    assert "Outcome: Rejected" in html  # the outcome in words, not colour alone
    assert "<style" not in html  # inline CSS only, for email clients
