"""要因分析 and 今後の方向性: read from the return sheet, kept with history, asked for where a KPI is behind."""

from __future__ import annotations


from openpyxl import load_workbook

from helpers import drop, query, query_many
from shinchoku.workbook.assess import assess_files
from shinchoku.config import Grading, Limits
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.layout import EXPLANATION, HEADER, HEADER_ROW, SHEET
from shinchoku.documents.template import column_of, fill_template, previous_year, write_template

FACTOR = "説明会の開催が延期となり、参加者が伸びなかった。"
DIRECTION = "R6年度は上半期に説明会を2回開催する。"


def warnings_of(assessment, code="explanation_missing"):
    return [(i.cell, i.kpi_id, i.message) for i in assessment.issues if i.code == code]


def test_filled_texts_are_accepted_and_kept_with_their_cell(settings, catalogue, template):
    # REG-K01 128 in FY2022: pace (128 - 121) / (130.75 - 121) = 0.718 -> C
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": (FACTOR, DIRECTION)})
    drop(settings, path, "企画調整部")
    summary = run_ingest(settings, catalogue)
    assert summary.count("accepted") == 1
    got = query_many(settings.warehouse, {
        "texts": "select kpi_id, fiscal_year, factor_analysis, future_direction, source_cell, version, valid_to "
                 "from kpi_explanations order by kpi_id",
        "issues": "select code from validation_issues",
        "grade": "select grade from kpi_progress where kpi_id = 'REG-K01'",
    })
    assert [k.kpi_id for k in catalogue.kpis_of("企画調整部")] == ["GOV-K01", "REG-K01"]  # rows 7 and 8
    assert got["texts"] == [
        ("GOV-K01", 2022, None, None, "実績報告!H7", 1, None),  # reported without texts: blanks are kept
        ("REG-K01", 2022, FACTOR, DIRECTION, "実績報告!H8", 1, None),
    ]
    assert got["grade"] == [("C",)]
    # explained: no explanation_missing (GOV-K01 is computed from the survey sheets: kept, with that warning only)
    assert got["issues"] == [("computed_kpi_reported",)]


def test_a_kpi_graded_c_or_d_without_a_factor_gets_a_warning_in_check_and_run(settings, catalogue, template):
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": (None, DIRECTION)})  # a direction is not a factor
    [checked] = assess_files([(path, "企画調整部")], catalogue, Limits())
    [(cell, kpi_id, message)] = warnings_of(checked)
    assert kpi_id == "REG-K01" and cell.startswith("H")
    assert message == "「REG-K01」の実績は評価C(やや遅れ)に当たるため、「要因分析」に理由の記入が必要です。"
    assert checked.accepted  # a warning, never a rejection
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    ran = query(settings.warehouse, "select cell, kpi_id, message, severity from validation_issues "
                                    "where code = 'explanation_missing'")
    assert ran == [(cell, kpi_id, message, "warning")]


def test_a_value_worse_than_its_baseline_needs_a_factor_even_without_a_grade(catalogue, template):
    # EDU-K01's baseline year is FY2020, so FY2020 has no pace and no grade; 60.0 < 65.3 is worse
    path = fill_template(template("教育庁", 2020), {"EDU-K01": 60.0})
    [a] = assess_files([(path, "教育庁")], catalogue, Limits())
    [(_, _, message)] = warnings_of(a)
    assert "基準値より悪化している" in message
    assert warnings_of(a, "wrong_direction")  # the rule it shares with wrong_direction


def test_the_band_the_warning_starts_below_is_configuration(catalogue, template):
    path = fill_template(template("企画調整部", 2022), {"REG-K01": 128})  # pace 0.718
    [default] = assess_files([(path, "企画調整部")], catalogue, Limits())
    from shinchoku.config import GradeBand

    lenient = Grading((GradeBand("A", 1.0, "順調"), GradeBand("B", 0.7, "おおむね順調")), "C", "遅れ")
    [relaxed] = assess_files([(path, "企画調整部")], catalogue, Limits(), grading=lenient)
    assert len(warnings_of(default)) == 1 and warnings_of(relaxed) == []


def test_an_older_return_sheet_without_the_columns_is_accepted_without_the_warning(settings, catalogue, workbook,
                                                                                   tmp_path):
    path = workbook(tmp_path / "old.xlsx", [("REG-K01", "", "人", "R4", 128, None, None)],
                    department="企画調整部", year=2022, header=HEADER)
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert a.accepted and warnings_of(a) == []
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {"values": "select actual_value from kpi_progress",
                                          "texts": "select count(*) from kpi_explanations"})
    assert got == {"values": [(128.0,)], "texts": [(0,)]}


def test_the_reader_finds_the_columns_by_their_labels_wherever_they_are(catalogue, workbook, tmp_path):
    path = workbook(tmp_path / "moved.xlsx", [("REG-K01", "", "人", "R4", 128, None, None, DIRECTION, FACTOR)],
                    department="企画調整部", year=2022, header=HEADER + tuple(reversed(EXPLANATION)), left=2, top=3)
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    [rec] = [r for r in a.records if r["table"] == "kpi"]
    assert (rec["factor_analysis"], rec["future_direction"]) == (FACTOR, DIRECTION)
    assert warnings_of(a) == []


def test_texts_without_a_figure_are_kept(settings, catalogue, template):
    path = fill_template(template("企画調整部", 2023), {"GOV-K01": 64.0},
                         explanations={"REG-K01": ("集計方法の見直し中のため未集計。", "9月に報告する。")})
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    got = query_many(settings.warehouse, {
        "texts": "select kpi_id, factor_analysis from kpi_explanations where factor_analysis is not null",
        "values": "select kpi_id from kpi_progress"})
    assert got == {"texts": [("REG-K01", "集計方法の見直し中のため未集計。")], "values": [("GOV-K01",)]}


def test_the_latest_return_stands_blanks_included_and_the_old_version_stays(settings, catalogue, template, tmp_path):
    first = fill_template(template("企画調整部", 2022), {"REG-K01": 128}, explanations={"REG-K01": (FACTOR, DIRECTION)},
                          out=tmp_path / "first" / "R4.xlsx")
    drop(settings, first, "企画調整部", mtime=1_685_000_000)
    run_ingest(settings, catalogue)
    second = fill_template(template("企画調整部", 2022), {"REG-K01": 150}, out=tmp_path / "second" / "R4.xlsx")
    drop(settings, second, "企画調整部", mtime=1_686_000_000)
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select version, factor_analysis, future_direction, valid_to is null "
                                     "from kpi_explanations where kpi_id = 'REG-K01' order by version")
    assert rows == [(1, FACTOR, DIRECTION, False), (2, None, None, True)]


def test_several_as_of_rows_the_latest_as_of_speaks(settings, catalogue, template, tmp_path):
    path = fill_template(template("企画調整部", 2022), {"REG-K01": 128}, as_of={"REG-K01": "2022/9/30"},
                         explanations={"REG-K01": ("上半期の説明", None)})
    wb = load_workbook(path)
    ws = wb[SHEET]
    row = next(r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "REG-K01")
    extra = ws.max_row + 1
    for col in range(1, column_of(EXPLANATION[1]) + 1):
        ws.cell(row=extra, column=col, value=ws.cell(row=row, column=col).value)
    ws.cell(row=extra, column=column_of("実績値"), value=131)
    ws.cell(row=extra, column=column_of("時点")).value = None  # the year's final value
    ws.cell(row=extra, column=column_of("要因分析"), value="年度末の説明")
    wb.save(path)
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select factor_analysis, source_cell from kpi_explanations where kpi_id = 'REG-K01'")
    assert rows == [("年度末の説明", f"実績報告!H{extra}")]


def test_the_rule_grades_as_the_views_do(settings, catalogue, tmp_path):
    """The warning's grade (Python, per file) and kpi_progress's grade (SQL) agree on a spread of values,
    in both directions, from before the trajectory's start to past the target."""
    spread = {  # (department, KPI): a value per fiscal year 2022..2025
        ("企画調整部", "REG-K01"): [122, 131, 135, 150],  # 121 -> 160
        ("企画調整部", "GOV-K01"): [40.0, 60.0, 64.1, 90.0],
        ("総務部", "GOV-K02"): [30.0, 27.0, 41.0, 12.0],  # decrease: 40 -> 12
    }
    values_of: dict[tuple[str, int], float] = {}
    files = []
    for n, year in enumerate((2022, 2023, 2024, 2025)):
        for department in ("企画調整部", "総務部"):
            values = {kpi_id: v[n] for (dept, kpi_id), v in spread.items() if dept == department}
            values_of.update({(kpi_id, year): v for kpi_id, v in values.items()})
            path = write_template(catalogue, department, year, tmp_path / "t" / f"{department}{year}.xlsx")
            files.append((fill_template(path, values), department))
            drop(settings, path, department)
    assessments = assess_files(files, catalogue, Limits())
    warned = {(i.kpi_id, a.read.declared_fiscal_year) for a in assessments for i in a.issues
              if i.code == "explanation_missing"}
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select kpi_id, fiscal_year, grade, pace_rate from kpi_progress")
    assert len(rows) == len(values_of) == 12
    grades = set()
    for kpi_id, year, grade, pace in rows:
        kpi, value = catalogue.kpis_by_id[kpi_id], values_of[(kpi_id, year)]
        assert Grading().grade(kpi.pace(year, value), kpi.reached(value)) == grade, (kpi_id, year)
        assert abs(kpi.pace(year, value) - pace) < 1e-9
        assert ((kpi_id, year) in warned) == (grade in ("C", "D") or kpi.worse_than_baseline(value)), (kpi_id, year)
        grades.add(grade)
    assert grades == {"A", "B", "C", "D"}  # the spread crosses every band


def test_the_template_shows_last_years_value_and_grade(settings, catalogue, template, tmp_path):
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": "57.0(速報)", "REG-K01": 128.5},
                         explanations={"REG-K01": (FACTOR, DIRECTION)})
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    out = write_template(catalogue, "企画調整部", 2023, tmp_path / "R5.xlsx", previous_year(settings.warehouse, 2023))
    ws = load_workbook(out)[SHEET]
    shown = {ws.cell(row=r, column=1).value: (ws.cell(row=r, column=column_of("前年度実績")).value,
                                              ws.cell(row=r, column=column_of("前年度評価")).value)
             for r in range(HEADER_ROW + 1, ws.max_row + 1)}
    # as reported: 57.0 at the plan's precision (80.0%), 128.5 with the decimal the plan's whole numbers lack
    assert shown == {"GOV-K01": ("57.0(速報)", "A(順調)"), "REG-K01": ("128.5", "C(やや遅れ)")}
    assert previous_year(tmp_path / "none.duckdb", 2023) == {}
    blank = load_workbook(write_template(catalogue, "企画調整部", 2023, tmp_path / "R5b.xlsx"))[SHEET]
    assert blank.cell(row=HEADER_ROW + 1, column=column_of("前年度実績")).value == "-"


def test_both_views_export_as_csv_with_typed_text_kept_as_text(settings, catalogue, template, tmp_path):
    import csv

    from shinchoku.cli import main

    formula = "=HYPERLINK(\"http://example.invalid\",\"詳細\")"
    path = fill_template(template("企画調整部", 2022), {"REG-K01": 128}, explanations={"REG-K01": (formula, DIRECTION)})
    drop(settings, path, "企画調整部")
    run_ingest(settings, catalogue)
    exported = {}
    for view in ("kpi_outlook", "kpi_explanations"):
        out = tmp_path / f"{view}.csv"
        assert main(["export", view, "--warehouse", str(settings.warehouse), "-o", str(out)]) == 0
        with out.open(encoding="utf-8-sig", newline="") as f:
            exported[view] = list(csv.reader(f))
    outlook_head, *outlooks = exported["kpi_outlook"]
    assert outlook_head[:3] == ["kpi_id", "latest_fy", "points"] and len(outlooks) == len(catalogue.kpis)
    head, *rows = exported["kpi_explanations"]
    [row] = [r for r in rows if r[0] == "REG-K01"]
    assert row[head.index("factor_analysis")] == "'" + formula  # shown, never evaluated
    assert row[head.index("future_direction")] == DIRECTION
