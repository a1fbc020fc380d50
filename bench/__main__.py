"""Benchmark shinchoku side by side with bare readers and the naive approach.

    uv run python -m bench            # N = 1,000
    uv run python -m bench --n 10000  # the large run
    uv run python -m bench --surveys  # (a), (c), (d) with the 240 survey sheets of 60 governments beside them
    uv run python -m bench --flow-cost  # (e) − (d) at 1,000 and 3,000 files: Prefect's cost per file

Each variant runs in its own process on the same files; the driver samples
the process tree's memory. Figures are printed as a table and written as JSON
under bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from .generate import generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
LABELS = {
    "openpyxl": "(a) bare openpyxl read-only parse",
    "calamine": "(b) bare python-calamine parse",
    "naive": "(c) naive: read_excel + pandera + INSERT per file",
    "core": "(d) shinchoku ingest core, no Prefect",
    "prefect": "(e) shinchoku run through the Prefect flow",
    "duplicates": "(f) the accepted files dropped again",
    "check": "shinchoku check, one clean template (whole process)",
    "million": "1,000,000-row workbook, shinchoku check (whole process)",
    "hostile_cells": "hostile: 12 sheets × 5,000 rows × 200 cells, 0.45 MB",
    "hostile_deep": "hostile: <x> nested 8,000,000 deep, 56 KB",
    "hostile_junk": "hostile: 15,000,000 <x/> elements, 60 KB",
    "hostile_run": "hostile: the three beside a good return, one run",
    "report": "shinchoku report on the demo warehouse (whole process)",
    "site": "shinchoku site on the demo warehouse (whole process)",
    "site_n": "shinchoku site on the warehouse of the N returns of (d)",
}


def measure(argv: list[str], env: dict | None = None) -> tuple[dict, float, int, int]:
    """Run a command; return its JSON result, wall time and peak RSS (largest process, whole tree)."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak_one = peak_sum = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_one, peak_sum
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [parent] + parent.children(recursive=True)
                rss = []
                for p in tree:
                    try:
                        rss.append(p.memory_info().rss)
                    except psutil.Error:
                        pass
                if rss:
                    peak_one, peak_sum = max(peak_one, max(rss)), max(peak_sum, sum(rss))
            except psutil.Error:
                pass
            done.wait(0.02)

    started = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    lines = [l for l in out.splitlines() if l.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), wall, peak_one, peak_sum


def variant(name: str, source: Path, work: Path) -> tuple[dict, float, int, int]:
    shutil.rmtree(work, ignore_errors=True)
    return measure([sys.executable, "-m", "bench.variants", name, str(source), str(work)])


def run(n: int, root: Path, skip_prefect: bool = False, check_runs: int = 3, million: int = 1_000_000,
        demo: bool = True) -> dict:
    """Measure every variant on N generated returns; ``check_runs`` and ``million`` shrink for the smoke test,
    which also times the report on the core variant's warehouse instead of building the demo's (``demo``)."""
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    say(f"Generating {n:,} return sheets (cached in {root})…")
    t0 = time.perf_counter()
    manifest = generate(n, root / "corpus")
    say(f"  ready in {time.perf_counter() - t0:.1f} s ({manifest['rejects']} planned rejects)")
    source = root / "corpus" / "inbox"
    results: dict[str, dict] = {}
    for name in ("openpyxl", "calamine", "naive", "core") + (() if skip_prefect else ("prefect",)):
        say(f"Measuring {LABELS[name]}…")
        found, wall, one, total = variant(name, source, root / "work" / name)
        results[name] = {**found, "process_seconds": wall, "peak_rss_bytes": one, "peak_rss_tree_bytes": total}
        say(f"  {found.get('seconds', wall):.2f} s")
    core = results["core"]
    results["duplicates"] = {"seconds": core["duplicate_seconds"], "peak_rss_bytes": core["peak_rss_bytes"],
                             "peak_rss_tree_bytes": core["peak_rss_tree_bytes"],
                             "all_duplicates": core["duplicates_again"] == core["again_total"] == core["dropped_again"]}

    say("Timing shinchoku check on one clean template…")
    template = root / "check" / "clean.xlsx"
    template.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from shinchoku.catalogue import load_catalogue
    from shinchoku.documents.template import fill_template, write_template

    catalogue = load_catalogue()
    fill_template(write_template(catalogue, "企画調整部", 2023, template), {"GOV-K01": 61.5, "REG-K01": 140})
    runs = [measure([sys.executable, "-m", "shinchoku.cli", "check", str(template)]) for _ in range(check_runs)]
    results["check"] = {"seconds": statistics.median(r[1] for r in runs), "peak_rss_bytes": max(r[2] for r in runs),
                        "peak_rss_tree_bytes": max(r[3] for r in runs)}

    say("Rejecting a 1,000,000-row workbook…")
    from .hostile import million_rows

    big = million_rows(root / "check" / "million.xlsx", rows=million)
    _, wall, one, total = measure([sys.executable, "-m", "shinchoku.cli", "check", "--department", "企画調整部", str(big)])
    results["million"] = {"seconds": wall, "peak_rss_bytes": one, "peak_rss_tree_bytes": total,
                          "file_bytes": big.stat().st_size}

    if million >= 1_000_000:  # the smoke test leaves the hostile workbooks to tests/test_hostile.py
        results.update(hostile(root / "hostile", template))

    say("Building the report on the demo warehouse…")
    warehouse = root / "work" / "core" / "warehouse" / "shinchoku.duckdb"
    if demo:
        from shinchoku.settings import load_settings
        from shinchoku.run.demo import write_demo_inbox
        from shinchoku.run.steps import run_ingest

        settings = load_settings(inbox=root / "demo" / "inbox", warehouse=root / "demo" / "warehouse" / "shinchoku.duckdb",
                                 settle_seconds=0, site_build=False, env={}, config_file=root / "none.toml")
        shutil.rmtree(root / "demo", ignore_errors=True)
        write_demo_inbox(catalogue, settings.inbox)
        run_ingest(settings, catalogue)
        warehouse = settings.warehouse
    runs = [measure([sys.executable, "-m", "shinchoku.cli", "report", "--warehouse", str(warehouse),
                     "-o", str(root / "report.xlsx")]) for _ in range(check_runs)]
    results["report"] = {"seconds": statistics.median(r[1] for r in runs), "peak_rss_bytes": max(r[2] for r in runs),
                         "peak_rss_tree_bytes": max(r[3] for r in runs)}

    say("Building the progress site…")
    core = root / "work" / "core" / "warehouse" / "shinchoku.duckdb"
    results["site"] = measure_site(warehouse, root / "site", check_runs)
    if core != warehouse:  # without the demo, the first figure is already this one
        results["site_n"] = measure_site(core, root / "site_n", check_runs)
    return {"n": n, "results": results, "machine": machine(), "when": dt.datetime.now().isoformat(timespec="seconds")}


HOSTILE = {"hostile_cells": ("many_cells", "too_many_cells"), "hostile_deep": ("deep_nesting", "xml_too_deep"),
           "hostile_junk": ("junk_elements", "too_complex")}


def hostile(folder: Path, good: Path) -> dict:
    """The security trial's workbooks (issue 22): each assessed in its own process, then all three beside a good
    return in one run; wall time, peak RSS sampled and the child's own VmHWM, and the codes it got."""
    from . import hostile as builders

    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    shutil.rmtree(folder, ignore_errors=True)
    inbox = folder / "run" / "inbox" / "企画調整部"
    inbox.mkdir(parents=True)
    results = {}
    for key, (builder, expected) in HOSTILE.items():
        say(f"Rejecting the {LABELS[key][9:]} workbook…")
        path = getattr(builders, builder)(folder / f"{builder}.xlsx")
        shutil.copyfile(path, inbox / path.name)
        found, wall, one, total = measure([sys.executable, "-m", "bench.hostile", "check", str(path)])
        results[key] = {"seconds": wall, "peak_rss_bytes": one, "peak_rss_tree_bytes": total, "file_bytes":
                        path.stat().st_size, "codes": found["codes"], "expected": expected,
                        "vmhwm_bytes": found["vmhwm_bytes"], "read_seconds": found["seconds"]}
    say("One run with the three beside a good return…")
    shutil.copyfile(good, inbox / "good.xlsx")
    os.utime(inbox / "good.xlsx", (1_700_000_000, 1_700_000_000))
    found, wall, one, total = measure([sys.executable, "-m", "bench.hostile", "run", str(folder / "run")])
    results["hostile_run"] = {"seconds": wall, "peak_rss_bytes": one, "peak_rss_tree_bytes": total,
                              "files": found["files"], "vmhwm_bytes": found["vmhwm_bytes"],
                              "run_seconds": found["seconds"]}
    return results


def hostile_lines(results: dict) -> list[str]:
    """What each hostile workbook got, and the child process's own peak (VmHWM)."""
    lines = []
    for key in (*HOSTILE, "hostile_run"):
        row = results.get(key)
        if not row:
            continue
        got = ", ".join(row["codes"]) if "codes" in row else \
            "; ".join(f"{name} {' '.join(outcome)}" for name, outcome in row["files"].items())
        lines.append(f"{LABELS[key]}: {row['seconds']:.2f} s whole process, VmHWM "
                     f"{row['vmhwm_bytes'] / 2**20:,.0f} MB — {got}")
    return lines


def measure_site(warehouse: Path, out: Path, runs: int) -> dict:
    """`shinchoku site` on a warehouse, whole process: the median time, peak memory, the site's size and pages."""
    measured = [measure([sys.executable, "-m", "shinchoku.cli", "site", "--warehouse", str(warehouse), "-o", str(out)])
                for _ in range(runs)]
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"seconds": statistics.median(r[1] for r in measured), "peak_rss_bytes": max(r[2] for r in measured),
            "peak_rss_tree_bytes": max(r[3] for r in measured), "bytes": sum(p.stat().st_size for p in files),
            "pages": sum(1 for p in files if p.suffix == ".html")}


def site_only(n: int, root: Path, runs: int = 3) -> dict:
    """The site on the warehouse of N generated returns, without the other variants (``--site-only``)."""
    manifest = generate(n, root / "corpus")
    print(f"{n:,} return sheets ready ({manifest['rejects']} planned rejects); ingesting (d)…", file=sys.stderr)
    found, wall, _, _ = variant("core", root / "corpus" / "inbox", root / "work" / "core")
    site = measure_site(root / "work" / "core" / "warehouse" / "shinchoku.duckdb", root / "site_n", runs)
    return {"n": n, "results": {"core": {**found, "process_seconds": wall}, "site_n": site}, "machine": machine(),
            "when": dt.datetime.now().isoformat(timespec="seconds")}


def surveys(n: int, root: Path) -> dict:
    """``--surveys``: (a), (c) and (d) on the N returns alone and on the same N returns with the 240 survey sheets
    (調査票) of 福島県 and the 59 municipalities for FY2021–FY2024 beside them, back to back; (e) is left out."""
    from .generate import generate_surveys

    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    manifest = generate(n, root / "corpus")
    sheets = generate_surveys(root / "surveys")
    say(f"{n:,} return sheets ({manifest['rejects']} planned rejects) and {len(sheets['files'])} survey sheets "
        f"({sheets['rejects']} planned rejects)")
    mixed = root / "mixed" / "inbox"
    shutil.rmtree(mixed.parent, ignore_errors=True)
    for corpus in (root / "corpus" / "inbox", root / "surveys" / "inbox"):
        shutil.copytree(corpus, mixed, dirs_exist_ok=True, copy_function=os.link)  # the same files, hard-linked
    results: dict[str, dict] = {}
    for name in ("openpyxl", "naive", "core"):
        for corpus, source in (("returns", root / "corpus" / "inbox"), ("with_surveys", mixed)):
            say(f"Measuring {LABELS[name]} ({corpus})…")
            found, wall, one, total = variant(name, source, root / "work" / f"{name}-{corpus}")
            results[f"{name}_{corpus}"] = {**found, "process_seconds": wall, "peak_rss_bytes": one,
                                           "peak_rss_tree_bytes": total}
            say(f"  {found['seconds']:.2f} s")
    figures = {}
    for corpus in ("returns", "with_surveys"):
        a, c, d = (results[f"{name}_{corpus}"]["seconds"] for name in ("openpyxl", "naive", "core"))
        figures[corpus] = {"a": a, "c": c, "d": d, "d/a": d / a, "c/d": c / d}
    return {"n": n, "surveys": len(sheets["files"]), "results": results, "figures": figures, "machine": machine(),
            "when": dt.datetime.now().isoformat(timespec="seconds")}


def survey_lines(report: dict) -> list[str]:
    lines = [f"N = {report['n']:,} returns, and the same with {report['surveys']} survey sheets beside them:", "",
             "| corpus | files | (a) s | (c) s | (d) s | d/a | c/d |", "|---|---:|---:|---:|---:|---:|---:|"]
    for corpus, label in (("returns", "returns alone"), ("with_surveys", "returns + survey sheets")):
        f = report["figures"][corpus]
        core = report["results"][f"core_{corpus}"]
        files = core["accepted"] + core["rejected"] + core["duplicates_first"]
        lines.append(f"| {label} | {files:,} | {f['a']:.2f} | {f['c']:.2f} | {f['d']:.2f} | {f['d/a']:.3f} | "
                     f"{f['c/d']:.1f} |")
    return lines


FLOW_COST_SIZES = (1000, 3000)
FLOW_COST_GROWTH = 0.1  # seconds: what (e) − (d) may grow between the two sizes (issue 28)
FLOW_COST_FIGURES = (("e_minus_d", "wall"), ("e_minus_d_cpu", "CPU"),
                     ("e_minus_d_cpu_workers", "CPU with the parsing workers"))


def memory_folder() -> Path | None:
    """/dev/shm where it is a writable tmpfs (the runs' work folders go there), else None."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    shm = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts if len(line.split()) > 2)
    return Path("/dev/shm") if shm and os.access("/dev/shm", os.W_OK) else None


def flow_cost(sizes: tuple[int, ...], root: Path, repeats: int = 5) -> dict:
    """Prefect's cost over the core at two sizes (issue 28). Tasks are coarse, so (e) − (d) should not grow with
    N: its growth between the sizes, per file (the slope), is the figure a per-file regression shows in (a total
    at one size is mostly fixed cost). Runs against PREFECT_API_URL if set, else a `prefect server start` of its
    own (as the nightly runs talk to one), on a home kept in ``root``.

    Each round runs (d) and (e) at each size, each in a process of its own, (d) first in odd rounds and (e) first
    in even ones, so every (e) is paired with a (d) beside it and neither always follows the other; each figure
    is the median over the rounds, (e) − (d) the median of the rounds' differences. Beside the wall time, CPU
    time: of the measured process (all its threads, Prefect's among them), and with its parsing workers (and, in
    the flow, the fork server they start from). On a shared machine wall time also carries the other processes'
    noise; CPU time does not. (Every flow run used to wait 0–1 s at its end for Prefect's heartbeat thread, a
    sawtooth of the run's length that read as a slope; ``flows/heartbeat.py`` removed the wait.)

    The runs' folders are in memory (/dev/shm) where the machine has it: on this project's machines (ext4 without
    a journal) creating a file costs system time for every file deleted in the last minute or so, and the
    benchmark deletes the last round's folders between runs, so on disk a run's CPU depended on what ran before
    it, and grew with N (issue 28's remaining slope)."""
    from .server import local_server, migrated_prefect_home

    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    runs: dict[int, dict[str, list[dict]]] = {n: {"core": [], "prefect": []} for n in sizes}
    rejects = {n: generate(n, root / f"n{n}" / "corpus")["rejects"] for n in sizes}
    memory = memory_folder()
    work_root = Path(tempfile.mkdtemp(prefix="shinchoku-flow-cost-", dir=memory or root))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work_root, ignore_errors=True)
        api = os.environ.get("PREFECT_API_URL")
        if not api:
            say("Starting prefect server…")
            home = root / "prefect-home"
            api = stack.enter_context(local_server(home if (home / "prefect.db").exists() else migrated_prefect_home(home)))
        for round_ in range(repeats):
            for n in sizes:
                source = root / f"n{n}" / "corpus" / "inbox"
                order = (("core_runs", "core"), ("prefect", "prefect"))
                for name, key in order if round_ % 2 == 0 else order[::-1]:
                    work = work_root / f"n{n}-{key}"
                    found, _, one, total = measure([sys.executable, "-m", "bench.variants", name, str(source), str(work)],
                                                   env={"PREFECT_API_URL": api})
                    shutil.rmtree(work, ignore_errors=True)
                    runs[n][key].append({**found, "peak_rss_bytes": one, "peak_rss_tree_bytes": total})
                d, e = runs[n]["core"][-1], runs[n]["prefect"][-1]
                say(f"round {round_ + 1}/{repeats}, N = {n:,}: (d) {d['seconds']:.2f} s, (e) {e['seconds']:.2f} s "
                    f"(CPU {d['cpu_seconds']:.2f}, {e['cpu_seconds']:.2f}; with the workers "
                    f"{d['cpu_seconds'] + d['workers_cpu_seconds']:.2f}, {e['cpu_seconds'] + e['workers_cpu_seconds']:.2f})")
    results = {}
    for n in sizes:
        d, e = runs[n]["core"], runs[n]["prefect"]

        def difference(figure) -> float:
            return statistics.median(figure(b) - figure(a) for a, b in zip(d, e))

        def medians(rows: list[dict]) -> dict:
            return {"seconds": statistics.median(r["seconds"] for r in rows),
                    "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rows),
                    "workers_cpu_seconds": statistics.median(r["workers_cpu_seconds"] for r in rows), "runs": rows}

        results[n] = {
            "rejects": rejects[n], "core": medians(d), "prefect": medians(e),
            "e_minus_d": difference(lambda r: r["seconds"]),
            "e_minus_d_cpu": difference(lambda r: r["cpu_seconds"]),
            "e_minus_d_cpu_workers": difference(lambda r: r["cpu_seconds"] + r["workers_cpu_seconds"]),
        }
    return {"sizes": list(sizes), "repeats": repeats, "results": results, "machine": machine(),
            "prefect_api": os.environ.get("PREFECT_API_URL") or "prefect server start",
            "work_folder": str(memory) + " (tmpfs)" if memory else str(root) + " (disk)",
            "load_average": os.getloadavg(), "when": dt.datetime.now().isoformat(timespec="seconds")}


def flow_cost_lines(report: dict) -> list[str]:
    """(d), (e) and (e) − (d) at each size, wall and CPU, and the slope of (e) − (d) between the sizes."""
    rows = {int(n): row for n, row in report["results"].items()}
    lines = [f"Prefect's cost over the core: {report['repeats']} interleaved rounds against {report['prefect_api']}, "
             f"work folders in {report['work_folder']}. (d) and (e): medians of the rounds; (e) − (d): the median of "
             "the rounds' differences. CPU: the measured process, all its threads; \"with workers\": and its parsing "
             "workers.", "",
             "| N | (d) wall s | (e) wall s | (e) − (d) wall s | (d) CPU s | (e) CPU s | (e) − (d) CPU s "
             "| (e) − (d) CPU with workers s |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, row in sorted(rows.items()):
        d, e = row["core"], row["prefect"]
        lines.append(f"| {n:,} | {d['seconds']:.2f} | {e['seconds']:.2f} | {row['e_minus_d']:.2f} | "
                     f"{d['cpu_seconds']:.2f} | {e['cpu_seconds']:.2f} | {row['e_minus_d_cpu']:.2f} | "
                     f"{row['e_minus_d_cpu_workers']:.2f} |")
    small, large = min(rows), max(rows)
    lines += ["", f"Slope of (e) − (d) from N = {small:,} to {large:,} (a per-file cost shows here; "
                  f"{FLOW_COST_GROWTH} s of growth allowed):"]
    for key, what in FLOW_COST_FIGURES:
        growth = rows[large][key] - rows[small][key]
        verdict = "within" if growth <= FLOW_COST_GROWTH else "over"
        lines.append(f"  {what}: {growth:+.2f} s, {growth / (large - small) * 1000:+.3f} ms a file: {verdict}")
    return lines


def hostile_only(root: Path) -> int:
    """``--hostile-only``: the hostile section alone, printed and saved as bench/results/hostile.json."""
    sys.path.insert(0, str(ROOT))
    from shinchoku.catalogue import load_catalogue
    from shinchoku.documents.template import fill_template, write_template

    good = root / "check" / "clean.xlsx"
    good.parent.mkdir(parents=True, exist_ok=True)
    fill_template(write_template(load_catalogue(), "企画調整部", 2023, good), {"GOV-K01": 61.5, "REG-K01": 140})
    results = hostile(root / "hostile", good)
    print("\n".join(hostile_lines(results)))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hostile.json").write_text(json.dumps({"results": results, "machine": machine(), "when":
                                                      dt.datetime.now().isoformat(timespec="seconds")},
                                                     indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def ratios(report: dict) -> dict:
    r = report["results"]
    out = {
        "d/a": r["core"]["seconds"] / r["openpyxl"]["seconds"],
        "c/d": r["naive"]["seconds"] / r["core"]["seconds"],
        "f/d": r["duplicates"]["seconds"] / r["core"]["seconds"],
    }
    if "prefect" in r:
        out["(e-startup)/d"] = r["prefect"]["seconds"] / r["core"]["seconds"]
        out["e-startup-d seconds"] = r["prefect"]["seconds"] - r["core"]["seconds"]
    return out


def table(report: dict) -> str:
    n = report["n"]
    lines = [f"shinchoku benchmark, N = {n:,} workbooks ({report['machine']['cpus']} cores, "
             f"{report['machine']['memory_gb']} GB, Python {report['machine']['python']})", "",
             f"| {'variant':58} | wall s | files/s | peak RSS MB (largest / sum) |",
             f"|{'-' * 60}|-------:|--------:|----------------------------:|"]
    for key, label in LABELS.items():
        row = report["results"].get(key)
        if not row:
            continue
        seconds = row["seconds"]
        per_second = f"{n / seconds:,.0f}" if key not in ("check", "million", "report", "site", "site_n") \
            and not key.startswith("hostile") else "-"
        rss = f"{row['peak_rss_bytes'] / 2**20:,.0f} / {row['peak_rss_tree_bytes'] / 2**20:,.0f}"
        lines.append(f"| {label:58} | {seconds:6.2f} | {per_second:>7} | {rss:>27} |")
    r = report["results"]
    extras = [f"import time, ingest core: {r['core']['import_seconds']:.2f} s"]
    if "prefect" in r:
        extras.append(f"Prefect: import {r['prefect']['import_seconds']:.2f} s, server start-up "
                      f"{r['prefect']['startup_seconds']:.2f} s (both outside (e))")
    for key in ("site", "site_n"):
        if key in r:
            extras.append(f"{LABELS[key]}: {r[key]['pages']} pages, {r[key]['bytes'] / 2**20:.1f} MB")
    extras += hostile_lines(r)
    lines += ["", *extras, "", "ratios: " + ", ".join(f"{k} = {v:.3f}" for k, v in ratios(report).items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of workbooks (default 1000)")
    parser.add_argument("--dir", type=Path, help="working folder (default: a cache under the system temp dir)")
    parser.add_argument("--skip-prefect", action="store_true", help="leave out (e), for quick runs")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    parser.add_argument("--site-only", action="store_true",
                        help="only ingest the N returns and time the progress site on that warehouse")
    parser.add_argument("--surveys", action="store_true",
                        help="only (a), (c) and (d), on the N returns and with 240 survey sheets beside them")
    parser.add_argument("--flow-cost", action="store_true",
                        help="only (d) and (e) at 1,000 and 3,000 files (or --n and 3 × --n), 5 rounds, against a "
                             "prefect server of its own (or PREFECT_API_URL): whether Prefect's cost grows with the "
                             "number of files")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of (d) and (e) for --flow-cost (default 5)")
    parser.add_argument("--hostile-only", action="store_true",
                        help="only the hostile workbooks of issue 22: each refused alone, then all in one run")
    args = parser.parse_args(argv)
    if args.flow_cost:
        sizes = FLOW_COST_SIZES if args.n == 1000 else (args.n, 3 * args.n)
        report = flow_cost(sizes, args.dir or Path(tempfile.gettempdir()) / "shinchoku-bench-flow-cost", args.repeats)
        print("\n".join(flow_cost_lines(report)))
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "flow-cost.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        return 0
    root = args.dir or Path(tempfile.gettempdir()) / f"shinchoku-bench-{args.n}"
    if args.hostile_only:
        return hostile_only(root)
    if args.surveys:
        report = surveys(args.n, root)
        print("\n".join(survey_lines(report)))
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"surveys-n{args.n}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False),
                                                            encoding="utf-8")
        return 0
    if args.site_only:
        report = site_only(args.n, root)
        site = report["results"]["site_n"]
        print(f"N = {args.n:,}: ingest (d) {report['results']['core']['seconds']:.2f} s; shinchoku site "
              f"{site['seconds']:.2f} s (whole process), {site['pages']} pages, {site['bytes'] / 2**20:.1f} MB, "
              f"peak RSS {site['peak_rss_bytes'] / 2**20:.0f} MB")
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"site-n{args.n}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False),
                                                         encoding="utf-8")
        return 0
    report = run(args.n, root, args.skip_prefect)
    report["ratios"] = ratios(report)
    print(table(report))
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"bench-n{args.n}.json"
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nwritten: {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
