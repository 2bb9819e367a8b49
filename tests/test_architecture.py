"""The package layout: no import cycles, and each layer imports only the layers below it.

Imports are read from the source (module level only: imports inside functions
and under ``if TYPE_CHECKING:`` run later or never, so they cannot form a
cycle at import time).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "journeymine"

#: Modules a lower layer may never import at import time.
RESULTS = ("journeymine.discovery._processmap", "journeymine.personas._cards",
           "journeymine.sentiment._journey")
FORBIDDEN = {
    "journeymine.eventlog": ("journeymine.discovery", "journeymine.personas",
                             "journeymine.sentiment", "journeymine.reporting"),
    "journeymine.reporting": (*RESULTS, "journeymine.personas", "journeymine.sentiment",
                              "journeymine.discovery"),
    "journeymine.discovery._queries": (*RESULTS, "journeymine.reporting"),
    "journeymine.discovery._positional": (*RESULTS, "journeymine.reporting"),
    "journeymine.discovery._engine": (*RESULTS, "journeymine.reporting"),
    "journeymine._util": ("journeymine.eventlog", "journeymine.discovery",
                          "journeymine.personas", "journeymine.sentiment",
                          "journeymine.reporting", "journeymine.datasets"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def module_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The journeymine modules ``path`` imports when it is imported."""
    name = module_name(path)
    found: set[str] = set()
    body = list(ast.parse(path.read_text("utf-8")).body)
    while body:
        node = body.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            body.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            body.extend(node.body + node.orelse + node.finalbody)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], node.module])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules)
    return {m for m in found if m in modules and m != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): module_level_imports(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycles(graph):
    assert find_cycle(graph) is None


def test_the_graph_sees_the_package(graph):
    assert "journeymine.eventlog._schema" in graph["journeymine.eventlog._eventlog"]
    assert "journeymine.discovery._processmap" in graph["journeymine.discovery"]


@pytest.mark.parametrize("lower", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(graph, lower):
    banned = FORBIDDEN[lower]
    bad = {
        (mod, dep)
        for mod, deps in graph.items() if mod == lower or mod.startswith(lower + ".")
        for dep in deps if dep.startswith(banned)
    }
    assert not bad, sorted(bad)


#: The layers of the README's architecture section, lowest first.
LAYERS = ("journeymine.exceptions", "journeymine._util", "journeymine.eventlog",
          "journeymine.reporting", "journeymine.discovery", "journeymine.measurement",
          "journeymine.sentiment", "journeymine.personas", "journeymine.datasets",
          "journeymine.cli")


def layer(module: str) -> int | None:
    for i, name in enumerate(LAYERS):
        if module == name or module.startswith(name + "."):
            return i
    return None


def test_every_module_imports_only_its_layer_or_lower_ones(graph):
    upward = sorted(
        (mod, dep) for mod, deps in graph.items() for dep in deps
        if layer(mod) is not None and layer(dep) is not None and layer(dep) > layer(mod)
    )
    assert not upward, upward


#: Optional heavy dependencies and the one private module allowed to import each.
ONLY_IMPORTED_BY = {"pm4py": "journeymine.measurement._pm4py"}


def all_imports(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, at any depth (functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("dependency", sorted(ONLY_IMPORTED_BY))
def test_an_optional_dependency_is_imported_in_one_module(dependency):
    importers = sorted(module_name(p) for p in PACKAGE.rglob("*.py")
                       if dependency in all_imports(p))
    assert importers == [ONLY_IMPORTED_BY[dependency]]


def test_the_pm4py_module_imports_it_only_inside_functions():
    body = ast.parse((PACKAGE / "measurement" / "_pm4py.py").read_text("utf-8")).body
    top = {a.name for node in body if isinstance(node, ast.Import) for a in node.names}
    top |= {node.module for node in body if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(m.split(".")[0] == "pm4py" for m in top)
