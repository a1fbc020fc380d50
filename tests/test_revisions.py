"""The plan changes: revisions in force per fiscal year, new and retired KPIs, reorganised departments.

Each test writes its own catalogue (the project's, plus rows), then goes the normal way: templates,
filled returns in the inbox, one ingest, the views.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os

import pytest
from openpyxl import load_workbook

from helpers import SOURCE, drop, make_catalogue, query, query_many, reorganised_catalogue
from shinchoku.catalogue import CatalogueError, load_catalogue
from shinchoku.cli import main
from shinchoku.settings import load_settings
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.layout import HEADER_ROW, SHEET
from shinchoku.workbook.parse import era_year
from shinchoku.documents.template import fill_outcomes, fill_template, write_template

@pytest.fixture(autouse=True)
def _project_restored():
    """main(--project) sets SHINCHOKU_PROJECT for its whole process; put it back for the next test."""
    before = os.environ.get("SHINCHOKU_PROJECT")
    yield
    if before is None:
        os.environ.pop("SHINCHOKU_PROJECT", None)
    else:
        os.environ["SHINCHOKU_PROJECT"] = before


REVISION = "R5-03"


def settings_in(tmp_path):
    return load_settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "warehouse" / "shinchoku.duckdb",
                         settle_seconds=0, config_file=tmp_path / "none.toml", site_build=False, env={})


def submit(catalogue, settings, tmp_path, department, year, values, folder=None, name=None):
    """A filled return for (department, year) dropped into the inbox folder (the department's, or ``folder``)."""
    path = fill_template(write_template(catalogue, department, year, tmp_path / "t" / f"{department}{year}.xlsx"), values)
    return drop(settings, path, folder or department, name or f"{era_year(year)}_{department}.xlsx")


def relabelled(catalogue, settings, tmp_path, department, year, values, row, label, name, folder=None):
    """A return for one year with one row's 年度 retyped (as a department reusing last year's sheet would)."""
    path = write_template(catalogue, department, year, tmp_path / "relabel" / name)
    wb = load_workbook(fill_template(path, values))
    wb[SHEET].cell(row=HEADER_ROW + row, column=4).value = label
    target = settings.inbox / (folder or department) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return wb


def rows_of(path):
    ws = load_workbook(path)[SHEET]
    return [ws.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, ws.max_row + 1)]


def test_an_empty_revisions_file_leaves_the_seed_as_it_is(catalogue):
    assert catalogue.revisions == ()
    assert all(len(catalogue.versions_by_id[k.kpi_id]) == 1 for k in catalogue.kpis)
    [paper] = [k for k in catalogue.kpis if k.kpi_id == "GOV-K02"]
    assert (paper.baseline_value, paper.baseline_fy, paper.target_value, paper.target_fy) == (40, 2020, 12, 2025)


def test_a_target_raised_from_fy2024_leaves_fy2023_alone(tmp_path):
    catalogue = load_catalogue(make_catalogue(tmp_path, [
        {"revision_id": REVISION, "item_id": "GOV-K01", "field": "target_value", "new_value": "90.0",
         "effective_fy": 2024, "reason": "国の目標引上げに合わせる"}]))
    settings = settings_in(tmp_path)
    submit(catalogue, settings, tmp_path, "企画調整部", 2023, {"GOV-K01": 64.0})
    submit(catalogue, settings, tmp_path, "企画調整部", 2024, {"GOV-K01": 72.0})
    assert run_ingest(settings, catalogue).exit_code == 0
    got = query_many(settings.warehouse, {
        "progress": "select fiscal_year, round(expected_value, 3), round(pace_rate, 3), grade, target_value_in_force, "
                    "target_fy_in_force, baseline_value_in_force from kpi_progress where kpi_id = 'GOV-K01' order by 1",
        "definitions": "select valid_from_fy, valid_to_fy, target_value, target_decimals, revision_id, reason, source "
                       "from kpi_definitions where kpi_id = 'GOV-K01' order by 1",
        "kpis": "select target_value, target_fy, introduced_fy, retired_fy from kpis where kpi_id = 'GOV-K01'",
        "trajectory": "select fiscal_year, round(expected_value, 3) from kpi_trajectory "
                      "where kpi_id = 'GOV-K01' and fiscal_year in (2023, 2024) order by 1",
        "log": "select revision_id, item_id, field, new_value, effective_fy, cast(decided_on as varchar) from kpi_revisions",
    })
    # FY2023 against 80.0: expected 48.2 + 31.8 * 2/4 = 64.1, pace 15.8 / 15.9 = 0.994 -> B (as without the revision)
    # FY2024 against 90.0: expected 48.2 + 41.8 * 3/4 = 79.55, pace 23.8 / 31.35 = 0.759 -> C
    assert got["progress"] == [(2023, 64.1, 0.994, "B", 80.0, 2025, 48.2), (2024, 79.55, 0.759, "C", 90.0, 2025, 48.2)]
    assert got["definitions"] == [(2020, 2023, 80.0, 1, None, None, None),
                                  (2024, None, 90.0, 1, REVISION, "国の目標引上げに合わせる", SOURCE)]
    assert got["kpis"] == [(90.0, 2025, None, None)]
    assert got["trajectory"] == [(2023, 64.1), (2024, 79.55)]
    assert got["log"] == [(REVISION, "GOV-K01", "target_value", "90.0", 2024, "2024-03-15")]
    from shinchoku.documents.report import build_report

    book = load_workbook(build_report(settings.warehouse, tmp_path / "r6.xlsx", 2024))
    online = next(r for r in book["評価シート"].iter_rows(min_row=6, values_only=True) if r[1].startswith("県及び市町村"))
    assert online[3] == "当初 80.0%(R7年度) → 改定 90.0%(R7年度、R6年度から)"
    assert online[2] == "48.2%(R3年度)"  # not revised
    log = [r for r in book["指標の改定"].iter_rows(min_row=5, values_only=True)]
    assert log == [(REVISION, "GOV-K01", "県及び市町村の行政手続のオンライン利用率", "目標値", "90.0", "R6年度", "2024-03-15",
                    "国の目標引上げに合わせる", SOURCE)]
    earlier = load_workbook(build_report(settings.warehouse, tmp_path / "r5.xlsx", 2023))["評価シート"]
    online = next(r for r in earlier.iter_rows(min_row=6, values_only=True) if r[1].startswith("県及び市町村"))
    assert online[3] == "80.0%(R7年度)"  # the FY2023 report shows the plan as it stood then


def test_a_revision_supplies_a_baseline_the_seed_lost(tmp_path):
    catalogue = load_catalogue(make_catalogue(tmp_path, [
        {"item_id": "REC-K01", "field": "baseline_value", "new_value": "80.0", "effective_fy": 2024,
         "reason": "原資料で確認(文字欠損の補正)"}]))
    settings = settings_in(tmp_path)
    submit(catalogue, settings, tmp_path, "避難地域復興局", 2023, {"REC-K01": 112.7})
    submit(catalogue, settings, tmp_path, "避難地域復興局", 2024, {"REC-K01": 131.9})
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select fiscal_year, round(pace_rate, 3), grade from kpi_progress order by 1")
    # from FY2024 on: expected 80 + 66.1 * 3/4 = 129.575, pace 51.9 / 49.575 = 1.047 -> A
    assert rows == [(2023, None, None), (2024, 1.047, "A")]


def test_a_kpi_introduced_in_fy2024(tmp_path):
    catalogue = load_catalogue(make_catalogue(
        tmp_path, kpis=[["GOV-K03", "GOV", "", "電子契約の利用件数", "件", "increase", "100", "2023", "500", "2025",
                         "令和6年度に追加", "2024", ""]],
        owners=[["GOV-K03", "総務部", "illustrative"]]))
    for year, expected in ((2023, ["GOV-K02"]), (2024, ["GOV-K02", "GOV-K03"])):
        assert rows_of(write_template(catalogue, "総務部", year, tmp_path / f"{year}.xlsx")) == expected
    settings = settings_in(tmp_path)
    submit(catalogue, settings, tmp_path, "総務部", 2024, {"GOV-K02": 20, "GOV-K03": 300})
    # the row says FY2023, before the KPI existed
    relabelled(catalogue, settings, tmp_path, "総務部", 2024, {"GOV-K03": 200}, 2, "令和5年度", "R5_早すぎる報告.xlsx")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "status": "select fiscal_year, kpis_expected, list_contains(missing_kpi_ids, 'GOV-K03') "
                  "from submission_status where department = '総務部' and fiscal_year in (2023, 2024) order by 1",
        "rejected": "select i.code, i.cell, i.message from validation_issues i join submissions s using (submission_id) "
                    "where s.file_name = 'R5_早すぎる報告.xlsx' and i.severity = 'error'",
        "kpis": "select introduced_fy from kpis where kpi_id = 'GOV-K03'",
    })
    assert got["status"] == [(2023, 1, False), (2024, 2, False)]  # FY2023 expects copy paper only
    assert got["rejected"] == [("kpi_not_in_force", "A8",
                                "指標「GOV-K03」はR5年度にはまだ設定されていません(R6年度から)。")]
    assert got["kpis"] == [(2024,)]


def test_a_kpi_retired_from_fy2025(tmp_path):
    kpis = make_catalogue(tmp_path) / "kpis.csv"
    kpis.write_text(kpis.read_text(encoding="utf-8").replace("8000,2025,,,", "8000,2025,,,2025"), encoding="utf-8")
    catalogue = load_catalogue(kpis.parent)
    assert catalogue.kpis_by_id["SAF-K01"].retired_fy == 2025
    assert rows_of(write_template(catalogue, "危機管理部", 2025, tmp_path / "t.xlsx")) == []
    settings = settings_in(tmp_path)
    submit(catalogue, settings, tmp_path, "危機管理部", 2024, {"SAF-K01": 7000})
    relabelled(catalogue, settings, tmp_path, "危機管理部", 2024, {"SAF-K01": 7500}, 1, "令和7年度", "R7.xlsx")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "status": "select fiscal_year, kpis_expected from submission_status where department = '危機管理部' "
                  "and fiscal_year in (2024, 2025) order by 1",
        "codes": "select s.file_name, i.code from validation_issues i join submissions s using (submission_id) "
                 "where i.severity = 'error'",
        "latest": "select latest_fy, actual_value from kpi_latest where kpi_id = 'SAF-K01'",
    })
    assert got["status"] == [(2024, 1), (2025, 0)]
    assert got["codes"] == [("R7.xlsx", "kpi_not_in_force")]
    assert got["latest"] == [(2024, 7000.0)]  # a retired KPI stays in kpi_latest


def test_an_owner_change_from_fy2024(tmp_path):
    catalogue = load_catalogue(make_catalogue(tmp_path, [
        {"item_id": "REG-K01", "field": "owner", "new_value": "総務部", "effective_fy": 2024, "reason": "事務移管"}]))
    assert "REG-K01" in rows_of(write_template(catalogue, "総務部", 2024, tmp_path / "a.xlsx"))
    assert "REG-K01" not in rows_of(write_template(catalogue, "企画調整部", 2024, tmp_path / "b.xlsx"))
    assert "REG-K01" in rows_of(write_template(catalogue, "企画調整部", 2023, tmp_path / "c.xlsx"))
    settings = settings_in(tmp_path)
    submit(catalogue, settings, tmp_path, "企画調整部", 2023, {"REG-K01": 140})  # the old owner corrects FY2023
    submit(catalogue, settings, tmp_path, "総務部", 2024, {"REG-K01": 150})     # the new owner reports FY2024
    relabelled(catalogue, settings, tmp_path, "企画調整部", 2023, {"REG-K01": 151}, 2, "令和6年度", "R6_旧所管.xlsx")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "fates": "select file_name, status from submissions order by file_name",
        "codes": "select code from validation_issues where severity = 'error'",
        "status": "select department, fiscal_year, kpis_expected from submission_status "
                  "where fiscal_year in (2023, 2024) and department in ('企画調整部', '総務部') order by 1, 2",
    })
    assert got["fates"] == [("R5_企画調整部.xlsx", "accepted"), ("R6_旧所管.xlsx", "rejected"),
                            ("R6_総務部.xlsx", "accepted")]
    assert got["codes"] == [("wrong_department",)]
    # 企画調整部's GOV-K01 is computed from the local governments' counts from FY2022: it owes REG-K01 alone, to FY2023
    assert got["status"] == [("企画調整部", 2023, 1), ("企画調整部", 2024, 0), ("総務部", 2023, 1), ("総務部", 2024, 2)]


def test_a_renamed_department(tmp_path):
    """危機管理部 becomes 危機管理局 from FY2024: the old folder, and a template declaring it, go to the new one."""
    folder = reorganised_catalogue(tmp_path)
    catalogue = load_catalogue(folder)
    assert "危機管理局" in catalogue.departments_in(2024) and "危機管理部" not in catalogue.departments_in(2024)
    settings = settings_in(tmp_path)
    new = submit(catalogue, settings, tmp_path, "危機管理局", 2024, {"SAF-K01": 7000}, folder="危機管理部")
    fill_outcomes(new, [("SAF-01", "出前講座を継続", "講座を12回開催", 12, "回", None)])  # the initiative moved too
    # an old template, declaring 危機管理部, reused for FY2024 in the new department's folder
    wb = relabelled(catalogue, settings, tmp_path, "危機管理部", 2023, {"SAF-K01": 7100}, 1, "令和6年度",
                    "R6_旧様式.xlsx", folder="危機管理局")
    wb.custom_doc_props["shinchoku_fiscal_year"].value = 2024
    wb.save(settings.inbox / "危機管理局" / "R6_旧様式.xlsx")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "fates": "select file_name, status, department from submissions order by file_name",
        "warnings": "select s.file_name, i.message from validation_issues i join submissions s using (submission_id) "
                    "where i.code = 'renamed_department' order by 1",
        "status": "select department, kpis_expected from submission_status where fiscal_year = 2024 "
                  "and department like '危機管理%'",
        "outcomes": "select initiative_id, outcome_text from initiative_outcomes where source = 'submission'",
    })
    assert [(f, s) for f, s, _ in got["fates"]] == [("R6_危機管理局.xlsx", "accepted"), ("R6_旧様式.xlsx", "accepted")]
    message = "「危機管理部」は組織改正により「危機管理局」になっています。「危機管理局」の提出として受け付けました。"
    assert got["warnings"] == [("R6_危機管理局.xlsx", message), ("R6_旧様式.xlsx", message)]
    assert got["status"] == [("危機管理局", 1)]  # the old department expects nothing after it ended
    assert got["outcomes"] == [("SAF-01", "講座を12回開催")]


def test_a_copy_of_a_rejected_file_is_assessed_again(tmp_path):
    new_kpi = ["GOV-K03", "GOV", "", "電子契約の利用件数", "件", "increase", "100", "2023", "500", "2025", "追加"]
    before = load_catalogue(make_catalogue(tmp_path / "a", kpis=[new_kpi + ["2025", ""]],
                                           owners=[["GOV-K03", "総務部", "illustrative"]]))
    after = load_catalogue(make_catalogue(tmp_path / "b", kpis=[new_kpi + ["2024", ""]],
                                          owners=[["GOV-K03", "総務部", "illustrative"]]))
    settings = settings_in(tmp_path)
    path = write_template(after, "総務部", 2024, tmp_path / "t.xlsx")
    filled = fill_template(path, {"GOV-K02": 20, "GOV-K03": 300}, out=tmp_path / "R6.xlsx")
    drop(settings, filled, "総務部", "R6.xlsx")
    assert run_ingest(settings, before).count("rejected") == 1  # GOV-K03 not yet in force in FY2024
    drop(settings, filled, "総務部", "R6.xlsx")  # the same bytes, once the plan says FY2024
    again = run_ingest(settings, after)
    assert [d.status for d in again.decisions] == ["accepted"]


def test_catalogue_check_names_file_row_and_column(tmp_path):
    folder = make_catalogue(tmp_path, [
        {"item_id": "GOV-K01", "field": "target_value", "new_value": "九十", "effective_fy": 2024},
        {"item_id": "NOPE-K9", "field": "target_value", "new_value": "90", "effective_fy": 2024},
        {"item_id": "GOV-01", "field": "target_value", "new_value": "90", "effective_fy": 2024},
        {"item_id": "GOV-K02", "field": "owner", "new_value": "未来局", "effective_fy": 2024},
        {"item_id": "GOV-K02", "field": "target_fy", "new_value": "2026", "effective_fy": 2030},
        {"item_id": "REG-K01", "field": "name", "new_value": "参加者数A", "effective_fy": 2023},
        {"item_id": "REG-K01", "field": "name", "new_value": "参加者数B", "effective_fy": 2023},
    ])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["catalogue", "check", "--project", str(folder.parent)])
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[:-1] == [
        "revisions.csv 行2 列 new_value: field target_value の値として読めません",
        "revisions.csv 行3 列 item_id: 指標ID・項目IDが kpis.csv・initiatives.csv にありません",
        "revisions.csv 行4 列 field: この項目では改定できない field です(指標: name, owner, direction, baseline_value, "
        "baseline_fy, target_value, target_fy、取組項目: name, owner)",
        "revisions.csv 行5 列 new_value: 所管部局がその年度に存在する部局(departments.csv)ではありません",
        "revisions.csv 行6 列 effective_fy: 適用年度が計画期間(2020〜2025年度)の外です",
        "revisions.csv 行7 列 effective_fy: 同じ項目・field・適用年度の改定が2行あります",
        "revisions.csv 行8 列 effective_fy: 同じ項目・field・適用年度の改定が2行あります",
    ]
    assert "7 件の問題があります" in lines[-1]
    with pytest.raises(CatalogueError):
        load_catalogue(folder)  # and every command refuses it: run exits 2 and loads nothing


def test_a_revised_target_on_the_wrong_side_is_refused(tmp_path):
    folder = make_catalogue(tmp_path, [{"item_id": "GOV-K02", "field": "target_value", "new_value": "45",
                                        "effective_fy": 2024}])
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    assert caught.value.problems == ["revisions.csv 行2 列 target_value: 2024年度からの定義で、目標値が基準値に対して"
                                     "方向(decrease)と逆です"]


def test_run_refuses_a_broken_catalogue_and_loads_nothing(tmp_path):
    folder = make_catalogue(tmp_path, [{"item_id": "GOV-K01", "field": "colour", "new_value": "x", "effective_fy": 2024}])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["run", "--project", str(folder.parent), "--warehouse", str(tmp_path / "w" / "shinchoku.duckdb")])
    assert code == 2 and "revisions.csv 行2 列 field" in err.getvalue()
    assert not (tmp_path / "w" / "shinchoku.duckdb").exists()


def test_catalogue_history_prints_the_definitions_with_reasons(tmp_path):
    folder = make_catalogue(tmp_path, [
        {"revision_id": REVISION, "item_id": "GOV-K01", "field": "target_value", "new_value": "90.0",
         "effective_fy": 2024, "reason": "国の目標引上げに合わせる", "decided_on": "2024/3/5"}])  # as Excel saves it
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["catalogue", "history", "GOV-K01", "--project", str(folder.parent)]) == 0
    text = out.getvalue()
    assert "R2年度〜R5年度" in text and "80.0%(R7年度)" in text and "当初" in text
    assert "R6年度〜" in text and "90.0%(R7年度)" in text and REVISION in text and "国の目標引上げに合わせる" in text
    assert " 増加 " in text and "increase" not in text  # the direction in Japanese, as everything else
    assert load_catalogue(folder).revisions[-1].decided_on == dt.date(2024, 3, 5)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["catalogue", "history", "GOV-K02", "--project", str(folder.parent)]) == 0
    assert " 減少 " in out.getvalue() and "decrease" not in out.getvalue()


@pytest.mark.parametrize("text, date", [("2025/3/20", "2025-03-20"), ("2025-03-20", "2025-03-20"),
                                        ("2025/03/05", "2025-03-05")])
def test_decided_on_as_iso_or_as_japanese_excel_writes_it(tmp_path, text, date):
    folder = make_catalogue(tmp_path, [{"item_id": "GOV-K01", "field": "target_value", "new_value": "90.0",
                                        "effective_fy": 2024, "decided_on": text}])
    assert load_catalogue(folder).revisions[-1].decided_on.isoformat() == date


@pytest.mark.parametrize("text", ["2025/2/30", "20250320", "R7.3.20", "3/20/2025"])
def test_decided_on_that_is_no_date_names_row_and_column(tmp_path, text):
    folder = make_catalogue(tmp_path, [{"item_id": "GOV-K01", "field": "target_value", "new_value": "90.0",
                                        "effective_fy": 2024, "decided_on": text}])
    with pytest.raises(CatalogueError, match=r"revisions.csv 行\d+ 列 decided_on: 日付"):
        load_catalogue(folder)



def _chart(html: str) -> dict[str, dict]:
    """The KPI page's Plotly traces by name, each as {year label: y}."""
    import json

    start = html.index('Plotly.newPlot("chart", ') + len('Plotly.newPlot("chart", ')
    traces, _ = json.JSONDecoder().raw_decode(html, start)
    return {t["name"]: {x: y for x, y in zip(t["x"], t["y"]) if y is not None} for t in traces}


def _fact(html: str, label: str) -> str:
    import re

    return re.search(f"<dt>{label}</dt><dd>(.*?)</dd>", html).group(1)


def test_after_a_target_revision_sheet_site_chart_and_outlook_agree(tmp_path):
    """Issue 23.2: target 90.0 from FY2025 (R7); the R6 report year is judged by R6's definition (80.0)
    in the 評価シート, both editions of the site, the chart and kpi_year_outlook alike."""
    from shinchoku.run.confirm import confirm
    from shinchoku.documents.report import build_report
    from shinchoku.documents.site import build_site

    catalogue = load_catalogue(make_catalogue(tmp_path, [
        {"revision_id": "R7-01", "item_id": "GOV-K01", "field": "target_value", "new_value": "90.0",
         "effective_fy": 2025, "reason": "国の目標引上げ"}]))
    settings = settings_in(tmp_path)
    for year, value in ((2022, 56.0), (2023, 64.0), (2024, 72.5)):
        submit(catalogue, settings, tmp_path, "企画調整部", year, {"GOV-K01": value, "REG-K01": 130 + year - 2022})
    assert run_ingest(settings, catalogue).exit_code == 0
    for year in (2022, 2023, 2024):
        confirm(settings, year, ["企画調整部"], by="test", allow_missing=True)
    [(outlook, definition_fy, target, projected, grade)] = query(settings.warehouse, """
        select o.outlook, o.definition_fy, o.target_value, o.projected_at_target, s.grade
        from kpi_year_outlook o join kpi_year_status s using (report_fy, kpi_id)
        where o.report_fy = 2024 and o.kpi_id = 'GOV-K01'""")
    # against 80.0: pace 24.3 / 23.85 -> A; the line through 48.2, 56, 64, 72.5 rises 8.09 a year, 7.5 needed
    assert (outlook, definition_fy, target, grade) == ("達成見込み", 2024, 80.0, "A")

    sheet = load_workbook(build_report(settings.warehouse, tmp_path / "r6.xlsx", 2024))["評価シート"]
    row = next(r for r in sheet.iter_rows(min_row=6, values_only=True) if r[1].startswith("県及び市町村"))
    assert (row[3], row[6], row[7]) == ("80.0%(R7年度)", "A", "達成見込み")
    assert "最新の実績の年度" in sheet["A4"].value  # the rule, stated on the page

    for public in (False, True):
        site = build_site(settings.warehouse, tmp_path / f"site{public}", 2024 if not public else None, public=public)
        html = (site / "kpi" / "GOV-K01.html").read_text(encoding="utf-8")
        assert (_fact(html, "目標値"), _fact(html, "評価"), _fact(html, "見通し").split("(")[0]) == \
            ("80.0%(R7年度)", "A", "達成見込み"), public
        assert _fact(html, "判定の定義") == "R6年度に効力のある定義(当初の計画)"
        chart = _chart(html)
        assert chart["目標値"] == {"R7年度": 80.0}  # the diamond at the target judged by
        assert chart["軌道(基準値→目標値)"]["R7年度"] == 80.0  # the trajectory to the same target, not to 90
        assert chart["軌道(基準値→目標値)"]["R6年度"] == pytest.approx(72.05)
        assert chart["傾向(見通し)"]["R7年度"] == pytest.approx(projected) and projected >= 80.0
        index = (site / "index.html").read_text(encoding="utf-8")
        assert "80.0%(R7年度)" in index and "90.0%" not in index


def _stale_project(tmp_path):
    """A project whose warehouse was built by a run, then a revision recorded after it (no run since)."""
    folder = make_catalogue(tmp_path)
    settings = settings_in(tmp_path)
    catalogue = load_catalogue(folder)
    submit(catalogue, settings, tmp_path, "企画調整部", 2022, {"GOV-K01": 56.0})
    assert run_ingest(settings, catalogue).exit_code == 0
    return folder.parent, settings


def _cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _revise(project):
    with (project / "catalogue" / "revisions.csv").open("a", encoding="utf-8", newline="") as f:
        f.write(f"R6-01,GOV-K01,target_value,90.0,2024,2024-03-15,理由,{SOURCE}\n")


def test_report_says_when_the_warehouse_predates_the_catalogue(tmp_path):
    from shinchoku.documents.facts import STALE_NOTE

    project, settings = _stale_project(tmp_path)
    code, _, err = _cli("report", "--project", str(project), "--warehouse", str(settings.warehouse), "-o",
                        str(tmp_path / "fresh.xlsx"))
    assert code == 0 and STALE_NOTE not in err  # built by the run from this very catalogue
    assert "【注意】" not in (load_workbook(tmp_path / "fresh.xlsx")["評価シート"]["A4"].value or "")
    _revise(project)
    code, _, err = _cli("report", "--project", str(project), "--warehouse", str(settings.warehouse), "-o",
                        str(tmp_path / "stale.xlsx"))
    assert code == 0 and STALE_NOTE in err
    book = load_workbook(tmp_path / "stale.xlsx")
    assert STALE_NOTE in book["評価シート"]["A4"].value
    assert STALE_NOTE in book["指標の改定"]["A3"].value  # above the 「改定はありません」 the warehouse still has


def test_site_says_when_the_warehouse_predates_the_settings(tmp_path):
    from shinchoku.documents.facts import STALE_NOTE

    project, settings = _stale_project(tmp_path)
    site = tmp_path / "site"
    args = ("site", "--project", str(project), "--warehouse", str(settings.warehouse), "-o", str(site))
    code, _, err = _cli(*args)
    assert code == 0 and STALE_NOTE not in err
    assert STALE_NOTE not in (site / "index.html").read_text(encoding="utf-8")
    (project / "shinchoku.toml").write_text("[outlook]\non_track = 1.2\n", encoding="utf-8")
    code, _, err = _cli(*args)
    assert code == 0 and STALE_NOTE in err
    for page in ("index.html", "kpi/GOV-K01.html"):
        assert STALE_NOTE in (site / page).read_text(encoding="utf-8"), page
