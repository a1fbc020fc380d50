"""What a department reads: messages that say exactly what is wrong, in words and numbers it recognises."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits
from shinchoku.workbook.layout import HEADER_ROW, SHEET
from shinchoku.workbook.messages import format_number
from shinchoku.documents.template import column_of, fill_template


def _edit_header(path, edit):
    wb = load_workbook(path)
    edit(wb[SHEET])
    wb.save(path)
    return path


def _no_table_message(catalogue, path) -> str:
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    [issue] = [i for i in a.issues if i.code == "no_table"]
    return issue.message


def test_no_table_names_a_deleted_header_label(catalogue, template):
    path = _edit_header(template("企画調整部", 2023),
                        lambda ws: setattr(ws.cell(row=HEADER_ROW, column=column_of("年度")), "value", None))
    message = _no_table_message(catalogue, path)
    assert f"「実績報告」シートの{HEADER_ROW}行目の見出しに「年度」がありません。" in message
    assert "「実績値」" not in message and "指標ID・指標名・単位・年度・実績値・時点・備考" in message


def test_no_table_names_an_edited_header_label(catalogue, template):
    path = _edit_header(template("企画調整部", 2023),
                        lambda ws: setattr(ws.cell(row=HEADER_ROW, column=column_of("実績値")), "value", "実績"))
    assert f"{HEADER_ROW}行目の見出しに「実績値」がありません。" in _no_table_message(catalogue, path)


def test_no_table_names_the_label_a_merged_header_hides(catalogue, template):
    col = column_of("実績値")
    path = _edit_header(template("企画調整部", 2023), lambda ws: ws.merge_cells(
        start_row=HEADER_ROW, start_column=col, end_row=HEADER_ROW, end_column=col + 1))  # 実績値 over 時点
    assert f"{HEADER_ROW}行目の見出しに「時点」がありません。" in _no_table_message(catalogue, path)


def test_no_table_without_a_header_like_row_keeps_the_general_message(catalogue, template, workbook, tmp_path):
    path = workbook(tmp_path / "a.xlsx", [("REG-K01", "", "人", 2023, 130, None, None)], header=("指標ID", "名前"))
    assert _no_table_message(catalogue, path) == \
        ("「実績報告」の表(見出し: 指標ID・指標名・単位・年度・実績値・時点・備考)も、"
         "「調査票」の表(見出し: 指標ID・構成要素ID・項目・単位・年度・実数・時点・備考)も見つかりません。")
    # the 取組実績 sheet's header (単位・年度・時点) is another table's, never taken for this one's
    path = _edit_header(template("企画調整部", 2023), lambda ws: ws.delete_rows(HEADER_ROW))
    assert _no_table_message(catalogue, path).endswith("も見つかりません。")  # the general message, no header named


def test_a_blank_kpi_id_is_shown_as_blank_not_none(template, capsys):
    from shinchoku.cli import main

    path = template("企画調整部", 2023)
    wb = load_workbook(path)
    ws = wb[SHEET]
    ws.cell(row=HEADER_ROW + 1, column=column_of("指標ID")).value = None
    ws.cell(row=HEADER_ROW + 1, column=column_of("実績値")).value = 61.5
    wb.save(path)
    assert main(["check", "--quiet", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"実績報告!A{HEADER_ROW + 1}: 指標ID「(空欄)」は指標一覧にありません。" in out
    assert "None" not in out


@pytest.mark.parametrize(("value", "shown"), [
    (12345678.0, "12,345,678"), (146.1, "146.1"), (0.1 + 0.2, "0.3"), (1e20, "100,000,000,000,000,000,000"),
    (1234.5678, "1,234.5678"), (-1234.5, "-1,234.5"), (1 / 3, "0.333333"), (0.0, "0"), (-0.0, "0"), (100.0, "100"),
])
def test_format_number_writes_every_digit_with_separators_and_no_exponent(value, shown):
    assert format_number(value) == shown


@pytest.mark.parametrize(("typed", "detail"), [("1,461,000件", "146.1万件"), ("12,345,678件", "1,234.5678万件")])
def test_a_converted_value_is_told_in_full(catalogue, template, typed, detail):
    department = catalogue.kpis_by_id["REC-K01"].owner  # REC-K01 is counted in 万件
    path = fill_template(template(department, 2023), {"REC-K01": typed})
    [a] = assess_files([(path, department)], catalogue, Limits())
    [issue] = [i for i in a.issues if i.code == "unit_converted"]
    assert issue.message == f"実績値「{typed}」を単位「万件」に換算して {detail} として受け付けました。"
