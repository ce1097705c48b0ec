"""Warehouse schema as SQLAlchemy Core tables; Alembic migrations (surgehub/migrations) create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from surgehub import spec

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant stored as UTC: timestamptz on PostgreSQL, naive-UTC text on SQLite.

    Binding a naive datetime is refused (surgehub only handles aware instants); values read back are
    always aware UTC, whichever the backend, so comparisons in Python and in SQL agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware instants only")
        value = value.astimezone(UTC)
        # SQLite keeps text; a fixed naive-UTC form keeps text order equal to time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Surrogate keys: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
Id = BigInteger().with_variant(Integer, "sqlite")

locality = Table(
    "locality",
    metadata,
    Column("sub_icb_code", String(3), primary_key=True),
    Column("locality_name", String(200), nullable=False),
    Column("slug", String(50), nullable=False, unique=True),
    Column("sort_order", Integer, nullable=False),
)

# A hub's identity (what versions point at); what the register says about it is in hub_version.
hub = Table(
    "hub",
    metadata,
    Column("hub_code", String(20), primary_key=True),
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code"), nullable=False),
)

# The hub register, bitemporal: each recorded version of a hub with its active dates (valid time), when
# it was recorded and, once replaced, when it was superseded (transaction time). Rows are only ever
# added; superseded_at is set once, when the next version of the same hub is recorded.
hub_version = Table(
    "hub_version",
    metadata,
    Column("hub_version_id", Id, primary_key=True, autoincrement=True),
    Column("hub_code", String(20), ForeignKey("hub.hub_code"), nullable=False),
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code"), nullable=False),
    Column("hub_name", String(200), nullable=False),
    Column("active_from", Date, nullable=False),
    Column("active_to", Date, nullable=False),
    Column("change", String(20), nullable=False),  # seed | add | rename | close | dates
    Column("note", Text),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("recorded_by", String(320), nullable=False),
    Column("superseded_at", UtcDateTime()),
    Index("ix_hub_version_hub_recorded", "hub_code", "recorded_at"),
)

#: The plan's day kinds as column suffixes (register.DayKind values).
PLAN_DAY_KINDS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "bank_holiday")

# The commissioned plan, bitemporal like the register: per hub and date range, the sessions and
# appointments offered it was commissioned to provide on each weekday and on bank holidays (null:
# Sunday's). The latest recorded set covering a day applies; a set wholly replaced is superseded.
commissioned_plan = Table(
    "commissioned_plan",
    metadata,
    Column("plan_id", Id, primary_key=True, autoincrement=True),
    Column("hub_code", String(20), ForeignKey("hub.hub_code"), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    *(Column(f"sessions_{kind}", Integer, nullable=kind == "bank_holiday") for kind in PLAN_DAY_KINDS),
    *(Column(f"appts_{kind}", Integer, nullable=kind == "bank_holiday") for kind in PLAN_DAY_KINDS),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("recorded_by", String(320), nullable=False),
    Column("superseded_at", UtcDateTime()),
    Index("ix_commissioned_plan_hub_from", "hub_code", "valid_from"),
)

# Who did what and when, append-only (no update or delete: the code never issues one, and triggers
# refuse them on both backends). Generic: register and plan changes, and later sign-ins, tokens,
# submissions and digest re-sends (issue 17). ``detail`` never holds a secret or a patient number.
audit_event = Table(
    "audit_event",
    metadata,
    Column("audit_id", Id, primary_key=True, autoincrement=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor", String(320), nullable=False),  # an account, an OS user, "seed" or "system"
    Column("action", String(60), nullable=False),  # e.g. hub.add, plan.set, digest.verify
    Column("subject", String(200), nullable=False),  # what it acted on, e.g. hub:01W-H2
    Column("detail", JSON, nullable=False),
    Index("ix_audit_event_occurred", "occurred_at"),
)

# One row per file received on any channel, whatever its outcome.
submission = Table(
    "submission",
    metadata,
    Column("submission_id", Id, primary_key=True, autoincrement=True),
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code"), nullable=False),
    Column("channel", String(20), nullable=False),  # folder | api | cli | backfill
    Column("received_at", UtcDateTime(), nullable=False),
    Column("arrival_seq", BigInteger, nullable=False),  # order of arrival, breaks receipt-time ties
    Column("sha256", String(64), nullable=False),
    Column("file_name", String(255)),
    Column("size_bytes", BigInteger, nullable=False),
    Column("outcome", String(20), nullable=False),  # accepted | rejected | duplicate
    Column("quarantined", Boolean, nullable=False, default=False),  # failed R16: file not archived
    Column("duplicate_of", BigInteger, ForeignKey("submission.submission_id")),
    Column("spec_version", String(20), nullable=False),
    Column("data_rows", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),  # [{"rule","row","column","message"}]; never an R16 value
    Column("warnings", JSON, nullable=False),
    # Spec 2026.2: errors and warnings list at most 50 findings a rule; totals counts them all
    # ({"R09": 120}); not_checked lists the rules a missing column kept from running. Null before 0003.
    Column("totals", JSON),
    Column("not_checked", JSON),
    # The activity dates and hub codes the file's rows name, for its receipt (null before 0006).
    Column("coverage", JSON),
    Column("archive_path", Text),  # relative to the archive root; null when quarantined
    Column("processed_at", UtcDateTime(), nullable=False),
    Index("ix_submission_locality_received", "sub_icb_code", "received_at"),
    # One receipt of one file: replaying it (backfill) finds it instead of recording it twice.
    # Its leading columns also serve the duplicate check (same bytes, same locality).
    UniqueConstraint("sub_icb_code", "sha256", "received_at", name="uq_submission_receipt"),
)

_COUNT_COLUMNS = spec.INTEGER_COLUMNS  # the return's count columns, in spec order

#: The integer count columns of a return row, in spec order (public name).
COUNT_COLUMNS = _COUNT_COLUMNS

# Every accepted row is a version of its hub-day; all versions are kept, one is current.
# No foreign keys (migration 0007, docs/decisions/0076): the loader checks a load's hubs (each a hub of
# the locality named beside it) and its submission in one query and locks them; triggers on hub and
# submission refuse to delete or re-key one that versions name. Per-row foreign-key checks were most
# of the time of a million-row load.
hub_day_version = Table(
    "hub_day_version",
    metadata,
    Column("version_id", Id, primary_key=True, autoincrement=True),
    Column("submission_id", BigInteger, nullable=False),  # a submission (checked by the loader)
    Column("activity_date", Date, nullable=False),
    Column("hub_code", String(20), nullable=False),  # a hub of sub_icb_code (checked by the loader)
    Column("sub_icb_code", String(3), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ... per hub-day, assigned on receipt
    Column("is_current", Boolean, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("arrival_seq", BigInteger, nullable=False),
    Column("row_number", Integer, nullable=False),  # row in its file (spec §3 numbering)
    Column("hub_status", String(20), nullable=False),
    *(Column(name, Integer, nullable=False) for name in _COUNT_COLUMNS),
    Column("gp_hours", Numeric(7, 2), nullable=False),
    Column("other_clinician_hours", Numeric(7, 2), nullable=False),
    Column("comments", Text),
    Column("signed_off_by", String(100), nullable=False),
    Column("warnings", JSON, nullable=False),  # the W-rules that fired on this row
    # Day first: it also serves every by-day read (RAG, digest, W05 history, lineage) and the loader's
    # newest-versions query, and a day's rows arrive together, so loads append to it.
    UniqueConstraint("activity_date", "hub_code", "version", name="uq_hub_day_version_key"),
    Index("ix_hub_day_version_submission", "submission_id"),
)

# RAG per locality-day (scope LOCALITY) and for Greater Manchester (scope GM), as of a time.
rag_result = Table(
    "rag_result",
    metadata,
    Column("rag_id", Id, primary_key=True, autoincrement=True),
    Column("activity_date", Date, nullable=False),
    Column("scope", String(10), nullable=False),  # LOCALITY | GM
    Column("sub_icb_code", String(3), nullable=False),  # 'GM' for the roll-up
    Column("as_of", UtcDateTime(), nullable=False),
    Column("status", String(12), nullable=False),
    Column("level", Integer),
    Column("points", Integer),
    Column("escalated", Boolean, nullable=False, default=False),
    Column("assurance", String(12)),
    Column("reasons", JSON, nullable=False),
    Column("figures", JSON, nullable=False),  # sums and ratios behind the status
    Column("ruleset_version", String(40), nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
    UniqueConstraint("activity_date", "sub_icb_code", "as_of", name="uq_rag_result_key"),
)

# Every email the system sends, keyed so that a retry or re-run never sends the same message twice.
email_log = Table(
    "email_log",
    metadata,
    Column("email_id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(30), nullable=False),  # board | daily | receipt | reminder | chaser | alert
    Column("period_key", String(100), nullable=False),  # e.g. board:2026-11-26, receipt:<submission_id>
    Column("recipient", String(320), nullable=False),
    Column("message_id", String(320), nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("status", String(10), nullable=False),  # sending (logged, before the relay) | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("kind", "period_key", "recipient", name="uq_email_log_key"),
)

# The message archive: each message exactly as sent (the whole MIME message, bytes as given to SMTP),
# one per email_log row that was sent. verify-digest reads digests back from here; re-sending a past
# digest (issue 17) sends these bytes to a new recipient under a new email_log row.
email_message = Table(
    "email_message",
    metadata,
    Column("email_id", BigInteger, ForeignKey("email_log.email_id"), primary_key=True, autoincrement=False),
    Column("mime", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("stored_at", UtcDateTime(), nullable=False),
)

# Submission API (issue 7): each locality's secret tokens, kept only as sha256 hashes.
submission_token = Table(
    "submission_token",
    metadata,
    Column("token_id", Id, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),  # public part of the token, for listing
    Column("token_hash", String(64), nullable=False),  # sha256 hex of the whole token; never the token
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code"), nullable=False),
    Column("label", String(200)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
    Column("account_email", String(320)),  # the account it belongs to (issue 17); null for older tokens
)

# Submission API: every return received over HTTP, with the receipt time of the request's arrival.
# An accepted return is handed to the landing zone under ``landing_name`` and loaded by the ingest
# DAG; ``warehouse_submission_id`` links it to the submission row once that exists.
api_submission = Table(
    "api_submission",
    metadata,
    Column("api_submission_id", String(24), primary_key=True),  # "api-" + 16 hex digits
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code"), nullable=False),
    Column("token_id", BigInteger, ForeignKey("submission_token.token_id")),  # null: sent signed in
    Column("sent_by", String(330)),  # "account:<email>" or "token:<prefix>" (issue 17); null before 0005
    Column("received_at", UtcDateTime(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", String(255), nullable=False),  # as the submitter named it (shown only)
    Column("landing_name", String(64)),  # the system's name in landing/<code>/; null unless handed over
    Column("size_bytes", BigInteger, nullable=False),
    Column("outcome", String(20), nullable=False),  # accepted | rejected | error
    Column("duplicate", Boolean, nullable=False, default=False),
    Column("validation", JSON, nullable=False),  # the `validate` JSON given in the answer
    Column("warehouse_submission_id", BigInteger, ForeignKey("submission.submission_id")),
    Index("ix_api_submission_locality_received", "sub_icb_code", "received_at"),
    Index("ix_api_submission_locality_sha256", "sub_icb_code", "sha256"),
)

# People (issue 17): an account is an email address, normalised to lower case, with roles.
account = Table(
    "account",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("display_name", String(200)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("disabled_at", UtcDateTime()),  # a disabled account cannot sign in, and its tokens stop working
)

# An account's roles: submitter (for one locality), board, data_team; one row per role.
account_role = Table(
    "account_role",
    metadata,
    Column("email", String(320), ForeignKey("account.email"), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("sub_icb_code", String(3), ForeignKey("locality.sub_icb_code")),  # submitter only
)

# Emailed sign-in codes, kept only as an HMAC: single use, short-lived, a few attempts each. A row is
# written for every request, known address or not (the mail goes only to an active account).
sign_in_code = Table(
    "sign_in_code",
    metadata,
    Column("code_id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("used_at", UtcDateTime()),
    Index("ix_sign_in_code_email", "email", "created_at"),
)
