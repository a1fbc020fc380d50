"""The progress report management reads: the seed's tables regenerated with actuals, grades and charts.

The report reads only the analysts' views (never raw tables), so it shows
exactly what an analyst querying the warehouse would see.
"""

from __future__ import annotations

import math
import unicodedata
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.marker import Marker
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .. import database
from ..workbook.parse import era_year
from ..workbook.xlsx import set_text
from .facts import (DEFINITION_NOTE, NO_DENOMINATOR, REJECTED, UNREPORTED, Kpi, ReportData, ReportError, coverage_text,
                    format_actual, format_computed, format_outlook, format_rate, format_reach,
                    format_reported, format_unit_rate, format_unit_status, format_year, grade_legend, outlook_legend,
                    trend_line, view_rows)
from .lg_pages import REFERENCE, distinct_places, reference_note

REVISIONS_SHEET = "指標の改定"
FIELD_LABELS = {"name": "名称", "owner": "所管部局", "direction": "方向", "baseline_value": "基準値",
                "baseline_fy": "基準年度", "target_value": "目標値", "target_fy": "目標年度"}
EVALUATION_SHEET = "評価シート"
EVALUATION_HEADER = ("分野", "指標名", "基準値(年度)", "目標値(年度)", "実績(年度)", "進捗率", "評価", "見通し",
                     "達成見込年度", "要因分析", "今後の方向性", "担当部局")
# narrow enough that, fitted to the width of A4 landscape, the text prints at about 85% (the sheet runs on to
# further pages, its header repeated, rather than shrinking to one)
EVALUATION_WIDTHS = (10, 24, 13, 14, 14, 7, 5, 9, 8, 30, 30, 9)
SUMMARY_SHEET = "概要"
SUMMARY_WIDTHS = (20, 34, 16, 16, 18, 8, 6, 10, 9, 9, 9, 9, 9, 9, 9, 9)
STATUS_SHEET = "提出状況"
QUALITY_SHEET = "データ品質"
UNITS_SHEET = "市町村別_{kpi_id}"  # one per computed KPI
UNITS_HEADER = ("地方", "種別", "団体コード", "団体名", "分子", "分母", "率", "前年度の率", "提出状況", "順位",
                "県全体の率への影響", "注")
# A4 portrait, fitted to its width: about 95%; the 60 rows run on to a second page, the header repeated
UNITS_WIDTHS = (7, 4, 8, 12, 10, 10, 9, 9, 13, 5, 9, 5)
TOTALS_SHEET = "地方・グループ別"
TOTALS_HEADER = ("指標", "年度", "種類", "範囲", "分子の合計", "分母の合計", "率", "報告団体", "前年度の分母に占める割合")
# 範囲 wide enough for a group's name (避難地域12市町村), wrapped beyond it
TOTALS_WIDTHS = (9, 8, 7, 19, 12, 12, 9, 17, 11)
COUNT_FORMAT = "#,##0"
SHARE_FORMAT = "0.0%"
RIGHT = Alignment(horizontal="right", vertical="top")
CHART_DATA_COLUMN = 30  # chart series live to the right of the printed area

TITLE_FONT = Font(size=14, bold=True)
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
SECTION_FONT = Font(size=12, bold=True, color="1F4E78")
_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
# Fills by rank, best first; the floor always takes the last (red).
GRADE_FILLS = ("C6EFCE", "DDEBF7", "FFEB9C", "FCE4D6", "F8CBAD")
FLOOR_FILL = "FFC7CE"
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
# Points per line of wrapped text: an 11-point line of Japanese text (the CJK font's line is taller than Latin's).
LINE_HEIGHT = 16.0
DEFAULT_WIDTH = 8.43  # a column whose width is not set


def build_report(warehouse: Path, out: Path, year: int | None = None, current: str | None = None) -> Path:
    """Write the progress report workbook for ``year`` (default: the latest year with an actual). ``current``: the
    fingerprint of the catalogue and settings in force; a warehouse built from others gets STALE_NOTE on its pages."""
    if not Path(warehouse).exists():
        raise ReportError(f"ウェアハウスがありません: {warehouse}")
    con = database.connect(warehouse, snapshot=True)
    try:
        data = ReportData(con, year, current)
        # the summary sheet's counts by area (the site counts the rows it shows, per edition)
        area_counts = view_rows(con, "select area, kpis from area_counts where report_fy = ? "
                                 "order by area_order, measure_order, class_rank", [data.year])
    finally:
        con.close()
    wb = Workbook()
    _evaluation_sheet(wb.active, data)  # the page the committee reads first
    _summary_sheet(wb.create_sheet(SUMMARY_SHEET), data, area_counts)
    for area_id, area in data.areas:
        _area_sheet(wb.create_sheet(_sheet_title(area)), data, area_id, area)
    _revisions_sheet(wb.create_sheet(REVISIONS_SHEET), data)
    _status_sheet(wb.create_sheet(STATUS_SHEET), data)
    computed = data.computed()
    for kpi in computed:
        _units_sheet(wb.create_sheet(_sheet_title(UNITS_SHEET.format(kpi_id=kpi.kpi_id))), data, kpi)
    if computed:
        _totals_sheet(wb.create_sheet(TOTALS_SHEET), data, computed)
    _quality_sheet(wb.create_sheet(QUALITY_SHEET), data)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _sheet_title(name: str) -> str:
    for ch in '[]:*?/\\':
        name = name.replace(ch, "・")
    return name[:31]


def _print_setup(ws, title_rows: str | None, last_column: int, last_row: int | None = None,
                 orientation: str = "landscape") -> None:
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_area = f"A1:{get_column_letter(last_column)}{last_row or max(ws.max_row, 1)}"
    ws.oddFooter.center.text = "&P / &N"


def _header(ws, row: int, labels: list[str], col: int = 1) -> None:
    style = None
    for offset, label in enumerate(labels):
        cell = ws.cell(row=row, column=col + offset, value=label)
        style = _styled(cell, style, font=HEAD_FONT, fill=HEAD_FILL, border=BORDER, alignment=HEAD_ALIGN)


def _cells(ws, row: int, values: list, col: int = 1, wrap: bool = False) -> None:
    style = None
    for offset, value in enumerate(values):
        cell = ws.cell(row=row, column=col + offset)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
        style = _styled(cell, style, border=BORDER, alignment=WRAP if wrap else TOP)


def _styled(cell, style, **parts):
    """Give ``cell`` the style ``parts`` (font, fill, border, alignment), or ``style``, the same parts as a cell of
    the row already has them: openpyxl looks each part up in the workbook's list by its hash, which its many
    nested fields make the costliest step of writing a row. Returns the style for the row's next cell."""
    if style is None:
        for name, value in parts.items():
            setattr(cell, name, value)
        return cell._style
    cell._style = copy(style)
    return style


def _grade_fills(data: ReportData) -> dict[str, str]:
    return {g["grade"]: FLOOR_FILL if g["is_floor"] else GRADE_FILLS[min(n, len(GRADE_FILLS) - 1)]
            for n, g in enumerate(data.grades)}


def _grade_cell(cell, grade: str | None, data: ReportData) -> None:
    cell.value = grade or "-"
    cell.alignment = Alignment(horizontal="center", vertical="top")
    fill = _grade_fills(data).get(grade)
    if fill:
        cell.fill = PatternFill("solid", fgColor=fill)


def _evaluation_sheet(ws, data: ReportData) -> None:
    """評価シート: one row per KPI, 実績・進捗・見通し with the department's 要因分析 and 今後の方向性."""
    ws.title = EVALUATION_SHEET
    ws["A1"] = f"DX推進計画 評価シート {format_year(data.year)}({data.year}年度)"
    ws["A1"].font = TITLE_FONT
    for n, width in enumerate(EVALUATION_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    _legends(ws, data, len(EVALUATION_HEADER))
    ws.cell(row=4, column=1, value=f"【注意】{data.stale} {DEFINITION_NOTE}" if data.stale else DEFINITION_NOTE).alignment = WRAP
    ws.merge_cells(start_row=4, start_column=1, end_row=4, end_column=len(EVALUATION_HEADER))
    _fit_row(ws, 4)
    head = 5
    _header(ws, head, list(EVALUATION_HEADER))
    _fit_row(ws, head)
    areas = dict(data.areas)
    row = head
    for kpi in data.in_area_order():
        row += 1
        latest = data.latest(kpi.kpi_id)
        outlook = data.outlook.get(kpi.kpi_id)
        factor, direction = data.explanation(kpi.kpi_id)
        actual = f"{format_actual(latest, kpi)}({format_year(latest['fiscal_year'])})" if latest else "実績なし"
        target = kpi.target_text
        if kpi.revised and kpi.definition_fy != data.year:
            target += f"\n({kpi.definition_text})"
        _cells(ws, row, [areas.get(kpi.area_id, kpi.area_id), kpi.name, kpi.baseline_text, target, actual,
                         format_rate(latest["progress_rate"]) if latest else "-", "", format_outlook(outlook),
                         format_reach(outlook), factor, direction, kpi.owner], wrap=True)
        _grade_cell(ws.cell(row=row, column=7), latest["grade"] if latest else None, data)
        ws.cell(row=row, column=7).border = BORDER
        _fit_row(ws, row)
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    _print_setup(ws, f"{head}:{head}", len(EVALUATION_HEADER))


def _legends(ws, data: ReportData, last_column: int) -> None:
    """Rows 2 and 3: what the grades and the outlooks mean, wrapped across the printed width (set the columns'
    widths first)."""
    for row, text in ((2, grade_legend(data.grades)), (3, outlook_legend(data.outlooks))):
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = WRAP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_column)
        _fit_row(ws, row)


def _lines(text: str | None, width: float) -> int:
    """How many lines a wrapped text takes in a column ``width`` characters wide: each of its own lines, a
    full-width character (kanji, kana, ※, ≥) counted as two, as Excel's Japanese fonts draw them (LibreOffice
    draws them narrower: there the estimate leaves room to spare)."""
    lines = 0
    for part in str(text or "").split("\n"):
        units = sum(2.0 if unicodedata.east_asian_width(ch) in "WFA" else 1.0 for ch in part)
        lines += max(1, math.ceil(units / max(width - 1, 1)))
    return lines


def _width(ws, column: int) -> float:
    letter = get_column_letter(column)
    return (ws.column_dimensions[letter].width or DEFAULT_WIDTH) if letter in ws.column_dimensions else DEFAULT_WIDTH


def _fit_row(ws, row: int, min_lines: int = 1) -> None:
    """Give a row the height its wrapped cells need, so that no text is cut when printed (set the columns' widths
    first; a merged cell counts the width of the columns it spans)."""
    spans = {r.min_col: sum(_width(ws, c) for c in range(r.min_col, r.max_col + 1))
             for r in ws.merged_cells.ranges if r.min_row == row}
    lines = min_lines
    for cell in ws[row]:
        if isinstance(cell.value, str) and cell.alignment is not None and cell.alignment.wrap_text:
            lines = max(lines, _lines(cell.value, spans.get(cell.column, _width(ws, cell.column))))
    ws.row_dimensions[row].height = lines * LINE_HEIGHT + 4


def _summary_sheet(ws, data: ReportData, area_counts: list[dict]) -> None:
    ws["A1"] = f"DX推進計画 指標の進捗 {format_year(data.year)}({data.year}年度)"
    ws["A1"].font = TITLE_FONT
    grades = [g["grade"] for g in data.grades]
    words = [o["outlook"] for o in data.outlooks]
    for col, width in zip("ABCDEFGHIJKLMNOP", SUMMARY_WIDTHS):
        ws.column_dimensions[col].width = width
    _legends(ws, data, max(9, 1 + len(grades) + 1 + len(words)))
    ws["A4"] = "分野別の評価と見通し"
    ws["A4"].font = SECTION_FONT
    first_outlook = 2 + len(grades) + 1
    for col, label, end in ((2, "評価", first_outlook - 1), (first_outlook, "見通し", first_outlook + len(words) - 1)):
        _header(ws, 4, [label], col=col)
        ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=end)
    _header(ws, 5, ["分野", *grades, "評価不能", *words])
    _fit_row(ws, 5)
    row = 6
    by_area: dict[str, list[int]] = {}
    for r in area_counts:  # in area order: grades best first and 評価不能, then outlooks best first
        by_area.setdefault(r["area"], []).append(r["kpis"])
    for area, counts in by_area.items():
        _cells(ws, row, [area, *counts], wrap=True)
        _fit_row(ws, row)
        row += 1
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = "分野別の指標の評価"
    chart.y_axis.title = "指標数"
    chart.add_data(Reference(ws, min_col=2, max_col=len(grades) + 2, min_row=5, max_row=row - 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=6, max_row=row - 1))
    chart.height, chart.width = 10.5, 22
    chart.x_axis.delete = False
    chart.x_axis.tickLblSkip = chart.x_axis.tickMarkSkip = 1  # every area named, however small the chart
    chart.x_axis.scaling.orientation = "maxMin"  # the areas top to bottom, as in the table above
    chart.y_axis.crosses = "max"  # which keeps the count axis under the bars
    chart.y_axis.delete = False
    chart.y_axis.majorUnit = 1
    chart.legend.position = "b"
    ws.add_chart(chart, f"A{row + 1}")

    row += 23
    ws.cell(row=row, column=1, value=f"部局ごとの確定状況({format_year(data.year)})").font = SECTION_FONT
    row += 1
    _header(ws, row, ["部局", "確定状況", "報告済み/報告対象"])
    for r in data.confirmation:
        row += 1
        state = f"確定({r['confirmed_at']:%Y-%m-%d})" if r["confirmed_at"] else "未確定"
        _cells(ws, row, [r["department"], state, f"{r['kpis_reported']}/{r['kpis_expected']}"])
    if not data.confirmation:
        row += 1
        ws.cell(row=row, column=1, value="この年度の報告対象の部局はまだありません(年度が終了していません)。")
    ws.cell(row=row + 1, column=1, value="確定していない値には「(未確定)」を付けています。").font = Font(italic=True)
    row += 3
    ws.cell(row=row, column=1, value="指標ごとの進捗").font = SECTION_FONT
    row += 1
    head = row
    _header(ws, row, ["分野", "指標名", "基準値(基準年度)", "目標値(目標年度)", "最新の実績(年度)", "進捗率", "評価",
                      "見通し", "達成見込年度"])
    _fit_row(ws, head)
    areas = dict(data.areas)
    for kpi in data.in_area_order():
        row += 1
        latest = data.latest(kpi.kpi_id)
        outlook = data.outlook.get(kpi.kpi_id)
        actual = f"{format_actual(latest, kpi)}({format_year(latest['fiscal_year'])})" if latest else "実績なし"
        _cells(ws, row, [areas.get(kpi.area_id, kpi.area_id), kpi.name, kpi.baseline_text, kpi.target_text, actual,
                         format_rate(latest["progress_rate"]) if latest else "-", "", format_outlook(outlook),
                         format_reach(outlook)], wrap=True)
        _grade_cell(ws.cell(row=row, column=7), latest["grade"] if latest else None, data)
        ws.cell(row=row, column=7).border = BORDER
        _fit_row(ws, row)
    _print_setup(ws, f"{head}:{head}", max(9, 1 + len(grades) + 1 + len(words)))


def _area_sheet(ws, data: ReportData, area_id: str, area: str) -> None:
    group = data.area_groups.get(area_id, "")
    ws["A1"] = f"【{group}】{area}  {format_year(data.year)} 主な取組状況と指標の進捗" if group and group != area \
        else f"【{area}】{format_year(data.year)} 主な取組状況と指標の進捗"
    ws["A1"].font = TITLE_FONT
    width = 3 + len(data.years) + 4
    for col, w in zip("ABC", (40, 22, 22)):
        ws.column_dimensions[col].width = w
    for n in range(len(data.years) + 2):
        ws.column_dimensions[get_column_letter(4 + n)].width = 13
    row = 3
    chart_row = [1]  # next free row of the chart data block
    pages = _Pages(ws)
    initiatives = [i for i in data.initiatives if i["area_id"] == area_id]
    for initiative in initiatives:
        start = row
        row = _initiative_block(ws, data, initiative, row)
        kpis = [k for k in data.kpis if k.initiative_id == initiative["initiative_id"]]
        if kpis:
            row = _kpi_table(ws, data, kpis, row, chart_row)
        elif (initiative["note"] or "").startswith("※"):  # as the seed marks テクノアカデミー
            ws.cell(row=row, column=1, value=initiative["note"]).font = Font(italic=True)
            row += 2
        pages.block(start, row)
    loose = [k for k in data.kpis if k.area_id == area_id and k.initiative_id is None]
    if loose:
        start = row
        ws.cell(row=row, column=1, value="重点取組項目の指標").font = SECTION_FONT
        row = _kpi_table(ws, data, loose, row + 1, chart_row)
        pages.block(start, row)
    _print_setup(ws, "1:1", max(width, 8), row)


class _Pages:
    """Keeps each initiative's block (text, KPI table, charts) on one printed page where it fits."""

    # Printable height of an A4 landscape page in sheet points, at the scale fit-to-width gives these sheets.
    CAPACITY = 520.0
    DEFAULT_ROW = 15.0

    def __init__(self, ws):
        self.ws, self.used = ws, 15.0 * 2  # the title rows

    def block(self, start: int, end: int) -> None:
        from openpyxl.worksheet.pagebreak import Break

        height = sum(self.ws.row_dimensions[r].height or self.DEFAULT_ROW for r in range(start, end))
        if self.used + height > self.CAPACITY and self.used > 0:
            self.ws.row_breaks.append(Break(id=start - 1))
            self.used = 15.0  # the repeated title row
        self.used += height


def _initiative_block(ws, data: ReportData, initiative: dict, row: int) -> int:
    ws.cell(row=row, column=1, value=f"項目: {initiative['name']}").font = SECTION_FONT
    row += 1
    mine = [o for o in data.outcomes if o["initiative_id"] == initiative["initiative_id"]]
    activities = next((o["activities"] for o in mine if o["activities"]), None) or initiative["activities"]
    _header(ws, row, ["取組内容", "成果・効果"])
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
    row += 1
    if mine:
        lines = []
        for o in mine:
            label = f"({o['label']}) " if o["label"] and o["label"] != era_year(data.year) else ""
            lines.append(label + (o["outcome_text"] or format_reported(o["figure_value"], o["figure_unit"] or "", None)))
        outcome = "\n".join(lines)
    else:
        outcome = "(報告なし)"
    _cells(ws, row, [activities, outcome], wrap=True)
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
    _fit_row(ws, row, min_lines=2)
    return row + 2


def _kpi_table(ws, data: ReportData, kpis: list[Kpi], row: int, chart_row: list[int]) -> int:
    year_labels = [f"{format_year(y)}実績" for y in data.years]
    _header(ws, row, ["指標名", "基準値(基準年度)", "目標値(目標年度)", *year_labels, "進捗率", "評価", "見通し",
                      "達成見込年度"])
    _fit_row(ws, row, min_lines=2)
    last = 3 + len(data.years) + 4
    for kpi in kpis:
        row += 1
        actuals = []
        for y in data.years:
            p = data.progress.get((kpi.kpi_id, y))
            actuals.append(format_actual(p, kpi) if p else "-")
        latest = data.latest(kpi.kpi_id)
        outlook = data.outlook.get(kpi.kpi_id)
        _cells(ws, row, [kpi.name, kpi.baseline_text, kpi.target_text, *actuals,
                         format_rate(latest["progress_rate"]) if latest else "-", "", format_outlook(outlook),
                         format_reach(outlook)], wrap=True)
        grade = ws.cell(row=row, column=4 + len(data.years) + 1)
        _grade_cell(grade, latest["grade"] if latest else None, data)
        grade.border = BORDER
        _fit_row(ws, row, min_lines=2)
    row = _explanation_rows(ws, data, kpis, row + 1, last)
    row += 1
    charted = [k for k in kpis if k.kpi_id in data.charted]
    for n, kpi in enumerate(charted):
        anchor_col = "A" if n % 2 == 0 else "C"
        ws.add_chart(_kpi_chart(ws, data, kpi, chart_row), f"{anchor_col}{row}")
        if n % 2 == 1 or n == len(charted) - 1:
            row += 16
    return row + 1


def _explanation_rows(ws, data: ReportData, kpis: list[Kpi], row: int, last: int) -> int:
    """Under a KPI table: each KPI's 要因分析 and 今後の方向性 for the year, as the department wrote them."""
    split = 2 + (last - 1) // 2  # 要因分析 in B..split-1, 今後の方向性 in split..last
    _header(ws, row, ["指標名"])
    for col, label, end in ((2, f"要因分析({format_year(data.year)})", split - 1), (split, "今後の方向性", last)):
        _header(ws, row, [label], col=col)
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=end)
    for kpi in kpis:
        row += 1
        factor, direction = data.explanation(kpi.kpi_id)
        _cells(ws, row, [kpi.name], wrap=True)
        for col, text, end in ((2, factor or "(記入なし)", split - 1), (split, direction or "(記入なし)", last)):
            _cells(ws, row, [text], col=col, wrap=True)
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=end)
        _fit_row(ws, row, min_lines=2)
    return row + 1


def _kpi_chart(ws, data: ReportData, kpi: Kpi, chart_row: list[int]) -> LineChart:
    """A native line chart: actuals against the straight trajectory, with the target marked."""
    col = CHART_DATA_COLUMN
    top = chart_row[0]
    years = data.plan_years
    set_text(ws.cell(row=top, column=col), kpi.kpi_id)
    for offset, label in enumerate(("実績", "軌道(基準値→目標値)", "目標値", "傾向(見通し)"), start=1):
        ws.cell(row=top, column=col + offset, value=label)
    line = trend_line(data.outlook.get(kpi.kpi_id), kpi)
    for n, y in enumerate(years, start=1):
        ws.cell(row=top + n, column=col, value=format_year(y))
        p = data.progress.get((kpi.kpi_id, y))
        if p and y <= data.year:
            ws.cell(row=top + n, column=col + 1, value=p["actual_value"])
        expected = data.expected(kpi, y)
        if expected is not None and kpi.baseline_fy is not None and y >= kpi.baseline_fy:
            ws.cell(row=top + n, column=col + 2, value=expected)
        if y == kpi.target_fy and kpi.target_value is not None:
            ws.cell(row=top + n, column=col + 3, value=kpi.target_value)
        if y in line:
            ws.cell(row=top + n, column=col + 4, value=line[y])
    bottom = top + len(years)
    plotted = [v for r in range(top + 1, bottom + 1) for c in (1, 2, 3, 4)
               if isinstance(v := ws.cell(row=r, column=col + c).value, (int, float))]
    chart = LineChart()
    chart.title = _title(kpi.name if len(kpi.name) <= 40 else kpi.name[:39] + "…")
    chart.y_axis.title = kpi.unit
    chart.height, chart.width = 7.5, 13.0
    chart.add_data(Reference(ws, min_col=col + 1, max_col=col + 4, min_row=top, max_row=bottom), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=col, min_row=top + 1, max_row=bottom))
    actual, trajectory, target, trend = chart.series
    trend.graphicalProperties.line.solidFill = "C55A11"
    trend.graphicalProperties.line.dashStyle = "sysDot"
    trend.graphicalProperties.line.width = 22225
    trend.smooth = False
    actual.marker = Marker(symbol="circle", size=7)
    actual.marker.graphicalProperties = None
    actual.graphicalProperties.line.solidFill = "1F4E78"
    actual.graphicalProperties.line.width = 28575
    trajectory.graphicalProperties.line.solidFill = "A6A6A6"
    trajectory.graphicalProperties.line.dashStyle = "dash"
    target.marker = Marker(symbol="diamond", size=12)
    from openpyxl.chart.shapes import GraphicalProperties

    target.marker.graphicalProperties = GraphicalProperties(solidFill="C00000")
    target.marker.graphicalProperties.line.solidFill = "C00000"
    target.graphicalProperties.line.noFill = True
    if plotted:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max, chart.y_axis.majorUnit = _axis_bounds(plotted)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart_row[0] = bottom + 2
    return chart


def _title(text: str, size: int = 1000) -> Title:
    """A chart title in a modest font, so the plot keeps its room."""
    props = CharacterProperties(sz=size, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _axis_bounds(values: list[float]) -> tuple[float, float, float]:
    """Round y-axis bounds and step around the plotted values, so movement is visible."""
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    low = math.floor(lo / step) * step - step
    if lo >= 0:
        low = max(0.0, low)
    return low, math.ceil(hi / step) * step + step, step


def _revisions_sheet(ws, data: ReportData) -> None:
    """指標の改定: every change the committee made to the plan, with its reason and where it was decided."""
    ws["A1"] = "指標の改定(計画の変更の記録)"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "改定は適用年度から効力を持ち、それより前の年度の進捗・評価は当時の定義のまま計算しています。"
    if data.stale:
        ws["A3"] = f"【注意】{data.stale}"
        ws["A3"].font = Font(bold=True, color="C00000")
    head = 4
    _header(ws, head, ["改定番号", "指標・項目", "名称", "変更した項目", "新しい値", "適用年度", "決定日", "理由", "出典"])
    names = {k.kpi_id: k.name for k in data.kpis} | {i["initiative_id"]: i["name"] for i in data.initiatives}
    for col, w in zip("ABCDEFGHI", (10, 10, 34, 12, 16, 10, 12, 40, 36)):
        ws.column_dimensions[col].width = w
    row = head
    for r in data.revisions:
        row += 1
        _cells(ws, row, [r["revision_id"], r["item_id"], names.get(r["item_id"], ""), FIELD_LABELS.get(r["field"], r["field"]),
                         r["new_value"], format_year(r["effective_fy"]),
                         r["decided_on"].isoformat() if r["decided_on"] else "-", r["reason"], r["source"]], wrap=True)
        _fit_row(ws, row)
    if not data.revisions:
        ws.cell(row=head + 1, column=1, value="改定はありません(指標は当初の計画のとおり)。")
    _print_setup(ws, f"{head}:{head}", 9)


def _status_sheet(ws, data: ReportData) -> None:
    ws["A1"] = f"提出状況 {format_year(data.status_year) if data.status_year else ''}"
    ws["A1"].font = TITLE_FONT
    _header(ws, 3, ["部局", "年度", "報告対象の指標数", "報告済み", "未報告の指標", "最終受付", "提出期限", "期限内"])
    row = 3
    for r in data.status:
        row += 1
        on_time = "-" if r["on_time"] is None else ("期限内" if r["on_time"] else "未完了・期限後")
        _cells(ws, row, [r["department"], format_year(r["fiscal_year"]), r["kpis_expected"], r["kpis_reported"],
                         "、".join(r["missing_kpi_ids"]) or "なし",
                         r["last_received_at"].strftime("%Y-%m-%d %H:%M") if r["last_received_at"] else "-",
                         r["due_date"].isoformat(), on_time])
    if not data.status:
        ws.cell(row=4, column=1, value="この年度までに終了した年度がありません。")
    for col, w in zip("ABCDEFGH", (16, 10, 14, 10, 28, 18, 12, 14)):
        ws.column_dimensions[col].width = w
    _print_setup(ws, "3:3", 8)


def _rate_format(unit: str, places: int) -> str:
    """The number format of a rate written to ``places`` decimals with its unit as text: 0.00"%" (the value is the
    rate itself, 73.21, not a fraction Excel would multiply by 100)."""
    decimals = "." + "0" * places if places else ""
    return f'0{decimals}"{unit}"' if unit else f"0{decimals}"


def _number(ws, row: int, col: int, value, number_format: str) -> None:
    """A number a manager can sort and sum, shown as the site writes it."""
    cell = ws.cell(row=row, column=col)
    cell.value, cell.number_format = value, number_format


def _units_sheet(ws, data: ReportData, kpi: Kpi) -> None:
    """市町村別_<KPI>: each local government's counts and rate for the year shown (the report year, or the latest
    before it), by region and code, with last year's rate, 提出状況, its rank (local_government_ranks, every reported
    rate), its effect on the prefecture's rate and ※参考; the prefecture-wide sum at the top. Counts and rates are
    numbers with number formats (a rate to the site's digits, more where rates ranked apart would read alike), under an
    autofilter; a unit without a rate has its state as text (未提出, 差戻し, 0/0(率なし))."""
    year = data.unit_year(kpi.kpi_id)
    kpi = data.kpi_as_of(kpi.kpi_id, year)
    ws["A1"] = f"市町村別 {kpi.kpi_id} {kpi.name} {format_year(year)}({year}年度)"
    ws["A1"].font = TITLE_FONT
    for n, width in enumerate(UNITS_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    total = data.aggregate(kpi.kpi_id, year)
    coverage = _coverage(total) if total else ""
    value = format_computed(total["value"], kpi) if total else "-"
    ranks = {y: {c: r for (k, fy, c), r in data.unit_ranks.items() if (k, fy) == (kpi.kpi_id, y)}
             for y in (year, year - 1)}
    limit = next((r["reference_below"] for r in ranks[year].values()), None)
    points = "ポイント" if kpi.unit == "%" else kpi.unit
    notes = (f"県全体(報告した団体の分子の合計÷分母の合計): {value} {coverage}",
             f"率 = 分子 ÷ 分母 × {total['factor']:g}(団体ごと)。{UNREPORTED}: その年度の調査票の件数がそろっていない団体"
             f"(0 として数えない)。{REJECTED}: その年度の最新の調査票を差し戻し、その後に受理した調査票がない団体。"
             f"{NO_DENOMINATOR}: 分母が 0 件の報告(率はないが報告済みとして数える)。" if total else "",
             f"順位: 率のある市町村の中で指標の向きでよい順。県全体の率への影響({points}): (その市町村の率−県全体の率)×"
             "その市町村の分母÷県全体の分母の合計(負の大きいほど県全体の率を押し下げている)。"
             + reference_note(limit))
    for row, text in enumerate(notes, start=2):
        ws.cell(row=row, column=1, value=text).alignment = WRAP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(UNITS_HEADER))
        _fit_row(ws, row)
    head = 5
    _header(ws, head, [*UNITS_HEADER[:6], f"率({format_year(year)})", f"前年度の率({format_year(year - 1)})",
                       *UNITS_HEADER[8:10], f"{UNITS_HEADER[10]}({points})", UNITS_HEADER[11]])
    _fit_row(ws, head)
    # each year's rates to the site's digits, more where rates ranked apart would read alike (lg_pages.distinct_places)
    places = {y: distinct_places({c: r["value"] for c, r in ranks[y].items()}, kpi.unit, kpi.decimals + 1) for y in ranks}
    last_year = {r["code"]: r for r in data.units(kpi.kpi_id, year - 1)}
    row = head
    for unit in data.units(kpi.kpi_id, year):
        row += 1
        rank = ranks[year].get(unit["code"])
        _cells(ws, row, [unit["region"] or "-", unit["kind"], unit["code"], unit["name"], "-", "-",
                         format_unit_rate(unit, kpi), format_unit_rate(last_year.get(unit["code"]), kpi),
                         format_unit_status(unit), "-", "-", REFERENCE if rank and rank["reference_only"] else ""])
        if unit["reported"]:
            _number(ws, row, 5, unit["numerator"], COUNT_FORMAT)
            _number(ws, row, 6, unit["denominator"], COUNT_FORMAT)
        for col, y, shown in ((7, year, unit), (8, year - 1, last_year.get(unit["code"]))):
            if shown and shown["reported"] and shown["value"] is not None:
                _number(ws, row, col, shown["value"],
                        _rate_format(kpi.unit, places[y].get(unit["code"], kpi.decimals + 1)))
        if rank:
            _number(ws, row, 10, rank["rank"], "0")
            if rank["prefecture_effect"] is not None:
                _number(ws, row, 11, rank["prefecture_effect"], _rate_format("", kpi.decimals + 2))
        for col in (5, 6, 7, 8, 10, 11):
            ws.cell(row=row, column=col).alignment = RIGHT
    ws.freeze_panes = ws.cell(row=head + 1, column=5)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(UNITS_HEADER))}{max(row, head + 1)}"
    _print_setup(ws, f"{head}:{head}", len(UNITS_HEADER), orientation="portrait")


def _coverage(aggregate: dict) -> str:
    """集計中 57/60団体 (facts.coverage_text) for an aggregate not every local government has reported to, else
    全団体報告 60/60団体."""
    return coverage_text({**aggregate, "aggregating": not aggregate["complete"]}) or \
        f"全団体報告 {aggregate['units_reported']}/{aggregate['units_expected']}団体"


def _totals_sheet(ws, data: ReportData, kpis: list[Kpi]) -> None:
    """地方・グループ別: per computed KPI and year up to the report year, the prefecture, each region and each named
    group: Σ numerator, Σ denominator and their rate (numbers with number formats, under an autofilter), the local
    governments reported, and the share of last year's denominator they hold."""
    ws["A1"] = f"地方・グループ別の集計 {format_year(data.year)}まで"
    ws["A1"].font = TITLE_FONT
    for n, width in enumerate(TOTALS_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws["A2"] = ("率は報告した団体の分子の合計÷分母の合計(団体ごとの率の平均ではない)。前年度の分母に占める割合: 報告した団体が"
                "前年度の分母の合計に占めていた割合(集計中の年度がどれだけを覆うか)。")
    ws["A2"].alignment = WRAP
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(TOTALS_HEADER))
    _fit_row(ws, 2)
    head = 4
    _header(ws, head, list(TOTALS_HEADER))
    _fit_row(ws, head)
    row = head
    for kpi in kpis:
        for a in (a for a in data.aggregates if a["kpi_id"] == kpi.kpi_id):
            row += 1
            in_force = data.kpi_as_of(kpi.kpi_id, a["fiscal_year"])
            rate = NO_DENOMINATOR if a["value"] is None and a["denominator"] == 0 else "-"
            _cells(ws, row, [kpi.kpi_id, format_year(a["fiscal_year"]), a["scope_kind"], a["scope"], "-", "-", rate,
                             _coverage(a), "-"])
            ws.cell(row=row, column=4).alignment = WRAP
            for col, value, number_format in ((5, a["numerator"], COUNT_FORMAT), (6, a["denominator"], COUNT_FORMAT),
                                              (7, a["value"], _rate_format(in_force.unit, in_force.decimals + 1)),
                                              (9, a["share_of_last_year"], SHARE_FORMAT)):
                if value is not None:
                    _number(ws, row, col, value, number_format)
                ws.cell(row=row, column=col).alignment = RIGHT
            _fit_row(ws, row)
    ws.freeze_panes = ws.cell(row=head + 1, column=5)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(TOTALS_HEADER))}{max(row, head + 1)}"
    _print_setup(ws, f"{head}:{head}", len(TOTALS_HEADER), orientation="portrait")


def _quality_sheet(ws, data: ReportData) -> None:
    ws["A1"] = f"データ品質 {format_year(data.year)}"
    ws["A1"].font = TITLE_FONT
    for col, w in zip("ABCDE", (12, 44, 26, 22, 60)):
        ws.column_dimensions[col].width = w
    row = 3
    ws.cell(row=row, column=1, value="不明な基準値・目標年度").font = SECTION_FONT
    row += 1
    _header(ws, row, ["指標ID", "指標名", "基準値(基準年度)", "目標値(目標年度)", "影響"])
    for kpi in (k for k in data.kpis if k.kpi_id in data.unknown_plan):
        row += 1
        _cells(ws, row, [kpi.kpi_id, kpi.name, kpi.baseline_text, kpi.target_text,
                         f"進捗率・ペースが計算できないため評価不能(目標達成時のみ {data.grades[0]['grade']})"], wrap=True)
        _fit_row(ws, row)
    row += 2
    ws.cell(row=row, column=1, value=f"{format_year(data.year)}の実績がない指標").font = SECTION_FONT
    row += 1
    _header(ws, row, ["指標ID", "指標名", "最新の実績(年度)", "", ""])
    for kpi in (k for k in data.kpis if k.kpi_id in data.not_reported):
        row += 1
        latest = data.latest(kpi.kpi_id)
        _cells(ws, row, [kpi.kpi_id, kpi.name, format_year(latest["fiscal_year"]) if latest else "実績なし", "", ""])
    row += 2
    ws.cell(row=row, column=1, value="警告(受理したが確認が必要な値)").font = SECTION_FONT
    row += 1
    _header(ws, row, ["提出番号", "部局", "ファイル", "セル", "内容"])
    for w in data.warnings:
        row += 1
        _cells(ws, row, [w["submission_id"], w["department"], w["file_name"], f"{w['sheet']}!{w['cell']}" if w["cell"] else "-",
                         w["message"]], wrap=True)
        _fit_row(ws, row)
    if not data.warnings:
        row += 1
        ws.cell(row=row, column=1, value="なし")
    _print_setup(ws, None, 5)
