"""The department folder is the trust boundary (issue 22): a department controls everything in its own
folder, symlinks and ``rejected/`` included, and nothing it puts there makes the run read, write or move
anything outside that folder, or settle anything for another department."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from helpers import drop, query, query_many
import shinchoku.run.inbox as inbox_module
from shinchoku.run.steps import run_ingest
from shinchoku.documents.summary import summary_markdown, summary_text
from shinchoku.documents.template import fill_template

OLD = 1_700_000_000  # a modification time long past


def tree(folder: Path) -> dict[str, str]:
    """Every entry under a folder (links not followed), with its content's sha256 or what it is."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def archived(settings) -> set[str]:
    folder = settings.warehouse.parent / "archive"
    return {sha(p) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


# --- 1. forgery: a rejected/ that leads elsewhere --------------------------------------------------------


@pytest.mark.parametrize("where", ["other department", "outside the inbox"])
def test_a_rejected_folder_that_is_a_link_is_never_used(settings, catalogue, template, tmp_path, where):
    """総務部 links its rejected/ into 企画調整部's folder (or out of the inbox) and drops a 企画調整部 return:
    it is rejected, and stays where it is; nothing appears in the other folder, nothing is ever accepted as
    企画調整部, and the run says why."""
    victim = settings.inbox / "企画調整部"
    victim.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (settings.inbox / "総務部").mkdir(parents=True)
    link = settings.inbox / "総務部" / "rejected"
    link.symlink_to(Path("..") / "企画調整部" if where == "other department" else outside, target_is_directory=True)
    forged = drop(settings, fill_template(template("企画調整部", 2022), {"GOV-K01": 99.9}), "総務部", "forged.xlsx", mtime=OLD)
    forged_bytes = forged.read_bytes()

    for run in (1, 2):
        summary = run_ingest(settings, catalogue)
        assert tree(victim) == {} and tree(outside) == {}  # nothing moved or created through the link
        assert forged.read_bytes() == forged_bytes  # left where it is, untouched
        assert link.is_symlink()  # the department's link is its own business: left alone
        assert [(d.candidate.department, d.status) for d in summary.decisions] == [("総務部", "rejected")], run
        [decision] = summary.decisions
        assert {i.code for i in decision.issues} >= {"department_mismatch", "rejected_folder_unsafe"}
        text = summary_text(summary)
        assert "移動せず: 総務部/rejected がシンボリックリンクであるため" in text
        assert "総務部/rejected/forged" not in text  # no destination is claimed
        assert "移動しなかった差戻しファイル" in summary_markdown(summary)

    got = query_many(settings.warehouse, {
        "submissions": "select department, file_name, status from submissions order by submission_id",
        "forged": "select count(*) from observation_history h join submissions s using (submission_id) "
                  "where s.department = '企画調整部' or h.kpi_id = 'GOV-K01'",
        "issues": "select distinct code from validation_issues",
    })
    assert got["submissions"] == [("総務部", "forged.xlsx", "rejected")] * 2
    assert got["forged"] == [(0,)]  # no value for 企画調整部, on either run
    assert ("rejected_folder_unsafe",) in got["issues"]


def _accepted_elsewhere(settings, template):
    return drop(settings, fill_template(template("保健福祉部", 2022), {"HLT-K01": 200}), "保健福祉部", "ok.xlsx", mtime=OLD)


@pytest.mark.parametrize("kind", ["file", "someone else's folder"])
def test_a_rejected_folder_that_is_not_the_runs_own_directory_is_refused(settings, catalogue, template, kind):
    bad = drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": "集計中"}), "総務部", "bad.xlsx", mtime=OLD)
    ok = _accepted_elsewhere(settings, template)
    rejected = settings.inbox / "総務部" / "rejected"
    if kind == "file":
        rejected.write_text("not a folder")
        why = "フォルダではない"
    else:
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another user needs root")
        rejected.mkdir()
        os.chown(rejected, 54321, 54321)
        why = "取込処理の実行ユーザー以外(uid 54321)が所有している"
    before = tree(settings.inbox / "総務部")

    summary = run_ingest(settings, catalogue)
    fates = {d.candidate.path.name: d.status for d in summary.decisions}
    assert fates == {"bad.xlsx": "rejected", "ok.xlsx": "accepted"}  # a file named rejected is no return
    assert tree(settings.inbox / "総務部") == before  # nothing moved, nothing written
    assert bad.exists() and not ok.exists()  # the other department's accepted file is settled as usual
    assert f"移動せず: 総務部/rejected が{why}ため" in summary_text(summary)
    [decision] = [d for d in summary.decisions if d.candidate.path.name == "bad.xlsx"]
    unsafe = [i for i in decision.issues if i.code == "rejected_folder_unsafe"]
    assert len(unsafe) == 1 and unsafe[0].severity == "warning" and why in unsafe[0].message


def test_a_rejected_folder_made_a_link_after_the_check_is_still_refused(settings, catalogue, template, tmp_path,
                                                                          monkeypatch):
    """Between publishing and settling the inbox, rejected/ is swapped for a link: the moves still go
    nowhere but the real folder, and the summary names no destination there."""
    import shinchoku.run.publish as publish

    bad = drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": "集計中"}), "総務部", "bad.xlsx", mtime=OLD)
    outside = tmp_path / "outside"
    outside.mkdir()
    real = publish.settle_moves

    def swap_then_settle(s):
        rejected = settings.inbox / "総務部" / "rejected"
        shutil.rmtree(rejected)
        rejected.symlink_to(outside, target_is_directory=True)
        return real(s)

    import shinchoku.run.steps as ingest

    monkeypatch.setattr(ingest, "SETTLE", dataclasses.replace(ingest.SETTLE, run=swap_then_settle))
    summary = ingest.run_ingest(settings, catalogue)
    assert bad.exists() and tree(outside) == {}
    text = summary_text(summary)
    assert "移動せず: 総務部/rejected がシンボリックリンクであるため" in text and "→" not in text


def test_the_summary_names_where_a_rejected_file_really_went(settings, catalogue, template):
    bad = drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": "集計中"}), "総務部", "bad.xlsx", mtime=OLD)
    summary = run_ingest(settings, catalogue)
    rejected = settings.inbox / "総務部" / "rejected"
    assert not bad.exists() and (rejected / "bad.xlsx").is_file() and not rejected.is_symlink()
    text = summary_text(summary)
    for name in ("bad.xlsx", "bad.エラー一覧.txt", "bad.エラー箇所.xlsx"):
        assert f"→ {rejected / name}" in text and (rejected / name).is_file()


# --- 2. the race between listing and opening ------------------------------------------------------------


@pytest.mark.parametrize("swap", ["symlink to another department's return", "symlink out of the inbox",
                                  "hard link to another department's return"])
def test_a_file_swapped_after_listing_is_never_read(settings, catalogue, template, tmp_path, monkeypatch, swap):
    """総務部's a.xlsx is listed as a regular file, then swapped before the run opens it. The run reads
    neither the other department's pending return nor a file outside the inbox: nothing of theirs is
    archived, assessed or recorded, and the victim's file is untouched."""
    settings = dataclasses.replace(settings, settle_seconds=60)
    mine = drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "a.xlsx", mtime=OLD)
    ok = _accepted_elsewhere(settings, template)
    pending = drop(settings, fill_template(template("企画調整部", 2022), {"GOV-K01": 61.0}), "企画調整部", "real.xlsx",
                  mtime=None)  # saved just now: held for the settle time, so this run leaves it alone
    secret = tmp_path / "secret" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    target = secret if "out of the inbox" in swap else pending
    victim_before = (target.read_bytes(), os.stat(target).st_mtime_ns)

    def swapped(cand):
        if cand.path == mine:
            mine.unlink()
            if swap.startswith("hard link"):
                os.link(target, mine)
            else:
                mine.symlink_to(target)

    monkeypatch.setattr(inbox_module, "before_open", swapped, raising=False)
    summary = run_ingest(settings, catalogue)
    assert [(d.candidate.path, d.status) for d in summary.decisions] == [(ok, "accepted")]
    assert (mine, "changed during the run") in summary.skipped
    assert (target.read_bytes(), os.stat(target).st_mtime_ns) == victim_before  # the victim's file, untouched
    assert sha(target) not in archived(settings)
    hashes = [r[0] for r in query(settings.warehouse, "select sha256 from submissions order by submission_id")]
    assert sha(target) not in hashes and hashes == [sha(settings.warehouse.parent / a) for (a,) in
                                                    query(settings.warehouse, "select archive_path from submissions order by submission_id")]
    assert not (settings.inbox / "総務部" / "rejected").exists()  # nothing came back to 総務部
    assert query(settings.warehouse, "select count(*) from observation_history where kpi_id = 'GOV-K01'") == [(0,)]


def test_a_file_swapped_for_a_fifo_does_not_hang_the_run(settings, catalogue, template, monkeypatch):
    mine = drop(settings, fill_template(template("総務部", 2022), {"GOV-K02": 30}), "総務部", "a.xlsx", mtime=OLD)

    def swapped(cand):
        mine.unlink()
        os.mkfifo(mine)

    monkeypatch.setattr(inbox_module, "before_open", swapped, raising=False)
    started = time.monotonic()
    summary = run_ingest(settings, catalogue)
    assert summary.decisions == [] and (mine, "changed during the run") in summary.skipped
    assert time.monotonic() - started < 60


# --- 4. a copy never settles another department's file --------------------------------------------------


def test_an_older_copy_in_another_folder_never_deletes_the_original(settings, catalogue, template):
    """総務部 drops a byte-identical copy of 企画調整部's return, older than it. The copy is rejected; 企画調整部's
    own file is assessed on its merits (accepted, archived and taken out of the inbox, as accepted files are)."""
    real = fill_template(template("企画調整部", 2022), {"GOV-K01": 61.0})
    copy = drop(settings, real, "総務部", "copy.xlsx", mtime=OLD)
    original = drop(settings, real, "企画調整部", "R4_企画調整部.xlsx", mtime=OLD + 60)
    summary = run_ingest(settings, catalogue)
    fates = {(d.candidate.department, d.status) for d in summary.decisions}
    assert fates == {("総務部", "rejected"), ("企画調整部", "accepted")}
    assert not original.exists() and not copy.exists()
    assert (settings.inbox / "総務部" / "rejected" / "copy.xlsx").exists()
    assert sha(real) in archived(settings)
    got = query_many(settings.warehouse, {
        "submissions": "select department, status, duplicate_of from submissions order by submission_id",
        "value": "select h.actual_value, s.department from observation_history h join submissions s "
                 "using (submission_id) where h.kpi_id = 'GOV-K01'",
    })
    assert got["submissions"] == [("総務部", "rejected", None), ("企画調整部", "accepted", None)]
    assert got["value"] == [(61.0, "企画調整部")]


def test_a_copy_of_another_departments_accepted_file_is_assessed_not_called_a_duplicate(settings, catalogue, template):
    real = fill_template(template("企画調整部", 2022), {"GOV-K01": 61.0})
    drop(settings, real, "企画調整部", "R4_企画調整部.xlsx", mtime=OLD)
    assert [d.status for d in run_ingest(settings, catalogue).decisions] == ["accepted"]
    copy = drop(settings, real, "総務部", "copy.xlsx", mtime=OLD)
    summary = run_ingest(settings, catalogue)
    [decision] = summary.decisions
    assert decision.status == "rejected" and "department_mismatch" in {i.code for i in decision.issues}
    assert not copy.exists() and (settings.inbox / "総務部" / "rejected" / "copy.xlsx").exists()
    again = drop(settings, real, "企画調整部", "again.xlsx", mtime=OLD)  # the same department sending it again: a duplicate
    summary = run_ingest(settings, catalogue)
    assert [(d.status, d.duplicate_of) for d in summary.decisions] == [("duplicate", 1)] and not again.exists()


def test_copies_in_one_folder_and_one_run(settings, catalogue, template):
    """Within one folder and run, a copy of an accepted file is its duplicate; a copy of a rejected one is
    assessed on its own (rejected too, with its own error list)."""
    good = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    bad = fill_template(template("保健福祉部", 2022), {"HLT-K01": "集計中"})
    drop(settings, good, "総務部", "a.xlsx", mtime=OLD)
    drop(settings, good, "総務部", "b.xlsx", mtime=OLD + 1)
    drop(settings, bad, "保健福祉部", "x.xlsx", mtime=OLD)
    drop(settings, bad, "保健福祉部", "y.xlsx", mtime=OLD + 1)
    summary = run_ingest(settings, catalogue)
    fates = {d.candidate.path.name: (d.status, d.duplicate_of) for d in summary.decisions}
    first = next(d.submission_id for d in summary.decisions if d.candidate.path.name == "a.xlsx")
    assert fates == {"a.xlsx": ("accepted", None), "b.xlsx": ("duplicate", first),
                     "x.xlsx": ("rejected", None), "y.xlsx": ("rejected", None)}
    rejected = settings.inbox / "保健福祉部" / "rejected"
    for name in ("x", "y"):
        assert (rejected / f"{name}.xlsx").exists() and (rejected / f"{name}.エラー一覧.txt").exists()
        assert (rejected / f"{name}.エラー箇所.xlsx").exists()
    archives = query(settings.warehouse, "select file_name, archive_path from submissions where status = 'rejected'")
    assert len({a for _, a in archives}) == 1 and all(a for _, a in archives)  # one archived original, shared


# --- writing into rejected/ -----------------------------------------------------------------------------


@pytest.mark.parametrize("same_filesystem", [True, False])
def test_feedback_reaches_rejected_without_following_a_planted_link(tmp_path, monkeypatch, same_filesystem):
    """Links planted in rejected/ under the feedback's name (or its temporary name) are replaced, never
    followed: the file they point at is untouched. Across filesystems the file is created anew there
    (O_CREAT|O_EXCL|O_NOFOLLOW) and renamed into place."""
    import errno

    from shinchoku.run.publish import _place

    staging, rejected, outside = tmp_path / "staging", tmp_path / "rejected", tmp_path / "outside"
    for folder in (staging, rejected, outside):
        folder.mkdir()
    (outside / "target").write_text("keep me")
    src = staging / "x.エラー一覧.txt"
    src.write_text("error list")
    (rejected / "x.エラー一覧.txt").symlink_to(outside / "target")
    (rejected / ".x.エラー一覧.txt.tmp").symlink_to(outside / "target")
    if not same_filesystem:
        real = os.rename

        def rename(a, b, **kw):
            if kw.get("src_dir_fd") is None:
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real(a, b, **kw)

        monkeypatch.setattr(os, "rename", rename)
    fd = os.open(rejected, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _place(src, fd, "x.エラー一覧.txt")
    finally:
        os.close(fd)
    placed = rejected / "x.エラー一覧.txt"
    assert not placed.is_symlink() and placed.read_text() == "error list" and not src.exists()
    assert (outside / "target").read_text() == "keep me"
    assert sorted(p.name for p in rejected.iterdir()) == sorted(["x.エラー一覧.txt"] + (
        [".x.エラー一覧.txt.tmp"] if same_filesystem else []))  # the department's own link, left alone


def test_a_plain_file_named_rejected_is_no_return(settings, catalogue, template):
    """The run's own folder name is never taken in, whatever stands there: it is refused as a folder only."""
    from shinchoku.run.inbox import discover

    folder = settings.inbox / "生活環境部"
    folder.mkdir(parents=True)
    (folder / "rejected").write_text("hi", encoding="utf-8")
    found = discover(settings)
    assert not [c for c in found.candidates if c.path.name == "rejected"]
    assert not [p for p, _ in found.skipped if p.name == "rejected"]
