"""The annotated copy a department gets back: every problem cell marked, on both writing paths."""

from __future__ import annotations

import zipfile

from openpyxl import load_workbook
from openpyxl.comments import Comment

from shinchoku.run.annotate import annotate_package
from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits
from shinchoku.run.feedback import annotate_workbook, error_list_text
from shinchoku.workbook.messages import Issue
from shinchoku.documents.template import fill_template


def rejected(catalogue, path, department="企画調整部"):
    [a] = assess_files([(path, department)], catalogue, Limits())
    assert a.errors
    return a.issues


def test_fast_path_marks_cells_and_leaves_other_parts_untouched(catalogue, template, tmp_path):
    source = fill_template(template("企画調整部", 2023), {"GOV-K01": "集計中", "REG-K01": "150件"})
    issues = rejected(catalogue, source) + [Issue("bad_as_of", "実績報告", "F8", "REG-K01", {"value": "x"})]
    target = tmp_path / "annotated.xlsx"
    assert annotate_package(source, issues, target)
    wb = load_workbook(target)
    assert wb.sheetnames == ["エラー一覧", "実績報告", "取組実績"]
    ws = wb["実績報告"]
    for ref, words in (("E7", "集計中"), ("E8", "単位"), ("F8", "時点")):
        assert ws[ref].fill.fgColor.rgb == "FFFFC7CE", ref
        assert words in ws[ref].comment.text, ref
    assert ws["F8"].value is None  # an empty cell gets the style, not a value
    assert ws["A7"].fill.fgColor.rgb != "FFFFC7CE"  # only problem cells
    listed = list(wb["エラー一覧"].values)
    assert listed[0] == ("シート", "セル", "指標ID", "重要度", "コード", "内容", "直し方")
    assert {(r[1], r[4]) for r in listed[1:]} == {("E7", "value_not_number"), ("E8", "unit_mismatch"), ("F8", "bad_as_of")}
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target) as b:
        edited = {"xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                  "xl/worksheets/sheet1.xml"}
        for name in a.namelist():
            if name not in edited:
                assert a.read(name) == b.read(name), name


def test_sheet_with_its_own_comments_takes_the_openpyxl_path(catalogue, template, tmp_path):
    source = template("企画調整部", 2023)
    wb = load_workbook(source)
    wb["実績報告"]["E7"] = "集計中"
    wb["実績報告"]["B7"].comment = Comment("部局のメモ", "担当者")
    wb.save(source)
    issues = rejected(catalogue, source)
    assert not annotate_package(source, issues, tmp_path / "fast.xlsx")
    annotate_workbook(source, issues, tmp_path / "slow.xlsx")
    ws = load_workbook(tmp_path / "slow.xlsx")["実績報告"]
    assert ws["E7"].fill.fgColor.rgb.endswith("FFC7CE") and "集計中" in ws["E7"].comment.text
    assert ws["B7"].comment.text == "部局のメモ"  # the department's own comment survives


def test_error_list_text_names_every_problem(catalogue, template):
    source = fill_template(template("企画調整部", 2023), {"GOV-K01": "集計中", "REG-K01": "150件"})
    text = error_list_text("x.xlsx", "企画調整部", rejected(catalogue, source))
    assert "エラー 2件" in text and "実績報告!E7" in text and "実績報告!E8" in text and "直し方" in text


def _copy_as_seen(path):
    """What a department sees in an annotated copy: sheet order, the active sheet, marked cells, the error list."""
    wb = load_workbook(path)
    marked = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment or (cell.fill and cell.fill.fgColor.rgb in ("FFFFC7CE", "FFFFEB9C", "00FFC7CE", "00FFEB9C")):
                    marked[(ws.title, cell.coordinate)] = (cell.fill.fgColor.rgb[-6:], cell.comment.text if cell.comment else None)
    errors = wb["エラー一覧"]
    links = {c.coordinate: (c.hyperlink.location, c.font.u, c.font.color.rgb[-6:] if c.font.color else None)
             for row in errors.iter_rows() for c in row if c.hyperlink}
    tabs = [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected]
    return wb.sheetnames, wb.active.title, tabs, marked, list(errors.values), links, errors["A1"].font.b


def test_both_writers_give_the_department_the_same_copy(catalogue, template, tmp_path):
    source = fill_template(template("企画調整部", 2023), {"GOV-K01": "集計中", "REG-K01": "約150人"})
    issues = rejected(catalogue, source) + [Issue("bad_as_of", "実績報告", "F8", "REG-K01", {"value": "x"}),
                                            Issue("department_mismatch", "実績報告", None, None, {"detail": "総務部"})]
    assert annotate_package(source, issues, tmp_path / "xml.xlsx")
    annotate_workbook(source, issues, tmp_path / "openpyxl.xlsx")
    xml, slow = _copy_as_seen(tmp_path / "xml.xlsx"), _copy_as_seen(tmp_path / "openpyxl.xlsx")
    names, active, tabs, marked, rows, links, bold = xml
    assert names == ["エラー一覧", "実績報告", "取組実績"] and active == "エラー一覧" and tabs == ["エラー一覧"]
    assert marked[("実績報告", "E7")][0] == "FFC7CE" and marked[("実績報告", "E8")][0] == "FFEB9C"
    assert links["B2"][0] == "'実績報告'!E7" and bold
    assert xml == slow
