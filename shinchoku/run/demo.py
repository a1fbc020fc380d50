"""``shinchoku demo``: plausible sample return sheets for every department and survey sheets (調査票) for the
prefecture and its 59 municipalities, FY2021 to FY2024, plus one broken of each (``prepare``), and what follows the
demo's run (``conclude``): the earlier years confirmed, the site, example queries. The CLI runs the flow between the
two.

All values are invented (marked サンプルデータ in 備考), except that the copy-paper
return for FY2022 reports 30, the worked example of the README.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
from pathlib import Path

from ..catalogue import Catalogue, Kpi
from ..config import Grading, Mail, Settings
from ..documents.site import rebuild
from ..documents.summary import table
from ..documents.template import (file_name, fill_outcomes, fill_template, survey_file_name, write_survey,
                                  write_template)
from ..workbook.layout import SHEET
from ..workbook.parse import fiscal_year_label
from .confirm import confirm

YEARS = (2021, 2022, 2023, 2024)
SAMPLE_NOTE = "サンプルデータ(デモ用)"
BROKEN_DEPARTMENT = "農林水産部"
BROKEN_NAME = "R6_実績報告_誤りあり(サンプル).xlsx"
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


# The survey sheets (調査票) of the prefecture and the 59 municipalities. Sizes are sample weights (applications
# a year, roughly by population for the cities, drawn for the towns and villages), not statistics.
CITY_SIZES = {"福島市": 283_000, "会津若松市": 117_000, "郡山市": 328_000, "いわき市": 333_000, "白河市": 59_000,
              "須賀川市": 75_000, "喜多方市": 45_000, "相馬市": 35_000, "二本松市": 54_000, "田村市": 35_000,
              "南相馬市": 59_000, "伊達市": 58_000, "本宮市": 30_000}
PREFECTURE_SIZE = 1_200_000
# Towns whose residents had left after 2011: few or no procedures in the early years (0 of 0 is a real answer).
EVACUATED = {"双葉町": {2021: 0, 2022: 0.002, 2023: 0.01, 2024: 0.02}, "大熊町": {2021: 0.01, 2022: 0.02},
             "浪江町": {2021: 0.08}, "富岡町": {2021: 0.1}, "葛尾村": {2021: 0.15}, "飯舘村": {2021: 0.2}}
SURVEY_LATE = ("鮫川村", "昭和村")  # have not sent the latest year's survey sheet
SURVEY_BROKEN = "金山町"  # its latest survey sheet has the online count above the total: rejected
SURVEY_PACE = {"GOV-K01": 1.05, "EDU-K01": 0.95}


def survey_rate(kpi: Kpi, year: int) -> float:
    """The aggregate rate (a share, 0–1) the sample counts are scaled to: the baseline in its year, then along the
    straight trajectory at the KPI's sample pace."""
    share = (year - kpi.baseline_fy) / (kpi.target_fy - kpi.baseline_fy)
    return (kpi.baseline_value + (kpi.target_value - kpi.baseline_value) * share * SURVEY_PACE.get(kpi.kpi_id, 1.0)) / 100


def sample_counts(catalogue: Catalogue, year: int, seed: int = 2021) -> dict[str, dict[tuple[str, str], int]]:
    """Each expected local government's counts for a year, {code: {(kpi_id, component_id): count}}, drawn so that
    each computed KPI's ratio of sums is its sample rate (FY2021's online use: the plan's 48.2%)."""
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for kpi in catalogue.kpis:
        components = catalogue.components_of(kpi.kpi_id, year)
        roles = {c.role: c.component_id for c in components}
        if set(roles) != {"numerator", "denominator"}:
            continue
        rng = random.Random(f"{seed}-{kpi.kpi_id}")  # the same government is the same size every year
        units = catalogue.reporters_of(kpi.kpi_id, year)
        sizes, rates = {}, {}
        for unit in units:
            drawn = rng.uniform(6_000, 25_000) if unit.kind == "町" else rng.uniform(800, 7_000)
            size = PREFECTURE_SIZE if unit.kind == "県" else CITY_SIZES.get(unit.name, drawn)
            if components[0].unit == "人":
                size = size / 160  # teachers, not applications
            size *= EVACUATED.get(unit.name, {}).get(year, 1.0)
            sizes[unit.code] = round(size * random.Random(f"{seed}-{kpi.kpi_id}-{unit.code}-{year}").uniform(0.97, 1.03))
            rates[unit.code] = max(0.05, rng.gauss(1.0, 0.18))  # relative to the aggregate (a rate's cap is below)
        aim = survey_rate(kpi, year)
        for _ in range(3):  # scale the relative rates until the ratio of sums is the aim
            got = sum(min(0.97, aim * rates[c]) * sizes[c] for c in sizes) / max(1, sum(sizes.values()))
            rates = {c: r * aim / got for c, r in rates.items()}
        for unit in units:
            total = sizes[unit.code]
            counts.setdefault(unit.code, {})[(kpi.kpi_id, roles["denominator"])] = total
            counts[unit.code][(kpi.kpi_id, roles["numerator"])] = round(total * min(0.97, aim * rates[unit.code]))
    return counts


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


def write_demo_inbox(catalogue: Catalogue, inbox: Path, seed: int = 2021, surveys: bool = True) -> list[Path]:
    """Write the sample workbooks into ``inbox/<department>/`` and, with ``surveys``, the local governments' survey
    sheets into ``inbox/<団体名>/``; return their paths in order."""
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
            # a KPI the survey sheets carry is left blank, as its row asks (the value still draws the explanation)
            typed = {k: v for k, v in values.items() if not (surveys and catalogue.rule_of(k, year))}
            fill_template(path, typed, notes={k: SAMPLE_NOTE for k in typed},
                          explanations=sample_explanations(kpis, year, values))
            if year > 2021:  # FY2021's outcomes are the seed's own (catalogue/outcomes.csv)
                fill_outcomes(path, sample_outcomes(catalogue, department, year, rng))
            stamp = received_at(year, n, late=(department, year) == LATE)
            os.utime(path, (stamp, stamp))
            written.append(path)
    written.append(write_broken(catalogue, inbox, received_at(YEARS[-1], len(catalogue.departments) + 1)))
    return written + (write_demo_surveys(catalogue, inbox, seed) if surveys else [])


def write_demo_surveys(catalogue: Catalogue, inbox: Path, seed: int = 2021) -> list[Path]:
    """Write each expected local government's survey sheet for each demo year into ``inbox/<団体名>/``, counts
    filled in the one pass that writes it; the latest year without ``SURVEY_LATE``'s sheets and with
    ``SURVEY_BROKEN``'s numerator above its denominator. Return their paths."""
    written = []
    for year in YEARS:
        counts = sample_counts(catalogue, year, seed)
        by_code = catalogue.local_governments_by_code
        for n, code in enumerate(counts):
            name = by_code[code].name
            if year == YEARS[-1] and name in SURVEY_LATE:
                continue
            filled = dict(counts[code])
            notes = {key: SAMPLE_NOTE for key in filled}
            if year == YEARS[-1] and name == SURVEY_BROKEN:
                filled, notes = broken_counts(filled, notes)
            path = inbox / name / survey_file_name(name, year)
            write_survey(catalogue, code, year, path, counts=filled, notes=notes)
            stamp = received_at(year, n % 20) + 3600 * (n // 20)  # through May, a few an hour
            os.utime(path, (stamp, stamp))
            written.append(path)
    return written


def broken_counts(counts: dict, notes: dict) -> tuple[dict, dict]:
    """The broken survey sheet's counts: GOV-K01's online count typed above its total (numerator_above_denominator)."""
    online, total = ("GOV-K01", "online"), ("GOV-K01", "total")
    counts = {**counts, online: counts[total] + counts[online]}
    return counts, {**notes, online: SAMPLE_NOTE + ": 誤りのある例(分子が分母を超えている)"}


def received_at(year: int, order: int, late: bool = False) -> float:
    """When a sample return 'arrived': in May after the fiscal year (one department late once)."""
    import datetime as dt

    jst = dt.timezone(dt.timedelta(hours=9))
    day = dt.datetime(year + 1, 7, 10, 9, tzinfo=jst) if late else dt.datetime(year + 1, 5, 10 + order, 9, tzinfo=jst)
    return day.timestamp()


def write_broken(catalogue: Catalogue, inbox: Path, stamp: int) -> Path:
    """A deliberately broken return: text in 実績値 and a year outside the plan."""
    from openpyxl import load_workbook

    path = inbox / BROKEN_DEPARTMENT / BROKEN_NAME
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
    """Confirm every department's earlier years, as the DX office would have, so the demo shows both states (the
    computed KPIs' owners with them, and so the survey counts of those years)."""
    for year in CONFIRMED_YEARS:
        confirm(settings, year, None, by="DX推進課(デモ)", note=SAMPLE_NOTE, allow_missing=True, allow_provisional=True)


MAIL_OFF = "デモではメールを送りません"


def without_mail(settings: Settings) -> Settings:
    """The demo's settings: mail off, whatever [mail] says. Its sample returns are filed under the catalogue's
    departments and local governments, whose addresses may be real; none of them is to hear about a sample."""
    return dataclasses.replace(settings, mail=Mail())


class DemoRefused(Exception):
    """The demo's inbox or warehouse holds something the demo did not make: it never overwrites it."""


def prepare(settings: Settings, catalogue: Catalogue, fresh: bool = False) -> list[Path]:
    """Start the demo afresh (an earlier demo's warehouse, archive and inbox removed) and write its sample inbox;
    refuse (DemoRefused) a warehouse or inbox that an earlier demo did not make."""
    marker = settings.warehouse.with_name(settings.warehouse.name + ".demo")
    if not marker.exists():
        if settings.warehouse.exists():
            raise DemoRefused(f"{settings.warehouse} には実データがあります。デモは --warehouse で別のファイルを指定してください。")
        if settings.inbox.exists() and any(not p.name.startswith(".") for p in settings.inbox.iterdir()):
            raise DemoRefused(f"{settings.inbox} には既にファイルがあります。デモは --inbox で空のフォルダを指定してください。")
    if settings.warehouse.exists() or fresh:
        # an earlier demo: start again from nothing so the demo always shows the same thing
        settings.warehouse.unlink(missing_ok=True)
        shutil.rmtree(settings.archive_dir, ignore_errors=True)
        for folder in (*catalogue.departments, *(g.name for g in catalogue.local_governments)):
            shutil.rmtree(settings.inbox / folder, ignore_errors=True)
        shutil.rmtree(settings.inbox / "rejected", ignore_errors=True)
    files = write_demo_inbox(catalogue, settings.inbox)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("このウェアハウスは shinchoku demo が作成したサンプルです。\n", encoding="utf-8")
    return files


# The two samples the demo breaks on purpose, (folder, file name): a department's return and a survey sheet.
BROKEN_SAMPLES = {(BROKEN_DEPARTMENT, BROKEN_NAME), (SURVEY_BROKEN, survey_file_name(SURVEY_BROKEN, YEARS[-1]))}


def conclude(settings: Settings, summary, say=print) -> int:
    """After the demo's run: confirm the earlier years, build the site, tell whether the two broken samples were
    rejected as meant, and show example queries; return the exit status."""
    confirm_past_years(settings)
    say(f"{CONFIRMED_YEARS[0]}〜{CONFIRMED_YEARS[-1]}年度は確定済みにしました(shinchoku confirm)。"
        f"{CONFIRMED_YEARS[-1] + 1}年度は未確定です(shinchoku review で確認できます)。")
    if settings.site_build:
        for line in rebuild(settings):
            say(line)
    rejected = [(Path(d.candidate.path).parent.name, Path(d.candidate.path).name)
                for d in summary.decisions if d.status == "rejected"]
    if sorted(rejected) == sorted(BROKEN_SAMPLES):
        say(f"誤りのあるサンプル2件(報告様式1件と{SURVEY_BROKEN}の調査票1件)は想定どおり差し戻されました"
            "(エラー箇所つきのコピーを各フォルダの rejected/ に置きました)。")
        code = 0
    else:
        code = summary.exit_code
    say("")
    say(demo_queries(settings.warehouse))
    return code


def demo_queries(warehouse: Path) -> str:
    """Three example queries on the demo's warehouse, with their results and the commands to run them."""
    shown = os.path.relpath(warehouse) if warehouse.is_relative_to(Path.cwd()) else str(warehouse)
    q1 = ("select k.kpi_id, k.name, l.latest_fy, l.actual_value, round(l.progress_rate, 3) as progress_rate, "
          "l.grade, l.status from kpi_latest l join kpis k using (kpi_id) order by k.area_id, kpi_id")
    q2 = "select * from kpi_progress where kpi_id = 'GOV-K02' order by fiscal_year"
    q3 = ("select kpi_id, latest_fy, points, round(trend_per_year, 3) as trend_per_year, "
          "round(projected_at_target, 3) as projected_at_target, projected_reach_fy, round(pace_ratio, 3) as pace_ratio, "
          "outlook from kpi_outlook order by kpi_id")
    (h1, r1), (h2, r2), (h3, r3) = _read(warehouse, q1, q2, q3)
    out = [f"ウェアハウス: {shown}", "", "例1: 指標ごとの現況(kpi_latest)",
           f"  uvx --from duckdb-cli duckdb -readonly {shown} \"{q1}\"", ""]
    out.append(table(h1, [[_fmt(v) for v in r] for r in r1]))
    out += ["", "例2: コピー用紙購入量の年度別進捗(kpi_progress)",
            f"  uvx --from duckdb-cli duckdb -readonly {shown} \"{q2}\"", ""]
    out.append(table(h2, [[_fmt(v) for v in r] for r in r2]))
    out += ["", "例3: 見通し(kpi_outlook)。要因分析・今後の方向性は kpi_explanations、報告書は shinchoku report",
            f"  uvx --from duckdb-cli duckdb -readonly {shown} \"{q3}\"", ""]
    out.append(table(h3, [[_fmt(v) for v in r] for r in r3]))
    out += ["", "Python からは: duckdb.connect(\"%s\", read_only=True).sql(\"select * from kpi_latest\").show()" % shown]
    return "\n".join(out)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def _read(warehouse: Path, *queries: str) -> list[tuple[list[str], list[tuple]]]:
    """(column names, rows) of each query on the published warehouse, opened read-only."""
    from .. import database  # only when the demo shows its queries: bench and tests import this module for its samples

    con = database.connect(warehouse)
    try:
        results = []
        for sql in queries:
            cur = con.execute(sql)
            results.append(([d[0] for d in cur.description], cur.fetchall()))
        return results
    finally:
        con.close()

