"""Issue 25.5: computed KPIs aggregated from local governments' counts, in the views: per unit, per region and group,
for the prefecture as a whole feeding kpi_progress; and 集計中 wherever such a value is shown.

Rows go straight into the raw tables (no workbooks): one warehouse of the shipped catalogue, each test in a
transaction rolled back after it."""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import pytest

from shinchoku.catalogue import load_catalogue
from shinchoku.config import ROOT, Settings
from shinchoku.run import warehouse as wh

KORIYAMA, HINOEMATA = "072036", "073644"  # 郡山市 (県中), 檜枝岐村 (南会津)
GOV, EDU = "GOV-K01", "EDU-K01"  # 手続のオンライン利用率 (県と市町村), 教員のICT活用指導力 (市町村)
COMPONENTS = {GOV: ("online", "total"), EDU: ("ict_teachers", "teachers")}
_ids = itertools.count(100)


@pytest.fixture(scope="module")
def warehouse():
    con = duckdb.connect()
    wh.build(con, load_catalogue(ROOT / "catalogue"), Settings())
    yield con
    con.close()


@pytest.fixture
def con(warehouse):
    warehouse.execute("begin")
    yield warehouse
    warehouse.execute("rollback")


def survey(con, code: str, kpi_id: str, year: int, numerator: float, denominator: float, *,
           received: dt.datetime = dt.datetime(2024, 5, 1, 9), as_of: dt.date | None = None,
           provisional: str | None = None) -> int:
    """One accepted survey sheet of a local government: the numerator and denominator of one KPI for one year."""
    sid = next(_ids)
    con.execute("insert into raw_submissions (submission_id, department, local_government, file_name, sha256, "
                "received_at, ingested_at, status, error_count, warning_count) "
                "values (?, ?, ?, ?, 'x', ?, ?, 'accepted', 0, 0)",
                [sid, code, code, f"調査票_{code}_{sid}.xlsx", received, received])
    as_of = as_of or dt.date(year + 1, 3, 31)
    for (component, count), cell in zip(zip(COMPONENTS[kpi_id], (numerator, denominator)), ("E7", "E8")):
        con.execute("insert into raw_component_counts (submission_id, local_government, kpi_id, component_id, "
                    "fiscal_year, as_of, count, source_sheet, source_cell, provisional) "
                    "values (?, ?, ?, ?, ?, ?, ?, '調査票', ?, ?)",
                    [sid, code, kpi_id, component, year, as_of, count, cell, provisional])
    return sid


def department_value(con, kpi_id: str, year: int, value: float) -> None:
    """The owning department's own value for a KPI, reported directly on its return sheet."""
    sid = next(_ids)
    con.execute("insert into raw_submissions (submission_id, department, file_name, sha256, received_at, status, "
                "error_count, warning_count) values (?, '企画調整部', 'r.xlsx', 'y', '2024-04-20 09:00', 'accepted', 0, 0)",
                [sid])
    con.execute("insert into raw_observations (submission_id, kpi_id, fiscal_year, as_of, actual_value) "
                "values (?, ?, ?, ?, ?)", [sid, kpi_id, year, dt.date(year + 1, 3, 31), value])


def one(con, sql: str, params=()):
    return con.execute(sql, params).fetchone()


def whole(con, kpi_id: str, year: int):
    return one(con, """select numerator, denominator, round(value, 4), units_reported, units_expected, complete
                       from kpi_aggregates where kpi_id = ? and fiscal_year = ? and scope = '県全体'""", [kpi_id, year])


def municipalities(con) -> list[str]:
    return [r[0] for r in con.execute("select code from local_governments where is_municipality order by row_order")
            .fetchall()]


def test_a_rate_is_the_ratio_of_sums_never_an_average_of_rates(con):
    last_year(con, KORIYAMA, HINOEMATA)
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)
    survey(con, HINOEMATA, GOV, 2023, 10, 100)
    units = con.execute("""select name, numerator, denominator, value, reported, numerator_cell, denominator_cell,
                                  file_name is not null
                           from local_government_values where kpi_id = ? and fiscal_year = 2023 and reported
                           order by code""", [GOV]).fetchall()
    assert units == [("郡山市", 60_000, 100_000, 60.0, True, "調査票!E7", "調査票!E8", True),
                     ("檜枝岐村", 10, 100, 10.0, True, "調査票!E7", "調査票!E8", True)]
    # 60,010 / 100,100 = 59.95%, not (60.0 + 10.0) / 2 = 35.0%
    assert whole(con, GOV, 2023) == (60_010, 100_100, 59.9500, 2, 60, False)
    progress = one(con, """select round(actual_value, 4), value_source, units_reported, units_expected, aggregating
                           from kpi_progress where kpi_id = ? and fiscal_year = 2023""", [GOV])
    assert progress == (59.95, "集計", 2, 60, True)


def test_zero_of_zero_counts_as_reported_and_adds_nothing(con):
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)
    survey(con, HINOEMATA, GOV, 2023, 0, 0)
    assert one(con, "select value, reported from local_government_values where kpi_id = ? and fiscal_year = 2023 "
                    "and code = ?", [GOV, HINOEMATA]) == (None, True)
    assert whole(con, GOV, 2023) == (60_000, 100_000, 60.0, 2, 60, False)
    # only 0 of 0: nothing to divide, so no aggregate value and nothing in kpi_progress
    con.execute("delete from raw_component_counts where local_government = ?", [KORIYAMA])
    assert whole(con, GOV, 2023)[2:4] == (None, 1)
    assert one(con, "select count(*) from kpi_progress where kpi_id = ? and fiscal_year = 2023", [GOV]) == (0,)


def test_a_year_is_aggregating_until_the_last_expected_unit_reports(con):
    from shinchoku.documents.facts import coverage_text, provisional_mark

    codes = municipalities(con)
    assert len(codes) == 59  # EDU-K01 is reported by the municipalities, not the prefecture
    for code in codes[:-1]:
        survey(con, code, EDU, 2023, 70, 100)
    assert whole(con, EDU, 2023) == (58 * 70, 58 * 100, 70.0, 58, 59, False)
    latest = con.execute("select actual_value, value_source, units_reported, units_expected, aggregating "
                         "from kpi_latest where kpi_id = ?", [EDU]).fetchone()
    assert latest == (70.0, "集計", 58, 59, True)
    shown = dict(zip(("aggregating", "units_reported", "units_expected"), latest[-1:] + latest[2:4]))
    assert coverage_text(shown) == "集計中 58/59団体" and provisional_mark(shown) == "(集計中 58/59団体)"
    status = one(con, "select aggregating, units_reported from kpi_year_status where kpi_id = ? and report_fy = 2023",
                 [EDU])
    assert status == (True, 58)
    # the 59th arrives: the year is complete and its value changes
    survey(con, codes[-1], EDU, 2023, 100, 100, received=dt.datetime(2024, 6, 1, 9))
    assert whole(con, EDU, 2023) == (58 * 70 + 100, 5900, round((58 * 70 + 100) / 59, 4), 59, 59, True)
    latest = one(con, "select round(actual_value, 4), units_reported, aggregating from kpi_latest where kpi_id = ?",
                 [EDU])
    assert latest == (round(4160 / 59, 4), 59, False)
    assert coverage_text({"aggregating": False, "units_reported": 59, "units_expected": 59}) == ""


def test_regions_and_groups_are_sums_of_their_units(con):
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)    # 県中
    survey(con, "072079", GOV, 2023, 3_000, 10_000)      # 須賀川市, 県中
    survey(con, HINOEMATA, GOV, 2023, 10, 100)           # 南会津
    survey(con, "072125", GOV, 2023, 500, 1_000)         # 南相馬市, 相双, 避難地域12市町村
    survey(con, "070009", GOV, 2023, 7_000, 8_000)       # 福島県: in the prefecture's total, in no region
    got = {(k, s): r for k, s, *r in con.execute("""
        select scope_kind, scope, numerator, denominator, round(value, 4), units_reported, units_expected
        from kpi_aggregates where kpi_id = ? and fiscal_year = 2023""", [GOV]).fetchall()}
    assert got["地方", "県中"] == [63_000, 110_000, round(63_000 / 1_100, 4), 2, 12]
    assert got["地方", "南会津"] == [10, 100, 10.0, 1, 4]
    assert got["グループ", "避難地域12市町村"] == [500, 1_000, 50.0, 1, 12]
    assert got["グループ", "会津13市町村"] == [None, None, None, 0, 13]
    assert got["県全体", "県全体"] == [70_510, 119_100, round(70_510 / 1_191, 4), 5, 60]
    assert sum(r[4] for (kind, _), r in got.items() if kind == "地方") == 59  # every municipality in one region


def test_a_resubmission_supersedes_its_own_units_counts_only(con):
    first = survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)
    survey(con, HINOEMATA, GOV, 2023, 10, 100)
    second = survey(con, KORIYAMA, GOV, 2023, 65_000, 100_000, received=dt.datetime(2024, 6, 1, 9))
    history = con.execute("""select submission_id, version, valid_to is null from component_history
                             where local_government = ? and component_id = 'online' order by version""",
                          [KORIYAMA]).fetchall()
    assert history == [(first, 1, False), (second, 2, True)]
    assert one(con, "select count(*) from component_history where local_government = ? and valid_to is null",
               [HINOEMATA]) == (2,)
    assert whole(con, GOV, 2023)[:2] == (65_010, 100_100)
    assert one(con, "select submission_id from local_government_values where code = ? and kpi_id = ? "
                    "and fiscal_year = 2023", [KORIYAMA, GOV]) == (second,)


def test_the_aggregate_takes_precedence_over_a_departments_value_in_its_years(con):
    department_value(con, GOV, 2022, 55.0)  # before any survey: the department's value stands
    department_value(con, GOV, 2023, 99.0)  # the survey year: the aggregate replaces it
    survey(con, KORIYAMA, GOV, 2022, 50_000, 100_000)  # 1 of 60 in a first year: too few to stand
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)  # all of last year's denominator: it stands
    got = con.execute("select fiscal_year, actual_value, value_source, aggregating from kpi_progress "
                      "where kpi_id = ? order by fiscal_year", [GOV]).fetchall()
    assert got == [(2022, 55.0, "部局報告", False), (2023, 60.0, "集計", True)]
    # the department's value is still in its history, for lineage
    assert one(con, "select actual_value from observation_history where kpi_id = ? and fiscal_year = 2023", [GOV]) == (99.0,)


def test_a_computed_value_is_graded_and_its_outlook_marked(con):
    last_year(con, KORIYAMA, HINOEMATA)
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)
    survey(con, HINOEMATA, GOV, 2023, 10, 100)
    # 48.2 (FY2021) → 80.0 (FY2025): 64.1 expected in FY2023; 59.95 is (59.95 − 48.2) / (64.1 − 48.2) = 0.739 → C
    assert one(con, "select round(expected_value, 3), round(pace_rate, 3), grade from kpi_progress "
                    "where kpi_id = ? and fiscal_year = 2023", [GOV]) == (64.1, 0.739, "C")
    assert one(con, "select grade, status from kpi_latest where kpi_id = ?", [GOV]) == ("C", "やや遅れ")
    # a line resting on a partial sum is marked as resting on a value not final
    assert one(con, "select latest_fy, points, includes_provisional from kpi_outlook where kpi_id = ?",
               [GOV]) == (2023, 2, True)


def last_year(con, *codes: str) -> None:
    """FY2022's counts of these units, so that FY2023's aggregate of the same units holds all of last year's
    denominator (aggregate_stands) while FY2022, 2 of 60 in a first year, does not stand."""
    for code in codes:
        survey(con, code, GOV, 2022, 50, 100)


def test_one_small_units_sheet_does_not_make_the_headline(con):
    """The operator trial: 檜枝岐村's sheet alone, first of a new year, was the KPI's value, graded, for 1 of 60."""
    survey(con, KORIYAMA, GOV, 2022, 50_000, 100_000)
    survey(con, HINOEMATA, GOV, 2022, 5, 100)
    survey(con, HINOEMATA, GOV, 2023, 10, 100)
    assert whole(con, GOV, 2023)[:2] == (10, 100)  # the aggregate is there, with its coverage ...
    progress = "select fiscal_year, round(actual_value, 2) from kpi_progress where kpi_id = ? and fiscal_year >= 2022"
    assert con.execute(progress, [GOV]).fetchall() == []  # ... but not the KPI's value: 0.1% of last year's
    # (FY2022 neither: 2 of 60 in the first year, with no last year to weigh them by)
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)  # the units holding most of last year's denominator
    assert con.execute(progress, [GOV]).fetchall() == [(2023, 59.95)]


def test_share_of_last_years_denominator_held_by_this_years_units(con):
    survey(con, KORIYAMA, GOV, 2022, 50_000, 100_000)
    survey(con, HINOEMATA, GOV, 2022, 5, 100)
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000)
    assert one(con, "select share_of_last_year from kpi_aggregates where kpi_id = ? and fiscal_year = 2022 "
                    "and scope = '県全体'", [GOV]) == (None,)  # no last year
    share = one(con, "select share_of_last_year from kpi_aggregates where kpi_id = ? and fiscal_year = 2023 "
                     "and scope = '県全体'", [GOV])[0]
    assert share == pytest.approx(100_000 / 100_100)


def test_marks_and_the_latest_time_point_work_per_unit(con):
    last_year(con, KORIYAMA, HINOEMATA)
    survey(con, KORIYAMA, GOV, 2023, 30_000, 100_000, as_of=dt.date(2023, 9, 30))  # mid-year ...
    survey(con, KORIYAMA, GOV, 2023, 60_000, 100_000, received=dt.datetime(2024, 5, 2, 9))  # ... the year-end counts
    survey(con, HINOEMATA, GOV, 2023, 10, 100, provisional="速報")
    assert one(con, "select numerator, as_of from local_government_values where code = ? and kpi_id = ? "
                    "and fiscal_year = 2023", [KORIYAMA, GOV]) == (60_000, dt.date(2024, 3, 31))
    assert one(con, "select provisional from kpi_progress where kpi_id = ? and fiscal_year = 2023", [GOV]) == ("速報",)


def test_expected_units_follow_the_rule_and_the_years(con):
    got = dict(con.execute("select kpi_id, count(*) from kpi_reporters where fiscal_year = 2023 group by kpi_id")
               .fetchall())
    assert got == {GOV: 60, EDU: 59}
    assert one(con, "select min(fiscal_year) from kpi_reporters") == (2021,)  # computed from FY2021 (the rule's start)
    # a unit absent from the catalogue's years is not expected
    con.execute("update ref_local_governments set valid_to_fy = 2022 where code = ?", [HINOEMATA])
    assert one(con, "select count(*) from kpi_reporters where kpi_id = ? and fiscal_year = 2023", [EDU]) == (58,)


def test_the_display_of_a_computed_value(con):
    from shinchoku.documents.facts import Kpi, format_actual

    kpi = Kpi(GOV, "オンライン利用率", "GOV", None, "%", "increase", 48.2, 2021, 80.0, 2025, 1, 1, "企画調整部")
    row = {"actual_value": 60_010 / 100_100 * 100, "value_source": "集計", "aggregating": True, "units_reported": 58,
           "units_expected": 59, "fiscal_year": 2023, "as_of": dt.date(2024, 3, 31)}
    assert format_actual(row, kpi) == "59.95%(集計中 58/59団体)"
    assert format_actual({**row, "aggregating": False}, kpi) == "59.95%"
    assert format_actual({**row, "value_source": "部局報告", "actual_value": 61.0, "aggregating": False}, kpi) == "61.0%"


def test_the_review_and_the_report_show_the_coverage(tmp_path):
    """集計中 with its coverage where the DX office reviews the year and where the report shows the value."""
    from shinchoku.documents.facts import ReportData, format_actual
    from shinchoku.documents.review import review

    catalogue, settings = load_catalogue(ROOT / "catalogue"), Settings()
    path = tmp_path / "shinchoku.duckdb"
    wh.copy_blank(path, catalogue, settings, wh.fingerprint(catalogue, settings))
    con = duckdb.connect(str(path))
    try:
        last = one(con, "select name from local_governments where code = ?", [municipalities(con)[-1]])[0]
        for code in municipalities(con)[:-1]:
            survey(con, code, EDU, 2023, 70, 100)
        data = ReportData(con, 2023)
        kpi = next(k for k in data.kpis if k.kpi_id == EDU)
        assert format_actual(data.latest(EDU), kpi) == "70.00%(集計中 58/59団体)(未確定)"
        assert format_actual(data.progress[EDU, 2023], kpi) == "70.00%(集計中 58/59団体)(未確定)"
    finally:
        con.close()
    owner = catalogue.version_of(EDU, 2023).owner
    item = next(i for i in review(path, 2023, owner))
    assert ("集計", EDU, f"70.00(集計中 58/59団体) 未提出: {last}", "", "") in item.rows()  # and who is missing
    assert f"[集計] {EDU} 70.00(集計中 58/59団体) 未提出: {last}" in item.text()
