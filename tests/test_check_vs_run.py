"""check and run, run as users run them, agree file by file over the whole corpus."""

from __future__ import annotations

import contextlib
import io

import pytest
from openpyxl import load_workbook

from helpers import migrated_prefect_home, query, run_cli
from corpus import CASES, write_case
from shinchoku.cli import main


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """Write the corpus and a CLI-made template into an inbox, check every file, then run once."""
    root = tmp_path_factory.mktemp("users")
    inbox, warehouse = root / "inbox", root / "warehouse" / "shinchoku.duckdb"
    files = {}
    for case in CASES:
        files[case.name] = write_case(case, inbox / case.department / f"{case.name}.xlsx")

    # The path a real department takes: shinchoku template -> fill in with openpyxl -> drop into its folder.
    # (template and check run as main() runs them, in this process; `run` below is a real process)
    made = inbox / "農林水産部" / "R5_実績報告_農林水産部.xlsx"
    assert main(["template", "--department", "農林水産部", "--year", "R5", "-o", str(made)]) == 0
    wb = load_workbook(made)
    ws = wb["実績報告"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "IND-K02")
    ws.cell(row=row, column=5).value = 702
    wb.save(made)
    files["template"] = made

    # One check of every file, as a department checks a folder: a verdict line per file.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["check", "--quiet", *map(str, files.values())]) == 1  # the corpus has rejects
    checks = {}
    for line in out.getvalue().splitlines():
        if line.startswith(("OK ", "NG ")):
            path = line[3:].rsplit("(部局", 1)[0].rsplit("(団体", 1)[0]
            checks[path.rsplit("/", 1)[1]] = "accepted" if line.startswith("OK") else "rejected"
    assert len(checks) == len(files)
    # the local server a real `shinchoku run` starts for itself, on a home whose database is already migrated
    home = migrated_prefect_home(root / "prefect-home")
    ran = run_cli("run", "--inbox", str(inbox), "--warehouse", str(warehouse), "--settle-seconds", "0",
                  env={"PREFECT_HOME": str(home)})
    return checks, ran, warehouse


def test_run_exit_status_and_clean_output(corpus_run):
    _, ran, _ = corpus_run
    assert ran.returncode == 1, ran.stderr  # the corpus has rejects
    assert "Traceback" not in ran.stderr + ran.stdout
    assert "差戻し" in ran.stdout


def test_check_passes_iff_run_accepts(corpus_run):
    checks, _, warehouse = corpus_run
    ran = dict(query(warehouse, "select file_name, status from submissions"))
    assert ran == checks
    expected = {f"{c.name}.xlsx": ("accepted" if c.accepted else "rejected") for c in CASES}
    expected["R5_実績報告_農林水産部.xlsx"] = "accepted"
    assert ran == expected


def test_run_reads_the_corpus_values(corpus_run):
    _, _, warehouse = corpus_run
    got = query(warehouse, "select s.file_name, h.kpi_id, h.fiscal_year, cast(h.as_of as varchar), h.actual_value "
                           "from observation_history h join submissions s using (submission_id)")
    got += query(warehouse, "select s.file_name, c.kpi_id || '/' || c.component_id, c.fiscal_year, cast(c.as_of as varchar), "
                            "c.count from raw_component_counts c join submissions s using (submission_id)")
    by_file = {}
    for file_name, kpi, fy, as_of, value in got:
        by_file.setdefault(file_name, {})[(kpi, fy, as_of)] = value
    for case in CASES:
        if case.accepted:
            assert by_file.get(f"{case.name}.xlsx", {}) == pytest.approx(case.values), case.name


def test_run_records_codes_at_cells(corpus_run):
    _, _, warehouse = corpus_run
    got = query(warehouse, "select s.file_name, i.code, i.cell from validation_issues i join submissions s "
                           "using (submission_id) where i.severity = 'error'")
    for case in CASES:
        if not case.accepted:
            assert {(code, cell) for f, code, cell in got if f == f"{case.name}.xlsx"} == case.errors, case.name


def test_template_values_reach_kpi_progress(corpus_run):
    _, _, warehouse = corpus_run
    assert query(warehouse, "select actual_value, round(pace_rate, 3) from kpi_progress "
                            "where kpi_id = 'IND-K02' and fiscal_year = 2023") == [(702.0, round((702 - 525) / (525 + 285 * 3 / 5 - 525), 3))]
