"""``GET /healthz``: answers once the server is ready (after the validator's warm-up)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
