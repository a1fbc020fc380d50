"""The ingest core without Prefect: accept, reject whole, archive, record duplicates."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from openpyxl import load_workbook

from helpers import drop, query
from shinchoku.documents.summary import summary_text
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_template


def test_empty_inbox_builds_the_warehouse(settings, catalogue):
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 0 and summary.decisions == []
    assert query(settings.warehouse, "select count(*) from kpis") == [(11,)]
    assert query(settings.warehouse, "select count(*) from kpi_latest") == [(11,)]


def test_the_inbox_placeholder_is_not_counted(settings, catalogue, template):
    """inbox/.gitkeep (the repository's placeholder) is neither taken in nor counted as 対象外 on every run."""
    from shinchoku.documents.summary import summary_text

    (settings.inbox / "総務部").mkdir(parents=True)
    (settings.inbox / ".gitkeep").touch()
    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部")
    summary = run_ingest(settings, catalogue)
    assert summary.skipped == [] and summary.count("accepted") == 1
    assert "対象外" not in summary_text(summary)
    assert (settings.inbox / ".gitkeep").exists()


def test_filled_template_is_accepted_and_archived(settings, catalogue, template):
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    dropped = drop(settings, path, "総務部")
    digest = hashlib.sha256(dropped.read_bytes()).hexdigest()
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 0 and summary.count("accepted") == 1
    assert not dropped.exists()  # accepted files leave the inbox
    [(status, sha, archive)] = query(settings.warehouse, "select status, sha256, archive_path from submissions")
    assert (status, sha) == ("accepted", digest)
    archived = settings.warehouse.parent / archive
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == digest  # byte for byte
    got = query(settings.warehouse, "select kpi_id, fiscal_year, actual_value, round(expected_value, 3), "
                                    "round(pace_rate, 3), round(progress_rate, 3), grade from kpi_progress")
    assert got == [("GOV-K02", 2022, 30.0, 28.8, 0.893, 0.357, "B")]


def test_a_file_with_any_error_is_rejected_whole(settings, catalogue, template):
    good = fill_template(template("保健福祉部", 2023), {"HLT-K01": 300, "HLT-K02": "集計中"})
    dropped = drop(settings, good, "保健福祉部")
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 1
    assert query(settings.warehouse, "select count(*) from kpi_progress") == [(0,)]  # not even HLT-K01
    rejected = settings.inbox / "保健福祉部" / "rejected"
    assert (rejected / dropped.name).exists() and not dropped.exists()
    listing = (rejected / f"{dropped.stem}.エラー一覧.txt").read_text(encoding="utf-8-sig")
    assert "実績報告!E8" in listing and "集計中" in listing
    annotated = load_workbook(rejected / f"{dropped.stem}.エラー箇所.xlsx")
    cell = annotated["実績報告"]["E8"]
    assert cell.comment is not None and "数値" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    listed = [r for r in annotated["エラー一覧"].iter_rows(min_row=2, values_only=True)]
    assert listed[0][:5] == ("実績報告", "E8", "HLT-K02", "エラー", "value_not_number")
    assert query(settings.warehouse, "select cell, code, severity from validation_issues") == [("E8", "value_not_number", "error")]


def test_same_bytes_again_is_a_duplicate(settings, catalogue, template):
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, path, "総務部")
    run_ingest(settings, catalogue)
    again = drop(settings, path, "総務部", "copy.xlsx")
    summary = run_ingest(settings, catalogue)
    assert [d.status for d in summary.decisions] == ["duplicate"]
    assert not again.exists()
    assert query(settings.warehouse, "select status, duplicate_of from submissions order by submission_id") == [
        ("accepted", None), ("duplicate", 1)]
    assert query(settings.warehouse, "select count(*) from observation_history") == [(1,)]
    # the next night it is not recorded again
    run_ingest(settings, catalogue)
    assert query(settings.warehouse, "select count(*) from submissions") == [(2,)]


def test_the_summary_counts_warnings_on_accepted_files(settings, catalogue, template):
    from shinchoku.documents.summary import summary_text

    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": "約30"}), "総務部")
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 0
    assert "警告: 受理した 1 件のファイルに確認が必要な値が 1 件あります" in summary_text(summary)


def test_a_file_that_changes_during_the_run_waits_for_the_next_one(settings, catalogue, template, monkeypatch, tmp_path):
    import os

    import shinchoku.run.inbox as inbox

    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    first = drop(settings, path, "総務部", "a.xlsx")
    copy = drop(settings, path, "総務部", "b.xlsx")  # the same bytes as a.xlsx was when it was listed
    other = drop(settings, fill_template(template("保健福祉部", 2022), {"HLT-K01": 200}), "保健福祉部")
    for n, dropped in enumerate((first, copy, other)):
        os.utime(dropped, (1_700_000_000 + n, 1_700_000_000 + n))
    newer = fill_template(template("総務部", 2022), {"GOV-K02": 31}, out=tmp_path / "newer.xlsx")

    def saved_again(cand):  # a.xlsx is saved again after the run listed it, before it opens it
        if cand.path == first:
            shutil.copyfile(newer, first)

    monkeypatch.setattr(inbox, "before_open", saved_again)
    summary = run_ingest(settings, catalogue)
    assert sorted((d.candidate.path.name, d.status) for d in summary.decisions) == sorted([
        (other.name, "accepted"), ("b.xlsx", "accepted")])
    assert (first, "changed during the run") in summary.skipped
    assert first.read_bytes() == newer.read_bytes()  # left in the inbox, unrecorded
    monkeypatch.setattr(inbox, "before_open", lambda cand: None)
    summary = run_ingest(settings, catalogue)
    assert [(d.candidate.path.name, d.status) for d in summary.decisions] == [("a.xlsx", "accepted")]
    assert query(settings.warehouse, "select actual_value from kpi_latest where kpi_id = 'GOV-K02'") == [(31.0,)]


def test_a_provisional_mark_has_its_own_column_and_history(settings, catalogue, template, tmp_path):
    from shinchoku.documents.report import build_report

    first = fill_template(template("企画調整部", 2023), {"GOV-K01": "61.0%(速報)"}, out=tmp_path / "first.xlsx")
    drop(settings, first, "企画調整部")
    assert run_ingest(settings, catalogue).exit_code == 0
    for view in ("observation_history", "kpi_progress", "kpi_latest"):
        columns = [c for (c,) in query(settings.warehouse, "select column_name from duckdb_columns() "
                                                           "where table_name = ? order by column_index", [view])]
        aggregates = ["value_source", "units_reported", "units_expected", "aggregating"]  # issue 25.5
        later = {"kpi_progress": ["baseline_value_in_force", "baseline_fy_in_force", "target_value_in_force",
                                  "target_fy_in_force", "value_status", *aggregates],  # issues 13, 14 and 25
                 "kpi_latest": aggregates,
                 "observation_history": ["value_status"]}.get(view, [])
        assert columns[-1 - len(later):] == ["provisional", *later], view  # appended after the columns analysts use
    assert query(settings.warehouse, "select actual_value, provisional from kpi_latest where kpi_id = 'GOV-K01'") == [
        (61.0, "速報")]
    report = build_report(settings.warehouse, tmp_path / "report.xlsx")
    texts = {str(c.value) for ws in load_workbook(report) for row in ws.iter_rows() for c in row if c.value}
    assert any("61.0%(速報)" in t for t in texts)

    confirmed = fill_template(template("企画調整部", 2023), {"GOV-K01": 62}, out=tmp_path / "confirmed.xlsx")
    drop(settings, confirmed, "企画調整部")
    assert run_ingest(settings, catalogue).exit_code == 0
    assert query(settings.warehouse, "select version, actual_value, provisional from observation_history "
                                     "where kpi_id = 'GOV-K01' order by version") == [(1, 61.0, "速報"), (2, 62.0, None)]
    assert query(settings.warehouse, "select provisional from kpi_progress where kpi_id = 'GOV-K01'") == [(None,)]


def test_an_older_warehouse_gains_the_provisional_column(settings, catalogue):
    import duckdb

    from shinchoku.run import warehouse as wh

    settings.warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute(wh.DDL.replace(",\n    provisional varchar);", ");"))
    assert "provisional" not in [c[0] for c in con.execute("select * from raw_observations limit 0").description]
    con.close()
    assert run_ingest(settings, catalogue).exit_code == 0
    assert query(settings.warehouse, "select count(*) from duckdb_columns() where table_name = 'raw_observations' "
                                     "and column_name = 'provisional'") == [(1,)]


def test_a_plain_run_is_the_same_sequence_of_steps(settings, catalogue, template):
    import dataclasses

    from shinchoku.run.steps import STEPS, run_steps

    settings = dataclasses.replace(settings, site_build=True)
    ran = []
    drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部")
    summary = run_steps(settings, catalogue, call=lambda step, *args: (ran.append(step.name), step.run(*args))[1])
    assert ran == [s.name for s in STEPS] == ["discover", "assess", "load-and-publish", "settle-inbox", "send-mail",
                                           "build-site"]
    assert summary.count("accepted") == 1
    assert not list(settings.warehouse.parent.glob(".*.tmp"))  # the staged copy was published
    # no SMTP host: the mail step sends nothing, queues nothing, fails nothing, and the summary has nothing to say
    assert not settings.mail.enabled and summary.mail.enabled is False and summary.mail_error is None
    assert query(settings.warehouse, "select count(*) from raw_mail") == [(0,)]
    assert not settings.mail_journal_path.exists() and "メール" not in summary_text(summary)


def test_rows_are_inserted_by_column_name():
    import duckdb

    from shinchoku.run.load import insert

    con = duckdb.connect()
    con.execute("create table t (a integer, b varchar, c double)")
    insert(con, "t", [{"c": 1.5, "a": 1}, {"c": 2.5, "a": 2}])  # another order, one column left out
    assert con.execute("select * from t order by a").fetchall() == [(1, None, 1.5), (2, None, 2.5)]
    with pytest.raises(KeyError, match="no column"):
        insert(con, "t", [{"a": 3, "d": "x"}])
