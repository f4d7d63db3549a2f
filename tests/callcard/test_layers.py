"""The layering rules, read from the source (function-level imports count).

Packages, bottom to top: crm_core < cti < notifier < voicebots, dashboard < callcard; voicebots
and dashboard are siblings and do not know each other. (a) No module imports a package above its
own, and no string literal names one as a module path ("dashboard.app" inside crm_core).
(b) No import cycle between the modules of a package.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RANK = {"crm_core": 0, "cti": 1, "notifier": 2, "voicebots": 3, "dashboard": 3, "callcard": 4}
PACKAGES = [name for name in RANK if (ROOT / name / "__init__.py").exists()]
MODULE_PATH = re.compile(r"(?<![\w./-])(" + "|".join(RANK) + r")(\.[A-Za-z_]\w*)+")


def forbidden(importer: str, imported: str) -> bool:
    """Whether package ``importer`` may not use package ``imported``."""
    if importer == imported or imported not in RANK:
        return False
    return RANK[imported] >= RANK[importer]


@cache
def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every package (migration scripts excluded)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "versions" in relative.parts[:-1] and "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_names(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) for every import in the file, wherever it sits."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[tuple[int, str]] = []
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.append((node.lineno, base))
            names += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return names


def resolve(name: str) -> str | None:
    """The module of ours that importing ``name`` runs last (``pkg.mod.func`` -> ``pkg.mod``)."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a package's ``__init__`` counts)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules().items():
        targets = graph.setdefault(module, set())
        for _, name in imported_names(module, path):
            target = resolve(name)
            if target is None or target == module:
                continue
            targets.add(target)
            parent = target.rpartition(".")[0]
            while parent and parent in modules() and not module.startswith(parent + "."):
                targets.add(parent)
                parent = parent.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(package: str) -> list[str]:
    problems = []
    for module, path in modules().items():
        if module.split(".")[0] != package:
            continue
        for line, name in imported_names(module, path):
            if forbidden(package, name.split(".")[0]):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return sorted(set(problems))


def logger_names(tree: ast.Module) -> set[int]:
    """The string nodes naming a logger: the project's log namespace is "callcard.*"."""
    return {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "getLogger"
        for arg in node.args
    }


def upward_strings(package: str) -> list[str]:
    problems = []
    for module, path in modules().items():
        if module.split(".")[0] != package:
            continue
        tree = parsed(path)
        loggers = logger_names(tree)
        for node in ast.walk(tree):
            if id(node) in loggers:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in MODULE_PATH.finditer(node.value):
                    if forbidden(package, match.group(1)):
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        problems.append(f"{where} names {match.group(0)}")
    return sorted(set(problems))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_imports_one_above_it(package: str) -> None:
    assert upward_imports(package) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_package_names_one_above_it_in_a_string(package: str) -> None:
    assert upward_strings(package) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package: str) -> None:
    graph = {
        module: {target for target in targets if target.split(".")[0] == package}
        for module, targets in import_graph().items()
        if module.split(".")[0] == package
    }
    assert cycles(graph) == []


def test_the_graph_sees_function_level_imports() -> None:
    """The checker itself: an import inside a function is an edge like any other."""
    tree = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(tree) == [["a", "b", "c"]]
    assert forbidden("crm_core", "dashboard") and forbidden("voicebots", "dashboard")
    assert not forbidden("dashboard", "crm_core") and not forbidden("cti", "cti")
