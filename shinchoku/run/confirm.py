"""確認と確定: the DX office confirms a department's fiscal year; confirmed figures stay put unless reopened.

A confirmation records the exact versions it confirms (observations, outcomes, explanations). While it
stands, a return that would change anything in that department and year is rejected
(``period_confirmed``); one that changes nothing is accepted without creating a version
(``unchanged_after_confirmation``). ``confirm`` and ``reopen`` write the warehouse the way a run does:
under the run lock, into a staged copy, published by one atomic rename.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from .inbox import now_jst
from ..workbook.messages import Issue
from ..workbook.parse import fiscal_year_label
from .publish import Stage, actor, prepare_stage, publish, recover, run_lock


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
    import duckdb

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


# --- the DX office's commands -------------------------------------------------------------------------

class ConfirmRefused(Exception):
    """What stands in the way of a confirmation (missing or provisional values without the flag)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class NotConfirmed(Exception):
    """reopen of a department and year that has no standing confirmation."""


@dataclass
class Outcome:
    """What a confirm or reopen did, in lines for the terminal."""

    lines: list[str]
    changed: bool


def _scope(con, department: str, year: int) -> dict[str, list[tuple]]:
    """The current versions of a department's year: what a confirmation confirms."""
    observations = con.execute("""
        select submission_id, kpi_id, fiscal_year, as_of, provisional from observation_history
        where valid_to is null and department = ? and fiscal_year = ? order by kpi_id, as_of""",
                               [department, year]).fetchall()
    outcomes = con.execute("""
        select distinct o.submission_id, o.initiative_id, o.fiscal_year, null::date from initiative_outcomes o
        join raw_submissions s using (submission_id)
        where o.is_current and o.source = 'submission' and s.department = ? and o.fiscal_year = ?
        order by 2""", [department, year]).fetchall()
    explanations = con.execute("""
        select submission_id, kpi_id, fiscal_year, as_of from kpi_explanations
        where valid_to is null and department = ? and fiscal_year = ? order by kpi_id""", [department, year]).fetchall()
    missing = con.execute("select missing_kpi_ids from submission_status where department = ? and fiscal_year = ?",
                          [department, year]).fetchone()
    return {"observation": [o[:4] for o in observations], "outcome": outcomes, "explanation": explanations,
            "missing": sorted(missing[0]) if missing else [],
            "provisional": sorted({o[1] for o in observations if o[4]})}


def _departments_of(con, year: int) -> list[str]:
    rows = con.execute("""
        select department from submission_status where fiscal_year = ? and (kpis_expected > 0 or kpis_reported > 0)
        union select department from observation_history where fiscal_year = ? and valid_to is null
        order by 1""", [year, year]).fetchall()
    return [r[0] for r in rows]


def confirm(settings: Settings, year: int, departments: list[str] | None, by: str | None = None, note: str | None = None,
            allow_missing: bool = False, allow_provisional: bool = False, wait_seconds: float = 0) -> Outcome:
    """Confirm departments' year (all with data or expectations when ``departments`` is None): all or nothing."""
    from .warehouse import audit

    who = by or actor()

    def change(con) -> Outcome:
        targets = departments or _departments_of(con, year)
        if not targets:
            raise ConfirmRefused([f"{fiscal_year_label(year)}に確定できる部局がありません"])
        scopes = {d: _scope(con, d, year) for d in targets}
        problems = []
        for d, scope in scopes.items():
            if scope["missing"] and not allow_missing:
                problems.append(f"{d} {fiscal_year_label(year)}: 未報告の指標 {'、'.join(scope['missing'])}"
                                "(確定するには --allow-missing)")
            if scope["provisional"] and not allow_provisional:
                problems.append(f"{d} {fiscal_year_label(year)}: 速報・見込・暫定の値 {'、'.join(scope['provisional'])}"
                                "(確定するには --allow-provisional)")
        if problems:
            raise ConfirmRefused(problems)
        standing = confirmed_periods(con)
        lines, changed = [], False
        for d, scope in scopes.items():
            period = standing.get((d, year))
            if period is not None and _same(con, period.confirmation_id, scope):
                lines.append(f"{d} {fiscal_year_label(year)}: 確定済み({period.confirmed_at:%Y-%m-%d %H:%M})で、"
                             "その後の変更はありません。何もしませんでした。")
                continue
            cid = con.execute("select coalesce(max(confirmation_id), 0) + 1 from raw_confirmations").fetchone()[0]
            con.execute("insert into raw_confirmations values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [cid, d, year, now_jst(), who, note, scope["missing"], scope["provisional"]])
            versions = [(cid, kind, *v) for kind in ("observation", "outcome", "explanation") for v in scope[kind]]
            if versions:
                con.executemany("insert into raw_confirmed_versions values (?, ?, ?, ?, ?, ?)", versions)
            audit(con, "confirm", actor=who, department=d, fiscal_year=year, confirmation_id=cid,
                  detail=f"値 {len(scope['observation'])}、取組実績 {len(scope['outcome'])}、説明 {len(scope['explanation'])}、"
                         f"未報告 {len(scope['missing'])}" + (f"、備考: {note}" if note else ""))
            lines.append(f"{d} {fiscal_year_label(year)}: 確定しました(確定番号 {cid}、値 {len(scope['observation'])} 件"
                         + (f"、未報告 {'、'.join(scope['missing'])}" if scope["missing"] else "") + ")。")
            changed = True
        return Outcome(lines, changed)

    return _write(settings, change, wait_seconds)


def _same(con, confirmation_id: int, scope: dict) -> bool:
    """Whether a standing confirmation already covers exactly these versions and missing KPIs."""
    recorded = {kind: sorted(tuple(r) for r in con.execute(
        "select submission_id, item_id, fiscal_year, as_of from raw_confirmed_versions "
        "where confirmation_id = ? and kind = ?", [confirmation_id, kind]).fetchall())
        for kind in ("observation", "outcome", "explanation")}
    missing = con.execute("select missing_kpi_ids from raw_confirmations where confirmation_id = ?",
                          [confirmation_id]).fetchone()[0]
    return all(recorded[k] == sorted(tuple(v) for v in scope[k]) for k in recorded) and \
        sorted(missing or []) == scope["missing"]


def reopen(settings: Settings, year: int, department: str, reason: str, by: str | None = None,
           wait_seconds: float = 0) -> Outcome:
    """Lift a department's confirmation of a year, on the record."""
    from .warehouse import audit

    who = by or actor()

    def change(con) -> Outcome:
        standing = confirmed_periods(con).get((department, year))
        if standing is None:
            raise NotConfirmed(f"{department} {fiscal_year_label(year)}は確定されていません(確定の解除はできません)")
        con.execute("insert into raw_reopenings values (?, ?, ?, ?)", [standing.confirmation_id, now_jst(), who, reason])
        audit(con, "reopen", actor=who, department=department, fiscal_year=year,
              confirmation_id=standing.confirmation_id, detail=f"理由: {reason}")
        return Outcome([f"{department} {fiscal_year_label(year)}の確定(確定番号 {standing.confirmation_id})を解除しました。"
                        "次の提出から受け付けます。"], True)

    return _write(settings, change, wait_seconds)


def _write(settings: Settings, change, wait_seconds: float) -> Outcome:
    """Run ``change(con)`` on a staged copy under the run lock and publish it atomically (or not at all)."""
    from . import warehouse as wh

    if not settings.warehouse.exists():  # the CLI says so first; staging would start a blank warehouse
        raise FileNotFoundError(settings.warehouse)
    with run_lock(settings, wait_seconds):
        recover(settings)
        stage: Stage = prepare_stage(settings)
        try:
            con = wh.connect_for_writing(stage.path)
            try:
                con.execute("begin transaction")
                outcome = change(con)
                if not outcome.changed:
                    con.execute("rollback")
                    return outcome
                wh.run_audits(con)
                con.execute("commit")
                con.execute("checkpoint")
            finally:
                con.close()
            publish(settings, stage.path)
            return outcome
        finally:
            Path(stage.path).unlink(missing_ok=True)
            Path(str(stage.path) + ".wal").unlink(missing_ok=True)
