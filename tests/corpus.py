"""A corpus of messy return sheets, built in code, each with its expected outcome.

Every case is a workbook as some department might really send it, and either
the values shinchoku must read from it, or the codes it must reject it with
and the cells they point at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import IntProperty, StringProperty

from shinchoku.workbook.layout import HEADER, PROP_DEPARTMENT, PROP_FISCAL_YEAR


def item_key(rec: dict) -> str:
    """A record's item as the cases name it: the KPI, or for a survey sheet's count the KPI/component."""
    return f"{rec['item_id']}/{rec['component_id']}" if rec["table"] == "component" else rec["item_id"]


@dataclass
class Case:
    """One workbook: how to build it, and what shinchoku must conclude."""

    name: str
    department: str
    rows: list[tuple]
    values: dict[tuple[str, int, str], float] = field(default_factory=dict)  # (kpi, fy, as_of) -> value
    errors: set[tuple[str, str]] = field(default_factory=set)  # (code, cell)
    warnings: set[str] = field(default_factory=set)
    top: int = 0
    left: int = 0
    sheet: str = "実績報告"
    extra: tuple = ()
    formats: dict = field(default_factory=dict)  # (row index, label) -> number format
    title: str | None = None
    declared: str | None = "same"
    year: int = 2023
    build: object = None  # a callable(path) overriding the default builder

    @property
    def accepted(self) -> bool:
        return not self.errors


def write_case(case: Case, path: Path) -> Path:
    """Write a case's workbook to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.build:
        case.build(path)
        return path
    wb = Workbook()
    ws = wb.active
    ws.title = case.sheet
    if case.title:
        ws.cell(row=1, column=1, value=case.title)
        ws.merge_cells(start_row=1, start_column=1, end_row=2, end_column=6)
    labels = list(HEADER) + list(case.extra)
    for col, label in enumerate(labels, start=1 + case.left):
        ws.cell(row=1 + case.top, column=col, value=label)
    for r, row in enumerate(case.rows, start=2 + case.top):
        for c, value in enumerate(row, start=1 + case.left):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    for (r, label), fmt in case.formats.items():
        ws.cell(row=2 + case.top + r, column=1 + case.left + HEADER.index(label)).number_format = fmt
    declared = case.department if case.declared == "same" else case.declared
    if declared:
        wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=declared))
        wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=case.year))
    wb.save(path)
    return path


END = "2024-03-31"


def _two_sheets(path: Path) -> None:
    wb = Workbook()
    for title in ("A", "B"):
        ws = wb.create_sheet(title)
        ws.append(list(HEADER))
        ws.append(["REG-K01", "", "人", 2023, 130, None, None])
    del wb["Sheet"]
    wb.save(path)


def _no_table(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["報告", "R5"])
    ws.append(["REG-K01", 130])
    wb.save(path)


def _percent_typed_in_excel(path: Path) -> None:
    # What Excel stores when someone types 48.2% into a General cell: 0.482, formatted as a percentage.
    wb = Workbook()
    ws = wb.active
    ws.title = "実績報告"
    ws.append(list(HEADER))
    ws.append(["GOV-K01", "オンライン利用率", "%", "令和5年度", 0.615, None, None])
    ws["E2"].number_format = "0.0%"
    wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value="企画調整部"))
    wb.save(path)


def _survey(government: str, counts: dict, formats: dict | None = None, as_of: dict | None = None):
    """A local government's survey sheet (調査票) as shinchoku template writes it, filled with ``counts``."""
    def build(path: Path) -> None:
        from shinchoku.catalogue import load_catalogue
        from shinchoku.documents.template import fill_survey, write_survey

        fill_survey(write_survey(load_catalogue(), government, 2023, path), counts, formats=formats, as_of=as_of)
    return build


CASES = [
    # ---- accepted, with the values that must be read ----
    Case("plain", "企画調整部", [("GOV-K01", "", "%", 2023, 61.5, None, None), ("REG-K01", "", "人", 2023, 140, None, None)],
         values={("GOV-K01", 2023, END): 61.5, ("REG-K01", 2023, END): 140}),
    Case("moved_renamed_merged", "企画調整部",
         [("GOV-K01", "", "%", "R5", 62, None, "メモ"), (None,) * 7, ("REG-K01", "", "人", "Ｒ５", "１４１", None, None)],
         values={("GOV-K01", 2023, END): 62, ("REG-K01", 2023, END): 141},
         top=4, left=2, sheet="R5報告", extra=("担当者", "連絡先"), title="令和5年度 実績報告(企画調整部)"),
    Case("percent_cell", "企画調整部", [], values={("GOV-K01", 2023, END): 61.5}, build=_percent_typed_in_excel),
    Case("percent_text", "企画調整部", [("GOV-K01", "", "%", "令和５年度", "61.5%", None, None)],
         values={("GOV-K01", 2023, END): 61.5}),
    Case("full_width", "企画調整部", [("GOV-K01", "", "%", "2023年度", "６１．５", None, None)],
         values={("GOV-K01", 2023, END): 61.5}),
    Case("unit_conversion", "避難地域復興局", [("REC-K01", "", "万件", "R 5", "1,461,000件", None, None)],
         values={("REC-K01", 2023, END): 146.1}, warnings={"unit_converted"}),
    Case("paper_in_sheets", "総務部", [("GOV-K02", "", "百万枚", 2023, "25,000,000枚", None, None)],
         values={("GOV-K02", 2023, END): 25}, warnings={"unit_converted"}),
    Case("spaces_and_units", "総務部", [("GOV-K02", "", "百万枚", 2023, "25 百万枚", None, None)],
         values={("GOV-K02", 2023, END): 25}),
    Case("people_with_unit", "企画調整部", [("REG-K01", "", "人", 2023, "142 人", None, None)],
         values={("REG-K01", 2023, END): 142}),
    Case("spaces_between_digits", "企画調整部", [("REG-K01", "", "人", 2023, "1 4 2人", None, None)],
         errors={("value_not_number", "E2")}),
    Case("thousands", "危機管理部", [("SAF-K01", "", "人", 2023, "6，500", None, None)],
         values={("SAF-K01", 2023, END): 6500}),
    Case("approximate", "危機管理部", [("SAF-K01", "", "人", 2023, "約6,600人", None, None)],
         values={("SAF-K01", 2023, END): 6600}, warnings={"approximate_value"}),
    Case("as_of_forms", "企画調整部",
         [("REG-K01", "", "人", 2023, 120, dt.datetime(2023, 9, 30), None),
          ("REG-K01", "", "人", 2023, 125, "R5.12.31", None),
          ("REG-K01", "", "人", 2023, 131, "2月末現在", None),
          ("REG-K01", "", "人", 2023, 133, "令和6年3月15日", None)],
         values={("REG-K01", 2023, "2023-09-30"): 120, ("REG-K01", 2023, "2023-12-31"): 125,
                 ("REG-K01", 2023, "2024-02-29"): 131, ("REG-K01", 2023, "2024-03-15"): 133}),
    Case("blank_and_dash", "企画調整部", [("GOV-K01", "", "%", 2023, "-", None, None), ("REG-K01", "", "人", 2023, None, None, None)]),
    Case("integer_year_cell", "保健福祉部", [("HLT-K01", "", "施設", 2022, 260, None, None)], values={("HLT-K01", 2022, "2023-03-31"): 260}),
    Case("no_declared_department", "保健福祉部", [("HLT-K02", "", "件", "R4", "65,000件", None, None)],
         values={("HLT-K02", 2022, "2023-03-31"): 65000}, declared=None),
    # ---- rejected, with the codes and cells ----
    Case("not_a_number", "企画調整部", [("GOV-K01", "", "%", 2023, "集計中", None, None)], errors={("value_not_number", "E2")}),
    Case("unknown_kpi", "企画調整部", [("GOV-K99", "", "%", 2023, 50, None, None)], errors={("unknown_kpi", "A2")}),
    Case("other_departments_kpi", "企画調整部", [("GOV-K02", "", "百万枚", 2023, 25, None, None)], errors={("wrong_department", "A2")}),
    Case("year_after_plan", "企画調整部", [("GOV-K01", "", "%", 2030, 70, None, None)], errors={("year_out_of_range", "D2")}),
    Case("year_before_plan", "企画調整部", [("GOV-K01", "", "%", "令和元年度", 50, None, None)], errors={("year_out_of_range", "D2")}),
    Case("bad_year", "企画調整部", [("GOV-K01", "", "%", "来年度", 50, None, None)], errors={("bad_fiscal_year", "D2")}),
    Case("twice_in_one_file", "企画調整部",
         [("REG-K01", "", "人", 2023, 140, None, None), ("REG-K01", "", "人", "R5", 141, None, None)],
         errors={("duplicate_row", "A2"), ("duplicate_row", "A3")}),
    Case("unit_mismatch", "企画調整部", [("REG-K01", "", "人", 2023, "150件", None, None)], errors={("unit_mismatch", "E2")}),
    Case("percent_over_100", "企画調整部", [("GOV-K01", "", "%", 2023, 120, None, None)], errors={("percent_out_of_range", "E2")}),
    Case("percent_below_0", "企画調整部", [("GOV-K01", "", "%", 2023, "△3", None, None)], errors={("percent_out_of_range", "E2")}),
    Case("negative_count", "企画調整部", [("REG-K01", "", "人", 2023, "▲5", None, None)], errors={("negative_value", "E2")}),
    Case("formula_never_saved", "企画調整部", [("REG-K01", "", "人", 2023, "=100+40", None, None)], errors={("formula_no_value", "E2")}),
    Case("bad_as_of", "企画調整部", [("REG-K01", "", "人", 2023, 140, "そのうち", None)], errors={("bad_as_of", "F2")}),
    Case("no_table", "企画調整部", [], errors={("no_table", None)}, build=_no_table),
    Case("table_on_two_sheets", "企画調整部", [], errors={("table_twice", None)}, build=_two_sheets),
    Case("declared_elsewhere", "企画調整部", [("REG-K01", "", "人", 2023, 140, None, None)], declared="総務部",
         errors={("department_mismatch", None)}),
    Case("spaced_approximate", "企画調整部", [("REG-K01", "", "人", 2023, "約 140 人", None, None)],
         values={("REG-K01", 2023, END): 140}, warnings={"approximate_value"}),
    Case("as_of_in_value", "企画調整部", [("REG-K01", "", "人", 2023, "132（2月末現在）", None, None)],
         values={("REG-K01", 2023, "2024-02-29"): 132}, warnings={"as_of_in_value"}),
    Case("provisional_with_as_of", "企画調整部", [("GOV-K01", "", "%", "R5", "61.0%(速報)(2月末現在)", None, None)],
         values={("GOV-K01", 2023, "2024-02-29"): 61}, warnings={"as_of_in_value"}),
    Case("as_of_in_value_agrees", "企画調整部", [("REG-K01", "", "人", 2023, "132(2月末現在)", "2024/2/29", None)],
         values={("REG-K01", 2023, "2024-02-29"): 132}),
    # ---- rejected: what a person would read differently from the number in the cell ----
    Case("as_of_conflict_date", "企画調整部", [("REG-K01", "", "人", 2023, "132(2月末現在)", "2023/12/31", None)],
         errors={("as_of_conflict", "E2")}),
    Case("as_of_conflict_year", "企画調整部", [("REG-K01", "", "人", 2023, "132(R4年度(2月末現在))", None, None)],
         errors={("as_of_conflict", "E2")}),
    Case("error_value", "企画調整部", [("REG-K01", "", "人", 2023, "#DIV/0!", None, None)],
         errors={("formula_error", "E2")}),
    Case("fraction_for_percent", "企画調整部", [("GOV-K01", "", "%", 2023, 0.615, None, None)],
         errors={("percent_as_fraction", "E2")}),
    Case("many_errors_at_once", "企画調整部",
         [("GOV-K01", "", "%", 2023, "集計中", None, None), ("REG-K01", "", "人", 2023, "150件", None, None),
          ("XXX", "", "", 2023, 1, None, None)],
         errors={("value_not_number", "E2"), ("unit_mismatch", "E3"), ("unknown_kpi", "A4")}),
    # ---- the number format is part of what a person reads (issue 21) ----
    Case("format_unit_converts", "避難地域復興局", [("REC-K01", "", "万件", 2023, 1461000, None, None)],
         formats={(0, "実績値"): '#,##0"件"'}, values={("REC-K01", 2023, END): 146.1}, warnings={"unit_converted"}),
    Case("format_unit_sheets", "総務部", [("GOV-K02", "", "百万枚", 2023, 38000000, None, None)],
         formats={(0, "実績値"): '#,##0"枚"'}, values={("GOV-K02", 2023, END): 38}),
    Case("format_unit_ten_thousands", "保健福祉部", [("HLT-K02", "", "件", 2023, 4.8441, None, None)],
         formats={(0, "実績値"): '0.0000"万件"'}, values={("HLT-K02", 2023, END): 48441}),
    Case("format_scaled_with_its_unit", "企画調整部", [("REG-K01", "", "人", 2023, 1200, None, None)],
         formats={(0, "実績値"): '#,##0,"千人"'}, values={("REG-K01", 2023, END): 1200}),
    Case("format_unit_mismatch", "企画調整部", [("REG-K01", "", "人", 2023, 140, None, None)],
         formats={(0, "実績値"): '#,##0"件"'}, errors={("unit_mismatch", "E2")}),
    Case("format_scaled_thousands", "保健福祉部", [("HLT-K02", "", "件", 2023, 48441, None, None)],
         formats={(0, "実績値"): "#,##0,"}, errors={("scaled_display", "E2")}),
    Case("format_scaled_millions", "保健福祉部", [("HLT-K02", "", "件", 2023, 48441000, None, None)],
         formats={(0, "実績値"): "#,##0,,"}, errors={("scaled_display", "E2")}),
    Case("format_zero_as_dash", "保健福祉部", [("HLT-K01", "", "施設", 2023, 0, None, None)],
         formats={(0, "実績値"): '#,##0;-#,##0;"-"'}, errors={("shown_as_text", "E2")}),
    Case("format_zero_accounting", "保健福祉部", [("HLT-K01", "", "施設", 2023, 0, None, None)],
         formats={(0, "実績値"): '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ '}, errors={("shown_as_text", "E2")}),
    Case("format_zero_not_counted", "保健福祉部", [("HLT-K01", "", "施設", 2023, 0, None, None)],
         formats={(0, "実績値"): '#,##0;△#,##0;"未集計"'}, errors={("shown_as_text", "E2")}),
    Case("format_hidden", "企画調整部", [("REG-K01", "", "人", 2023, 140, None, None)],
         formats={(0, "実績値"): ";;;"}, errors={("hidden_value", "E2")}),
    Case("format_time", "企画調整部", [("REG-K01", "", "人", 2023, 0.5, None, None)],
         formats={(0, "実績値"): "h:mm"}, errors={("time_value", "E2")}),
    Case("format_time_typed_in_calc", "企画調整部", [("REG-K01", "", "人", 2023, 0.520833333333333, None, None)],
         formats={(0, "実績値"): "HH:MM"}, errors={("time_value", "E2")}),
    Case("nines_beyond_a_double", "企画調整部", [("REG-K01", "", "人", 2023, "9" * 400, None, None)],
         errors={("value_too_large", "E2")}),
    Case("format_rounds_to_zero", "総務部", [("GOV-K02", "", "百万枚", 2023, 17.5, None, None)],
         formats={(0, "実績値"): '#,##0.0,,"百万枚"'}, errors={("rounded_to_zero", "E2")}),
    Case("format_negative_in_parentheses", "企画調整部", [("REG-K01", "", "人", 2023, -5, None, None)],
         formats={(0, "実績値"): "#,##0_);[Red](#,##0)"}, errors={("display_unreadable", "E2")}),
    Case("ten_times_the_target_without_baseline", "避難地域復興局", [("REC-K01", "", "万件", 2023, 1461000, None, None)],
         values={("REC-K01", 2023, END): 1461000}, warnings={"far_above_target"}),
    # ---- a local government's survey sheet (調査票) in its folder inbox/<団体名>/ ----
    Case("survey_counts", "郡山市", [], build=_survey("郡山市", {
        ("GOV-K01", "online"): 1234, ("GOV-K01", "total"): "2,000件", ("EDU-K01", "ict_teachers"): 0, ("EDU-K01", "teachers"): 0}),
         values={("GOV-K01/online", 2023, END): 1234, ("GOV-K01/total", 2023, END): 2000,
                 ("EDU-K01/ict_teachers", 2023, END): 0, ("EDU-K01/teachers", 2023, END): 0}),  # 0 of 0 is fine
    Case("survey_numerator_above_denominator", "会津若松市", [], build=_survey("会津若松市", {
        ("GOV-K01", "online"): 2500, ("GOV-K01", "total"): 2000}), errors={("numerator_above_denominator", "F7")}),
    Case("survey_rate_typed", "福島市", [], build=_survey("福島市", {
        ("GOV-K01", "online"): "61.5%", ("GOV-K01", "total"): 2000, ("EDU-K01", "ict_teachers"): 0.615,
        ("EDU-K01", "teachers"): 812.5}, formats={("EDU-K01", "ict_teachers"): "0.0%"}),
         errors={("rate_for_count", "F7"), ("rate_for_count", "F9"), ("count_not_whole", "F10")}),
    # the rate in words: told it is a rate (it was "cannot convert パーセント to 件")
    Case("survey_rate_in_words", "本宮市", [], build=_survey("本宮市", {
        ("GOV-K01", "online"): "61.5パーセント", ("GOV-K01", "total"): 2000, ("EDU-K01", "ict_teachers"): 7,
        ("EDU-K01", "teachers"): 10}), errors={("rate_for_count", "F7")}),
    Case("survey_denominator_blank", "二本松市", [], build=_survey("二本松市", {("EDU-K01", "ict_teachers"): 40}),
         errors={("component_missing", "F10")}),
    # a 時点 on the numerator's row only: two filled cells of different dates, not a blank one (the clerk trial)
    Case("survey_as_of_on_one_row", "檜枝岐村", [], build=_survey("檜枝岐村", {
        ("EDU-K01", "ict_teachers"): 5, ("EDU-K01", "teachers"): 8}, as_of={("EDU-K01", "ict_teachers"): "2024/2/29"}),
         errors={("components_differ", "F9")}),
    Case("survey_of_another_government", "いわき市", [], build=_survey("郡山市", {
        ("GOV-K01", "online"): 1, ("GOV-K01", "total"): 2}), errors={("local_government_mismatch", None)}),
    Case("survey_in_a_departments_folder", "企画調整部", [], build=_survey("福島県", {
        ("GOV-K01", "online"): 1, ("GOV-K01", "total"): 2}), errors={("survey_in_department_folder", None)}),
    Case("return_in_a_governments_folder", "相馬市", [("REG-K01", "", "人", 2023, 140, None, None)], declared=None,
         errors={("return_in_local_government_folder", None)}),
    Case("row_year_not_the_returns", "企画調整部", [("REG-K01", "", "人", "R5", 140, None, None)], year=2024,
         values={("REG-K01", 2023, END): 140}, warnings={"year_differs"}),

]


def read_back(path: Path):
    """openpyxl's view of a written case (for tests that need the file's own cells)."""
    return load_workbook(path)
