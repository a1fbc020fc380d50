"""What a department reads about one workbook, each written once: what ``shinchoku check`` says (its verdict, every
problem with its cell and fix, the values read), which a run also mails as the receipt; and the error list of a
rejected file, which the run puts beside it in rejected/ and mails."""

from __future__ import annotations

from ..workbook.messages import ERROR, Issue, format_number
from ..workbook.parse import fiscal_year_label

VALUES_HEADER = ("指標ID", "年度", "セルの表示", "読み取った値", "単位", "時点", "注記")


def values_read(assessment, catalogue) -> list[tuple[str, ...]]:
    """One line per value reported in a workbook, in VALUES_HEADER's columns: what was read from what was shown."""
    lines = []
    for rec in assessment.records:
        kpi = catalogue.kpis_by_id.get(rec["item_id"]) if rec["table"] in ("kpi", "explanation") else None
        unit = kpi.unit if kpi else (rec.get("unit") or "")
        item = rec["item_id"] or ""
        if rec["table"] == "component":  # a survey sheet's count: its KPI and component
            item = f"{item}/{rec['component_id'] or ''}"
        value = rec["actual_value"]
        if value is not None:
            read = format_number(value)
        else:  # a row with text but no figure (取組実績, or 要因分析 for a KPI not yet counted) is valid: no figure
            read = "(数値なし)" if not rec.get("raw_value") else "(読み取れず)"
        lines.append((item, fiscal_year_label(rec["fiscal_year"]) if rec["fiscal_year"] else "",
                      rec.get("shown", ""), read, unit,
                      rec["as_of"].isoformat() if rec["as_of"] else "", "、".join(rec.get("marks", ()))))
    return lines


def one_line(field: str) -> str:
    """A field of check's tab-separated lines kept on its line: a line break in a cell (Alt+Enter)
    shows as ⏎, a tab as a space, so each value stays one line."""
    return field.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎").replace("\t", " ")


def check_lines(assessment, catalogue, shown: str, quiet: bool = False) -> list[str]:
    """check's lines for one workbook (``shown``: the file as the reader knows it, a path or a name): OK or NG with
    the counts, each problem (``[エラー]``, ``[警告]``) with its cell and fix, then, unless ``quiet``, the values read.
    Raw text: the caller makes it safe for where it goes (the terminal, a mail)."""
    errors, warnings = assessment.errors, assessment.warnings
    verdict = "OK" if not errors else "NG"
    who = "団体" if assessment.local_government or assessment.read.survey else "部局"
    lines = [f"{verdict} {shown}({who}: {assessment.department or '不明'}、エラー {len(errors)} 件、警告 {len(warnings)} 件)"]
    for issue in assessment.issues:
        kind = "エラー" if issue in errors else "警告"
        lines.append(one_line(f"  [{kind}] {shown}: {issue.location()}: {issue.message} → {issue.fix}"))
    if assessment.records and not quiet:
        lines.append("\t".join(VALUES_HEADER))
        lines += ["\t".join(one_line(field) for field in line) for line in values_read(assessment, catalogue)]
    return lines


def error_list_text(file_name: str, department: str | None, issues: list[Issue], local_government: bool = False) -> str:
    """The readable error list, one block per problem; ``local_government``: the folder is a 団体's, not a 部局's."""
    errors = sum(1 for i in issues if i.severity == ERROR)
    unit = "団体" if local_government else "部局"
    lines = [
        f"提出ファイル: {file_name}",
        f"{unit}: {department or '(不明)'}",
        f"結果: 差戻し(エラー {errors}件、警告 {len(issues) - errors}件)",
        # a local government sends its survey sheet as it always has (it need not see the prefecture's file share)
        "以下をすべて直した調査票を、これまでと同じ方法でもう一度提出してください。" if local_government
        else f"以下をすべて直してから、もう一度 inbox の自{unit}のフォルダに提出してください。",
        "",
    ]
    for issue in issues:
        kind = "エラー" if issue.severity == ERROR else "警告"
        kpi = f" 指標ID {issue.kpi_id}" if issue.kpi_id else ""
        lines += [f"[{kind}] {issue.location()}{kpi} ({issue.code})", f"  内容: {issue.message}", f"  直し方: {issue.fix}", ""]
    return "\r\n".join(lines)
