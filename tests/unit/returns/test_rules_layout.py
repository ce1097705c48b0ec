"""Each spec rule is named in the first line of a module under returns/rules/, so "where is R07?" is a file name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from surgehub import spec

RULES = Path(__file__).resolve().parents[3] / "src" / "surgehub" / "returns" / "rules"


def _named(line: str) -> set[str]:
    """Rule IDs in a line, ranges such as R09–R14 spelled out."""
    named: set[str] = set()
    for first, last in re.findall(r"\b([FRW]\d\d)(?:[–-]([FRW]\d\d))?\b", line):
        start, end = int(first[1:]), int((last or first)[1:])
        named |= {f"{first[0]}{n:02d}" for n in range(start, end + 1)}
    return named


def _first_lines() -> dict[str, str]:
    out = {}
    for path in sorted(RULES.glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        out[path.name] = docstring.splitlines()[0] if docstring else ""
    return out


def test_every_spec_rule_is_named_in_the_first_line_of_a_rule_module() -> None:
    named = set().union(*(_named(line) for line in _first_lines().values()))
    assert set(spec.RULES) <= named, sorted(set(spec.RULES) - named)


def test_rule_modules_name_only_spec_rules() -> None:
    for name, line in _first_lines().items():
        assert _named(line) <= set(spec.RULES), name
