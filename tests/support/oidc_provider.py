"""A real, certified OpenID provider on loopback for the tests: panva's `oidc-provider` under Node
(`tests/support/oidc/provider.mjs`; `npm ci --prefix tests/support/oidc` installs it), one
confidential client ``surgehub`` whose only redirect URI is the one given, accounts named by their
email address (verified), the library's own login and consent pages."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from surgehub.config import PROJECT_ROOT
from surgehub.orchestration.live import free_port
from tests.support.services import require

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PROVIDER = PROJECT_ROOT / "tests" / "support" / "oidc"


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str

    def env(self, name: str = "NHSmail") -> dict[str, str]:
        """What surgehub (and the Airflow UI's FAB) read to use this provider."""
        return {
            "SURGEHUB_OIDC_ISSUER": self.issuer,
            "SURGEHUB_OIDC_CLIENT_ID": self.client_id,
            "SURGEHUB_OIDC_CLIENT_SECRET": self.client_secret,
            "SURGEHUB_OIDC_NAME": name,
        }


@contextlib.contextmanager
def running_provider(redirect_uri: str, log: Path) -> Iterator[Provider]:
    node = shutil.which("node")
    require(node is not None, "Node.js (for the OpenID provider)")
    require(
        (PROVIDER / "node_modules" / "oidc-provider").is_dir(),
        "oidc-provider (npm ci --prefix tests/support/oidc)",
    )
    port, secret = free_port(), secrets.token_hex(16)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(node), "provider.mjs", str(port), redirect_uri, secret],
            cwd=PROVIDER,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Provider(issuer, "surgehub", secret)
    finally:
        process.terminate()
        process.wait(timeout=10)


def through_the_provider(page: Any, login: str) -> None:
    """On the provider's pages (the browser is there): log in as ``login``, consent if asked."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    if "/interaction/" in page.url:  # the provider's consent page
        page.locator("button[autofocus], button[type=submit]").first.click()
