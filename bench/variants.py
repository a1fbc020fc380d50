"""Each measured variant, run in its own process: ``python -m bench.variants NAME SOURCE WORKDIR``.

Prints one JSON line: wall seconds of the measured work (after imports), the
import seconds, and what the variant found, so the driver can check it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path


def _files(source: Path) -> list[Path]:
    return sorted(source.rglob("*.xlsx"))


def _sheet(names: list[str]) -> str:
    """The sheet to read: a department's 実績報告, or a local government's 調査票 (the --surveys corpus)."""
    return "実績報告" if "実績報告" in names or "調査票" not in names else "調査票"


def bare_openpyxl(source: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    from openpyxl import load_workbook
    imported = time.perf_counter()
    rows = 0
    for path in _files(source):
        wb = load_workbook(path, read_only=True, data_only=True)
        rows += sum(1 for _ in wb[_sheet(wb.sheetnames)].iter_rows(values_only=True))
        wb.close()
    return {"import_seconds": imported - t0, "seconds": time.perf_counter() - imported, "rows": rows}


def bare_calamine(source: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    import python_calamine
    imported = time.perf_counter()
    rows = 0
    for path in _files(source):
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        rows += len(wb.get_sheet_by_name(_sheet(wb.sheet_names)).to_python())
        wb.close()
    return {"import_seconds": imported - t0, "seconds": time.perf_counter() - imported, "rows": rows}


def naive(source: Path, work: Path) -> dict:
    """What an analyst would write by hand: per file read_excel, validate, insert."""
    t0 = time.perf_counter()
    import duckdb
    import pandas as pd
    import pandera.pandas as pa
    imported = time.perf_counter()
    schema = pa.DataFrameSchema({
        "指標ID": pa.Column(str, nullable=False),
        "年度": pa.Column(str, nullable=True),
        "実績値": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
    }, strict=False)
    con = duckdb.connect(str(work / "naive.duckdb"))
    con.execute("create table obs (source varchar, kpi_id varchar, fiscal_year varchar, actual_value double)")
    # a local government's survey sheet: whole counts, the numerator never above the denominator
    counts_schema = pa.DataFrameSchema({
        "指標ID": pa.Column(str, nullable=False),
        "構成要素ID": pa.Column(str, nullable=False),
        "実数": pa.Column(int, pa.Check.ge(0), nullable=False, coerce=True),
    }, checks=pa.Check(lambda df: (df.groupby("指標ID")["実数"].agg(lambda v: v.iloc[0] <= v.iloc[-1])).all()),
        strict=False)
    con.execute("create table counts (source varchar, kpi_id varchar, component_id varchar, count bigint)")
    accepted = rejected = 0
    for path in _files(source):
        if "_調査票_" in path.name:  # R5_調査票_郡山市.xlsx
            try:
                frame = pd.read_excel(path, sheet_name="調査票", header=5, usecols="A:H")
                frame = counts_schema.validate(frame, lazy=True)
            except (pa.errors.SchemaErrors, ValueError):
                rejected += 1
                continue
            frame = frame[["指標ID", "構成要素ID", "実数"]].assign(source=path.name)
            con.execute("insert into counts select source, 指標ID, 構成要素ID, 実数 from frame")
            accepted += 1
            continue
        try:
            frame = pd.read_excel(path, sheet_name="実績報告", header=5, usecols="A:G", dtype={"年度": str})
            frame = schema.validate(frame, lazy=True)
        except (pa.errors.SchemaErrors, ValueError):
            rejected += 1
            continue
        frame = frame[["指標ID", "年度", "実績値"]].dropna(subset=["実績値"]).assign(source=path.name)
        con.execute("insert into obs select source, 指標ID, 年度, 実績値 from frame")
        accepted += 1
    con.close()
    return {"import_seconds": imported - t0, "seconds": time.perf_counter() - imported,
            "accepted": accepted, "rejected": rejected}


def _settings(work: Path):
    from shinchoku.settings import load_settings

    # the ingest alone, comparable with earlier runs; the site is timed on its own (measure_site)
    return load_settings(inbox=work / "inbox", warehouse=work / "warehouse" / "shinchoku.duckdb",
                         settle_seconds=0, site_build=False, env={}, config_file="/none")


def _drop(source: Path, work: Path) -> None:
    shutil.copytree(source, work / "inbox", dirs_exist_ok=True, copy_function=shutil.copy2)


def core(source: Path, work: Path) -> dict:
    """shinchoku's ingest without Prefect, then the files it took in dropped again (all duplicates; a copy of a
    rejected file would be assessed again, so the rejects are left out of the second drop)."""
    t0 = time.perf_counter()
    import duckdb  # noqa: F401 - everything the run will import, timed apart from the run
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401

    import schemas.return_sheet  # noqa: F401
    from shinchoku.documents import report  # noqa: F401
    from shinchoku.run import feedback, warehouse  # noqa: F401
    from shinchoku.catalogue import load_catalogue
    from shinchoku.run.steps import run_ingest
    imported = time.perf_counter()
    settings, catalogue = _settings(work), load_catalogue()
    _drop(source, work)
    start = time.perf_counter()
    first = run_ingest(settings, catalogue)
    core_seconds = time.perf_counter() - start
    _drop(source, work)
    for decision in first.decisions:
        if decision.status == "rejected":
            (work / "inbox" / decision.candidate.path.relative_to(settings.inbox)).unlink()
    start = time.perf_counter()
    again = run_ingest(settings, catalogue)
    dup_seconds = time.perf_counter() - start
    return {"import_seconds": imported - t0, "seconds": core_seconds, "duplicate_seconds": dup_seconds,
            "accepted": first.count("accepted"), "rejected": first.count("rejected"),
            "duplicates_first": first.count("duplicate"), "duplicates_again": again.count("duplicate"),
            "again_total": len(again.decisions), "dropped_again": len(first.decisions) - first.count("rejected"), "warehouse_bytes": settings.warehouse.stat().st_size}


def repeats() -> int:
    """How many runs a variant makes in its one process (BENCH_REPEATS, default 1): each on a fresh copy of the
    inbox and a new warehouse, the folder removed after the run when there are several."""
    return max(1, int(os.environ.get("BENCH_REPEATS", "1")))


def children_cpu() -> float:
    """CPU seconds of this process's children so far: those reaped (a fork pool's parsing workers) and those
    alive with the children they reaped (a fork server, which the flow's pool starts its workers from)."""
    import resource

    import psutil

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children():
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        seconds += times.user + times.system + times.children_user + times.children_system
    return seconds


def _timed(folder: Path, source: Path, ingest) -> dict:
    """One run of ``ingest(settings)`` on a fresh copy of the inbox in ``folder``: its wall time, the CPU time of
    this process (all its threads, Prefect's among them) and of the parsing workers, and what it returned."""
    settings = _settings(folder)
    _drop(source, folder)
    start, busy, workers = time.perf_counter(), time.process_time(), children_cpu()
    summary = ingest(settings)
    timed = {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - busy,
             "workers_cpu_seconds": children_cpu() - workers, "summary": summary}
    if repeats() > 1:
        shutil.rmtree(folder, ignore_errors=True)
    return timed


def _medians(runs: list[dict]) -> dict:
    summary = runs[-1]["summary"]
    return {"seconds": statistics.median(r["seconds"] for r in runs), "runs": [r["seconds"] for r in runs],
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs), "cpu_runs": [r["cpu_seconds"] for r in runs],
            "workers_cpu_seconds": statistics.median(r["workers_cpu_seconds"] for r in runs),
            "accepted": summary.count("accepted"), "rejected": summary.count("rejected")}


def core_runs(source: Path, work: Path) -> dict:
    """(d) alone, ``repeats()`` times in one process (for the flow's cost at two sizes, ``--flow-cost``)."""
    t0 = time.perf_counter()
    import duckdb  # noqa: F401 - the same imports as core()
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401

    import schemas.return_sheet  # noqa: F401
    from shinchoku.documents import report  # noqa: F401
    from shinchoku.run import feedback, warehouse  # noqa: F401
    from shinchoku.catalogue import load_catalogue
    from shinchoku.run.steps import run_ingest
    imported = time.perf_counter()
    catalogue = load_catalogue()
    runs = [_timed(work / str(i) if repeats() > 1 else work, source, lambda settings: run_ingest(settings, catalogue))
            for i in range(repeats())]
    return {"import_seconds": imported - t0, **_medians(runs)}


def prefect(source: Path, work: Path) -> dict:
    """``shinchoku run`` through the Prefect flow; Prefect's own start-up is timed apart. With BENCH_REPEATS,
    the flow runs that many times in this process (the median is ``seconds``)."""
    t0 = time.perf_counter()
    import duckdb  # noqa: F401 - the same imports as (d), timed apart from the run
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    from prefect import flow, task

    import schemas.return_sheet  # noqa: F401
    from flows.ingest import ingest_flow
    from shinchoku.documents import report  # noqa: F401
    from shinchoku.run import feedback, warehouse  # noqa: F401
    imported = time.perf_counter()

    @task(name="bench-warm-up-task")
    def nothing() -> int:
        return 1

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return nothing()

    warm_up()  # starts the ephemeral server (without PREFECT_API_URL), and Prefect's task machinery
    started = time.perf_counter()

    def through_the_flow(settings):
        return ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0,
                           site_build=settings.site_build).summary

    runs = [_timed(work / str(i) if repeats() > 1 else work, source, through_the_flow) for i in range(repeats())]
    return {"import_seconds": imported - t0, "startup_seconds": started - imported, **_medians(runs)}


VARIANTS = {"openpyxl": bare_openpyxl, "calamine": bare_calamine, "naive": naive, "core": core, "prefect": prefect,
            "core_runs": core_runs}

if __name__ == "__main__":
    name, source, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps(VARIANTS[name](source, work)))
