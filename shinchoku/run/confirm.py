"""確認と確定: the DX office confirms a department's fiscal year; confirmed figures stay put unless reopened.

A confirmation records the exact versions it confirms; while it stands, a run holds the year against
returns that would change it (the rule: :mod:`shinchoku.run.confirmed`). ``confirm`` and ``reopen``
write the warehouse the way a run does: under the run lock, into a staged copy, published by one
atomic rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..workbook.parse import fiscal_year_label
from . import warehouse as wh
from .confirmed import confirmed_periods
from .inbox import now_jst
from .publish import Stage, actor, prepare_stage, publish, recover, run_lock

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
            con.execute("insert into raw_confirmations (confirmation_id, department, fiscal_year, confirmed_at, "
                        "confirmed_by, note, missing_kpi_ids, provisional_kpi_ids) values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [cid, d, year, now_jst(), who, note, scope["missing"], scope["provisional"]])
            versions = [(cid, kind, *v) for kind in ("observation", "outcome", "explanation") for v in scope[kind]]
            if versions:
                con.executemany("insert into raw_confirmed_versions values (?, ?, ?, ?, ?, ?)", versions)
            wh.audit(con, "confirm", actor=who, department=d, fiscal_year=year, confirmation_id=cid,
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
    who = by or actor()

    def change(con) -> Outcome:
        standing = confirmed_periods(con).get((department, year))
        if standing is None:
            raise NotConfirmed(f"{department} {fiscal_year_label(year)}は確定されていません(確定の解除はできません)")
        con.execute("insert into raw_reopenings values (?, ?, ?, ?)", [standing.confirmation_id, now_jst(), who, reason])
        wh.audit(con, "reopen", actor=who, department=department, fiscal_year=year,
              confirmation_id=standing.confirmation_id, detail=f"理由: {reason}")
        return Outcome([f"{department} {fiscal_year_label(year)}の確定(確定番号 {standing.confirmation_id})を解除しました。"
                        "次の提出から受け付けます。"], True)

    return _write(settings, change, wait_seconds)


def _write(settings: Settings, change, wait_seconds: float) -> Outcome:
    """Run ``change(con)`` on a staged copy under the run lock and publish it atomically (or not at all)."""
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
