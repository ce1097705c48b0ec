"""One sign-in for the data team (issue 17): the Airflow UI (FAB auth manager, deploy/webserver_config.py)
signs people in through the same real OpenID provider as surgehub's pages, in Debian's Chromium. A
data-team account gets in, with the configured Airflow role; a submitter's account is refused; both
are audited in the warehouse. A real `airflow api-server`, a real provider; no mock."""

from __future__ import annotations

import os
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests
from sqlalchemy import create_engine, text

from surgehub.accounts import Role, add_account
from surgehub.config import PROJECT_ROOT, load_settings
from surgehub.orchestration.live import VENV_BIN, free_port, live_environment
from surgehub.warehouse.audit import events
from surgehub.warehouse.db import ensure_warehouse, get_engine
from tests.support.oidc_provider import running_provider, through_the_provider
from tests.support.timeline import TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

pytestmark = [pytest.mark.airflow, pytest.mark.browser]

ANALYST, LEAD = "analyst@nhs.net", "lead@nhs.net"


class Ui:
    def __init__(self, url: str, warehouse: Engine, metadata_url: str, env: dict[str, str]) -> None:
        self.url, self.warehouse, self.metadata_url, self.env = url, warehouse, metadata_url, env

    def roles_of(self, username: str) -> list[str]:
        engine = create_engine(self.metadata_url)
        try:
            with engine.connect() as conn:
                return sorted(
                    conn.execute(
                        text(
                            "select r.name from ab_user u join ab_user_role ur on ur.user_id = u.id"
                            " join ab_role r on r.id = ur.role_id where u.username = :u"
                        ),
                        {"u": username},
                    ).scalars()
                )
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    home = (tmp_path_factory.mktemp("airflow-sso") / "var").resolve()
    home.mkdir()
    port = free_port()
    with running_provider(f"http://localhost:{port}/auth/oauth-authorized/nhsmail", home / "idp.log") as idp:
        base = {**os.environ, "SURGEHUB_HOME": str(home), "SURGEHUB_NOW": TIMELINE_NOW.isoformat()}
        for name in ("SURGEHUB_WAREHOUSE_URL", "SURGEHUB_CONFIG", "SURGEHUB_REDIS_URL"):
            base.pop(name, None)
        settings = load_settings(base)
        warehouse = ensure_warehouse(get_engine(settings.warehouse_url))
        add = {"locality": None, "actor": "test", "at": TIMELINE_NOW}
        add_account(warehouse, ANALYST, roles={Role.DATA_TEAM}, display_name="Ana Lyst", **add)
        add_account(warehouse, LEAD, roles={Role.SUBMITTER}, display_name=None, **{**add, "locality": "14L"})
        env = {
            **base,
            **live_environment(settings, port, free_port()),
            **idp.env(),
            "SURGEHUB_NOW": TIMELINE_NOW.isoformat(),
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
            "AIRFLOW__FAB__CONFIG_FILE": str(PROJECT_ROOT / "deploy" / "webserver_config.py"),
            "SURGEHUB_AIRFLOW_ROLE": "Op",
        }
        migrate = subprocess.run(
            [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, check=False
        )
        assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
        log = home / "api-server.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(
                [str(VENV_BIN / "airflow"), "api-server"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        url = f"http://localhost:{port}"
        try:
            deadline = time.monotonic() + 240
            while True:
                assert server.poll() is None, log.read_text()[-3000:]
                try:
                    if requests.get(f"{url}/auth/login/", timeout=5).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(1)
            yield Ui(url, warehouse, env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], env)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def test_the_data_team_signs_in_to_the_airflow_ui_through_the_openid_provider(ui: Ui, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{ui.url}/auth/login/")
    page.locator("#btn-signin-nhsmail").click()  # FAB's "Sign In with nhsmail"
    through_the_provider(page, ANALYST)
    page.wait_for_url(f"{ui.url}/**")
    assert "/auth/login" not in page.url
    assert ui.roles_of(ANALYST) == ["Op"]
    assert any(c["name"] == "_token" for c in context.cookies())  # the Airflow UI's own session
    signed = [e for e in events(ui.warehouse, action_prefix="auth.") if e.actor == ANALYST]
    assert [(e.action, e.detail.get("method")) for e in signed] == [("auth.sign_in", "airflow_oidc")]
    assert page.request.get(f"{ui.url}/api/v2/dags").status == 200  # the UI's token works

    disabled = subprocess.run(
        [str(VENV_BIN / "surgehub"), "user", "disable", ANALYST],
        env=ui.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert disabled.returncode == 0, disabled.stderr
    assert "its Airflow UI user is deactivated too" in disabled.stdout
    # FAB re-reads the user at most 30 s later ([fab] cache_ttl), long before the token would expire
    deadline = time.monotonic() + 90
    while page.request.get(f"{ui.url}/api/v2/dags").status != 401:
        assert time.monotonic() < deadline, "the disabled account's Airflow token still works"
        time.sleep(2)
    context.close()


def test_a_password_cannot_get_an_airflow_token_while_the_provider_signs_people_in(ui: Ui) -> None:
    made = subprocess.run(
        [
            str(VENV_BIN / "airflow"),
            "users",
            "create",
            "--role",
            "Admin",
            "--username",
            "breakglass",
            "--email",
            "bg@nhs.net",
            "--firstname",
            "B",
            "--lastname",
            "G",
            "--password",
            "correct-horse",
        ],
        env=ui.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    answer = requests.post(
        f"{ui.url}/auth/token", json={"username": "breakglass", "password": "correct-horse"}, timeout=30
    )
    assert answer.status_code in (400, 401, 403), answer.text
    assert "access_token" not in answer.text


def test_anyone_outside_the_data_team_is_refused(ui: Ui, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{ui.url}/auth/login/")
    page.locator("#btn-signin-nhsmail").click()  # FAB's "Sign In with nhsmail"
    through_the_provider(page, LEAD)
    page.wait_for_url(f"{ui.url}/auth/login/**")
    assert "Invalid login" in page.content()
    assert ui.roles_of(LEAD) == []
    refused = [e for e in events(ui.warehouse, action_prefix="auth.") if e.actor == LEAD]
    assert [(e.action, e.detail.get("why")) for e in refused] == [("auth.sign_in_failed", "not_data_team")]
    assert not any(c["name"] == "_token" for c in context.cookies())
    context.close()
