"""The survey sheet (調査票) a local government fills in: template, fill, check and run (issue 25)."""

from __future__ import annotations

from openpyxl import load_workbook

from helpers import cli_in_process, drop, query_many
from shinchoku.config import Limits
from shinchoku.documents.template import fill_survey, fill_template, write_survey
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.assess import assess_files
from shinchoku.workbook.layout import HEADER_ROW, SURVEY_HEADER, SURVEY_SHEET

RECORD_KEYS = {"table", "item_id", "component_id", "role", "local_government", "department", "fiscal_year", "as_of",
               "actual_value", "raw_value", "provisional", "note", "source_cell", "row0", "shown", "marks"}


def test_the_survey_template_asks_each_government_for_its_counts_and_reads_them_back(catalogue, tmp_path):
    path = write_survey(catalogue, "072036", 2023, tmp_path / "郡山市.xlsx")  # by code; 郡山市 by name is the same
    wb = load_workbook(path)
    ws = wb[SURVEY_SHEET]
    assert tuple(c.value for c in ws[HEADER_ROW]) == SURVEY_HEADER
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert [(r[0], r[1], r[3]) for r in rows] == [("GOV-K01", "online", "件"), ("GOV-K01", "total", "件"),
                                                  ("EDU-K01", "ict_teachers", "人"), ("EDU-K01", "teachers", "人")]
    assert all(r[4] == "令和5年度" and r[5] is None for r in rows)
    assert ws.cell(row=HEADER_ROW + 1, column=6).fill.fgColor.rgb.endswith("FFF2CC")  # 実数 is an input cell
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["shinchoku_local_government"] == "072036" and props["shinchoku_fiscal_year"] == 2023
    text = " ".join(str(ws.cell(row=r, column=1).value) for r in range(1, HEADER_ROW))
    assert "整数" in text and "率" in text and "0 を入力" in text
    # the prefecture is asked for GOV-K01 only (EDU-K01 is reported by the municipalities)
    pref = load_workbook(write_survey(catalogue, "福島県", 2023, tmp_path / "福島県.xlsx"))[SURVEY_SHEET]
    assert [r[:2] for r in pref.iter_rows(min_row=HEADER_ROW + 1, values_only=True)] == [("GOV-K01", "online"),
                                                                                          ("GOV-K01", "total")]

    filled = fill_survey(path, {("GOV-K01", "online"): 1234, ("GOV-K01", "total"): 2000,
                                ("EDU-K01", "ict_teachers"): 0, ("EDU-K01", "teachers"): 0},
                         notes={("GOV-K01", "total"): "電子申請システム集計"})
    [a] = assess_files([(filled, "郡山市")], catalogue, Limits())
    assert a.accepted and not a.issues, [i.message for i in a.issues]
    assert all(set(r) >= RECORD_KEYS for r in a.records)
    got = {(r["item_id"], r["component_id"]): (r["role"], r["local_government"], r["department"], r["fiscal_year"],
                                               str(r["as_of"]), r["actual_value"], r["note"], r["source_cell"])
           for r in a.records}
    assert got == {
        ("GOV-K01", "online"): ("numerator", "072036", "郡山市", 2023, "2024-03-31", 1234, None, "F7"),
        ("GOV-K01", "total"): ("denominator", "072036", "郡山市", 2023, "2024-03-31", 2000, "電子申請システム集計", "F8"),
        ("EDU-K01", "ict_teachers"): ("numerator", "072036", "郡山市", 2023, "2024-03-31", 0, None, "F9"),
        ("EDU-K01", "teachers"): ("denominator", "072036", "郡山市", 2023, "2024-03-31", 0, None, "F10"),
    }


def test_a_count_the_government_is_not_asked_for_is_rejected(catalogue, tmp_path):
    path = write_survey(catalogue, "福島県", 2023, tmp_path / "福島県.xlsx")
    wb = load_workbook(path)
    ws = wb[SURVEY_SHEET]
    for row, component in ((9, "ict_teachers"), (10, "teachers")):  # EDU-K01 is asked of the municipalities only
        for col, value in enumerate(("EDU-K01", component, "", "人", "令和5年度", 10), start=1):
            ws.cell(row=row, column=col, value=value)
    ws.cell(row=11, column=1, value="GOV-K01"), ws.cell(row=11, column=2, value="paper"), ws.cell(row=11, column=6, value=3)
    wb.save(path)
    [a] = assess_files([(path, "福島県")], catalogue, Limits())
    assert {(i.code, i.cell) for i in a.errors} == {("component_not_expected", "B9"), ("component_not_expected", "B10"),
                                                    ("unknown_component", "B11")}


def test_a_department_reporting_a_computed_kpi_is_kept_with_a_warning(catalogue, template):
    path = fill_template(template("企画調整部", 2023), {"GOV-K01": 61.5, "REG-K01": 140})
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert a.accepted
    assert [(i.code, i.cell, i.kpi_id) for i in a.warnings] == [("computed_kpi_reported", "E7", "GOV-K01")]
    assert "調査票" in a.warnings[0].message
    # before the rule is in force (FY2020) the department's figure is the KPI itself: no warning
    path = fill_template(template("企画調整部", 2020), {"GOV-K01": 40.0})
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert not [i for i in a.issues if i.code == "computed_kpi_reported"]


def test_survey_sheets_through_check_and_a_run(settings, catalogue, tmp_path):
    sheet = {}
    for government in ("郡山市", "会津若松市", "福島市"):
        sheet[government] = write_survey(catalogue, government, 2023, tmp_path / "blank" / f"{government}.xlsx")
    ok = fill_survey(sheet["郡山市"], {("GOV-K01", "online"): 1234, ("GOV-K01", "total"): 2000,
                                     ("EDU-K01", "ict_teachers"): 0, ("EDU-K01", "teachers"): 0},
                     out=tmp_path / "R5_調査票_郡山市.xlsx")
    above = fill_survey(sheet["会津若松市"], {("GOV-K01", "online"): 2500, ("GOV-K01", "total"): 2000},
                        out=tmp_path / "R5_調査票_会津若松市.xlsx")
    rates = fill_survey(sheet["福島市"], {("GOV-K01", "online"): "61.5%", ("GOV-K01", "total"): 2000,
                                        ("EDU-K01", "ict_teachers"): 0.615, ("EDU-K01", "teachers"): 800},
                        formats={("EDU-K01", "ict_teachers"): "0.0%"}, out=tmp_path / "R5_調査票_福島市.xlsx")
    dropped = {"ok": drop(settings, ok, "郡山市"), "above": drop(settings, above, "会津若松市"),
               "rates": drop(settings, rates, "福島市"),
               "elsewhere": drop(settings, ok, "いわき市", "郡山市のもの.xlsx")}  # 郡山市's sheet in いわき市's folder
    expected = {"R5_調査票_郡山市.xlsx": set(),
                "R5_調査票_会津若松市.xlsx": {("numerator_above_denominator", "F7")},
                "R5_調査票_福島市.xlsx": {("rate_for_count", "F7"), ("rate_for_count", "F9")},
                "郡山市のもの.xlsx": {("local_government_mismatch", None)}}

    checked = cli_in_process("check", "--quiet", *map(str, dropped.values()))
    assert checked.returncode == 1, checked.stderr
    verdicts = {line.split(" ", 1)[1].split("(団体", 1)[0].rsplit("/", 1)[1]: line[:2]
                for line in checked.stdout.splitlines() if line.startswith(("OK ", "NG "))}
    assert verdicts == {name: "NG" if errors else "OK" for name, errors in expected.items()}
    assert "分母(F8の 2,000)" in checked.stdout  # both cells named

    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 1
    got = query_many(settings.warehouse, {
        "submissions": "select file_name, department, local_government, status, sheet from raw_submissions",
        "issues": "select s.file_name, i.code, i.cell from raw_validation_issues i join raw_submissions s "
                  "using (submission_id) where i.severity = 'error'",
        "updated": "select kpis_updated from raw_runs",
        "counts": "select local_government, kpi_id, component_id, fiscal_year, cast(as_of as varchar), count, "
                  "raw_value, source_sheet, source_cell from raw_component_counts order by source_cell",
    })
    assert sorted(got["submissions"]) == sorted([
        ("R5_調査票_郡山市.xlsx", "郡山市", "072036", "accepted", "調査票"),
        ("R5_調査票_会津若松市.xlsx", "会津若松市", "072028", "rejected", "調査票"),
        ("R5_調査票_福島市.xlsx", "福島市", "072010", "rejected", "調査票"),
        ("郡山市のもの.xlsx", "いわき市", "072044", "rejected", "調査票")])
    assert {name: {(code, cell) for f, code, cell in got["issues"] if f == name} for name in expected} == expected
    assert got["updated"] == [(2,)]  # GOV-K01 and EDU-K01 of R5, by 郡山市's counts
    assert got["counts"] == [  # only the accepted sheet's counts, each with its cell (F10 sorts before F7)
        ("072036", "EDU-K01", "teachers", 2023, "2024-03-31", 0.0, "0", "調査票", "F10"),
        ("072036", "GOV-K01", "online", 2023, "2024-03-31", 1234.0, "1234", "調査票", "F7"),
        ("072036", "GOV-K01", "total", 2023, "2024-03-31", 2000.0, "2000", "調査票", "F8"),
        ("072036", "EDU-K01", "ict_teachers", 2023, "2024-03-31", 0.0, "0", "調査票", "F9")]

    rejected = settings.inbox / "会津若松市" / "rejected"
    annotated = load_workbook(rejected / "R5_調査票_会津若松市.エラー箇所.xlsx")
    cell = annotated[SURVEY_SHEET]["F7"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "F8" in cell.comment.text
    listed = [r[:5] for r in annotated["エラー一覧"].iter_rows(min_row=2, values_only=True)]
    assert listed == [(SURVEY_SHEET, "F7", "GOV-K01", "エラー", "numerator_above_denominator")]
    marked = load_workbook(settings.inbox / "福島市" / "rejected" / "R5_調査票_福島市.エラー箇所.xlsx")[SURVEY_SHEET]
    assert all(marked[ref].fill.fgColor.rgb.endswith("FFC7CE") for ref in ("F7", "F9"))
    # the error lists speak to a 団体 (as it submits, not of folders), and the sheet of another government names the
    # folder it belongs in
    listing = (rejected / "R5_調査票_会津若松市.エラー一覧.txt").read_text(encoding="utf-8")
    assert "団体: 会津若松市" in listing and "部局" not in listing
    assert "直した調査票を、これまでと同じ方法でもう一度提出してください" in listing and "inbox" not in listing
    elsewhere = (settings.inbox / "いわき市" / "rejected" / "郡山市のもの.エラー一覧.txt").read_text(encoding="utf-8")
    # another government's sheet: which one to send instead, and no folder (a local government need not see the share)
    assert "「いわき市」用の調査票(DX推進課が配布したもの)に記入して" in elsewhere and "inbox" not in elsewhere
