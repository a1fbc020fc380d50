"""What a department reads: messages that say exactly what is wrong, in words and numbers it recognises."""

from __future__ import annotations

from openpyxl import load_workbook

from shinchoku.assess import assess_files
from shinchoku.config import Limits
from shinchoku.layout import HEADER_ROW, SHEET
from shinchoku.template import column_of


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
        "「実績報告」の表(見出し: 指標ID・指標名・単位・年度・実績値・時点・備考)が見つかりません。"
    # the 取組実績 sheet's header (単位・年度・時点) is another table's, never taken for this one's
    path = _edit_header(template("企画調整部", 2023), lambda ws: ws.delete_rows(HEADER_ROW))
    assert _no_table_message(catalogue, path).endswith("が見つかりません。")


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
