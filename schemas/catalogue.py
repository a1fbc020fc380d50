"""pandera schemas for the catalogue: revisions, departments and every definition in force.

`shinchoku catalogue check` and every command that loads the catalogue run these. Each check is
named for the problem; a failure becomes one line naming file, row and column, in Japanese, for
the DX office. The frames carry the facts a check needs, computed once in :func:`problems`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.return_sheet import failures

# What each check's failure says, and which column it points at.
MESSAGES = {
    "unknown_item": ("item_id", "指標ID・項目IDが kpis.csv・initiatives.csv にありません"),
    "field_not_allowed": ("field", "この項目では改定できない field です(指標: {kpi_fields}、取組項目: {initiative_fields})"),
    "bad_value": ("new_value", "field {field} の値として読めません"),
    "same_year_twice": ("effective_fy", "同じ項目・field・適用年度の改定が2行あります"),
    "effective_outside_plan": ("effective_fy", "適用年度が計画期間({first}〜{last}年度)の外です"),
    "owner_not_in_force": ("new_value", "所管部局がその年度に存在する部局(departments.csv)ではありません"),
    "unknown_successor": ("successor", "後継の部局が departments.csv にありません"),
    "successor_cycle": ("successor", "後継の部局をたどると元の部局に戻ります(循環)"),
    "unknown_owner": ("owner", "所管部局が departments.csv にありません"),
    "target_wrong_side": ("target_value", "{fy}年度からの定義で、目標値が基準値に対して方向({direction})と逆です"),
    "target_before_baseline": ("target_fy", "{fy}年度からの定義で、目標年度が基準年度より後ではありません"),
}


class RevisionRules(pa.DataFrameModel):
    """revisions.csv, one row per revision, with what the catalogue knows of its item."""

    item_id: Series[str]
    field: Series[str]
    effective_fy: Series[int]
    item_kind: Series[str] = pa.Field(nullable=True)  # kpi, initiative, or None when unknown
    value_ok: Series[bool]
    owner_ok: Series[bool]
    first_year: Series[int]
    last_year: Series[int]

    class Config:
        strict = False

    @pa.dataframe_check(name="unknown_item")
    def unknown_item(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_kind"].notna()

    @pa.dataframe_check(name="field_not_allowed")
    def field_not_allowed(cls, df: pd.DataFrame) -> Series[bool]:
        from shinchoku.catalogue import INITIATIVE_FIELDS, KPI_FIELDS

        allowed = df["item_kind"].map({"kpi": KPI_FIELDS, "initiative": INITIATIVE_FIELDS})
        return pd.Series([kind is None or pd.isna(kind) or f in a
                          for kind, f, a in zip(df["item_kind"], df["field"], allowed)], index=df.index)

    @pa.dataframe_check(name="bad_value")
    def bad_value(cls, df: pd.DataFrame) -> Series[bool]:
        return df["value_ok"]

    @pa.dataframe_check(name="same_year_twice")
    def same_year_twice(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(subset=["item_id", "field", "effective_fy"], keep=False)

    @pa.dataframe_check(name="effective_outside_plan")
    def effective_outside_plan(cls, df: pd.DataFrame) -> Series[bool]:
        return df["effective_fy"].between(df["first_year"], df["last_year"])

    @pa.dataframe_check(name="owner_not_in_force")
    def owner_not_in_force(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owner_ok"]


class DepartmentRules(pa.DataFrameModel):
    """departments.csv, with each successor's standing."""

    department: Series[str]
    successor_known: Series[bool]
    in_cycle: Series[bool]

    class Config:
        strict = False

    @pa.dataframe_check(name="unknown_successor")
    def unknown_successor(cls, df: pd.DataFrame) -> Series[bool]:
        return df["successor_known"]

    @pa.dataframe_check(name="successor_cycle")
    def successor_cycle(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["in_cycle"]


class OwnerRules(pa.DataFrameModel):
    """Each item's first owner (owners.csv) against the departments listed."""

    owner_known: Series[bool]

    class Config:
        strict = False

    @pa.dataframe_check(name="unknown_owner")
    def unknown_owner(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owner_known"]


class VersionRules(pa.DataFrameModel):
    """Every KPI definition in force, as first set and as revised."""

    direction: Series[str]
    baseline_value: Series[float] = pa.Field(nullable=True)
    target_value: Series[float] = pa.Field(nullable=True)
    baseline_fy: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    target_fy: Series[pd.Int64Dtype] = pa.Field(nullable=True)

    class Config:
        strict = False

    @pa.dataframe_check(name="target_wrong_side")
    def target_wrong_side(cls, df: pd.DataFrame) -> Series[bool]:
        up = df["target_value"] > df["baseline_value"]
        wrong = (up != (df["direction"] == "increase")) & df["target_value"].notna() & df["baseline_value"].notna()
        return ~wrong

    @pa.dataframe_check(name="target_before_baseline")
    def target_before_baseline(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["target_fy"] <= df["baseline_fy"]).fillna(False).astype(bool)


class _Report:
    """Problems as 'file 行N 列X: message' lines, sorted into file order."""

    def __init__(self, plan: tuple[int, int]):
        self.plan, self.found = plan, []

    def add(self, file: str, row: int, check: str, **params) -> None:
        from shinchoku.catalogue import INITIATIVE_FIELDS, KPI_FIELDS

        column, message = MESSAGES[check]
        first, last = self.plan
        self.found.append((file, row, f"{file} 行{row} 列 {column}: " + message.format(
            first=first, last=last, kpi_fields=", ".join(KPI_FIELDS), initiative_fields=", ".join(INITIATIVE_FIELDS),
            **params)))

    def lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.found)]


def definition_problems(versions, revisions, plan: tuple[int, int]) -> list[str]:
    """Every KPI definition in force (built from sound revisions): its target against its baseline and direction.
    A problem points at the revision that opened the definition, or at kpis.csv for the plan as first set."""
    rows = [{"direction": v.item.direction, "baseline_value": v.item.baseline_value,
             "target_value": v.item.target_value, "baseline_fy": v.item.baseline_fy, "target_fy": v.item.target_fy}
            for v in versions]
    frame = pd.DataFrame(rows).astype({"baseline_value": "float64", "target_value": "float64",
                                       "baseline_fy": "Int64", "target_fy": "Int64"})
    kpi_line = {}
    for v in versions:
        kpi_line.setdefault(v.item.kpi_id, len(kpi_line) + 2)  # kpis.csv, in the order its KPIs come
    revision_line = {id(r): n for n, r in enumerate(revisions, start=2)}
    report = _Report(plan)
    for index, check in failures(VersionRules, frame):
        v = versions[index]
        where = ("revisions.csv", revision_line[id(v.opened_by[-1])]) if v.opened_by \
            else ("kpis.csv", kpi_line[v.item.kpi_id])
        report.add(*where, check, fy=v.valid_from_fy, direction=v.item.direction)
    return report.lines()


def source_problems(kpis, initiatives, revisions, organisation, plan: tuple[int, int],
                    owner_rows: list[tuple[int, str]] = ()) -> list[str]:
    """The revisions against their items and fields, the departments' successors, the owners against the
    departments; [] when they are sound."""
    from shinchoku.catalogue import KPI_FIELDS, field_value

    first, last = plan
    report = _Report(plan)
    listed = {d.name: d for d in organisation}
    kinds = {**{k.kpi_id: "kpi" for k in kpis}, **{i.initiative_id: "initiative" for i in initiatives}}
    if revisions:
        rows = []
        for r in revisions:
            try:
                field_value(r.field, r.new_value)
                value_ok = True
            except Exception:  # noqa: BLE001 - any failure to read the value is this one problem
                value_ok = r.field not in KPI_FIELDS  # an unknown field is reported as such, not twice
            owner_ok = r.field != "owner" or not listed or (
                r.new_value in listed and listed[r.new_value].exists_in(r.effective_fy))
            rows.append({"item_id": r.item_id, "field": r.field, "effective_fy": r.effective_fy,
                         "item_kind": kinds.get(r.item_id), "value_ok": value_ok, "owner_ok": owner_ok,
                         "first_year": first, "last_year": last})
        frame = pd.DataFrame(rows).astype({"item_kind": object})
        for index, check in failures(RevisionRules, frame):
            report.add("revisions.csv", index + 2, check, field=rows[index]["field"])
    if organisation:
        rows = []
        for d in organisation:
            seen, name, cycle = {d.name}, d.successor, False
            while name:
                if name in seen:
                    cycle = True
                    break
                seen.add(name)
                name = listed[name].successor if name in listed else None
            rows.append({"department": d.name, "successor_known": d.successor is None or d.successor in listed,
                         "in_cycle": cycle})
        for index, check in failures(DepartmentRules, pd.DataFrame(rows)):
            report.add("departments.csv", index + 2, check)
        rows = [{"owner_known": owner in listed} for _, owner in owner_rows]
        for index, check in failures(OwnerRules, pd.DataFrame(rows)):
            report.add("owners.csv", owner_rows[index][0], check)
    return report.lines()
