"""pyproject.toml says what the code needs: every import is a declared runtime dependency, and
no test-only package is one."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def normalized(requirement: str) -> str:
    """The distribution name of a requirement, PEP 503-normalised (`PyYAML>=6` -> `pyyaml`)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_imports() -> set[str]:
    """Top-level names the shipped code imports (mailer/ and cli.py), standard library left out."""
    names: set[str] = set()
    for path in [PROJECT_ROOT / "cli.py", *sorted((PROJECT_ROOT / "mailer").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("mailer", "cli")}


def feature_extras() -> set[str]:
    """Packages of the optional features (extras other than `test`), e.g. `render`: Playwright,
    which `check` imports only when it looks at the rendering."""
    extras = PYPROJECT["project"].get("optional-dependencies", {})
    return {normalized(r) for name, reqs in extras.items() if name != "test" for r in reqs}


def test_every_runtime_import_is_a_declared_dependency():
    declared = {normalized(r) for r in PYPROJECT["project"]["dependencies"]} | feature_extras()
    providers = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(normalized(d) for d in providers.get(module, ["?"]))
        for module in runtime_imports()
        if not declared & {normalized(d) for d in providers.get(module, [])}
    }
    assert missing == {}, "imported but not in [project] dependencies"


def test_no_test_only_package_is_a_runtime_dependency():
    runtime = {normalized(r) for r in PYPROJECT["project"]["dependencies"]}
    test_only = {
        normalized(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]
    } - feature_extras()
    assert runtime & test_only == set()
    providers = importlib.metadata.packages_distributions()
    imported = {normalized(d) for m in runtime_imports() for d in providers.get(m, [])}
    assert imported & test_only == set()


def test_metadata_uses_an_spdx_licence_and_sqlite_utils_4():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert "sqlite-utils>=4.0" in [r.split("#")[0].strip() for r in project["dependencies"]]
    for pattern in project.get("license-files", []):
        assert list(PROJECT_ROOT.glob(pattern)), pattern
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]  # PEP 639 licence
