"""The server secret: the HMAC key of sign-in codes and of the forms' CSRF tokens.

``SURGEHUB_SECRET_KEY`` in production (compose refuses to start without it). Embedded (the demo, a
developer's `surgehub serve`), a random key is made once and kept in ``<SURGEHUB_HOME>/secret_key``,
readable by its owner only, so codes and forms survive a restart.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from surgehub.config import Settings

SECRET_ENV = "SURGEHUB_SECRET_KEY"
MIN_LENGTH = 32


class SecretError(ValueError):
    """The configured secret cannot be used (too short)."""


def server_secret(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if env is None else env
    given = env.get(SECRET_ENV, "").strip()
    if given:
        if len(given) < MIN_LENGTH:
            raise SecretError(
                f"{SECRET_ENV} must be at least {MIN_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        return given.encode()
    path = settings.home / "secret_key"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
