"""pandera schemas for the catalogue: every file, its references to the others, and every definition in force.

`shinchoku catalogue check` and every command that loads a changed catalogue run these. Each file is
one frame of its cells as written (text, indexed by the row a spreadsheet shows), with the facts a
check needs about the other files computed once in :func:`file_problems`; validation is lazy, so
every problem in every file is found in one run. Each check is named for the problem; its failure
cases become one line each, ``{file} 行{row} 列 {column}: {what is wrong}``, in Japanese, for the DX
office that edits the files.
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from shinchoku.catalogue_fields import (
    COUNT_UNITS,
    DIRECTIONS,
    INITIATIVE_FIELDS,
    KPI_FIELDS,
    LOCAL_GOVERNMENT_KINDS,
    MUNICIPALITY_KINDS,
    REGIONS,
    REPORTER_SETS,
    ROLES,
    RULES,
    check_digit,
    code_digit_ok,
    code_shape_ok,
    department_name_ok,
    email_addresses,
    field_value,
    number,
    hiragana,
    positive_factor,
    year,
)
from shinchoku.catalogue_fields import date as parse_date

# The files in the order their problems are listed.
FILES = ("areas.csv", "initiatives.csv", "kpis.csv", "owners.csv", "outcomes.csv", "departments.csv", "revisions.csv",
         "local_governments.csv", "local_government_groups.csv", "computed_kpis.csv", "kpi_components.csv")

# What each check's failure says: the column it points at (None: the failing cell's own column), the
# message (formatted with the row's cells and facts), and whether the cell as written is quoted after it.
MESSAGES = {
    "column_in_dataframe": (None, "列がありません(1行目の見出しに必要です)", False),
    "required": (None, "必須です", False),
    "duplicate_id": (None, "同じIDの行がほかにもあります", True),
    "not_an_integer": (None, "整数が必要です", True),
    "not_a_number": (None, "数値として読めません", True),
    "not_a_year": (None, "年度(西暦の整数、例 2021)が必要です", True),
    "not_a_date": (None, "日付(例 2024-03-15、2024/3/15)が必要です", True),
    "unknown_direction": (None, "increase か decrease が必要です", True),
    "not_a_folder_name": (None, "部局のフォルダ名に使えません", True),
    "not_an_email": (None, "メールアドレス(半角、例 somu@pref.example.lg.jp。複数は ; で区切ります)として読めません", True),
    "no_kpis": ("kpi_id", "指標が1件もありません", False),
    "unknown_area": ("area_id", "areas.csv にありません", True),
    "initiative_without_owner": ("initiative_id", "owners.csv に所管部局がありません", True),
    "kpi_without_owner": ("kpi_id", "owners.csv に所管部局がありません", True),
    "initiative_not_in_area": ("initiative_id", "取組項目 {initiative_id!r} は分野 {area_id!r} にありません", False),
    "note_missing": ("note", "{blank_figures} が空欄の理由を書いてください", False),
    "unknown_owned_item": ("item_id", "kpis.csv・initiatives.csv にない項目です", True),
    "unknown_owner": ("owner", "所管部局が departments.csv にありません", False),
    "unknown_outcome_initiative": ("initiative_id", "initiatives.csv にありません", True),
    "figure_without_unit": ("figure_unit", "figure_value と figure_unit は両方書くか、両方空欄にしてください", False),
    "unknown_successor": ("successor", "後継の部局が departments.csv にありません", False),
    "successor_cycle": ("successor", "後継の部局をたどると元の部局に戻ります(循環)", False),
    "unknown_item": ("item_id", "指標ID・項目IDが kpis.csv・initiatives.csv にありません", False),
    "field_not_allowed": ("field", "この項目では改定できない field です(指標: {kpi_fields}、取組項目: {initiative_fields})",
                          False),
    "bad_value": ("new_value", "field {field} の値として読めません", False),
    "same_year_twice": ("effective_fy", "同じ項目・field・適用年度の改定が2行あります", False),
    "effective_outside_plan": ("effective_fy", "適用年度が計画期間({first}〜{last}年度)の外です", False),
    "owner_not_in_force": ("new_value", "所管部局がその年度に存在する部局(departments.csv)ではありません", False),
    "target_wrong_side": ("target_value", "{fy}年度からの定義で、目標値が基準値に対して方向({direction})と逆です", False),
    "target_before_baseline": ("target_fy", "{fy}年度からの定義で、目標年度が基準年度より後ではありません", False),
    "not_a_code": (None, "6桁の全国地方公共団体コード(半角数字、例 072010)が必要です", True),
    "wrong_check_digit": ("code", "検査数字(6桁目)が合いません。先頭5桁からは {expected_code} です", True),
    "duplicate_code": (None, "同じ団体コードの行がほかにもあります", True),
    "unknown_kind": (None, "県・市・町・村 のいずれかが必要です", True),
    "not_hiragana": (None, "読みをひらがなで書いてください", True),
    "region_missing": ("region", "市町村には地方が1つ必要です({regions} のいずれか)", False),
    "unknown_region": ("region", "地方は {regions} のいずれか1つです", True),
    "region_for_prefecture": ("region", "県には地方を書きません(空欄にしてください)", True),
    "years_reversed": ("valid_to_fy", "valid_to_fy が valid_from_fy より前です", False),
    "member_unknown": ("code", "local_governments.csv の市町村の団体コードではありません", True),
    "member_not_in_force": ("code", "{member}は所属の年度({span})を通して存在する市町村ではありません"
                                    "(local_governments.csv の {member_years})", False),
    "same_member_twice": ("code", "同じグループ・団体コードの所属の年度が重なっています", True),
    "unknown_kpi": ("kpi_id", "kpis.csv にない指標です", True),
    "not_computed": ("kpi_id", "computed_kpis.csv で構成要素から計算する指標として宣言されていません", True),
    "unknown_rule": (None, "ratio_of_sums か sum が必要です", True),
    "factor_not_positive": (None, "倍率は正の数です(% なら 100)", True),
    "unknown_reporters": ("reporters", "報告する団体は local_government_groups.csv のグループ名か {reporter_sets} の"
                                       "いずれかです", True),
    "percent_factor": ("factor", "指標 {kpi_id} の単位は % なので、ratio_of_sums の倍率は 100 です", True),
    "wrong_components": ("rule", "{components_fy}年度に有効な構成要素(kpi_components.csv)が {components_expected} では"
                                 "ありません(分子 {numerators}・分母 {denominators}・加算 {addends})", False),
    "same_rule_twice": ("valid_from_fy", "同じ指標の計算ルールの年度が重なっています", False),
    "unknown_role": (None, "numerator・denominator・addend のいずれかが必要です", True),
    "not_a_count_unit": (None, "構成要素は件数で数えます。単位は {count_units} のいずれかです(%・割合・千件などは使えません)",
                         True),
    "same_component_twice": ("component_id", "同じ指標・構成要素IDの年度が重なっています", True),
}
# Checks of a whole file rather than of a row: they point at its first row.
TABLE_CHECKS = {"no_kpis"}


def _reads(parse, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _integer(text: str) -> int:
    return int(text)


def _required(s: pd.Series) -> pd.Series:
    return s != ""


def _unique(s: pd.Series) -> pd.Series:
    return ~s.duplicated(keep=False) | (s == "")


def _parses(s: pd.Series, parse) -> pd.Series:
    return s.map(lambda text: _reads(parse, text)).astype(bool)


class _File(pa.DataFrameModel):
    class Config:
        strict = False
        coerce = True


class _InForce(_File):
    """A file whose rows hold from ``valid_from_fy`` to ``valid_to_fy`` (either may be blank): both are years,
    and the last is not before the first."""

    valid_from_fy: Series[str]
    valid_to_fy: Series[str]

    @pa.check("valid_from_fy", "valid_to_fy", name="not_a_year")
    def not_a_year(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, year)

    @pa.dataframe_check(name="years_reversed")
    def years_reversed(cls, df: pd.DataFrame) -> Series[bool]:
        return _reversed_years(df)


class AreaRules(_File):
    """areas.csv: 分野."""

    area_id: Series[str]
    area_group: Series[str]
    name: Series[str]
    sort_order: Series[str]

    @pa.check("area_id", "name", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("area_id", name="duplicate_id")
    def duplicate_id(cls, s: pd.Series) -> Series[bool]:
        return _unique(s)

    @pa.check("sort_order", name="not_an_integer")
    def not_an_integer(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, _integer)


class InitiativeRules(_File):
    """initiatives.csv: 取組項目, each in an area and owned (owners.csv)."""

    initiative_id: Series[str]
    area_id: Series[str]
    name: Series[str]
    activities: Series[str]
    area_known: Series[bool]
    owned: Series[bool]

    @pa.check("initiative_id", "name", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("initiative_id", name="duplicate_id")
    def duplicate_id(cls, s: pd.Series) -> Series[bool]:
        return _unique(s)

    @pa.dataframe_check(name="unknown_area")
    def unknown_area(cls, df: pd.DataFrame) -> Series[bool]:
        return df["area_known"]

    @pa.dataframe_check(name="initiative_without_owner")
    def initiative_without_owner(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owned"]


class KpiRules(_File):
    """kpis.csv: 指標 as first set, each in an area (and an initiative of that area), owned (owners.csv)."""

    kpi_id: Series[str]
    area_id: Series[str]
    initiative_id: Series[str]
    name: Series[str]
    unit: Series[str]
    direction: Series[str]
    baseline_value: Series[str]
    baseline_fy: Series[str]
    target_value: Series[str]
    target_fy: Series[str]
    note: Series[str]
    introduced_fy: Optional[Series[str]]
    retired_fy: Optional[Series[str]]
    area_known: Series[bool]
    initiative_in_area: Series[bool]
    owned: Series[bool]
    blank_figures: Series[str]

    @pa.check("kpi_id", "name", "unit", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("kpi_id", name="duplicate_id")
    def duplicate_id(cls, s: pd.Series) -> Series[bool]:
        return _unique(s)

    @pa.check("direction", name="unknown_direction")
    def unknown_direction(cls, s: pd.Series) -> Series[bool]:
        return s.isin(DIRECTIONS)

    @pa.check("baseline_value", "target_value", name="not_a_number")
    def not_a_number(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, number)

    @pa.check("baseline_fy", "target_fy", "introduced_fy", "retired_fy", name="not_a_year")
    def not_a_year(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, year)

    @pa.dataframe_check(name="no_kpis")
    def no_kpis(cls, df: pd.DataFrame) -> bool:
        return len(df) > 0

    @pa.dataframe_check(name="unknown_area")
    def unknown_area(cls, df: pd.DataFrame) -> Series[bool]:
        return df["area_known"]

    @pa.dataframe_check(name="initiative_not_in_area")
    def initiative_not_in_area(cls, df: pd.DataFrame) -> Series[bool]:
        return df["initiative_in_area"]

    @pa.dataframe_check(name="kpi_without_owner")
    def kpi_without_owner(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owned"]

    @pa.dataframe_check(name="note_missing")
    def note_missing(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["blank_figures"] == "") | (df["note"] != "")


class OwnerRules(_File):
    """owners.csv: each item's department as first set, one of departments.csv."""

    item_id: Series[str]
    owner: Series[str]
    basis: Series[str]
    item_known: Series[bool]
    owner_known: Series[bool]

    @pa.check("item_id", "owner", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("item_id", name="duplicate_id")
    def duplicate_id(cls, s: pd.Series) -> Series[bool]:
        return _unique(s)

    @pa.check("owner", name="not_a_folder_name")
    def not_a_folder_name(cls, s: pd.Series) -> Series[bool]:
        return s.map(department_name_ok).astype(bool)

    @pa.dataframe_check(name="unknown_owned_item")
    def unknown_owned_item(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_known"]

    @pa.dataframe_check(name="unknown_owner")
    def unknown_owner(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owner_known"]


class OutcomeRules(_File):
    """outcomes.csv: 成果・効果 printed in the seed, per initiative."""

    initiative_id: Series[str]
    fiscal_year: Series[str]
    label: Series[str]
    outcome_text: Series[str]
    figure_value: Series[str]
    figure_unit: Series[str]
    as_of: Series[str]
    note: Series[str]
    initiative_known: Series[bool]

    @pa.check("outcome_text", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("figure_value", name="not_a_number")
    def not_a_number(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, number)

    @pa.check("fiscal_year", name="not_a_year")
    def not_a_year(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, year)

    @pa.dataframe_check(name="unknown_outcome_initiative")
    def unknown_outcome_initiative(cls, df: pd.DataFrame) -> Series[bool]:
        return df["initiative_known"]

    @pa.dataframe_check(name="figure_without_unit")
    def figure_without_unit(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["figure_value"] == "") == (df["figure_unit"] == "")


def _emails(s: pd.Series) -> pd.Series:
    return _parses(s, email_addresses)


class DepartmentRules(_InForce):
    """departments.csv: each department's fiscal years, its successor's standing, and its contacts' addresses."""

    department: Series[str]
    successor: Series[str]
    email: Optional[Series[str]]
    successor_known: Series[bool]
    in_cycle: Series[bool]

    @pa.check("email", name="not_an_email")
    def not_an_email(cls, s: pd.Series) -> Series[bool]:
        return _emails(s)

    @pa.check("department", name="not_a_folder_name")
    def not_a_folder_name(cls, s: pd.Series) -> Series[bool]:
        return s.map(department_name_ok).astype(bool)

    @pa.dataframe_check(name="unknown_successor")
    def unknown_successor(cls, df: pd.DataFrame) -> Series[bool]:
        return df["successor_known"]

    @pa.dataframe_check(name="successor_cycle")
    def successor_cycle(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["in_cycle"]


class RevisionRules(_File):
    """revisions.csv, one row per revision, with what the catalogue knows of its item."""

    revision_id: Series[str]
    item_id: Series[str]
    field: Series[str]
    new_value: Series[str]
    effective_fy: Series[str]
    decided_on: Series[str]
    reason: Series[str]
    source: Series[str]
    item_kind: Series[str]  # kpi, initiative, or "" when unknown
    value_ok: Series[bool]
    owner_ok: Series[bool]
    in_plan: Series[bool]

    @pa.check("revision_id", "effective_fy", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("effective_fy", name="not_a_year")
    def not_a_year(cls, s: pd.Series) -> Series[bool]:
        return _parses(s, year)

    @pa.check("decided_on", name="not_a_date")
    def not_a_date(cls, s: pd.Series) -> Series[bool]:
        return s.map(lambda text: text == "" or parse_date(text) is not None).astype(bool)

    @pa.dataframe_check(name="unknown_item")
    def unknown_item(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_kind"] != ""

    @pa.dataframe_check(name="field_not_allowed")
    def field_not_allowed(cls, df: pd.DataFrame) -> Series[bool]:
        allowed = df["item_kind"].map({"kpi": KPI_FIELDS, "initiative": INITIATIVE_FIELDS, "": None})
        return pd.Series([a is None or f in a for f, a in zip(df["field"], allowed)], index=df.index, dtype=bool)

    @pa.dataframe_check(name="bad_value")
    def bad_value(cls, df: pd.DataFrame) -> Series[bool]:
        return df["value_ok"]

    @pa.dataframe_check(name="same_year_twice")
    def same_year_twice(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(subset=["item_id", "field", "effective_fy"], keep=False) | (df["effective_fy"] == "")

    @pa.dataframe_check(name="effective_outside_plan")
    def effective_outside_plan(cls, df: pd.DataFrame) -> Series[bool]:
        return df["in_plan"]

    @pa.dataframe_check(name="owner_not_in_force")
    def owner_not_in_force(cls, df: pd.DataFrame) -> Series[bool]:
        return df["owner_ok"]


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


def _reversed_years(df: pd.DataFrame) -> pd.Series:
    """False where both years read and the last comes before the first."""
    return pd.Series([_lenient(year, f) is None or _lenient(year, t) is None or _lenient(year, t) >= _lenient(year, f)
                      for f, t in zip(df["valid_from_fy"], df["valid_to_fy"])], index=df.index, dtype=bool)


class LocalGovernmentRules(_InForce):
    """local_governments.csv: the prefecture and its municipalities, each code once, each municipality in one region,
    with its contacts' addresses."""

    code: Series[str]
    name: Series[str]
    reading: Series[str]
    kind: Series[str]
    region: Series[str]
    email: Optional[Series[str]]
    expected_code: Series[str]

    @pa.check("email", name="not_an_email")
    def not_an_email(cls, s: pd.Series) -> Series[bool]:
        return _emails(s)

    @pa.check("code", "name", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("code", name="not_a_code")
    def not_a_code(cls, s: pd.Series) -> Series[bool]:
        return s.map(lambda text: text == "" or code_shape_ok(text)).astype(bool)

    @pa.check("code", name="duplicate_code")
    def duplicate_code(cls, s: pd.Series) -> Series[bool]:
        return _unique(s)

    @pa.check("reading", name="not_hiragana")
    def not_hiragana(cls, s: pd.Series) -> Series[bool]:
        return s.map(hiragana).astype(bool)

    @pa.check("kind", name="unknown_kind")
    def unknown_kind(cls, s: pd.Series) -> Series[bool]:
        return s.isin(LOCAL_GOVERNMENT_KINDS)

    @pa.dataframe_check(name="wrong_check_digit")
    def wrong_check_digit(cls, df: pd.DataFrame) -> Series[bool]:
        return df["code"].map(code_digit_ok).astype(bool)

    @pa.dataframe_check(name="region_missing")
    def region_missing(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["kind"].isin(MUNICIPALITY_KINDS) & (df["region"] == ""))

    @pa.dataframe_check(name="unknown_region")
    def unknown_region(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["kind"].isin(MUNICIPALITY_KINDS) & (df["region"] != "") & ~df["region"].isin(REGIONS))

    @pa.dataframe_check(name="region_for_prefecture")
    def region_for_prefecture(cls, df: pd.DataFrame) -> Series[bool]:
        return ~((df["kind"] == "県") & (df["region"] != ""))


class GroupRules(_InForce):
    """local_government_groups.csv: each membership a municipality that exists throughout its years, once."""

    group: Series[str]
    code: Series[str]
    member_state: Series[str]  # ok, unknown (no such municipality), not_in_force, twice (overlapping rows)

    @pa.check("group", "code", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.dataframe_check(name="member_unknown")
    def member_unknown(cls, df: pd.DataFrame) -> Series[bool]:
        return df["member_state"] != "unknown"

    @pa.dataframe_check(name="member_not_in_force")
    def member_not_in_force(cls, df: pd.DataFrame) -> Series[bool]:
        return df["member_state"] != "not_in_force"

    @pa.dataframe_check(name="same_member_twice")
    def same_member_twice(cls, df: pd.DataFrame) -> Series[bool]:
        return df["member_state"] != "twice"


def _overlapping(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """False where another row with the same ``key`` covers some of the same fiscal years (rows whose years do
    not read are not judged here)."""
    spans = [(_lenient(year, f), _lenient(year, t), _reads(year, f) and _reads(year, t))
             for f, t in zip(df["valid_from_fy"], df["valid_to_fy"])]
    keys = list(zip(*(df[c] for c in key)))
    ok = []
    for n, (k, (start, end, readable)) in enumerate(zip(keys, spans)):
        clash = readable and any(
            m != n and other == k and spans[m][2] and (spans[m][0] is None or end is None or spans[m][0] <= end)
            and (start is None or spans[m][1] is None or start <= spans[m][1]) for m, other in enumerate(keys))
        ok.append(not clash)
    return pd.Series(ok, index=df.index, dtype=bool)


class ComputedKpiRules(_InForce):
    """computed_kpis.csv: a KPI computed from local governments' counts, by a rule, from a fiscal year."""

    kpi_id: Series[str]
    rule: Series[str]
    factor: Series[str]
    reporters: Series[str]
    kpi_state: Series[str]  # ok, unknown (not in kpis.csv)
    reporters_known: Series[bool]
    percent_ok: Series[bool]
    components_ok: Series[bool]

    @pa.check("kpi_id", "rule", "factor", "reporters", "valid_from_fy", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("rule", name="unknown_rule")
    def unknown_rule(cls, s: pd.Series) -> Series[bool]:
        return s.isin(RULES) | (s == "")

    @pa.check("factor", name="factor_not_positive")
    def factor_not_positive(cls, s: pd.Series) -> Series[bool]:
        return s.map(lambda text: text == "" or _reads(positive_factor, text)).astype(bool)

    @pa.dataframe_check(name="unknown_kpi")
    def unknown_kpi(cls, df: pd.DataFrame) -> Series[bool]:
        return df["kpi_state"] != "unknown"

    @pa.dataframe_check(name="unknown_reporters")
    def unknown_reporters(cls, df: pd.DataFrame) -> Series[bool]:
        return df["reporters_known"]

    @pa.dataframe_check(name="percent_factor")
    def percent_factor(cls, df: pd.DataFrame) -> Series[bool]:
        return df["percent_ok"]

    @pa.dataframe_check(name="wrong_components")
    def wrong_components(cls, df: pd.DataFrame) -> Series[bool]:
        return df["components_ok"]

    @pa.dataframe_check(name="same_rule_twice")
    def same_rule_twice(cls, df: pd.DataFrame) -> Series[bool]:
        return _overlapping(df, ["kpi_id"])


class ComponentRules(_InForce):
    """kpi_components.csv: what a computed KPI is computed from, each a count with its role and unit."""

    kpi_id: Series[str]
    component_id: Series[str]
    component_name: Series[str]
    role: Series[str]
    unit: Series[str]
    kpi_state: Series[str]  # ok, unknown (not in kpis.csv), not_computed (not in computed_kpis.csv)

    @pa.check("kpi_id", "component_id", "component_name", "role", "unit", "valid_from_fy", name="required")
    def required(cls, s: pd.Series) -> Series[bool]:
        return _required(s)

    @pa.check("role", name="unknown_role")
    def unknown_role(cls, s: pd.Series) -> Series[bool]:
        return s.isin(ROLES) | (s == "")

    @pa.check("unit", name="not_a_count_unit")
    def not_a_count_unit(cls, s: pd.Series) -> Series[bool]:
        return s.isin(COUNT_UNITS) | (s == "")

    @pa.dataframe_check(name="unknown_kpi")
    def unknown_kpi(cls, df: pd.DataFrame) -> Series[bool]:
        return df["kpi_state"] != "unknown"

    @pa.dataframe_check(name="not_computed")
    def not_computed(cls, df: pd.DataFrame) -> Series[bool]:
        return df["kpi_state"] != "not_computed"

    @pa.dataframe_check(name="same_component_twice")
    def same_component_twice(cls, df: pd.DataFrame) -> Series[bool]:
        return _overlapping(df, ["kpi_id", "component_id"])


MODELS = {"areas.csv": AreaRules, "initiatives.csv": InitiativeRules, "kpis.csv": KpiRules, "owners.csv": OwnerRules,
          "outcomes.csv": OutcomeRules, "departments.csv": DepartmentRules, "revisions.csv": RevisionRules,
          "local_governments.csv": LocalGovernmentRules, "local_government_groups.csv": GroupRules,
          "computed_kpis.csv": ComputedKpiRules, "kpi_components.csv": ComponentRules}


def _cases(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> list[tuple[int, str, str | None]]:
    """Validate lazily; every failure as (row, check, column): the frame's index, the check's name, and the
    failing cell's column for a column check (None for a check of whole rows, whose column MESSAGES names).
    A missing column is row 1, the header; a check of a whole file is its first row."""
    try:
        model.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    found, missing, errors = set(), [], []
    for index, check, column, case in zip(cases["index"], cases["check"], cases["column"], cases["failure_case"]):
        check = str(check)
        if check == "column_in_dataframe":
            missing.append(str(case))
        elif check in TABLE_CHECKS:
            found.add((2, check, None))
        elif index is None or pd.isna(index) or check not in MESSAGES:
            errors.append((check, case))  # a check that could not run: moot if a column it reads is missing
        else:
            found.add((int(index), check, str(column) if MESSAGES[check][0] is None else None))
    if errors and not missing:
        raise RuntimeError(f"{model.__name__}: {errors}")  # a bug in shinchoku, not in the catalogue
    return [(1, "column_in_dataframe", c) for c in dict.fromkeys(missing)] + sorted(found, key=str)


class _Report:
    """Problems as '{file} 行{row} 列 {column}: message' lines, in file order, then row order, then in the
    order of the file's columns (``headings``, per file, where known)."""

    def __init__(self, plan: tuple[int | None, int | None] = (None, None)):
        self.plan, self.found, self.headings = plan, [], {}

    def add(self, file: str, row: int, check: str, column: str | None = None, cells: dict | None = None,
            **params) -> None:
        default, message, quoted = MESSAGES[check]
        column = column or default
        cells = cells or {}
        first, last = self.plan
        text = message.format(**{**cells, "first": first, "last": last, "kpi_fields": ", ".join(KPI_FIELDS),
                                 "initiative_fields": ", ".join(INITIATIVE_FIELDS),
                                 "regions": "・".join(REGIONS), "count_units": "・".join(COUNT_UNITS),
                                 "reporter_sets": "・".join(REPORTER_SETS), **params})
        if quoted:
            text += f"(入力: {cells.get(column, '')!r})"
        order = FILES.index(file) if file in FILES else len(FILES)
        headings = self.headings.get(file, [])
        place = headings.index(column) if column in headings else len(headings)
        self.found.append((order, row, place, f"{file} 行{row} 列 {column}: {text}"))

    def lines(self) -> list[str]:
        return list(dict.fromkeys(line for *_, line in sorted(self.found, key=lambda f: f[:3])))


def _frame(table) -> pd.DataFrame:
    """A file's cells as written, one column per heading, indexed by the row a spreadsheet shows."""
    index = pd.Index([n for n, _ in table.rows], dtype="int64")
    return pd.DataFrame({c: pd.Series([row.get(c, "") for _, row in table.rows], index=index, dtype=object)
                         for c in table.columns}, index=index)


def _lenient(parse, text: str):
    try:
        return parse(text)
    except ValueError:
        return None


def file_problems(tables: dict) -> list[str]:
    """Every problem in the catalogue's files (name -> its table: ``columns`` and numbered ``rows`` of cells),
    each file against itself and against the others; [] when they are sound.

    A reference into a file that lacks the column referred to is not checked: its missing column is the
    problem to fix, not every row pointing at it."""
    frames = {name: _frame(table) for name, table in tables.items()}
    empty = pd.Series(dtype=object)

    def cells(name: str, column: str) -> pd.Series:
        frame = frames.get(name)
        if frame is None:
            return empty
        return frame[column] if column in frame.columns else pd.Series("", index=frame.index, dtype=object)

    def ids(name: str, column: str) -> set[str] | None:
        frame = frames.get(name)
        if frame is not None and column not in frame.columns:
            return None
        return set(cells(name, column)) - {""}

    def known(values: pd.Series, among: set[str] | None, blank_ok: bool = True) -> pd.Series:
        return values.map(lambda v: among is None or v in among or (blank_ok and v == "")).astype(bool)

    area_ids, owned_ids = ids("areas.csv", "area_id"), ids("owners.csv", "item_id")
    initiative_ids, kpi_ids = ids("initiatives.csv", "initiative_id"), ids("kpis.csv", "kpi_id")
    item_ids = None if initiative_ids is None or kpi_ids is None else initiative_ids | kpi_ids
    initiative_area = None if initiative_ids is None or ids("initiatives.csv", "area_id") is None else \
        dict(zip(cells("initiatives.csv", "initiative_id"), cells("initiatives.csv", "area_id")))
    departments = {name: (_lenient(year, start), _lenient(year, end), successor) for name, start, end, successor in
                   zip(cells("departments.csv", "department"), cells("departments.csv", "valid_from_fy"),
                       cells("departments.csv", "valid_to_fy"), cells("departments.csv", "successor"))}
    listed = None if ids("departments.csv", "department") is None else set(departments)  # None: not checked
    if listed is None:
        departments = {}
    first = min(filter(None, (_lenient(year, t) for t in cells("kpis.csv", "baseline_fy"))), default=None)
    last = max(filter(None, (_lenient(year, t) for t in cells("kpis.csv", "target_fy"))), default=None)

    def exists(department: str, fiscal_year: int | None) -> bool:
        start, end, _ = departments[department]
        return fiscal_year is None or ((start is None or fiscal_year >= start) and (end is None or fiscal_year <= end))

    facts = {}
    facts["initiatives.csv"] = {
        "area_known": known(cells("initiatives.csv", "area_id"), area_ids, blank_ok=False),
        "owned": known(cells("initiatives.csv", "initiative_id"), owned_ids)}
    kpis = frames["kpis.csv"]
    figures = ("baseline_value", "baseline_fy", "target_value", "target_fy")
    facts["kpis.csv"] = {
        "area_known": known(cells("kpis.csv", "area_id"), area_ids, blank_ok=False),
        "initiative_in_area": pd.Series(
            [i == "" or initiative_area is None or initiative_area.get(i) == a
             for i, a in zip(cells("kpis.csv", "initiative_id"), cells("kpis.csv", "area_id"))], index=kpis.index,
            dtype=bool),
        "owned": known(cells("kpis.csv", "kpi_id"), owned_ids),
        "blank_figures": pd.Series(["・".join(f for f, v in zip(figures, values) if v == "")
                                    for values in zip(*(cells("kpis.csv", f) for f in figures))],
                                   index=kpis.index, dtype=object)}
    facts["owners.csv"] = {
        "item_known": known(cells("owners.csv", "item_id"), item_ids),
        "owner_known": known(cells("owners.csv", "owner"), listed or None)}  # no departments listed: any
    facts["outcomes.csv"] = {
        "initiative_known": known(cells("outcomes.csv", "initiative_id"), initiative_ids, blank_ok=False)}
    in_cycle = []
    for name, successor in zip(cells("departments.csv", "department"), cells("departments.csv", "successor")):
        seen, step, cycle = {name}, successor, False
        while step:
            if step in seen:
                cycle = True
                break
            seen.add(step)
            step = departments[step][2] if step in departments else ""
        in_cycle.append(cycle)
    facts["departments.csv"] = {
        "successor_known": known(cells("departments.csv", "successor"), listed),
        "in_cycle": pd.Series(in_cycle, index=cells("departments.csv", "department").index, dtype=bool)}
    kinds = {**dict.fromkeys(initiative_ids or (), "initiative"), **dict.fromkeys(kpi_ids or (), "kpi")}
    revisions = []
    for item, field, value, effective in zip(cells("revisions.csv", "item_id"), cells("revisions.csv", "field"),
                                             cells("revisions.csv", "new_value"), cells("revisions.csv", "effective_fy")):
        fiscal_year = _lenient(year, effective)
        try:
            field_value(field, value)
            value_ok = True
        except ValueError:
            value_ok = field not in KPI_FIELDS  # an unknown field is reported as such, not twice
        revisions.append({
            "item_kind": kinds.get(item, "unchecked" if item_ids is None else ""),
            "value_ok": value_ok,
            "owner_ok": field != "owner" or not departments or (value in departments and exists(value, fiscal_year)),
            "in_plan": fiscal_year is None or first is None or last is None or first <= fiscal_year <= last})
    index = cells("revisions.csv", "item_id").index
    facts["revisions.csv"] = {c: pd.Series([r[c] for r in revisions], index=index,
                                           dtype=object if c == "item_kind" else bool)
                              for c in ("item_kind", "value_ok", "owner_ok", "in_plan")}

    facts["local_governments.csv"] = {"expected_code": pd.Series(
        [repr(code[:5] + check_digit(code[:5])) if code_shape_ok(code) else "" for code in cells(
            "local_governments.csv", "code")], index=cells("local_governments.csv", "code").index, dtype=object)}
    facts["local_government_groups.csv"] = _membership_facts(cells, ids("local_governments.csv", "code") is None)
    facts.update(_computed_facts(cells, ids, last))

    report = _Report((first, last))
    for name in FILES:
        if name not in frames:
            continue
        frame = frames[name].assign(**facts.get(name, {}))
        report.headings[name] = list(frames[name].columns)
        for row, check, column in _cases(MODELS[name], frame):
            report.add(name, row, check, column, frame.loc[row].to_dict() if row in frame.index else {})
    return report.lines()


def _span(start: int | None, end: int | None) -> str:
    return f"{f'{start}年度' if start else '当初'}〜{f'{end}年度' if end else '現在'}"


def _membership_facts(cells, unchecked: bool) -> dict[str, pd.Series]:
    """Each membership's standing against local_governments.csv (``unchecked``: that file lacks its code column,
    the problem to fix first): a municipality there, existing throughout the membership's years, listed once."""
    municipalities = {}
    for code, name, kind, start, end in zip(*(cells("local_governments.csv", c) for c in
                                              ("code", "name", "kind", "valid_from_fy", "valid_to_fy"))):
        if kind in MUNICIPALITY_KINDS:
            municipalities.setdefault(code, (name, _lenient(year, start), _lenient(year, end)))
    index = cells("local_government_groups.csv", "code").index
    rows = list(zip(*(cells("local_government_groups.csv", c) for c in ("group", "code", "valid_from_fy", "valid_to_fy"))))
    spans = [(_lenient(year, f), _lenient(year, t), _reads(year, f) and _reads(year, t)) for _, _, f, t in rows]
    states, members, years, span_texts = [], [], [], []
    for n, ((group, code, _, _), (start, end, readable)) in enumerate(zip(rows, spans)):
        name, m_start, m_end = municipalities.get(code, ("", None, None))
        state = "ok"
        if unchecked or not readable or code == "":
            pass
        elif code not in municipalities:
            state = "unknown"
        elif not ((m_start is None or (start is not None and start >= m_start))
                  and (m_end is None or (end is not None and end <= m_end))):
            state = "not_in_force"
        elif any(other[:2] == (group, code) and spans[k][2] and
                 (spans[k][0] is None or end is None or spans[k][0] <= end) and
                 (start is None or spans[k][1] is None or start <= spans[k][1])
                 for k, other in enumerate(rows) if k != n):
            state = "twice"
        states.append(state)
        members.append(f"{name}({code})" if name else code)
        years.append(f"{_span(m_start, m_end)}")
        span_texts.append(_span(start, end))
    return {"member_state": pd.Series(states, index=index, dtype=object),
            "member": pd.Series(members, index=index, dtype=object),
            "member_years": pd.Series(years, index=index, dtype=object),
            "span": pd.Series(span_texts, index=index, dtype=object)}


def _computed_facts(cells, ids, last: int | None) -> dict[str, dict[str, pd.Series]]:
    """Each computed KPI's and each component's standing against kpis.csv, the groups, and each other.
    A reference into a file lacking the column referred to is not judged (its missing column is the problem)."""
    kpi_ids, computed_ids = ids("kpis.csv", "kpi_id"), ids("computed_kpis.csv", "kpi_id")
    groups = ids("local_government_groups.csv", "group")
    units = dict(zip(cells("kpis.csv", "kpi_id"), cells("kpis.csv", "unit")))
    components = [(kpi, role, _lenient(year, f), _lenient(year, t))
                  for kpi, role, f, t in zip(*(cells("kpi_components.csv", c) for c in
                                               ("kpi_id", "role", "valid_from_fy", "valid_to_fy")))
                  if _reads(year, f) and _reads(year, t) and f != ""]
    unjudged = ids("kpi_components.csv", "role") is None or ids("kpi_components.csv", "valid_from_fy") is None

    def state(kpi: str, computed: bool) -> str:
        if kpi == "" or kpi_ids is None:
            return "ok"
        if kpi not in kpi_ids:
            return "unknown"
        return "not_computed" if computed and computed_ids is not None and kpi not in computed_ids else "ok"

    rows = list(zip(*(cells("computed_kpis.csv", c) for c in
                      ("kpi_id", "rule", "factor", "reporters", "valid_from_fy", "valid_to_fy"))))
    found = {c: [] for c in ("kpi_state", "reporters_known", "percent_ok", "components_ok", "components_fy",
                             "components_expected", "numerators", "denominators", "addends")}
    for kpi, rule, factor, reporters, f, t in rows:
        found["kpi_state"].append(state(kpi, False))
        found["reporters_known"].append(reporters == "" or reporters in REPORTER_SETS or
                                        (groups is None or reporters in groups))
        factor_value = _lenient(positive_factor, factor)
        found["percent_ok"].append(not (rule == "ratio_of_sums" and units.get(kpi) == "%" and
                                        factor_value is not None and factor_value != 100))
        start, end = _lenient(year, f), _lenient(year, t)
        problem = None
        if rule in RULES and start is not None and _reads(year, t) and not unjudged and state(kpi, False) == "ok":
            end = end if end is not None else max(start, last or start)
            for fy in range(start, end + 1):
                roles = [r for k, r, s, e in components if k == kpi and s <= fy and (e is None or fy <= e)]
                n, d, a = (roles.count(r) for r in ROLES)
                if (rule == "ratio_of_sums" and (n, d, a) != (1, 1, 0)) or (rule == "sum" and (a == 0 or n or d)):
                    problem = (fy, n, d, a)
                    break
        fy, n, d, a = problem or ("", 0, 0, 0)
        found["components_ok"].append(problem is None)
        found["components_fy"].append(fy)
        found["components_expected"].append("分子1つ・分母1つ" if rule == "ratio_of_sums" else "加算1つ以上だけ")
        for column, value in zip(("numerators", "denominators", "addends"), (n, d, a)):
            found[column].append(value)
    index = cells("computed_kpis.csv", "kpi_id").index
    computed = {c: pd.Series(v, index=index, dtype=bool if c in ("reporters_known", "percent_ok", "components_ok")
                             else object) for c, v in found.items()}
    component_index = cells("kpi_components.csv", "kpi_id").index
    return {"computed_kpis.csv": computed,
            "kpi_components.csv": {"kpi_state": pd.Series([state(k, True) for k in cells("kpi_components.csv", "kpi_id")],
                                                          index=component_index, dtype=object)}}


def definition_problems(versions, revisions, plan: tuple[int, int]) -> list[str]:
    """Every KPI definition in force (built from sound files): its target against its baseline and direction.
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
    for index, check, _ in ([] if frame.empty else _cases(VersionRules, frame)):
        v = versions[index]
        where = ("revisions.csv", revision_line[id(v.opened_by[-1])]) if v.opened_by \
            else ("kpis.csv", kpi_line[v.item.kpi_id])
        report.add(*where, check, fy=v.valid_from_fy, direction=v.item.direction)
    return report.lines()
