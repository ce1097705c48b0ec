"""Health of a running surgehub: warehouse reachable, migrations current, landing writable, recent activity."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from surgehub.config import Settings
    from surgehub.resources import Resources


@dataclass
class Health:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def to_json_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    from datetime import UTC

    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def check_health(resources: Resources) -> Health:
    """Run every check; none raises: a failing check says why in its ``detail``."""
    settings = resources.settings
    health = Health()
    engine = None
    try:
        from sqlalchemy import text

        engine = resources.engine
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        health.checks["warehouse"] = {"ok": True, "detail": engine.url.render_as_string(hide_password=True)}
    except Exception as exc:
        health.checks["warehouse"] = {"ok": False, "detail": f"not reachable: {type(exc).__name__}: {exc}"}
        engine = None
    if engine is not None:
        try:
            from surgehub.warehouse.db import current_revisions, head_revisions, migrations_current

            current = migrations_current(engine)
            health.checks["migrations"] = {
                "ok": current,
                "detail": f"at {sorted(current_revisions(engine))}, head {sorted(head_revisions())}"
                + ("" if current else ": run `surgehub db upgrade`"),
            }
        except Exception as exc:
            health.checks["migrations"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        if not health.checks["migrations"]["ok"]:
            return _landing(health, settings)
        try:
            from surgehub.warehouse import email_log, submissions

            last_ingest = submissions.last_processed_at(engine)
            last_digest = email_log.last_sent_at(engine, ["board", "daily"])
            health.checks["activity"] = {
                "ok": True,
                "last_ingest": _iso(last_ingest),
                "last_digest": _iso(last_digest),
                "detail": f"last ingest {_iso(last_ingest) or 'never'}, last digest {_iso(last_digest) or 'never'}",
            }
        except Exception as exc:
            health.checks["activity"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    return _landing(health, settings)


def _landing(health: Health, settings: Settings) -> Health:
    landing = settings.landing_dir
    try:
        landing.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=landing, prefix=".health-", delete=True):
            pass
        writable = os.access(landing, os.W_OK)
        health.checks["landing"] = {"ok": writable, "detail": str(landing)}
    except OSError as exc:
        health.checks["landing"] = {"ok": False, "detail": f"{landing} is not writable: {exc}"}
    from surgehub.landing import unfiled, unfiled_message

    names = unfiled(landing)
    health.checks["landing_root"] = {
        "ok": not names,
        "unfiled": names,
        "detail": unfiled_message(names, landing) if names else "nothing outside the locality folders",
    }
    return health
