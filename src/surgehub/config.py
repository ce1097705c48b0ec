"""Configuration in layers: environment for deployment switches, a YAML file for people and thresholds."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

#: The project checkout (src/surgehub/config.py → two levels up from the package).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_home() -> Path:
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    return Path.cwd() / "var"


DEFAULTS: dict[str, Any] = {
    "season": {"start": "2026-11-01", "end": "2027-03-31"},
    "timeliness": {
        "deadline": "11:00",
        "close": "13:30",
        "revision_window_days": 14,
        "extra_holidays": [],
        "working_days_added": [],
    },
    "limits": {"max_file_bytes": 5 * 1024 * 1024, "max_data_rows": 500, "quarantine_retention_days": 30},
    "rag": {
        "ruleset_version": "2026.1-default",
        "capacity_delivered": {
            "red_below": 0.80,
            "green_from": 0.95,
            "weight": 2,
            "override_red_below": 0.70,
        },
        "utilisation": {"red_from": 0.98, "amber_from": 0.85, "weight": 2},
        "onward_ed": {"red_above": 0.10, "amber_from": 0.05, "weight": 1},
        "dna_rate": {"red_above": 0.10, "amber_from": 0.05, "weight": 1},
        "bands": {"green_max": 2, "amber_max": 5},
    },
    "email": {
        "smtp_conn_id": "smtp_default",
        "from": "GM Surge Hub Monitor <surgehub@localhost>",
        "board": [],
        "operations": [],
        "locality_contacts": {},
        "subjects": {},
    },
    "schedule": {
        "reminder": "09:30",
        "board_digest_days": ["MON", "THU"],
        "board_digest_time": "07:30",
        "daily_summary_after_close_minutes": 15,
    },
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_time(value: Any) -> time:
    return time.fromisoformat(str(value))


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about where things live and what the thresholds are."""

    home: Path
    warehouse_url: str
    config_file: Path | None
    raw: dict[str, Any] = field(repr=False)

    # -- folders -----------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return Path(os.environ.get("SURGEHUB_LANDING_DIR", self.home / "landing"))

    @property
    def archive_dir(self) -> Path:
        return Path(os.environ.get("SURGEHUB_ARCHIVE_DIR", self.home / "archive"))

    @property
    def quarantine_dir(self) -> Path:
        return Path(os.environ.get("SURGEHUB_QUARANTINE_DIR", self.home / "quarantine"))

    @property
    def outbox_dir(self) -> Path:
        """Where the loopback SMTP server keeps every message it receives as an .eml file."""
        return Path(os.environ.get("SURGEHUB_OUTBOX_DIR", self.home / "mail"))

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    # -- people and thresholds -------------------------------------------------------------------
    @cached_property
    def season_start(self) -> date:
        return _as_date(self.raw["season"]["start"])

    @cached_property
    def season_end(self) -> date:
        return _as_date(self.raw["season"]["end"])

    @cached_property
    def deadline_time(self) -> time:
        return _as_time(self.raw["timeliness"]["deadline"])

    @cached_property
    def close_time(self) -> time:
        return _as_time(self.raw["timeliness"]["close"])

    @property
    def revision_window_days(self) -> int:
        return int(self.raw["timeliness"]["revision_window_days"])

    @cached_property
    def extra_holidays(self) -> frozenset[date]:
        return frozenset(_as_date(d) for d in self.raw["timeliness"].get("extra_holidays") or [])

    @cached_property
    def working_days_added(self) -> frozenset[date]:
        return frozenset(_as_date(d) for d in self.raw["timeliness"].get("working_days_added") or [])

    @property
    def max_file_bytes(self) -> int:
        return int(self.raw["limits"]["max_file_bytes"])

    @property
    def max_data_rows(self) -> int:
        return int(self.raw["limits"]["max_data_rows"])

    @property
    def rag(self) -> dict[str, Any]:
        return self.raw["rag"]

    @property
    def email(self) -> dict[str, Any]:
        return self.raw["email"]

    @property
    def schedule(self) -> dict[str, Any]:
        return self.raw["schedule"]

    def locality_contacts(self, sub_icb_code: str) -> list[str]:
        contacts = self.email.get("locality_contacts") or {}
        return list(contacts.get(sub_icb_code.upper()) or [])


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment (``SURGEHUB_*``) and the YAML file it points at."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("SURGEHUB_HOME") or _default_home()).resolve()
    config_path_text = env.get("SURGEHUB_CONFIG")
    config_file: Path | None
    if config_path_text:
        config_file = Path(config_path_text)
        if not config_file.exists():
            raise ConfigError(f"SURGEHUB_CONFIG points at {config_file}, which does not exist")
    else:
        candidate = PROJECT_ROOT / "config" / "surgehub.yaml"
        config_file = candidate if candidate.exists() else None
    raw = DEFAULTS
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config_file} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{config_file} must hold a mapping at the top level")
        raw = _merge(DEFAULTS, loaded)
    warehouse_url = env.get("SURGEHUB_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.sqlite'}"
    return Settings(home=home, warehouse_url=warehouse_url, config_file=config_file, raw=raw)
