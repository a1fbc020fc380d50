"""The house rules: what may import what, no import circle, and a map that stays true to the code.

The layers and the forbidden imports are import-linter contracts (pyproject.toml, [tool.importlinter]);
this file runs them, and checks what they cannot say.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shinchoku.config import ROOT

PACKAGES = ("shinchoku", "flows", "schemas")
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def lint_imports(root: Path = ROOT) -> subprocess.CompletedProcess:
    """import-linter's contracts, checked on the tree at ``root``."""
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=root,
                          capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_hold():
    """The layers (cli, flows, run, documents, workbook, configuration and catalogue), reading without Prefect
    or DuckDB, and a core without Prefect."""
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contracts_can_fail(tmp_path):
    """A forbidden import in a copy of the tree breaks a contract: the test above is not vacuous."""
    for package in PACKAGES:
        subprocess.run(["cp", "-r", str(ROOT / package), str(tmp_path / package)], check=True)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    parse = tmp_path / "shinchoku" / "workbook" / "parse.py"
    parse.write_text(parse.read_text(encoding="utf-8") + "\nimport duckdb  # noqa: E402,F401\n", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0 and "Reading a workbook imports neither Prefect nor DuckDB BROKEN" in done.stdout


def test_no_import_circle():
    """No module reaches itself through imports, at the top or inside a function (grimp sees both)."""
    import grimp

    graph = grimp.build_graph(*PACKAGES)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append(" -> ".join(graph.find_shortest_chain(importer=imported, imported=module)) + f" -> {imported}")
    assert circles == []


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


def test_the_cli_reaches_prefect_only_inside_a_command():
    """Prefect costs seconds to import: cli may reach flows/ (and so Prefect) only inside the commands that run
    the flow, never at its top; flows/server.py, which the CLI uses, imports Prefect only inside functions."""
    offenders = [f"{path.relative_to(ROOT)}: {module}" for path in (ROOT / "shinchoku" / "cli.py", ROOT / "flows" / "server.py")
                 for module, at_top in _imports(path) if at_top and module.split(".")[0] in ("prefect", "flows")]
    assert offenders == []


def test_validating_imports_neither_hypothesis_nor_prefect():
    """A command that validates (check, run) loads pandera's checks without hypothesis, the tests' library that
    pandera's strategies would import (a quarter of a second of each start), and without Prefect."""
    probe = ("import sys, schemas.catalogue, schemas.return_sheet; "
             "print(sorted(m for m in ('hypothesis', 'prefect') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]"]


def test_every_module_is_in_the_architecture():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    modules = [p for p in MODULES if p.name != "__init__.py"]
    missing = [str(p.relative_to(ROOT)) for p in modules if f"`{p.relative_to(ROOT)}`" not in text]
    assert missing == []


def test_the_top_level_holds_only_the_cli_configuration_catalogue_and_database():
    """Everything else lives in a package named for its layer (run, documents, workbook). The database connection
    sits at the bottom with the configuration: both a run (writing) and the documents (reading) open the warehouse."""
    top = sorted(p.stem for p in (ROOT / "shinchoku").glob("*.py") if p.name != "__init__.py")
    assert top == ["catalogue", "catalogue_fields", "cli", "config", "database", "settings"]


COPIES = ("copyfile", "copy", "copy2")  # shutil's


def _test_module_problems(source: str, name: str) -> list[str]:
    """What breaks the tests' own rules in one file of tests/: an import from conftest (plain helpers live in
    helpers.py), a drop/put helper of its own, or a workbook copied into an inbox by hand (helpers.drop does
    that); and in conftest, anything at the top but fixtures and pytest's hooks."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.ImportFrom) and node.module == "conftest"
                or isinstance(node, ast.Import) and any(alias.name == "conftest" for alias in node.names)):
            found.append(f"{name}:{node.lineno}: imports conftest; import from helpers")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.strip("_") in ("drop", "put"):
            if name != "helpers.py":
                found.append(f"{name}:{node.lineno}: defines {node.name}(); use helpers.drop")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in COPIES
              and len(node.args) > 1 and "inbox" in ast.unparse(node.args[1])):
            if name != "helpers.py":
                found.append(f"{name}:{node.lineno}: copies into an inbox by hand; use helpers.drop")
    if name == "conftest.py":
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("pytest_") and not any(
                    "fixture" in ast.unparse(d) for d in node.decorator_list):
                found.append(f"{name}:{node.lineno}: {node.name}() is neither a fixture nor a hook; move it to helpers.py")
    return found


def test_test_helpers_live_in_helpers_not_conftest():
    """STYLE.md: test helpers in a module of their own (tests/helpers.py), never imported from conftest, which
    holds only fixtures and hooks; and one way to drop a workbook into the inbox, helpers.drop."""
    found = [problem for path in sorted((ROOT / "tests").glob("*.py"))
             for problem in _test_module_problems(path.read_text(encoding="utf-8"), path.name)]
    assert found == []


def test_the_test_rules_can_fail():
    """Each rule above finds its breach: the test is not vacuous."""
    module = ("from conftest import query\n"
              "def put(settings, path):\n"
              "    shutil.copyfile(path, settings.inbox / '総務部' / path.name)\n")
    assert [p.split(": ", 1)[1] for p in _test_module_problems(module, "test_x.py")] == [
        "imports conftest; import from helpers", "defines put(); use helpers.drop",
        "copies into an inbox by hand; use helpers.drop"]
    conftest = "import pytest\n@pytest.fixture\ndef settings(): ...\ndef pytest_configure(config): ...\ndef run_cli(): ...\n"
    assert _test_module_problems(conftest, "conftest.py") == [
        "conftest.py:5: run_cli() is neither a fixture nor a hook; move it to helpers.py"]


def _duckdb_connects(source: str) -> list[int]:
    """The lines of ``source`` that call duckdb.connect."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "duckdb"]


def test_every_warehouse_connection_is_made_in_one_place_with_one_thread(tmp_path):
    """shinchoku.database.connect opens every warehouse file (one DuckDB thread, the storage format older readers
    share); no other module calls duckdb.connect."""
    from shinchoku import database

    assert _duckdb_connects("import duckdb\ncon = duckdb.connect('x.duckdb', read_only=True)\n") == [2]
    elsewhere = {str(p.relative_to(ROOT)): lines for p in MODULES if p.name != "database.py"
                 for lines in [_duckdb_connects(p.read_text(encoding="utf-8"))] if lines}
    assert elsewhere == {}
    path = tmp_path / "w.duckdb"
    for read_only in (False, True):
        con = database.connect(path, read_only=read_only)
        try:
            assert con.execute("select current_setting('threads')").fetchone()[0] == database.THREADS == 1
        finally:
            con.close()
    with pytest.raises(ValueError):  # a writing session never takes a snapshot: its copies would go stale
        database.connect(path, read_only=False, snapshot=True)
