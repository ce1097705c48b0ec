"""Single sign-on by OpenID Connect (NHSmail and Entra ID speak it): ``GET /sign-in/oidc`` sends the
person to the provider, ``GET /sign-in/oidc/callback`` signs them in as the account their verified
email address names.

Authlib's Starlette client does the protocol: discovery, state and nonce kept in the session, PKCE
(S256), the code exchanged with the client secret, the ID token's signature (the provider's JWKS),
issuer, audience, expiry and nonce checked. Configured by the environment (credentials layer):
``SURGEHUB_OIDC_ISSUER``, ``SURGEHUB_OIDC_CLIENT_ID``, ``SURGEHUB_OIDC_CLIENT_SECRET`` and, for the
button, ``SURGEHUB_OIDC_NAME`` (default "NHSmail"). Unset, these routes answer 404 and the sign-in
page offers the emailed code only. The redirect URI is ``<email.public_base_url>/sign-in/oidc/callback``.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from surgehub.accounts import get_account, verified_email
from surgehub.api import auth
from surgehub.api.dependencies import ServicesDep
from surgehub.api.routers.signin import client_of, page, signed_in

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, kw_only=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    name: str = "NHSmail"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "OidcConfig | None":
        env = os.environ if env is None else env
        issuer = env.get("SURGEHUB_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        return cls(
            issuer=issuer,
            client_id=env.get("SURGEHUB_OIDC_CLIENT_ID", "").strip(),
            client_secret=env.get("SURGEHUB_OIDC_CLIENT_SECRET", "").strip(),
            name=env.get("SURGEHUB_OIDC_NAME", "").strip() or "NHSmail",
        )


def install(app: FastAPI, config: OidcConfig | None) -> None:
    """Register the provider (discovery on first use) on the app; None leaves single sign-on off."""
    app.state.oidc = None
    if config is None:
        return
    from authlib.integrations.starlette_client import OAuth  # only where single sign-on is configured

    oauth = OAuth()
    oauth.register(
        name="sso",
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_id=config.client_id,
        client_secret=config.client_secret,
        client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
    )
    app.state.oidc = (config, oauth.create_client("sso"))


def _failed(request: Request, message: str) -> Any:
    return page(request, "signin.html.j2", 400, step="email", errors=[{"field": "email", "message": message}])


async def _claims(client: Any, token: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ID token's claims (verified by Authlib), with the UserInfo endpoint's when the ID token has
    no email (providers may keep scope claims there); UserInfo must name the same subject."""
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims:
        extra = await client.userinfo(token=token)
        if extra.get("sub") != claims.get("sub"):
            raise ValueError("UserInfo names another subject than the ID token")
        claims.update(extra)
    return claims


@router.get("/sign-in/oidc", response_class=HTMLResponse)
async def start(request: Request, services: ServicesDep) -> Response:
    if request.app.state.oidc is None:
        return HTMLResponse("Not Found", status_code=404)
    _config, client = request.app.state.oidc
    await auth.session_of(request)
    callback = f"{services.settings.email.public_base_url}/sign-in/oidc/callback"
    try:
        return await client.authorize_redirect(request, callback)
    except Exception as exc:  # the provider cannot be reached (discovery)
        log.error("single sign-on unavailable: %s", exc)
        return await _failed(request, "Single sign-on is not available just now. Sign in with a code instead")


@router.get("/sign-in/oidc/callback", response_class=HTMLResponse)
async def callback(request: Request, services: ServicesDep) -> Response:
    if request.app.state.oidc is None:
        return HTMLResponse("Not Found", status_code=404)
    config, client = request.app.state.oidc
    await auth.session_of(request)
    now = services.resources.clock.now()
    try:
        token = await client.authorize_access_token(request)
        claims = await _claims(client, token)
    except Exception as exc:  # a forged or replayed callback, a refused consent, a bad token (OAuthError)
        log.warning("single sign-on refused: %s", exc)
        await run_in_threadpool(
            auth.record,
            services.engine,
            at=now,
            actor="unknown",
            action="auth.sign_in_failed",
            subject="oidc",
            reason="oidc_error",
            client=client_of(request),
        )
        return await _failed(
            request, f"Signing in with {config.name} did not work. Try again, or sign in with a code"
        )
    email = verified_email(claims)
    account = await run_in_threadpool(get_account, services.engine, email) if email else None
    if account is None or not account.active:
        await run_in_threadpool(
            auth.record,
            services.engine,
            at=now,
            actor=email or "unknown",
            action="auth.sign_in_failed",
            subject=f"account:{email}",
            reason="no_active_account",
            method="oidc",
            client=client_of(request),
        )
        return await _failed(
            request,
            f"There is no account for the address {config.name} gave. Ask the GM primary care data team",
        )
    return await signed_in(request, services, account.email, now=now, method="oidc")
