"""Assess workbooks: read, parse every cell, then validate the whole batch at once.

``check`` and ``run`` both call :func:`assess_files`, so a file passes ``check``
if and only if ``run`` accepts it (duplicates aside: only ``run`` sees history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..catalogue import Catalogue
from ..config import Grading, Limits
from .layout import EXPLANATION, SURVEY_KEY, SURVEY_VALUE
from .messages import ERROR, WARNING, Issue, cell_ref, format_number
from .ooxml import CellError
from .parse import (ValueResult, fiscal_year_end, fiscal_year_label, is_blank, is_percent, normalize_text, parse_as_of,
                    parse_fiscal_year, parse_value)
from .pool import in_workers
from .reader import RawRow, Table, WorkbookRead, read_workbook

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 24
CHUNK = 16
# Record keys of 要因分析 and 今後の方向性, in EXPLANATION's order (the raw table's column names).
EXPLANATION_FIELDS = ("factor_analysis", "future_direction")


@dataclass
class Assessment:
    """What shinchoku concluded about one workbook: its values and its problems."""

    path: Path | None  # None when the workbook was given as bytes (a run's inbox file, read once)
    department: str | None
    read: WorkbookRead
    records: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    local_government: str | None = None  # the code of the local government whose folder (or survey sheet) this is

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    @property
    def accepted(self) -> bool:
        return not self.errors


def _text(value) -> str:
    """A cell value as a department would read it back."""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _parse_cells(table: Table, row: RawRow, item_id: str | None, unit: str, value_label: str,
                 declared_year: int | None, issues: list[Issue]) -> tuple[int | None, ValueResult, dt.date | None]:
    """Parse a row's 年度, value and 時点 (same rules for KPI actuals and outcome figures)."""
    first = len(issues)
    try:
        return _parse_row(table, row, item_id, unit, value_label, declared_year, issues)
    finally:
        subject = {OUTCOME_VALUE: "outcome", SURVEY_VALUE: "survey"}.get(value_label)
        if subject:  # an outcome's 数値 or a survey's 実数, in the messages the department reads
            for issue in issues[first:]:
                issue.params["subject"] = subject


OUTCOME_VALUE = "数値"


def _parse_row(table: Table, row: RawRow, item_id: str | None, unit: str, value_label: str,
               declared_year: int | None, issues: list[Issue]) -> tuple[int | None, ValueResult, dt.date | None]:
    sheet, cells = table.sheet, row.cells
    for label in row.formula_missing:
        issues.append(Issue("formula_no_value", sheet, table.cell(row, label), item_id))
    for label in ("年度", value_label, "時点"):
        if isinstance(cells[label], CellError):
            issues.append(Issue("formula_error", sheet, table.cell(row, label), item_id, {"value": str(cells[label])}))
    unreadable = set(row.formula_missing) | {k for k, v in cells.items() if isinstance(v, CellError)}
    raw_year = cells["年度"]
    year = declared_year if is_blank(raw_year) else parse_fiscal_year(raw_year)
    if year is None and "年度" not in unreadable:
        issues.append(Issue("bad_fiscal_year", sheet, table.cell(row, "年度"), item_id,
                            {"value": _text(raw_year) or "(空欄)"}))
    elif year is not None and declared_year is not None and year != declared_year:
        issues.append(Issue("year_differs", sheet, table.cell(row, "年度"), item_id,
                            {"value": fiscal_year_label(year), "detail": fiscal_year_label(declared_year)}))
    parsed = ValueResult()
    raw_value = cells[value_label]
    value_cell = table.cell(row, value_label)
    shown = row.shown.strip()  # messages quote the cell as the department sees it (会計's padding aside)
    if value_label not in unreadable and not is_blank(raw_value):
        parsed = parse_value(raw_value, unit, row.fmt)
        if parsed.error:
            detail = parsed.format_unit or parsed.converted_from or ""
            if parsed.error in _STORED_NUMBER_SHOWN and isinstance(raw_value, (int, float)):
                detail = format_number(raw_value)
            issues.append(Issue(parsed.error, sheet, value_cell, item_id,
                                {"value": shown, "unit": unit or "(単位なし)", "detail": detail}))
        else:
            if parsed.approximate:
                issues.append(Issue("approximate_value", sheet, value_cell, item_id, {"value": shown}))
            if parsed.converted_from and unit:
                issues.append(Issue("unit_converted", sheet, value_cell, item_id,
                                    {"value": shown, "unit": unit, "detail": f"{format_number(parsed.value)}{unit}"}))
    if parsed.value_year is not None and year is not None and parsed.value_year != year:
        issues.append(Issue("as_of_conflict", sheet, value_cell, item_id,
                            {"value": shown, "detail": f"年度欄の{fiscal_year_label(year)}"}))
    as_of = None
    if "時点" not in unreadable:
        dated = parse_as_of(cells["時点"], year)
        if dated.error:
            issues.append(Issue("bad_as_of", sheet, table.cell(row, "時点"), item_id, {"value": _text(cells["時点"])}))
        as_of = dated.value
        if parsed.as_of_text is not None:
            written = parse_as_of(parsed.as_of_text, parsed.value_year or year).value
            if as_of is None and not dated.error and written is not None:
                as_of = written
                issues.append(Issue("as_of_in_value", sheet, value_cell, item_id,
                                    {"value": shown, "detail": written.isoformat()}))
            elif as_of is not None and written != as_of:
                issues.append(Issue("as_of_conflict", sheet, value_cell, item_id,
                                    {"value": shown, "detail": f"時点欄の {as_of.isoformat()}"}))
    if as_of is None and year is not None:
        as_of = fiscal_year_end(year)
    elif as_of is not None and year is not None and not (
            dt.date(year, 4, 1) <= as_of <= fiscal_year_end(year) + dt.timedelta(days=91)):
        issues.append(Issue("as_of_outside_year", sheet, table.cell(row, "時点"), item_id, {"detail": as_of.isoformat()}))
    return year, parsed, as_of


# Refusals whose message shows the number stored behind a display that hides it.
_STORED_NUMBER_SHOWN = {"hidden_value", "shown_as_text", "sign_hidden", "scaled_display", "rounded_to_zero"}


def _marks(parsed: ValueResult) -> tuple[str, ...]:
    """How a value was read, in the words ``check`` shows: 約, 速報, %表示, 書式の単位(件), 換算(件)..."""
    marks = []
    if parsed.approximate:
        marks.append("約")
    if parsed.provisional:
        marks.append(parsed.provisional)
    if parsed.percent:
        marks.append("%表示")
    if parsed.format_unit:
        marks.append(f"書式の単位({parsed.format_unit})")
    if parsed.converted_from:
        marks.append(f"換算({parsed.converted_from})")
    if parsed.as_of_text:
        marks.append("時点は括弧書き")
    return tuple(marks)


def _explanations(row: RawRow) -> dict[str, str | None]:
    """The row's 要因分析 and 今後の方向性 (None where blank); formula errors and unsaved formulas count as blank."""
    texts = {}
    for key, label in zip(EXPLANATION_FIELDS, EXPLANATION):
        value = row.cells.get(label)
        texts[key] = None if is_blank(value) or isinstance(value, CellError) or label in row.formula_missing \
            else _text(value)
    return texts


def _cell_notes(table: Table, row: RawRow, item_id: str | None, value_label: str, issues: list[Issue]) -> None:
    """Warnings about how the row's cells were read: control characters removed from a text (every label),
    a value a formula took from another workbook or by DDE (the value cell)."""
    for label in row.cleaned:
        issues.append(Issue("control_character_removed", table.sheet, table.cell(row, label), item_id,
                            {"value": label}))
    value = row.cells.get(value_label)
    if value_label in row.external and not is_blank(value) and not isinstance(value, CellError):
        issues.append(Issue("external_value", table.sheet, table.cell(row, value_label), item_id,
                            {"value": row.shown}))


def _latest_year(table: Table) -> int | None:
    """The latest fiscal year the table's rows are for, when the workbook does not declare one."""
    years = [parse_fiscal_year(row.cells["年度"]) for row in table.rows
             if not is_blank(row.cells["年度"]) and not isinstance(row.cells["年度"], CellError)]
    return max((y for y in years if y is not None), default=None)


def _id_of(value) -> str | None:
    return None if is_blank(value) else normalize_text(_text(value))


def _path_of(source: Path | bytes) -> Path | None:
    return None if isinstance(source, (bytes, bytearray)) else Path(source)


def assess_one(source: Path | bytes, department: str | None, catalogue: Catalogue, limits: Limits) -> Assessment:
    """Read one workbook (a path, or its bytes) and parse its cells; batch rules come later in validate_batch.

    Never raises: a failure no rule foresaw becomes the coded issue ``unexpected_error``.
    """
    try:
        return _assess(source, department, catalogue, limits)
    except Exception as e:  # noqa: BLE001 - one file must never stop a run; the fuzz tests count these
        return Assessment(_path_of(source), department, WorkbookRead(),
                          issues=[Issue("unexpected_error", params={"detail": type(e).__name__})])


def _assess(source: Path | bytes, department: str | None, catalogue: Catalogue, limits: Limits) -> Assessment:
    read = read_workbook(source, limits)
    result = Assessment(_path_of(source), department, read, issues=list(read.issues))
    if read.macro:
        result.issues.append(Issue("macro_workbook"))
    if department is None and read.table is None and read.survey is not None:  # check of a survey sheet by path
        declared = catalogue.local_governments_by_code.get(read.declared_local_government or "")
        if declared is not None:
            department = result.department = declared.name
    government = catalogue.local_governments_by_name.get(department) if department else None
    if government is not None:  # a local government's folder: its survey sheet, never a department's return
        return _assess_survey(result, government, catalogue)
    if read.survey is not None:
        if department in catalogue.departments:
            result.issues.append(Issue("survey_in_department_folder", read.survey.sheet,
                                       params={"department": department}))
        elif read.table is None:
            result.issues.append(Issue("unknown_local_government", read.survey.sheet,
                                       params={"detail": department or "団体の記録なし"}))
        read.survey.rows = []
    table = read.table
    if table is None:
        return result
    declared = read.declared_department
    if department is None:
        department = result.department = declared
    # after a reorganisation the old department's folder (or template) is its successor's, never by the file's say
    year = sheet_year = read.declared_fiscal_year or _latest_year(table)
    successor = catalogue.successor_in(department, year) if department and year else None
    if department is None or department not in catalogue.departments:
        result.issues.append(Issue("unknown_department", table.sheet, params={"detail": department or "部局の記録なし"}))
    elif successor:
        result.issues.append(Issue("renamed_department", table.sheet, params={"detail": department, "department": successor}))
        department = result.department = successor
    elif declared and declared != department:
        if year and catalogue.successor_in(declared, year) == department:
            result.issues.append(Issue("renamed_department", table.sheet,
                                       params={"detail": declared, "department": department}))
        else:
            result.issues.append(Issue("department_mismatch", table.sheet,
                                       params={"detail": declared, "department": department}))

    explained = all(label in table.columns for label in EXPLANATION)
    for row in table.rows:
        kpi_id = _id_of(row.cells["指標ID"])
        kpi = catalogue.kpis_by_id.get(kpi_id) if kpi_id else None
        texts = _explanations(row) if explained else {}
        _cell_notes(table, row, kpi_id, "実績値", result.issues)
        if is_blank(row.cells["実績値"]) and "実績値" not in row.formula_missing:
            if any(texts.values()):  # no figure, but the department says why
                year, _, as_of = _parse_cells(table, row, kpi_id, kpi.unit if kpi else "", "実績値",
                                              read.declared_fiscal_year, result.issues)
                result.records.append({
                    "table": "explanation", "row0": row.row0, "item_id": kpi_id, "department": department,
                    "fiscal_year": year, "as_of": as_of, "actual_value": None, "raw_value": "",
                    "source_cell": table.cell(row, EXPLANATION[0]), **texts})
            else:
                result.issues.extend(Issue("formula_no_value", table.sheet, table.cell(row, label), kpi_id)
                                     for label in row.formula_missing)
            continue  # no value reported
        year, parsed, as_of = _parse_cells(table, row, kpi_id, kpi.unit if kpi else "", "実績値",
                                           read.declared_fiscal_year, result.issues)
        if "実績値" in row.formula_missing:
            continue
        note = row.cells["備考"]
        result.records.append({
            "table": "kpi", "row0": row.row0, "item_id": kpi_id, "department": department,
            "fiscal_year": year, "as_of": as_of, "actual_value": parsed.value, "unit_written": parsed.unit_written,
            "provisional": parsed.provisional, "approximate": parsed.approximate, "shown": row.shown,
            "marks": _marks(parsed),
            "raw_value": _text(row.cells["実績値"]) + ("(%表示)" if parsed.percent else ""),
            "note": None if is_blank(note) else _text(note), "source_cell": table.cell(row, "実績値"),
            "explained": explained, "explanation_cell": table.cell(row, EXPLANATION[0]) if explained else None,
            **texts,
        })

    outcomes = read.outcomes
    for row in (outcomes.rows if outcomes else []):
        initiative_id = _id_of(row.cells["項目ID"])
        _cell_notes(outcomes, row, initiative_id, "数値", result.issues)
        text = row.cells["成果・効果"]
        if is_blank(text) and is_blank(row.cells["数値"]) and not row.formula_missing:
            continue  # nothing reported for this initiative
        unit = "" if is_blank(row.cells["単位"]) else normalize_text(_text(row.cells["単位"]))
        year, parsed, as_of = _parse_cells(outcomes, row, initiative_id, unit, "数値",
                                           read.declared_fiscal_year, result.issues)
        activities = row.cells["取組内容"]
        result.records.append({
            "table": "outcome", "row0": row.row0, "item_id": initiative_id, "department": department,
            "fiscal_year": year, "as_of": as_of, "actual_value": parsed.value, "unit": unit or None,
            "unit_written": parsed.unit_written, "provisional": parsed.provisional, "approximate": parsed.approximate,
            "shown": row.shown, "marks": _marks(parsed),
            "raw_value": _text(row.cells["数値"]),
            "outcome_text": None if is_blank(text) else _text(text),
            "activities": None if is_blank(activities) else _text(activities),
            "source_cell": outcomes.cell(row, "成果・効果"),
        })
    # no value typed, where one was owed: not where every KPI of the year is computed from the survey sheets
    owed = sheet_year is None or department not in catalogue.departments or any(
        catalogue.rule_of(k.kpi_id, sheet_year) is None for k in catalogue.kpis_of(department, sheet_year))
    if owed and not any(r["table"] == "kpi" for r in result.records):
        result.issues.append(Issue("no_values", table.sheet))
    # The raw cells are parsed into records now; keep only where the tables are, not their contents.
    for parsed in (table, outcomes):
        if parsed is not None:
            parsed.rows = []
    return result


_OTHER_ROLE = {"numerator": "denominator", "denominator": "numerator"}
ROLE_LABELS = {"numerator": "分子", "denominator": "分母", "addend": "加算項目"}


def _assess_survey(result: Assessment, government, catalogue: Catalogue) -> Assessment:
    """A local government's 調査票: one record per count (``table`` "component"); its folder names the government."""
    read, folder = result.read, result.department
    result.local_government = government.code
    if read.table is not None:  # a department's return in a local government's folder
        result.issues.append(Issue("return_in_local_government_folder", read.table.sheet, params={"department": folder}))
    for other in (read.table, read.outcomes):
        if other is not None:
            other.rows = []
    survey = read.survey
    if survey is None:
        return result
    declared = read.declared_local_government
    if declared and declared != government.code:
        named = catalogue.local_governments_by_code.get(declared)
        result.issues.append(Issue("local_government_mismatch", survey.sheet, params={
            "detail": named.name if named else f"団体コード {declared}", "department": folder}))
    components = {(c.kpi_id, c.component_id): c for c in catalogue.kpi_components}
    cells = {}  # (指標ID, 構成要素ID) -> its 実数 cell, blank rows included: where a missing count belongs
    for row in survey.rows:
        cells.setdefault((_id_of(row.cells["指標ID"]), _id_of(row.cells[SURVEY_KEY])), survey.cell(row, SURVEY_VALUE))
    for row in survey.rows:
        kpi_id, component_id = _id_of(row.cells["指標ID"]), _id_of(row.cells[SURVEY_KEY])
        component = components.get((kpi_id, component_id))
        first = len(result.issues)
        _cell_notes(survey, row, kpi_id, SURVEY_VALUE, result.issues)
        raw = row.cells[SURVEY_VALUE]
        if is_blank(raw) and SURVEY_VALUE not in row.formula_missing:
            result.issues.extend(Issue("formula_no_value", survey.sheet, survey.cell(row, label), kpi_id)
                                 for label in row.formula_missing)
            _about_survey(result.issues[first:])
            continue  # not counted (yet)
        unit = component.unit if component else ""
        year, parsed, as_of = _parse_cells(survey, row, kpi_id, unit, SURVEY_VALUE, read.declared_fiscal_year,
                                           result.issues)
        value_cell = survey.cell(row, SURVEY_VALUE)
        rate = parsed.percent or (parsed.converted_from is not None and is_percent(parsed.converted_from))
        if rate:  # a rate where a count is asked: say so, not that % cannot be converted to 件
            result.issues[first:] = [i for i in result.issues[first:] if not (i.cell == value_cell and i.code == parsed.error)]
            result.issues.append(Issue("rate_for_count", survey.sheet, value_cell, kpi_id, {"value": row.shown.strip()}))
        _about_survey(result.issues[first:])
        partner = next((cells.get((kpi_id, c.component_id)) for c in catalogue.kpi_components
                        if component and c.kpi_id == kpi_id and c.role == _OTHER_ROLE.get(component.role)
                        and (year is None or c.exists_in(year))), None)
        note = row.cells["備考"]
        result.records.append({
            "table": "component", "row0": row.row0, "item_id": kpi_id, "component_id": component_id,
            "role": component.role if component else None, "local_government": government.code, "department": folder,
            "fiscal_year": year, "as_of": as_of, "actual_value": None if rate else parsed.value, "unit": unit or None,
            "raw_value": _text(raw) + ("(%表示)" if parsed.percent else ""), "provisional": parsed.provisional,
            "approximate": parsed.approximate, "note": None if is_blank(note) else _text(note),
            "source_cell": value_cell, "shown": row.shown, "marks": _marks(parsed), "partner_cell": partner,
        })
    if not result.records:
        result.issues.append(Issue("no_values", survey.sheet, params={"subject": "survey"}))
    survey.rows = []
    return result


def _about_survey(issues: list[Issue]) -> None:
    for issue in issues:
        issue.params["subject"] = "survey"


def _assess_chunk(items: list[tuple[Path | bytes, str | None]], catalogue: Catalogue, limits: Limits) -> list[Assessment]:
    """A worker's share: the catalogue and limits reach each worker once, not with every chunk."""
    return [assess_one(source, dept, catalogue, limits) for source, dept in items]


def assess_files(items: list[tuple[Path | bytes, str | None]], catalogue: Catalogue, limits: Limits,
                 workers: int = 1, meanwhile=None, grading: Grading = Grading()) -> list[Assessment]:
    """Assess workbooks (path or bytes, trusted department or None): parse in parallel, validate as one batch.

    ``meanwhile``, if given, is called in this process while the workers parse: I/O-bound work
    (archiving originals) then overlaps CPU-bound parsing. ``grading`` is the configured bands,
    which decide where a department must explain its figure (explanation_missing).
    """
    if workers > 1 and len(items) >= PARALLEL_THRESHOLD:
        chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
        assessments = in_workers(_assess_chunk, chunks, (catalogue, limits), workers, meanwhile)
    else:
        if meanwhile:
            meanwhile()
        assessments = [assess_one(source, dept, catalogue, limits) for source, dept in items]
    validate_batch(assessments, catalogue, grading)
    return assessments


_CELL_OF_CHECK = {"unknown_kpi": "指標ID", "kpi_not_in_force": "指標ID", "unknown_initiative": "項目ID", "wrong_department": None,
                  "year_out_of_range": "年度", "duplicate_row": "指標ID", "explanation_missing": EXPLANATION[0]}
# Which rules apply to which records: KPI actuals, texts without a figure, initiative outcomes.
_KINDS = {"kpi": ("ObservationRules", "ObservationWarnings"), "explanation": ("ExplanationRules",),
          "outcome": ("OutcomeRules",), "component": ("SurveyRules",)}  # a survey's counts: _validate_components


def validate_batch(assessments: list[Assessment], catalogue: Catalogue, grading: Grading = Grading()) -> None:
    """Run the pandera rules over every record of every workbook, one frame per kind of record."""
    rows = [dict(rec, source=i) for i, a in enumerate(assessments) for rec in a.records]
    if not rows:
        return
    import pandas as pd  # pandas and pandera only once there are records to validate: check starts faster

    import schemas.return_sheet as rules

    _validate_components(assessments, [r for r in rows if r["table"] == "component"], catalogue, pd, rules)
    kpis, initiatives = catalogue.kpis_by_id, catalogue.initiatives_by_id
    for kind, schemas in _KINDS.items():
        picked = [r for r in rows if r["table"] == kind]
        if not picked or kind == "component":
            continue
        items = initiatives if kind == "outcome" else kpis
        # each row is judged by its item's definition in force in the row's own fiscal year
        versions = [catalogue.version_of(r["item_id"], r["fiscal_year"]) if r["item_id"] in items else None
                    for r in picked]
        if kind == "kpi":
            _judge(picked, versions, grading)
        frame = pd.DataFrame(picked)
        frame["fiscal_year"] = frame["fiscal_year"].astype("Int64")
        frame["actual_value"] = frame["actual_value"].astype("float64")
        for column in ("item_id", "department"):
            frame[column] = frame[column].astype(object)
        frame["item_known"] = frame["item_id"].map(lambda k: k in items).astype(bool)
        # a year outside the plan is year_out_of_range, not this
        frame["in_force"] = pd.Series([
            r["fiscal_year"] is None or not catalogue.first_year <= r["fiscal_year"] <= catalogue.last_year
            or catalogue.in_force(r["item_id"], r["fiscal_year"]) for r in picked], index=frame.index, dtype=bool)
        frame["item_owner"] = pd.Series([v.owner if v else None for v in versions], index=frame.index, dtype=object)
        if kind == "outcome":
            frame["item_unit"] = frame["unit"].astype(object)
        else:
            frame["item_unit"] = frame["item_id"].map(lambda k: kpis[k].unit if k in kpis else None).astype(object)
        if kind == "kpi":
            frame["unit_written"] = frame["unit_written"].astype(bool)
            for column in ("baseline_value", "target_value"):
                frame[column] = pd.Series([getattr(v, column) if v else None for v in versions], index=frame.index,
                                          dtype="float64")
            for column in ("worse_than_baseline", "behind", "explained"):
                frame[column] = frame[column].astype(bool)
            frame["factor_blank"] = frame["factor_analysis"].isna()
            # a KPI computed from the local governments' survey sheets that year (computed_kpi_reported)
            frame["computed"] = pd.Series([bool(r["item_id"] and r["fiscal_year"] is not None
                                                and catalogue.rule_of(r["item_id"], r["fiscal_year"]))
                                           for r in picked], index=frame.index, dtype=bool)
        frame["first_year"] = catalogue.first_year
        frame["last_year"] = catalogue.last_year
        for schema in schemas:
            for index, code in rules.failures(getattr(rules, schema), frame):
                _record_failure(assessments, picked[index], code, catalogue)


def _validate_components(assessments: list[Assessment], picked: list[dict], catalogue: Catalogue, pd, rules) -> None:
    """The survey sheets' counts (``table`` "component"), one frame for the batch: each count known and expected
    from its government that year, a whole number, and each numerator with its denominator, never above it."""
    if not picked:
        return
    known = {(c.kpi_id, c.component_id): c for c in catalogue.kpi_components}
    groups: dict[tuple, dict[str, list[dict]]] = {}  # a file's counts of one KPI, by role
    for r in picked:
        groups.setdefault((r["source"], r["item_id"]), {}).setdefault(r["role"], []).append(r)
    for r in picked:
        year, component = r["fiscal_year"], known.get((r["item_id"], r["component_id"]))
        r["component_known"] = component is not None
        r["in_force"] = component is None or year is None or bool(
            component.exists_in(year) and catalogue.rule_of(component.kpi_id, year))
        r["expected"] = not (r["component_known"] and r["in_force"] and year is not None) or any(
            g.code == r["local_government"] for g in catalogue.reporters_of(r["item_id"], year))
        other = _OTHER_ROLE.get(r["role"])
        others = groups[(r["source"], r["item_id"])].get(other, []) if other else []
        partners = [p for p in others if p["fiscal_year"] == year and p["as_of"] == r["as_of"]]
        r["partner_present"] = other is None or bool(others)
        # a numerator and a denominator given for different years or 時点: said once, at the numerator
        r["partner_aligned"] = r["role"] != "numerator" or not others or bool(partners)
        r["partner_value"] = partners[0]["actual_value"] if partners else None
        r["partner_source_cell"] = (partners or others)[0]["source_cell"] if others else None
        r["partner_when"] = _when(others[0]) if others and not partners else None
    frame = pd.DataFrame(picked)
    frame["fiscal_year"] = frame["fiscal_year"].astype("Int64")
    for column in ("actual_value", "partner_value"):
        frame[column] = frame[column].astype("float64")
    for column in ("item_id", "component_id", "role", "department"):
        frame[column] = frame[column].astype(object)
    for column in ("component_known", "in_force", "expected", "partner_present", "partner_aligned"):
        frame[column] = frame[column].astype(bool)
    frame["first_year"] = catalogue.first_year
    frame["last_year"] = catalogue.last_year
    for index, code in rules.failures(getattr(rules, _KINDS["component"][0]), frame):
        _component_failure(assessments[picked[index]["source"]], picked[index], code, catalogue)


def _when(rec: dict) -> str:
    """A count's 年度 and 時点, as the messages name them: R6年度・時点 2025-02-28."""
    year = fiscal_year_label(rec["fiscal_year"]) if rec["fiscal_year"] else "年度不明"
    return f"{year}・時点 {rec['as_of'].isoformat() if rec['as_of'] else '(空欄)'}"


def _component_failure(a: Assessment, rec: dict, code: str, catalogue: Catalogue) -> None:
    """A survey rule's failure, at the cell it concerns: the 構成要素ID, the 年度, a count, or the blank one."""
    survey = a.read.survey
    own = rec["source_cell"]
    role, other = ROLE_LABELS.get(rec["role"], ""), ROLE_LABELS.get(_OTHER_ROLE.get(rec["role"], ""), "")
    params = {"value": rec.get("shown") or rec["raw_value"], "department": rec["department"], "subject": "survey"}
    cell = own
    if code in ("unknown_component", "component_not_expected", "duplicate_row"):
        cell = cell_ref(rec["row0"], survey.columns[SURVEY_KEY])
        params["value"] = rec["component_id"] or "(空欄)"
        year = rec["fiscal_year"]
        if code == "unknown_component":
            params["detail"] = "構成要素の一覧にありません" if not rec["component_known"] else \
                f"{fiscal_year_label(year)}の算出には用いません"
        elif code == "component_not_expected":
            params["detail"] = fiscal_year_label(year)
        else:
            params["detail"] = f"{rec['component_id']}・{year}年度・時点{rec['as_of']}"
    elif code == "year_out_of_range":
        cell = cell_ref(rec["row0"], survey.columns["年度"])
        params["detail"] = str(rec["fiscal_year"])
    elif code == "numerator_above_denominator":
        params["value"] = f"{role}({own}の {format_number(rec['actual_value'])})"
        params["detail"] = f"{other}({rec['partner_source_cell']}の {format_number(rec['partner_value'])})"
    elif code == "components_differ":
        params["value"] = f"{role}({own}: {_when(rec)})"
        params["detail"] = f"{other}({rec['partner_source_cell']}: {rec['partner_when']})"
    elif code == "component_missing":
        cell = rec["partner_cell"] or own
        params["value"] = f"{role}({own})"
        params["detail"] = f"{other}({rec['partner_cell']})" if rec["partner_cell"] else f"{other}の行"
    a.issues.append(Issue(code, survey.sheet, cell, rec["item_id"], {
        "min_fy": catalogue.first_year, "max_fy": catalogue.last_year, **params}))


def _judge(records: list[dict], versions: list, grading: Grading) -> None:
    """Each actual's grade and whether it is behind or worse than its baseline, as the views will judge it
    (``versions``: each record's KPI as defined in its fiscal year)."""
    for rec, kpi in zip(records, versions):
        value, year = rec["actual_value"], rec["fiscal_year"]
        rec["grade"], rec["behind"], rec["worse_than_baseline"] = None, False, False
        rec.setdefault("explained", False)
        rec.setdefault("factor_analysis", None)
        if kpi is None or value is None or year is None:
            continue
        pace, reached = kpi.pace(year, value), kpi.reached(value)
        rec["grade"] = grading.grade(pace, reached)
        rec["grade_label"] = grading.label(rec["grade"])
        rec["behind"] = grading.behind(pace, reached)
        rec["worse_than_baseline"] = kpi.worse_than_baseline(value)


def _record_failure(assessments: list[Assessment], rec: dict, code: str, catalogue: Catalogue) -> None:
    a = assessments[rec["source"]]
    outcome = rec["table"] == "outcome"
    table = a.read.outcomes if outcome else a.read.table
    id_label = "項目ID" if outcome else "指標ID"
    value_label = "数値" if outcome else "実績値"
    label = _CELL_OF_CHECK.get(code, value_label) or id_label
    items = catalogue.initiatives_by_id if outcome else catalogue.kpis_by_id
    item = catalogue.version_of(rec["item_id"], rec["fiscal_year"]) or items.get(rec["item_id"])
    shown = {value_label: rec.get("shown", rec["raw_value"]), id_label: rec["item_id"] or "(空欄)",
             "年度": rec["fiscal_year"],
             EXPLANATION[0]: ""}[label]
    a.issues.append(Issue(code, table.sheet, cell_ref(rec["row0"], table.columns[label]), rec["item_id"], {
        "value": shown, "department": rec["department"], "detail": _detail(code, rec, item),
        "min_fy": catalogue.first_year, "max_fy": catalogue.last_year, **({"subject": "outcome"} if outcome else {}),
    }))


def _detail(code: str, rec: dict, item) -> str:
    if code == "percent_as_fraction":
        return f"{Decimal(repr(rec['actual_value'])) * 100:f}".rstrip("0").rstrip(".")
    if code == "wrong_department" and item:
        return item.owner
    if code == "year_out_of_range":
        return str(rec["fiscal_year"])
    if code == "duplicate_row":
        return f"{rec['fiscal_year']}年度・時点{rec['as_of']}"
    if code == "wrong_direction" and item:
        return "値が小さいほど良い指標" if item.direction == "decrease" else "値が大きいほど良い指標"
    if code == "kpi_not_in_force" and item:
        year = rec["fiscal_year"]
        if item.introduced_fy is not None and year < item.introduced_fy:
            return f"{fiscal_year_label(year)}にはまだ設定されていません({fiscal_year_label(item.introduced_fy)}から)"
        return f"{fiscal_year_label(item.retired_fy)}から廃止されています" if item.retired_fy else ""
    if code == "explanation_missing":
        if rec["behind"]:
            return f"評価{rec['grade']}({rec['grade_label']})に当たる"
        return "基準値より悪化している"
    return ""
