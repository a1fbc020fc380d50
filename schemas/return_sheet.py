"""pandera schemas for return-sheet observations, validated a whole batch at a time.

Each check method is named after its issue code as well as carrying it as
``name``: pandera drops the custom name of a check inherited by a second
subclass, and falls back to the method name.

The frame holds one row per reported value across every workbook in a batch,
with a ``source`` column naming the workbook and the catalogue's facts joined
on (``item_known``, ``item_owner``, ``item_unit``...). Each check's name is the
issue code a department sees, so failures map straight back to sheet and cell.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

KEY = ["source", "item_id", "fiscal_year", "as_of"]


class RecordFrame(pa.DataFrameModel):
    """Rows as read: located by source workbook and sheet row, typed by the parser.

    ``item_id`` is a KPI (指標ID) or an initiative (項目ID); ``item_known``,
    ``item_owner`` and ``item_unit`` are the catalogue's facts about it.
    """

    source: Series[int] = pa.Field(ge=0)
    row0: Series[int] = pa.Field(ge=0)
    item_id: Series[str] = pa.Field(nullable=True)
    department: Series[str] = pa.Field(nullable=True)
    fiscal_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    actual_value: Series[float] = pa.Field(nullable=True)
    item_known: Series[bool]
    in_force: Series[bool]  # the item exists in the row's fiscal year (always, for an unknown item)
    item_owner: Series[str] = pa.Field(nullable=True)  # its owner in the row's fiscal year
    item_unit: Series[str] = pa.Field(nullable=True)
    first_year: Series[int]
    last_year: Series[int]

    class Config:
        strict = False
        coerce = False


class CommonRules(RecordFrame):
    """Errors shared by KPI actuals and outcome figures."""

    @pa.dataframe_check(name="kpi_not_in_force")
    def kpi_not_in_force(cls, df: pd.DataFrame) -> Series[bool]:
        return df["in_force"]

    @pa.dataframe_check(name="wrong_department")
    def wrong_department(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["item_known"] | ~df["in_force"] | df["department"].isna() | (df["item_owner"] == df["department"])

    @pa.dataframe_check(name="year_out_of_range")
    def year_out_of_range(cls, df: pd.DataFrame) -> Series[bool]:
        year = df["fiscal_year"]
        return (year.isna() | year.between(df["first_year"], df["last_year"])).fillna(True).astype(bool)

    @pa.dataframe_check(name="percent_out_of_range")
    def percent_out_of_range(cls, df: pd.DataFrame) -> Series[bool]:
        value = df["actual_value"]
        return ~((df["item_unit"] == "%") & ((value < 0) | (value > 100))).fillna(False).astype(bool)


class OutcomeRules(CommonRules):
    """Errors in 取組実績 (initiative outcomes): the same rules as KPI actuals, figures may be negative."""

    @pa.dataframe_check(name="unknown_initiative")
    def unknown_initiative(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_known"]


class ExplanationRules(CommonRules):
    """Errors in a 実績報告 row with 要因分析 or 今後の方向性 but no figure: the text must belong somewhere."""

    @pa.dataframe_check(name="unknown_kpi")
    def unknown_kpi(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_known"]


class ObservationRules(CommonRules):
    """Errors in 実績報告 (KPI actuals): any failure rejects its workbook."""

    baseline_value: Series[float] = pa.Field(nullable=True)
    target_value: Series[float] = pa.Field(nullable=True)
    unit_written: Series[bool]

    @pa.dataframe_check(name="percent_as_fraction")
    def percent_as_fraction(cls, df: pd.DataFrame) -> Series[bool]:
        """0.701 in a plain cell, for a KPI whose baseline and target are both above 1%: 70.1% or 0.701%?

        A person reads a fraction; the number says 0.701%. Never guess: reject.
        """
        value = df["actual_value"]
        fraction = ((df["item_unit"] == "%") & ~df["unit_written"] & (value > 0) & (value <= 1)
                    & (df["baseline_value"] > 1) & (df["target_value"] > 1))
        return ~fraction.fillna(False).astype(bool)

    @pa.dataframe_check(name="unknown_kpi")
    def unknown_kpi(cls, df: pd.DataFrame) -> Series[bool]:
        return df["item_known"]

    @pa.dataframe_check(name="duplicate_row")
    def duplicate_row(cls, df: pd.DataFrame) -> Series[bool]:
        keyed = df["item_id"].notna() & df["fiscal_year"].notna()
        return ~(df.duplicated(subset=KEY, keep=False) & keyed)

    @pa.dataframe_check(name="negative_value")
    def negative_value(cls, df: pd.DataFrame) -> Series[bool]:
        return ~((df["item_unit"] != "%") & df["item_known"] & (df["actual_value"] < 0)).fillna(False).astype(bool)


class ObservationWarnings(RecordFrame):
    """Warnings: possible but suspicious values, recorded and shown, never a rejection."""

    baseline_value: Series[float] = pa.Field(nullable=True)
    target_value: Series[float] = pa.Field(nullable=True)
    # Judged per row from the catalogue and the grade bands, as kpi_progress will judge it.
    worse_than_baseline: Series[bool]
    behind: Series[bool]  # graded below the second-best band (C or D by default)
    explained: Series[bool]  # the sheet has the 要因分析 and 今後の方向性 columns
    factor_blank: Series[bool]
    computed: Series[bool]  # the KPI is computed from the survey sheets in the row's fiscal year

    @pa.dataframe_check(name="suspicious_value")
    def suspicious_value(cls, df: pd.DataFrame) -> Series[bool]:
        span = (df["target_value"] - df["baseline_value"]).abs()
        jump = (df["actual_value"] - df["baseline_value"]).abs()
        return ~(jump > 2 * span).fillna(False).astype(bool)

    @pa.dataframe_check(name="far_above_target")
    def far_above_target(cls, df: pd.DataFrame) -> Series[bool]:
        """Where the baseline is unknown, suspicious_value cannot judge: a value ten times its target is a unit slip
        (1,461,000 typed for a KPI counted in 万件) more often than a success."""
        far = df["baseline_value"].isna() & (df["actual_value"].abs() > 10 * df["target_value"].abs())
        return ~far.fillna(False).astype(bool)

    @pa.dataframe_check(name="wrong_direction")
    def wrong_direction(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["worse_than_baseline"]

    @pa.dataframe_check(name="computed_kpi_reported")
    def computed_kpi_reported(cls, df: pd.DataFrame) -> Series[bool]:
        """A department's value of a KPI computed from the local governments' counts that year: kept as the fallback."""
        return ~(df["computed"] & df["actual_value"].notna())  # an unreadable value has its own error

    @pa.dataframe_check(name="explanation_missing")
    def explanation_missing(cls, df: pd.DataFrame) -> Series[bool]:
        """A figure behind its trajectory, or worse than its baseline, with 要因分析 left blank."""
        return ~(df["explained"] & df["factor_blank"] & (df["behind"] | df["worse_than_baseline"]))


class SurveyRules(pa.DataFrameModel):
    """Errors in a local government's 調査票: counts (件・人) of a computed KPI's components, any failure rejects it.

    ``role`` is the component's (numerator, denominator, addend); ``partner_present``: the other half of its ratio
    is in the same sheet (always, for an addend or an unknown one); ``partner_aligned``: for a numerator, one of
    them is of its year and 時点; ``partner_value``: that one's count.
    """

    source: Series[int] = pa.Field(ge=0)
    row0: Series[int] = pa.Field(ge=0)
    item_id: Series[str] = pa.Field(nullable=True)
    component_id: Series[str] = pa.Field(nullable=True)
    role: Series[str] = pa.Field(nullable=True)
    department: Series[str] = pa.Field(nullable=True)
    fiscal_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    actual_value: Series[float] = pa.Field(nullable=True)
    component_known: Series[bool]
    in_force: Series[bool]  # its KPI is computed from it in the row's fiscal year (always, for an unknown one)
    expected: Series[bool]  # the government is among the reporters that year (always, for an unknown one)
    partner_present: Series[bool]
    partner_aligned: Series[bool]
    partner_value: Series[float] = pa.Field(nullable=True)
    first_year: Series[int]
    last_year: Series[int]

    class Config:
        strict = False
        coerce = False

    @pa.dataframe_check(name="unknown_component")
    def unknown_component(cls, df: pd.DataFrame) -> Series[bool]:
        return df["component_known"] & df["in_force"]

    @pa.dataframe_check(name="component_not_expected")
    def component_not_expected(cls, df: pd.DataFrame) -> Series[bool]:
        return df["expected"]

    @pa.dataframe_check(name="year_out_of_range")
    def year_out_of_range(cls, df: pd.DataFrame) -> Series[bool]:
        year = df["fiscal_year"]
        return (year.isna() | year.between(df["first_year"], df["last_year"])).fillna(True).astype(bool)

    @pa.dataframe_check(name="count_not_whole")
    def count_not_whole(cls, df: pd.DataFrame) -> Series[bool]:
        value = df["actual_value"]
        return ~((value % 1) != 0).where(value.notna(), False).astype(bool)

    @pa.dataframe_check(name="negative_value")
    def negative_value(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["actual_value"] < 0).fillna(False).astype(bool)

    @pa.dataframe_check(name="duplicate_row")
    def duplicate_row(cls, df: pd.DataFrame) -> Series[bool]:
        keyed = df["item_id"].notna() & df["component_id"].notna() & df["fiscal_year"].notna()
        return ~(df.duplicated(subset=["source", "item_id", "component_id", "fiscal_year", "as_of"], keep=False) & keyed)

    @pa.dataframe_check(name="numerator_above_denominator")
    def numerator_above_denominator(cls, df: pd.DataFrame) -> Series[bool]:
        """Online procedures above all procedures: one of the two counts is wrong (0 of 0 is fine)."""
        above = (df["role"] == "numerator") & (df["actual_value"] > df["partner_value"])
        return ~above.fillna(False).astype(bool)

    @pa.dataframe_check(name="components_differ")
    def components_differ(cls, df: pd.DataFrame) -> Series[bool]:
        """A numerator and a denominator of different years or 時点: they form no ratio (not a blank one)."""
        return df["partner_aligned"]

    @pa.dataframe_check(name="component_missing")
    def component_missing(cls, df: pd.DataFrame) -> Series[bool]:
        """A numerator without its denominator (or the reverse): no ratio can be formed from half of it."""
        return df["partner_present"]


def failures(schema: type[pa.DataFrameModel], frame: pd.DataFrame) -> list[tuple[int, str]]:
    """Validate lazily and return every (frame index, check name) that failed."""
    if frame.empty:
        return []
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        out = []
        for index, check in zip(cases["index"], cases["check"]):
            if index is None or pd.isna(index):
                raise  # a structural failure is a bug in shinchoku, not in the workbook
            out.append((int(index), str(check)))
        return sorted(set(out))
    return []


def _warm_up() -> None:
    """Compile the models and let pandera finish its lazy imports now, at import, not in the first run."""
    row = {"source": 0, "row0": 0, "item_id": "x", "department": "x", "fiscal_year": pd.array([2021], dtype="Int64"),
           "actual_value": 1.0, "item_known": True, "in_force": True, "item_owner": "x", "item_unit": "件", "first_year": 2020,
           "last_year": 2025, "as_of": None, "unit_written": False, "baseline_value": 0.0, "target_value": 2.0,
           "worse_than_baseline": False, "behind": False, "explained": True, "factor_blank": True,
           "computed": False, "component_id": "x", "role": "numerator", "component_known": True, "expected": True,
           "partner_present": True, "partner_aligned": True, "partner_value": 2.0}
    frame = pd.DataFrame(row, index=[0]).astype({"item_id": object, "department": object, "item_owner": object,
                                                 "item_unit": object, "component_id": object, "role": object})
    for model in (ObservationRules, ObservationWarnings, OutcomeRules, ExplanationRules, SurveyRules):
        failures(model, frame)


_warm_up()
