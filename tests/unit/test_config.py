"""Configuration: defaults, the YAML file laid over them, folder overrides, and errors that name the key."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from surgehub.config import ConfigError, load_settings, settings_from


def _settings_with(tmp_path: Path, yaml_text: str, **env: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "surgehub.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    return load_settings({"SURGEHUB_HOME": str(tmp_path / "home"), "SURGEHUB_CONFIG": str(config), **env})


def test_an_empty_file_gives_the_spec_defaults(tmp_path: Path) -> None:
    settings = _settings_with(tmp_path, "")
    assert (settings.season.start, settings.season.end) == (date(2026, 11, 1), date(2027, 3, 31))
    assert (settings.timeliness.deadline, settings.timeliness.close) == (time(11, 0), time(13, 30))
    assert settings.timeliness.revision_window_days == 14
    assert (settings.limits.max_file_bytes, settings.limits.max_data_rows) == (5 * 1024 * 1024, 500)
    assert settings.rag.capacity_delivered.red_below == Decimal("0.80")
    assert settings.rag.bands.green_max == 2
    assert settings.rag.bands.amber_max == 5
    assert settings.schedule.board_digest_days == ("MON", "THU")
    assert settings.email.smtp_conn_id == "smtp_default"


def test_the_file_is_laid_over_the_defaults_key_by_key(tmp_path: Path) -> None:
    settings = _settings_with(
        tmp_path,
        "rag:\n  utilisation: {red_from: 0.97}\nschedule:\n  board_digest_days: [tue, Friday]\n"
        "email:\n  locality_contacts: {14l: [a@example.nhs.uk]}\n",
    )
    assert settings.rag.utilisation.red_from == Decimal("0.97")
    assert settings.rag.utilisation.amber_from == Decimal("0.85")  # the default beside it stays
    assert settings.schedule.board_digest_days == ("TUE", "FRI")
    assert settings.email.contacts_of("14L") == ("a@example.nhs.uk",)
    assert settings.email.contacts_of(" 14l ") == ("a@example.nhs.uk",)
    assert settings.email.contacts_of("00T") == ()


def test_thresholds_are_the_exact_decimals_written() -> None:
    settings = settings_from({"rag": {"onward_ed": {"red_above": 0.1}}}, home=Path("/tmp/x"))
    assert settings.rag.onward_ed.red_above == Decimal("0.1")


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("timeliness:\n  close: '25:00'\n", "config.timeliness.close"),
        ("timeliness:\n  deadline: '14:00'\n", "config.timeliness.close"),  # close before the deadline
        ("season:\n  start: '2026-13-01'\n", "config.season.start"),
        ("season:\n  start: 2027-04-01\n", "config.season.end"),
        ("rag:\n  dna_rate: {red_above: 1.5}\n", "config.rag.dna_rate.red_above"),
        ("rag:\n  dna_rate: {weight: two}\n", "config.rag.dna_rate.weight"),
        ("limits:\n  max_data_rows: 0\n", "config.limits.max_data_rows"),
        ("schedule:\n  board_digest_days: [MON, XYZ]\n", "config.schedule.board_digest_days"),
        ("schedule:\n  board_digest_days: MON\n", "config.schedule.board_digest_days"),
        ("email:\n  board: someone@example.nhs.uk\n", "config.email.board"),
        ("timeliness:\n  extra_holidays: [not-a-date]\n", "config.timeliness.extra_holidays"),
        ("rag: []\n", "config.rag"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key_and_the_file(tmp_path: Path, yaml_text: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _settings_with(tmp_path, yaml_text)
    assert key in str(raised.value)
    assert str(tmp_path / "surgehub.yaml") in str(raised.value)


def test_a_file_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping at the top level"):
        _settings_with(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        _settings_with(tmp_path, "season: [unclosed\n")
    with pytest.raises(ConfigError, match=r"not valid YAML: month must be in 1\.\.12"):
        _settings_with(tmp_path, "season:\n  start: 2026-13-01\n")  # YAML itself refuses the date


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"SURGEHUB_HOME": str(tmp_path), "SURGEHUB_CONFIG": str(tmp_path / "nope.yaml")})


def test_folders_follow_the_home_unless_the_environment_moves_them(tmp_path: Path) -> None:
    settings = _settings_with(tmp_path, "", SURGEHUB_ARCHIVE_DIR=str(tmp_path / "elsewhere"))
    home = (tmp_path / "home").resolve()
    assert settings.home == home
    assert settings.landing_dir == home / "landing"
    assert settings.quarantine_dir == home / "quarantine"
    assert settings.archive_dir == tmp_path / "elsewhere"
    assert settings.warehouse_url == f"sqlite:///{home / 'warehouse.sqlite'}"
    moved = _settings_with(tmp_path, "", SURGEHUB_WAREHOUSE_URL="postgresql+psycopg://u@h/db")
    assert moved.warehouse_url == "postgresql+psycopg://u@h/db"


def test_overridden_settings_are_checked_and_keep_the_folders(tmp_path: Path) -> None:
    settings = _settings_with(
        tmp_path, "rag:\n  ruleset_version: local\n", SURGEHUB_LANDING_DIR=str(tmp_path / "in")
    )
    relaxed = settings.overridden({"rag": {"capacity_delivered": {"green_from": 0.90}}})
    assert relaxed.rag.capacity_delivered.green_from == Decimal("0.9")
    assert relaxed.rag.ruleset_version == "local"  # the file's own keys are kept
    assert relaxed.landing_dir == tmp_path / "in"
    with pytest.raises(ConfigError, match="green_from"):
        settings.overridden({"rag": {"capacity_delivered": {"green_from": "lots"}}})
