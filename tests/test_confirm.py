"""確認と確定: what a confirmation holds, what it lets through, and that confirm and reopen are as safe as a run."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from helpers import drop, make_catalogue, query, query_many, reorganised_catalogue
from shinchoku.cli import main
from shinchoku.run.steps import run_ingest
from shinchoku.run.publish import run_lock
from shinchoku.documents.template import fill_outcomes, fill_template

FACTOR = "説明会の開催が延期となった。"


def cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture
def confirmed(settings, catalogue, template, tmp_path):
    """企画調整部's FY2022 accepted (with outcome and explanation) and confirmed."""
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": (FACTOR, None)}, out=tmp_path / "first.xlsx")
    fill_outcomes(path, [("GOV-01", "業務の棚卸し", "全庁で実施", None, None, None)])
    drop(settings, path, "企画調整部", "R4.xlsx")
    assert run_ingest(settings, catalogue).exit_code == 0
    # GOV-K01 is computed from the local governments' counts from FY2022: none reported, so --allow-missing
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", "--by", "担当A", "--allow-missing",
                    "--warehouse", str(settings.warehouse))
    assert code == 0, out
    return path


def fates(settings):
    return query(settings.warehouse, "select file_name, status from submissions order by submission_id")


CHANGES = ("value", "as_of", "provisional", "outcome", "explanation")


def test_any_change_to_a_confirmed_year_is_rejected(confirmed, settings, catalogue, template, tmp_path):
    """One late return per kind of change, all in one run: each is rejected whole, with its annotated copy."""
    for change in CHANGES:
        values = {"GOV-K01": 57.0, "REG-K01": 128}
        kwargs = {"explanations": {"REG-K01": (FACTOR, None)}}
        if change == "value":
            values["GOV-K01"] = 57.5
        elif change == "as_of":
            kwargs["as_of"] = {"GOV-K01": "2023/2/28"}
        elif change == "provisional":
            values["GOV-K01"] = "57.0(速報)"
        elif change == "explanation":
            kwargs["explanations"] = {"REG-K01": ("別の説明", None)}
        path = fill_template(template("企画調整部", 2022), values, out=tmp_path / f"{change}.xlsx", **kwargs)
        fill_outcomes(path, [("GOV-01", "業務の棚卸し", "全庁で実施" if change != "outcome" else "一部で実施",
                              None, None, None)])
        drop(settings, path, "企画調整部", f"{change}.xlsx")
    summary = run_ingest(settings, catalogue)
    assert {d.candidate.path.stem: d.status for d in summary.decisions} == {c: "rejected" for c in CHANGES}
    for decision in summary.decisions:
        [issue] = [i for i in decision.issues if i.code == "period_confirmed"]
        assert issue.message.startswith("R4年度の企画調整部の実績は") and "確定済み" in issue.message
        rejected = settings.inbox / "企画調整部" / "rejected" / f"{decision.candidate.path.stem}.エラー箇所.xlsx"
        assert rejected.exists()


def test_a_kpi_missing_at_confirmation_cannot_arrive_later(settings, catalogue, template, tmp_path):
    drop(settings, fill_template(template("企画調整部", 2023), {"GOV-K01": 64.0}), "企画調整部", "a.xlsx")
    run_ingest(settings, catalogue)
    code, out = cli("confirm", "--year", "2023", "--department", "企画調整部", "--allow-missing",
                    "--warehouse", str(settings.warehouse))
    assert code == 0 and "未報告 REG-K01" in out
    late = fill_template(template("企画調整部", 2023), {"REG-K01": 140}, out=tmp_path / "late.xlsx")
    drop(settings, late, "企画調整部", "late.xlsx")
    summary = run_ingest(settings, catalogue)
    assert [d.status for d in summary.decisions] == ["rejected"]
    assert [i.code for i in summary.decisions[0].issues] == ["period_confirmed"]


def test_an_unchanged_return_is_accepted_without_a_version(confirmed, settings, catalogue):
    drop(settings, confirmed, "企画調整部", "again.xlsx")  # byte-identical to an accepted file: a duplicate
    copy = settings.inbox / "企画調整部" / "again.xlsx"
    from openpyxl import load_workbook

    wb = load_workbook(copy)
    wb.properties.title = "再保存"  # the same content, saved again: other bytes
    wb.save(copy)
    summary = run_ingest(settings, catalogue)
    assert [d.status for d in summary.decisions] == ["accepted"]
    # GOV-K01 is computed from the survey sheets: its computed_kpi_reported warning stands beside the one that matters
    assert [i.code for i in summary.decisions[0].issues] == ["computed_kpi_reported", "unchanged_after_confirmation"]
    got = query_many(settings.warehouse, {
        "versions": "select count(*) from observation_history",
        "status": "select distinct value_status from kpi_progress",
        "submitted": "select submission_id, value_status from observation_history order by kpi_id"})
    assert got["versions"] == [(2,)] and got["status"] == [("確定",)]
    assert {sid for sid, _ in got["submitted"]} == {1}


def test_provisional_and_missing_need_their_flags_and_all_is_all_or_nothing(settings, catalogue, template):
    drop(settings, fill_template(template("企画調整部", 2022), {"GOV-K01": "57.0(速報)"}), "企画調整部", "a.xlsx")
    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "b.xlsx")
    run_ingest(settings, catalogue)
    wh = ["--warehouse", str(settings.warehouse)]
    code, out = cli("confirm", "--year", "2022", "--all", *wh)
    assert code == 1 and "速報・見込・暫定の値 GOV-K01" in out and "未報告の指標 REG-K01" in out
    assert query(settings.warehouse, "select count(*) from confirmations") == [(0,)]  # nothing, not even 総務部
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", "--allow-missing", "--allow-provisional",
                    "--note", "速報値で確定", *wh)
    assert code == 0, out
    got = query(settings.warehouse, "select missing_kpi_ids, provisional_kpi_ids, note from confirmations")
    assert got == [(["REG-K01"], ["GOV-K01"], "速報値で確定")]


def test_confirming_twice_is_a_no_op_and_reopening_the_unconfirmed_exits_2(confirmed, settings):
    wh = ["--warehouse", str(settings.warehouse)]
    before = query(settings.warehouse, "select count(*) from audit_log")
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", "--allow-missing", *wh)
    assert code == 0 and "何もしませんでした" in out
    assert query(settings.warehouse, "select count(*) from confirmations") == [(1,)]
    assert query(settings.warehouse, "select count(*) from audit_log") == before
    code, out = cli("reopen", "--year", "2023", "--department", "企画調整部", "--reason", "x", *wh)
    assert code == 2 and "確定されていません" in out


def test_confirm_waits_for_or_refuses_a_running_run(confirmed, settings):
    wh = ["--warehouse", str(settings.warehouse)]
    with run_lock(settings):  # a run in progress
        code, out = cli("reopen", "--year", "2022", "--department", "企画調整部", "--reason", "x", *wh)
        assert code == 3 and "別の取込処理が実行中" in out
    held = threading.Event()

    def run_for_a_moment():
        with run_lock(settings):
            held.set()
            threading.Event().wait(1.0)

    runner = threading.Thread(target=run_for_a_moment)
    runner.start()
    held.wait(10)
    code, out = cli("reopen", "--year", "2022", "--department", "企画調整部", "--reason", "x", "--wait", "30", *wh)
    runner.join()
    assert code == 0, out  # it waited, then reopened: neither is lost
    assert query(settings.warehouse, "select reopen_reason from confirmations") == [("x",)]


CONFIRM = ("import sys\nfrom shinchoku.cli import main\nsys.exit(main(sys.argv[1:]))\n")


@pytest.mark.parametrize("command, point", [("confirm", "before_publish"), ("confirm", "after_publish"),
                                            ("reopen", "after_publish")])
def test_confirm_and_reopen_killed_then_rerun_equal_one_clean_command(command, point, settings, catalogue, template,
                                                                      tmp_path):
    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "a.xlsx")
    run_ingest(settings, catalogue)
    wh = ["--warehouse", str(settings.warehouse)]
    args = ["confirm", "--year", "2022", "--department", "総務部", *wh]
    if command == "reopen":
        assert cli(*args)[0] == 0
        args = ["reopen", "--year", "2022", "--department", "総務部", "--reason", "訂正", *wh]
    audit_before = query(settings.warehouse, "select * from audit_log order by event_id")
    env = {**os.environ, "SHINCHOKU_CRASH_AT": point}
    killed = subprocess.run([sys.executable, "-c", CONFIRM, *args], env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL and f"crash point {point}" in killed.stderr
    # the rerun does it, or finds it done: a confirm says so (0); a reopen finds nothing left to reopen (2)
    assert cli(*args)[0] == (2 if (command, point) == ("reopen", "after_publish") else 0)
    got = query_many(settings.warehouse, {
        "confirmations": "select department, fiscal_year, reopen_reason is not null, is_standing from confirmations",
        "audit": "select * from audit_log order by event_id"})
    expected = [("総務部", 2022, command == "reopen", command == "confirm")]
    assert got["confirmations"] == expected  # one confirmation, reopened once at most: as one clean command
    assert got["audit"][:len(audit_before)] == audit_before  # append-only: nothing before is rewritten
    assert [row[2] for row in got["audit"][len(audit_before):]] == [command]
    leftovers = [p.name for p in settings.warehouse.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_rerun_run_only_appends_to_the_audit_log(settings, catalogue, template):
    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "a.xlsx")
    run_ingest(settings, catalogue)
    before = query(settings.warehouse, "select * from audit_log order by event_id")
    run_ingest(settings, catalogue)
    after = query(settings.warehouse, "select * from audit_log order by event_id")
    assert after[:len(before)] == before and [row[2] for row in after[len(before):]] == ["run"]
    assert [row[2] for row in before] == ["catalogue", "run"]


def test_status_shows_confirmation_and_the_morning_list(confirmed, settings):
    code, out = cli("status", "--year", "2022", "--warehouse", str(settings.warehouse))
    line = next(l for l in out.splitlines() if l.startswith("企画調整部"))
    assert code == 0 and "確定 " in line
    assert "未確定" in next(l for l in out.splitlines() if l.startswith("総務部"))
    code, out = cli("status", "--overdue", "--warehouse", str(settings.warehouse))
    assert code == 0 and "期限を過ぎて未報告の指標がある部局:" in out and "確定待ちの部局・年度:" in out
    assert "企画調整部 R4年度" not in out.split("確定待ちの部局・年度:")[1]  # confirmed: not waiting


def test_the_report_states_each_departments_confirmation(confirmed, settings, tmp_path):
    from openpyxl import load_workbook

    from shinchoku.documents.report import build_report

    ws = load_workbook(build_report(settings.warehouse, tmp_path / "r.xlsx", 2022))["概要"]
    rows = {r[0]: r[1:3] for r in ws.iter_rows(values_only=True) if r[0] in ("企画調整部", "総務部")}
    assert rows["企画調整部"][0].startswith("確定(") and rows["総務部"] == ("未確定", "0/1")
    evaluation = load_workbook(tmp_path / "r.xlsx")["評価シート"]
    online = next(r for r in evaluation.iter_rows(min_row=6, values_only=True) if r[1].startswith("県及び市町村"))
    assert online[4] == "57.0%(R4年度)"  # confirmed: no (未確定) mark


def test_a_run_that_sees_a_changed_catalogue_records_its_fingerprint(settings, catalogue, template, tmp_path):

    from shinchoku.catalogue import load_catalogue

    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "a.xlsx")
    run_ingest(settings, catalogue)
    revised = load_catalogue(make_catalogue(tmp_path, [{"item_id": "GOV-K01", "field": "target_value",
                                                        "new_value": "90.0", "effective_fy": 2024}]))
    run_ingest(settings, revised)
    run_ingest(settings, revised)  # the same catalogue again: nothing new to record about it
    events = query(settings.warehouse, "select action, catalogue_fingerprint, detail from audit_log order by event_id")
    assert [e[0] for e in events] == ["catalogue", "run", "catalogue", "run", "run"]
    first, second = [e for e in events if e[0] == "catalogue"]
    assert first[1] != second[1] and len(second[1]) == 64 and "改定 1" in second[2]


def test_confirm_and_reopen_refuse_a_missing_warehouse(settings):
    for args in (["confirm", "--year", "2022", "--all"], ["reopen", "--year", "2022", "--department", "総務部",
                                                           "--reason", "訂正"]):
        code, out = cli(*args, "--warehouse", str(settings.warehouse))
        assert code == 2 and f"ウェアハウスがありません: {settings.warehouse}" in out, out
    assert not settings.warehouse.exists()  # nothing was staged or published


@pytest.fixture(scope="module")
def standing(tmp_path_factory, catalogue):
    """企画調整部's FY2022 confirmed, once for the module: for commands that must refuse and write nothing."""
    from shinchoku.settings import load_settings
    from shinchoku.documents.template import write_template

    root = tmp_path_factory.mktemp("standing")
    settings = load_settings(inbox=root / "inbox", warehouse=root / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, site_build=False, config_file=root / "none.toml", env={})
    path = fill_template(write_template(catalogue, "企画調整部", 2022, root / "t.xlsx"), {"GOV-K01": 57.0, "REG-K01": 128})
    drop(settings, path, "企画調整部", "R4.xlsx")
    assert run_ingest(settings, catalogue).exit_code == 0
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", "--allow-missing",
                    "--warehouse", str(settings.warehouse))
    assert code == 0, out
    return settings


@pytest.mark.parametrize("args, said", [
    (["confirm", "--year", "R6", "--department", "総務課"], "部局「総務課」は部局一覧(catalogue/departments.csv)にありません"),
    (["confirm", "--year", "2030", "--department", "総務部"], "R12年度(2030)は計画期間の外です。計画期間: R2年度(2020)〜R7年度(2025)"),
    (["confirm", "--year", "2030", "--all"], "計画期間の外です"),
    (["reopen", "--year", "2022", "--department", "総務課", "--reason", "訂正"], "部局「総務課」は"),
    (["reopen", "--year", "2030", "--department", "企画調整部", "--reason", "訂正"], "計画期間の外です"),
    (["reopen", "--year", "2022", "--department", "企画調整部", "--reason", ""], "--reason に確定を解除する理由"),
    (["reopen", "--year", "2022", "--department", "企画調整部", "--reason", " \u3000"], "--reason に確定を解除する理由"),
])
def test_confirm_and_reopen_refuse_an_unknown_department_a_year_outside_the_plan_and_no_reason(args, said, standing):
    """Refused with exit 2 and a line in Japanese; audit_log, which is append-only, gets nothing."""
    settings = standing
    before = query_many(settings.warehouse, {"audit": "select count(*) from audit_log",
                                             "confirmations": "select * from confirmations order by confirmation_id"})
    code, out = cli(*args, "--warehouse", str(settings.warehouse))
    assert code == 2 and said in out, out
    assert "Traceback" not in out
    assert query_many(settings.warehouse, {"audit": "select count(*) from audit_log",
                                           "confirmations": "select * from confirmations order by confirmation_id"}) == before


def test_a_department_that_does_not_exist_that_year_is_refused(tmp_path, settings, monkeypatch):
    """Per catalogue/departments.csv: 危機管理部 ends with FY2023; from FY2024 its successor is named."""
    folder = reorganised_catalogue(tmp_path)
    project = folder.parent
    monkeypatch.delenv("SHINCHOKU_PROJECT", raising=False)  # --project sets it for the process: restored after
    code, out = cli("--project", str(project), "template", "--department", "危機管理部", "--year", "R6",
                    "-o", str(tmp_path / "t.xlsx"))
    assert code == 2 and "部局「危機管理部」はR6年度にはありません(組織改正により「危機管理局」)" in out, out
    assert not (tmp_path / "t.xlsx").exists()


@pytest.mark.parametrize("command", [["status"], ["review"], ["report", "-o", "r.xlsx"], ["site", "-o", "site"],
                                     ["template", "--department", "総務部", "-o", "t.xlsx"]])
def test_every_command_refuses_a_year_outside_the_plan(command, standing, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = cli(*command, "--year", "2030", "--warehouse", str(standing.warehouse))
    assert code == 2 and "R12年度(2030)は計画期間の外です。計画期間: R2年度(2020)〜R7年度(2025)" in out, out
    assert not any((tmp_path / name).exists() for name in ("r.xlsx", "site", "t.xlsx"))


def test_a_refused_single_department_confirm_does_not_speak_of_all_or_nothing(settings, catalogue, template):
    drop(settings, fill_template(template("企画調整部", 2022), {"GOV-K01": "57.0(速報)"}), "企画調整部", "a.xlsx")
    run_ingest(settings, catalogue)
    wh = ["--warehouse", str(settings.warehouse)]
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", *wh)
    assert code == 1 and out.startswith("確定しませんでした:\n") and "速報・見込・暫定の値 GOV-K01" in out, out
    assert "すべて確定するか" not in out
    code, out = cli("confirm", "--year", "2022", "--all", *wh)
    assert code == 1 and "すべて確定するか、何も確定しないか" in out  # --all is all or nothing, and says so


def test_review_names_each_warnings_kpi_and_lists_outcomes_received(settings, catalogue, template, tmp_path):
    """The warning's 指標ID on the terminal and in the checklist; 取組実績 received since the last confirmation
    (which confirm locks) listed, new or old → new."""
    from openpyxl import load_workbook

    wh = ["--warehouse", str(settings.warehouse)]
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": "約 128"},
                         out=tmp_path / "first.xlsx")
    fill_outcomes(path, [("GOV-01", "業務の棚卸し", "全庁で実施", 12, "課", None)])
    drop(settings, path, "企画調整部", "R4.xlsx")
    assert run_ingest(settings, catalogue).exit_code == 0
    code, out = cli("review", "--year", "R4", "--department", "企画調整部", "-o", str(tmp_path / "list.xlsx"), *wh)
    assert code == 0, out
    assert "  [警告] REG-K01 実績値「約 128」は概数(約)として受け付けました" in out, out
    assert "[警告]  " not in out
    assert "  [取組実績] GOV-01 新規 全庁で実施(数値 12課)(提出 1 取組実績!" in out, out
    rows = [r[2:5] for r in load_workbook(tmp_path / "list.xlsx").active.iter_rows(min_row=2, values_only=True)]
    assert ("警告", "REG-K01") in [r[:2] for r in rows]
    assert ("取組実績", "GOV-01", "新規 全庁で実施(数値 12課)") in rows

    assert cli("confirm", "--year", "2022", "--department", "企画調整部", "--allow-missing", *wh)[0] == 0
    assert "[取組実績]" not in cli("review", "--year", "R4", *wh)[1]  # confirmed: no longer waiting
    assert cli("reopen", "--year", "2022", "--department", "企画調整部", "--reason", "訂正", *wh)[0] == 0
    later = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": "約 128"}, out=tmp_path / "b.xlsx")
    fill_outcomes(later, [("GOV-01", "業務の棚卸し", "一部で実施", None, None, None)])
    drop(settings, later, "企画調整部", "R4b.xlsx")
    run_ingest(settings, catalogue)
    code, out = cli("review", "--year", "R4", "--department", "企画調整部", *wh)
    assert "  [取組実績] GOV-01 全庁で実施 → 一部で実施(提出 2 " in out, out


def test_check_in_a_project_holds_its_confirmed_years_without_being_told(confirmed, settings, template, tmp_path,
                                                                         monkeypatch):
    """check = run: inside a project whose warehouse exists, a change to a confirmed value is period_confirmed
    (exit 1) without --warehouse; the warehouse is only read; a project without one gets none."""
    import hashlib

    from shinchoku.config import ROOT

    project = settings.warehouse.parent.parent  # the warehouse sits where a project's does: warehouse/shinchoku.duckdb
    shutil.copytree(ROOT / "catalogue", project / "catalogue")
    monkeypatch.delenv("SHINCHOKU_WAREHOUSE", raising=False)
    monkeypatch.delenv("SHINCHOKU_PROJECT", raising=False)  # found from the folder; --project below sets it again
    changed = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.5, "REG-K01": 128},
                            explanations={"REG-K01": (FACTOR, None)}, out=tmp_path / "late.xlsx")
    fill_outcomes(changed, [("GOV-01", "業務の棚卸し", "全庁で実施", None, None, None)])
    before = hashlib.sha256(settings.warehouse.read_bytes()).hexdigest()
    monkeypatch.chdir(project / "catalogue")  # anywhere inside the project
    code, out = cli("check", "--quiet", str(changed), "--department", "企画調整部")
    assert code == 1 and "NG " in out and "R4年度の企画調整部の実績は" in out and "GOV-K01" in out, out
    assert hashlib.sha256(settings.warehouse.read_bytes()).hexdigest() == before

    elsewhere = tmp_path / "other"
    shutil.copytree(ROOT / "catalogue", elsewhere / "catalogue")
    code, out = cli("check", "--project", str(elsewhere), "--quiet", str(changed), "--department", "企画調整部")
    assert code == 0 and out.startswith("OK "), out  # no warehouse: nothing confirmed to hold
    assert not (elsewhere / "warehouse").exists()
