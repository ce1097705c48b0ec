"""``GET /api/docs``: Swagger UI for the Submission API, its assets served from installed packages.

FastAPI's default page loads Swagger UI from a public CDN: blank on a network without internet access,
and a third-party script on the page where tokens are typed. Here the script and style sheet come from
the ``fastapi-offline`` package (Swagger UI 5, Apache-2.0) and the start-up script from this package,
all from this server, under a CSP that allows scripts from this origin only (no inline script).
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at runtime.

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

_OFFLINE = Path(str(resources.files("fastapi_offline") / "static"))
_OWN = Path(str(resources.files("surgehub.api") / "static"))
#: The only files served under /api/docs/assets/ (no folder is exposed), with their media types.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_OFFLINE / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_OFFLINE / "swagger-ui.css", "text/css"),
    "swagger-init.js": (_OWN / "swagger-init.js", "text/javascript"),
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>surgehub Submission API</title>
<link rel="stylesheet" href="{base}/api/docs/assets/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{base}/api/openapi.json"></main>
<script src="{base}/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="{base}/api/docs/assets/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/api/docs")
def docs_page(request: Request) -> HTMLResponse:
    base = str(request.scope.get("root_path", "")).rstrip("/")
    return HTMLResponse(_PAGE.format(base=base), headers={**HEADERS, "Cache-Control": "no-store"})


@router.get("/api/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        return Response(status_code=404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={**HEADERS, "Cache-Control": "max-age=86400"})
