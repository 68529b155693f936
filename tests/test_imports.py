"""The house's import rules (docs/architecture.md, "Where things live"), read from the source
with `ast`: every import counts, also one under `TYPE_CHECKING` or inside a function.

- no circle between modules of `pipelines` and `assets`;
- the arrows point down: nothing below the CLI imports it, the library imports neither the
  Dagster wiring (`pipelines.orchestration`) nor the operator's console, nor `assets`;
- the core (settings, scope, durable I/O, progress, base URL) imports only the core.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOP = ("pipelines.cli", "pipelines.orchestration", "pipelines.console", "assets")
CORE = ("pipelines.settings", "pipelines.scope", "pipelines.durable", "pipelines.progress",
        "pipelines.base_url")


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the given top-level packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (the nearest known module of each name)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:  # `from pkg import module` names a module
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else base)
        resolved = {_known(target, modules) for target in targets}
        graph[name] = {t for t in resolved if t and t != name}
    return graph


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(module_files(REPO, ("pipelines", "assets")))


def test_no_import_circle(graph):
    assert circles(graph) == []


def test_the_library_imports_neither_the_cli_nor_the_dagster_wiring(graph):
    upward = sorted(
        f"{source} -> {target}" for source, targets in graph.items() for target in targets
        if (not _within(source, TOP) and _within(target, TOP))
        or (not _within(source, ("pipelines.cli",)) and _within(target, ("pipelines.cli",)))
    )
    assert upward == []


def test_the_core_imports_only_the_core(graph):
    upward = sorted(
        f"{source} -> {target}" for source, targets in graph.items() if _within(source, CORE)
        for target in targets if not _within(target, CORE)
    )
    assert upward == []


def test_the_checks_see_a_circle_and_an_upward_arrow(tmp_path):
    """The rules above can fail: a circle through a TYPE_CHECKING import and an import inside
    a function, in a package made for the purpose."""
    package = tmp_path / "pipelines"
    (package / "eventlog").mkdir(parents=True)
    (package / "cli").mkdir()
    for folder in (package, package / "eventlog", package / "cli"):
        (folder / "__init__.py").write_text("")
    (package / "eventlog" / "store.py").write_text("from pipelines.eventlog import state\n")
    (package / "eventlog" / "state.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from pipelines.eventlog.store import EventLog\n")
    (package / "eventlog" / "ledger.py").write_text(
        "def f():\n    from ..cli import main\n    return main\n")
    (package / "cli" / "main.py").write_text("from pipelines.eventlog.ledger import f\n")
    graph = import_graph(module_files(tmp_path, ("pipelines",)))
    assert ["pipelines.eventlog.state", "pipelines.eventlog.store"] in circles(graph)
    assert graph["pipelines.eventlog.ledger"] == {"pipelines.cli.main"}  # relative, in a function
    assert ["pipelines.cli.main", "pipelines.eventlog.ledger"] in circles(graph)
