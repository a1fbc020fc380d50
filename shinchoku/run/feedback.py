"""Feedback a department can act on: an annotated copy of its workbook and an error list."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..documents.verdict import error_list_text
from .annotate import annotate_package, make_self_contained
from ..workbook.messages import ERROR, ERROR_HEADER, ERROR_SHEET, ERROR_WIDTHS, Issue, error_link, error_row
from ..workbook.text import writable
from ..workbook.xlsx import set_text

# Codes meaning the workbook did not open within limits: only the error list is written.
CONTAINER_CODES = {"empty_file", "not_xlsx", "text_file", "truncated_file", "legacy_xls", "encrypted", "corrupt_file",
                   "too_large", "zip_bomb", "too_many_rows", "too_many_columns", "too_many_sheets", "cell_too_long",
                   "too_many_cells", "xml_too_deep", "too_complex", "too_slow", "unsafe_xml", "unexpected_error", "misplaced_file"}
# openpyxl holds a whole workbook as objects (about 300 bytes a cell, 4 GB for 12 million cells): it writes the
# annotated copy only of packages the XML editor cannot edit, and only up to this size unpacked (2 MB: 2 s, 80 MB).
OPENPYXL_MAX_BYTES = 2 * 2**20


def write_feedback(decision, out_dir: Path, original_name: str) -> list[Path]:
    """Write the error list, and an annotated copy where the workbook opened; return the paths.

    The copy is made from the bytes the run read (``candidate.data``) when it has them, never by opening
    the inbox file again; ``out_dir`` is the run's own staging folder (the files reach ``rejected/``
    through its directory descriptor, :func:`shinchoku.run.publish.settle_moves`). When there is no copy,
    ``decision.copy_skipped`` says why (for the run summary), and so does the error list.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(original_name).stem
    issues = decision.issues
    annotated = out_dir / f"{stem}.エラー箇所.xlsx"
    cand = decision.candidate
    if not hasattr(cand, "data"):  # a file named on the command line
        skipped = annotated_copy(lambda: cand.path, issues, annotated)
    elif cand.data is None:  # a run's file is only ever its bytes, never its inbox path again
        skipped = "ファイルの内容を読み取れなかったため"
    else:
        skipped = annotated_copy(lambda: io.BytesIO(cand.data), issues, annotated)
    decision.copy_skipped = skipped
    assessment = decision.assessment
    text = error_list_text(original_name, decision.candidate.department, issues,
                           local_government=bool(assessment and assessment.local_government))
    if skipped:
        text += f"\r\nエラー箇所を示したコピー({annotated.name})は作成していません: {skipped}\r\n"
    listing = out_dir / f"{stem}.エラー一覧.txt"
    listing.write_text("\ufeff" + text, encoding="utf-8")
    return [listing] if skipped else [listing, annotated]


def annotated_copy(source, issues: list[Issue], target: Path) -> str | None:
    """Write the annotated copy: the XML editor, or openpyxl for a small package it cannot edit.
    ``source()`` gives the workbook afresh for each reader (a path, or the bytes the run read).

    Returns None once written, else why there is none (Japanese, as the error list and the summary say it).
    """
    refused = next((i.code for i in issues if i.code in CONTAINER_CODES), None)
    if refused:
        return f"ブックを読み取れなかったため({refused})"
    try:
        if annotate_package(source(), issues, target):
            return None
        with zipfile.ZipFile(source()) as z:
            unpacked = sum(i.file_size for i in z.infolist())
        if unpacked > OPENPYXL_MAX_BYTES:
            return (f"部局のコメントがあるシートなど、直接書き込めない形のブックで、展開後 {unpacked / 2**20:,.1f}MB が"
                    f"上限 {OPENPYXL_MAX_BYTES // 2**20}MB を超えるため")
        annotate_workbook(source(), issues, target)
        return None
    except Exception as e:  # noqa: BLE001 - a workbook no writer can copy still gets its error list
        target.unlink(missing_ok=True)
        return f"作成できなかったため({type(e).__name__})"


def annotate_workbook(source: Path, issues: list[Issue], target: Path) -> Path:
    """Copy a workbook with every problem cell highlighted and commented, plus an エラー一覧 sheet."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    error_fill = PatternFill("solid", fgColor="FFC7CE")
    warning_fill = PatternFill("solid", fgColor="FFEB9C")
    wb = load_workbook(_self_contained(source))
    by_cell: dict[tuple[str, str], list[Issue]] = {}
    for issue in issues:
        if issue.sheet in wb.sheetnames and issue.cell:
            by_cell.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        worst = ERROR if any(i.severity == ERROR for i in found) else "warning"
        cell.fill = error_fill if worst == ERROR else warning_fill
        text = "\n".join(f"{i.message}\n→ {i.fix}" for i in found)
        comment = Comment(writable(text), "shinchoku")
        comment.width, comment.height = 320, 160
        cell.comment = comment

    if ERROR_SHEET in wb.sheetnames:
        del wb[ERROR_SHEET]
    ws = wb.create_sheet(ERROR_SHEET, 0)
    for col, label in enumerate(ERROR_HEADER, start=1):
        ws.cell(row=1, column=col, value=label).font = Font(bold=True)
    for row, issue in enumerate(issues, start=2):
        for col, value in enumerate(error_row(issue), start=1):
            set_text(ws.cell(row=row, column=col), value)
        if issue.sheet in wb.sheetnames and issue.cell:
            link = ws.cell(row=row, column=2)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=error_link(issue), display=issue.cell)
            link.font = Font(color="0563C1", underline="single")
    for col, width in zip("ABCDEFG", ERROR_WIDTHS):
        ws.column_dimensions[col].width = width
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == ERROR_SHEET
    wb.save(target)
    return target



def _self_contained(source: Path):
    """The workbook without its links to other workbooks, connections, queries and OLE objects (in memory),
    so the copy openpyxl writes is as self-contained as the XML editor's."""
    import io
    import zipfile

    with zipfile.ZipFile(source) as z:
        order = [i.filename for i in z.infolist()]
        parts = {name: z.read(name) for name in order}
    make_self_contained(parts, order)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name in order:
            z.writestr(name, parts[name])
    out.seek(0)
    return out
