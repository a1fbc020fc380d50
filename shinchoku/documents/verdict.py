"""What ``shinchoku check`` says about one workbook: its verdict, every problem with its cell and fix, and the values
read. Written once: check prints these lines, and a run mails the same lines to the department as its receipt."""

from __future__ import annotations

from ..workbook.messages import format_number
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
