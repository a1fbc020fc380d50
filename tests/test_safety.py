"""Nothing a submitter writes turns into a live formula, into SQL, or into a path outside its place."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from helpers import drop, query
from shinchoku.cli import main
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.layout import SHEET
from shinchoku.documents.report import build_report
from shinchoku.documents.template import fill_outcomes, fill_template
from shinchoku.workbook.xlsx import set_text

PAYLOADS = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1",
            "=cmd|' /C calc'!A0"]


def _with_text_cells(path, cells: dict[str, str]):
    """Put text cells into the return sheet, stored as text the way Excel stores a quoted entry."""
    wb = load_workbook(path)
    for ref, text in cells.items():
        set_text(wb[SHEET][ref], text)
    wb.save(path)
    return path


@pytest.fixture
def hostile_text_run(settings, catalogue, template, tmp_path):
    notes = {f"G{7 + n}": text for n, text in enumerate(PAYLOADS[:2])}
    accepted = fill_template(template("企画調整部", 2023), {"GOV-K01": 61.5, "REG-K01": 140},
                             out=tmp_path / "accepted.xlsx")
    _with_text_cells(accepted, notes)
    fill_outcomes(accepted, [("GOV-04", payload, payload, None, None, None) for payload in PAYLOADS])
    drop(settings, accepted, "企画調整部", "accepted.xlsx")
    rejected = fill_template(template("総務部", 2023), {}, out=tmp_path / "rejected.xlsx")
    _with_text_cells(rejected, {"E7": PAYLOADS[0], "G7": PAYLOADS[-1]})
    drop(settings, rejected, "総務部", "rejected.xlsx")
    summary = run_ingest(settings, catalogue)
    assert {d.candidate.path.name: d.status for d in summary.decisions} == {"accepted.xlsx": "accepted",
                                                                            "rejected.xlsx": "rejected"}
    return settings


def _assert_no_formulas(ws, payloads):
    seen = set()
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} became a formula: {cell.value!r}"
            if isinstance(cell.value, str):
                seen |= {p for p in payloads if p.strip() in cell.value}
    return seen


def test_the_report_writes_department_text_as_text(hostile_text_run, tmp_path):
    wb = load_workbook(build_report(hostile_text_run.warehouse, tmp_path / "report.xlsx"))
    seen = set()
    for ws in wb.worksheets:
        seen |= _assert_no_formulas(ws, PAYLOADS)
    assert len(seen) >= 5  # the outcome texts are really in the report, as strings


def test_the_annotated_copy_writes_department_text_as_text(hostile_text_run):
    annotated = hostile_text_run.inbox / "総務部" / "rejected" / "rejected.エラー箇所.xlsx"
    wb = load_workbook(annotated)
    for ws in wb.worksheets:
        _assert_no_formulas(ws, PAYLOADS)
    listed = [c for row in wb["エラー一覧"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any(PAYLOADS[0] in text for text in listed)  # the message quotes the value, as text
    assert wb[SHEET]["G7"].value == PAYLOADS[-1] and wb[SHEET]["G7"].data_type == "s"


def test_csv_export_neutralises_formula_text(hostile_text_run, tmp_path):
    out = tmp_path / "outcomes.csv"
    assert main(["export", "initiative_outcomes", "--warehouse", str(hostile_text_run.warehouse), "-o", str(out)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    texts = [row[rows[0].index("outcome_text")] for row in rows[1:]]
    for payload in PAYLOADS:
        assert "'" + payload.strip() in texts  # prefixed: a spreadsheet shows it, never evaluates it
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for t in row)


def test_sql_in_cells_and_folder_names_is_only_data(settings, catalogue, template, tmp_path):
    sql = "x'); DROP TABLE raw_submissions; --"
    good = fill_template(template("総務部", 2022), {"GOV-K02": 30}, notes={"GOV-K02": sql}, out=tmp_path / "a.xlsx")
    drop(settings, good, "総務部", "a.xlsx")
    bad = fill_template(template("総務部", 2022), {"GOV-K02": 31}, out=tmp_path / "b.xlsx")
    wb = load_workbook(bad)
    wb[SHEET].append([sql, None, None, 2022, 1, None, sql])
    wb.save(bad)
    drop(settings, bad, "総務部", "b.xlsx")
    drop(settings, good, "総務部'; DROP TABLE raw_runs; --", "c.xlsx")
    run_ingest(settings, catalogue)
    tables = {r[0] for r in query(settings.warehouse, "select table_name from information_schema.tables")}
    assert {"raw_submissions", "raw_runs", "raw_observations", "raw_validation_issues"} <= tables
    assert query(settings.warehouse, "select note from observation_history") == [(sql,)]
    assert (sql, "unknown_kpi") in query(settings.warehouse, "select kpi_id, code from validation_issues")
    departments = {r[0] for r in query(settings.warehouse, "select department from submissions")}
    assert "総務部'; DROP TABLE raw_runs; --" in departments
    assert query(settings.warehouse, "select count(*) from raw_runs") == [(1,)]


def test_names_and_declared_departments_cannot_place_files_elsewhere(settings, catalogue, template, tmp_path):
    from openpyxl.packaging.custom import StringProperty

    names = ["x..xlsx", "-rf.xlsx", "名前 (1) ;rm -rf $(id).xlsx", "x" * 200 + ".xlsx", "CON.xlsx", "a\nb.xlsx"]
    for n, name in enumerate(names):
        path = fill_template(template("総務部", 2022), {"GOV-K02": f"集計中{n}"}, out=tmp_path / f"{n}.xlsx")
        wb = load_workbook(path)
        wb.custom_doc_props.props = [p for p in wb.custom_doc_props.props if p.name != "shinchoku_department"]
        wb.custom_doc_props.append(StringProperty(name="shinchoku_department", value="../../../../tmp/evil"))
        wb.save(path)
        drop(settings, path, "総務部", name)
    run_ingest(settings, catalogue)
    assert not [p for p in tmp_path.parent.rglob("*evil*")]  # the declared department never became a path
    archived = [p for p in settings.archive_dir.rglob("*") if p.is_file()]
    assert archived and all(p.parent.parent == settings.archive_dir for p in archived)
    assert all(len(p.stem) == 64 and p.suffix in (".xlsx", ".bin") for p in archived)
    rejected = settings.inbox / "総務部" / "rejected"
    for name in names:
        assert (rejected / name).exists()
    for p in settings.inbox.rglob("*"):
        assert settings.inbox in p.resolve().parents
    codes = {r[0] for r in query(settings.warehouse, "select code from validation_issues")}
    assert "department_mismatch" in codes
