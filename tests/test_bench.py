"""A small-N smoke run of the benchmark, so its code cannot rot. It checks figures exist, not speeds."""

from __future__ import annotations

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


def test_the_flow_cost_is_reported_as_its_growth_between_two_sizes():
    """`python -m bench --flow-cost` (issue 28): (e) − (d) at each size, per file, and its growth, wall and CPU;
    the figures here are made up (the benchmark proper runs Prefect; its flow is tested in test_flow.py)."""
    from bench.__main__ import flow_cost_lines

    def row(d, e, d_cpu, e_cpu):
        return {"core": {"seconds": d, "cpu_seconds": d_cpu}, "prefect": {"seconds": e, "cpu_seconds": e_cpu},
                "e_minus_d": e - d, "e_minus_d_cpu": e_cpu - d_cpu}

    report = {"repeats": 3, "prefect_api": "ephemeral",
              "results": {"1000": row(1.0, 1.5, 0.8, 1.2), "3000": row(3.0, 3.55, 2.0, 2.6)}}
    text = "\n".join(flow_cost_lines(report))
    assert "| 1,000 | 1.00 | 1.50 | 0.50 | 0.500 | 0.40 |" in text
    assert "(e) − (d), wall: grew by +0.05 s from N = 1,000 to 3,000 (+0.025 ms a file): within the 0.1 s allowed" in text
    assert "(e) − (d), CPU: grew by +0.20 s" in text and "over the 0.1 s allowed" in text
