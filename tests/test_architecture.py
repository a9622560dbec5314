"""The layout the docs promise: wings, one-way arrows between them, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mailer"

# wing -> the wings it may import (config, errors and locale are open to all)
ALLOWED = {
    "store": set(),
    "audience": {"store"},
    "compose": set(),
    "delivery": {"compose", "audience", "store"},
    "check": {"compose", "delivery", "audience", "store"},
    "web": {"compose", "delivery", "audience", "store", "remote"},
    "remote": {"compose", "delivery", "audience", "store"},
    "locale": set(),
}
SHARED = {"config", "errors", "locale"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every mailer module `path` imports, at the top or inside a function, as full names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mailer"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("mailer"):
                continue
            found.add(target)
            for alias in node.names:  # `from . import ledger` imports a module
                candidate = f"{target}.{alias.name}"
                if (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    ROOT / Path(*candidate.split("."))
                ).is_dir():
                    found.add(candidate)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def wing(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_only_config_errors_and_init_stay_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "config.py", "errors.py"]
    for name in ALLOWED:
        assert (PACKAGE / name / "__init__.py").exists(), name


def test_every_wing_says_what_it_may_import():
    for name in ("compose", "audience", "delivery", "store"):
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "May import" in doc, name


def test_wings_import_only_downward():
    wrong = []
    for module, targets in graph().items():
        source = wing(module)
        if source not in ALLOWED:
            continue
        for target in targets:
            goal = wing(target)
            if goal in SHARED or goal == source or goal == "":
                continue
            if goal not in ALLOWED[source]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_circles():
    """No module reaches itself through its imports, directly or in a loop."""
    edges = graph()
    # a module's own package is not an edge: Python runs it first, whatever the module imports
    edges = {
        m: {t for t in ts if t in edges and not m.startswith(t + ".")} for m, ts in edges.items()
    }
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("wing_name", ["compose", "audience", "store"])
def test_lower_wings_load_without_the_upper_ones(wing_name):
    """Importing a lower wing in a fresh interpreter pulls in nothing above it."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        f"import mailer.{wing_name} as w\n"
        "for m in pkgutil.iter_modules(w.__path__):\n"
        f"    importlib.import_module('mailer.{wing_name}.' + m.name)\n"
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('mailer.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    loaded_wings = {wing(m) for m in out}
    assert loaded_wings <= ALLOWED[wing_name] | SHARED | {wing_name}, loaded_wings
