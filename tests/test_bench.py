"""A small-N smoke run of the benchmark, so its code cannot rot. It checks figures exist, not speeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import LABELS, ratios, run, table


def test_benchmark_smoke_run(tmp_path):
    # Prefect's own cost is measured by the benchmark proper; its flow is tested in test_flow.py.
    report = run(12, tmp_path, skip_prefect=True, check_runs=1, million=10_000, demo=False)
    results = report["results"]
    # without the demo, "site" is the N returns' site; the hostile workbooks are tests/test_hostile.py's
    assert set(results) == set(LABELS) - {"prefect", "site_n"} - {k for k in LABELS if k.startswith("hostile")}
    for name, row in results.items():
        assert row["seconds"] > 0, name
        assert row["peak_rss_bytes"] > 0 and row["peak_rss_tree_bytes"] >= row["peak_rss_bytes"], name
    core = results["core"]
    assert core["accepted"] + core["rejected"] == 12 and core["rejected"] >= 1  # at least one planned reject
    assert results["duplicates"]["all_duplicates"]
    assert results["naive"]["accepted"] + results["naive"]["rejected"] == 12
    assert results["openpyxl"]["rows"] > 0 and results["calamine"]["rows"] > 0
    assert set(ratios(report)) >= {"d/a", "c/d", "f/d"}
    assert results["report"]["seconds"] > 0 and (tmp_path / "report.xlsx").stat().st_size > 0
    assert results["million"]["seconds"] > 0  # refused by the row limit: 10,000 rows are over 5,000
    assert results["site"]["pages"] > 10 and results["site"]["bytes"] > 4 * 2**20  # Plotly's JavaScript alone is 4.6 MB
    text = table(report)
    assert "(d) shinchoku ingest core" in text and "ratios:" in text


def test_the_flow_cost_is_reported_as_its_slope_between_two_sizes():
    """`python -m bench --flow-cost` (issue 28): (d), (e) and (e) − (d) at each size, wall and CPU, and the slope of
    (e) − (d); the figures here are made up (the benchmark proper runs Prefect; its flow is tested in test_flow.py)."""
    from bench.__main__ import flow_cost_lines

    def row(d, e, d_cpu, e_cpu, workers):
        return {"core": {"seconds": d, "cpu_seconds": d_cpu}, "prefect": {"seconds": e, "cpu_seconds": e_cpu},
                "e_minus_d": e - d, "e_minus_d_cpu": e_cpu - d_cpu, "e_minus_d_cpu_workers": e_cpu - d_cpu + workers}

    report = {"repeats": 5, "prefect_api": "prefect server start", "work_folder": "/dev/shm (tmpfs)",
              "results": {"1000": row(1.0, 1.5, 0.8, 1.2, 0.1), "3000": row(3.0, 3.55, 2.0, 2.6, -0.1)}}
    text = "\n".join(flow_cost_lines(report))
    assert "5 interleaved rounds against prefect server start, work folders in /dev/shm (tmpfs)" in text
    assert "| 1,000 | 1.00 | 1.50 | 0.50 | 0.80 | 1.20 | 0.40 | 0.50 |" in text
    assert "| 3,000 | 3.00 | 3.55 | 0.55 | 2.00 | 2.60 | 0.60 | 0.50 |" in text
    assert "  wall: +0.05 s, +0.025 ms a file: within" in text
    assert "  CPU: +0.20 s, +0.100 ms a file: over" in text
    assert "  CPU with the parsing workers: +0.00 s, +0.000 ms a file: within" in text


def test_the_flow_cost_pairs_interleaved_rounds_run_in_memory(tmp_path, monkeypatch):
    """--flow-cost's rounds, with the runs' figures made up (no process is started): (d) and (e) take turns to run
    first, each run's folder is in memory where the machine has /dev/shm (on this project's disks a run's CPU
    depended on the files deleted before it), the runs talk to PREFECT_API_URL's server, and (e) − (d) is the
    median of the rounds' paired differences, not the difference of the medians."""
    import bench.__main__ as bench

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setattr(bench, "generate", lambda n, folder: {"rejects": n // 20})
    # per round: (d) wall, (e) wall; (e) − (d) is 1.0, 6.0, 1.1: the median 1.1, the medians' difference 1.1 too
    # at 10; at 30 the differences 0.5, 0.7, 3.0 (median 0.7) and the medians 2.0 and 3.0 (difference 1.0)
    walls = {10: [(1.0, 2.0), (2.0, 8.0), (1.5, 2.6)], 30: [(2.0, 2.5), (3.0, 3.7), (1.0, 4.0)]}
    calls = []

    def measure(argv, env=None):
        name, source, work = argv[3], Path(argv[4]), Path(argv[5])
        n = int(source.parent.parent.name[1:])
        calls.append((name, n, work, env))
        done = sum(1 for c in calls if c[:2] == (name, n)) - 1
        seconds = walls[n][done][name == "prefect"]
        return {"seconds": seconds, "cpu_seconds": seconds / 2, "workers_cpu_seconds": 1.0}, 0.0, 1, 2

    monkeypatch.setattr(bench, "measure", measure)
    report = bench.flow_cost((10, 30), tmp_path, repeats=3)
    assert [name for name, n, _, _ in calls if n == 10] == ["core_runs", "prefect", "prefect", "core_runs",
                                                            "core_runs", "prefect"]
    memory = bench.memory_folder()
    assert all(work.is_relative_to(memory or tmp_path) and not work.exists() for _, _, work, _ in calls)
    assert all(env == {"PREFECT_API_URL": "http://127.0.0.1:9/api"} for *_, env in calls)
    ten, thirty = report["results"][10], report["results"][30]
    assert (ten["core"]["seconds"], ten["prefect"]["seconds"], ten["e_minus_d"]) == (1.5, 2.6, pytest.approx(1.1))
    assert thirty["e_minus_d"] == pytest.approx(0.7) and thirty["e_minus_d_cpu"] == pytest.approx(0.35)
    assert thirty["e_minus_d_cpu_workers"] == pytest.approx(0.35)
