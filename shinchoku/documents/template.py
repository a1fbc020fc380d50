"""Write the return sheet (報告様式) a department fills in, and the survey sheet (調査票) a local government fills
in, and fill them in code.

The workbook records its department and fiscal year twice: visibly at the top
of the sheet, and as custom document properties the reader trusts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from ..catalogue import Catalogue, Kpi
from ..workbook.parse import era_year, fiscal_year_label
from ..workbook.xlsx import set_text
from .facts import format_reported

from ..workbook.layout import (EXPLANATION, HEADER, HEADER_ROW, OUTCOME_HEADER, OUTCOME_SHEET, PREVIOUS, PROP_DEPARTMENT,
                     PROP_FISCAL_YEAR, PROP_LOCAL_GOVERNMENT, PROP_VERSION, REFERENCE, SHEET, SURVEY_HEADER, SURVEY_KEY,
                     SURVEY_SHEET, SURVEY_VALUE, TEMPLATE_VERSION)

PROP_LOCAL_GOVERNMENT_NAME = "shinchoku_local_government_name"  # for people; the reader trusts the code only

COLUMNS = HEADER + EXPLANATION + REFERENCE + PREVIOUS
INPUT_COLUMNS = ("実績値", "時点", "備考", *EXPLANATION)


def column_of(label: str) -> int:
    """1-based column of a labelled column of the return sheet."""
    return COLUMNS.index(label) + 1

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
REFERENCE_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)

INSTRUCTIONS = (
    "記入方法: 黄色のセル(実績値・時点・備考・要因分析・今後の方向性)だけに記入してください。実績値は単位を付けずに数値で入力します(例: 48.2)。",
    "年度の途中の値は「時点」に日付(例: {example}、2月末現在)を入力します。年度末の確定値なら時点は空欄です。"
    "未集計の指標は空欄のままにしてください。「要因分析」には実績がこの値になった理由を、「今後の方向性」には今後の取組を記入します"
    "(評価がC・Dの指標や基準値より悪化した指標は必須。評価シートで委員会に示されます)。",
    "記入後は inbox/<部局名>/ のフォルダに保存してください。提出前に「shinchoku check ファイル名」で確認できます。",
)


def example_as_of(fiscal_year: int) -> dt.date:
    """The mid-year 時点 the instructions show: the last day of February inside the fiscal year (R6: 2025/2/28)."""
    return dt.date(fiscal_year + 1, 3, 1) - dt.timedelta(days=1)


def instructions(fiscal_year: int) -> tuple[str, ...]:
    """The instructions above the return sheet's table, their example 時点 within ``fiscal_year``."""
    day = example_as_of(fiscal_year)
    return tuple(text.format(example=f"{day.year}/{day.month}/{day.day}") for text in INSTRUCTIONS)


def number_format(decimals: int | None) -> str:
    """Excel number format showing a value with its written precision and thousands separators."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _reference(cell, value: float | None, decimals: int | None) -> None:
    if value is None:
        cell.value = "不明"
    else:
        cell.value = value
        cell.number_format = number_format(decimals)


def previous_year(warehouse: Path, fiscal_year: int) -> dict[str, tuple[float, str | None, str | None]]:
    """The accepted value, its 速報/見込/暫定 mark, and the grade of each KPI in the year before (kpi_progress);
    {} when there is no warehouse yet."""
    if not Path(warehouse).exists():
        return {}
    import duckdb

    from .. import database

    con = database.connect(warehouse)
    try:
        rows = con.execute("""
            select p.kpi_id, p.actual_value, p.provisional,
                   p.grade || coalesce('(' || g.label || ')', '') as grade
            from kpi_progress as p left join grade_bands as g on g.grade = p.grade
            where p.fiscal_year = ?""", [fiscal_year - 1]).fetchall()
    except duckdb.CatalogException:  # a warehouse from before the views
        return {}
    finally:
        con.close()
    return {kpi_id: (value, mark, grade) for kpi_id, value, mark, grade in rows}


def file_name(department: str, fiscal_year: int) -> str:
    """The return sheet's file name as handed out: R4_実績報告_総務部.xlsx."""
    return f"{era_year(fiscal_year)}_実績報告_{department}.xlsx"


def _lay_out(ws, widths: tuple[int, ...]) -> None:
    """A sheet's column widths and how it prints: frozen and repeated below the header row, A4 landscape, one page
    wide (the return sheet, the 取組実績 sheet and the survey sheet alike)."""
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _write_header(ws, labels: tuple[str, ...]) -> None:
    """The table's header row (the labels the reader finds the table by), white on dark blue."""
    for col, label in enumerate(labels, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = BORDER


def write_template(catalogue: Catalogue, department: str, fiscal_year: int, path: Path,
                   previous: dict[str, tuple[float, str | None, str | None]] | None = None) -> Path:
    """Write the return sheet for one department and fiscal year to ``path``.

    ``previous`` (from :func:`previous_year`) fills the reference columns 前年度実績 and 前年度評価.
    """
    if department not in catalogue.departments:
        raise KeyError(department)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    width = len(COLUMNS)
    previous = previous or {}

    ws["A1"] = f"DX推進計画 指標実績報告 {fiscal_year_label(fiscal_year)}"
    ws["A1"].font = Font(size=14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A2"], ws["B2"] = "部局", department
    ws["D2"], ws["E2"] = "対象年度", f"{fiscal_year_label(fiscal_year)}({fiscal_year})"
    for ref in ("A2", "D2"):
        ws[ref].font = Font(bold=True)
    for offset, text in enumerate(instructions(fiscal_year)):
        row = 3 + offset
        ws.cell(row=row, column=1, value=text).alignment = Alignment(wrap_text=False)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)

    _write_header(ws, COLUMNS)

    prompts: dict[str, DataValidation] = {}
    # the KPIs in force that fiscal year under this department, as defined that year
    for row, kpi in enumerate(catalogue.kpis_of(department, fiscal_year), start=HEADER_ROW + 1):
        _write_row(ws, row, kpi, fiscal_year, previous.get(kpi.kpi_id))
        computed = catalogue.rule_of(kpi.kpi_id, fiscal_year) is not None
        if computed:  # the local governments' survey sheets carry it: nothing to type (a typed value is the fallback)
            ws.cell(row=row, column=column_of("実績値")).fill = REFERENCE_FILL
        prompt = COMPUTED_PROMPT if computed else f"単位「{kpi.unit}」の数値を入力(単位は付けない)"
        dv = prompts.get(prompt)
        if dv is None:
            dv = DataValidation(allow_blank=True, showInputMessage=True, showErrorMessage=False,
                                promptTitle="実績値", prompt=prompt)
            prompts[prompt] = dv
            ws.add_data_validation(dv)
        dv.add(ws.cell(row=row, column=column_of("実績値")))

    _lay_out(ws, (11, 48, 10, 12, 12, 14, 24, 40, 40, 12, 10, 12, 10, 14, 14))

    _write_outcome_sheet(wb, catalogue, department, fiscal_year)
    wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=department))
    wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=fiscal_year))
    wb.custom_doc_props.append(StringProperty(name=PROP_VERSION, value=TEMPLATE_VERSION))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# the 実績値 cell's prompt on the row of a KPI computed that year from the local governments' survey sheets
COMPUTED_PROMPT = "県・市町村の調査票の件数から算出する指標です。記入は不要です(記入した値は、調査票の集計がないときだけ用います)。"


OUTCOME_INSTRUCTIONS = (
    "記入方法: 取組項目ごとに、その年度に行ったこと(取組内容)と成果・効果を黄色のセルに記入してください。",
    "成果を数値でも示せる場合は「数値」「単位」(例: 962 時間、27,000 千円)と、年度途中の値なら「時点」を記入します。"
    "成果が複数あるときは行を挿入して、項目IDを同じにしてください。",
)
OUTCOME_ROWS_PER_INITIATIVE = 2


def _write_outcome_sheet(wb, catalogue: Catalogue, department: str, fiscal_year: int) -> None:
    """The 取組実績 sheet: what each of the department's initiatives did and achieved this year."""
    ws = wb.create_sheet(OUTCOME_SHEET)
    ws["A1"] = f"DX推進計画 取組実績報告 {fiscal_year_label(fiscal_year)}"
    ws["A1"].font = Font(size=14, bold=True)
    ws["A2"], ws["B2"] = "部局", department
    for offset, text in enumerate(OUTCOME_INSTRUCTIONS):
        ws.cell(row=3 + offset, column=1, value=text)
    for col, label in enumerate(OUTCOME_HEADER, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.border = BORDER
    row = HEADER_ROW + 1
    year_text = fiscal_year_label(fiscal_year).replace("R", "令和")
    for initiative in catalogue.initiatives_of(department, fiscal_year):
        for _ in range(OUTCOME_ROWS_PER_INITIATIVE):
            for col, value in enumerate((initiative.initiative_id, initiative.name, year_text), start=1):
                ws.cell(row=row, column=col, value=value).border = BORDER
            for col in range(4, len(OUTCOME_HEADER) + 1):
                cell = ws.cell(row=row, column=col)
                cell.fill = INPUT_FILL
                cell.border = BORDER
                cell.number_format = "General"
            ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="center")
            row += 1
    _lay_out(ws, (10, 36, 12, 40, 50, 12, 10, 14))


def fill_outcomes(path: Path, outcomes: list[tuple], out: Path | None = None) -> Path:
    """Fill 取組実績 rows as a department would: (項目ID, 取組内容, 成果・効果, 数値, 単位, 時点) tuples."""
    wb = load_workbook(path)
    ws = wb[OUTCOME_SHEET]
    free: dict[str, list[int]] = {}
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        free.setdefault(ws.cell(row=row, column=1).value, []).append(row)
    for initiative_id, activities, text, value, unit, as_of in outcomes:
        rows = free.get(initiative_id)
        if rows:
            row = rows.pop(0)
        else:
            row = ws.max_row + 1
            ws.cell(row=row, column=1, value=initiative_id)
            ws.cell(row=row, column=3, value=ws.cell(row=HEADER_ROW + 1, column=3).value)
        for col, value_ in zip(range(4, 9), (activities, text, value, unit, as_of)):
            if isinstance(value_, str):
                set_text(ws.cell(row=row, column=col), value_)  # typed text stays text, even "=..."
            else:
                ws.cell(row=row, column=col, value=value_)
    target = Path(out or path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _write_row(ws, row: int, kpi: Kpi, fiscal_year: int, previous: tuple | None) -> None:
    values = {"指標ID": kpi.kpi_id, "指標名": kpi.name, "単位": kpi.unit,
              "年度": fiscal_year_label(fiscal_year).replace("R", "令和")}
    for col, label in enumerate(HEADER + EXPLANATION, start=1):
        cell = ws.cell(row=row, column=col, value=values.get(label))
        cell.border = BORDER
        cell.number_format = "General"
        if label in INPUT_COLUMNS:
            cell.fill = INPUT_FILL
        if label in EXPLANATION:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="center")
    _reference(ws.cell(row=row, column=column_of("基準値")), kpi.baseline_value, kpi.baseline_decimals)
    ws.cell(row=row, column=column_of("基準年度"), value=fiscal_year_label(kpi.baseline_fy) if kpi.baseline_fy else "不明")
    _reference(ws.cell(row=row, column=column_of("目標値")), kpi.target_value, kpi.target_decimals)
    ws.cell(row=row, column=column_of("目標年度"), value=fiscal_year_label(kpi.target_fy) if kpi.target_fy else "不明")
    value, mark, grade = previous or (None, None, None)
    shown = "-" if value is None else format_reported(value, "", max(kpi.baseline_decimals or 0,
                                                                     kpi.target_decimals or 0)) \
        + (f"({mark})" if mark else "")
    set_text(ws.cell(row=row, column=column_of("前年度実績")), shown)
    set_text(ws.cell(row=row, column=column_of("前年度評価")), grade or "-")
    for label in REFERENCE + PREVIOUS:
        ws.cell(row=row, column=column_of(label)).fill = REFERENCE_FILL
        ws.cell(row=row, column=column_of(label)).border = BORDER


def fill_template(path: Path, values: dict[str, object], *, as_of: dict[str, object] | None = None,
                  notes: dict[str, str] | None = None, formats: dict[str, str] | None = None,
                  explanations: dict[str, tuple[str | None, str | None]] | None = None,
                  out: Path | None = None) -> Path:
    """Fill 実績値 (and optionally 時点, 備考, a number format, 要因分析 and 今後の方向性) by 指標ID,
    as a department would, and save."""
    wb = load_workbook(path)
    ws = wb[SHEET]
    as_of, notes, formats, explanations = as_of or {}, notes or {}, formats or {}, explanations or {}
    value_col = column_of("実績値")
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        kpi_id = ws.cell(row=row, column=1).value
        if kpi_id in values:
            ws.cell(row=row, column=value_col).value = values[kpi_id]
        if kpi_id in formats:
            ws.cell(row=row, column=value_col).number_format = formats[kpi_id]
        if kpi_id in as_of:
            ws.cell(row=row, column=column_of("時点")).value = as_of[kpi_id]
        if kpi_id in notes:
            ws.cell(row=row, column=column_of("備考")).value = notes[kpi_id]
        for label, text in zip(EXPLANATION, explanations.get(kpi_id, ())):
            if text is not None:
                set_text(ws.cell(row=row, column=column_of(label)), text)
    target = Path(out or path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


SURVEY_INPUT_COLUMNS = (SURVEY_VALUE, "時点", "備考")
SURVEY_INSTRUCTIONS = (
    "記入方法: 黄色のセル(実数・時点・備考)だけに記入してください。実数には件数・人数を整数で入力します(例: 1234)。"
    "率や割合(%)ではなく、その元になる数を入力してください。該当がなければ 0 を入力します。",
    "分子(例: オンラインで行われた件数)と分母(例: 手続の総件数)は両方を記入してください。分子は分母を超えません。"
    "年度の途中の値なら「時点」に日付(例: {example})を入力します。年度末の値なら時点は空欄です。",
    "記入後は inbox/{name}/ のフォルダに保存してください。提出前に「shinchoku check ファイル名」で確認できます。",
)


def expected_components(catalogue: Catalogue, code: str, fiscal_year: int) -> list:
    """The counts a local government is asked for in a fiscal year: each computed KPI's components in force, where the
    government is among its reporters (catalogue order)."""
    kpis = dict.fromkeys(c.kpi_id for c in catalogue.kpi_components)
    return [c for kpi_id in kpis if any(g.code == code for g in catalogue.reporters_of(kpi_id, fiscal_year))
            for c in catalogue.components_of(kpi_id, fiscal_year)]


def survey_file_name(name: str, fiscal_year: int) -> str:
    """The survey sheet's file name as handed out: R5_調査票_郡山市.xlsx."""
    return f"{era_year(fiscal_year)}_調査票_{name}.xlsx"


def survey_column_of(label: str) -> int:
    """1-based column of a labelled column of the survey sheet."""
    return SURVEY_HEADER.index(label) + 1


def write_survey(catalogue: Catalogue, government: str, fiscal_year: int, path: Path, *,
                 counts: dict[tuple[str, str], object] | None = None,
                 notes: dict[tuple[str, str], str] | None = None) -> Path:
    """Write the survey sheet (調査票) for one local government (name or 6-digit code) and fiscal year to ``path``:
    one row per count expected from it that year. KeyError for an unknown government.

    ``counts`` and ``notes`` (by (指標ID, 構成要素ID)) fill 実数 and 備考 in the same pass, as :func:`fill_survey`
    would after it, without loading the workbook again (the demo writes some 240 of them)."""
    found = catalogue.local_governments_by_name.get(government) or catalogue.local_governments_by_code.get(government)
    if found is None:
        raise KeyError(government)
    wb = Workbook()
    ws = wb.active
    ws.title = SURVEY_SHEET
    width = len(SURVEY_HEADER)
    ws["A1"] = f"DX推進計画 指標算出のための調査票 {fiscal_year_label(fiscal_year)}"
    ws["A1"].font = Font(size=14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A2"], ws["B2"] = "団体名", found.name
    ws["C2"], ws["D2"] = "団体コード", found.code
    ws["E2"], ws["F2"] = "対象年度", f"{fiscal_year_label(fiscal_year)}({fiscal_year})"
    for ref in ("A2", "C2", "E2"):
        ws[ref].font = Font(bold=True)
    day = example_as_of(fiscal_year)
    for offset, text in enumerate(SURVEY_INSTRUCTIONS):
        row = 3 + offset
        ws.cell(row=row, column=1, value=text.format(example=f"{day.year}/{day.month}/{day.day}", name=found.name))
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    _write_header(ws, SURVEY_HEADER)
    prompt = DataValidation(allow_blank=True, showInputMessage=True, showErrorMessage=False, promptTitle=SURVEY_VALUE,
                            prompt="件数・人数を整数で入力(率・割合ではなく元の数。該当がなければ 0)")
    ws.add_data_validation(prompt)
    year_text = fiscal_year_label(fiscal_year).replace("R", "令和")
    counts, notes = counts or {}, notes or {}
    for row, component in enumerate(expected_components(catalogue, found.code, fiscal_year), start=HEADER_ROW + 1):
        key = (component.kpi_id, component.component_id)
        values = {"指標ID": component.kpi_id, SURVEY_KEY: component.component_id, "項目": component.component_name,
                  "単位": component.unit, "年度": year_text}
        for col, label in enumerate(SURVEY_HEADER, start=1):
            cell = ws.cell(row=row, column=col, value=values.get(label))
            cell.border = BORDER
            cell.number_format = "General"
            if label in SURVEY_INPUT_COLUMNS:
                cell.fill = INPUT_FILL
        ws.cell(row=row, column=survey_column_of("項目")).alignment = Alignment(wrap_text=True, vertical="center")
        if key in counts:
            _set_count(ws.cell(row=row, column=survey_column_of(SURVEY_VALUE)), counts[key])
        if key in notes:
            set_text(ws.cell(row=row, column=survey_column_of("備考")), notes[key])
        prompt.add(ws.cell(row=row, column=survey_column_of(SURVEY_VALUE)))
    _lay_out(ws, (11, 14, 44, 8, 12, 14, 14, 30))
    wb.custom_doc_props.append(StringProperty(name=PROP_LOCAL_GOVERNMENT, value=found.code))
    wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=fiscal_year))
    wb.custom_doc_props.append(StringProperty(name=PROP_LOCAL_GOVERNMENT_NAME, value=found.name))
    wb.custom_doc_props.append(StringProperty(name=PROP_VERSION, value=TEMPLATE_VERSION))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def fill_survey(path: Path, counts: dict[tuple[str, str], object], *, formats: dict[tuple[str, str], str] | None = None,
                as_of: dict[tuple[str, str], object] | None = None, notes: dict[tuple[str, str], str] | None = None,
                out: Path | None = None) -> Path:
    """Fill 実数 (and optionally a number format, 時点, 備考) by (指標ID, 構成要素ID), as a local government would,
    and save. A text value is typed as text ("61.5%" stays the text a person typed)."""
    wb = load_workbook(path)
    ws = wb[SURVEY_SHEET]
    formats, as_of, notes = formats or {}, as_of or {}, notes or {}
    value_col = survey_column_of(SURVEY_VALUE)
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        key = (ws.cell(row=row, column=1).value, ws.cell(row=row, column=2).value)
        if key in counts:
            _set_count(ws.cell(row=row, column=value_col), counts[key])
        if key in formats:
            ws.cell(row=row, column=value_col).number_format = formats[key]
        if key in as_of:
            ws.cell(row=row, column=survey_column_of("時点")).value = as_of[key]
        if key in notes:
            set_text(ws.cell(row=row, column=survey_column_of("備考")), notes[key])
    target = Path(out or path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _set_count(cell, value) -> None:
    """実数 as a person typed it: a text value stays text ("61.5%"), a number is a number."""
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
