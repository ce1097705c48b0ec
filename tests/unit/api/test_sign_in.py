"""Signing in by emailed code, sessions and CSRF, as a person meets them (real loopback SMTP, SQLite).

Each test asks the application for what a browser would; the code is read from the mail the real
SMTP server received.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from surgehub.accounts import Role, add_account, disable_account
from surgehub.api.auth import COOKIE
from surgehub.api.limits import Limits
from surgehub.warehouse import tables
from surgehub.warehouse.audit import events
from tests.support.api import app_for, settings_for, token_for
from tests.support.returns import valid_return
from tests.support.signin import ask_for_code, code_mails, csrf_of, enter_code, latest_code, sign_in
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Engine

    from surgehub.mail.server import LoopbackSmtpServer

pytestmark = pytest.mark.smtp

LEAD = "lead@nhs.net"  # a submitter for 14L
OTHER = "other@nhs.net"  # a submitter for 01W
UNKNOWN = "nobody@nhs.net"


class Site:
    def __init__(self, client: TestClient, engine: Engine, outbox: Path) -> None:
        self.client, self.engine, self.outbox = client, engine, outbox


def _site(
    surgehub_home: Path, smtp_server: LoopbackSmtpServer, limits: Limits | None = None
) -> Iterator[Site]:
    settings, engine = settings_for(surgehub_home)
    for email, code in ((LEAD, "14L"), (OTHER, "01W")):
        add_account(
            engine,
            email,
            roles={Role.SUBMITTER},
            locality=code,
            display_name=None,
            actor="test",
            at=TIMELINE_NOW,
        )
    with TestClient(app_for(settings, limits), base_url="https://testserver") as client:
        yield Site(client, engine, smtp_server.outbox)


@pytest.fixture
def site(surgehub_home: Path, smtp_server: LoopbackSmtpServer) -> Iterator[Site]:
    yield from _site(surgehub_home, smtp_server)


def later(monkeypatch: pytest.MonkeyPatch, **delta: float) -> None:
    """Move the injected clock on from the timeline's now."""
    monkeypatch.setenv("SURGEHUB_NOW", (TIMELINE_NOW + timedelta(**delta)).isoformat())


def signed_in(client: TestClient) -> bool:
    return "Signed in as" in client.get("/").text


def actions(engine: Engine, prefix: str) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in events(engine, action_prefix=prefix)]


# -- signing in -------------------------------------------------------------------------------------


def test_submitter_signs_in_with_the_emailed_code_and_sends_without_a_token(site: Site) -> None:
    sign_in(site.client, site.outbox, LEAD)
    html = site.client.get("/").text
    assert 'id="token"' not in html
    assert 'id="status-token"' not in html
    assert "You are sending for <strong>Manchester</strong>" in html
    assert "Hub-days Manchester still owes" in html
    response = site.client.post(
        "/", data={"csrf_token": csrf_of(html)}, files={"file": ("ok.csv", valid_return("14L"))}
    )
    assert response.status_code == 200
    assert "Return accepted" in response.text
    with site.engine.connect() as connection:
        sent_by = connection.execute(select(tables.api_submission.c.sent_by)).scalar_one()
    assert sent_by == f"account:{LEAD}"
    assert ("submission.receive", LEAD) in actions(site.engine, "submission.")
    assert ("auth.sign_in", LEAD) in actions(site.engine, "auth.")


def test_without_single_sign_on_configured_only_the_code_is_offered(site: Site) -> None:
    assert "Sign in with" not in site.client.get("/sign-in").text
    assert site.client.get("/sign-in/oidc", follow_redirects=False).status_code == 404


def test_session_cookie_is_httponly_secure_and_samesite_lax(site: Site) -> None:
    sign_in(site.client, site.outbox, LEAD)
    ask = site.client.get("/sign-in", follow_redirects=False)  # signed in: sent home, cookie renewed
    cookie = ask.headers["set-cookie"].lower()
    assert f"{COOKIE}=" in cookie
    for flag in ("httponly", "secure", "samesite=lax", "max-age="):
        assert flag in cookie


def test_the_code_email_says_how_long_the_code_works_and_is_not_archived(site: Site) -> None:
    ask_for_code(site.client, LEAD)
    [mail] = code_mails(site.outbox, LEAD)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "works once" in text
    assert "10 minutes" in text
    assert latest_code(site.outbox, LEAD) not in str(mail["Subject"])
    with site.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tables.email_message)).scalar_one() == 0
        stored = connection.execute(select(tables.sign_in_code.c.code_hash)).scalar_one()
    assert latest_code(site.outbox, LEAD) not in stored


# -- the security properties ------------------------------------------------------------------------


def test_session_id_changes_at_sign_in(site: Site) -> None:
    ask_for_code(site.client, LEAD)
    before = site.client.cookies[COOKIE]
    enter_code(site.client, latest_code(site.outbox, LEAD))
    after = site.client.cookies[COOKIE]
    assert after != before
    # whoever planted or saw the old id has nothing: it is not a signed-in session
    with TestClient(site.client.app, base_url="https://testserver") as planted:
        planted.cookies.set(COOKIE, before)
        assert not signed_in(planted)
        planted.cookies.set(COOKIE, after)
        assert signed_in(planted)


def test_a_used_code_cannot_be_used_again(site: Site) -> None:
    ask_for_code(site.client, LEAD)
    code = latest_code(site.outbox, LEAD)
    assert enter_code(site.client, code)[0] == 200
    site.client.cookies.clear()
    ask_for_code(site.client, LEAD)  # a new code retires the old one too
    site.client.cookies.clear()
    site.client.get("/sign-in")
    status, html = enter_code_for(site.client, LEAD, code)
    assert status == 400
    assert "The code is not right" in html


def enter_code_for(client: TestClient, email: str, code: str) -> tuple[int, str]:
    """The code step for ``email`` without a new code being sent (the session remembers the address
    only after the address step, so take it and then try ``code``)."""
    html = client.get("/sign-in").text
    response = client.post("/sign-in", data={"email": email, "csrf_token": csrf_of(html)})
    assert response.status_code == 200
    return enter_code(client, code)


def test_an_expired_code_is_refused(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    ask_for_code(site.client, LEAD)
    later(monkeypatch, minutes=10, seconds=1)
    status, html = enter_code(site.client, latest_code(site.outbox, LEAD))
    assert status == 400
    assert "The code is not right, or it has expired" in html
    assert ("auth.sign_in_failed", LEAD) in actions(site.engine, "auth.")
    assert not signed_in(site.client)


def test_a_wrong_code_is_refused_and_five_wrong_tries_retire_the_code(site: Site) -> None:
    ask_for_code(site.client, LEAD)
    code = latest_code(site.outbox, LEAD)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        status, html = enter_code(site.client, wrong)
        assert status == 400
        assert 'aria-invalid="true"' in html
    status, _ = enter_code(site.client, code)
    assert status == 400  # the right code, too late: it was retired after the fifth wrong try
    assert not signed_in(site.client)


def test_an_unknown_address_gets_the_same_answer_by_the_same_path(site: Site) -> None:
    answers = {}
    for email in (LEAD, UNKNOWN):
        site.client.cookies.clear()
        html = site.client.get("/sign-in").text
        response = site.client.post("/sign-in", data={"email": email, "csrf_token": csrf_of(html)})
        answers[email] = (
            response.status_code,
            [r.status_code for r in response.history],
            str(response.url),
            re.sub(r'value="[^"]+"', "", response.text.replace(email, "EMAIL")),
        )
    assert answers[LEAD] == answers[UNKNOWN]
    with site.engine.connect() as connection:
        asked = connection.execute(select(tables.sign_in_code.c.email).order_by("code_id")).scalars().all()
    assert asked == [LEAD, UNKNOWN]  # a code was issued and stored for both
    assert code_mails(site.outbox, LEAD)
    assert not code_mails(site.outbox, UNKNOWN)


def test_guessing_codes_is_capped_per_address(surgehub_home: Path, smtp_server: LoopbackSmtpServer) -> None:
    limits = Limits(tries_per_address="3/15 minutes", codes_per_address="2/hour")
    site = next(_site(surgehub_home, smtp_server, limits))
    ask_for_code(site.client, LEAD)
    code = latest_code(site.outbox, LEAD)
    for _ in range(3):
        assert enter_code(site.client, "000000" if code != "000000" else "111111")[0] == 400
    status, html = enter_code(site.client, code)
    assert status == 429
    assert "Too many attempts" in html
    assert ("auth.sign_in_failed", LEAD) in actions(site.engine, "auth.")
    # and asking for codes is capped too, from any session
    site.client.cookies.clear()
    ask_for_code(site.client, LEAD)
    site.client.cookies.clear()
    assert "Too many attempts" in ask_for_code(site.client, LEAD)
    assert len(code_mails(site.outbox, LEAD)) == 2


def test_a_cross_site_post_without_the_csrf_token_is_refused(site: Site) -> None:
    assert site.client.post("/sign-in", data={"email": LEAD}).status_code == 400
    with site.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tables.sign_in_code)).scalar_one() == 0
    sign_in(site.client, site.outbox, LEAD)
    # a forged upload: the session cookie rides along (SameSite=Lax aside), the token does not
    forged = site.client.post(
        "/", data={"csrf_token": "##forged"}, files={"file": ("x.csv", valid_return("14L"))}
    )
    assert forged.status_code == 403
    assert "The form had expired" in forged.text
    missing = site.client.post("/", files={"file": ("x.csv", valid_return("14L"))})
    assert missing.status_code == 403
    with site.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tables.api_submission)).scalar_one() == 0
    assert site.client.post("/sign-out", data={}).status_code == 400
    assert signed_in(site.client)


def test_another_localitys_return_answers_404(site: Site) -> None:
    token = token_for(site.engine, "01W")
    theirs = site.client.post(
        "/api/v1/returns",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("r.csv", valid_return("01W"))},
    ).json()["submission_id"]
    sign_in(site.client, site.outbox, LEAD)
    html = site.client.get("/").text
    mine = site.client.post(
        "/", data={"csrf_token": csrf_of(html)}, files={"file": ("m.csv", valid_return("14L"))}
    )
    own = re.search(r"<dt>Reference</dt><dd>([^<]+)</dd>", mine.text)
    assert own
    assert site.client.get(f"/my-returns/{own.group(1)}").status_code == 200
    refused = site.client.get(f"/my-returns/{theirs}")
    assert refused.status_code == 404
    assert "There is no such return for your locality" in refused.text
    assert site.client.get("/my-returns/api-0000000000000000").status_code == 404
    assert theirs not in site.client.get("/").text


def test_signing_out_ends_the_session_on_the_server(site: Site) -> None:
    sign_in(site.client, site.outbox, LEAD)
    copied = site.client.cookies[COOKIE]
    html = site.client.get("/").text
    response = site.client.post("/sign-out", data={"csrf_token": csrf_of(html)})
    assert response.status_code == 200
    assert "You have signed out" in response.text
    assert ("auth.sign_out", LEAD) in actions(site.engine, "auth.")
    with TestClient(site.client.app, base_url="https://testserver") as thief:
        thief.cookies.set(COOKIE, copied)
        assert not signed_in(thief)


def test_a_session_ends_after_30_idle_minutes(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(site.client, site.outbox, LEAD)
    later(monkeypatch, minutes=29)
    assert signed_in(site.client)
    later(monkeypatch, minutes=29 + 30, seconds=1)
    assert not signed_in(site.client)


def test_a_session_ends_8_hours_after_sign_in_however_busy(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(site.client, site.outbox, LEAD)
    for step in range(1, 25):  # a request every 20 minutes: never idle
        later(monkeypatch, minutes=20 * step)
        assert signed_in(site.client), step
    later(monkeypatch, hours=8, seconds=1)
    assert not signed_in(site.client)


def test_disabling_an_account_ends_its_session_and_its_tokens(site: Site) -> None:
    sign_in(site.client, site.outbox, LEAD)
    from surgehub.api.tokens import create_token

    token, _ = create_token(site.engine, "14L", now=TIMELINE_NOW, account_email=LEAD)
    assert disable_account(site.engine, LEAD, actor="test", at=TIMELINE_NOW)
    assert not signed_in(site.client)
    response = site.client.get("/api/v1/returns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    ask_for_code(site.client, LEAD)
    assert not code_mails(site.outbox, LEAD)[1:]  # no new code mailed to a disabled account


@pytest.mark.parametrize(
    ("base", "loopback"),
    [
        ("http://localhost:8000", True),
        ("http://127.0.0.1:8000", True),
        ("http://[::1]:8000", True),
        ("http://app.localhost", True),
        ("https://localhost:8000", False),  # https: Secure as anywhere
        ("http://surgehub.example.nhs.uk", False),  # plain http elsewhere: still Secure (so sign-in fails)
        ("http://10.0.0.5:8000", False),
    ],
)
def test_only_plain_http_on_loopback_drops_the_secure_flag(base: str, loopback: bool) -> None:
    from surgehub.api.auth import loopback_http

    assert loopback_http(base) is loopback
