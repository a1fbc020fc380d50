"""What `shinchoku demo` shows: its sample returns, ingested (without Prefect, as the benchmark does)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from conftest import query, query_many
from shinchoku.config import load_settings
from shinchoku.demo import CONFIRMED_YEARS, UNEXPLAINED, confirm_past_years, write_demo_inbox
from shinchoku.ingest import run_ingest
from shinchoku.report import build_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory, catalogue):
    base = tmp_path_factory.mktemp("demo")
    settings = load_settings(inbox=base / "inbox", warehouse=base / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, config_file=base / "none.toml", env={})
    write_demo_inbox(catalogue, settings.inbox)
    summary = run_ingest(settings, catalogue)
    assert summary.count("rejected") == 1  # the deliberately broken sample
    confirm_past_years(settings)  # as `shinchoku demo` does after its run
    return settings.warehouse


def test_the_demo_has_confirmed_years_and_one_under_review(demo):
    got = query(demo, "select fiscal_year, min(value_status), max(value_status) from kpi_progress group by 1 order by 1")
    assert got == [(y, "確定", "確定") for y in CONFIRMED_YEARS] + [(CONFIRMED_YEARS[-1] + 1, "未確定", "未確定")]


def test_the_demo_shows_each_kind_of_outlook(demo):
    outlooks = {r[0] for r in query(demo, "select outlook from kpi_outlook")}
    assert outlooks & {"目標達成", "達成見込み"}
    assert outlooks & {"要加速", "達成困難"}
    assert "評価不能" in outlooks


def test_the_demo_explains_every_kpi_behind_but_one(demo):
    got = query_many(demo, {
        "warned": "select kpi_id, s.declared_fiscal_year from data_quality d join submissions s using (submission_id) "
                  "where code = 'explanation_missing'",
        "unexplained": """
            select p.kpi_id, p.fiscal_year from kpi_progress p
            left join kpi_explanations e on e.kpi_id = p.kpi_id and e.fiscal_year = p.fiscal_year and e.valid_to is null
            where p.grade in ('C', 'D') and e.factor_analysis is null order by 1, 2""",
        "behind": "select count(*) from kpi_progress where grade in ('C', 'D')",
    })
    assert got["warned"] == [UNEXPLAINED] == got["unexplained"]
    assert got["behind"][0][0] >= 5  # the demo has KPIs behind to explain


def test_the_demo_reports_explanations_in_the_evaluation_sheet(demo, tmp_path):
    ws = load_workbook(build_report(demo, tmp_path / "r.xlsx"))["評価シート"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    care = rows["介護ロボットやICT機器の導入施設数"]
    assert care[6] == "C" and care[9] and care[10]
    talks = rows["出前講座等を通じ防災に関し啓発を行った人数"]  # UNEXPLAINED: the warning's row
    assert talks[6] == "D" and talks[9] is None
