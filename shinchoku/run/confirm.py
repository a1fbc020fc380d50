"""確認と確定: the DX office confirms a department's fiscal year; confirmed figures stay put unless reopened.

A confirmation records the exact versions it confirms; while it stands, a run holds the year against
returns that would change it (the rule: :mod:`shinchoku.run.confirmed`). ``confirm`` and ``reopen``
write the warehouse the way a run does: under the run lock, into a staged copy, published by one
atomic rename.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..documents.facts import coverage
from ..workbook.parse import fiscal_year_label
from . import warehouse as wh
from .confirmed import confirmed_periods
from .inbox import now_jst
from .publish import actor, change_published, recover, run_lock

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


def _scopes(con, departments: list[str], year: int) -> dict[str, dict[str, list[tuple]]]:
    """The current versions of each department's year: what a confirmation confirms (one query per kind of version
    for all the departments: each reads deep views)."""
    def by_department(sql: str, params: list) -> dict[str, list[tuple]]:
        grouped: dict[str, list[tuple]] = {d: [] for d in departments}
        for department, *row in con.execute(sql, params).fetchall():
            if department in grouped:
                grouped[department].append(tuple(row))
        return grouped

    observations = by_department("""
        select department, submission_id, kpi_id, fiscal_year, as_of, provisional from observation_history
        where valid_to is null and fiscal_year = ? order by kpi_id, as_of""", [year])
    outcomes = by_department("""
        select distinct s.department, o.submission_id, o.initiative_id, o.fiscal_year, null::date
        from initiative_outcomes o join raw_submissions s using (submission_id)
        where o.is_current and o.source = 'submission' and o.fiscal_year = ? order by 3""", [year])
    explanations = by_department("""
        select department, submission_id, kpi_id, fiscal_year, as_of from kpi_explanations
        where valid_to is null and fiscal_year = ? order by kpi_id""", [year])
    missing = by_department("select department, missing_kpi_ids from submission_status where unit_kind = '部局' "
                            "and fiscal_year = ?", [year])
    computed = by_department(f"select owner, kpi_id from ({COMPUTED_SQL}) where fiscal_year = ? order by kpi_id",
                             [year])
    # the current versions of the expected local governments' counts of those KPIs (every 時点)
    components = by_department("""
        select r.owner, h.submission_id, h.kpi_id, h.fiscal_year, h.as_of, h.component_id from component_history h
        join kpi_reporters r on r.kpi_id = h.kpi_id and r.fiscal_year = h.fiscal_year and r.code = h.local_government
        join ref_kpi_components c on c.kpi_id = h.kpi_id and c.component_id = h.component_id
         and valid_in(h.fiscal_year, c.valid_from_fy, c.valid_to_fy)
        where h.valid_to is null and h.fiscal_year = ?
        order by h.kpi_id, h.local_government, h.component_id, h.as_of""", [year])
    all_units = con.execute("""
        select v.kpi_id, v.code, v.name, v.reported, v.provisional from local_government_values v
        join ref_local_governments g using (code)
        where v.fiscal_year = ? order by v.kpi_id, g.row_order""", [year]).fetchall()
    scopes = {}
    for d in departments:
        kpis = [k for (k,) in computed[d]]
        units = [u for u in all_units if u[0] in kpis]
        governments: dict[str, list[tuple[str, str]]] = {}  # KPI → the units that have not reported: (code, name)
        for kpi, code, name, reported, _ in units:
            if not reported:
                governments.setdefault(kpi, []).append((code, name))
        coverage = {kpi: (sum(1 for u in units if u[0] == kpi and u[3]), sum(1 for u in units if u[0] == kpi))
                    for kpi in kpis}
        observed = observations[d]
        scopes[d] = {
            "observation": [o[:4] for o in observed], "outcome": outcomes[d], "explanation": explanations[d],
            "component": [c for c in components[d] if c[1] in kpis], "computed": kpis, "coverage": coverage,
            "missing": sorted(missing[d][0][0]) if missing[d] and missing[d][0][0] else [],
            "missing_governments": governments,
            "missing_codes": list(dict.fromkeys(code for units in governments.values() for code, _ in units)),
            "provisional": sorted({o[1] for o in observed if o[4]} | {u[0] for u in units if u[3] and u[4]})}
    return scopes


# the computed KPIs a department owns in a year their rule is in force, after the baseline and up to the target: the
# local governments' counts its confirmation of that year confirms
COMPUTED_SQL = """
    select distinct r.kpi_id, r.owner, r.fiscal_year from kpi_reporters r
    join kpi_year_definitions d using (kpi_id, fiscal_year)
    where (d.target_fy is null or d.fiscal_year <= d.target_fy)
      and (d.fiscal_year > d.baseline_fy
           -- the baseline year is not owed, but its aggregate is shown once counts for it arrive
           or exists (select 1 from local_government_values v
                       where v.kpi_id = r.kpi_id and v.fiscal_year = r.fiscal_year and v.reported))"""


def _names(units: list[tuple[str, str]]) -> str:
    return "、".join(name for _, name in units)


def _departments_of(con, year: int) -> list[str]:
    rows = con.execute(f"""
        select department from submission_status
        where unit_kind = '部局' and fiscal_year = ? and (kpis_expected > 0 or kpis_reported > 0)
        union select department from observation_history where fiscal_year = ? and valid_to is null
        union select owner from ({COMPUTED_SQL}) where fiscal_year = ?
        order by 1""", [year, year, year]).fetchall()
    return [r[0] for r in rows]


def confirm(settings: Settings, year: int, departments: list[str] | None, by: str | None = None, note: str | None = None,
            allow_missing: bool = False, allow_provisional: bool = False, wait_seconds: float = 0) -> Outcome:
    """Confirm departments' year (all with data or expectations when ``departments`` is None): all or nothing."""
    who = by or actor()

    def change(con) -> Outcome:
        targets = departments or _departments_of(con, year)
        if not targets:
            raise ConfirmRefused([f"{fiscal_year_label(year)}に確定できる部局がありません"])
        scopes = _scopes(con, list(targets), year)
        problems = []
        for d, scope in scopes.items():
            if scope["missing"] and not allow_missing:
                problems.append(f"{d} {fiscal_year_label(year)}: 未報告の指標 {'、'.join(scope['missing'])}"
                                "(確定するには --allow-missing)")
            for kpi, units in scope["missing_governments"].items():
                if not allow_missing:
                    reported, expected = scope["coverage"][kpi]
                    problems.append(f"{d} {fiscal_year_label(year)}: {kpi} は{coverage(reported, expected)}"
                                    + (f"(調査票を受理していない団体: {_names(units)})" if reported else "(調査票の報告がまだありません)")
                                    + "(確定するには --allow-missing)")
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
                        "confirmed_by, note, missing_kpi_ids, provisional_kpi_ids, computed_kpi_ids, "
                        "missing_local_governments) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [cid, d, year, now_jst(), who, note, scope["missing"], scope["provisional"], scope["computed"],
                         scope["missing_codes"]])
            versions = [(cid, kind, *v) for kind in ("observation", "outcome", "explanation") for v in scope[kind]]
            versions += [(cid, "component", *v) for v in scope["component"]]
            if versions:
                con.executemany("insert into raw_confirmed_versions (confirmation_id, kind, submission_id, item_id, "
                                "fiscal_year, as_of, component_id) values (?, ?, ?, ?, ?, ?, ?)",
                                [v if len(v) == 7 else (*v, None) for v in versions])
            absent = "".join(f"、{kpi} 未提出 {len(units)}団体({_names(units)})"
                             for kpi, units in scope["missing_governments"].items())
            counted = "".join(f"、{kpi} {r}/{e}団体" for kpi, (r, e) in scope["coverage"].items())
            wh.audit(con, "confirm", actor=who, department=d, fiscal_year=year, confirmation_id=cid,
                  detail=f"値 {len(scope['observation'])}、取組実績 {len(scope['outcome'])}、説明 {len(scope['explanation'])}、"
                         f"未報告 {len(scope['missing'])}"
                         + (f"、団体の件数 {len(scope['component'])}{counted}" if scope["computed"] else "") + absent
                         + (f"、備考: {note}" if note else ""))
            lines.append(f"{d} {fiscal_year_label(year)}: 確定しました(確定番号 {cid}、値 {len(scope['observation'])} 件"
                         + (f"、団体の件数 {len(scope['component'])} 件{counted}" if scope["computed"] else "")
                         + (f"、未報告 {'、'.join(scope['missing'])}" if scope["missing"] else "") + ")。")
            lines += [f"  {kpi}: 調査票を受理していない {len(units)}団体を記録しました(--allow-missing): {_names(units)}"
                      for kpi, units in scope["missing_governments"].items()]
            changed = True
        return Outcome(lines, changed)

    return _write(settings, change, wait_seconds)


def _same(con, confirmation_id: int, scope: dict) -> bool:
    """Whether a standing confirmation already covers exactly these versions and missing KPIs."""
    recorded = {kind: sorted(tuple(r) for r in con.execute(
        "select submission_id, item_id, fiscal_year, as_of from raw_confirmed_versions "
        "where confirmation_id = ? and kind = ?", [confirmation_id, kind]).fetchall())
        for kind in ("observation", "outcome", "explanation")}
    recorded["component"] = sorted(tuple(r) for r in con.execute(
        "select submission_id, item_id, fiscal_year, as_of, component_id from raw_confirmed_versions "
        "where confirmation_id = ? and kind = 'component'", [confirmation_id]).fetchall())
    missing, computed, governments = con.execute(
        "select missing_kpi_ids, computed_kpi_ids, missing_local_governments from raw_confirmations "
        "where confirmation_id = ?", [confirmation_id]).fetchone()
    return all(recorded[k] == sorted(tuple(v) for v in scope[k]) for k in recorded) and \
        sorted(missing or []) == scope["missing"] and sorted(computed or []) == sorted(scope["computed"]) and \
        sorted(governments or []) == sorted(scope["missing_codes"])


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
        return change_published(settings, change, keep=lambda outcome: outcome.changed)
