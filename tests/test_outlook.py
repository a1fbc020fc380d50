"""見通し (kpi_outlook): the least-squares line through baseline and actuals, from return sheets through the ingest."""

from __future__ import annotations

import dataclasses

import pytest

from helpers import query, query_many
from shinchoku.settings import load_settings
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_template, write_template
from shinchoku.workbook.parse import era_year

COLUMNS = ("latest_fy, points, round(trend_per_year, 3), round(projected_at_target, 3), projected_reach_fy, "
           "round(required_per_year, 3), round(pace_ratio, 3), outlook, includes_provisional")

# (KPI, department, {fiscal year: value as typed}) for each case; every value goes through a return sheet.
RETURNS = {
    # the README's worked example, a decrease KPI: 40 (FY2020) -> 12 (FY2025)
    "GOV-K02": ("総務部", {2021: 35, 2022: 30}),
    # an increase KPI on track: 48.2 (FY2021) -> 80.0 (FY2025), the latest value provisional
    "GOV-K01": ("企画調整部", {2022: 56.2, 2023: "64.2(速報)"}),
    # already reached: 2 (FY2021) -> 8 (FY2025), first in FY2023
    "IND-K01": ("商工労働部", {2022: 5, 2023: 9, 2024: 10}),
    # moving away from its target: 121 (FY2021) -> 160 (FY2025)
    "REG-K01": ("企画調整部", {2022: 118, 2023: 112}),
    # far too slow: 172 (FY2020) -> 391 (FY2025)
    "HLT-K01": ("保健福祉部", {2021: 180, 2022: 190}),
    # flat: 10,000 (FY2021) -> 100,000 (FY2025)
    "SAF-K02": ("生活環境部", {2022: 10000, 2023: 10000}),
    # the target year has passed, not reached: 65.3 (FY2020) -> 85 (FY2025)
    "EDU-K01": ("教育庁", {2021: 70, 2025: 80}),
    # unknown baseline (the portal's PV)
    "REC-K01": ("避難地域復興局", {2022: 98.4, 2023: 112.7}),
    # SAF-K01 gets no return: its baseline is its only point
}


def write_returns(catalogue, folder, inbox):
    """One return per department and year, filled as a department would, into the inbox."""
    by_file: dict[tuple[str, int], dict] = {}
    for kpi_id, (department, values) in RETURNS.items():
        for year, value in values.items():
            by_file.setdefault((department, year), {})[kpi_id] = value
    for (department, year), values in by_file.items():
        path = write_template(catalogue, department, year, folder / f"{department}_{year}.xlsx")
        fill_template(path, values, out=inbox / department / f"{era_year(year)}_{department}.xlsx")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, catalogue):
    base = tmp_path_factory.mktemp("outlook")
    settings = load_settings(inbox=base / "inbox", warehouse=base / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, config_file=base / "none.toml", site_build=False, env={})
    write_returns(catalogue, base / "templates", settings.inbox)
    summary = run_ingest(settings, catalogue)
    assert summary.count("accepted") == len(summary.decisions) == 15
    return settings.warehouse


def outlook(warehouse, kpi_id):
    return query(warehouse, f"select {COLUMNS} from kpi_outlook where kpi_id = ?", [kpi_id])[0]


def test_the_worked_example_copy_paper(warehouse):
    """40 (FY2020), 35, 30 -> target 12 in FY2025: trend -5, 15.0 at FY2025, reached in FY2026, 要加速."""
    assert outlook(warehouse, "GOV-K02") == (2022, 3, -5.0, 15.0, 2026, -6.0, 0.833, "要加速", False)


def test_an_increase_kpi_on_track_with_a_provisional_point(warehouse):
    # (0, 48.2), (1, 56.2), (2, 64.2): +8.0 a year, 80.2 at FY2025; (80 - 64.2) / 2 = 7.9 needed
    assert outlook(warehouse, "GOV-K01") == (2023, 3, 8.0, 80.2, 2025, 7.9, 1.013, "達成見込み", True)


def test_a_reached_target_reports_the_year_it_was_first_reached(warehouse):
    row = outlook(warehouse, "IND-K01")
    assert (row[0], row[1], row[4], row[5], row[6], row[7]) == (2024, 4, 2023, None, None, "目標達成")
    [(status,)] = query(warehouse, "select status from kpi_latest where kpi_id = 'IND-K01'")
    assert status == "目標達成"  # kpi_latest's word for it


def test_a_kpi_moving_away_from_its_target(warehouse):
    # (0, 121), (1, 118), (2, 112): slope -4.5; the line never reaches 160
    assert outlook(warehouse, "REG-K01") == (2023, 3, -4.5, 103.5, None, None, None, "悪化", False)


def test_far_too_slow_and_flat_are_both_hard(warehouse):
    # (0, 172), (1, 180), (2, 190): +9 a year against (391 - 190) / 3 = 67 needed
    assert outlook(warehouse, "HLT-K01") == (2022, 3, 9.0, 216.667, None, 67.0, 0.134, "達成困難", False)
    # a flat trend is 達成困難, not 悪化
    assert outlook(warehouse, "SAF-K02") == (2023, 3, 0.0, 10000.0, None, 45000.0, 0.0, "達成困難", False)


def test_a_passed_target_year_not_reached(warehouse):
    row = outlook(warehouse, "EDU-K01")
    assert (row[0], row[1], row[5], row[6], row[7]) == (2025, 3, None, None, "未達成")


def test_a_baseline_alone_or_an_unknown_baseline_cannot_be_assessed(warehouse):
    assert outlook(warehouse, "SAF-K01") == (None, 1, None, None, None, None, None, "評価不能", False)
    row = outlook(warehouse, "REC-K01")
    assert (row[3], row[4], row[7]) == (None, None, "評価不能")
    row = outlook(warehouse, "HLT-K02")  # no target year, no actual
    assert row[7] == "評価不能"


def test_every_kpi_has_one_outlook_in_the_vocabulary(warehouse):
    got = query_many(warehouse, {
        "kpis": "select count(*) from kpis",
        "rows": "select count(*), count(distinct kpi_id) from kpi_outlook",
        "unknown": "select outlook from kpi_outlook except select outlook from outlooks",
    })
    assert got["rows"] == [(got["kpis"][0][0], got["kpis"][0][0])]
    assert got["unknown"] == []


def test_a_past_report_year_sees_only_the_points_up_to_it(warehouse):
    """kpi_year_outlook (the report's): FY2021 of copy paper has two points, 40 and 35."""
    [row] = query(warehouse, "select latest_fy, points, round(trend_per_year, 3), outlook from kpi_year_outlook "
                             "where report_fy = 2021 and kpi_id = 'GOV-K02'")
    # (0, 40), (1, 35): -5 a year; (12 - 35) / 4 = -5.75 needed: 0.870 -> 要加速
    assert row == (2021, 2, -5.0, "要加速")


def test_the_thresholds_are_configuration(tmp_path, catalogue):
    """[outlook] on_track = 0.8: the worked example's 0.833 becomes 達成見込み."""
    settings = load_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, config_file=tmp_path / "none.toml", site_build=False, env={})
    settings = dataclasses.replace(settings, outlook_on_track=0.8, outlook_accelerate=0.5)
    path = write_template(catalogue, "総務部", 2022, tmp_path / "t.xlsx")
    fill_template(path, {"GOV-K02": 30}, out=settings.inbox / "総務部" / "R4.xlsx")
    path = write_template(catalogue, "総務部", 2021, tmp_path / "t.xlsx")
    fill_template(path, {"GOV-K02": 35}, out=settings.inbox / "総務部" / "R3.xlsx")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "outlook": "select round(pace_ratio, 3), outlook from kpi_outlook where kpi_id = 'GOV-K02'",
        "bounds": "select outlook, min_pace_ratio from outlooks where min_pace_ratio is not null order by 2 desc",
    })
    assert got["outlook"] == [(0.833, "達成見込み")]
    assert got["bounds"] == [("達成見込み", 0.8), ("要加速", 0.5)]


def test_the_thresholds_come_from_the_file_and_the_environment(tmp_path):
    config = tmp_path / "shinchoku.toml"
    config.write_text("[outlook]\non_track = 0.9\naccelerate = 0.5\n", encoding="utf-8")
    from_file = load_settings(config_file=config, env={})
    assert (from_file.outlook_on_track, from_file.outlook_accelerate) == (0.9, 0.5)
    from_env = load_settings(config_file=config, env={"SHINCHOKU_OUTLOOK_ACCELERATE": "0.7"})
    assert (from_env.outlook_on_track, from_env.outlook_accelerate) == (0.9, 0.7)
