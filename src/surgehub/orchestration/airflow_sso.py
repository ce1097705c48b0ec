"""One sign-in for the data team (issue 17): the Airflow UI's FAB auth manager signs people in through
the same OpenID provider as surgehub's pages, when one is configured, and lets in only the data team.

``deploy/webserver_config.py`` (FAB's configuration file, ``[fab] config_file``) takes its settings
from :func:`fab_settings`:

- with ``SURGEHUB_OIDC_ISSUER``, ``SURGEHUB_OIDC_CLIENT_ID`` and ``SURGEHUB_OIDC_CLIENT_SECRET`` set:
  ``AUTH_OAUTH`` with one provider (named ``SURGEHUB_OIDC_NAME``, default NHSmail), found by OpenID
  discovery, scopes ``openid email``; Authlib checks the ID token (signature, issuer, audience, nonce);
- otherwise nothing: FAB's own database accounts, as before.

:class:`SurgehubSecurityManager` maps the ID token's **verified** email claim to surgehub's account:
an active account with the *data team* role signs in to Airflow with the role ``SURGEHUB_AIRFLOW_ROLE``
(default ``Op``: runs DAGs and manages connections, variables and pools, but not FAB's users); anyone else
is refused (FAB's "Invalid login") before FAB registers anyone, so someone who leaves the data team
(or whose account is disabled) cannot sign in again; FAB's roles are set again at each sign-in
(``AUTH_ROLES_SYNC_AT_LOGIN``). Every attempt is audited in the warehouse
(``auth.sign_in`` / ``auth.sign_in_failed``, ``method: airflow_oidc``). While the provider signs
people in, no password does (FAB's ``POST /auth/token`` included), and ``surgehub user disable``
deactivates the person's FAB user (:func:`deactivate_airflow_user`).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: The FAB role key the data team's accounts carry; ``AUTH_ROLES_MAPPING`` turns it into Airflow roles.
DATA_TEAM_KEY = "surgehub_data_team"


def provider_name(env: Mapping[str, str]) -> str:
    """The provider's name in FAB's URLs (``/auth/login/<name>``): the button's words, as a slug."""
    words = env.get("SURGEHUB_OIDC_NAME", "NHSmail").strip() or "NHSmail"
    return "".join(c for c in words.lower() if c.isalnum()) or "oidc"


def fab_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """FAB's settings for OpenID Connect sign-in when the provider is configured; else {}."""
    env = os.environ if env is None else env
    issuer = env.get("SURGEHUB_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = env.get("SURGEHUB_OIDC_CLIENT_ID", "").strip()
    secret = env.get("SURGEHUB_OIDC_CLIENT_SECRET", "").strip()
    if not (issuer and client_id and secret):
        return {}
    from flask_appbuilder.const import AUTH_OAUTH

    role = env.get("SURGEHUB_AIRFLOW_ROLE", "Op").strip() or "Op"
    return {
        "AUTH_TYPE": AUTH_OAUTH,
        # Only the data team gets this far (everyone else is refused before FAB registers anyone)
        "AUTH_USER_REGISTRATION": True,
        "AUTH_USER_REGISTRATION_ROLE": role,
        "AUTH_ROLES_SYNC_AT_LOGIN": True,
        "AUTH_ROLES_MAPPING": {DATA_TEAM_KEY: [role]},
        "OAUTH_PROVIDERS": [
            {
                "name": provider_name(env),
                "icon": "fa-key",
                "token_key": "access_token",
                "remote_app": {
                    "client_id": client_id,
                    "client_secret": secret,
                    "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
                    "client_kwargs": {"scope": "openid email"},
                },
            }
        ],
    }


def data_team_user_info(claims: Mapping[str, Any], *, via: str = "airflow_oidc") -> dict[str, Any]:
    """FAB's user info for verified ID-token claims: the data team's account, or {} (refused). Audited."""
    from surgehub.accounts import Role, get_account, verified_email
    from surgehub.resources import Resources
    from surgehub.warehouse.audit import record
    from surgehub.warehouse.db import writer

    email = verified_email(claims)  # as surgehub's own pages read it
    resources = Resources.from_env()
    account = get_account(resources.engine, email) if email else None
    allowed = account is not None and account.active and Role.DATA_TEAM in account.roles
    why = None if allowed else ("no_verified_email" if email is None else "not_data_team")
    with writer(resources.engine).begin() as connection:
        record(
            connection,
            occurred_at=resources.clock.now(),
            actor=email or "unknown",
            action="auth.sign_in" if allowed else "auth.sign_in_failed",
            subject=f"account:{email}" if email else "account:unknown",
            detail={"method": via} if allowed else {"method": via, "why": why},
        )
    if not allowed or account is None or email is None:
        log.warning("Airflow sign-in refused for %s: %s", email or "an unverified address", why)
        return {}
    name = (account.display_name or "").strip()
    first, _, last = name.partition(" ")
    return {
        "username": email,
        "email": email,
        "first_name": first or email.split("@", 1)[0],
        "last_name": last,
        "role_keys": [DATA_TEAM_KEY],
    }


def security_manager_class() -> type:
    """FAB's security manager with the user info taken from the ID token (imported only by FAB)."""
    from airflow.providers.fab.auth_manager.security_manager.override import (
        FabAirflowSecurityManagerOverride,
    )

    class SurgehubSecurityManager(FabAirflowSecurityManagerOverride):
        def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
            remote = self.oauth_remotes[provider]
            return data_team_user_info(id_token_claims(resp, lambda: remote.userinfo(token=resp)))

        def auth_user_db(self, username: str, password: str, rotate_session_id: bool = True) -> None:
            """No password sign-in while the provider signs people in: FAB's ``POST /auth/token`` checks
            passwords whatever the UI's sign-in is, and would let any FAB user (the first admin from
            .env) past the data-team check."""
            log.warning(
                "password sign-in to Airflow refused for %r: sign in through the OpenID provider", username
            )
            return None

    return SurgehubSecurityManager


def id_token_claims(token: Mapping[str, Any], userinfo: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """The ID token's claims (verified by Authlib), with the UserInfo endpoint's when the ID token has no
    email (providers may keep scope claims there); UserInfo naming another subject counts for nothing."""
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims and claims.get("sub"):
        extra = dict(userinfo())
        if extra.get("sub") == claims.get("sub"):
            claims.update(extra)
    return claims


def deactivate_airflow_user(email: str, env: Mapping[str, str] | None = None) -> bool | None:
    """Mark the Airflow (FAB) user of ``email`` inactive in Airflow's metadata database, so the Airflow
    UI and API refuse its token on the next request (FAB re-checks ``active`` on every request).
    True when a user was deactivated, False when there was none, None when this process cannot see
    Airflow's metadata database (no ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``, or no FAB tables)."""
    env = os.environ if env is None else env
    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "").strip()
    if not url:
        return None
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.get_backend_name() == "sqlite" and not (target.database and os.path.isfile(target.database)):
        return None  # no Airflow database here (and connecting would create an empty one)
    from sqlalchemy import MetaData, Table, create_engine, func, inspect, true, update

    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("ab_user"):
            return None
        users = Table("ab_user", MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            done = connection.execute(
                update(users)
                .where((func.lower(users.c.username) == email) | (func.lower(users.c.email) == email))
                .where(users.c.active.is_(true()))
                .values(active=False)
            )
        return done.rowcount > 0
    finally:
        engine.dispose()
