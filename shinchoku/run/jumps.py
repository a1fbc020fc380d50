"""A value ten times larger or smaller than its unit's last accepted year: the slip between 件 and 千件.

A reported value (a department's KPI actual, a local government's count) is compared with the same unit's value
in the latest *earlier* fiscal year that has one: the warehouse's current accepted version (the year's latest
時点), or a row of that year in the same workbook, which would replace it. When one is at least ten times the
other, either way, the value cell gets the warning ``value_jump`` with the factor. Never an error: a real change
of that size happens, and the department says so by leaving the value as it is.

Zero or a negative value on either side has no factor, and is never warned: 0 of 0 counts are legitimate (an
evacuated town), so 0 → 5 is not an infinite jump, and a unit slip cannot turn 0 into anything else.

The history is read from the warehouse as the confirmed periods are (:mod:`shinchoku.run.confirmed`): by the
run from its staged copy (``publish.prepare_stage``), by ``shinchoku check`` read-only, and empty without a
warehouse; ``decide.judge`` applies the rule, so run and check agree.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ..workbook.layout import SURVEY_SHEET
from ..workbook.messages import Issue, format_number
from ..workbook.parse import fiscal_year_label

FACTOR = 10  # a change by this factor or more, either way, is warned

# (kind, *unit) -> {fiscal year: value}; a KPI is ("kpi", kpi_id), a count ("component", lg, kpi_id, component_id)
History = dict[tuple, dict[int, float]]

# The current version of each KPI value (observation_history where valid_to is null: the latest accepted
# submission of each kpi, year and 時点), then the year's latest 時点. Read from the raw tables, not the view: a
# staged copy's views may be older than this code, and a new warehouse has none yet.
KPI_HISTORY = """
    select kpi_id, fiscal_year, actual_value from (
        select o.kpi_id, o.fiscal_year, o.as_of, o.actual_value
        from raw_observations as o
        join raw_submissions as s on s.submission_id = o.submission_id and s.status = 'accepted'
        qualify o.submission_id = max(o.submission_id) over (partition by o.kpi_id, o.fiscal_year, o.as_of)
    )
    qualify as_of = max(as_of) over (partition by kpi_id, fiscal_year)
"""

# The same for a local government's counts, versioned as component_history versions them: the latest accepted
# submission of each local government, KPI, component, year and 時点, then the year's latest 時点.
COMPONENT_HISTORY = """
    select local_government, kpi_id, component_id, fiscal_year, count from (
        select c.local_government, c.kpi_id, c.component_id, c.fiscal_year, c.as_of, c.count
        from raw_component_counts as c
        join raw_submissions as s on s.submission_id = c.submission_id and s.status = 'accepted'
        qualify c.submission_id = max(c.submission_id)
            over (partition by c.local_government, c.kpi_id, c.component_id, c.fiscal_year, c.as_of)
    )
    qualify as_of = max(as_of) over (partition by local_government, kpi_id, component_id, fiscal_year)
"""


def value_history(con) -> History:
    """Every unit's last accepted value of each fiscal year, from a warehouse connection."""
    history: History = {}
    tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    if {"raw_observations", "raw_submissions"} <= tables:
        for kpi, year, value in con.execute(KPI_HISTORY).fetchall():
            history.setdefault(("kpi", kpi), {})[year] = value
    if {"raw_component_counts", "raw_submissions"} <= tables:
        for lg, kpi, component, year, value in con.execute(COMPONENT_HISTORY).fetchall():
            history.setdefault(("component", lg, kpi, component), {})[year] = value
    return history


def read_value_history(warehouse: Path) -> History:
    """The value history of a published warehouse, opened read-only (for check)."""
    from .. import database  # here, not at the top: check loads this module, and reads a warehouse only when there is one

    con = database.connect(warehouse)
    try:
        return value_history(con)
    finally:
        con.close()


def unit_of(record: dict) -> tuple | None:
    """The unit a record's value belongs to (the key of History), or None for a record without a comparable value."""
    if record.get("actual_value") is None or record.get("fiscal_year") is None or record.get("item_id") is None:
        return None
    if record["table"] == "kpi":
        return ("kpi", record["item_id"])
    if record["table"] == "component":
        return ("component", record["local_government"], record["item_id"], record["component_id"])
    return None


def jump_factor(new: float, old: float) -> tuple[Decimal, bool] | None:
    """How many times one value is the other, exactly (as written in decimal), and whether ``new`` is the larger;
    None below FACTOR, and when either is zero or negative (no factor)."""
    if new is None or old is None or new <= 0 or old <= 0:
        return None
    a, b = Decimal(repr(float(new))), Decimal(repr(float(old)))
    factor = a / b if a >= b else b / a
    return (factor, a >= b) if factor >= FACTOR else None


def factor_text(factor: Decimal, larger: bool) -> str:
    """The factor as the message shows it (約 is the message's): 1000 -> '1,000倍', or '1,000分の1' when the
    value got smaller."""
    whole = f"{int(factor.to_integral_value(rounding=ROUND_HALF_UP)):,}"
    return f"{whole}倍" if larger else f"{whole}分の1"


def units_of(catalogue) -> dict[tuple, str]:
    """What each value is counted in, shown after the earlier value: ("kpi", kpi_id) -> the KPI's unit,
    ("component", kpi_id, component_id) -> the component's."""
    units: dict[tuple, str] = {("kpi", kpi_id): kpi.unit for kpi_id, kpi in catalogue.kpis_by_id.items()}
    units.update({("component", c.kpi_id, c.component_id): c.unit for c in catalogue.kpi_components})
    return units


def warn_jumps(assessment, history: History, units: dict[tuple, str] | None = None) -> None:
    """Append ``value_jump`` to every value at least FACTOR times (or a FACTOR-th of) its unit's latest earlier year:
    the warehouse's, or this workbook's own row of that year (which would replace it). ``units``: see ``units_of``.
    A value held as confirmed (``hold_confirmed``) is not warned again."""
    own: History = {}
    latest: dict[tuple, dt.date] = {}
    for r in assessment.records:
        unit = unit_of(r)
        if unit is None:
            continue
        at = (unit, r["fiscal_year"])
        as_of = r.get("as_of") or dt.date.min
        if at not in latest or as_of >= latest[at]:  # the year's latest 時点, as the views take it
            latest[at] = as_of
            own.setdefault(unit, {})[r["fiscal_year"]] = r["actual_value"]
    for r in assessment.records:
        unit = unit_of(r)
        if unit is None or r.get("confirmed"):
            continue
        years = {**history.get(unit, {}), **own.get(unit, {})}
        earlier = [y for y in years if y < r["fiscal_year"]]
        if not earlier:
            continue
        year = max(earlier)
        jump = jump_factor(r["actual_value"], years[year])
        if jump is None:
            continue
        component = r["table"] == "component"
        sheet = r.get("source_sheet") or (SURVEY_SHEET if component else assessment.read.sheet)
        measure = ("component", r["item_id"], r["component_id"]) if component else ("kpi", r["item_id"])
        previous = format_number(years[year]) + ((units or {}).get(measure) or "")
        assessment.issues.append(Issue("value_jump", sheet, r["source_cell"], r["item_id"], {
            "value": r.get("shown") or r.get("raw_value") or format_number(r["actual_value"]),
            "detail": fiscal_year_label(year), "previous": previous, "factor": factor_text(*jump),
            **({"local_government": r["local_government"], "component_id": r["component_id"]} if component else {}),
        }))
