"""The validation corpus: every return the validation tests judge, each with exactly its expected findings.

Every rule passing and failing, every limit at and just past its boundary. Files are in tests/corpus/;
the rest are built from ``corpus_row`` (CORPUS_FIGURES: each boundary below is worked out from them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from surgehub import spec
from surgehub.config import Settings, load_settings
from tests.support.returns import corpus_row, csv_bytes, three_hubs
from tests.support.timeline import RECEIVED_AT, london

#: The corpus files (tests/corpus/), made by tests/corpus/make_samples.py.
CORPUS = Path(__file__).resolve().parents[1] / "corpus"

#: The project's settings as configured: the season, the R07 window and the file limits validation reads.
SETTINGS: Settings = load_settings()

Key = tuple[str, int | None, str | None]


def corpus_file(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@dataclass
class Case:
    id: str
    data: bytes
    errors: list[Key] = field(default_factory=list)
    warnings: list[Key] = field(default_factory=list)
    locality: str = "14L"
    received_at: datetime = RECEIVED_AT

    @property
    def status(self) -> str:
        return "rejected" if self.errors else "accepted"


def one(**overrides: object) -> bytes:
    return csv_bytes([corpus_row(**overrides)])


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """``hour``:``minute`` in London on the ISO ``day``."""
    year, month, number = (int(part) for part in day.split("-"))
    return london(year, month, number, hour, minute)


H = list(corpus_row())
NO_HUB_STATUS = [h for h in H if h != "hub_status"]
NO_COMMENTS = [h for h in H if h != "comments"]
COMMENTED = "Explained in the locality log"
ALL_FIGURES_ZERO = dict.fromkeys(spec.NUMERIC_COLUMNS, "0")

CASES: list[Case] = [
    # -- valid returns and the reading rules of §1 ---------------------------------------------------
    Case("example-return", corpus_file("example-return.csv"), warnings=[("W01", 3, "sessions_delivered")]),
    Case("three-hubs-clean", csv_bytes(three_hubs())),
    Case("utf8-bom", corpus_file("utf8-bom.csv"), warnings=[("W01", 3, "sessions_delivered")]),
    Case("utf8-bom-crlf", corpus_file("utf8-bom-crlf.csv"), warnings=[("W01", 3, "sessions_delivered")]),
    Case("crlf", corpus_file("crlf.csv"), warnings=[("W01", 3, "sessions_delivered")]),
    Case("cp1252-pound-eacute", corpus_file("cp1252-pound-eacute.csv")),
    Case("utf8-pound-eacute", corpus_file("utf8-pound-eacute.csv")),
    Case("quoted-thousands", corpus_file("quoted-thousands.csv")),
    Case("header-case-spaces-order", corpus_file("header-case-spaces-order.csv")),
    Case(
        "xlsx-typed-cells", corpus_file("xlsx-typed-cells.xlsx"), warnings=[("W01", 3, "sessions_delivered")]
    ),
    Case(
        "xlsx-return-second-sheet",
        corpus_file("xlsx-return-second-sheet.xlsx"),
        warnings=[("W01", 3, "sessions_delivered")],
    ),
    Case("lower-case-codes-and-status", one(sub_icb_code="14l", hub_code="14l-h1", hub_status="open")),
    Case("uk-date-form", one(activity_date="24/11/2026")),
    Case("uk-date-one-digit-day-month", one(activity_date="3/1/2027"), received_at=at("2027-01-04")),
    Case("cells-with-spaces-trimmed", one(appts_offered=" 120 ", hub_code=" 14L-H1", signed_off_by=" Lead ")),
    Case(
        "empty-header-empty-column-ignored",
        csv_bytes([[*corpus_row().values(), ""]], header=[*H, ""]),
    ),
    # -- file rules --------------------------------------------------------------------------------
    Case("F01-png", corpus_file("png-image.csv"), errors=[("F01", None, None)]),
    Case("F01-pdf", corpus_file("pdf-document.xlsx"), errors=[("F01", None, None)]),
    Case("F01-zip-not-workbook", corpus_file("zip-not-workbook.xlsx"), errors=[("F01", None, None)]),
    Case("F01-nul-bytes", corpus_file("nul-bytes.csv"), errors=[("F01", None, None)]),
    Case("F01-utf16", corpus_file("utf16.csv"), errors=[("F01", None, None)]),
    Case("F01-semicolons", corpus_file("semicolons.csv"), errors=[("F01", None, None)]),
    *[
        Case(
            f"F01-cp1252-undefined-{b}",
            corpus_file(f"cp1252-undefined-{b}.csv"),
            errors=[("F01", None, None)],
        )
        for b in ("81", "8d", "8f", "90", "9d")
    ],
    Case(
        "F02-missing-hub-status",
        csv_bytes([corpus_row()], header=NO_HUB_STATUS),
        errors=[("F02", None, "hub_status")],
    ),
    Case(
        "F02-missing-comments",
        csv_bytes([corpus_row()], header=NO_COMMENTS),
        errors=[("F02", None, "comments")],
    ),
    Case(
        "F03-extra-column",
        csv_bytes([corpus_row() | {"notes": "x"}], header=[*H, "notes"]),
        errors=[("F03", None, "notes")],
    ),
    Case(
        "F03-values-under-empty-header",
        csv_bytes([[*corpus_row().values(), "stray"]], header=[*H, ""]),
        errors=[("F03", None, None)],
    ),
    Case(
        "F03-values-beyond-header",
        csv_bytes([[*corpus_row().values(), "stray"]]),
        errors=[("F03", None, None)],
    ),
    Case(
        "F04-column-twice",
        csv_bytes([[*corpus_row().values(), "6"]], header=[*H, "Sessions_Planned"]),
        errors=[("F04", None, "sessions_planned")],
    ),
    Case(
        "F02-F03-F04-together",
        csv_bytes(
            [[*[*corpus_row().values()][1:], "x", "y", "z"]],
            header=[*list(H)[1:], "notes", "gp_hours", "GP_HOURS"],
        ),
        errors=[("F02", None, "activity_date"), ("F03", None, "notes"), ("F04", None, "gp_hours")],
    ),
    # -- spec 2026.2 §3: F02/F03 no longer stop the row rules; foreign files; wide headers ------------
    Case(
        "F02-missing-comments-with-row-errors",
        csv_bytes(
            [corpus_row(hub_code="14L-H9"), corpus_row(hub_code="14L-H2", appts_dna="-1")], header=NO_COMMENTS
        ),
        errors=[("F02", None, "comments"), ("R06", 1, "hub_code"), ("R03", 2, "appts_dna")],
    ),
    Case(
        "F02-missing-hub-status-skips-r15-r17",
        csv_bytes([corpus_row(hub_status="CLOSED_PLANNED")], header=NO_HUB_STATUS),
        errors=[("F02", None, "hub_status")],
    ),
    Case(
        "F03-extra-column-with-row-errors",
        csv_bytes([corpus_row(appts_offered="80") | {"notes": "x"}], header=[*H, "notes"]),
        errors=[("F03", None, "notes"), ("R09", 1, "appts_booked")],
    ),
    Case(
        "F02-not-a-return",
        b"Notes for Monday\nRemember to send the return by 11:00\n",
        errors=[("F02", None, None)],
    ),
    Case(
        "F02-not-a-return-three-spec-columns",
        csv_bytes([["2026-11-24", "14L-H1", "", "1"]], header=["activity_date", "hub_code", "comments", "x"]),
        errors=[("F02", None, None)],
    ),
    Case(
        "F03-65-unknown-columns-once",
        csv_bytes([[*corpus_row().values(), *[""] * 65]], header=[*H, *(f"x{i}" for i in range(65))]),
        errors=[("F03", None, None)],
    ),
    Case("F05-empty-file", corpus_file("empty.csv"), errors=[("F05", None, None)]),
    Case("F05-blank-lines-only", b"\r\n\r\n,,,\r\n", errors=[("F05", None, None)]),
    Case("F05-header-only", corpus_file("header-only.csv"), errors=[("F05", None, None)]),
    Case("F05-header-and-empty-rows", csv_bytes([[""] * 22, [""] * 22]), errors=[("F05", None, None)]),
    Case("F06-501-rows", csv_bytes([corpus_row()] * 501), errors=[("F06", None, None)]),
    # -- numbering of rows (§3) --------------------------------------------------------------------
    Case(
        "row-numbers-count-empty-rows",
        corpus_file("blank-rows-numbering.csv"),
        errors=[("R09", 4, "appts_booked"), ("R13", 4, "appts_booked")],
    ),
    Case(
        "xlsx-row-numbers-after-leading-blank-rows",
        corpus_file("xlsx-leading-blank-rows.xlsx"),
        errors=[("R09", 3, "appts_booked"), ("R13", 3, "appts_booked")],
    ),
    Case(
        "xlsx-wrong-dimension-tag-still-read",
        corpus_file("xlsx-wrong-dimension.xlsx"),
        errors=[("R09", 3, "appts_booked"), ("R13", 3, "appts_booked")],
    ),
    # -- R01 types ---------------------------------------------------------------------------------
    Case("R01-integer-with-point", one(appts_offered="120.0"), errors=[("R01", 1, "appts_offered")]),
    Case("R01-integer-bad-grouping", one(appts_offered="1,20"), errors=[("R01", 1, "appts_offered")]),
    Case("R01-integer-with-space", one(appts_offered="1 200"), errors=[("R01", 1, "appts_offered")]),
    Case("R01-integer-text", one(appts_offered="lots"), errors=[("R01", 1, "appts_offered")]),
    Case("R01-decimal-three-places", one(gp_hours="7.125"), errors=[("R01", 1, "gp_hours")]),
    Case("R01-decimal-trailing-zero-third-place", one(gp_hours="18.500"), errors=[("R01", 1, "gp_hours")]),
    Case("R01-decimal-two-places-passes", one(gp_hours="18.25", other_clinician_hours="0.5")),
    Case("R01-date-does-not-exist", one(activity_date="2026-11-31"), errors=[("R01", 1, "activity_date")]),
    Case("R01-date-other-form", one(activity_date="2026/11/24"), errors=[("R01", 1, "activity_date")]),
    Case("R01-date-us-form", one(activity_date="11/24/2026"), errors=[("R01", 1, "activity_date")]),
    Case(
        "R01-xlsx-date-with-time",
        corpus_file("xlsx-date-with-time.xlsx"),
        errors=[("R01", 1, "activity_date")],
    ),
    Case(
        "R01-xlsx-fractions",
        corpus_file("xlsx-fractions.xlsx"),
        errors=[("R01", 1, "appts_offered"), ("R01", 1, "gp_hours")],
    ),
    Case(
        "R01-skips-comparisons-on-that-row",
        one(appts_booked="ninety-six"),
        errors=[("R01", 1, "appts_booked")],
    ),
    # -- R02 blanks --------------------------------------------------------------------------------
    Case("R02-blank-status", one(hub_status=""), errors=[("R02", 1, "hub_status")]),
    Case("R02-blank-booked-skips-comparisons", one(appts_booked=""), errors=[("R02", 1, "appts_booked")]),
    Case("R02-blank-signed-off-by", one(signed_off_by="   "), errors=[("R02", 1, "signed_off_by")]),
    Case("R02-blank-comments-allowed", one(comments="  ")),
    # -- R03 ranges and lengths --------------------------------------------------------------------
    Case("R03-sessions-0-and-40", one(sessions_planned="40", sessions_delivered="40")),
    Case(
        "R03-sessions-zero",
        one(sessions_planned="0", sessions_delivered="0", comments=COMMENTED),
    ),
    Case(
        "R03-sessions-41",
        one(sessions_planned="41", sessions_delivered="41"),
        errors=[("R03", 1, "sessions_planned"), ("R03", 1, "sessions_delivered")],
    ),
    Case(
        "R03-negative-is-integer-out-of-range",
        one(sessions_planned="-1"),
        errors=[("R03", 1, "sessions_planned")],
    ),
    Case("R03-hours-0-and-300", one(gp_hours="0", other_clinician_hours="300")),
    Case("R03-hours-300.00", one(gp_hours="300.00")),
    Case("R03-hours-300.01", one(gp_hours="300.01"), errors=[("R03", 1, "gp_hours")]),
    Case("R03-appts-2000", one(appts_offered="2,000")),
    Case(
        "R03-appts-2001",
        one(appts_offered="2001"),
        errors=[("R03", 1, "appts_offered")],
    ),
    Case("R03-comments-1000-chars", one(comments="x" * 1000)),
    Case("R03-comments-1001-chars", one(comments="x" * 1001), errors=[("R03", 1, "comments")]),
    Case("R03-signed-off-100-chars", one(signed_off_by="L" * 100)),
    Case("R03-signed-off-101-chars", one(signed_off_by="L" * 101), errors=[("R03", 1, "signed_off_by")]),
    Case(
        "R03-sub-icb-code-too-long",
        one(sub_icb_code="14LX"),
        errors=[("R03", 1, "sub_icb_code"), ("R05", 1, "sub_icb_code"), ("R06", 1, "hub_code")],
    ),
    # -- R04 status --------------------------------------------------------------------------------
    Case("R04-unknown-status", one(hub_status="Closed"), errors=[("R04", 1, "hub_status")]),
    Case("R04-closed-unplanned-with-comment", one(hub_status="closed_unplanned", comments="Flooding")),
    # -- R05 locality ------------------------------------------------------------------------------
    Case(
        "R05-another-localitys-rows",
        one(sub_icb_code="00T", hub_code="00T-H1"),
        errors=[("R05", 1, "sub_icb_code")],
    ),
    Case(
        "R05-unknown-code",
        one(sub_icb_code="99X"),
        errors=[("R05", 1, "sub_icb_code"), ("R06", 1, "hub_code")],
    ),
    Case("R05-submitter-from-channel", one(sub_icb_code="00T", hub_code="00T-H1"), locality="00T"),
    # -- R06 hub register --------------------------------------------------------------------------
    Case("R06-unknown-hub", one(hub_code="14L-H9"), errors=[("R06", 1, "hub_code")]),
    Case("R06-hub-of-other-locality", one(hub_code="00T-H1"), errors=[("R06", 1, "hub_code")]),
    Case(
        "R06-hub-not-yet-active",
        one(sub_icb_code="01Y", hub_code="01Y-H2", activity_date="2026-11-14"),
        locality="01Y",
        errors=[("R06", 1, "hub_code")],
    ),
    Case(
        "R06-hub-active-from-first-day",
        one(sub_icb_code="01Y", hub_code="01Y-H2", activity_date="2026-11-15"),
        locality="01Y",
    ),
    # -- R07 dates ---------------------------------------------------------------------------------
    Case("R07-same-day-as-receipt", one(activity_date="2026-11-25")),
    Case("R07-after-receipt-day", one(activity_date="2026-11-26"), errors=[("R07", 1, "activity_date")]),
    Case("R07-14-days-before-passes", one(activity_date="2026-11-11")),
    Case("R07-15-days-before-fails", one(activity_date="2026-11-10"), errors=[("R07", 1, "activity_date")]),
    Case("R07-season-first-day", one(activity_date="2026-11-01"), received_at=at("2026-11-02")),
    Case(
        "R07-before-season",
        one(activity_date="2026-10-31"),
        received_at=at("2026-11-02"),
        errors=[("R07", 1, "activity_date"), ("R06", 1, "hub_code")],
    ),
    Case("R07-season-last-day", one(activity_date="2027-03-31"), received_at=at("2027-04-01")),
    Case(
        "R07-after-season",
        one(activity_date="2027-04-01"),
        received_at=at("2027-04-02"),
        errors=[("R07", 1, "activity_date"), ("R06", 1, "hub_code")],
    ),
    Case(
        "R07-london-day-not-utc-day-in-summer-time",
        one(activity_date="2027-03-30"),
        received_at=datetime(2027, 3, 29, 23, 30, tzinfo=UTC),
    ),
    # -- R08 keys ----------------------------------------------------------------------------------
    Case(
        "R08-repeat-named-on-later-rows",
        csv_bytes(
            [
                corpus_row(),
                corpus_row(hub_code="14L-H2"),
                corpus_row(),
                corpus_row(activity_date="24/11/2026"),
            ]
        ),
        errors=[("R08", 3, "hub_code"), ("R08", 4, "hub_code")],
    ),
    Case("R08-same-hub-two-days", csv_bytes([corpus_row(), corpus_row(activity_date="2026-11-23")])),
    # -- R09–R14, R17 arithmetic -------------------------------------------------------------------
    Case("R09-booked-more-than-offered", one(appts_offered="90"), errors=[("R09", 1, "appts_booked")]),
    Case("R09-booked-equals-offered", one(appts_offered="96")),
    Case(
        "R10-attended-more-than-booked",
        one(appts_attended="97", attended_f2f="77"),
        errors=[("R10", 1, "appts_attended"), ("R11", 1, "appts_dna")],
    ),
    Case("R11-attended-plus-dna-too-many", one(appts_dna="7"), errors=[("R11", 1, "appts_dna")]),
    Case("R12-modes-do-not-add-up", one(attended_f2f="71"), errors=[("R12", 1, "appts_attended")]),
    Case("R13-sources-do-not-add-up", one(src_other="7"), errors=[("R13", 1, "appts_booked")]),
    Case(
        "R14-onward-more-than-attended",
        one(onward_ed="91", comments=COMMENTED),
        errors=[("R14", 1, "onward_ed")],
        warnings=[("W03", 1, "onward_ed")],
    ),
    Case(
        "R17-closed-planned-with-offers",
        one(hub_status="CLOSED_PLANNED", comments="Planned closure"),
        errors=[("R17", 1, "appts_offered")],
    ),
    Case(
        "R17-closed-planned-all-zero",
        one(
            hub_status="CLOSED_PLANNED",
            comments="Planned closure",
            **ALL_FIGURES_ZERO,
        ),
    ),
    # -- R15 comments ------------------------------------------------------------------------------
    Case("R15-closed-unplanned-blank", one(hub_status="CLOSED_UNPLANNED"), errors=[("R15", 1, "comments")]),
    Case(
        "R15-w01-blank",
        one(sessions_delivered="5"),
        errors=[("R15", 1, "comments")],
        warnings=[("W01", 1, "sessions_delivered")],
    ),
    Case(
        "R15-w04-blank",
        one(patients_turned_away="2"),
        errors=[("R15", 1, "comments")],
        warnings=[("W04", 1, "patients_turned_away")],
    ),
    Case(
        "R15-w04-explained",
        one(patients_turned_away="2", comments="Ran out of slots"),
        warnings=[("W04", 1, "patients_turned_away")],
    ),
    # -- R16 NHS numbers ---------------------------------------------------------------------------
    Case(
        "R16-nhs-number-in-comments",
        one(comments="Pt 943 476 5919 sent to ED"),
        errors=[("R16", 1, "comments")],
    ),
    Case("R16-dashed-nhs-number", one(comments="re 943-476-5919"), errors=[("R16", 1, "comments")]),
    Case("R16-bad-check-digit-passes", one(comments="ticket 9434765918")),
    # 2026.2: every cell, whatever its column; more separators; NFKC
    Case(
        "R16-in-a-numeric-column",
        one(appts_offered="9434765919"),
        errors=[("R16", 1, "appts_offered"), ("R03", 1, "appts_offered")],
    ),
    Case(
        "R16-in-an-unknown-column",
        csv_bytes([corpus_row() | {"notes": "943 476 5919"}], header=[*H, "notes"]),
        errors=[("F03", None, "notes"), ("R16", 1, "notes")],
    ),
    Case(
        "R16-in-a-header-cell",
        csv_bytes([corpus_row()], header=[*H, "NHS 943 476 5919"]),
        errors=[("F03", None, "NHS [NHS number removed]"), ("R16", None, "NHS [NHS number removed]")],
    ),
    Case("R16-dotted", one(comments="ref 943.476.5919"), errors=[("R16", 1, "comments")]),
    Case("R16-slashed", one(comments="ref 943/476/5919"), errors=[("R16", 1, "comments")]),
    Case("R16-no-break-spaces", one(comments="943\u00a0476\u00a05919"), errors=[("R16", 1, "comments")]),
    Case("R16-full-width-digits", one(comments="９４３４７６５９１９"), errors=[("R16", 1, "comments")]),
    Case("R16-two-separators-end-the-run", one(comments="943 -476 5919")),
    Case("R16-eleven-digits-passes", one(comments="ref 19434765919")),
    Case("R16-phone-number-passes", one(comments="call 0161 123 4567")),
    # -- warnings ----------------------------------------------------------------------------------
    Case(
        "W02-dna-exactly-10pct-no-warning",
        one(appts_booked="90", appts_attended="81", appts_dna="9", attended_f2f="61", src_other="0"),
    ),
    Case(
        "W02-dna-above-10pct",
        one(
            appts_dna="6",
            appts_attended="50",
            attended_f2f="30",
            appts_booked="56",
            src_practice="10",
            comments=COMMENTED,
        ),
        warnings=[("W02", 1, "appts_dna")],
    ),
    Case("W03-onward-exactly-10pct-no-warning", one(onward_ed="9")),
    Case(
        "W03-onward-above-10pct", one(onward_ed="10", comments=COMMENTED), warnings=[("W03", 1, "onward_ed")]
    ),
    # -- several faults in one file ----------------------------------------------------------------
    Case(
        "three-faulty-rows-three-entries",
        csv_bytes(
            [
                corpus_row(appts_offered="90"),
                corpus_row(hub_code="14L-H2", appts_offered="80"),
                corpus_row(hub_code="14L-H3", appts_offered="10"),
            ]
        ),
        errors=[("R09", 1, "appts_booked"), ("R09", 2, "appts_booked"), ("R09", 3, "appts_booked")],
    ),
    Case(
        "many-faults-one-row",
        one(
            activity_date="2026-11-26",
            hub_status="SHUT",
            appts_offered="2001",
            src_other="x",
            comments="call 943 476 5919 no",
        ),
        errors=[
            ("R01", 1, "src_other"),
            ("R03", 1, "appts_offered"),
            ("R04", 1, "hub_status"),
            ("R07", 1, "activity_date"),
            ("R16", 1, "comments"),
        ],
    ),
    # 2026.2: runs are maximal, so "0161 943 476 5919" is one 14-digit run, not an NHS number
    # (2026.1 tried every 10-digit window and flagged it).
    Case("R16-fourteen-digit-run-passes", one(comments="0161 943 476 5919 no")),
]
