"""The package's shape: imports between its modules form no cycle, and the core never imports the benchmark."""

from __future__ import annotations

import ast

from helpers import CODE

PACKAGE = CODE / "convnets"
LIGHT = ("atomic", "cli", "data", "devices", "paths", "recipes")  # what the scripts import before checking arguments


def module_name(path) -> str:
    parts = path.relative_to(CODE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path, top_level_only: bool = False) -> set[str]:
    """The convnets modules that a module imports (anywhere in it, or at its top level only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {other for other in imports(path) if other in modules and other != name}
            for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each found once from its first module in a depth-first walk."""
    found, done = [], set()

    def walk(node: str, stack: list[str]) -> None:
        if node in stack:
            found.append(stack[stack.index(node):] + [node])
            return
        if node in done:
            return
        for other in sorted(edges[node]):
            walk(other, stack + [node])
        done.add(node)

    for node in sorted(edges):
        walk(node, [])
    return found


def test_no_import_cycles_in_the_package():
    assert cycles(graph()) == []


def test_the_core_never_imports_the_benchmark():
    offenders = {name: sorted(other for other in edges if other.startswith("convnets.benchmark"))
                 for name, edges in graph().items() if not name.startswith("convnets.benchmark")}
    assert not {name: found for name, found in offenders.items() if found}


def test_the_modules_scripts_import_first_load_no_framework():
    for name in LIGHT:
        top = imports(PACKAGE / f"{name}.py", top_level_only=True)
        assert not top & {"keras", "tensorflow", "jax", "torch", "matplotlib"}, f"convnets.{name} imports {top}"
        heavy = {module for module in top if module.startswith("convnets.") and module.split(".")[1] not in LIGHT}
        assert not heavy, f"convnets.{name} imports {sorted(heavy)} at its top level"
