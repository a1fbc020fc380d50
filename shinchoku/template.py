"""Write the return sheet (報告様式) a department fills in, and fill it in code.

The workbook records its department and fiscal year twice: visibly at the top
of the sheet, and as custom document properties the reader trusts.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from .catalogue import Catalogue, Kpi
from .parse import fiscal_year_label
from .xlsx import set_text

from .layout import (HEADER, HEADER_ROW, OUTCOME_HEADER, OUTCOME_SHEET, PROP_DEPARTMENT, PROP_FISCAL_YEAR,
                     PROP_VERSION, REFERENCE, SHEET, TEMPLATE_VERSION)

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
REFERENCE_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)

INSTRUCTIONS = (
    "記入方法: 黄色のセル(実績値・時点・備考)だけに記入してください。実績値は単位を付けずに数値で入力します(例: 48.2)。",
    "年度の途中の値は「時点」に日付(例: 2024/2/29、2月末現在)を入力します。年度末の確定値なら時点は空欄です。"
    "未集計の指標は空欄のままにしてください。",
    "記入後は inbox/<部局名>/ のフォルダに保存してください。提出前に「shinchoku check ファイル名」で確認できます。",
)


def number_format(decimals: int | None) -> str:
    """Excel number format showing a value with its written precision and thousands separators."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _reference(cell, value: float | None, decimals: int | None) -> None:
    if value is None:
        cell.value = "不明"
    else:
        cell.value = value
        cell.number_format = number_format(decimals)


def write_template(catalogue: Catalogue, department: str, fiscal_year: int, path: Path) -> Path:
    """Write the return sheet for one department and fiscal year to ``path``."""
    if department not in catalogue.departments:
        raise KeyError(department)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    width = len(HEADER) + len(REFERENCE)

    ws["A1"] = f"DX推進計画 指標実績報告 {fiscal_year_label(fiscal_year)}"
    ws["A1"].font = Font(size=14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A2"], ws["B2"] = "部局", department
    ws["D2"], ws["E2"] = "対象年度", f"{fiscal_year_label(fiscal_year)}({fiscal_year})"
    for ref in ("A2", "D2"):
        ws[ref].font = Font(bold=True)
    for offset, text in enumerate(INSTRUCTIONS):
        row = 3 + offset
        ws.cell(row=row, column=1, value=text).alignment = Alignment(wrap_text=False)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)

    for col, label in enumerate(HEADER + REFERENCE, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = BORDER

    prompts: dict[str, DataValidation] = {}
    for row, kpi in enumerate(catalogue.kpis_of(department), start=HEADER_ROW + 1):
        _write_row(ws, row, kpi, fiscal_year)
        dv = prompts.get(kpi.unit)
        if dv is None:
            dv = DataValidation(allow_blank=True, showInputMessage=True, showErrorMessage=False,
                                promptTitle="実績値", prompt=f"単位「{kpi.unit}」の数値を入力(単位は付けない)")
            prompts[kpi.unit] = dv
            ws.add_data_validation(dv)
        dv.add(ws.cell(row=row, column=5))

    for col, w in zip("ABCDEFGHIJK", (11, 48, 10, 12, 12, 14, 30, 12, 10, 12, 10)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    _write_outcome_sheet(wb, catalogue, department, fiscal_year)
    wb.custom_doc_props.append(StringProperty(name=PROP_DEPARTMENT, value=department))
    wb.custom_doc_props.append(IntProperty(name=PROP_FISCAL_YEAR, value=fiscal_year))
    wb.custom_doc_props.append(StringProperty(name=PROP_VERSION, value=TEMPLATE_VERSION))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


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
    for initiative in catalogue.initiatives_of(department):
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
    for col, w in zip("ABCDEFGH", (10, 36, 12, 40, 50, 12, 10, 14)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


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


def _write_row(ws, row: int, kpi: Kpi, fiscal_year: int) -> None:
    values = (kpi.kpi_id, kpi.name, kpi.unit, fiscal_year_label(fiscal_year).replace("R", "令和"), None, None, None)
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.border = BORDER
        cell.number_format = "General"
        if col in (5, 6, 7):
            cell.fill = INPUT_FILL
    ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="center")
    ref = [(kpi.baseline_value, kpi.baseline_decimals), (kpi.target_value, kpi.target_decimals)]
    _reference(ws.cell(row=row, column=8), *ref[0])
    ws.cell(row=row, column=9, value=fiscal_year_label(kpi.baseline_fy) if kpi.baseline_fy else "不明")
    _reference(ws.cell(row=row, column=10), *ref[1])
    ws.cell(row=row, column=11, value=fiscal_year_label(kpi.target_fy) if kpi.target_fy else "不明")
    for col in range(8, 12):
        ws.cell(row=row, column=col).fill = REFERENCE_FILL
        ws.cell(row=row, column=col).border = BORDER


def fill_template(path: Path, values: dict[str, object], *, as_of: dict[str, object] | None = None,
                  notes: dict[str, str] | None = None, formats: dict[str, str] | None = None,
                  out: Path | None = None) -> Path:
    """Fill 実績値 (and optionally 時点, 備考, a number format) by 指標ID, as a department would, and save."""
    wb = load_workbook(path)
    ws = wb[SHEET]
    as_of, notes, formats = as_of or {}, notes or {}, formats or {}
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        kpi_id = ws.cell(row=row, column=1).value
        if kpi_id in values:
            ws.cell(row=row, column=5).value = values[kpi_id]
        if kpi_id in formats:
            ws.cell(row=row, column=5).number_format = formats[kpi_id]
        if kpi_id in as_of:
            ws.cell(row=row, column=6).value = as_of[kpi_id]
        if kpi_id in notes:
            ws.cell(row=row, column=7).value = notes[kpi_id]
    target = Path(out or path)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target
