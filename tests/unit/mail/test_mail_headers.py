"""Every message surgehub builds says it is automatic, where replies go, and has its own Message-ID.

Receipts (accepted and rejected), notices about what a landing folder held, reminders, and the board
digest, built from a real warehouse, then parsed back with the standard library's email parser:
``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress: All``, so no locality's
out-of-office reply comes back; ``Reply-To`` the data team (``email.reply_to``); a Message-ID on the
configured domain (the From address's by default), different for every message built; the CSV
attachment's charset. And the settings behind them are checked like every other key.
"""

from __future__ import annotations

import ast
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from surgehub.config import ConfigError, settings_from
from surgehub.mail.compose import Mail, as_sent, build_message, sender_domain
from surgehub.mail.refusals import notice_mails
from tests.support.mails import mails_of_every_kind
from tests.support.timeline import BOARD_AT

if TYPE_CHECKING:
    from surgehub.config import Settings

DATA_TEAM = "gm-primary-care-ops@gm-surgehub.example.nhs.uk"
FROM_DOMAIN = "gm-surgehub.example.nhs.uk"
MSG_ID = re.compile(r"<[^<>@\s]+@([^<>@\s]+)>")


def message_id(message: EmailMessage) -> str:
    """The Message-ID as the log holds it: a long one is folded onto its own line (RFC 5322 CFWS)."""
    return str(message["Message-ID"]).strip()


def parsed(mail: Mail) -> EmailMessage:
    """The message as it goes over SMTP, read back by the standard library's parser."""
    message = BytesParser(policy=policy.default).parsebytes(as_sent(build_message(mail, date=BOARD_AT)))
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def built(surgehub_home: Path) -> dict[str, list[Mail]]:
    """One accepted and one rejected return in a real warehouse, and every kind of message built on it."""
    return mails_of_every_kind(surgehub_home)


def test_every_kind_of_message_is_automatic_answerable_and_uniquely_identified(built) -> None:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    for kind, mails in built.items():
        assert mails, f"no {kind} was built"
        for mail in mails:
            message = parsed(mail)
            assert message["Auto-Submitted"] == "auto-generated", kind
            assert message["X-Auto-Response-Suppress"] == "All", kind
            assert parseaddr(str(message["Reply-To"]))[1] == DATA_TEAM, kind
            assert parseaddr(str(message["From"]))[1] == f"surgehub@{FROM_DOMAIN}", kind
            match = MSG_ID.fullmatch(message_id(message))
            assert match, (kind, message["Message-ID"])
            assert match.group(1) == FROM_DOMAIN, "the Message-ID's domain is the From address's"
            assert message["Date"]
            assert not message.defects, (kind, message.defects)
            for part in message.walk():
                assert not part.defects, (kind, part.get_content_type(), part.defects)
            ids.append(message_id(message))
    assert len(ids) == len(set(ids)), "every message built has a Message-ID of its own"


def test_the_digest_csv_says_its_charset(built) -> None:  # type: ignore[no-untyped-def]
    message = parsed(built["board digest"][0])
    [csv_part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/csv"]
    assert csv_part.get_content_charset() == "utf-8"
    assert csv_part.get_filename()
    payload = csv_part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    payload.decode("utf-8")  # and the bytes are what it says


def test_a_rebuilt_message_gets_a_new_message_id_on_the_configured_domain(built) -> None:  # type: ignore[no-untyped-def]
    mail = built["notice"][0]
    first, second = message_id(parsed(mail)), message_id(parsed(mail))
    assert first != second  # unique per send: the email log, not the Message-ID, is the send-once key
    settings = settings_from(
        {"email": {"message_id_domain": "Mail.Surgehub.Example.NHS.uk"}}, home=Path("/x")
    )
    [notice] = notice_mails(
        [{"locality": "01W", "name": "a", "reason": "link", "key": "k2"}],
        settings.overridden({"email": {"locality_contacts": {"01W": ["a@example.nhs.uk"]}}}),
    )
    match = MSG_ID.fullmatch(message_id(parsed(notice)))
    assert match
    assert match.group(1) == "mail.surgehub.example.nhs.uk"


def test_without_a_reply_to_setting_there_is_no_reply_to_and_ids_use_the_from_domain() -> None:
    settings = settings_from({}, home=Path("/x"))
    assert settings.email.reply_to == ""
    assert settings.email.smtp_timeout_seconds == 10
    mail = Mail(
        kind="alert",
        period_key="p",
        recipient="a@b.example",
        sender=settings.email.sender,
        subject="s",
        text="t",
    )
    message = parsed(mail)
    assert message["Reply-To"] is None
    assert message_id(message).endswith(f"@{sender_domain(settings.email.sender)}>")
    assert sender_domain("GM <surgehub@GM.Example.nhs.uk>") == "gm.example.nhs.uk"


def _email(**values: object) -> Settings:
    return settings_from({"email": values}, home=Path("/x"))


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"reply_to": "a@example.nhs.uk, b@example.nhs.uk"}, "config.email.reply_to"),
        ({"reply_to": "data team"}, "config.email.reply_to"),
        ({"reply_to": "x@example.nhs.uk\r\nBcc: victim@example.com"}, "config.email.reply_to"),
        ({"reply_to": ["a@example.nhs.uk"]}, "config.email.reply_to"),
        ({"from": "nobody"}, "config.email.from"),
        ({"message_id_domain": "not a domain"}, "config.email.message_id_domain"),
        ({"message_id_domain": "-bad.example"}, "config.email.message_id_domain"),
        ({"message_id_domain": "a@b.example"}, "config.email.message_id_domain"),
        ({"smtp_timeout_seconds": 0}, "config.email.smtp_timeout_seconds"),
        ({"smtp_timeout_seconds": "soon"}, "config.email.smtp_timeout_seconds"),
        ({"smtp_timeout_seconds": 3600}, "config.email.smtp_timeout_seconds"),
    ],
)
def test_a_bad_mail_setting_names_its_key(values: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        _email(**values)


def test_good_mail_settings_are_taken_as_written() -> None:
    settings = _email(
        reply_to="Data Team <data@example.nhs.uk>",
        message_id_domain="surgehub.example.nhs.uk",
        smtp_timeout_seconds=2.5,
    )
    assert settings.email.reply_to == "Data Team <data@example.nhs.uk>"
    assert settings.email.message_id_domain == "surgehub.example.nhs.uk"
    assert settings.email.smtp_timeout_seconds == 2.5


def test_every_mail_surgehub_builds_is_given_the_reply_to_and_message_id_domain() -> None:
    """Every ``Mail(...)`` in the code passes both settings (a new kind of message cannot forget them)."""
    src = Path(__file__).resolve().parents[3] / "src" / "surgehub"
    found = 0
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Mail":
                found += 1
                given = {k.arg for k in node.keywords}
                assert {"reply_to", "message_id_domain"} <= given, f"{path}:{node.lineno}"
    assert found >= 6
