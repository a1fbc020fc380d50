"""Shared fixtures: the catalogue, settings in tmp_path, and a factory for return-sheet workbooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from shinchoku.catalogue import load_catalogue
from shinchoku.config import ROOT
from shinchoku.settings import load_settings
from shinchoku.workbook.layout import HEADER, PROP_DEPARTMENT, PROP_FISCAL_YEAR
from shinchoku.documents.template import write_template


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(autouse=True)
def _not_the_developers_warehouse(tmp_path_factory, monkeypatch):
    """After `shinchoku demo` in the source tree, its warehouse (with confirmed years) exists there; commands a test
    runs without --warehouse (check holds the project warehouse's confirmed years) must not see it, nor write it."""
    if (ROOT / "warehouse" / "shinchoku.duckdb").exists() and "SHINCHOKU_WAREHOUSE" not in os.environ:
        monkeypatch.setenv("SHINCHOKU_WAREHOUSE", str(tmp_path_factory.getbasetemp() / "no-warehouse" / "shinchoku.duckdb"))


@pytest.fixture
def settings(tmp_path):
    """Settings pointing at an empty inbox and warehouse under tmp_path, no settle time, and no site
    rebuilt after each run (the site's tests turn it on: ``dataclasses.replace(settings, site_build=True)``)."""
    return load_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse" / "shinchoku.duckdb",
                         settle_seconds=0, site_build=False, config_file=tmp_path / "none.toml", env={})


@pytest.fixture
def template(catalogue, tmp_path):
    """Write the official template for (department, year) and return its path."""

    def make(department: str, year: int, path: Path | None = None) -> Path:
        path = path or tmp_path / "templates" / f"{department}_{year}.xlsx"
        return write_template(catalogue, department, year, path)

    return make


@pytest.fixture
def workbook(tmp_path):
    """Write a department's own return sheet from plain rows, the way a person might lay it out.

    rows are (指標ID, 指標名, 単位, 年度, 実績値, 時点, 備考) tuples; ``top``/``left`` shift the
    table, ``extra`` adds columns, ``formats`` maps (row index, column label) to a number format.
    """

    def make(path: Path, rows, *, department=None, year=None, sheet="実績報告", top=0, left=0,
             header=HEADER, extra=(), formats=None, title=None) -> Path:
        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        if title:
            ws.cell(row=1, column=1, value=title)
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
        labels = list(header) + [e for e in extra]
        for col, label in enumerate(labels, start=1 + left):
            ws.cell(row=1 + top, column=col, value=label)
        for r, row in enumerate(rows, start=2 + top):
            for c, value in enumerate(row, start=1 + left):
                ws.cell(row=r, column=c, value=value)
        for (r, label), fmt in (formats or {}).items():
            ws.cell(row=2 + top + r, column=1 + left + list(header).index(label)).number_format = fmt
        if department:
            from openpyxl.packaging.custom import IntProperty, StringProperty

            wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=department))
            if year:
                wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=year))
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path

    return make


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the shinchoku command as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "shinchoku.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


_READER = (
    "import duckdb, json, sys\n"
    "for line in sys.stdin:\n"
    "    ask = json.loads(line)\n"
    "    try:\n"
    "        con = duckdb.connect(ask['db'], read_only=True)\n"
    "        try:\n"
    "            out = {k: [list(r) for r in con.execute(q, p).fetchall()] for k, (q, p) in ask['queries'].items()}\n"
    "        finally:\n"
    "            con.close()\n"
    "        print(json.dumps({'ok': out}, default=str, ensure_ascii=False), flush=True)\n"
    "    except Exception as e:\n"
    "        print(json.dumps({'error': repr(e)}), flush=True)\n"
)
_reader: dict = {}


def _ask(warehouse: Path, queries: dict[str, tuple[str, list]]) -> dict[str, list[tuple]]:
    """Run queries in the reader subprocess: DuckDB caches instances per path within a process, so the
    test process never opens the warehouse. One reader serves every query of the session; each query
    opens the file afresh (a new connection sees the file a run has just published)."""
    import json

    proc = _reader.get("proc")
    if proc is None or proc.poll() is not None:
        proc = _reader["proc"] = subprocess.Popen([sys.executable, "-c", _READER], stdin=subprocess.PIPE,
                                                  stdout=subprocess.PIPE, text=True, encoding="utf-8")
    proc.stdin.write(json.dumps({"db": str(warehouse), "queries": queries}, ensure_ascii=False) + "\n")
    proc.stdin.flush()
    answer = json.loads(proc.stdout.readline())
    if "error" in answer:
        raise RuntimeError(f"query failed: {answer['error']}")
    return {k: [tuple(r) for r in rows] for k, rows in answer["ok"].items()}


def query_many(warehouse: Path, queries: dict[str, str]) -> dict[str, list[tuple]]:
    """Several queries against the warehouse, read in the reader subprocess."""
    return _ask(warehouse, {k: (q, []) for k, q in queries.items()})


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    """Read the warehouse in the reader subprocess: DuckDB caches instances per path within a process."""
    return _ask(warehouse, {"q": (sql, list(params))})["q"]



def migrated_prefect_home(home: Path) -> Path:
    """A Prefect home whose SQLite database is already migrated, so a server starting on it skips the
    migration (about 10 s of CPU here). The migrated database is made once per machine and Prefect version,
    in the temp folder (whichever process comes first; the others wait on the lock), then copied."""
    import fcntl
    import shutil
    import tempfile
    from importlib.metadata import version

    cache = Path(tempfile.gettempdir()) / f"shinchoku-prefect-db-{version('prefect')}"
    with open(str(cache) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "prefect.db").exists():
            work = Path(tempfile.mkdtemp(prefix=cache.name + "."))
            subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], check=True,
                           env={**os.environ, "PREFECT_HOME": str(work), "DO_NOT_TRACK": "1"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            shutil.rmtree(cache, ignore_errors=True)
            os.replace(work, cache)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache / "prefect.db", home / "prefect.db")
    return home


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than cores. Much of the suite waits on subprocesses and the Prefect server
    rather than computing; measured on the 2-core machines, 3 workers took 98 s where 2 took 120 s and 4 took 110 s."""
    return (os.cpu_count() or 1) + 1
