"""Configuration in layers: environment for deployment switches, a YAML file for people and thresholds.

The YAML is read once per entry point into typed, frozen sections (`Season`, `TimelinessRules`,
`FileLimits`, `RagRules`, `EmailConfig`, `Schedule`); callers never index raw dictionaries. Every
key has a default here, so an empty file (or none) is a working configuration, and a bad value is a
`ConfigError` that names its key.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import yaml

#: The project checkout (src/surgehub/config.py → two levels up from the package).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

WEEKDAYS: tuple[str, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


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
    "limits": {
        "max_file_bytes": 5 * 1024 * 1024,
        "max_data_rows": 500,
        "quarantine_retention_days": 30,
        "landing_quiet_seconds": 10,
    },
    "rag": {
        "ruleset_version": "2026.1-default",
        "capacity_delivered": {
            "red_below": "0.80",
            "green_from": "0.95",
            "weight": 2,
            "override_red_below": "0.70",
        },
        "utilisation": {"red_from": "0.98", "amber_from": "0.85", "weight": 2},
        "onward_ed": {"red_above": "0.10", "amber_from": "0.05", "weight": 1},
        "dna_rate": {"red_above": "0.10", "amber_from": "0.05", "weight": 1},
        "bands": {"green_max": 2, "amber_max": 5},
    },
    "email": {
        "smtp_conn_id": "smtp_default",
        "from": "GM Surge Hub Monitor <surgehub@localhost>",
        "board": [],
        "operations": [],
        "locality_contacts": {},
        "subjects": {},
        "public_base_url": "http://localhost:8000",
        "reply_to": "",
        "message_id_domain": "",
        "smtp_timeout_seconds": 10,
    },
    "schedule": {
        "reminder": "09:30",
        "board_digest_days": ["MON", "THU"],
        "board_digest_time": "07:30",
        "daily_summary_after_close_minutes": 15,
    },
}


#: Overrides ``limits.landing_quiet_seconds`` (the demo and the tests, whose files are written just before).
QUIET_ENV = "SURGEHUB_LANDING_QUIET_SECONDS"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


# -- reading one value, naming its key when it is wrong ---------------------------------------------


class _Section:
    """One mapping of the YAML, read value by value; a wrong value raises ConfigError naming its key."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path} must be a mapping, not {type(raw).__name__}")
        self.raw: Mapping[str, Any] = raw
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}"

    def section(self, name: str) -> _Section:
        return _Section(self.raw.get(name) or {}, self.key(name))

    def get(self, name: str) -> Any:
        if name not in self.raw:
            raise ConfigError(f"{self.key(name)} is missing")
        return self.raw[name]

    def date(self, name: str) -> date:
        return _date(self.get(name), self.key(name))

    def dates(self, name: str) -> frozenset[date]:
        values = self.raw.get(name) or []
        if not isinstance(values, list | tuple):
            raise ConfigError(f"{self.key(name)} must be a list of dates (YYYY-MM-DD)")
        return frozenset(_date(v, self.key(name)) for v in values)

    def time(self, name: str) -> time:
        value = self.get(name)
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{self.key(name)} must be a time of day as HH:MM, not {value!r}") from None

    def integer(self, name: str, minimum: int = 0) -> int:
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{self.key(name)} must be a whole number of at least {minimum}, not {value!r}")
        return value

    def seconds(self, name: str, maximum: float) -> float:
        """A positive number of seconds, at most ``maximum`` (whole or not)."""
        value = self.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= maximum:
            raise ConfigError(
                f"{self.key(name)} must be a number of seconds above 0 and at most {maximum:g}, not {value!r}"
            )
        return float(value)

    def ratio(self, name: str) -> Decimal:
        """A threshold as the exact decimal it was written as (0.10 is 1/10, never a binary float)."""
        value = self.get(name)
        try:
            number = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or not 0 <= number <= 1:
            raise ConfigError(f"{self.key(name)} must be a ratio from 0 to 1, not {value!r}")
        return number

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} must be text, not {value!r}")
        return str(value)

    def addresses(self, name: str) -> tuple[str, ...]:
        values = self.raw.get(name) or []
        if isinstance(values, str) or not isinstance(values, list | tuple):
            raise ConfigError(f"{self.key(name)} must be a list of email addresses")
        return tuple(str(v).strip() for v in values if str(v).strip())


#: A domain name: dot-separated labels of letters, digits and inner hyphens.
_DOMAIN = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


def _one_address(value: str) -> bool:
    """One mailbox, bare or with a display name, with a local part and a domain; nothing else."""
    if any(c in value for c in "\r\n\t,;"):
        return False
    address = parseaddr(value)[1]
    local, at, domain = address.rpartition("@")
    return bool(at and local and _DOMAIN.fullmatch(domain.lower())) and " " not in address


def _date(value: Any, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key} must be a date as YYYY-MM-DD, not {value!r}") from None


# -- the typed sections ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Season:
    """The winter season (R07): activity dates outside it are refused."""

    start: date
    end: date

    @classmethod
    def from_section(cls, s: _Section) -> Season:
        season = cls(start=s.date("start"), end=s.date("end"))
        if season.end < season.start:
            raise ConfigError(f"{s.key('end')} ({season.end}) is before {s.key('start')} ({season.start})")
        return season

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, kw_only=True)
class TimelinessRules:
    """Spec §4: the deadline and close (Europe/London), the revision window, and calendar overrides."""

    deadline: time
    close: time
    revision_window_days: int
    extra_holidays: frozenset[date] = frozenset()
    working_days_added: frozenset[date] = frozenset()

    @classmethod
    def from_section(cls, s: _Section) -> TimelinessRules:
        rules = cls(
            deadline=s.time("deadline"),
            close=s.time("close"),
            revision_window_days=s.integer("revision_window_days", minimum=1),
            extra_holidays=s.dates("extra_holidays"),
            working_days_added=s.dates("working_days_added"),
        )
        if rules.close < rules.deadline:
            raise ConfigError(f"{s.key('close')} ({rules.close}) is before {s.key('deadline')}")
        return rules


@dataclass(frozen=True, kw_only=True)
class FileLimits:
    """Spec §1 limits on one return, how long R16 files stay in the quarantine, and the drop folder's
    quiet period (§4: a file not renamed in is taken once unchanged for this long)."""

    max_file_bytes: int
    max_data_rows: int
    quarantine_retention_days: int
    landing_quiet_seconds: float

    @classmethod
    def from_section(cls, s: _Section) -> FileLimits:
        return cls(
            max_file_bytes=s.integer("max_file_bytes", minimum=1),
            max_data_rows=s.integer("max_data_rows", minimum=1),
            quarantine_retention_days=s.integer("quarantine_retention_days", minimum=1),
            landing_quiet_seconds=s.seconds("landing_quiet_seconds", maximum=3600),
        )


@dataclass(frozen=True, kw_only=True)
class CapacityRule:
    """Capacity delivered: Red below ``red_below``, Green from ``green_from``; Red level 4 below the override."""

    red_below: Decimal
    green_from: Decimal
    weight: int
    override_red_below: Decimal


@dataclass(frozen=True, kw_only=True)
class UtilisationRule:
    """Utilisation: Red from ``red_from`` (or any patient turned away), Amber from ``amber_from``."""

    red_from: Decimal
    amber_from: Decimal
    weight: int


@dataclass(frozen=True, kw_only=True)
class RateRule:
    """A rate that is bad when high (onward to ED, DNA): Red above ``red_above``, Amber from ``amber_from``."""

    red_above: Decimal
    amber_from: Decimal
    weight: int


@dataclass(frozen=True, kw_only=True)
class Bands:
    """Total points to status: up to ``green_max`` Green, up to ``amber_max`` Amber, above that Red."""

    green_max: int
    amber_max: int


@dataclass(frozen=True, kw_only=True)
class RagRules:
    """Spec §5's thresholds and weights, as exact decimals."""

    ruleset_version: str
    capacity_delivered: CapacityRule
    utilisation: UtilisationRule
    onward_ed: RateRule
    dna_rate: RateRule
    bands: Bands

    @classmethod
    def from_section(cls, s: _Section) -> RagRules:
        capacity, use = s.section("capacity_delivered"), s.section("utilisation")
        bands = s.section("bands")

        def rate(name: str) -> RateRule:
            r = s.section(name)
            return RateRule(
                red_above=r.ratio("red_above"), amber_from=r.ratio("amber_from"), weight=r.integer("weight")
            )

        rules = cls(
            ruleset_version=s.text("ruleset_version"),
            capacity_delivered=CapacityRule(
                red_below=capacity.ratio("red_below"),
                green_from=capacity.ratio("green_from"),
                weight=capacity.integer("weight"),
                override_red_below=capacity.ratio("override_red_below"),
            ),
            utilisation=UtilisationRule(
                red_from=use.ratio("red_from"),
                amber_from=use.ratio("amber_from"),
                weight=use.integer("weight"),
            ),
            onward_ed=rate("onward_ed"),
            dna_rate=rate("dna_rate"),
            bands=Bands(green_max=bands.integer("green_max"), amber_max=bands.integer("amber_max")),
        )
        if rules.bands.amber_max < rules.bands.green_max:
            raise ConfigError(f"{bands.key('amber_max')} is below {bands.key('green_max')}")
        return rules


@dataclass(frozen=True, kw_only=True)
class EmailConfig:
    """Who gets what: the sender, the board and operations lists, each locality's contacts, subjects."""

    smtp_conn_id: str
    sender: str
    board: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    locality_contacts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    subjects: Mapping[str, str] = field(default_factory=dict)
    #: Where people reach surgehub's pages (links in mail, e.g. each digest row's "why" page).
    public_base_url: str = "http://localhost:8000"
    #: The Reply-To of every message: the data team, who can answer (empty: no Reply-To).
    reply_to: str = ""
    #: The right-hand side of every Message-ID; empty means the domain of ``from``.
    message_id_domain: str = ""
    #: How long one SMTP step (connect, each command, the message) may take before the send fails.
    smtp_timeout_seconds: float = 10.0

    @classmethod
    def from_section(cls, s: _Section) -> EmailConfig:
        contacts = s.section("locality_contacts")
        subjects = s.section("subjects")
        base = s.text("public_base_url").strip().rstrip("/")
        if not base.startswith(("https://", "http://")) or any(c in base for c in " \"<>'?#"):
            raise ConfigError(
                f"{s.key('public_base_url')} must be an http(s) address with no query, e.g. "
                f"https://surgehub.example.nhs.uk (not {base!r})"
            )
        sender = s.text("from").strip()
        if not _one_address(sender):
            raise ConfigError(
                f"{s.key('from')} must be one email address, e.g. "
                f'"GM Surge Hub Monitor <surgehub@example.nhs.uk>" (not {sender!r})'
            )
        reply_to = s.text("reply_to").strip() if s.raw.get("reply_to") else ""
        if reply_to and not _one_address(reply_to):
            raise ConfigError(
                f"{s.key('reply_to')} must be one email address (the data team's), e.g. "
                f'"GM Primary Care Data Team <data-team@example.nhs.uk>" (not {reply_to!r})'
            )
        id_domain = s.text("message_id_domain").strip().lower() if s.raw.get("message_id_domain") else ""
        if id_domain and not _DOMAIN.fullmatch(id_domain):
            raise ConfigError(
                f"{s.key('message_id_domain')} must be a domain name such as surgehub.example.nhs.uk, "
                f"or empty for the domain of {s.key('from')} (not {id_domain!r})"
            )
        return cls(
            public_base_url=base,
            reply_to=reply_to,
            message_id_domain=id_domain,
            smtp_timeout_seconds=s.seconds("smtp_timeout_seconds", maximum=300),
            smtp_conn_id=s.text("smtp_conn_id"),
            sender=sender,
            board=s.addresses("board"),
            operations=s.addresses("operations"),
            locality_contacts={str(code).strip().upper(): contacts.addresses(code) for code in contacts.raw},
            subjects={str(kind): subjects.text(kind) for kind in subjects.raw},
        )

    def explain_url(self, sub_icb_code: str, day: date) -> str:
        """The lineage ("why this status") page of a locality-day, on the public base URL."""
        return f"{self.public_base_url}/explain/{sub_icb_code.strip().upper()}/{day.isoformat()}"

    def contacts_of(self, sub_icb_code: str) -> tuple[str, ...]:
        """A locality's contacts (receipts, chasers); empty when none are configured."""
        return self.locality_contacts.get(sub_icb_code.strip().upper(), ())


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """When the scheduled DAGs run (Europe/London): the reminder, the board digest, the daily summary."""

    reminder: time
    board_digest_days: tuple[str, ...]
    board_digest_time: time
    daily_summary_after_close_minutes: int

    @classmethod
    def from_section(cls, s: _Section) -> Schedule:
        raw_days = s.get("board_digest_days")
        if isinstance(raw_days, str) or not isinstance(raw_days, list | tuple) or not raw_days:
            raise ConfigError(f"{s.key('board_digest_days')} must be a list of days such as [MON, THU]")
        days = tuple(str(d).strip().upper()[:3] for d in raw_days)
        unknown = sorted(set(days) - set(WEEKDAYS))
        if unknown:
            raise ConfigError(f"{s.key('board_digest_days')} has unknown day(s): {unknown}")
        return cls(
            reminder=s.time("reminder"),
            board_digest_days=days,
            board_digest_time=s.time("board_digest_time"),
            daily_summary_after_close_minutes=s.integer("daily_summary_after_close_minutes"),
        )


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a run needs to know about where things live and what the thresholds are."""

    home: Path
    warehouse_url: str
    config_file: Path | None
    landing_dir: Path
    archive_dir: Path
    quarantine_dir: Path
    #: Where the loopback SMTP server keeps every message it receives as an .eml file.
    outbox_dir: Path
    season: Season
    timeliness: TimelinessRules
    limits: FileLimits
    rag: RagRules
    email: EmailConfig
    schedule: Schedule
    #: Earlier seasons, still queryable (RAG, digests); ``season`` is the current one.
    past_seasons: tuple[Season, ...] = ()
    #: The configuration mapping as read (before defaults), kept to derive `overridden` settings.
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def seasons(self) -> tuple[Season, ...]:
        """Every season the configuration knows, the current one first."""
        return (self.season, *self.past_seasons)

    def overridden(self, overrides: Mapping[str, Any]) -> Settings:
        """These settings with configuration keys laid over them, checked as a file's would be (tests, bench)."""
        parsed = settings_from(
            merge(self.source, overrides),
            home=self.home,
            warehouse_url=self.warehouse_url,
            config_file=self.config_file,
        )
        folders = ("landing_dir", "archive_dir", "quarantine_dir", "outbox_dir")
        return replace(parsed, **{name: getattr(self, name) for name in folders})


def _past_seasons(top: _Section) -> tuple[Season, ...]:
    """``past_seasons``: a list of {start, end}, each checked as the current season is."""
    listed = top.raw.get("past_seasons") or []
    if not isinstance(listed, list | tuple):
        raise ConfigError(f"{top.key('past_seasons')} must be a list of {{start, end}} mappings")
    return tuple(
        Season.from_section(_Section(entry, f"{top.key('past_seasons')}[{i}]"))
        for i, entry in enumerate(listed)
    )


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, mapping by mapping."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def settings_from(
    raw: Mapping[str, Any],
    *,
    home: Path,
    warehouse_url: str | None = None,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from a configuration mapping laid over the defaults (and folder overrides from ``env``)."""
    env = {} if env is None else env
    if quiet := env.get(QUIET_ENV, "").strip():  # the demo and the tests shorten it
        raw = merge(raw, {"limits": {"landing_quiet_seconds": quiet}})
    top = _Section(merge(DEFAULTS, raw), "config")

    def folder(variable: str, default: str) -> Path:
        return Path(env.get(variable) or home / default)

    return Settings(
        home=home,
        warehouse_url=warehouse_url or f"sqlite:///{home / 'warehouse.sqlite'}",
        config_file=config_file,
        landing_dir=folder("SURGEHUB_LANDING_DIR", "landing"),
        archive_dir=folder("SURGEHUB_ARCHIVE_DIR", "archive"),
        quarantine_dir=folder("SURGEHUB_QUARANTINE_DIR", "quarantine"),
        outbox_dir=folder("SURGEHUB_OUTBOX_DIR", "mail"),
        season=Season.from_section(top.section("season")),
        timeliness=TimelinessRules.from_section(top.section("timeliness")),
        limits=FileLimits.from_section(top.section("limits")),
        rag=RagRules.from_section(top.section("rag")),
        email=EmailConfig.from_section(top.section("email")),
        schedule=Schedule.from_section(top.section("schedule")),
        past_seasons=_past_seasons(top),
        source=dict(raw),
    )


def read_config_file(path: Path) -> dict[str, Any]:
    """The YAML mapping in ``path`` (an empty file is an empty mapping)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. an unquoted date that does not exist
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return loaded


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (``SURGEHUB_*``) and the YAML file it points at.

    Call it once per entry point (a CLI invocation, a DAG task, the web app): `surgehub.resources`
    does, and everything below takes the result as an argument.
    """
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
    raw = read_config_file(config_file) if config_file is not None else {}
    try:
        return settings_from(
            raw, home=home, warehouse_url=env.get("SURGEHUB_WAREHOUSE_URL"), config_file=config_file, env=env
        )
    except ConfigError as exc:
        where = f" in {config_file}" if config_file is not None else ""
        raise ConfigError(f"{exc}{where}") from None
