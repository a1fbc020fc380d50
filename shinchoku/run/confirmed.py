"""The confirmed-year rule: the standing confirmations, and holding a confirmed year against a return that would change it.

A confirmation records the exact versions it confirms (observations, outcomes, explanations, and the local
governments' counts of the computed KPIs the department owns that year). While it
stands, a return that would change anything in that department and year is rejected
(``period_confirmed``; a local government's sheet for a year confirmed without it, ``confirmed_without_sheet``);
one that changes nothing is accepted without creating a version (``unchanged_after_confirmation``). ``decide`` (a run), ``check`` and ``confirm`` all read the rule here.
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
    # the computed KPIs whose local governments' counts this confirmation holds, and those counts:
    # (local government, KPI, component, 時点) → (count, mark)
    computed: frozenset[str] = frozenset()
    counts: dict[tuple[str, str, str, dt.date], tuple[float, str | None]] = field(default_factory=dict)


STANDING = """
    select c.* from raw_confirmations as c
    where c.confirmation_id = (select max(confirmation_id) from raw_confirmations as l
                               where l.department = c.department and l.fiscal_year = c.fiscal_year)
      and not exists (select 1 from raw_reopenings as r where r.confirmation_id = c.confirmation_id)
"""


def confirmed_periods(con) -> dict[tuple[str, int], Period]:
    """Every standing confirmation (the latest of its department and year, not reopened), with its versions."""
    periods = {}
    columns = {c for (c,) in con.execute("select column_name from duckdb_columns() "
                                         "where table_name = 'raw_confirmations'").fetchall()}
    computed_column = "computed_kpi_ids" if "computed_kpi_ids" in columns else "null::varchar[]"  # an older warehouse
    for cid, dept, fy, at, missing, computed in con.execute(
            f"select confirmation_id, department, fiscal_year, confirmed_at, missing_kpi_ids, {computed_column} "
            f"from ({STANDING})").fetchall():
        periods[(dept, fy)] = Period(dept, fy, cid, at, missing=frozenset(missing or ()),
                                     computed=frozenset(computed or ()))
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
    if any(p.computed for p in by_id.values()):
        for cid, lg, kpi, component, as_of, count, mark in con.execute("""
                select v.confirmation_id, c.local_government, c.kpi_id, c.component_id, c.as_of, c.count, c.provisional
                from raw_confirmed_versions v join raw_component_counts c
                  on c.submission_id = v.submission_id and c.kpi_id = v.item_id and c.component_id = v.component_id
                 and c.fiscal_year = v.fiscal_year and c.as_of = v.as_of
                where v.kind = 'component' and v.confirmation_id in (select unnest(?))""", [ids]).fetchall():
            by_id[cid].counts[(lg, kpi, component, as_of)] = (count, mark)
    return periods


def read_confirmed_periods(warehouse: Path) -> dict[tuple[str, int], Period]:
    """The standing confirmations of a published warehouse, opened read-only (for check --warehouse)."""
    from .. import database  # here, not at the top: check loads this module, and reads a warehouse only when there is one

    con = database.connect(warehouse)
    try:
        return confirmed_periods(con)
    finally:
        con.close()


def hold_confirmed(assessment, periods: dict[tuple[str, int], Period]) -> None:
    """Reject an accepted return that would change a confirmed year; set aside one that changes nothing there.

    A department's records are held by its own year's confirmation; a local government's counts (a survey sheet) by
    the confirmation of the year of the department that owns the computed KPI (``Period.computed``)."""
    if not periods or not assessment.accepted:
        return
    department = assessment.department
    held: dict[int, tuple[Period, list[dict]]] = {}  # confirmation id → (its period, the records it holds)
    for r in assessment.records:
        if r["table"] == "component":
            covering = [p for p in periods.values() if p.fiscal_year == r["fiscal_year"] and r["item_id"] in p.computed]
        else:
            covering = [p for p in [periods.get((department, r["fiscal_year"]))] if p is not None]
        for period in covering:
            held.setdefault(period.confirmation_id, (period, []))[1].append(r)
    sheet = assessment.read.sheet
    for period, records in sorted(held.values(), key=lambda h: (h[0].fiscal_year, h[0].department)):
        changed = _changes(records, period)
        params = {"detail": fiscal_year_label(period.fiscal_year), "department": department,
                  "date": f"{period.confirmed_at:%Y-%m-%d}"}
        late = [r for r in changed if r["table"] == "component" and not any(
            key[:2] == (r["local_government"], r["item_id"]) for key in period.counts)]
        if late:  # the local government was missing when the year was confirmed: its sheet comes too late
            first = late[0]
            assessment.issues.append(Issue("confirmed_without_sheet", sheet, first["source_cell"], first["item_id"],
                                           {**params, "value": "、".join(dict.fromkeys(r["item_id"] for r in late))}))
        elif changed:
            first = changed[0]
            assessment.issues.append(Issue("period_confirmed", sheet, first["source_cell"],
                                           first["item_id"], {**params, "value": "、".join(
                                               dict.fromkeys(_item(r) for r in changed))}))
        else:
            for r in records:
                r["confirmed"] = True  # accepted, but no version is created: the confirmed one stands
            assessment.issues.append(Issue("unchanged_after_confirmation", sheet, params=params))


def _item(record: dict) -> str:
    """What a changed record is, as the message names it: a KPI or initiative, or a KPI's component (GOV-K01 online)."""
    if record["table"] == "component":
        return f"{record['item_id']} {record['component_id']}"
    return record["item_id"] or ""


def _changes(records: list[dict], period: Period) -> list[dict]:
    """The records that differ from what was confirmed: a value, a 時点, a mark, an outcome, a text, a KPI missing then."""
    changed = []
    for r in records:
        if r["table"] == "component":
            if period.counts.get((r["local_government"], r["item_id"], r["component_id"], r["as_of"])) != \
                    (r["actual_value"], r["provisional"]):
                changed.append(r)
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
