"""Loading a run's decisions into the (staged) warehouse: rows built and inserted by column name."""

from __future__ import annotations

import datetime as dt

from ..workbook.messages import ERROR, Issue
from .crash import crash_point
from .decide import Decision
from .inbox import now_jst


def number_submissions(con, decisions: list[Decision]) -> int:
    """Give every decision its submission id (and in-run duplicates their original's); return the run id."""
    run_id = con.execute("select coalesce(max(run_id), 0) + 1 from raw_runs").fetchone()[0]
    next_id = con.execute("select coalesce(max(submission_id), 0) + 1 from raw_submissions").fetchone()[0]
    for decision in decisions:
        decision.submission_id = next_id
        next_id += 1
    for decision in decisions:
        if decision.original is not None:
            decision.duplicate_of = decision.original.submission_id
        if decision.status == "duplicate":
            decision.issues = [Issue("duplicate_file", params={"detail": decision.duplicate_of})]
    return run_id


def rows(decisions: list[Decision], run_id: int, governments: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """The raw tables' new rows, each a dict keyed by column name. ``governments``: each local government's code
    by its folder name (a submission from its folder records the code, whatever the file holds)."""
    governments = governments or {}
    ingested_at = now_jst()
    out: dict[str, list[dict]] = {"raw_submissions": [], "raw_observations": [], "raw_outcomes": [],
                                  "raw_explanations": [], "raw_component_counts": [], "raw_validation_issues": []}
    for decision in decisions:
        cand, read, sid = decision.candidate, decision.read, decision.submission_id
        errors = sum(1 for i in decision.issues if i.severity == ERROR)
        out["raw_submissions"].append({
            "submission_id": sid, "run_id": run_id, "department": cand.department, "file_name": cand.path.name,
            "sha256": cand.sha256, "size_bytes": cand.size, "received_at": cand.received_at,
            "ingested_at": ingested_at, "status": decision.status, "error_count": errors,
            "warning_count": len(decision.issues) - errors, "archive_path": decision.archive_path,
            "declared_department": read.declared_department if read else None,
            "declared_fiscal_year": read.declared_fiscal_year if read else None,
            "sheet": read.sheet if read else None, "duplicate_of": decision.duplicate_of,
            "local_government": governments.get(cand.department or "")})
        out["raw_validation_issues"].extend({
            "submission_id": sid, "sheet": i.sheet, "cell": i.cell, "kpi_id": i.kpi_id, "severity": i.severity,
            "code": i.code, "message": i.message, "fix": i.fix} for i in decision.issues)
        if decision.status != "accepted":
            continue
        for rec in decision.assessment.records:
            if rec.get("confirmed"):
                continue  # a confirmed year, unchanged: the confirmed version stands, no new one
            if rec["table"] == "kpi":
                out["raw_observations"].append({
                    "submission_id": sid, "kpi_id": rec["item_id"], "fiscal_year": rec["fiscal_year"],
                    "as_of": rec["as_of"], "actual_value": rec["actual_value"], "raw_value": rec["raw_value"],
                    "note": rec["note"], "source_sheet": read.table.sheet, "source_cell": rec["source_cell"],
                    "provisional": rec["provisional"]})
            if rec["table"] == "explanation" or (rec["table"] == "kpi" and rec["explained"]):
                # a reported row's texts stand, blanks included (a sheet without the columns says nothing)
                out["raw_explanations"].append({
                    "submission_id": sid, "kpi_id": rec["item_id"], "fiscal_year": rec["fiscal_year"],
                    "as_of": rec["as_of"], "factor_analysis": rec["factor_analysis"],
                    "future_direction": rec["future_direction"], "source_sheet": read.table.sheet,
                    "source_cell": rec.get("explanation_cell", rec["source_cell"]), "row_order": rec["row0"]})
            if rec["table"] == "component":
                out["raw_component_counts"].append({
                    "submission_id": sid, "local_government": rec["local_government"], "kpi_id": rec["item_id"],
                    "component_id": rec["component_id"], "fiscal_year": rec["fiscal_year"], "as_of": rec["as_of"],
                    "count": rec["actual_value"], "raw_value": rec["raw_value"], "note": rec["note"],
                    "source_sheet": read.survey.sheet, "source_cell": rec["source_cell"],
                    "provisional": rec["provisional"]})
            if rec["table"] == "outcome":
                out["raw_outcomes"].append({
                    "submission_id": sid, "initiative_id": rec["item_id"], "fiscal_year": rec["fiscal_year"],
                    "as_of": rec["as_of"], "activities": rec["activities"], "outcome_text": rec["outcome_text"],
                    "figure_value": rec["actual_value"], "figure_unit": rec["unit"],
                    "raw_value": rec["raw_value"] or None, "source_sheet": read.outcomes.sheet,
                    "source_cell": rec["source_cell"], "row_order": rec["row0"]})
    return out


def insert(con, table: str, records: list[dict]) -> None:
    """Insert dicts by column name (one DataFrame, one statement); columns a dict lacks are NULL."""
    if not records:
        return
    import pandas as pd

    columns = [c[0] for c in con.execute(f'select * from "{table}" limit 0').description]
    unknown = set(records[0]) - set(columns)
    if unknown:
        raise KeyError(f"{table} has no column {sorted(unknown)}")
    frame = pd.DataFrame.from_records(records, columns=[c for c in columns if c in records[0]])
    con.register("incoming", frame)
    try:
        con.execute(f'insert into "{table}" by name select * from incoming')
    finally:
        con.unregister("incoming")


def load_run(con, decisions: list[Decision], started_at: dt.datetime,
             governments: dict[str, str] | None = None) -> tuple[int, list[tuple[str, int]]]:
    """Record a run's submissions, values, counts, outcomes and issues, and the run itself; return (run id,
    KPI-years updated). ``governments``: local governments' codes by folder name."""
    run_id = number_submissions(con, decisions)
    new = rows(decisions, run_id, governments)
    crash_point("mid_load")
    for table, records in new.items():
        insert(con, table, records)
    # a KPI-year is updated by a department's value or by a local government's count it is computed from
    kpis_updated = sorted({(o["kpi_id"], o["fiscal_year"]) for o in new["raw_observations"] + new["raw_component_counts"]})
    insert(con, "raw_runs", [{
        "run_id": run_id, "started_at": started_at, "finished_at": now_jst(), "files_seen": len(decisions),
        "accepted": sum(d.status == "accepted" for d in decisions),
        "rejected": sum(d.status == "rejected" for d in decisions),
        "duplicate": sum(d.status == "duplicate" for d in decisions), "kpis_updated": len(kpis_updated)}])
    return run_id, kpis_updated
