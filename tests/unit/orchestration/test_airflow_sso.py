"""The Airflow UI's FAB settings for the data team's single sign-on (pure parts; the real sign-in is
tests/integration/test_airflow_sso_browser.py)."""

from __future__ import annotations

from flask_appbuilder.const import AUTH_OAUTH

from surgehub.orchestration.airflow_sso import DATA_TEAM_KEY, fab_settings, id_token_claims

PROVIDER = {
    "SURGEHUB_OIDC_ISSUER": "https://login.example.nhs.uk/tenant/",
    "SURGEHUB_OIDC_CLIENT_ID": "airflow",
    "SURGEHUB_OIDC_CLIENT_SECRET": "s3cret",
}


def test_without_a_provider_fab_keeps_its_own_accounts() -> None:
    assert fab_settings({}) == {}
    assert fab_settings({**PROVIDER, "SURGEHUB_OIDC_CLIENT_SECRET": " "}) == {}


def test_with_a_provider_fab_signs_in_by_openid_connect_and_maps_the_data_team() -> None:
    settings = fab_settings({**PROVIDER, "SURGEHUB_OIDC_NAME": "NHS mail", "SURGEHUB_AIRFLOW_ROLE": "Admin"})
    assert settings["AUTH_TYPE"] == AUTH_OAUTH
    assert settings["AUTH_ROLES_MAPPING"] == {DATA_TEAM_KEY: ["Admin"]}
    [provider] = settings["OAUTH_PROVIDERS"]
    assert provider["name"] == "nhsmail"  # the callback is /auth/oauth-authorized/nhsmail
    remote = provider["remote_app"]
    assert (
        remote["server_metadata_url"]
        == "https://login.example.nhs.uk/tenant/.well-known/openid-configuration"
    )
    assert remote["client_kwargs"] == {"scope": "openid email"}
    assert fab_settings(PROVIDER)["AUTH_USER_REGISTRATION_ROLE"] == "Op"


def test_userinfo_completes_the_id_token_only_for_the_same_subject() -> None:
    token = {"userinfo": {"sub": "abc"}}
    assert id_token_claims(token, lambda: {"sub": "abc", "email": "a@nhs.net"})["email"] == "a@nhs.net"
    assert "email" not in id_token_claims(token, lambda: {"sub": "other", "email": "b@nhs.net"})
    asked: list[int] = []
    with_email = {"userinfo": {"sub": "abc", "email": "a@nhs.net"}}
    assert id_token_claims(with_email, lambda: asked.append(1) or {}) == with_email["userinfo"]
    assert asked == []


def test_an_email_the_provider_says_is_unverified_is_refused_whatever_the_type() -> None:
    from surgehub.accounts import verified_email

    assert verified_email({"email": "A@nhs.net", "email_verified": True}) == "a@nhs.net"
    assert verified_email({"email": "a@nhs.net", "email_verified": "true"}) == "a@nhs.net"
    assert verified_email({"email": "a@nhs.net"}) == "a@nhs.net"  # Entra ID: no such claim
    for unverified in (False, "false", "False", "no", ""):
        assert verified_email({"email": "a@nhs.net", "email_verified": unverified}) is None
    assert verified_email({"email_verified": True}) is None
