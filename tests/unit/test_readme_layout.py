"""The README's layout table matches the tree: every path it names exists, and every module and folder of
the package, and every top-level folder, is named in it."""

from __future__ import annotations

import re

from surgehub.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
LAYOUT = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
ROWS = [line for line in LAYOUT.splitlines() if line.startswith("| `")]


def _named_paths() -> set[str]:
    """Every `code` span in the table's first column, read as a path (relative to its row's folder)."""
    named: set[str] = set()
    for row in ROWS:
        first = row.split("|")[1]
        spans = re.findall(r"`([^`]+)`", first)
        base = ""  # a bare name is relative to the folder of the row's first path
        for span in spans:
            path = span.rstrip("/")
            if "/" in path:
                base = base or path.rsplit("/", 1)[0]
                named.add(path)
            else:
                named.add(f"{base}/{path}" if base else path)
    return named


def test_every_path_the_layout_names_exists() -> None:
    missing = sorted(p for p in _named_paths() if not (PROJECT_ROOT / p).exists())
    assert missing == [], f"the README's layout table names paths that do not exist: {missing}"


def test_every_module_and_folder_of_the_package_is_in_the_layout() -> None:
    package = PROJECT_ROOT / "src" / "surgehub"
    entries = sorted(
        p.name
        for p in package.iterdir()
        if p.name not in {"__init__.py", "__pycache__", "py.typed"} and (p.suffix == ".py" or p.is_dir())
    )
    named = _named_paths()
    absent = [name for name in entries if f"src/surgehub/{name}" not in named]
    assert absent == [], f"not in the README's layout table: {absent}"


def test_every_top_level_folder_is_in_the_layout() -> None:
    folders = sorted(
        p.name
        for p in PROJECT_ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in {"var", "test-artifacts"}
    )
    absent = [
        name for name in folders if f"`{name}/`" not in LAYOUT and not re.search(rf"`{name}/[^`]*`", LAYOUT)
    ]
    assert absent == [], f"top-level folders not in the README's layout table: {absent}"
