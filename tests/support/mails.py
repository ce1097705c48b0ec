"""Every kind of message surgehub builds, from a real warehouse: for the tests on headers and clients."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from surgehub import clock
from surgehub.chase import chase_mails
from surgehub.config import load_settings
from surgehub.digest.build import build_digest
from surgehub.digest.mails import digest_mails
from surgehub.digest.model import DigestKind
from surgehub.digest.render import render_digest
from surgehub.ingest import Channel, IncomingReturn, ingest_returns
from surgehub.mail.receipts import receipt_mails
from surgehub.mail.refusals import notice_mails
from surgehub.resources import Resources
from surgehub.warehouse.db import get_engine, upgrade
from tests.support.returns import rejected_return, valid_return
from tests.support.timeline import BOARD_AT, later

if TYPE_CHECKING:
    from pathlib import Path

    from surgehub.mail.compose import Mail


def mails_of_every_kind(home: Path) -> dict[str, list[Mail]]:
    """One accepted and one rejected return stored in the warehouse under ``home`` (SURGEHUB_HOME),
    and each kind of message built on it: both receipts, a reminder, a notice, the board digest."""
    settings = load_settings()
    upgrade(settings.warehouse_url)
    engine = get_engine(settings.warehouse_url)
    folder = home / "in"
    folder.mkdir(exist_ok=True)
    items = []
    for n, (code, content) in enumerate([("00V", valid_return("00V")), ("02A", rejected_return("02A"))]):
        path = folder / f"{code}.csv"
        path.write_bytes(content)
        items.append(IncomingReturn(path=path, locality=code, channel=Channel.FOLDER, received_at=later(n)))
    outcomes = ingest_returns(items, Resources.of(settings))
    assert [o.status for o in outcomes] == ["accepted", "rejected"]
    accepted, rejected = (f"submission:{o.submission_id}" for o in outcomes)
    receipts = receipt_mails(engine, [o.submission_id for o in outcomes if o.submission_id], settings)
    _, chase = chase_mails(engine, datetime(2026, 11, 26, 9, 30, tzinfo=clock.LONDON), settings)
    notice = {"locality": "01W", "name": "return.lnk", "reason": "link", "key": "k1", "moved_to": "x"}
    digest = render_digest(build_digest(engine, DigestKind.BOARD, BOARD_AT, settings))
    return {
        "accepted receipt": [m for m in receipts if m.period_key == accepted],
        "rejected receipt": [m for m in receipts if m.period_key == rejected],
        "reminder": chase[:2],
        "notice": notice_mails([notice], settings),
        "board digest": digest_mails(digest, settings),
    }
