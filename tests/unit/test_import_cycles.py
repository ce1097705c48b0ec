"""No import cycle between surgehub's modules, counting every import: at the top, in a function, or for types.

An import moved into a function (or under ``TYPE_CHECKING``) still ties two modules together; a cycle
hidden that way is what made ``surgehub.digest`` hard to change, so the graph here counts them all.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import surgehub

PACKAGE = Path(surgehub.__file__).parent


def _module_names() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # `from a.b import c` is module a.b.c when that exists, else a name in a.b.
        return [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def import_graph() -> dict[str, set[str]]:
    """Each surgehub module -> the surgehub modules it imports (parent packages of itself left out)."""
    modules = _module_names()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported(node):
                found = owner(target) if target.startswith("surgehub.") else None
                if found and found != name and not name.startswith(found + "."):
                    graph[name].add(found)
    return graph


def test_the_graph_sees_lazy_and_type_only_imports() -> None:
    graph = import_graph()
    assert "surgehub.digest.model" in graph["surgehub.digest.charts"]  # under TYPE_CHECKING, and at the top
    assert "surgehub.digest.build" in graph["surgehub.cli.digest"]  # inside the command


def test_no_module_of_surgehub_is_part_of_an_import_cycle() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
