"""Airflow plugin: mounts surgehub's health check in the Airflow API server at /surgehub/health.

Airflow serves plugin FastAPI apps without authentication, so this app exposes nothing but the
health report (no data, no submissions): the same checks as `surgehub health`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI(title="surgehub health", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/health")
def health() -> JSONResponse:
    """200 with the report when every check passes, 503 with the report when any fails."""
    from surgehub.health import check_health
    from surgehub.resources import Resources

    report = check_health(Resources.from_env())  # an entry point: each request reads the settings anew
    return JSONResponse(report.to_json_dict(), status_code=200 if report.ok else 503)


class SurgehubPlugin(AirflowPlugin):
    name = "surgehub"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": "/surgehub", "name": "surgehub health"}
    ]
