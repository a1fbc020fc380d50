"""Issue 25.6: who has reported. Local governments beside departments in submission_status, status, the morning list
and review; and confirm of a computed KPI's year, which needs every expected local government's counts (or
--allow-missing, recorded), records the counts' versions and holds them against later survey sheets."""

from __future__ import annotations

import csv
import datetime as dt
import itertools

import duckdb
import pytest
from openpyxl import load_workbook

from helpers import cli_in_process, drop, make_catalogue, query_many
from shinchoku.catalogue import load_catalogue
from shinchoku.config import Settings
from shinchoku.documents.review import review
from shinchoku.documents.summary import to_do
from shinchoku.documents.template import fill_survey, fill_template, write_survey
from shinchoku.run import warehouse as wh
from shinchoku.run.confirm import ConfirmRefused, confirm, reopen
from shinchoku.run.steps import run_ingest

KORIYAMA, HINOEMATA, SAMEGAWA = "072036", "073644", "074845"  # 郡山市, 檜枝岐村, 鮫川村
_ids = itertools.count(100)


def survey(con, code: str, kpi_id: str, year: int, counts: tuple[float, float], received: dt.datetime) -> None:
    """One accepted survey sheet's counts of one computed KPI, straight into the raw tables."""
    sid = next(_ids)
    con.execute("insert into raw_submissions (submission_id, department, local_government, file_name, sha256, "
                "received_at, ingested_at, status, error_count, warning_count) "
                "values (?, ?, ?, 'x.xlsx', 'x', ?, ?, 'accepted', 0, 0)", [sid, code, code, received, received])
    components = {"GOV-K01": ("online", "total"), "EDU-K01": ("ict_teachers", "teachers")}[kpi_id]
    for component, count in zip(components, counts):
        con.execute("insert into raw_component_counts (submission_id, local_government, kpi_id, component_id, "
                    "fiscal_year, as_of, count) values (?, ?, ?, ?, ?, ?, ?)",
                    [sid, code, kpi_id, component, year, dt.date(year + 1, 3, 31), count])


@pytest.fixture(scope="module")
def year_2023(tmp_path_factory):
    """A warehouse file where, for FY2023 (due 2024-06-30), every local government reported both its KPIs on time but
    郡山市 (after the due date), 檜枝岐村 (GOV-K01 only) and 鮫川村 (nothing)."""
    catalogue, settings = load_catalogue(), Settings()
    path = tmp_path_factory.mktemp("who") / "shinchoku.duckdb"
    wh.copy_blank(path, catalogue, settings, wh.fingerprint(catalogue, settings))
    con = duckdb.connect(str(path))
    try:
        on_time, late = dt.datetime(2024, 5, 1, 9), dt.datetime(2024, 7, 15, 9)
        for code, kind in con.execute("select code, kind from ref_local_governments").fetchall():
            if code == SAMEGAWA:
                continue
            survey(con, code, "GOV-K01", 2023, (60, 100), late if code == KORIYAMA else on_time)
            if kind != "県" and code != HINOEMATA:
                survey(con, code, "EDU-K01", 2023, (7, 10), late if code == KORIYAMA else on_time)
    finally:
        con.close()
    return path


def test_submission_status_has_a_row_per_local_government_judged_by_the_due_date(year_2023):
    got = query_many(year_2023, {
        "units": "select department, kpis_expected, kpis_reported, missing_kpi_ids, on_time, cast(due_date as varchar), "
                 "local_government from submission_status where unit_kind = '団体' and fiscal_year = 2023 "
                 "and local_government in ('072036', '073644', '074845', '070009') order by local_government",
        "count": "select count(*) from submission_status where unit_kind = '団体' and fiscal_year = 2023",
        "department": "select missing_kpi_ids, local_government from submission_status "
                      "where unit_kind = '部局' and department = '企画調整部' and fiscal_year = 2023"})
    assert got["units"] == [
        ("福島県", 1, 1, [], True, "2024-06-30", "070009"),  # the prefecture owes GOV-K01 only
        ("郡山市", 2, 2, [], False, "2024-06-30", KORIYAMA),  # complete, but after the due date
        ("檜枝岐村", 2, 1, ["EDU-K01"], False, "2024-06-30", HINOEMATA),
        ("鮫川村", 2, 0, ["EDU-K01", "GOV-K01"], False, "2024-06-30", SAMEGAWA)]
    assert got["count"] == [(60,)]
    # GOV-K01 is computed from the counts that year: its owner no longer owes it
    assert got["department"] == [(["REG-K01"], None)]


def test_status_and_the_morning_list_name_the_local_governments_that_have_not_reported(year_2023):
    text = to_do(year_2023)
    overdue = text.split("期限を過ぎて調査票を受理していない団体(未提出・差戻し):")[1].split("\n\n")[0]
    assert "- R5年度(期限 2024-06-30) 2団体: 檜枝岐村(EDU-K01)、鮫川村" in overdue
    assert "- R4年度(期限 2023-06-30) 60団体すべて(まだ報告がありません)" in overdue  # no year without a line
    aggregating = text.split("集計中の指標(報告すべき団体がそろっていない):")[1].split("\n\n")[0]
    assert "- GOV-K01 R5: 集計中 59/60団体(未提出: 鮫川村)" in aggregating
    assert "- EDU-K01 R5: 集計中 57/59団体(未提出: 檜枝岐村、鮫川村)" in aggregating
    status = cli_in_process("status", "--year", "2023", "--warehouse", str(year_2023))
    assert status.returncode == 0, status.stderr
    assert "メール送信: 無効(設定 [mail] の host がないため、メールは送りません)" in status.stdout  # no SMTP configured
    assert ("R5年度(期限 2024-06-30): 報告対象 60団体、報告済 58団体(期限内 57)、未提出 2団体: 檜枝岐村(EDU-K01)、鮫川村"
            in status.stdout)
    assert "GOV-K01 R5: 集計中 59/60団体(未提出: 鮫川村)" in status.stdout
    assert not [line for line in status.stdout.splitlines() if line.startswith("郡山市")]  # not in the departments' table
    overdue = cli_in_process("status", "--overdue", "--warehouse", str(year_2023))
    assert "檜枝岐村(EDU-K01)、鮫川村" in overdue.stdout
    assert "郡山市" not in overdue.stdout.split("確定待ちの部局・年度:")[1]  # a local government confirms nothing


def test_review_shows_the_coverage_and_who_is_missing(year_2023):
    [item] = review(year_2023, 2023, "教育庁")  # EDU-K01 is 教育庁's only KPI: it is reviewed for the counts
    assert ("集計", "EDU-K01", "70.00(集計中 57/59団体) 未提出: 檜枝岐村、鮫川村", "", "") in item.rows()


@pytest.fixture
def two_governments(tmp_path):
    """The catalogue with GOV-K01 asked of two local governments only (a group of 郡山市 and 檜枝岐村)."""
    folder = make_catalogue(tmp_path)
    with (folder / "local_government_groups.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([["試行2団体", KORIYAMA, "", ""], ["試行2団体", HINOEMATA, "", ""]])
    rules = folder / "computed_kpis.csv"
    rules.write_text(rules.read_text(encoding="utf-8").replace("prefecture_and_municipalities", "試行2団体"),
                     encoding="utf-8")
    return load_catalogue(folder)


def test_confirm_needs_every_expected_government_and_then_holds_their_counts(two_governments, settings, template,
                                                                              tmp_path):
    catalogue = two_governments
    counts = {("GOV-K01", "online"): 600, ("GOV-K01", "total"): 1000,
              ("EDU-K01", "ict_teachers"): 7, ("EDU-K01", "teachers"): 10}
    blank = write_survey(catalogue, "郡山市", 2023, tmp_path / "blank.xlsx")
    first = fill_survey(blank, counts, out=tmp_path / "R5_調査票.xlsx")
    drop(settings, first, "郡山市")
    drop(settings, fill_template(template("企画調整部", 2023), {"REG-K01": 140}), "企画調整部", "R5.xlsx")
    assert run_ingest(settings, catalogue).exit_code == 0

    [item] = review(settings.warehouse, 2023, "企画調整部")
    assert any(r[:2] == ("集計", "GOV-K01") and "集計中 1/2団体" in r[2] and r[2].endswith("未提出: 檜枝岐村")
               for r in item.rows()), item.rows()
    with pytest.raises(ConfirmRefused) as refused:
        confirm(settings, 2023, ["企画調整部"], by="担当A")
    assert refused.value.problems == ["企画調整部 R5年度: GOV-K01 は集計中 1/2団体(調査票を受理していない団体: 檜枝岐村)(確定するには --allow-missing)"]

    outcome = confirm(settings, 2023, ["企画調整部"], by="担当A", allow_missing=True)
    assert "団体の件数 2 件、GOV-K01 1/2団体" in outcome.lines[0]
    assert outcome.lines[1] == "  GOV-K01: 調査票を受理していない 1団体を記録しました(--allow-missing): 檜枝岐村"
    got = query_many(settings.warehouse, {
        "confirmation": "select computed_kpi_ids, missing_local_governments from confirmations",
        "versions": "select item_id, component_id from raw_confirmed_versions where kind = 'component' order by 2",
        "audit": "select detail from audit_log where action = 'confirm'",
        "status": "select code, value_status from local_government_values where kpi_id = 'GOV-K01' "
                  "and fiscal_year = 2023 order by code"})
    assert got["confirmation"] == [(["GOV-K01"], [HINOEMATA])]
    assert got["versions"] == [("GOV-K01", "online"), ("GOV-K01", "total")]
    assert "GOV-K01 未提出 1団体(檜枝岐村)" in got["audit"][0][0]
    assert got["status"] == [(KORIYAMA, "確定"), (HINOEMATA, "未確定")]

    # while it stands: a changed count and a late government are rejected; the same counts are accepted, no version
    drop(settings, fill_survey(blank, {**counts, ("GOV-K01", "online"): 650}, out=tmp_path / "changed.xlsx"), "郡山市")
    same = tmp_path / "same.xlsx"
    wb = load_workbook(first)
    wb.properties.title = "再保存"  # the same counts, other bytes
    wb.save(same)
    drop(settings, same, "郡山市")
    late = write_survey(catalogue, "檜枝岐村", 2023, tmp_path / "late_blank.xlsx")
    drop(settings, fill_survey(late, counts, out=tmp_path / "late.xlsx"), "檜枝岐村")
    summary = run_ingest(settings, catalogue)
    fate = {d.candidate.path.stem: (d.status, [i.code for i in d.issues]) for d in summary.decisions}
    assert fate == {"changed": ("rejected", ["period_confirmed"]), "late": ("rejected", ["confirmed_without_sheet"]),
                    "same": ("accepted", ["unchanged_after_confirmation"])}
    issue = {d.candidate.path.stem: d.issues[0] for d in summary.decisions}
    assert issue["changed"].message.startswith("R5年度の郡山市の実績は") and "GOV-K01 online" in issue["changed"].message
    # the village missing at confirmation is told so, not that "its" confirmed figures cannot change
    assert issue["late"].message.startswith("R5年度のGOV-K01の集計は") and "檜枝岐村の調査票が届く前に確定" in \
        issue["late"].message and "reopen" not in issue["late"].message + issue["late"].fix
    versions = "select count(*) from component_history where kpi_id = 'GOV-K01'"
    assert query_many(settings.warehouse, {"n": versions})["n"] == [(2,)]

    # reopening the owner's year lifts it: the changed counts are taken in, 未確定
    reopen(settings, 2023, "企画調整部", "件数の訂正", by="担当A")
    drop(settings, fill_survey(blank, {**counts, ("GOV-K01", "online"): 650}, out=tmp_path / "again.xlsx"), "郡山市")
    assert [d.status for d in run_ingest(settings, catalogue).decisions] == ["accepted"]
    got = query_many(settings.warehouse, {
        "count": "select count from component_history where kpi_id = 'GOV-K01' and component_id = 'online' "
                 "and valid_to is null",
        "status": "select value_status from local_government_values where code = '072036' and kpi_id = 'GOV-K01' "
                  "and fiscal_year = 2023"})
    assert got == {"count": [(650.0,)], "status": [("未確定",)]}
