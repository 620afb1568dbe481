"""The library's shape: one folder per question, imports in one direction, small documented modules.

Read from the source with ``ast`` (nothing is imported), so lazy imports inside functions
count as much as the ones at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "explorer"
SUBPACKAGES = ("shufflenet", "paper", "counting", "mixing", "store", "latency", "devices", "sizing", "commands")
# Which subpackage may import which: shufflenet -> counting / mixing -> latency -> devices / sizing -> commands;
# paper is data that anything may read (and it reads the configs it describes); store keeps records and
# reads nothing above shufflenet, so anything that measures may keep what it measured.
ALLOWED = {
    "shufflenet": set(),
    "paper": {"shufflenet"},
    "counting": {"shufflenet", "paper"},
    "mixing": {"shufflenet"},
    "store": {"shufflenet"},
    "latency": {"shufflenet", "counting", "paper", "store"},
    "devices": {"shufflenet", "counting", "latency", "store"},
    "sizing": {"shufflenet", "counting", "paper", "latency", "store"},
    "commands": {"shufflenet", "paper", "counting", "mixing", "store", "latency", "devices", "sizing"},
}
SHARED = {
    "explorer.checks",
    "explorer.concurrency",
    "explorer._no_telemetry",
    "explorer.machine",
}  # below every subpackage
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(LIBRARY.rglob("*.py"))}


def imports_of(name: str, path: Path) -> set[str]:
    """Every ``explorer`` module ``path`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = library_modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules.keys()
            found |= submodules or {base}  # ``from .. import paper`` depends on explorer.paper, not explorer
    return {m for m in found if m in modules and m != name}


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


GRAPH = {name: imports_of(name, path) for name, path in library_modules().items()}


def test_no_module_imports_in_a_circle():
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycle = trail[trail.index(target) :] + [target] if target in trail else [module, target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in GRAPH:
        if module not in state:
            visit(module, [module])


def test_subpackages_import_in_one_direction():
    wrong = []
    for module, targets in GRAPH.items():
        source = subpackage(module)
        if source is None:
            continue
        for target in targets:
            other = subpackage(target)
            if target == "explorer" or (other is None and target not in SHARED and target != f"explorer.{source}"):
                wrong.append(f"{module} -> {target}")
            elif other not in (None, source) and other not in ALLOWED[source]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong


def test_latency_imports_nothing_from_sizing_or_devices():
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if subpackage(module) == "latency"
        for target in targets
        if subpackage(target) in ("sizing", "devices")
    )
    assert not wrong, wrong


def test_shared_modules_import_no_subpackage():
    for module in SHARED:
        assert not {t for t in GRAPH[module] if subpackage(t)}, module


def test_the_library_never_imports_streamlit():
    for path in library_modules().values():
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] == "streamlit"}, path


SOURCES = sorted(
    [*LIBRARY.rglob("*.py"), *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"]
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_is_short_and_says_what_it_is_for(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{len(text.splitlines())} lines: split it by what it answers"
    docstring = ast.get_docstring(ast.parse(text))
    if path.name != "__main__.py":
        assert docstring and len(docstring) > 20, "open the module with a docstring saying what it is for"


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_subpackage_says_which_question_it_answers(package):
    docstring = ast.get_docstring(ast.parse((LIBRARY / package / "__init__.py").read_text()))
    assert docstring, f"explorer/{package}/__init__.py needs a docstring"
