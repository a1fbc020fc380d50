"""Return sheets as departments really fill them: the corpus, read in-process."""

from __future__ import annotations

import datetime as dt

import pytest

from corpus import CASES, item_key, write_case
from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case, catalogue, tmp_path):
    path = write_case(case, tmp_path / case.department / f"{case.name}.xlsx")
    [a] = assess_files([(path, case.department)], catalogue, Limits())
    errors = {(i.code, i.cell) for i in a.errors}
    assert errors == case.errors, [i.message for i in a.issues]
    if case.accepted:
        got = {(item_key(r), r["fiscal_year"], str(r["as_of"])): r["actual_value"] for r in a.records}
        assert got == pytest.approx(case.values)
        assert {i.code for i in a.warnings} >= case.warnings
    for issue in a.issues:
        assert issue.message and issue.fix
        assert any("\u3040" <= ch <= "\u9fff" for ch in issue.message)  # Japanese
        if issue.cell:
            assert issue.sheet


def test_all_problems_are_reported_at_once(catalogue, tmp_path):
    case = next(c for c in CASES if c.name == "many_errors_at_once")
    [a] = assess_files([(write_case(case, tmp_path / "x.xlsx"), case.department)], catalogue, Limits())
    assert len(a.errors) == 3


def test_batch_validation_splits_failures_back_per_file(catalogue, tmp_path):
    cases = [c for c in CASES if c.build is None]
    items = [(write_case(c, tmp_path / f"{n}_{c.name}.xlsx"), c.department) for n, c in enumerate(cases)]
    together = assess_files(items, catalogue, Limits())
    alone = [assess_files([item], catalogue, Limits())[0] for item in items]
    for case, t, a in zip(cases, together, alone):
        assert {(i.code, i.cell) for i in t.issues} == {(i.code, i.cell) for i in a.issues}, case.name


def test_parallel_parsing_gives_the_same_result(catalogue, tmp_path):
    cases = [c for c in CASES if c.build is None]
    items = [(write_case(c, tmp_path / f"{n}_{c.name}.xlsx"), c.department) for n, c in enumerate(cases)]
    assert len(items) >= 24  # enough for the process pool
    serial = assess_files(items, catalogue, Limits(), workers=1)
    parallel = assess_files(items, catalogue, Limits(), workers=2)
    for s, p in zip(serial, parallel):
        assert [(i.code, i.cell) for i in s.issues] == [(i.code, i.cell) for i in p.issues]
        assert s.records == p.records


def test_every_schema_check_is_an_issue_code():
    import schemas.return_sheet as rules
    from shinchoku.workbook.assess import _KINDS
    from shinchoku.workbook.messages import CODES

    applied = {name for names in _KINDS.values() for name in names}  # every schema the batch runs
    assert applied == {"ObservationRules", "ObservationWarnings", "ExplanationRules", "OutcomeRules", "SurveyRules"}
    for name in applied:
        names = [c.name for c in getattr(rules, name).to_schema().checks]
        assert names and set(names) <= set(CODES), name


@pytest.mark.parametrize("value, fmt, code, quoted", [
    (61.2, "0.0%", "percent_out_of_range", "実績値 6120.0% は"),  # the cell shows 6120.0%, not the stored 61.2
    (48441, "#,##0,", "scaled_display", "「48」と表示されていますが、入力されている数値は 48,441 です"),
    (0, '#,##0;-#,##0;"-"', "shown_as_text", "「-」と表示されていますが、入力されている数値は 0 です"),
    (140, ";;;", "hidden_value", "数値 140 が入力されていますが"),
    (140, '#,##0"件"', "unit_mismatch", "単位「件」は"),
    (dt.datetime(2026, 1, 2), "m/d", "value_not_number", "実績値「1/2」を"),  # 1/2 typed in Calc: a date, quoted as shown
])
def test_messages_quote_the_cell_as_shown(value, fmt, code, quoted, catalogue, tmp_path):
    from corpus import Case

    kpi, unit = ("GOV-K01", "%") if code == "percent_out_of_range" else ("REG-K01", "人")
    case = Case(code, "企画調整部", [(kpi, "", unit, 2023, value, None, None)], formats={(0, "実績値"): fmt})
    [a] = assess_files([(write_case(case, tmp_path / "x.xlsx"), case.department)], catalogue, Limits())
    [issue] = a.errors
    assert issue.code == code and quoted in issue.message, issue.message
