"""Opening the warehouse: every connection shinchoku makes to a DuckDB file, reading or writing, is made here.

One thread a connection. The warehouse is small (a row a KPI, year and reporting unit: thousands, not millions)
and the time of a query over it is DuckDB planning the nested views, which one thread does anyway; DuckDB's
other threads only add CPU. Measured: the report on the demo's warehouse took the same wall time with one thread
as with two and 12% less CPU, and the test suite, whose processes share two cores, 15% less CPU. Analysts'
own connections are their own (docs/analysts.md).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Files stay readable by DuckDB 1.4 and later, including the duckdb CLI analysts install from PyPI.
STORAGE_COMPATIBILITY = "v1.4.0"
THREADS = 1


def connect(path: Path | str, read_only: bool = True, snapshot: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file at ``path``: read-only unless asked; one for writing opens (or creates)
    the file in the storage format older readers share. ``snapshot``: a read-only session that reads many views
    (the report's, the site's) takes them once first (``snapshot_views``); a writing one never may, its copies
    would go stale with its first change."""
    if snapshot and not read_only:
        raise ValueError("a snapshot is for a read-only session")
    config: dict = {"threads": THREADS}
    if not read_only:
        config["storage_compatibility_version"] = STORAGE_COMPATIBILITY
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    if snapshot:
        snapshot_views(con)
    return con


def snapshot_views(con: duckdb.DuckDBPyConnection) -> None:
    """Every view of the warehouse copied into a temporary table of its name, the views a view reads before it,
    which the session's later queries read in its place (DuckDB looks in the session's temporary schema first).
    The views nest four deep, so without this every query plans and computes again all the views beneath it: the
    report read kpi_progress in five of its queries. With it, each view is computed once, from the copies of those
    beneath it. The copies hold what the views return, and the file is read-only and never changed in place (a run
    publishes a new file), so every query answers as before. Measured on the demo's warehouse: the report's and
    the site's reads took 0.7 s; the copies take 0.2 s and the reads after them a few milliseconds each."""
    rows = con.execute("select view_name, sql from duckdb_views() where not internal and schema_name = 'main' "
                       "and database_name = current_database()").fetchall()
    for name in _lowest_first(dict(rows)):
        try:
            con.execute(f'create temporary table "{name}" as select * from main."{name}"')
        except duckdb.Error:  # a view that cannot be read fails as before, when (if ever) a query reads it
            continue


def _lowest_first(views: dict[str, str]) -> list[str]:
    """The views' names, each after every view its SQL names. (A name that is also a CTE's inside it only orders
    the two; a circle, which DuckDB would not have created, is broken where it is met: the order only saves work,
    every copy answers the same in any order.)"""
    import re

    reads = {name: {other for other in views if other != name and re.search(rf"\b{other}\b", sql)}
             for name, sql in views.items()}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for other in sorted(reads[name]):
            visit(other)
        order.append(name)

    for name in sorted(views):
        visit(name)
    return order
