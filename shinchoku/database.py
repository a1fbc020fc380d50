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


def connect(path: Path | str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file at ``path``: read-only unless asked; one for writing opens (or creates)
    the file in the storage format older readers share."""
    config: dict = {"threads": THREADS}
    if not read_only:
        config["storage_compatibility_version"] = STORAGE_COMPATIBILITY
    return duckdb.connect(str(path), read_only=read_only, config=config)
