"""The confirmed-year rule: the standing confirmations, and holding a confirmed year against a return that would change it.

A confirmation records the exact versions it confirms (observations, outcomes, explanations). While it
stands, a return that would change anything in that department and year is rejected
(``period_confirmed``); one that changes nothing is accepted without creating a version
(``unchanged_after_confirmation``). ``decide`` (a run), ``check`` and ``confirm`` all read the rule here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..workbook.messages import Issue
from ..workbook.parse import fiscal_year_label


@dataclass
class Period:
    """A confirmed department and fiscal year, as its standing confirmation left it."""

    department: str
    fiscal_year: int
    confirmation_id: int
    confirmed_at: dt.datetime
    values: dict[tuple[str, dt.date], tuple[float, str | None]] = field(default_factory=dict)
    outcomes: dict[str, tuple] = field(default_factory=dict)
    explanations: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()


STANDING = """
    select c.* from raw_confirmations as c
    where c.confirmation_id = (select max(confirmation_id) from raw_confirmations as l
                               where l.department = c.department and l.fiscal_year = c.fiscal_year)
      and not exists (select 1 from raw_reopenings as r where r.confirmation_id = c.confirmation_id)
"""


def confirmed_periods(con) -> dict[tuple[str, int], Period]:
    """Every standing confirmation (the latest of its department and year, not reopened), with its versions."""
    periods = {}
    for cid, dept, fy, at, missing in con.execute(
            f"select confirmation_id, department, fiscal_year, confirmed_at, missing_kpi_ids from ({STANDING})").fetchall():
        periods[(dept, fy)] = Period(dept, fy, cid, at, missing=frozenset(missing or ()))
    by_id = {p.confirmation_id: p for p in periods.values()}
    if not by_id:
        return periods
    ids = list(by_id)
    for cid, kpi, as_of, value, mark in con.execute("""
            select v.confirmation_id, o.kpi_id, o.as_of, o.actual_value, o.provisional
            from raw_confirmed_versions v join raw_observations o
              on o.submission_id = v.submission_id and o.kpi_id = v.item_id and o.fiscal_year = v.fiscal_year
             and o.as_of = v.as_of
            where v.kind = 'observation' and v.confirmation_id in (select unnest(?))""", [ids]).fetchall():
        by_id[cid].values[(kpi, as_of)] = (value, mark)
    rows: dict[tuple[int, str], list] = {}
    for cid, initiative, *outcome in con.execute("""
            select v.confirmation_id, o.initiative_id, o.as_of, o.activities, o.outcome_text, o.figure_value, o.figure_unit
            from raw_confirmed_versions v join raw_outcomes o
              on o.submission_id = v.submission_id and o.initiative_id = v.item_id and o.fiscal_year = v.fiscal_year
            where v.kind = 'outcome' and v.confirmation_id in (select unnest(?))""", [ids]).fetchall():
        rows.setdefault((cid, initiative), []).append(tuple(outcome))
    for (cid, initiative), outcome in rows.items():
        by_id[cid].outcomes[initiative] = tuple(sorted(outcome, key=repr))
    for cid, kpi, factor, direction in con.execute("""
            select v.confirmation_id, e.kpi_id, e.factor_analysis, e.future_direction
            from raw_confirmed_versions v join raw_explanations e
              on e.submission_id = v.submission_id and e.kpi_id = v.item_id and e.fiscal_year = v.fiscal_year
             and e.as_of = v.as_of
            where v.kind = 'explanation' and v.confirmation_id in (select unnest(?))""", [ids]).fetchall():
        by_id[cid].explanations[kpi] = (factor, direction)
    return periods


def read_confirmed_periods(warehouse: Path) -> dict[tuple[str, int], Period]:
    """The standing confirmations of a published warehouse, opened read-only (for check --warehouse)."""
    import duckdb  # here, not at the top: check loads this module, and reads a warehouse only when there is one

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return confirmed_periods(con)
    finally:
        con.close()


def hold_confirmed(assessment, periods: dict[tuple[str, int], Period]) -> None:
    """Reject an accepted return that would change a confirmed year; set aside one that changes nothing there."""
    if not periods or not assessment.accepted:
        return
    department = assessment.department
    years = sorted({r["fiscal_year"] for r in assessment.records if (department, r["fiscal_year"]) in periods})
    for year in years:
        period = periods[(department, year)]
        records = [r for r in assessment.records if r["fiscal_year"] == year]
        changed = _changes(records, period)
        params = {"detail": fiscal_year_label(year), "department": department,
                  "date": f"{period.confirmed_at:%Y-%m-%d}"}
        sheet = assessment.read.sheet
        if changed:
            first = changed[0]
            assessment.issues.append(Issue("period_confirmed", sheet, first["source_cell"],
                                           first["item_id"], {**params, "value": "、".join(
                                               dict.fromkeys(r["item_id"] or "" for r in changed))}))
        else:
            for r in records:
                r["confirmed"] = True  # accepted, but no version is created: the confirmed one stands
            assessment.issues.append(Issue("unchanged_after_confirmation", sheet, params=params))


def _changes(records: list[dict], period: Period) -> list[dict]:
    """The records that differ from what was confirmed: a value, a 時点, a mark, an outcome, a text, a KPI missing then."""
    changed = []
    for r in records:
        if r["table"] == "kpi":
            if period.values.get((r["item_id"], r["as_of"])) != (r["actual_value"], r["provisional"]):
                changed.append(r)
    outcomes: dict[str, list] = {}
    for r in records:
        if r["table"] == "outcome":
            outcomes.setdefault(r["item_id"], []).append(
                (r["as_of"], r["activities"], r["outcome_text"], r["actual_value"], r["unit"]))
    for initiative, rows in outcomes.items():
        if tuple(sorted(rows, key=repr)) != period.outcomes.get(initiative, ()):
            changed.extend(r for r in records if r["table"] == "outcome" and r["item_id"] == initiative)
    latest: dict[str, dict] = {}
    for r in records:
        if r["table"] == "explanation" or (r["table"] == "kpi" and r.get("explained")):
            if r["item_id"] not in latest or r["as_of"] >= latest[r["item_id"]]["as_of"]:
                latest[r["item_id"]] = r
    for kpi, r in latest.items():
        if (r["factor_analysis"], r["future_direction"]) != period.explanations.get(kpi, (None, None)):
            changed.append(r)
    return changed
