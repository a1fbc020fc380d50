"""What the DX office reviews before it confirms a department's year (shinchoku review).

For each department and fiscal year without a standing confirmation: the values received since the
last confirmation (new, or old → new, with submission and cell), the warnings, the missing KPIs and
the 要因分析 texts. Read-only; printed, and written as an .xlsx checklist on request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..workbook.messages import format_number
from ..workbook.parse import fiscal_year_label
from ..workbook.xlsx import set_text
from .facts import coverage_text, format_reported, format_value, missing_units


@dataclass
class ReviewItem:
    """One department's fiscal year awaiting confirmation."""

    department: str
    fiscal_year: int
    last_confirmed: str | None = None
    # (kpi_id, old, new, submission_id, source_cell, mark, the plan's decimals)
    values: list[tuple] = field(default_factory=list)
    warnings: list[tuple] = field(default_factory=list)  # (file_name, cell, message, kpi_id)
    # 取組実績 received since the last confirmation: (initiative_id, old text, had an earlier version, text,
    # figure, unit, submission_id, source_cell)
    outcomes: list[tuple] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    explanations: list[tuple] = field(default_factory=list)  # (kpi_id, factor_analysis, future_direction)
    # the department's computed KPIs as kpi_aggregates has them for the prefecture: (kpi_id, value, units_reported,
    # units_expected, aggregating, the plan's decimals, the names of the local governments that have not reported, and
    # of those whose survey sheet was rejected)
    aggregates: list[tuple] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(区分, 指標ID or 項目ID, 内容, 提出番号, セル) lines, as the terminal and the checklist show them."""
        out = []
        for kpi, old, new, sid, cell, mark, decimals in self.values:
            new_text = format_reported(new, "", decimals)
            change = f"{format_reported(old, '', decimals)} → {new_text}" if old is not None else f"新規 {new_text}"
            out.append(("値", kpi, change + (f"({mark})" if mark else ""), str(sid), cell))
        for initiative, old, had_old, text, figure, unit, sid, cell in self.outcomes:
            change = (f"{old or '(記入なし)'} → " if had_old else "新規 ") + (text or "(記入なし)")
            out.append(("取組実績", initiative, change + (f"(数値 {format_number(figure)}{unit or ''})"
                                                          if figure is not None else ""), str(sid), cell or ""))
        for kpi, value, reported, expected, aggregating, decimals, missing, rejected in self.aggregates:
            coverage = coverage_text({"aggregating": aggregating, "units_reported": reported,
                                      "units_expected": expected}) or f"{reported}/{expected}団体"
            shown = format_value(value, '', decimals + 1) if value is not None else "値なし"
            out.append(("集計", kpi, f"{shown}({coverage})" + (f" {missing_units(missing, rejected, None)}" if missing else ""),
                        "", ""))
        out += [("警告", kpi or "", message, file_name, cell or "") for file_name, cell, message, kpi in self.warnings]
        out += [("未報告", kpi, "実績値の報告がありません", "", "") for kpi in self.missing]
        out += [("要因分析", kpi, f"{factor or '(記入なし)'} / 今後の方向性: {direction or '(記入なし)'}", "", "")
                for kpi, factor, direction in self.explanations]
        return out

    def text(self) -> str:
        head = f"■ {self.department} {fiscal_year_label(self.fiscal_year)}(" + (
            f"前回の確定 {self.last_confirmed} 以降" if self.last_confirmed else "未確定") + ")"
        lines = [head] + [f"  [{kind}] " + (f"{kpi} " if kpi else "") + what + (f"(提出 {sid} {cell})" if sid else "")
                          for kind, kpi, what, sid, cell in self.rows()]
        return "\n".join(lines if len(lines) > 1 else [head, "  変更・警告・未報告はありません"])


# each owner's computed KPIs by year (their rule in force): the prefecture-wide value, the coverage and the local
# governments that have not reported (by the catalogue's order); one query for every department and year
AGGREGATES_SQL = """
    with missing as (
        select v.kpi_id, v.fiscal_year, list(v.name order by g.row_order) as names,
               list(v.name order by g.row_order) filter (where v.sheet_status = '差戻し') as rejected
        from local_government_values v join ref_local_governments g using (code)
        where not v.reported group by all)
    select d.owner, a.fiscal_year, a.kpi_id, a.value, a.units_reported, a.units_expected, not a.complete,
           greatest(coalesce(k.baseline_decimals, 0), coalesce(k.target_decimals, 0)),
           coalesce(m.names, []::varchar[]), coalesce(m.rejected, []::varchar[])
    from kpi_aggregates a
    join kpi_year_definitions d using (kpi_id, fiscal_year)
    left join kpis k using (kpi_id)
    left join missing m using (kpi_id, fiscal_year)
    where a.scope_kind = '県全体' order by a.kpi_id"""

# each department and year's last confirmation (standing or reopened): what was received since is what is new
LAST_CONFIRMATION_SQL = """
    select department, fiscal_year, max(confirmed_at) from confirmations group by all"""
LAST = "(select department, fiscal_year, max(confirmation_id) as confirmation_id from confirmations group by all)"
# the values received since the last confirmation: new, or old → new
VALUES_SQL = f"""
    select h.department, h.fiscal_year, h.kpi_id, p.actual_value, h.actual_value, h.submission_id, h.source_cell,
           h.provisional, greatest(coalesce(k.baseline_decimals, 0), coalesce(k.target_decimals, 0))
    from observation_history h
    left join kpis k on k.kpi_id = h.kpi_id
    left join observation_history p on p.kpi_id = h.kpi_id and p.fiscal_year = h.fiscal_year
         and p.as_of = h.as_of and p.version = h.version - 1
    left join {LAST} c on c.department = h.department and c.fiscal_year = h.fiscal_year
    where h.valid_to is null
      and not exists (select 1 from raw_confirmed_versions v where v.confirmation_id = c.confirmation_id
                      and v.kind = 'observation' and v.submission_id = h.submission_id
                      and v.item_id = h.kpi_id and v.as_of = h.as_of)
    order by h.department, h.fiscal_year, h.kpi_id, h.as_of"""
# every warning with its year, its department and whether a local government's survey sheet carries it
WARNINGS_SQL = """
    select q.fiscal_year, q.department, s.local_government is not null,
           q.file_name, q.sheet || '!' || q.cell, q.message, q.kpi_id from data_quality q
    left join raw_submissions s using (submission_id)
    where q.fiscal_year is not null
    order by q.submission_id, q.cell"""
# the 取組実績 received since the last confirmation
OUTCOMES_SQL = f"""
    select s.department, o.fiscal_year, o.initiative_id,
           (select string_agg(p.outcome_text, '、' order by p.row_order) from initiative_outcomes p
            where p.initiative_id = o.initiative_id and p.fiscal_year = o.fiscal_year
              and p.valid_to = o.valid_from),
           exists (select 1 from initiative_outcomes p where p.initiative_id = o.initiative_id
                   and p.fiscal_year = o.fiscal_year and p.valid_to = o.valid_from),
           o.outcome_text, o.figure_value, o.figure_unit, o.submission_id, o.source_cell
    from initiative_outcomes o join raw_submissions s using (submission_id)
    left join {LAST} c on c.department = s.department and c.fiscal_year = o.fiscal_year
    where o.is_current and o.source = 'submission'
      and not exists (select 1 from raw_confirmed_versions v where v.confirmation_id = c.confirmation_id
                      and v.kind = 'outcome' and v.submission_id = o.submission_id
                      and v.item_id = o.initiative_id and v.fiscal_year = o.fiscal_year)
    order by s.department, o.fiscal_year, o.initiative_id, o.row_order"""
EXPLANATIONS_SQL = """
    select department, fiscal_year, kpi_id, factor_analysis, future_direction from kpi_explanations
    where valid_to is null and (factor_analysis is not null or future_direction is not null)
    order by department, fiscal_year, kpi_id"""


def _by_period(rows: list[tuple]) -> dict[tuple[str, int], list[tuple]]:
    """Rows led by (department, fiscal_year), grouped by them in the order read, without those two."""
    grouped: dict[tuple[str, int], list[tuple]] = {}
    for dept, fy, *row in rows:
        grouped.setdefault((dept, fy), []).append(tuple(row))
    return grouped


def review(warehouse: Path, year: int | None = None, department: str | None = None) -> list[ReviewItem]:
    """Every department and year without a standing confirmation (optionally one year, one department)."""
    from .. import database

    con = database.connect(warehouse)
    try:
        periods = con.execute("""
            with status as materialized (select * from submission_status)  -- read once, not per subquery
            select department, fiscal_year, missing_kpi_ids from status
            where unit_kind = '部局' and confirmed_at is null and (kpis_expected > 0 or kpis_reported > 0)
            union
            -- the owner of a computed KPI: the local governments' counts are its to confirm
            select distinct r.owner, r.fiscal_year, []::varchar[] from kpi_reporters r
            where r.fiscal_year in (select fiscal_year from status)
              and not exists (select 1 from confirmations c where c.department = r.owner
                              and c.fiscal_year = r.fiscal_year and c.is_standing)
              and not exists (select 1 from status s where s.unit_kind = '部局' and s.department = r.owner
                              and s.fiscal_year = r.fiscal_year and (s.kpis_expected > 0 or s.kpis_reported > 0))
            union
            select distinct h.department, h.fiscal_year, []::varchar[] from observation_history h
            where h.valid_to is null and not exists (
                select 1 from confirmations c where c.department = h.department and c.fiscal_year = h.fiscal_year
                and c.is_standing)
              and not exists (select 1 from status s where s.department = h.department
                              and s.fiscal_year = h.fiscal_year)
            order by 2, 1""").fetchall()
        aggregates = _by_period(con.execute(AGGREGATES_SQL).fetchall())
        # each kind of point in one query for every department and year, grouped here (a query per item and kind
        # cost more in planning the views than in reading them)
        last = {(dept, fy): at for dept, fy, at in con.execute(LAST_CONFIRMATION_SQL).fetchall()}
        values = _by_period(con.execute(VALUES_SQL).fetchall())
        outcomes = _by_period(con.execute(OUTCOMES_SQL).fetchall())
        explanations = _by_period(con.execute(EXPLANATIONS_SQL).fetchall())
        warnings = con.execute(WARNINGS_SQL).fetchall()
        items = []
        for dept, fy, missing in periods:
            if (year is not None and fy != year) or (department is not None and dept != department):
                continue
            item = ReviewItem(dept, fy, missing=list(missing or []))
            confirmed_at = last.get((dept, fy))
            item.last_confirmed = f"{confirmed_at:%Y-%m-%d}" if confirmed_at else None
            item.values = values.get((dept, fy), [])
            item.aggregates = aggregates.get((dept, fy), [])
            # the department's own warnings, and those on the local governments' counts of its computed KPIs (a
            # count typed in 千件 is a value_jump there: the owner confirms the aggregate it weighs on)
            computed = {a[0] for a in item.aggregates}
            item.warnings = [tuple(row) for q_year, q_dept, of_unit, *row in warnings
                             if q_year == fy and (q_dept == dept or (of_unit and row[3] in computed))]
            item.outcomes = outcomes.get((dept, fy), [])
            item.explanations = explanations.get((dept, fy), [])
            items.append(item)
        return items
    finally:
        con.close()


def write_checklist(items: list[ReviewItem], path: Path) -> Path:
    """The review as an .xlsx checklist: one row per point, with a column to tick."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "確認リスト"
    ws.append(["部局", "年度", "区分", "指標ID・項目ID", "内容", "提出番号・ファイル", "セル", "確認"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for item in items:
        for kind, kpi, what, sid, cell in item.rows() or [("-", "", "変更・警告・未報告はありません", "", "")]:
            row = ws.max_row + 1
            for col, value in enumerate((item.department, fiscal_year_label(item.fiscal_year), kind, kpi, what, sid,
                                         cell, ""), start=1):
                set_text(ws.cell(row=row, column=col), str(value))
    for col, width in zip("ABCDEFGH", (14, 10, 10, 10, 70, 24, 14, 8)):
        ws.column_dimensions[col].width = width
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
