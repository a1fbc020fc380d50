"""Assess workbooks: read, parse every cell, then validate the whole batch at once.

``check`` and ``run`` both call :func:`assess_files`, so a file passes ``check``
if and only if ``run`` accepts it (duplicates aside: only ``run`` sees history).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import Catalogue
from .config import Limits
from .messages import ERROR, WARNING, Issue
from .parse import fiscal_year_end, is_blank, normalize_text, parse_as_of, parse_fiscal_year, parse_value
from .reader import WorkbookRead, read_workbook

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 24
CHUNK = 16


@dataclass
class Assessment:
    """What shinchoku concluded about one workbook: its values and its problems."""

    path: Path
    department: str | None
    read: WorkbookRead
    records: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

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


def assess_one(path: Path, department: str | None, catalogue: Catalogue, limits: Limits) -> Assessment:
    """Read one workbook and parse its cells; batch rules come later in validate_batch."""
    read = read_workbook(path, limits)
    result = Assessment(Path(path), department, read, issues=list(read.issues))
    if read.macro:
        result.issues.append(Issue("macro_workbook"))
    if read.sheet is None:
        return result
    sheet = read.sheet
    declared = read.declared_department
    if department is None:
        department = result.department = declared
    if department is None or department not in catalogue.departments:
        result.issues.append(Issue("unknown_department", sheet, params={"detail": department or "部局の記録なし"}))
    elif declared and declared != department:
        result.issues.append(Issue("department_mismatch", sheet, params={"detail": declared, "department": department}))

    for row in read.rows:
        cells = row.cells
        kpi_id = None if is_blank(cells["指標ID"]) else normalize_text(_text(cells["指標ID"]))
        kpi = catalogue.kpis_by_id.get(kpi_id) if kpi_id else None
        for label in row.formula_missing:
            result.issues.append(Issue("formula_no_value", sheet, read.cell(row, label), kpi_id))
        raw_value = cells["実績値"]
        if "実績値" in row.formula_missing or is_blank(raw_value):
            continue  # not reported (or already an error above)
        value_cell = read.cell(row, "実績値")

        raw_year = cells["年度"]
        year = read.declared_fiscal_year if is_blank(raw_year) else parse_fiscal_year(raw_year)
        if year is None and "年度" not in row.formula_missing:
            result.issues.append(Issue("bad_fiscal_year", sheet, read.cell(row, "年度"), kpi_id,
                                       {"value": _text(raw_year) or "(空欄)"}))

        unit = kpi.unit if kpi else ""
        parsed = parse_value(raw_value, unit, row.percent)
        shown = _text(raw_value) + ("(%表示)" if row.percent else "")
        if parsed.error:
            result.issues.append(Issue(parsed.error, sheet, value_cell, kpi_id,
                                       {"value": shown, "unit": unit, "detail": parsed.converted_from or ""}))
        else:
            if parsed.approximate:
                result.issues.append(Issue("approximate_value", sheet, value_cell, kpi_id, {"value": shown}))
            if parsed.converted_from and kpi:
                result.issues.append(Issue("unit_converted", sheet, value_cell, kpi_id,
                                           {"value": shown, "unit": unit, "detail": f"{parsed.value:g}{unit}"}))

        as_of_cell = read.cell(row, "時点")
        as_of = None
        if "時点" not in row.formula_missing:
            dated = parse_as_of(cells["時点"], year)
            if dated.error:
                result.issues.append(Issue("bad_as_of", sheet, as_of_cell, kpi_id, {"value": _text(cells["時点"])}))
            as_of = dated.value
        if as_of is None and year is not None:
            as_of = fiscal_year_end(year)
        elif as_of is not None and year is not None and not (dt.date(year, 4, 1) <= as_of <= fiscal_year_end(year) + dt.timedelta(days=91)):
            result.issues.append(Issue("as_of_outside_year", sheet, as_of_cell, kpi_id, {"detail": as_of.isoformat()}))

        note = cells["備考"]
        result.records.append({
            "row0": row.row0,
            "kpi_id": kpi_id,
            "department": department,
            "fiscal_year": year,
            "as_of": as_of,
            "actual_value": parsed.value,
            "raw_value": shown,
            "note": None if is_blank(note) else _text(note),
            "source_cell": value_cell,
        })
    return result


# Worker-process state: the catalogue and limits are sent once per worker, not per file.
_worker: dict = {}


def _init_worker(catalogue: Catalogue, limits: Limits) -> None:
    _worker["catalogue"], _worker["limits"] = catalogue, limits


def _assess_chunk(items: list[tuple[Path, str | None]]) -> list[Assessment]:
    return [assess_one(path, dept, _worker["catalogue"], _worker["limits"]) for path, dept in items]


def assess_files(items: list[tuple[Path, str | None]], catalogue: Catalogue, limits: Limits,
                 workers: int = 1) -> list[Assessment]:
    """Assess workbooks (path, trusted department or None): parse in parallel, validate as one batch."""
    if workers > 1 and len(items) >= PARALLEL_THRESHOLD:
        chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["shinchoku.assess"])
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(catalogue, limits)) as pool:
            assessments = [a for chunk in pool.map(_assess_chunk, chunks) for a in chunk]
    else:
        assessments = [assess_one(path, dept, catalogue, limits) for path, dept in items]
    validate_batch(assessments, catalogue)
    return assessments


_CELL_OF_CHECK = {"unknown_kpi": "指標ID", "wrong_department": "指標ID", "year_out_of_range": "年度",
                  "duplicate_row": "指標ID"}


def validate_batch(assessments: list[Assessment], catalogue: Catalogue) -> None:
    """Run the pandera rules over every record of every workbook in one frame."""
    rows = [dict(rec, source=i) for i, a in enumerate(assessments) for rec in a.records]
    if not rows:
        return
    import pandas as pd

    from schemas.return_sheet import ObservationRules, ObservationWarnings, failures

    frame = pd.DataFrame(rows)
    kpis = catalogue.kpis_by_id
    frame["fiscal_year"] = frame["fiscal_year"].astype("Int64")
    frame["actual_value"] = frame["actual_value"].astype("float64")
    frame["kpi_id"] = frame["kpi_id"].astype(object)
    frame["department"] = frame["department"].astype(object)
    frame["kpi_known"] = frame["kpi_id"].map(lambda k: k in kpis).astype(bool)
    for column, attr in (("kpi_owner", "owner"), ("kpi_unit", "unit"), ("direction", "direction")):
        frame[column] = frame["kpi_id"].map(lambda k, a=attr: getattr(kpis[k], a) if k in kpis else None).astype(object)
    for column in ("baseline_value", "target_value"):
        frame[column] = frame["kpi_id"].map(lambda k, a=column: getattr(kpis[k], a) if k in kpis else None).astype("float64")
    frame["first_year"] = catalogue.first_year
    frame["last_year"] = catalogue.last_year

    for schema in (ObservationRules, ObservationWarnings):
        for index, code in failures(schema, frame):
            rec = rows[index]
            a = assessments[rec["source"]]
            label = _CELL_OF_CHECK.get(code, "実績値")
            kpi = kpis.get(rec["kpi_id"])
            a.issues.append(Issue(code, a.read.sheet, a.read.cell(_row(a, rec), label), rec["kpi_id"], {
                "value": rec["raw_value"] if label == "実績値" else (rec["kpi_id"] if label == "指標ID" else rec["fiscal_year"]),
                "department": rec["department"],
                "detail": _detail(code, rec, kpi),
                "min_fy": catalogue.first_year, "max_fy": catalogue.last_year,
            }))


def _row(assessment: Assessment, rec: dict):
    return next(r for r in assessment.read.rows if r.row0 == rec["row0"])


def _detail(code: str, rec: dict, kpi) -> str:
    if code == "wrong_department" and kpi:
        return kpi.owner
    if code == "year_out_of_range":
        return str(rec["fiscal_year"])
    if code == "duplicate_row":
        return f"{rec['fiscal_year']}年度・時点{rec['as_of']}"
    if code == "wrong_direction" and kpi:
        return "値が小さいほど良い指標" if kpi.direction == "decrease" else "値が大きいほど良い指標"
    return ""
