"""取組実績: initiative outcomes in the return sheet, read and validated like KPI actuals."""

from __future__ import annotations


import pytest

from helpers import drop, query
from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_outcomes


def assess(path, department, catalogue):
    [a] = assess_files([(path, department)], catalogue, Limits())
    return a


def test_outcome_rows_are_read_with_figures(catalogue, template):
    path = fill_outcomes(template("企画調整部", 2023), [
        ("GOV-04", "全庁展開", "年間で約1,500時間の削減見込", "約1,500時間", "時間", None),
        ("MUN-02", "補助", "補助金額", "27,000千円", "円", "2月末現在"),
        ("MUN-02", "見直し", "前年度からの減少", "△3", "件", None),
    ])
    a = assess(path, "企画調整部", catalogue)
    assert a.accepted, [i.message for i in a.issues]
    got = [(r["item_id"], r["actual_value"], r["unit"], str(r["as_of"])) for r in a.records if r["table"] == "outcome"]
    assert got == [("GOV-04", 1500.0, "時間", "2024-03-31"), ("MUN-02", 27_000_000.0, "円", "2024-02-29"),
                   ("MUN-02", -3.0, "件", "2024-03-31")]
    assert "approximate_value" in {i.code for i in a.warnings}


@pytest.mark.parametrize("row, code, column", [
    (("XXX-01", "", "何か", None, None, None), "unknown_initiative", "A"),
    (("HLT-01", "", "他部局の項目", None, None, None), "wrong_department", "A"),
    (("GOV-04", "", "成果", "集計中", "時間", None), "value_not_number", "F"),
    (("GOV-04", "", "成果", "12件", "時間", None), "unit_mismatch", "F"),
    (("GOV-04", "", "成果", 120, "%", None), "percent_out_of_range", "F"),
    (("GOV-04", "", "成果", 1, "時間", "いつか"), "bad_as_of", "H"),
])
def test_outcome_errors_point_at_their_cell(catalogue, template, row, code, column):
    a = assess(fill_outcomes(template("企画調整部", 2023), [row]), "企画調整部", catalogue)
    assert [(i.code, i.sheet, i.cell[0]) for i in a.errors] == [(code, "取組実績", column)]


def test_resubmitted_outcomes_replace_the_seeds_with_history(settings, catalogue, template):
    path = fill_outcomes(template("企画調整部", 2021), [("GOV-04", "全庁", "年間で約1,000時間の削減(確定)", 1000, "時間", None)])
    drop(settings, path, "企画調整部", "r3.xlsx")
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select source, outcome_text, is_current, valid_to is null from initiative_outcomes "
                                     "where initiative_id = 'GOV-04' and fiscal_year = 2021 order by source")
    assert rows == [("seed", "年間で約962時間(58.6%)の業務時間の削減見込 (※本庁の全ての帳票をRPAで処理した場合)", False, False),
                    ("submission", "年間で約1,000時間の削減(確定)", True, True)]
    others = query(settings.warehouse, "select count(*) from initiative_outcomes where initiative_id = 'GOV-05' and is_current")
    assert others == [(1,)]  # the seed still stands where nothing was resubmitted
    assert query(settings.warehouse, "select count(*) from initiatives") == [(len(catalogue.initiatives),)]
    assert query(settings.warehouse, "select has_kpi from initiatives where name like 'テクノアカデミー%'") == [(False,)]


def test_an_outcome_figure_reads_through_its_formats_unit(settings, catalogue, template):
    """27000 shown as 27,000千円 in a row whose 単位 is 円 is 27,000,000円, through check's assessment and run."""
    from openpyxl import load_workbook

    path = fill_outcomes(template("企画調整部", 2023), [("MUN-02", "補助", "補助金額", 27000, "円", None)])
    wb = load_workbook(path)
    ws = wb["取組実績"]
    cell = next(row[5] for row in ws.iter_rows() if row[0].value == "MUN-02" and row[5].value == 27000)
    cell.number_format = '#,##0"千円"'
    wb.save(path)
    a = assess(path, "企画調整部", catalogue)
    assert a.accepted, [i.message for i in a.issues]
    [rec] = [r for r in a.records if r["table"] == "outcome"]
    assert (rec["actual_value"], rec["shown"]) == (27_000_000.0, "27,000千円")
    drop(settings, path, "企画調整部", "r5.xlsx")
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select figure_value, figure_unit from initiative_outcomes where initiative_id = 'MUN-02' "
                                     "and fiscal_year = 2023 and is_current") == [(27_000_000.0, "円")]


def test_an_outcomes_messages_speak_of_its_figure_not_a_kpis_actual(catalogue, template):
    """On 取組実績 the cell is the initiative's 数値: the message never calls it a KPI's 実績値."""
    a = assess(fill_outcomes(template("企画調整部", 2023), [("GOV-04", "", "成果", "12件", "時間", None)]),
               "企画調整部", catalogue)
    [issue] = a.errors
    assert issue.code == "unit_mismatch" and issue.sheet == "取組実績"
    assert issue.message.startswith("数値「12件」") and "この取組項目" in issue.message and "実績値" not in issue.message
    assert "実績値" not in issue.fix
