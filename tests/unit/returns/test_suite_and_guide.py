"""The committed GX suite stays in step with spec.py, and the submitter guide covers every rule."""

from __future__ import annotations

import json
import re

from surgehub import spec
from surgehub.config import PROJECT_ROOT
from surgehub.returns.suite import SUITE_NAME, committed_suite_json, suite_dict, suite_json

GUIDE = PROJECT_ROOT / "docs" / "submitter-guide.md"
READINGS = PROJECT_ROOT / "docs" / "validation.md"


def test_committed_suite_is_the_generated_one() -> None:
    assert committed_suite_json() == suite_json(), (
        "run: python -m surgehub.returns.suite > src/surgehub/gx/expectations/surgehub/return.json"
    )


def test_suite_rule_ids_are_spec_rules_and_every_expectation_has_a_fix() -> None:
    suite = json.loads(committed_suite_json())
    assert suite["name"] == SUITE_NAME == "surgehub.return"
    metas = [e["meta"] for e in suite["expectations"]]
    assert {m["rule_id"] for m in metas} <= set(spec.RULES)
    assert {m["rule_id"] for m in metas} == {
        "R03",
        "R04",
        "R08",
        "R09",
        "R10",
        "R11",
        "R12",
        "R13",
        "R14",
        "R17",
    }
    assert all(m["fix"] and m["column"] in spec.COLUMN_NAMES for m in metas)
    assert len({m["key"] for m in metas}) == len(metas)


def test_suite_ranges_follow_the_spec_columns() -> None:
    ranges = {
        e["kwargs"]["column"]: (e["kwargs"].get("min_value"), e["kwargs"].get("max_value"))
        for e in suite_dict()["expectations"]
        if e["meta"]["rule_id"] == "R03"
    }
    for name in spec.NUMERIC_COLUMNS:
        column = spec.COLUMN_BY_NAME[name]
        assert ranges[name] == (column.minimum, column.maximum)
    assert ranges["comments"] == (None, 1000)
    assert ranges["signed_off_by"] == (1, 100)


def test_submitter_guide_mentions_every_rule_and_column() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"\b[FRW]\d\d\b", text))
    assert set(spec.RULES) <= mentioned, sorted(set(spec.RULES) - mentioned)
    for name in spec.COLUMN_NAMES:
        assert f"`{name}`" in text, name
    for words in ("11:00", "13:30", "14 days"):
        assert words in text


def test_validation_readings_exist() -> None:
    text = READINGS.read_text(encoding="utf-8")
    assert "W05" in text
    assert "R15" in text
