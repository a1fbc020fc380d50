"""Expected-output tests for the progress views: input rows in, expected rows out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest

from shinchoku.run import warehouse as wh
from shinchoku.catalogue import Area, Catalogue, Kpi
from shinchoku.config import GradeBand, Grading, Settings
from warehouses import revised_catalogue

AREA = Area("GOV", "行政のDX", "行政のDX", 1, "")


def kpi(kpi_id, direction, b, b_fy, t, t_fy, unit="件"):
    return Kpi(kpi_id, "GOV", None, kpi_id, unit, direction, b, 0, b_fy, t, 0, t_fy, "総務部", "")


KPIS = (
    kpi("PAPER", "decrease", 40, 2020, 12, 2025, "百万枚"),  # the seed's copy-paper KPI
    kpi("ONLINE", "increase", 48.2, 2021, 80.0, 2025, "%"),
    kpi("NOBASE", "increase", None, 2021, 146.1, 2025, "万件"),
    kpi("NOYEAR", "increase", 48441, 2020, 98441, None),
    kpi("SILENT", "increase", 1, 2020, 2, 2025),
)

# (submission_id, status, received_at)
SUBMISSIONS = [
    (1, "accepted", dt.datetime(2023, 5, 1, 9)),
    (2, "accepted", dt.datetime(2023, 6, 1, 9)),
    (3, "rejected", dt.datetime(2023, 6, 2, 9)),
]
# (submission_id, kpi_id, fiscal_year, as_of, actual_value)
OBSERVATIONS = [
    (1, "PAPER", 2022, dt.date(2023, 3, 31), 31.0),     # superseded by submission 2
    (2, "PAPER", 2022, dt.date(2023, 3, 31), 30.0),
    (1, "ONLINE", 2021, dt.date(2022, 3, 31), 48.2),     # the baseline year: no pace, no grade
    (1, "ONLINE", 2023, dt.date(2023, 9, 30), 52.0),     # a mid-year value ...
    (1, "ONLINE", 2023, dt.date(2024, 2, 29), 60.0),     # ... the latest 時点 counts
    (1, "ONLINE", 2026, dt.date(2027, 3, 31), 78.0),     # beyond the target year: expected = target
    (1, "NOBASE", 2023, dt.date(2024, 3, 31), 150.0),    # unknown baseline, but the target is reached
    (1, "NOYEAR", 2022, dt.date(2023, 3, 31), 60000.0),  # unknown target year: no trajectory
]


def build(settings: Settings = Settings()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    catalogue = Catalogue((AREA,), (), KPIS, True)
    wh.build(con, catalogue, settings)
    con.executemany(
        "insert into raw_submissions (submission_id, department, file_name, sha256, received_at, status, error_count, warning_count) "
        "values (?, '総務部', 'f.xlsx', 'x', ?, ?, 0, 0)", [(i, r, s) for i, s, r in SUBMISSIONS])
    con.execute("update raw_submissions set error_count = 1 where status = 'rejected'")
    con.executemany("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) values (?, ?, ?, ?, ?)",
                    [o for o in OBSERVATIONS if o[0] != 3])
    return con


def rows(con, sql):
    return [tuple(round(v, 3) if isinstance(v, float) else v for v in r) for r in con.execute(sql).fetchall()]


def test_kpi_progress():
    con = build()
    got = rows(con, "select kpi_id, fiscal_year, actual_value, expected_value, progress_rate, pace_rate, grade "
                    "from kpi_progress order by kpi_id, fiscal_year")
    assert got == [
        ("NOBASE", 2023, 150.0, None, None, None, "A"),
        ("NOYEAR", 2022, 60000.0, None, 0.231, None, None),  # (60000 - 48441) / 50000
        ("ONLINE", 2021, 48.2, 48.2, 0.0, None, None),
        ("ONLINE", 2023, 60.0, 64.1, 0.371, 0.742, "C"),
        ("ONLINE", 2026, 78.0, 80.0, 0.937, 0.937, "B"),
        # the worked example: 40 (FY2020) -> 12 (FY2025), 30 in FY2022, a decreasing KPI with no special case
        ("PAPER", 2022, 30.0, 28.8, 0.357, 0.893, "B"),
    ]


def test_decreasing_kpi_formulas_hold_as_written():
    con = build()
    actual, expected, progress, pace = con.execute(
        "select actual_value, expected_value, progress_rate, pace_rate from kpi_progress where kpi_id = 'PAPER'").fetchone()
    b, b_fy, t, t_fy, y = 40, 2020, 12, 2025, 2022
    assert expected == pytest.approx(b + (t - b) * (y - b_fy) / (t_fy - b_fy))
    assert progress == pytest.approx((actual - b) / (t - b))
    assert pace == pytest.approx((actual - b) / (expected - b))


def test_kpi_latest_has_every_kpi():
    con = build()
    got = rows(con, "select kpi_id, latest_fy, actual_value, grade, status from kpi_latest order by kpi_id")
    assert got == [
        ("NOBASE", 2023, 150.0, "A", "目標達成"),
        ("NOYEAR", 2022, 60000.0, None, "評価不能(目標年度不明)"),
        ("ONLINE", 2026, 78.0, "B", "おおむね順調"),
        ("PAPER", 2022, 30.0, "B", "おおむね順調"),
        ("SILENT", None, None, None, "実績未報告"),
    ]


FOUR_GRADES = dataclasses.replace(
    Settings(), grade_bands=(GradeBand("S", 1.2, "極めて順調"), GradeBand("A", 0.9, "順調"), GradeBand("B", 0.7, "要注意")),
    grade_floor="C", floor_label="要対策")


def test_grade_bands_are_configuration():
    con = build(FOUR_GRADES)
    got = dict(con.execute("select fiscal_year, grade from kpi_progress where kpi_id = 'ONLINE' and pace_rate is not null").fetchall())
    assert got == {2023: "B", 2026: "A"}
    # reaching the target earns the best band, whatever it is called
    assert con.execute("select grade from kpi_progress where kpi_id = 'NOBASE'").fetchone() == ("S",)
    assert rows(con, "select kpi_id, grade, status from kpi_latest where grade is not null order by kpi_id") == [
        ("NOBASE", "S", "目標達成"), ("ONLINE", "A", "順調"), ("PAPER", "B", "要注意")]
    assert rows(con, "select grade, min_pace, label, grade_rank, is_floor from grade_bands order by grade_rank") == [
        ("S", 1.2, "極めて順調", 1, False), ("A", 0.9, "順調", 2, False), ("B", 0.7, "要注意", 3, False),
        ("C", None, "要対策", 4, True)]


def test_a_fourth_band_gets_its_own_label_and_the_floor_its_own():
    """Labels come from configuration, never from a position in a fixed list."""
    five = dataclasses.replace(FOUR_GRADES, grade_bands=(*FOUR_GRADES.grade_bands, GradeBand("B-", 0.5, "遅れ気味")),
                               grade_floor="D", floor_label="大幅な遅れ")
    con = build(five)
    assert rows(con, "select grade, label from grade_bands order by grade_rank") == [
        ("S", "極めて順調"), ("A", "順調"), ("B", "要注意"), ("B-", "遅れ気味"), ("D", "大幅な遅れ")]
    assert rows(con, "select status from kpi_latest where kpi_id = 'PAPER'") == [("要注意",)]


def test_observation_history_keeps_every_version():
    con = build()
    got = rows(con, "select fiscal_year, actual_value, submission_id, version, valid_from, valid_to "
                    "from observation_history where kpi_id = 'PAPER' order by version")
    assert got == [
        (2022, 31.0, 1, 1, dt.datetime(2023, 5, 1, 9), dt.datetime(2023, 6, 1, 9)),
        (2022, 30.0, 2, 2, dt.datetime(2023, 6, 1, 9), None),
    ]


def test_views_carry_japanese_comments():
    con = build()
    missing = con.execute("""
        select c.table_name, c.column_name from duckdb_columns() c
        join duckdb_views() v on v.view_name = c.table_name and not v.internal
        where c.comment is null or c.comment = ''""").fetchall()
    assert missing == []
    views = con.execute("select view_name, comment from duckdb_views() where not internal").fetchall()
    assert {v for v, _ in views} >= {"kpis", "kpi_progress", "kpi_latest", "submissions", "validation_issues",
                                     "observation_history", "submission_status", "kpi_outlook", "kpi_explanations",
                                     "kpi_year_outlook", "outlooks", "area_counts"}
    # one view per file, each counted; the rules views share are macros, in the one file without a view
    files = [f for f in wh.views_dir().glob("*.sql") if "create or replace view" in f.read_text(encoding="utf-8")]
    assert len(views) == len(files) == len(list(wh.views_dir().glob("*.sql"))) - 1
    assert all(c and any("\u3040" <= ch <= "\u9fff" for ch in c) for _, c in views)


def test_audits_pass_and_catch_an_orphan():
    con = build()
    wh.run_audits(con)
    con.execute("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) "
                "values (99, 'PAPER', 2023, '2024-03-31', 20)")
    with pytest.raises(wh.AuditError, match="observation without accepted submission"):
        wh.run_audits(con)


def test_kpi_year_status_is_the_latest_actual_up_to_each_year():
    con = build()
    got = rows(con, "select report_fy, kpi_id, fiscal_year, actual_value, grade, reported_this_year "
                    "from kpi_year_status where report_fy in (2022, 2024, 2026) order by report_fy, kpi_id")
    assert got == [
        (2022, "NOBASE", None, None, None, None),
        (2022, "NOYEAR", 2022, 60000.0, None, True),
        (2022, "ONLINE", 2021, 48.2, None, False),
        (2022, "PAPER", 2022, 30.0, "B", True),
        (2022, "SILENT", None, None, None, None),
        (2024, "NOBASE", 2023, 150.0, "A", False),
        (2024, "NOYEAR", 2022, 60000.0, None, False),
        (2024, "ONLINE", 2023, 60.0, "C", False),  # FY2023's latest 時点, carried into FY2024
        (2024, "PAPER", 2022, 30.0, "B", False),
        (2024, "SILENT", None, None, None, None),
        (2026, "NOBASE", 2023, 150.0, "A", False),
        (2026, "NOYEAR", 2022, 60000.0, None, False),
        (2026, "ONLINE", 2026, 78.0, "B", True),  # a year beyond the plan's last is a report year too
        (2026, "PAPER", 2022, 30.0, "B", False),
        (2026, "SILENT", None, None, None, None),
    ]


def test_area_counts_count_every_grade_including_zero():
    con = build(FOUR_GRADES)
    got = rows(con, "select area, class, class_rank, kpis from area_counts where report_fy = 2024 and measure = '評価' "
                    "order by class_rank")
    assert got == [("行政のDX", "S", 1, 1), ("行政のDX", "A", 2, 0), ("行政のDX", "B", 3, 2), ("行政のDX", "C", 4, 0),
                   ("行政のDX", "評価不能", 5, 2)]


def test_data_quality_lists_warnings_of_accepted_returns_only():
    con = build()
    con.execute("update raw_submissions set declared_fiscal_year = 2022 where submission_id = 1")
    con.executemany("insert into raw_validation_issues (submission_id, sheet, cell, kpi_id, severity, code, message) "
                    "values (?, '実績報告', ?, 'PAPER', ?, ?, 'm')",
                    [(1, "E7", "warning", "approximate_value"), (2, "E8", "warning", "suspicious_value"),
                     (3, "E9", "warning", "approximate_value"), (1, "E10", "error", "value_not_number")])
    assert rows(con, "select fiscal_year, submission_id, cell, code from data_quality order by submission_id, cell") == [
        (2022, 1, "E7", "approximate_value"), (None, 2, "E8", "suspicious_value")]


# --- grades at the band boundaries: exact decimal arithmetic, in the views and in the one-file rule ---

BOUNDARY_KPIS = (
    kpi("GOV-K01", "increase", 48.2, 2021, 80.0, 2025, "%"),      # the seed's online-use rate
    kpi("GOV-K02", "decrease", 40, 2020, 12, 2025, "百万枚"),     # copy paper: lower is better
    kpi("SAF-K02", "increase", 10000, 2021, 100000, 2025, "ダウンロード"),
    kpi("EDU-K01", "increase", 65.3, 2020, 85, 2025, "%"),
)


def build_with(kpis, observations: list[tuple[str, int, float]], settings: Settings = Settings()):
    """A warehouse with these KPIs (or this catalogue) and one accepted submission holding (kpi_id, fiscal_year,
    value) rows."""
    con = duckdb.connect()
    wh.build(con, kpis if isinstance(kpis, Catalogue) else Catalogue((AREA,), (), tuple(kpis), True), settings)
    con.execute("insert into raw_submissions (submission_id, department, file_name, sha256, received_at, status, "
                "error_count, warning_count) values (1, '総務部', 'f.xlsx', 'x', '2026-05-01 09:00', 'accepted', 0, 0)")
    if observations:
        con.executemany("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) "
                        "values (1, ?, ?, ?, ?)", [(k, y, dt.date(y + 1, 3, 31), v) for k, y, v in observations])
    return con


def exact_grade(k, year: int, written: str, bands=((1, "A"), (Fraction(4, 5), "B"), (Fraction(1, 2), "C"))) -> str | None:
    """The grade by exact rational arithmetic on the figures as written (the test's own oracle)."""
    d = lambda x: Fraction(Decimal(str(x)))  # noqa: E731
    a, b, t = d(written), d(k.baseline_value), d(k.target_value)
    if (a <= t) if k.direction == "decrease" else (a >= t):
        return "A"
    if year <= k.baseline_fy:
        return None
    expected = t if year >= k.target_fy else b + (t - b) * (year - k.baseline_fy) / (k.target_fy - k.baseline_fy)
    pace = (a - b) / (expected - b)
    return next((g for m, g in bands if pace >= m), "D")


def boundary_rows() -> list[tuple[str, int, str]]:
    """For each KPI and a few years: the value exactly at each band's bound, and 0.001 either side of it."""
    rows = []
    for k in BOUNDARY_KPIS:
        b, t = Decimal(str(k.baseline_value)), Decimal(str(k.target_value))
        for year in range(k.baseline_fy + 1, k.target_fy + 2):
            share = Decimal(min(year, k.target_fy) - k.baseline_fy) / Decimal(k.target_fy - k.baseline_fy)
            expected = b + (t - b) * share
            for m in (Decimal(1), Decimal("0.8"), Decimal("0.5")):
                at = b + m * (expected - b)
                if at != at.quantize(Decimal("0.001")):
                    continue  # only figures a department could write (three decimals at most)
                for v in (at - Decimal("0.001"), at, at + Decimal("0.001")):
                    rows.append((k.kpi_id, year, format(v.normalize(), "f")))
    return rows


def test_grades_at_every_band_boundary_are_exact_and_the_one_file_rule_agrees():
    rows = boundary_rows()
    by_id = {k.kpi_id: k for k in BOUNDARY_KPIS}
    # the cases of the issue: 35.52 is exactly 0.8 of the way (B), 56.15 exactly on the trajectory (A)
    assert ("GOV-K02", 2021, "35.52") in rows and ("GOV-K01", 2022, "56.15") in rows
    grading = Grading()
    # one warehouse, each row a KPI of its own (a copy of its KPI), so kpi_progress holds every row
    copies = {f"{kpi_id}#{n}": (by_id[kpi_id], year, written) for n, (kpi_id, year, written) in enumerate(rows)}
    con = build_with([dataclasses.replace(k, kpi_id=c) for c, (k, _, _) in copies.items()],
                     [(c, year, float(written)) for c, (_, year, written) in copies.items()])
    got = {r[0]: r[1:] for r in con.execute("select kpi_id, grade, pace_rate, reached_target from kpi_progress").fetchall()}
    checked = 0
    for copy, (k, year, written) in copies.items():
        grade, pace, reached = got[copy]
        assert grade == exact_grade(k, year, written), (k.kpi_id, year, written, pace)
        value = float(written)
        assert grading.grade(k.pace(year, value), k.reached(value)) == grade, (k.kpi_id, year, written)
        assert grading.behind(k.pace(year, value), k.reached(value)) == (grade in ("C", "D")), (k.kpi_id, year, written)
        assert reached == k.reached(value)
        checked += 1
    assert checked >= 60
    assert exact_grade(by_id["GOV-K02"], 2021, "35.52") == "B" and exact_grade(by_id["GOV-K01"], 2022, "56.15") == "A"


# --- one 目標達成, and past report years as the plan stood then (the seed's catalogue with revisions) ---

def shipped_catalogue():
    """The project's own catalogue, as shipped."""
    from shinchoku.catalogue import load_catalogue
    from shinchoku.config import ROOT

    return load_catalogue(ROOT / "catalogue")


def test_one_target_reached_under_a_raised_target(tmp_path):
    catalogue = revised_catalogue(tmp_path, [("IND-K01", "target_value", "10", 2025),
                                             ("GOV-K01", "target_value", "90.0", 2024)])
    con = build_with(catalogue, [("IND-K01", 2022, 4), ("IND-K01", 2023, 6), ("IND-K01", 2024, 8),
                                      ("GOV-K01", 2021, 80.5)])
    con.execute("delete from ref_kpis where kpi_id not in ('IND-K01', 'GOV-K01')")
    # IND-K01 reached 8 in FY2024, when 8 was its target: reached in kpi_latest, kpi_outlook and every later report year
    assert rows(con, "select kpi_id, latest_fy, grade, status from kpi_latest order by kpi_id") == [
        ("GOV-K01", 2021, "A", "目標達成"), ("IND-K01", 2024, "A", "目標達成")]
    assert rows(con, "select kpi_id, latest_fy, outlook, projected_reach_fy from kpi_outlook order by kpi_id") == [
        ("GOV-K01", 2021, "目標達成", 2021), ("IND-K01", 2024, "目標達成", 2024)]
    assert rows(con, "select report_fy, outlook, definition_fy, target_value from kpi_year_outlook "
                     "where kpi_id = 'IND-K01' and report_fy >= 2023 order by report_fy") == [
        (2023, "達成見込み", 2023, 8.0), (2024, "目標達成", 2024, 8.0), (2025, "目標達成", 2024, 8.0)]
    # GOV-K01 reached 80.0, its target in force in FY2021, before it was raised to 90.0 from FY2024
    assert rows(con, "select report_fy, outlook, target_value from kpi_year_outlook "
                     "where kpi_id = 'GOV-K01' and report_fy in (2021, 2024) order by report_fy") == [
        (2021, "目標達成", 80.0), (2024, "目標達成", 80.0)]


def test_a_past_report_year_ignores_revisions_effective_later(tmp_path):
    # the portal's PV baseline, lost in the seed, is supplied from FY2024 only
    catalogue = revised_catalogue(tmp_path, [("REC-K01", "baseline_value", "80.0", 2024)])
    con = build_with(catalogue, [("REC-K01", 2022, 100.0), ("REC-K01", 2023, 112.7), ("REC-K01", 2024, 131.9)])
    got = rows(con, "select report_fy, latest_fy, points, outlook, definition_fy from kpi_year_outlook "
                    "where kpi_id = 'REC-K01' and report_fy between 2022 and 2024 order by report_fy")
    assert got[:2] == [(2022, 2022, 1, "評価不能", 2022), (2023, 2023, 2, "評価不能", 2023)]  # no baseline point
    assert got[2][:2] == (2024, 2024) and got[2][3] != "評価不能"  # from FY2024 the baseline is known
    assert rows(con, "select fiscal_year, grade from kpi_progress where kpi_id = 'REC-K01' order by 1") == [
        (2022, None), (2023, None), (2024, "A")]
    assert rows(con, "select status from kpi_latest where kpi_id = 'REC-K01'") == [("順調",)]
    con.execute("delete from raw_observations where fiscal_year = 2024")
    assert rows(con, "select status from kpi_latest where kpi_id = 'REC-K01'") == [("評価不能(基準値不明)",)]


# --- each shared rule written once, as a macro in 005_macros.sql; the Python that applies one is held to it ---

MACROS = "005_macros.sql"
# each rule's expression, as a pattern: it appears in the macros file and in no view
RULES = {
    "reached the target": r"direction\s*=\s*'decrease'",
    "the fiscal year's end": r"\b3\s*,\s*31\b|month\s*\(",
    "the versions of a key (SCD type 2)": r"\blead\s*\(|\bover\s+by_key\b",
    "accepted submissions": r"status\s*=\s*'accepted'",
    "a sheet!cell reference": r"'!'",
    "the standing confirmation": r"max\s*\(\s*(\w+\.)?confirmation_id\s*\)",
    "what a municipality is": r"'市'\s*,\s*'町'",
    "a computed KPI's value from its sums": r"nullif\s*\(\s*(\w+\.)?denominator",
}


def view_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(wh.views_dir().glob("*.sql"))}


def view_names() -> set[str]:
    import re

    return {m for text in view_files().values() for m in re.findall(r"create or replace view (\w+)", text)}


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_is_written_once_in_the_macros(rule):
    import re

    found = {name for name, text in view_files().items() if re.search(RULES[rule], text, re.I)}
    assert found == {MACROS}, rule


def test_every_macro_is_used_by_a_view_or_another_macro():
    import re

    macros = re.findall(r"create or replace macro (\w+)", view_files()[MACROS])
    sql = "\n".join(view_files().values())
    assert [m for m in macros if len(re.findall(rf"\b{m}\s*\(", sql)) < 2] == []  # more than its definition


def test_views_read_configuration_in_import_ctes_and_end_unordered_with_final():
    import re

    import_cte = re.compile(r"^(with\s+)?\w+ as \(select \* from cfg_\w+\),?$")
    names = view_names()
    for name, text in view_files().items():
        body = "\n".join(line for line in text.splitlines() if not line.startswith(("--", "comment on")))
        # configuration (cfg_*) only in an import CTE, never in a subquery inside logic or a macro
        assert all(import_cte.match(line.strip()) for line in body.splitlines() if "cfg_" in line), name
        if name == MACROS:
            continue
        # the jaffle_shop shape, and no ORDER BY: consumers order (views nest several deep)
        statement = body.strip()
        assert statement.endswith("select * from final;"), name
        assert not re.search(r"^\s*order by", statement, re.M | re.I), name
        # no CTE named like a view: a reader of the SQL must know which one a name means
        ctes = re.findall(r"^(?:with\s+)?(\w+) as \(", statement, re.M)
        assert ctes and not set(ctes) & names, (name, set(ctes) & names)


def test_python_fiscal_year_end_is_the_macros():
    from shinchoku.workbook.parse import fiscal_year_end
    from shinchoku.documents.facts import provisional_mark

    con = build()
    years = list(range(1989, 2101))
    got = dict(con.execute("select y, fiscal_year_end(y) from unnest(?::integer[]) as t (y)", [years]).fetchall())
    assert got == {y: fiscal_year_end(y) for y in years}
    # every day of nine years falls in the fiscal year whose end is the first on or after it
    days = con.execute("select d::date, fiscal_year_of(d::date) from range(date '2019-01-01', date '2028-01-01', "
                       "interval 1 day) as t (d)").fetchall()
    assert len(days) > 3000
    assert all(fiscal_year_end(fy - 1) < day <= fiscal_year_end(fy) for day, fy in days)
    # the report marks a 時点 exactly when it is not the fiscal year's end
    assert provisional_mark({"as_of": fiscal_year_end(2022), "fiscal_year": 2022}) == ""
    assert provisional_mark({"as_of": dt.date(2023, 2, 28), "fiscal_year": 2022}) == "(2023/2/28時点)"
    assert provisional_mark({"as_of": fiscal_year_end(2021), "fiscal_year": 2022}) == "(2022/3/31時点)"


def test_python_sheet_cell_reference_is_the_macros():
    from shinchoku.workbook.messages import Issue

    cases = [("実績報告", "E7"), ("取組実績", "C12"), ("Sheet 1", "AA100")]
    con = build()
    got = [con.execute("select cell_ref(?, ?)", [s, c]).fetchone()[0] for s, c in cases]
    assert got == [Issue("value_not_number", s, c).location() for s, c in cases] == ["実績報告!E7", "取組実績!C12",
                                                                                     "Sheet 1!AA100"]


def test_python_standing_confirmation_is_the_macros():
    """confirm.confirmed_periods reads a warehouse before its views exist; it answers as standing_confirmations()."""
    from shinchoku.run.confirm import confirmed_periods

    # (confirmation_id, department, fiscal_year, reopened)
    cases = [(1, "A", 2021, False),                              # confirmed: stands
             (2, "A", 2022, True),                               # reopened: nothing stands
             (3, "A", 2023, True), (4, "A", 2023, False),        # reopened, confirmed again: the second stands
             (5, "B", 2022, False), (6, "B", 2022, False),       # confirmed twice: the latest stands
             (7, "B", 2023, False), (8, "B", 2023, True),        # the latest reopened: the earlier does not stand
             (9, "C", 2022, True), (10, "C", 2022, True), (11, "C", 2022, False)]
    expected = {("A", 2021): 1, ("A", 2023): 4, ("B", 2022): 6, ("C", 2022): 11}
    con = build()
    con.executemany("insert into raw_confirmations (confirmation_id, department, fiscal_year, confirmed_at) "
                    "values (?, ?, ?, '2024-06-01 09:00')", [c[:3] for c in cases])
    con.executemany("insert into raw_reopenings (confirmation_id, reopened_at) values (?, '2024-06-02 09:00')",
                    [(c[0],) for c in cases if c[3]])
    python = {key: p.confirmation_id for key, p in confirmed_periods(con).items()}
    macro = {(d, fy): c for d, fy, c in con.execute(
        "select department, fiscal_year, confirmation_id from standing_confirmations()").fetchall()}
    view = {(d, fy): c for d, fy, c in con.execute(
        "select department, fiscal_year, confirmation_id from confirmations where is_standing").fetchall()}
    assert python == macro == view == expected


# --- every view's grain: the key it has one row per is unique and not null (dbt's unique and not_null) ---

# view: (key columns, those of them that may be NULL)
GRAIN = {
    "kpis": (("kpi_id",), ()),
    "kpi_definitions": (("kpi_id", "version"), ()),
    "kpi_revisions": (("revision_id", "item_id", "field"), ()),
    "grade_bands": (("grade",), ()),
    "submissions": (("submission_id",), ()),
    "validation_issues": (("submission_id", "sheet", "cell", "kpi_id", "code"), ("sheet", "cell", "kpi_id")),
    "confirmations": (("confirmation_id",), ()),
    "observation_history": (("kpi_id", "fiscal_year", "as_of", "version"), ()),
    "component_history": (("local_government", "kpi_id", "component_id", "fiscal_year", "as_of", "version"), ()),
    "kpi_reporters": (("kpi_id", "fiscal_year", "code"), ()),
    "local_government_values": (("kpi_id", "fiscal_year", "code"), ()),
    "kpi_aggregates": (("kpi_id", "fiscal_year", "scope_kind", "scope"), ()),
    "local_government_ranks": (("basis", "kpi_id", "fiscal_year", "code"), ()),
    "kpi_year_definitions": (("kpi_id", "fiscal_year"), ()),
    "kpi_trajectory": (("kpi_id", "fiscal_year"), ()),
    "kpi_definition_trajectory": (("kpi_id", "version", "fiscal_year"), ()),
    "kpi_progress": (("kpi_id", "fiscal_year"), ()),
    "kpi_latest": (("kpi_id",), ()),
    "kpi_year_status": (("report_fy", "kpi_id"), ()),
    "data_quality": (("submission_id", "sheet", "cell", "kpi_id", "code"), ("sheet", "cell", "kpi_id")),
    "outlooks": (("outlook",), ()),
    "kpi_year_outlook": (("report_fy", "kpi_id"), ()),
    "submission_status": (("unit_kind", "department", "fiscal_year"), ()),
    "kpi_outlook": (("kpi_id",), ()),
    "area_counts": (("report_fy", "area_id", "measure", "class"), ()),
    "local_governments": (("code",), ()),
    # a membership's first year is NULL from the plan's start; overlapping memberships are refused by the catalogue
    "local_government_groups": (("group_name", "code", "valid_from_fy"), ("valid_from_fy",)),
    # overlapping years of one KPI's rule, or of one component, are refused by the catalogue
    "computed_kpis": (("kpi_id", "valid_from_fy"), ()),
    "kpi_components": (("kpi_id", "component_id", "valid_from_fy"), ()),
    "initiatives": (("initiative_id",), ()),
    # a seed line has no submission; its row_order is unique among the seed's
    "initiative_outcomes": (("initiative_id", "fiscal_year", "submission_id", "row_order"), ("submission_id",)),
    "kpi_explanations": (("kpi_id", "fiscal_year", "version"), ()),
    "audit_log": (("event_id",), ()),
    "warehouse_fingerprint": (("fingerprint",), ()),
}


def contract_views() -> set[str]:
    """The views the analysts' page names the stable contract (docs/gen.py's list, which the page shows)."""
    import importlib.util

    from shinchoku.config import ROOT

    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "docs" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return set(gen.CONTRACT)


def test_every_view_has_a_grain_and_the_contract_is_among_them():
    from shinchoku.cli import EXPORTABLE_VIEWS

    assert set(GRAIN) == view_names()
    assert len(contract_views()) >= 17 and contract_views() <= set(GRAIN)
    assert set(EXPORTABLE_VIEWS) <= set(GRAIN)


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    from warehouses import realistic_warehouse

    return realistic_warehouse(tmp_path_factory.mktemp("realistic"))


@pytest.fixture(scope="module")
def grains(realistic):
    """For each view of a realistic warehouse: its rows, the duplicate keys and the rows with a NULL in the key."""
    from helpers import query_many

    queries = {}
    for view, (key, nullable) in GRAIN.items():
        columns = ", ".join(key)
        required = [c for c in key if c not in nullable]
        queries[view] = f"""
            select (select count(*) from {view}),
                   (select count(*) from (select {columns} from {view} group by all having count(*) > 1)),
                   (select count(*) from {view} where {' or '.join(f'{c} is null' for c in required)})"""
    # superseded versions and reopened confirmations exist, so the keys are tested where they could fail
    queries["superseded"] = """
        select (select count(*) from observation_history where valid_to is not null),
               (select count(*) from kpi_explanations where valid_to is not null),
               (select count(*) from initiative_outcomes where not is_current),
               (select count(*) from confirmations where reopened_at is not null),
               (select count(*) from kpi_definitions where version > 1),
               (select count(*) from component_history where valid_to is not null),
               (select count(*) from kpi_aggregates where units_reported > 0)"""
    queries["kpi_latest_missing"] = "select count(*), (select count(*) from ref_kpis) from " \
                                    "(select kpi_id from ref_kpis except select kpi_id from kpi_latest)"
    return {name: rows[0] for name, rows in query_many(realistic, queries).items()}


def test_the_realistic_warehouse_has_superseded_versions(grains):
    assert all(n > 0 for n in grains["superseded"]), grains["superseded"]


def test_kpi_latest_has_a_row_for_every_kpi_of_a_realistic_warehouse(grains):
    """Once a run's audit; the view's shape (ref_kpis left-joined) holds it, so it is tested here instead."""
    missing, kpis = grains["kpi_latest_missing"]
    assert kpis > 0 and missing == 0


@pytest.mark.parametrize("view", GRAIN)
def test_a_views_key_is_unique_and_not_null(view, grains):
    rows, duplicates, nulls = grains[view]
    assert rows > 0 and duplicates == 0 and nulls == 0, (view, GRAIN[view][0], grains[view])


def test_every_contract_view_is_a_view_file():
    """CONTRACT_VIEWS (what export offers, what the docs list) names views that exist, one file each."""
    from shinchoku.config import ROOT
    from shinchoku.documents.facts import CONTRACT_VIEWS

    files = {p.stem.split("_", 1)[1] for p in (ROOT / "warehouse" / "views").glob("*.sql")}
    assert set(CONTRACT_VIEWS) <= files


def test_local_governments_are_reference_views():
    """Issue 25.1: the catalogue's local governments and groups, as the warehouse shows them."""
    con = build_with(shipped_catalogue(), [])
    try:
        kinds = con.execute("select kind, count(*) from local_governments group by kind order by kind").fetchall()
        regions = con.execute("""select region, region_order, count(*) from local_governments where is_municipality
                                 group by all order by region_order""").fetchall()
        prefecture = con.execute("select code, name, region from local_governments where not is_municipality").fetchall()
        groups = con.execute("""select group_name, count(*), count(distinct region) from local_government_groups
                                group by group_name order by group_name""").fetchall()
    finally:
        con.close()
    assert dict(kinds) == {"県": 1, "市": 13, "町": 31, "村": 15}
    assert regions == [("県北", 1, 8), ("県中", 2, 12), ("県南", 3, 9), ("会津", 4, 13), ("南会津", 5, 4), ("相双", 6, 12),
                       ("いわき", 7, 1)]
    assert prefecture == [("070009", "福島県", None)]
    assert sorted(groups) == sorted([("避難地域12市町村", 12, 3), ("会津13市町村", 13, 1)])


def test_computed_kpis_and_their_components_are_reference_views():
    """Issue 25.2: the declarations as the warehouse shows them; nothing is computed from them yet."""
    con = build_with(shipped_catalogue(), [])
    try:
        rules = con.execute("""select kpi_id, kpi_unit, rule, factor, reporters, reporters_kind, valid_from_fy,
                                      valid_to_fy from computed_kpis order by kpi_id""").fetchall()
        components = con.execute("""select kpi_id, role_label, component_name, unit from kpi_components
                                    order by kpi_id, role_order""").fetchall()
    finally:
        con.close()
    assert rules == [("EDU-K01", "%", "ratio_of_sums", 100.0, "municipalities", "set", 2021, None),
                     ("GOV-K01", "%", "ratio_of_sums", 100.0, "prefecture_and_municipalities", "set", 2021, None)]
    assert [c[:2] for c in components] == [("EDU-K01", "分子"), ("EDU-K01", "分母"), ("GOV-K01", "分子"),
                                           ("GOV-K01", "分母")]
    assert components[2][2:] == ("オンラインで行われた件数", "件") and components[3][2:] == ("手続の総件数", "件")


SNAPSHOT_CHECK = """
import json, sys
from shinchoku import database
path = sys.argv[1]
plain = database.connect(path)
views = [v for (v,) in plain.execute("select view_name from duckdb_views() where not internal and schema_name = 'main'").fetchall()]
answers = {v: sorted(map(repr, plain.execute(f'select * from "{v}"').fetchall())) for v in views}
columns = {v: [d[0] for d in plain.execute(f'select * from "{v}" limit 0').description] for v in views}
plain.close()
taken = database.connect(path, snapshot=True)
copies = {t for (t,) in taken.execute("select table_name from duckdb_tables() where temporary").fetchall()}
differ = [v for v in views if sorted(map(repr, taken.execute(f'select * from "{v}"').fetchall())) != answers[v]
          or [d[0] for d in taken.execute(f'select * from "{v}" limit 0').description] != columns[v]]
print(json.dumps({"views": len(views), "rows": sum(map(len, answers.values())), "copies": sorted(copies),
                  "differ": differ}))
"""


def test_a_snapshot_session_answers_every_view_as_the_views_do(realistic):
    """The report and the site read through database.connect(snapshot=True): every view copied once into a temporary
    table that the session reads in its place. On the realistic warehouse (superseded versions, reopenings,
    revisions, local governments) every view returns the same rows and columns either way."""
    import json
    import subprocess
    import sys

    from shinchoku.config import ROOT

    done = subprocess.run([sys.executable, "-c", SNAPSHOT_CHECK, str(realistic)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["views"] == len(GRAIN) and found["rows"] > 1000
    assert set(found["copies"]) == set(GRAIN)  # every view was copied, so every read above was of a copy
    assert found["differ"] == []


def test_the_snapshot_copies_each_view_after_the_views_it_reads():
    from shinchoku.database import _lowest_first

    views = {"kpi_latest": "select * from kpi_progress join grade_bands using (grade)",
             "kpi_progress": "with progress as (select * from kpi_trajectory) select * from progress",
             "kpi_trajectory": "select * from ref_kpis", "grade_bands": "select 1",
             "a": "select * from b", "b": "select * from a"}  # a circle (DuckDB makes none) is still all copied
    order = _lowest_first(views)
    assert sorted(order) == sorted(views)
    assert order.index("kpi_trajectory") < order.index("kpi_progress") < order.index("kpi_latest")
    assert order.index("grade_bands") < order.index("kpi_latest")


def test_a_view_that_cannot_be_read_fails_only_the_query_that_reads_it(tmp_path):
    """A warehouse with a broken view (its table gone) still opens for the report and the site: the snapshot leaves
    that view out, and only a query reading it fails, as without the snapshot."""
    import duckdb

    from shinchoku import database

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t (x integer); insert into t values (1), (2); create table gone (y integer)")
    con.execute("create view good as select x from t; create view broken as select y from gone; "
                "create view above as select sum(x) as s from good")
    con.execute("drop table gone")
    con.close()
    taken = database.connect(path, snapshot=True)
    try:
        copies = {t for (t,) in taken.execute("select table_name from duckdb_tables() where temporary").fetchall()}
        assert copies == {"good", "above"}
        assert taken.execute("select s from above").fetchall() == [(3,)]
        with pytest.raises(duckdb.Error):
            taken.execute("select * from broken").fetchall()
    finally:
        taken.close()
