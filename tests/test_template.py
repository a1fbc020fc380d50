"""The return sheet: what a department receives, and the round trip template -> fill -> read."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits
from shinchoku.workbook.layout import HEADER, HEADER_ROW, SHEET
from shinchoku.documents.template import column_of, fill_template


def test_template_layout(catalogue, template):
    path = template("保健福祉部", 2022)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == SHEET
    ws = wb[SHEET]
    header = [c.value for c in ws[HEADER_ROW]]
    assert tuple(header[:7]) == HEADER
    assert {"基準値", "目標値"} <= set(header)
    data = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    owned = [k.kpi_id for k in catalogue.kpis_of("保健福祉部")]
    assert [r[0] for r in data] == owned
    assert all(r[3] == "令和4年度" for r in data)  # 年度 pre-filled
    assert all(r[4] is None for r in data)  # 実績値 left for the department
    for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(owned)):
        value_cell = ws.cell(row=row, column=5)
        assert value_cell.number_format == "General"  # a typed 48.2 means 48.2
        assert value_cell.fill.fgColor.rgb.endswith("FFF2CC")  # input cells are marked
    baseline = {r[0]: r[header.index("基準値")] for r in data}
    assert baseline["HLT-K01"] == 172
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["shinchoku_department"] == "保健福祉部" and props["shinchoku_fiscal_year"] == 2022
    text = " ".join(str(ws.cell(row=r, column=1).value) for r in range(1, HEADER_ROW))
    assert "記入方法" in text and "黄色" in text


def test_percent_kpi_template_shows_reference_with_written_precision(template):
    wb = load_workbook(template("企画調整部", 2023))
    ws = wb[SHEET]
    row = next(r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "GOV-K01")
    assert ws.cell(row=row, column=column_of("目標値")).value == 80.0
    assert ws.cell(row=row, column=column_of("目標値")).number_format == "#,##0.0"
    assert ws.cell(row=row, column=5).number_format == "General"


def test_round_trip(catalogue, template):
    path = fill_template(template("企画調整部", 2023), {"GOV-K01": 61.5, "REG-K01": 140},
                         as_of={"REG-K01": "2月末現在"}, notes={"GOV-K01": "速報値"})
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert a.accepted, [i.message for i in a.issues]
    got = {r["item_id"]: (r["fiscal_year"], str(r["as_of"]), r["actual_value"], r["note"], r["source_cell"]) for r in a.records}
    assert got == {
        "GOV-K01": (2023, "2024-03-31", 61.5, "速報値", "E7"),
        "REG-K01": (2023, "2024-02-29", 140.0, None, "E8"),
    }


@pytest.mark.parametrize("year", [2021, 2023, 2024, 2025])
def test_the_example_as_of_lies_inside_the_sheets_own_year(template, year):
    import datetime as dt
    import re

    ws = load_workbook(template("企画調整部", year))[SHEET]
    text = " ".join(str(ws.cell(row=r, column=1).value) for r in range(1, HEADER_ROW))
    [example] = re.findall(r"例: (\d{4}/\d{1,2}/\d{1,2})", text)
    day = dt.datetime.strptime(example, "%Y/%m/%d").date()
    assert dt.date(year, 4, 1) <= day <= dt.date(year + 1, 3, 31)
    assert (day + dt.timedelta(days=1)).month == 3  # the last day of February
    if year == 2024:
        assert example == "2025/2/28"


def test_the_example_as_of_typed_into_an_r6_sheet_is_accepted_as_is(catalogue, template):
    from shinchoku.documents.template import example_as_of

    day = example_as_of(2024)
    path = fill_template(template("企画調整部", 2024), {"REG-K01": 140},
                         as_of={"REG-K01": f"{day.year}/{day.month}/{day.day}"})
    [a] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert a.accepted and not [i for i in a.issues if i.code == "as_of_outside_year"], [i.message for i in a.issues]
    assert {r["item_id"]: str(r["as_of"]) for r in a.records} == {"REG-K01": "2025-02-28"}


def test_a_kpi_computed_from_the_survey_sheets_asks_for_no_value(catalogue, template):
    """企画調整部's GOV-K01 comes from the local governments' counts: its 実績値 cell is grey and its prompt says there
    is nothing to type (a typed value is the fallback); REG-K01 beside it is an input cell as ever. 教育庁, whose one
    KPI is computed, returns a sheet with no value without being told it forgot them (no_values); 総務部 would be."""
    from shinchoku.documents.template import COMPUTED_PROMPT

    ws = load_workbook(template("企画調整部", 2023))[SHEET]
    rows = {ws.cell(row=r, column=1).value: r for r in range(HEADER_ROW + 1, ws.max_row + 1)}
    prompts = {cell: dv.prompt for dv in ws.data_validations.dataValidation for rng in dv.sqref.ranges
               for cell in (rng.coord,)}
    value = column_of("実績値")
    cell = {kpi: ws.cell(row=r, column=value) for kpi, r in rows.items() if kpi in ("GOV-K01", "REG-K01")}
    assert prompts[cell["GOV-K01"].coordinate] == COMPUTED_PROMPT
    assert prompts[cell["REG-K01"].coordinate] != COMPUTED_PROMPT
    assert cell["GOV-K01"].fill.fgColor.rgb.endswith("EDEDED") and cell["REG-K01"].fill.fgColor.rgb.endswith("FFF2CC")

    [education, general] = assess_files([(template("教育庁", 2023), "教育庁"), (template("総務部", 2023), "総務部")],
                                         catalogue, Limits())
    assert education.accepted and education.warnings == []
    assert [i.code for i in general.warnings] == ["no_values"]
