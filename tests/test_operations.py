"""Running it for real: resubmissions and history, who has not reported, the inbox's trust boundaries."""

from __future__ import annotations

import datetime as dt
import os
import shutil

from helpers import drop, query, run_cli
from shinchoku.run.inbox import JST
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_template

MAY_2023 = dt.datetime(2023, 5, 1, 9).timestamp()


def test_resubmission_supersedes_and_history_keeps_both(settings, catalogue, template):
    first = fill_template(template("総務部", 2022), {"GOV-K02": 31}, out=settings.inbox.parent / "a.xlsx")
    drop(settings, first, "総務部", "z_first.xlsx", mtime=MAY_2023)
    run_ingest(settings, catalogue)
    second = fill_template(template("総務部", 2022), {"GOV-K02": 30}, out=settings.inbox.parent / "b.xlsx")
    drop(settings, second, "総務部", "a_second.xlsx", mtime=MAY_2023 + 86400)
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select actual_value from kpi_progress where kpi_id = 'GOV-K02'") == [(30.0,)]
    history = query(settings.warehouse, "select actual_value, submission_id, source_cell, valid_to is null, version "
                                        "from observation_history where kpi_id = 'GOV-K02' order by version")
    assert history == [(31.0, 1, "実績報告!E7", False, 1), (30.0, 2, "実績報告!E7", True, 2)]


def test_within_one_run_modification_time_orders_files(settings, catalogue, template):
    older = fill_template(template("総務部", 2022), {"GOV-K02": 33}, out=settings.inbox.parent / "a.xlsx")
    newer = fill_template(template("総務部", 2022), {"GOV-K02": 29}, out=settings.inbox.parent / "b.xlsx")
    drop(settings, newer, "総務部", "a_newer.xlsx", mtime=MAY_2023 + 60)  # sorts first by name, last by time
    drop(settings, older, "総務部", "b_older.xlsx", mtime=MAY_2023)
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select file_name from submissions order by submission_id") == [
        ("b_older.xlsx",), ("a_newer.xlsx",)]
    assert query(settings.warehouse, "select actual_value from kpi_progress where kpi_id = 'GOV-K02'") == [(29.0,)]


def test_lineage_reaches_the_archived_cell(settings, catalogue, template):
    import hashlib

    from openpyxl import load_workbook

    drop(settings, fill_template(template("保健福祉部", 2023), {"HLT-K02": 70000}), "保健福祉部", mtime=MAY_2023)
    run_ingest(settings, catalogue)
    [(value, source_cell, sha, archive)] = query(
        settings.warehouse, "select actual_value, source_cell, sha256, archive_path from observation_history")
    archived = settings.warehouse.parent / archive
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == sha
    sheet, cell = source_cell.split("!")
    assert load_workbook(archived)[sheet][cell].value == value
    assert oct(archived.stat().st_mode & 0o777) == "0o444"
    assert run_cli("verify", "--warehouse", str(settings.warehouse)).returncode == 0
    os.chmod(archived, 0o644)
    archived.write_bytes(archived.read_bytes() + b"tampered")
    result = run_cli("verify", "--warehouse", str(settings.warehouse))
    assert result.returncode == 1 and "不一致" in result.stdout


def test_submission_status_names_missing_kpis(settings, catalogue, template):
    drop(settings, fill_template(template("企画調整部", 2023), {"GOV-K01": 60}), "企画調整部",
        mtime=dt.datetime(2024, 5, 20, 10).timestamp())
    run_ingest(settings, catalogue)
    rows = query(settings.warehouse, "select department, fiscal_year, kpis_expected, kpis_reported, missing_kpi_ids, "
                                     "cast(due_date as varchar), on_time from submission_status where fiscal_year = 2023 "
                                     "and department in ('企画調整部', '総務部') order by department")
    # GOV-K01 is computed from the local governments' counts that year: its owner owes REG-K01 alone
    assert rows == [("企画調整部", 2023, 1, 0, ["REG-K01"], "2024-06-30", False),
                    ("総務部", 2023, 1, 0, ["GOV-K02"], "2024-06-30", False)]
    years = query(settings.warehouse, "select min(fiscal_year), count(distinct department) from submission_status "
                                      "where unit_kind = '部局'")
    assert years == [(2021, len(catalogue.departments))]
    shown = run_cli("status", "--year", "R5", "--warehouse", str(settings.warehouse))
    assert shown.returncode == 0
    line = next(l for l in shown.stdout.splitlines() if l.startswith("企画調整部"))
    assert "REG-K01" in line and "GOV-K01" not in line


def test_on_time_when_everything_arrived_by_the_due_date(settings, catalogue, template):
    drop(settings, fill_template(template("総務部", 2023), {"GOV-K02": 25}), "総務部",
        mtime=dt.datetime(2024, 6, 30, 23, tzinfo=JST).timestamp())
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select on_time from submission_status where department = '総務部' "
                                     "and fiscal_year = 2023") == [(True,)]
    drop(settings, fill_template(template("総務部", 2024), {"GOV-K02": 20}), "総務部",
        mtime=dt.datetime(2025, 7, 1, 0, 30, tzinfo=JST).timestamp())
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select on_time from submission_status where department = '総務部' "
                                     "and fiscal_year = 2024") == [(False,)]


def test_inbox_trust_boundaries(settings, catalogue, template, tmp_path):
    good = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, good, "総務部", "R4 報告(最終版)①.xlsx", mtime=MAY_2023)  # spaces, parentheses, any Unicode
    lock = drop(settings, good, "総務部", "~$R4 報告.xlsx", mtime=MAY_2023)
    hidden = drop(settings, good, "総務部", ".hidden.xlsx", mtime=MAY_2023)
    temp = drop(settings, good, "総務部", "download.xlsx.crdownload", mtime=MAY_2023)
    fresh = drop(settings, good, "総務部", "still_copying.xlsx")  # modified just now
    outside = tmp_path / "outside" / "secret.xlsx"
    outside.parent.mkdir()
    shutil.copyfile(fill_template(template("総務部", 2023), {"GOV-K02": 1}), outside)
    link = settings.inbox / "総務部" / "link.xlsx"
    link.symlink_to(outside)
    linked_dir = settings.inbox / "教育庁"
    linked_dir.symlink_to(outside.parent, target_is_directory=True)
    root_file = drop(settings, good, None, "misplaced.xlsx", mtime=MAY_2023)
    draft = drop(settings, good, "_drafts", "draft.xlsx", mtime=MAY_2023)
    elsewhere = fill_template(template("保健福祉部", 2022), {"HLT-K01": 200})
    drop(settings, elsewhere, "総務部", "hoken.xlsx", mtime=MAY_2023 + 1)

    import dataclasses

    summary = run_ingest(dataclasses.replace(settings, settle_seconds=60), catalogue)
    statuses = {d.candidate.path.name: d.status for d in summary.decisions}
    assert statuses == {"R4 報告(最終版)①.xlsx": "accepted", "misplaced.xlsx": "rejected", "hoken.xlsx": "rejected"}
    for left in (lock, hidden, temp, fresh, draft):
        assert left.exists()  # skipped silently and left in place
    assert link.is_symlink() and outside.exists()
    assert set(summary.skipped) >= {(link, "symlink"), (linked_dir, "symlink"), (fresh, "settling"), (lock, "lock")}
    from shinchoku.documents.summary import summary_text

    text = summary_text(summary)
    assert str(link) in text and str(linked_dir) in text  # named in the run summary
    names = [r[0] for r in query(settings.warehouse, "select file_name from submissions")]
    assert sorted(names) == sorted(statuses)  # skipped files get no row
    assert (settings.inbox / "rejected" / "misplaced.xlsx").exists() and not root_file.exists()
    listing = (settings.inbox / "rejected" / "misplaced.エラー一覧.txt").read_text(encoding="utf-8-sig")
    assert "inbox/<部局名>/" in listing
    assert (settings.inbox / "総務部" / "rejected" / "hoken.xlsx").exists()
    codes = query(settings.warehouse, "select s.file_name, i.code from validation_issues i join submissions s using (submission_id)")
    assert ("hoken.xlsx", "department_mismatch") in codes and ("misplaced.xlsx", "misplaced_file") in codes
    assert query(settings.warehouse, "select count(*) from observation_history where fiscal_year = 2023") == [(0,)]


def test_files_within_the_settle_time_are_held_named_and_counted_apart(settings, catalogue, template):
    import dataclasses

    from shinchoku.run.steps import run_steps
    from shinchoku.documents.summary import summary_markdown, summary_text

    good = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, good, "総務部", "old.xlsx", mtime=MAY_2023)
    fresh = [drop(settings, good, "総務部", f"new{i}.xlsx") for i in range(5)]  # written just now: held for the default 60 s
    drop(settings, good, "総務部", "~$old.xlsx", mtime=MAY_2023)  # a lock file: not taken in at all
    said = []
    summary = run_steps(dataclasses.replace(settings, settle_seconds=60), catalogue, say=said.append)
    assert [d.candidate.path.name for d in summary.decisions] == ["old.xlsx"]
    assert all(path.exists() for path in fresh)
    assert "受付: 処理対象 1 件、保留 5 件、対象外 1 件" in said
    text = summary_text(summary)
    held = ("保留: 更新直後のファイル 5 件(総務部/new0.xlsx、総務部/new1.xlsx、総務部/new2.xlsx …ほか 2 件)"
            "は次回の取込で処理します。今すぐ取り込むには shinchoku run --settle-seconds 0")
    assert f"  {held}\n" in text
    markdown = summary_markdown(summary)
    assert held in markdown and "new0.xlsx: " not in markdown  # held, not 対象外
    assert "## 対象外のファイル\n\n- " + str(settings.inbox / "総務部" / "~$old.xlsx") in markdown


def test_settle_seconds_from_flag_and_environment(settings, catalogue, template):
    from shinchoku.settings import load_settings

    assert load_settings(env={"SHINCHOKU_SETTLE_SECONDS": "0"}).settle_seconds == 0
    assert load_settings(settle_seconds=5, env={"SHINCHOKU_SETTLE_SECONDS": "0"}).settle_seconds == 5
    assert load_settings(env={}, config_file="/nonexistent").settle_seconds == 60


def test_the_artifacts_table_of_files_is_one_size_however_many_files_came(settings, catalogue, template, monkeypatch):
    """A night of many files: the flow's artifact lists the rejected first, then the rest, up to ARTIFACT_FILES rows,
    and counts the others (a table of 10,000 rows is read by nobody, and Prefect stores it every night)."""
    import dataclasses

    from shinchoku.documents import summary as told
    from shinchoku.run.steps import run_ingest

    good = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    bad = fill_template(template("教育庁", 2022), {"EDU-K01": "集計中"}, out=good.with_name("bad.xlsx"))
    for n in range(4):
        drop(settings, good, "総務部", f"g{n}.xlsx")  # one accepted, three duplicates of it
    drop(settings, bad, "教育庁", "z_bad.xlsx")
    summary = run_ingest(settings, catalogue)
    rows = lambda text: [line for line in text.splitlines() if line.startswith("| ") and "提出番号" not in line]  # noqa: E731
    whole = told.summary_markdown(summary)
    assert len(rows(whole)) == 5 and "ほか" not in whole
    monkeypatch.setattr(told, "ARTIFACT_FILES", 2)
    capped = told.summary_markdown(summary)
    assert [r.split(" | ")[2] for r in rows(capped)] == ["差戻し", "受理"]
    assert "ほか 3 件(重複 3 件)。すべてのファイルはビュー submissions にあります。" in capped
