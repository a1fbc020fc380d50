"""Safe concurrent use and crash-safe runs: readers keep their snapshot, kills leave no trace."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import drop, query, query_many, run_cli
from corpus import CASES, write_case
from shinchoku.settings import load_settings
from shinchoku.run.steps import run_ingest
from shinchoku.run.publish import run_lock
from shinchoku.documents.template import fill_template


RUN = (
    "import sys\n"
    "from shinchoku.catalogue import load_catalogue\n"
    "from shinchoku.settings import load_settings\n"
    "from shinchoku.run.steps import run_ingest\n"
    "s = load_settings(inbox=sys.argv[1], warehouse=sys.argv[2], settle_seconds=0, site_build=False, env={}, config_file='/none')\n"
    "sys.exit(run_ingest(s, load_catalogue()).exit_code)\n"
)


def start_run(root: Path, crash_at: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "SHINCHOKU_CRASH_AT"}
    env["SHINCHOKU_TRACE"] = "1"
    if crash_at:
        env["SHINCHOKU_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, "-c", RUN, str(root / "inbox"), str(root / "warehouse" / "shinchoku.duckdb")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, catalogue):
    """An inbox built once (fixed bytes and times): accepted, rejected, duplicate and resubmitted files."""
    from shinchoku.documents.template import write_template

    root = tmp_path_factory.mktemp("pristine")
    inbox = root / "inbox"
    stamp = 1_700_000_000
    for n, case in enumerate(c for c in CASES if c.build is None):
        path = write_case(case, inbox / case.department / f"{n:02d}_{case.name}.xlsx")
        os.utime(path, (stamp + n, stamp + n))
    for n, dept in enumerate(("総務部", "保健福祉部", "教育庁")):
        t = write_template(catalogue, dept, 2022, root / "t" / f"{dept}.xlsx")
        kpi = catalogue.kpis_of(dept)[0]
        value = round((kpi.baseline_value + kpi.target_value) / 2, 1)
        path = fill_template(t, {kpi.kpi_id: value}, out=inbox / dept / f"t_{dept}.xlsx")
        os.utime(path, (stamp + 100 + n, stamp + 100 + n))
        drop(inbox, path, dept, f"t_{dept}_copy.xlsx", mtime=stamp + 200 + n)
    return inbox


def fresh_root(pristine: Path, tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(pristine, root / "inbox")  # copy2 keeps modification times
    return root


def snapshot(root: Path) -> dict:
    """Everything a run leaves: warehouse content (without run timing), inbox, archive, leftovers."""
    warehouse = root / "warehouse" / "shinchoku.duckdb"
    state = query_many(warehouse, {
        "submissions": "select submission_id, department, file_name, sha256, status, error_count, "
                       "warning_count, archive_path, duplicate_of, received_at from submissions order by submission_id",
        "history": "select kpi_id, fiscal_year, as_of, actual_value, submission_id, source_cell, "
                   "version, valid_to is null from observation_history order by all",
        "issues": "select * from validation_issues order by all",
        "progress": "select * from kpi_progress order by kpi_id, fiscal_year",
        "latest": "select * from kpi_latest order by kpi_id",
    })
    files = {}
    for path in sorted((root / "inbox").rglob("*")):
        if path.is_file():
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest() \
                if path.suffix != ".xlsx" or "エラー箇所" not in path.name else "annotated"
    for path in sorted((root / "warehouse" / "archive").rglob("*")):
        if path.is_file():
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    leftovers = [p.name for p in (root / "warehouse").iterdir()
                 if p.name.startswith(".") or p.name.endswith((".journal.json", ".wal"))]
    state["files"], state["leftovers"] = files, leftovers
    return state


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory):
    root = fresh_root(pristine, tmp_path_factory.mktemp("reference"), "ref")
    run = start_run(root)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1, err  # the inbox has rejects
    return snapshot(root)


def test_reference_accounts_for_every_workbook_once(reference, pristine):
    originals = {str(p.relative_to(pristine)) for p in pristine.rglob("*.xlsx")}
    recorded = [(s[1], s[2]) for s in reference["submissions"]]
    assert sorted(f"{d}/{f}" for d, f in recorded) == sorted(originals)  # once each in submissions
    statuses = {s[4] for s in reference["submissions"]}
    assert statuses == {"accepted", "rejected", "duplicate"}
    left_in_inbox = [f for f in reference["files"] if f.startswith("inbox/") and "/rejected/" not in f]
    assert left_in_inbox == []
    rejected = [s for s in reference["submissions"] if s[4] == "rejected"]
    for s in rejected:
        assert f"inbox/{s[1]}/rejected/{s[2]}" in reference["files"]
    assert reference["leftovers"] == []


@pytest.mark.parametrize("point", ["after_discover", "mid_load", "before_publish", "after_publish", "mid_moves"])
def rerun_in_process(root: Path, catalogue) -> None:
    """The next night's run (in this process: it only touches the warehouse through its staged copy)."""
    settings = load_settings(inbox=root / "inbox", warehouse=root / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, site_build=False, env={}, config_file="/none")
    run_ingest(settings, catalogue)  # exit code 1 if rejects were still to decide, 0 if only recovery was left


def stages(err: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in err.splitlines() if line.startswith("stage ")]


@pytest.mark.parametrize("point", ["after_discover", "mid_load", "before_publish", "after_publish", "mid_moves"])
def test_kill_at_named_point_then_rerun(point, pristine, reference, tmp_path, catalogue):
    root = fresh_root(pristine, tmp_path, point)
    killed = start_run(root, crash_at=point)
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL and f"crash point {point}" in err  # it really died there
    assert stages(err)[-1] == point
    rerun_in_process(root, catalogue)
    assert snapshot(root) == reference


ORDER = ["run_started", "after_discover", "after_assess", "mid_load", "before_publish", "after_publish", "mid_moves",
         "run_finished"]


@pytest.mark.parametrize("after, delay", [("after_discover", 0.1), ("after_assess", 0.02)])
def test_kill_at_a_timed_point_then_rerun(after, delay, pristine, reference, tmp_path, catalogue):
    """A kill -9 from outside, placed by time after a stage began; asserts the stage the run died in."""
    root = fresh_root(pristine, tmp_path, f"t_{after}")
    killed = start_run(root)
    seen = []
    for line in killed.stderr:
        if line.startswith("stage "):
            seen.append(line.split()[1])
            if seen[-1] == after:
                break
    time.sleep(delay)
    killed.send_signal(signal.SIGKILL)
    _, rest = killed.communicate(timeout=300)
    died_in = (seen + stages(rest))[-1]
    assert killed.returncode == -signal.SIGKILL
    # it died mid-run, at or after the stage it was aimed at, before the run finished
    assert ORDER.index(died_in) >= ORDER.index(after) and died_in != "run_finished", died_in
    rerun_in_process(root, catalogue)
    assert snapshot(root) == reference


READER = (
    "import duckdb, sys, time, pathlib\n"
    "con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "before = con.execute('select count(*) from submissions').fetchone()[0]\n"
    "print(before, flush=True)\n"  # signal: the warehouse is held open
    "go = pathlib.Path(sys.argv[2])\n"
    "while not go.exists(): time.sleep(0.05)\n"
    "after = con.execute('select count(*) from submissions').fetchone()[0]\n"
    "values = con.execute('select count(*) from observation_history').fetchone()[0]\n"
    "print(after, values, flush=True)\n"
)


def test_a_reader_holding_the_warehouse_neither_fails_the_run_nor_loses_data(settings, catalogue, template, tmp_path):

    def submit(dept, year, values):
        drop(settings, fill_template(template(dept, year), values, out=tmp_path / f"{dept}{year}.xlsx"), dept)

    submit("総務部", 2022, {"GOV-K02": 30})
    run_ingest(settings, catalogue)
    go = tmp_path / "go"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.warehouse), str(go)],
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "1"  # the reader holds the warehouse open
    submit("保健福祉部", 2022, {"HLT-K01": 250})
    summary = run_ingest(settings, catalogue)
    assert summary.count("accepted") == 1
    go.touch()
    after, values = map(int, reader.stdout.readline().split())
    assert reader.wait(timeout=30) == 0
    assert (after, values) == (1, 1)  # the reader still sees the state before the run, whole
    assert query(settings.warehouse, "select count(*) from submissions") == [(2,)]  # new readers see the run
    assert query(settings.warehouse, "select kpi_id from observation_history order by kpi_id") == [("GOV-K02",), ("HLT-K01",)]


def test_a_second_run_exits_3_while_one_holds_the_lock(settings):
    settings.warehouse.parent.mkdir(parents=True)
    with run_lock(settings):
        started = time.monotonic()
        result = run_cli("run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse))
        assert result.returncode == 3
        assert "別の取込処理が実行中です" in result.stderr and "Traceback" not in result.stderr
        assert time.monotonic() - started < 20  # refused before Prefect starts


def test_a_run_killed_while_parsing_leaves_no_worker_behind(pristine, tmp_path):
    """Parsing workers die with their run: an orphan would hold the run lock (an inherited descriptor)."""
    import psutil

    root = fresh_root(pristine, tmp_path, "orphans")
    run = start_run(root)
    for line in run.stderr:
        if line.startswith("stage after_discover"):
            break
    process = psutil.Process(run.pid)
    deadline = time.monotonic() + 60
    workers = []
    while not workers and time.monotonic() < deadline and run.poll() is None:
        workers = process.children()  # the pool forks its workers as the assess step starts
        time.sleep(0.005)
    if not workers:
        pytest.skip("the run finished parsing before its workers could be seen")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], [p.pid for p in alive]
    run.stderr.close()
    run.stdout.close()


MAIL_MODULES = ("mail.py", "remind.py")  # their points are the mail's: a failure there never fails the run


def crash_points(mail: bool = False) -> list[str]:
    """Every crash_point("...") the code names: a new one is tested here without being listed. ``mail``: the points
    of sending mail instead, where a failure is the mail's alone (tests/test_mail.py tests each of them)."""
    import re

    from shinchoku.config import ROOT

    names = {name for path in (ROOT / "shinchoku").rglob("*.py") if (path.name in MAIL_MODULES) == mail
             for name in re.findall(r'crash_point\(\s*"(\w+)"\s*\)', path.read_text(encoding="utf-8"))}
    assert {"before_publish", "after_publish", "mid_moves"} <= names or mail
    return sorted(names)


@pytest.mark.parametrize("point", crash_points())
def test_a_run_failing_at_any_point_says_so_in_a_sentence_and_the_next_run_finishes(point, settings, template,
                                                                                       monkeypatch, capsys):
    """SHINCHOKU_FAIL_AT at each crash point, through `shinchoku run --no-prefect`: exit 4, one Japanese line that
    says truly whether the warehouse was updated, no traceback; the next run takes the file in (or finishes)."""
    from shinchoku.cli import main

    good = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, good, "総務部", "a.xlsx")
    drop(settings, good, "総務部", "b.xlsx")  # a duplicate: two moves, so mid_moves is mid-way
    run = ["run", "--no-prefect", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse),
           "--settle-seconds", "0"]
    monkeypatch.setenv("SHINCHOKU_SITE_BUILD", "false")
    monkeypatch.delenv("SHINCHOKU_TRACEBACKS", raising=False)
    monkeypatch.setenv("SHINCHOKU_FAIL_AT", point)
    assert main(run) == 4
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    [said] = [line for line in out.err.splitlines() if line.startswith("shinchoku: ")]
    published = settings.warehouse.exists() and query(settings.warehouse, "select count(*) from raw_runs") == [(1,)]
    if published:
        assert said.startswith("shinchoku: 取込の最後の段階で失敗しました(InjectedFailure: ") and "ウェアハウスは更新済みです" in said
        assert ("次回の取込で完了します" in said) == settings.journal_path.exists()
    else:
        assert said.startswith("shinchoku: 取込に失敗しました(InjectedFailure: ") and "ウェアハウスは更新していません" in said
        assert (settings.inbox / "総務部" / "a.xlsx").exists()
    assert "SHINCHOKU_TRACEBACKS=1" in said

    monkeypatch.delenv("SHINCHOKU_FAIL_AT")
    assert main(run) == 0, capsys.readouterr()  # the next night
    assert not any((settings.inbox / "総務部").glob("*.xlsx"))
    assert query(settings.warehouse, "select status from submissions order by submission_id") == [("accepted",),
                                                                                                  ("duplicate",)]


def test_a_failed_run_shows_its_traceback_when_asked(settings, monkeypatch, capsys):
    from shinchoku.cli import main

    monkeypatch.setenv("SHINCHOKU_FAIL_AT", "after_discover")
    monkeypatch.setenv("SHINCHOKU_TRACEBACKS", "1")
    assert main(["run", "--no-prefect", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "InjectedFailure: injected failure at after_discover" in err
