"""The house rules: what may import what, and a map that stays true to the code."""

from __future__ import annotations

import ast
from pathlib import Path

from shinchoku.config import ROOT

CORE = sorted((ROOT / "shinchoku").glob("*.py")) + sorted((ROOT / "schemas").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in top))
    return found


def test_the_core_never_imports_prefect():
    """Prefect costs about 5 s to import: the core stays plain Python; only cli reaches the flow, inside a command."""
    offenders = []
    for path in CORE:
        for module, at_top in _imports(path):
            if module.split(".")[0] in ("prefect", "flows"):
                if path.name != "cli.py" or at_top:
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_every_module_is_in_the_architecture():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    modules = [p for p in [*CORE, *sorted((ROOT / "flows").glob("*.py"))] if p.name != "__init__.py"]
    missing = [str(p.relative_to(ROOT)) for p in modules if f"`{p.relative_to(ROOT)}`" not in text]
    assert missing == []
