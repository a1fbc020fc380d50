"""Plain helpers for the tests: the CLI in a subprocess or in this process, the warehouse read in a reader subprocess, a migrated
Prefect home, and a workbook dropped into the inbox. Fixtures and hooks live in conftest.py; tests import these."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.server import migrated_prefect_home  # noqa: F401 - the tests' and the benchmark's one
from shinchoku.config import ROOT


def cli_in_process(*args: str) -> subprocess.CompletedProcess:
    """A command as ``main()`` runs it, in this process (the subprocess form, ``run_cli``, costs an interpreter's
    start-up), with the environment it may set (``--project``) restored afterwards."""
    import contextlib
    import io

    from shinchoku.cli import main

    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def drop(inbox, path: Path, department: str | None, name: str | None = None, *, mtime: float | None = None) -> Path:
    """Copy a workbook into the inbox, as a department would: into ``inbox/department/name`` (the inbox itself
    when department is None; ``name`` defaults to the file's own), making the folder, and with ``mtime`` as its
    modification time when given. ``inbox`` is the settings or the inbox folder. Returns the copy."""
    folder = Path(getattr(inbox, "inbox", inbox))
    target = (folder / department if department else folder) / (name or Path(path).name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


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


SOURCE = "令和5年度 第2回 DX推進本部会議 資料3"  # a revision's source, unless the test names one


def make_catalogue(tmp_path, revisions=(), kpis=(), owners=(), departments=None):
    """The project's catalogue with extra rows: revisions (dicts), kpis.csv rows, owners.csv rows, departments."""
    folder = tmp_path / "project" / "catalogue"
    shutil.copytree(ROOT / "catalogue", folder)
    for name, rows in (("kpis.csv", kpis), ("owners.csv", owners)):
        with (folder / name).open("a", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    with (folder / "revisions.csv").open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for n, r in enumerate(revisions, start=1):
            writer.writerow([r.get("revision_id", f"R{n}"), r["item_id"], r["field"], r["new_value"], r["effective_fy"],
                             r.get("decided_on", "2024-03-15"), r.get("reason", "理由"), r.get("source", SOURCE)])
    if departments is not None:
        with (folder / "departments.csv").open("a", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(departments)
    return folder


def reorganised_catalogue(tmp_path):
    """The catalogue after 組織改正: 危機管理部 ends with FY2023 and 危機管理局 takes over its KPI and initiative."""
    folder = make_catalogue(tmp_path, [
        {"item_id": "SAF-K01", "field": "owner", "new_value": "危機管理局", "effective_fy": 2024, "reason": "組織改正"},
        {"item_id": "SAF-01", "field": "owner", "new_value": "危機管理局", "effective_fy": 2024, "reason": "組織改正"}],
        departments=[["危機管理局", "2024", "", "", "kikikanri-kyoku@pref.example.lg.jp"]])
    text = (folder / "departments.csv").read_text(encoding="utf-8").replace("危機管理部,,,", "危機管理部,,2023,危機管理局")
    (folder / "departments.csv").write_text(text, encoding="utf-8")
    return folder
