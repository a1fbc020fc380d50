"""A warehouse with realistic data for tests that need every kind of row: the demo's returns, confirmed
years, revisions of the plan, and the corrections that leave superseded versions behind."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

from helpers import drop, make_catalogue
from shinchoku.catalogue import load_catalogue
from shinchoku.settings import load_settings
from shinchoku.run.confirm import confirm, reopen
from shinchoku.run.demo import confirm_past_years, expected_in, sample_outcomes, sample_value, write_demo_inbox
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_outcomes, fill_template, write_template

# (item_id, field, new_value, effective_fy): a raised target, a baseline the seed lost, a target year it lacked
REVISIONS = [("IND-K01", "target_value", "10", 2025), ("GOV-K01", "target_value", "90.0", 2024),
             ("REC-K01", "baseline_value", "80.0", 2024), ("HLT-K02", "target_fy", "2026", 2023)]


def revised_catalogue(base: Path, revisions: list[tuple[str, str, str, int]] = REVISIONS):
    """The project's catalogue copied under ``base``, with revisions (item_id, field, new_value, effective_fy)
    appended."""
    return load_catalogue(make_catalogue(base, [
        {"item_id": item, "field": field, "new_value": value, "effective_fy": fy, "source": "資料"}
        for item, field, value, fy in revisions]))


def _correction(catalogue, settings, base: Path, department: str, year: int, name: str, *, shift: float,
                mid_year: bool = False, explain: bool = True) -> Path:
    """A corrected return for (department, year): every value moved by ``shift``, one a mid-year value."""
    rng = random.Random(year)
    kpis = [k for k in catalogue.kpis_of(department) if expected_in(k, year, catalogue.last_year)]
    values = {k.kpi_id: round(sample_value(k, year, rng) + shift, 1) for k in kpis}
    as_of = {kpis[0].kpi_id: f"{year + 1}/2/28"} if mid_year and kpis else {}
    explanations = {k: ("訂正に伴い要因分析を更新(テスト)", None) for k in list(values)[:1]} if explain else {}
    path = write_template(catalogue, department, year, base / "corrections" / name)
    fill_template(path, values, as_of=as_of, explanations=explanations)
    fill_outcomes(path, sample_outcomes(catalogue, department, year, rng))
    return drop(settings, path, department, name)


def realistic_warehouse(base: Path) -> Path:
    """The demo's returns under a revised plan, its past years confirmed, then a second run of corrections: a
    resubmitted open year (superseded values, texts and outcomes, a mid-year value), a reopened year corrected and
    confirmed again, a change to a confirmed year (rejected) and a copy of an accepted file (duplicate)."""
    catalogue = revised_catalogue(base)
    settings = dataclasses.replace(
        load_settings(inbox=base / "inbox", warehouse=base / "warehouse" / "shinchoku.duckdb", settle_seconds=0,
                      config_file=base / "none.toml", env={}), site_build=False)
    # the survey sheets come in as raw rows (add_surveys, with a superseded one): the demo's 238 would double its time
    written = write_demo_inbox(catalogue, settings.inbox, surveys=False)
    kept = base / "kept.xlsx"
    shutil.copyfile(written[0], kept)
    run_ingest(settings, catalogue)
    confirm_past_years(settings)

    _correction(catalogue, settings, base, "企画調整部", 2024, "R6_訂正.xlsx", shift=1.0, mid_year=True)
    _correction(catalogue, settings, base, "総務部", 2024, "R6_訂正.xlsx", shift=-0.5, explain=False)
    reopen(settings, 2022, "商工労働部", "値の誤りの訂正", by="DX推進課(テスト)")
    _correction(catalogue, settings, base, "商工労働部", 2022, "R4_訂正.xlsx", shift=2.0)
    _correction(catalogue, settings, base, "教育庁", 2023, "R5_訂正.xlsx", shift=3.0)  # confirmed: rejected
    drop(settings, kept, written[0].parent.name, "再送.xlsx")
    run_ingest(settings, catalogue)
    confirm(settings, 2022, ["商工労働部"], by="DX推進課(テスト)", allow_missing=True, allow_provisional=True)
    add_surveys(settings.warehouse)
    return settings.warehouse


# (local government, received_at, [(kpi_id, component_id, fiscal_year, count)]): survey sheets put straight into the raw
# tables (the survey ingest is its own step): two units of each computed KPI, one sheet resubmitted (superseded counts)
SURVEYS = [
    ("072036", "2025-05-01 09:00", [("GOV-K01", "online", 2024, 60000), ("GOV-K01", "total", 2024, 100000),
                                    ("EDU-K01", "ict_teachers", 2024, 700), ("EDU-K01", "teachers", 2024, 1000)]),
    ("073644", "2025-05-02 09:00", [("GOV-K01", "online", 2024, 10), ("GOV-K01", "total", 2024, 100),
                                    ("EDU-K01", "ict_teachers", 2024, 5), ("EDU-K01", "teachers", 2024, 10)]),
    ("072036", "2025-05-20 09:00", [("GOV-K01", "online", 2024, 61000), ("GOV-K01", "total", 2024, 100000)]),
]


def add_surveys(warehouse: Path) -> None:
    """Local governments' survey sheets, as accepted submissions with their component counts."""
    from shinchoku import database

    con = database.connect(warehouse, read_only=False)
    try:
        first = con.execute("select coalesce(max(submission_id), 0) + 1 from raw_submissions").fetchone()[0]
        names = dict(con.execute("select code, name from ref_local_governments").fetchall())
        for n, (code, received, counts) in enumerate(SURVEYS):
            sid = first + n
            con.execute("insert into raw_submissions (submission_id, department, local_government, file_name, sha256, "
                        "received_at, ingested_at, status, error_count, warning_count) "
                        "values (?, ?, ?, '調査票.xlsx', ?, ?, ?, 'accepted', 0, 0)",
                        [sid, names[code], code, f"survey{n}", received, received])
            con.executemany("insert into raw_component_counts (submission_id, local_government, kpi_id, component_id, "
                            "fiscal_year, as_of, count, source_sheet, source_cell) "
                            "values (?, ?, ?, ?, ?, ?, ?, '調査票', ?)",
                            [(sid, code, k, c, fy, f"{fy + 1}-03-31", v, f"E{7 + i}")
                             for i, (k, c, fy, v) in enumerate(counts)])
    finally:
        con.close()
