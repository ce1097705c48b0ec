"""The Airflow UI's sign-in (FAB auth manager's configuration file, ``[fab] config_file``).

With ``SURGEHUB_OIDC_ISSUER``, ``SURGEHUB_OIDC_CLIENT_ID`` and ``SURGEHUB_OIDC_CLIENT_SECRET`` set, the
data team signs in through the same OpenID provider as surgehub's pages, and only the data team: see
``surgehub.orchestration.airflow_sso`` and docs/deployment.md ("UI accounts"). Without them, FAB's own
database accounts, as before.
"""

from surgehub.orchestration.airflow_sso import fab_settings, security_manager_class

globals().update(fab_settings())
if "OAUTH_PROVIDERS" in globals():
    SECURITY_MANAGER_CLASS = security_manager_class()
