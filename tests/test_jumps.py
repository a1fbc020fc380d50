"""value_jump: a value ten times (or a tenth of) its unit's last accepted year is warned, with the factor, by run and
check alike; 0 on either side has no factor."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io

import duckdb
import pytest

from helpers import drop
from shinchoku.cli import main
from shinchoku.documents.template import fill_template
from shinchoku.run import warehouse as wh
from shinchoku.run.jumps import jump_factor, value_history, warn_jumps
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.assess import Assessment
from shinchoku.workbook.reader import WorkbookRead

DEPT = "企画調整部"  # reports GOV-K01 (%) and REG-K01 (人)


def cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def jumps(issues) -> list[tuple[str, str, str]]:
    return sorted((i.kpi_id, i.cell, i.message) for i in issues if i.code == "value_jump")


def run_year(settings, catalogue, template, tmp_path, year, values):
    path = fill_template(template(DEPT, year), values, out=tmp_path / f"{year}.xlsx")
    drop(settings, path, DEPT, f"R{year - 2018}.xlsx")
    summary = run_ingest(settings, catalogue)
    [decision] = summary.decisions
    assert decision.status == "accepted", decision.issues
    return path, decision


@pytest.fixture
def two_years(settings, catalogue, template, tmp_path):
    """R4 accepted (GOV-K01 0%, REG-K01 128人), then R5: 0 → 5 and ×9, neither a jump."""
    run_year(settings, catalogue, template, tmp_path, 2022, {"GOV-K01": 0, "REG-K01": 128})
    _, decision = run_year(settings, catalogue, template, tmp_path, 2023, {"GOV-K01": 5, "REG-K01": 1152})
    return decision


def test_zero_to_positive_and_nine_times_are_not_jumps(two_years):
    assert jumps(two_years.issues) == []


def test_a_thousandfold_jump_is_warned_by_run_and_check_alike(two_years, settings, catalogue, template, tmp_path):
    """R6's REG-K01 1,152,000 against R5's 1,152 (×1000), GOV-K01 50% against 5% (×10 exactly): warned with the
    factor and the earlier year's value; accepted all the same. check with --warehouse says the same, reading only."""
    path = fill_template(template(DEPT, 2024), {"GOV-K01": 50, "REG-K01": 1152000}, out=tmp_path / "2024.xlsx")
    before = hashlib.sha256(settings.warehouse.read_bytes()).hexdigest()
    code, out = cli("check", "--quiet", str(path), "--department", DEPT, "--warehouse", str(settings.warehouse))
    assert code == 0 and out.startswith("OK "), out
    assert hashlib.sha256(settings.warehouse.read_bytes()).hexdigest() == before

    drop(settings, path, DEPT, "R6.xlsx")
    [decision] = run_ingest(settings, catalogue).decisions
    assert decision.status == "accepted"
    found = jumps(decision.issues)
    assert [(kpi, message) for kpi, _, message in found] == [
        ("GOV-K01", "記入された値 50 は、R5年度の値 5% の約10倍です。"),
        ("REG-K01", "記入された値 1152000 は、R5年度の値 1,152人 の約1,000倍です。"),
    ]
    assert all(cell.startswith("E") for _, cell, _ in found)  # the 実績値 cell
    for kpi, cell, message in found:  # check's lines: [警告] path: 実績報告!E7: message → fix
        assert f"[警告] {path}: 実績報告!{cell}: {message}" in out, out
    stored = {(kpi, cell) for kpi, cell in
              duckdb.connect(str(settings.warehouse), read_only=True).execute(
                  "select kpi_id, cell from raw_validation_issues where code = 'value_jump'").fetchall()}
    assert stored == {(kpi, cell) for kpi, cell, _ in found}


def test_check_without_a_warehouse_has_no_history(template, tmp_path, monkeypatch):
    monkeypatch.setenv("SHINCHOKU_WAREHOUSE", str(tmp_path / "none" / "shinchoku.duckdb"))
    path = fill_template(template(DEPT, 2024), {"REG-K01": 1152000}, out=tmp_path / "2024.xlsx")
    code, out = cli("check", "--quiet", str(path), "--department", DEPT)
    assert code == 0 and out.startswith("OK ") and "倍です" not in out, out
    assert not (tmp_path / "none").exists()


def test_an_earlier_year_in_the_same_workbook_is_compared(workbook, tmp_path, monkeypatch):
    """No warehouse: R4's row of the same workbook is the earlier year (a ×1/1000 drop, 千人 for 人)."""
    monkeypatch.setenv("SHINCHOKU_WAREHOUSE", str(tmp_path / "none" / "shinchoku.duckdb"))
    path = workbook(tmp_path / DEPT / "two_years.xlsx", [
        ("REG-K01", "課題解決プロジェクト参加者数", "人", "R4", 1280, None, None),
        ("REG-K01", "課題解決プロジェクト参加者数", "人", "R5", 1.3, None, None),
    ], department=DEPT, year=2023)
    code, out = cli("check", "--quiet", str(path), "--department", DEPT)
    assert code == 0, out
    assert "記入された値 1.3 は、R4年度の値 1,280人 の約985分の1です。" in out, out


@pytest.mark.parametrize(("new", "old", "expected"), [
    (1000.0, 1.0, (1000, True)), (1.0, 1000.0, (1000, False)), (3.0, 0.3, (10, True)), (0.7, 7.0, (10, False)),
    (9.0, 1.0, None), (5.0, 0.0, None), (0.0, 5.0, None), (0.0, 0.0, None), (-50.0, 5.0, None),
])
def test_the_factor_is_exact_and_zero_has_none(new, old, expected):
    got = jump_factor(new, old)
    assert (got if got is None else (got[0], got[1])) == expected


def component(lg, kpi, comp, year, value, cell, as_of=None):
    return {"table": "component", "item_id": kpi, "component_id": comp, "local_government": lg, "fiscal_year": year,
            "actual_value": value, "source_cell": cell, "row0": int(cell[1:]) - 1, "shown": f"{value:g}",
            "as_of": as_of or dt.date(year + 1, 3, 31)}


def test_a_local_governments_counts_are_compared_with_their_own_last_year():
    history = {("component", "072010", "GOV-K01", "online"): {2021: 1200.0, 2022: 1234.0},
               ("component", "072010", "GOV-K01", "total"): {2022: 0.0},
               ("component", "072028", "GOV-K01", "online"): {2022: 1.234}}
    assessment = Assessment(None, None, WorkbookRead(), records=[
        component("072010", "GOV-K01", "online", 2023, 1.234, "F5"),  # 件 typed as 千件: ×1/1000
        component("072010", "GOV-K01", "total", 2023, 5.0, "F6"),  # 0 → 5: an evacuated town returning
        component("072028", "GOV-K01", "online", 2023, 1234.0, "F7"),  # another town's history: ×1000
        component("072036", "GOV-K01", "online", 2023, 99999.0, "F8"),  # no history at all
    ])
    warn_jumps(assessment, history, {("component", "GOV-K01", "online"): "件", ("kpi", "GOV-K01"): "%"})
    assert [(i.sheet, i.cell, i.kpi_id, i.message) for i in assessment.issues] == [
        ("調査票", "F5", "GOV-K01", "記入された値 1.234 は、R4年度の値 1,234件 の約1,000分の1です。"),
        ("調査票", "F7", "GOV-K01", "記入された値 1234 は、R4年度の値 1.234件 の約1,000倍です。"),
    ]
    assert all(i.severity == "warning" for i in assessment.issues)


def test_the_history_is_the_last_accepted_version_of_each_year():
    """Per unit and year: the latest accepted submission's value at the year's latest 時点; rejected ones never."""
    con = duckdb.connect()
    wh.ensure_schema(con)
    for sid, status in ((1, "accepted"), (2, "accepted"), (3, "rejected")):
        con.execute("insert into raw_submissions (submission_id, sha256, status) values (?, ?, ?)",
                    [sid, "x", status])
    con.executemany("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) "
                    "values (?, ?, ?, ?, ?)", [
                        (1, "REG-K01", 2022, dt.date(2023, 3, 31), 100.0),
                        (2, "REG-K01", 2022, dt.date(2023, 3, 31), 128.0),  # resubmitted
                        (1, "REG-K01", 2023, dt.date(2024, 3, 31), 150.0),
                        (2, "REG-K01", 2023, dt.date(2024, 2, 29), 140.0),  # an earlier 時点, received later
                        (3, "REG-K01", 2023, dt.date(2024, 3, 31), 150000.0)])  # rejected
    con.executemany("insert into raw_component_counts (submission_id, local_government, kpi_id, component_id, "
                    "fiscal_year, as_of, count) values (?, ?, ?, ?, ?, ?, ?)", [
                        (1, "072010", "GOV-K01", "online", 2022, dt.date(2023, 3, 31), 10.0),
                        (2, "072010", "GOV-K01", "online", 2022, dt.date(2023, 3, 31), 12.0),
                        (3, "072010", "GOV-K01", "online", 2023, dt.date(2024, 3, 31), 12000.0),  # rejected
                        (1, "072010", "GOV-K01", "online", 2023, dt.date(2024, 3, 31), 20.0),
                        (2, "072010", "GOV-K01", "online", 2023, dt.date(2024, 2, 29), 18.0)])  # as for KPIs
    assert value_history(con) == {("kpi", "REG-K01"): {2022: 128.0, 2023: 150.0},
                                  ("component", "072010", "GOV-K01", "online"): {2022: 12.0, 2023: 20.0}}
