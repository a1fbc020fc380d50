"""Plausible sample return sheets for every department, FY2021 to FY2024, plus one broken one.

All values are invented (marked サンプルデータ in 備考), except that the copy-paper
return for FY2022 reports 30, the worked example of the README.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from ..catalogue import Catalogue, Kpi
from ..config import Grading
from ..workbook.layout import SHEET
from ..workbook.parse import fiscal_year_label
from ..documents.template import file_name, fill_outcomes, fill_template, write_template

YEARS = (2021, 2022, 2023, 2024)
SAMPLE_NOTE = "サンプルデータ(デモ用)"
BROKEN_DEPARTMENT = "農林水産部"
# How far along the straight trajectory each KPI runs in the demo: a spread of grades.
PACE = {"GOV-K01": 1.05, "GOV-K02": 0.9, "REC-K01": 1.0, "REG-K01": 0.7, "EDU-K01": 0.95,
        "IND-K01": 1.3, "IND-K02": 0.85, "HLT-K01": 0.55, "HLT-K02": 1.0, "SAF-K01": 0.4, "SAF-K02": 1.1}
FIXED = {("GOV-K02", 2022): 30}
LATE = ("教育庁", 2023)  # one return that arrived after the due date, so 提出状況 shows one
# Values the baseline cannot anchor: the portal's baseline is unknown (万件), the app's target year is.
# 要因分析 and 今後の方向性 the sample departments write (behind KPIs must explain; these two also do when on track).
EXPLAINED_ANYWAY = ("GOV-K01", "IND-K01")
FACTORS = {
    "behind": ("{name}は、事業者・関係機関との調整に時間を要し、年度内の実施が計画を下回った(サンプル)。",
               "上半期に関係者との調整を終え、実施回数を前倒しで確保する(サンプル)。"),
    "ahead": ("対象の拡大と周知が進み、計画を上回って推移した(サンプル)。",
              "現在の取組を継続し、目標年度までの達成を確実にする(サンプル)。"),
}
UNEXPLAINED = ("SAF-K01", 2024)  # one C/D row left blank, so the demo shows explanation_missing
UNANCHORED = {"REC-K01": {2022: 98.4, 2023: 112.7, 2024: 131.9}, "HLT-K02": {2021: 55210, 2022: 63870, 2023: 71045, 2024: 80316}}


def expected_in(kpi: Kpi, year: int, last_year: int) -> bool:
    """A KPI is reported for a year after its baseline year, up to its target (or the plan's end)."""
    return kpi.baseline_fy is not None and kpi.baseline_fy < year <= (kpi.target_fy or last_year)


def sample_value(kpi: Kpi, year: int, rng: random.Random) -> float:
    if (kpi.kpi_id, year) in FIXED:
        return FIXED[(kpi.kpi_id, year)]
    if kpi.kpi_id in UNANCHORED:
        return UNANCHORED[kpi.kpi_id][year]
    share = (year - kpi.baseline_fy) / (kpi.target_fy - kpi.baseline_fy)
    pace = PACE.get(kpi.kpi_id, 1.0) * rng.uniform(0.95, 1.05)
    value = kpi.baseline_value + (kpi.target_value - kpi.baseline_value) * share * pace
    decimals = 1 if kpi.unit in ("%", "万件") or (kpi.baseline_decimals or 0) > 0 else 0
    return round(value, decimals) if decimals else float(round(value))


def sample_explanations(kpis: list[Kpi], year: int, values: dict[str, float]) -> dict[str, tuple[str, str]]:
    """要因分析 and 今後の方向性 for the rows that need them (graded below B, or worse than the baseline),
    all but one, and for a few KPIs on track."""
    texts = {}
    for kpi in kpis:
        value = values[kpi.kpi_id]
        behind = Grading().behind(kpi.pace(year, value), kpi.reached(value)) or kpi.worse_than_baseline(value)
        if (kpi.kpi_id, year) == UNEXPLAINED or not (behind or kpi.kpi_id in EXPLAINED_ANYWAY):
            continue
        factor, direction = FACTORS["behind" if behind else "ahead"]
        texts[kpi.kpi_id] = (factor.format(name=kpi.name), direction)
    return texts


def sample_outcomes(catalogue: Catalogue, department: str, year: int, rng: random.Random) -> list[tuple]:
    """One invented outcome line per initiative, with a figure: (項目ID, 取組内容, 成果・効果, 数値, 単位, 時点)."""
    rows = []
    for initiative in catalogue.initiatives_of(department):
        count = rng.randint(3, 40)
        rows.append((initiative.initiative_id, f"{fiscal_year_label(year)}も継続して実施(サンプル)",
                     f"{SAMPLE_NOTE}: 関係者向け説明会・研修を{count}回開催", count, "回", None))
    return rows


def write_demo_inbox(catalogue: Catalogue, inbox: Path, seed: int = 2021) -> list[Path]:
    """Write the sample workbooks into ``inbox/<department>/``; return their paths in order."""
    rng = random.Random(seed)
    written = []
    for year in YEARS:
        for n, department in enumerate(catalogue.departments):
            kpis = [k for k in catalogue.kpis_of(department) if expected_in(k, year, catalogue.last_year)]
            if not kpis:
                continue
            path = inbox / department / file_name(department, year)
            write_template(catalogue, department, year, path)
            values = {k.kpi_id: sample_value(k, year, rng) for k in kpis}
            fill_template(path, values, notes={k: SAMPLE_NOTE for k in values},
                          explanations=sample_explanations(kpis, year, values))
            if year > 2021:  # FY2021's outcomes are the seed's own (catalogue/outcomes.csv)
                fill_outcomes(path, sample_outcomes(catalogue, department, year, rng))
            stamp = received_at(year, n, late=(department, year) == LATE)
            os.utime(path, (stamp, stamp))
            written.append(path)
    written.append(write_broken(catalogue, inbox, received_at(YEARS[-1], len(catalogue.departments) + 1)))
    return written


def received_at(year: int, order: int, late: bool = False) -> float:
    """When a sample return 'arrived': in May after the fiscal year (one department late once)."""
    import datetime as dt

    jst = dt.timezone(dt.timedelta(hours=9))
    day = dt.datetime(year + 1, 7, 10, 9, tzinfo=jst) if late else dt.datetime(year + 1, 5, 10 + order, 9, tzinfo=jst)
    return day.timestamp()


def write_broken(catalogue: Catalogue, inbox: Path, stamp: int) -> Path:
    """A deliberately broken return: text in 実績値 and a year outside the plan."""
    from openpyxl import load_workbook

    path = inbox / BROKEN_DEPARTMENT / "R6_実績報告_誤りあり(サンプル).xlsx"
    write_template(catalogue, BROKEN_DEPARTMENT, 2024, path)
    wb = load_workbook(path)
    ws = wb[SHEET]
    row = 7
    ws.cell(row=row, column=5, value="集計中")
    ws.cell(row=row, column=7, value=SAMPLE_NOTE + ": 誤りのある例")
    ws.append([ws.cell(row=row, column=1).value, None, None, "令和9年度", 900, None, SAMPLE_NOTE + ": 誤りのある例"])
    wb.save(path)
    os.utime(path, (stamp, stamp))
    return path


CONFIRMED_YEARS = YEARS[:-1]  # the DX office has confirmed the earlier years; the latest is still under review


def confirm_past_years(settings) -> None:
    """Confirm every department's earlier years, as the DX office would have, so the demo shows both states."""
    from .confirm import confirm

    for year in CONFIRMED_YEARS:
        confirm(settings, year, None, by="DX推進課(デモ)", note=SAMPLE_NOTE, allow_missing=True, allow_provisional=True)
