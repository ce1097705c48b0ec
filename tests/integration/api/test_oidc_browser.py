"""Single sign-on by OpenID Connect in Debian's Chromium, against a real, certified OpenID provider
(panva's `oidc-provider` under Node, on loopback; `npm ci --prefix tests/support/oidc` installs it):
an account signs in through the provider's own login and consent pages; an address with no account
is refused; a forged callback is refused. No mock anywhere.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
import requests
import yaml

from surgehub.accounts import Role, add_account
from surgehub.config import PROJECT_ROOT, load_settings
from surgehub.orchestration.live import free_port
from surgehub.warehouse.audit import events
from surgehub.warehouse.db import ensure_warehouse, get_engine
from tests.support.browser import axe_violations
from tests.support.oidc_provider import running_provider
from tests.support.oidc_provider import through_the_provider as provider_pages
from tests.support.signin import serving
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

pytestmark = pytest.mark.browser

LEAD = "lead@nhs.net"


class Site:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url, self.engine = url, engine


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = (tmp_path_factory.mktemp("oidc") / "var").resolve()
    home.mkdir()
    port = free_port()
    config = home / "surgehub.yaml"
    base = yaml.safe_load((PROJECT_ROOT / "config" / "surgehub.yaml").read_text())
    base["email"]["public_base_url"] = f"http://127.0.0.1:{port}"
    config.write_text(yaml.safe_dump(base))
    callback = f"http://127.0.0.1:{port}/sign-in/oidc/callback"
    with running_provider(callback, home / "provider.log") as provider:
        env = {
            **os.environ,
            "SURGEHUB_HOME": str(home),
            "SURGEHUB_CONFIG": str(config),
            "SURGEHUB_NOW": TIMELINE_NOW.isoformat(),
            **provider.env(),
        }
        for name in (
            "SURGEHUB_WAREHOUSE_URL",
            "SURGEHUB_LANDING_DIR",
            "SURGEHUB_ARCHIVE_DIR",
            "SURGEHUB_REDIS_URL",
        ):
            env.pop(name, None)
        engine = ensure_warehouse(get_engine(load_settings(env).warehouse_url))
        add_account(
            engine,
            LEAD,
            roles={Role.SUBMITTER},
            locality="14L",
            display_name=None,
            actor="test",
            at=TIMELINE_NOW,
        )
        with serving(home, port, env) as url:
            yield Site(url, engine)


def through_the_provider(page: Any, site: Site, login: str) -> None:
    """Sign-in page → the provider's login and consent pages → back to surgehub."""
    page.goto(site.url + "/sign-in")
    assert axe_violations(page, best_practice=True) == []
    page.get_by_role("link", name="Sign in with NHSmail").click()
    provider_pages(page, login)
    page.wait_for_url(f"{site.url}/**")


def test_an_account_signs_in_through_the_openid_provider(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    through_the_provider(page, site, LEAD)
    assert f"Signed in as {LEAD}" in page.locator("header").inner_text(), page.locator("main").inner_text()
    assert page.locator("#token").count() == 0
    signed = [(e.actor, e.detail.get("method")) for e in events(site.engine, action_prefix="auth.sign_in")]
    assert (LEAD, "oidc") in signed
    context.close()


def test_an_address_with_no_account_is_refused(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    through_the_provider(page, site, "stranger@nhs.net")
    assert "There is no account for the address NHSmail gave" in page.get_by_role("alert").inner_text()
    assert "Signed in as" not in page.content()
    context.close()


def test_a_forged_callback_is_refused(site: Site) -> None:
    forged = requests.get(f"{site.url}/sign-in/oidc/callback", params={"code": "x", "state": "y"}, timeout=10)
    assert forged.status_code == 400
    assert "did not work" in forged.text
