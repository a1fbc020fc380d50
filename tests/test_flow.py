"""End to end through Prefect, against a real `prefect server start` (one for the module).

The flow runs in this process with PREFECT_API_URL pointing at the server, and through
`shinchoku run` in a subprocess, as the DX office runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from bench.server import api as _api, free_port, local_server
from helpers import drop, migrated_prefect_home, query, query_many
from shinchoku.config import ROOT
from shinchoku.run.steps import STEPS
from shinchoku.documents.template import fill_template


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` from the project folder, as the README says, on a free loopback port."""
    from prefect.settings import PREFECT_API_URL, PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    with local_server(migrated_prefect_home(tmp_path_factory.mktemp("prefect-home"))) as url:
        # in-process runs log to the console only: nothing is left to send when the server stops
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_LOGGING_TO_API_ENABLED: False}):
            yield url


@pytest.fixture
def as_the_office(prefect_server, settings, template, monkeypatch):
    """`shinchoku run` (through main(), in this process) against the server, with 総務部's return in the inbox;
    returns the server's URL and the run's command line."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, path, "総務部", "paper.xlsx")
    return prefect_server, ["run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse),
                            "--settle-seconds", "0"]




def test_a_run_on_the_real_server_records_its_task_runs_and_its_name(as_the_office, monkeypatch, capsys):
    """What the DX office sees in the UI: the run named for when it ran, its task runs, each finished, and a
    failed site build failing its own task only: the flow run completes, the run's exit status is the
    ingest's, and the summary says the site was not rebuilt."""
    import logging

    import shinchoku.documents.site
    from shinchoku.cli import main

    def broken(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shinchoku.documents.site._Pages, "quality", broken)
    for handler in logging.getLogger().handlers:  # Prefect's console handler may hold an earlier test's
        if type(handler).__name__ == "PrefectConsoleHandler":  # captured (closed) stderr; a CLI process has one
            monkeypatch.setattr(handler.console, "file", sys.stderr)
    url, run = as_the_office
    assert main(run) == 0
    out = capsys.readouterr()
    assert "受理 1 件" in out.out and "進捗サイトの作成に失敗しました(OSError" in out.out
    assert "Traceback" not in out.out + out.err  # the task's error is one line at the terminal

    [flow_run] = _api(url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
    assert flow_run["state_type"] == "COMPLETED"
    assert re.fullmatch(r"取込 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", flow_run["name"]), flow_run["name"]
    from shinchoku.run.inbox import now_jst

    assert flow_run["name"].startswith(f"取込 {now_jst():%Y-%m-%d}")  # the date in JST, as the operator reads it
    states = _task_states(url, flow_run["id"], len(STEPS))
    assert states == {s.name: "FAILED" if s.name == "build-site" else "COMPLETED" for s in STEPS}
    deadline = time.monotonic() + 60  # the Event Feed is no longer empty (events are persisted in batches)
    while not any(e["event"].startswith("prefect.task-run.") for e in _api(url, "/events/filter", {"limit": 50})["events"]):
        assert time.monotonic() < deadline, "no task-run events were persisted"
        time.sleep(0.5)


def _task_states(url: str, flow_run_id: str, count: int) -> dict[str, str]:
    """The flow run's task runs by step name and final state, once the server has recorded them all."""
    deadline = time.monotonic() + 60  # the server records task runs from events, a moment after they end
    while True:
        task_runs = _api(url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})
        finished = {t["name"].rsplit("-", 1)[0]: t["state_type"] for t in task_runs
                    if t["state_type"] in ("COMPLETED", "FAILED")}
        if len(finished) == count or time.monotonic() > deadline:
            return finished
        time.sleep(0.5)


@pytest.fixture(scope="module")
def a_night_at_the_terminal(prefect_server, tmp_path_factory, catalogue):
    """`shinchoku run` in a subprocess against the module's server, as the operator runs it, with one accepted
    and one rejected workbook (its name holds a terminal escape); returns the flow run, its logs as read back
    through the API, and the terminal's stdout and stderr."""
    from shinchoku.documents.template import write_template

    base = tmp_path_factory.mktemp("night")
    good = fill_template(write_template(catalogue, "農林水産部", 2023, base / "t" / "good.xlsx"), {"IND-K02": "700 経営体"})
    bad = fill_template(write_template(catalogue, "教育庁", 2023, base / "t" / "bad.xlsx"), {"EDU-K01": "集計中"})
    for path, department, name in ((good, "農林水産部", "R5_実績報告.xlsx"), (bad, "教育庁", BAD_NAME)):
        drop(base / "inbox", path, department, name)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(base / "prefect-home"),
           "DO_NOT_TRACK": "1", "SHINCHOKU_SITE_BUILD": "false"}
    for name in ("PREFECT_LOGGING_LEVEL", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "PREFECT_LOGGING_TO_API_ENABLED"):
        env.pop(name, None)  # prefect.toml's and shinchoku's, as on the operator's machine
    done = subprocess.run([sys.executable, "-m", "shinchoku.cli", "run", "--inbox", str(base / "inbox"),
                           "--warehouse", str(base / "warehouse" / "shinchoku.duckdb"), "--settle-seconds", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # one file rejected
    [flow_run] = _api(prefect_server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
    logs = _api(prefect_server, "/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run["id"]]}},
                                                 "sort": "TIMESTAMP_ASC"})
    return flow_run, logs, done.stdout, done.stderr


BAD_NAME = "R5_実績報告\x1b]0;x\x07.xlsx"
STEP_LINES = ("受付: 処理対象 2 件", "検証: 2 件を検証しました", "登録: ウェアハウスを更新しました(実行番号 1)")


def test_the_flow_runs_log_tells_the_night(a_night_at_the_terminal):
    """What an operator reads in the UI's log of a night with a rejected file: each step's line, the rejected
    files (department, name, error code and cell) in one warning, and the run's summary; a department's file name
    shown with its escapes visible, never raw. Prefect's own lines are there too."""
    flow_run, logs, _out, _err = a_night_at_the_terminal
    assert flow_run["state_type"] == "COMPLETED"
    told = [(log["level"], log["message"]) for log in logs if log["name"] == "prefect.flow_runs"]
    messages = [m for _, m in told]
    assert all(any(m == line for m in messages) for line in STEP_LINES), messages
    assert [messages.index(line) for line in STEP_LINES] == sorted(messages.index(line) for line in STEP_LINES)
    shown = "R5_実績報告\\x1b]0;x\\x07.xlsx"
    # the rejected files in one warning (one record to the API however many), a line each
    [rejected] = [m for level, m in told if level == 30 and m.startswith("差戻し: ")]
    assert rejected.splitlines() == [f"差戻し: 教育庁/{shown}(エラー 1 件: value_not_number 実績報告!E7)"]
    [summary] = [m for m in messages if m.startswith("取込結果(実行番号 1): 受理 1 件、差戻し 1 件")]
    assert f"差戻し: 教育庁/{shown}(エラー 1 件)" in summary
    assert not any("\x1b" in m or "\x07" in m for m in messages)
    assert any(m.startswith("Beginning flow run") for m in messages)  # Prefect's INFO lines reach the UI too
    assert any(log["task_run_id"] and log["message"].startswith("Finished in state") for log in logs)


def test_the_terminal_shows_each_line_once(a_night_at_the_terminal):
    """The same night at the terminal: each step line once (not again from Prefect's console handler), the
    summary once, and none of Prefect's INFO lines."""
    _flow_run, _logs, out, err = a_night_at_the_terminal
    lines = (out + err).splitlines()
    for line in STEP_LINES:
        assert [seen for seen in lines if line in seen] == [line], err
    assert sum(line.startswith("取込結果(実行番号 1)") for line in lines) == 1
    assert sum("差戻し: 教育庁/" in line for line in lines) == 1  # the summary's line; the log's warning stays off
    assert "Beginning flow run" not in err and "Finished in state" not in err and "| INFO" not in err, err
    assert "\x1b" not in out + err


def test_with_prefects_info_lines_at_the_terminal_too_each_line_still_shows_once(prefect_server, settings, template,
                                                                               monkeypatch, capsys):
    """An operator who sets PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=INFO sees Prefect's lines at the terminal, and
    shinchoku's still once: the flow's own records stay off Prefect's console handler."""
    import logging

    from flows.ingest import ingest_flow

    consoles = [h for h in logging.getLogger().handlers if type(h).__name__ == "PrefectConsoleHandler"]
    assert consoles
    for handler in consoles:  # onto this test's captured stderr, printing everything
        monkeypatch.setattr(handler.console, "file", sys.stderr)
        monkeypatch.setattr(handler, "level", logging.NOTSET)
    bad = fill_template(template("教育庁", 2023), {"EDU-K01": "集計中"})
    drop(settings, bad, "教育庁")
    ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0, site_build=False)
    lines = capsys.readouterr().err.splitlines()
    assert any("Beginning flow run" in line for line in lines)  # Prefect's INFO lines do reach this terminal
    for line in ("受付: 処理対象 1 件", "検証: 1 件を検証しました"):
        assert [seen for seen in lines if line in seen] == [line]  # printed by shinchoku, not again by Prefect
    assert not any("差戻し" in line or "取込結果" in line for line in lines)  # log-only: `shinchoku run` prints the summary


def test_ingest_flow_end_to_end(prefect_server, settings, template, monkeypatch):
    """The flow, with mail configured through a relay that refuses the connection: the send-mail task retries
    (Prefect's retries, the step's own), then the run stands, published, and the summary says the mail failed."""
    import flows.ingest as flow_module
    from flows.ingest import ingest_flow
    from shinchoku.run.steps import MAIL

    good = fill_template(template("農林水産部", 2023), {"IND-K02": "700 経営体"})
    bad = fill_template(template("教育庁", 2023), {"EDU-K01": "集計中"})
    for path, dept in ((good, "農林水産部"), (bad, "教育庁")):
        drop(settings, path, dept)
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(free_port())), ("SECURITY", "none"),
                        ("SENDER", "dx@pref.example.lg.jp")):
        monkeypatch.setenv(f"SHINCHOKU_MAIL_{name}", value)
    monkeypatch.setitem(flow_module.TASKS, MAIL.name, flow_module.TASKS[MAIL.name].with_options(retry_delay_seconds=0))

    # the caller's site_build overrides the configuration (as `shinchoku demo` runs it)
    result = ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0,
                         site_build=False)
    summary = result.summary
    assert summary.site == [] and not (settings.warehouse.parent / "site").exists()
    assert {d.candidate.department: d.status for d in summary.decisions} == {"農林水産部": "accepted", "教育庁": "rejected"}
    assert query(settings.warehouse, "select kpi_id, fiscal_year, actual_value from kpi_progress") == [("IND-K02", 2023, 700.0)]
    assert (settings.inbox / "教育庁" / "rejected" / bad.name).exists()
    assert len(summary.mail.failed) == 2 and "ConnectionRefusedError" in summary.mail.failed[0].why
    attempts = 1 + MAIL.retries  # the task ran the step once and retried it MAIL.retries times
    assert query(settings.warehouse, "select status, attempts from raw_mail") == [("failed", attempts)] * 2


def test_each_run_publishes_a_markdown_artifact(prefect_server, settings, template):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import ingest_flow

    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, path, "総務部", "paper.xlsx")
    ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)

    async def latest():
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["shinchoku-ingest-summary"])))
            return max(found, key=lambda a: a.created)

    artifact = asyncio.run(latest())
    assert artifact.type == "markdown"
    assert "| 総務部 | paper.xlsx | 受理 |" in artifact.data
    assert "GOV-K02 (2022)" in artifact.data
    # the DX office's morning list: past due with missing KPIs (FY2022 was due 2023-06-30), waiting for confirmation
    todo = artifact.data.split("## 朝の確認事項")[1]
    assert "- 保健福祉部 R4年度(期限 2023-06-30): HLT-K01、HLT-K02" in todo
    assert "- 総務部 R4年度(報告 1/1)" in todo.split("確定待ちの部局・年度:")[1]
    site = settings.warehouse.parent / "site" / "index.html"
    assert f"## 進捗サイト\n\n- 進捗サイト(庁内用): {site}" in artifact.data


def test_the_flow_refuses_to_write_while_another_run_holds_the_lock(prefect_server, settings):
    from flows.ingest import ingest_flow
    from shinchoku.run.publish import run_lock

    settings.warehouse.parent.mkdir(parents=True)
    with run_lock(settings):
        result = ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)
    assert result.locked and "実行中" in result.message
    assert not settings.warehouse.exists()


def test_the_nightly_deployment_schedule():
    from flows.ingest import build_deployment
    from shinchoku.settings import load_settings

    deployment = build_deployment(load_settings(env={}, config_file="/none"))
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Tokyo")
    assert deployment.entrypoint == "flows.ingest.ingest_flow"
    custom = build_deployment(load_settings(env={"SHINCHOKU_SCHEDULE_CRON": "30 3 * * 1-5"}, config_file="/none"))
    assert custom.schedules[0].schedule.cron == "30 3 * * 1-5"


def test_the_flow_runs_the_one_sequence_of_steps_as_tasks(prefect_server, settings, template, monkeypatch):
    """The flow adds task boundaries, never steps: every task is a step of shinchoku.run.steps.STEPS, run in order."""
    import duckdb
    import prefect

    import flows.ingest as flow_module
    from shinchoku.run.steps import STEPS

    names = [s.name for s in STEPS]
    tasks = [v for v in vars(flow_module).values() if isinstance(v, prefect.Task)]
    assert tasks == [] and list(flow_module.TASKS) == names  # no task defined outside the steps
    assert {name: t.retries for name, t in flow_module.TASKS.items()} == {s.name: s.retries for s in STEPS}

    ran = []
    real = flow_module.as_task

    def recording(step, *args):
        # no open DuckDB connection travels between tasks, not even inside an argument
        inside = [a for arg in args for a in (arg, *getattr(arg, "__dict__", {}).values())]
        assert not any(isinstance(a, duckdb.DuckDBPyConnection) for a in inside), step.name
        ran.append(step.name)
        return real(step, *args)

    monkeypatch.setattr(flow_module, "as_task", recording)
    path = fill_template(template("総務部", 2022), {"GOV-K02": 30})
    drop(settings, path, "総務部", "paper.xlsx")
    result = flow_module.ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0)
    assert ran == names and result.summary.count("accepted") == 1
    assert result.summary.site == [f"進捗サイト(庁内用): {settings.warehouse.parent / 'site' / 'index.html'}"]


def test_the_shutdown_workaround_is_for_the_ephemeral_server_only(monkeypatch):
    """prefect.toml leaves Prefect's services on (for `prefect server start`); shinchoku turns the two noisy
    ones off only when it starts the ephemeral server itself, with no PREFECT_API_URL configured."""
    from flows import server
    from shinchoku.config import ROOT

    assert not set(server.EPHEMERAL_ONLY) & set(server.prefect_environment(ROOT))
    for name in (*server.EPHEMERAL_ONLY, *server.QUIET_CONSOLE, "DO_NOT_TRACK"):  # recorded: whatever prefect_env sets is undone
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    server.prefect_env()
    assert not set(server.EPHEMERAL_ONLY) & set(os.environ)
    monkeypatch.delenv("PREFECT_API_URL")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # no API configured (the harness sets one)
        server.prefect_env()
    assert {name: os.environ[name] for name in server.EPHEMERAL_ONLY} == server.EPHEMERAL_ONLY


def test_status_shows_a_failed_night(as_the_office, settings, template, monkeypatch, capsys):
    """A run that fails before publishing never reaches the warehouse; status still shows it, from the Prefect API.
    At the terminal the failure is Prefect's error lines and one sentence, without a traceback, although the
    records also go to the API (whose handler formats, and caches, the traceback first)."""
    import logging

    from prefect.logging.handlers import APILogHandler
    from prefect.settings import PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    from shinchoku.cli import main

    url, run = as_the_office
    assert main(run) == 0
    path = fill_template(template("総務部", 2023), {"GOV-K02": 24}, out=settings.inbox / "総務部" / "next.xlsx")
    monkeypatch.setenv("SHINCHOKU_FAIL_AT", "before_publish")
    monkeypatch.delenv("SHINCHOKU_TRACEBACKS", raising=False)
    capsys.readouterr()
    for handler in logging.getLogger().handlers:  # Prefect's console, onto this test's captured stderr
        if type(handler).__name__ == "PrefectConsoleHandler":
            monkeypatch.setattr(handler.console, "file", sys.stderr)
    with temporary_settings(updates={PREFECT_LOGGING_TO_API_ENABLED: True}):  # as a `shinchoku run` process logs
        assert main(run) == 4
        for handler in logging.getLogger("prefect.flow_runs").handlers:  # sent now, while the server is up
            if isinstance(handler, APILogHandler):
                handler.flush()
    err = capsys.readouterr().err
    assert "取込に失敗しました(InjectedFailure: injected failure at before_publish)" in err
    assert "Task run failed with exception: InjectedFailure" in err  # Prefect's own line, kept
    assert "Traceback" not in err and 'File "' not in err, err
    monkeypatch.delenv("SHINCHOKU_FAIL_AT")

    [flow_run] = _api(url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
    assert flow_run["state_type"] == "FAILED"
    assert main(["status", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("前回の取込(Prefect): ") and "失敗" in lines[0] and flow_run["name"] in lines[0]
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 開始", lines[0])
    assert lines[1].startswith("前回の登録(ウェアハウス): 実行番号 1、")  # the failed run published nothing
    assert path.exists()  # and left the inbox for the next night


def test_serve_registers_the_nightly_deployment(as_the_office, monkeypatch, capsys):
    """`shinchoku serve` against a configured server: the deployment it serves, and the UI address it prints."""
    import prefect

    from shinchoku.cli import main

    url, _run = as_the_office
    served = []
    monkeypatch.setattr(prefect, "serve", lambda *deployments: served.extend(deployments))
    assert main(["serve", "--cron", "30 3 * * *"]) == 0
    [deployment] = served
    assert deployment.name == "nightly" and deployment.schedules[0].schedule.cron == "30 3 * * *"
    assert url.removesuffix("/api") in capsys.readouterr().out


def test_the_yearly_cycle_through_the_cli(as_the_office, settings, template, tmp_path, capsys, monkeypatch):
    """collect → review → confirm → a late change rejected → reopen → the same file accepted → confirm again."""
    from openpyxl import load_workbook

    from shinchoku.cli import main

    monkeypatch.setenv("SHINCHOKU_SITE_BUILD", "false")  # six runs; the site's own tests rebuild it

    _, run = as_the_office
    warehouse = ["--warehouse", str(settings.warehouse)]
    assert main(run) == 0  # 1. 総務部's FY2022 return accepted
    capsys.readouterr()
    assert main(["review", "--year", "R4", "-o", str(tmp_path / "確認リスト.xlsx"), *warehouse]) == 0  # 2.
    listed = capsys.readouterr().out
    assert "■ 総務部 R4年度(未確定)" in listed and "[値] GOV-K02 新規 30" in listed
    checklist = [r for r in load_workbook(tmp_path / "確認リスト.xlsx").active.iter_rows(values_only=True)]
    assert ("総務部", "R4年度", "値", "GOV-K02", "新規 30") in [r[:5] for r in checklist]
    assert main(["confirm", "--year", "R4", "--all", *warehouse]) == 1  # others have not reported: refused whole
    assert "未報告の指標" in capsys.readouterr().out
    assert main(["confirm", "--year", "R4", "--all", "--allow-missing", "--by", "DX推進課 佐藤", *warehouse]) == 0  # 3.
    capsys.readouterr()

    changed = fill_template(template("総務部", 2022), {"GOV-K02": 31}, out=tmp_path / "訂正.xlsx")
    drop(settings, changed, "総務部")
    assert main(["check", "--quiet", str(changed), "--department", "総務部", *warehouse]) == 1  # check sees it too
    assert "R4年度の総務部の実績は" in capsys.readouterr().out
    assert main(run) == 1  # 4. rejected, with its annotated copy
    rejected = settings.inbox / "総務部" / "rejected"
    assert (rejected / "訂正.xlsx").exists() and (rejected / "訂正.エラー箇所.xlsx").exists()
    capsys.readouterr()
    assert main(["reopen", "--year", "R4", "--department", "総務部", "--reason", "部局から訂正の申出",
                 "--by", "DX推進課 佐藤", *warehouse]) == 0  # 5.
    drop(settings, rejected / "訂正.xlsx", "総務部")  # the same bytes again
    assert main(run) == 0  # 6. accepted: assessed afresh, not a duplicate of its own rejection
    assert main(["confirm", "--year", "R4", "--department", "総務部", "--by", "DX推進課 佐藤", *warehouse]) == 0  # 7.

    got = query_many(settings.warehouse, {
        "confirmations": "select confirmed_by, reopened_by, reopen_reason, is_standing from confirmations "
                         "where department = '総務部' and fiscal_year = 2022 order by confirmation_id",
        "issues": "select s.file_name, s.status, i.code from submissions s join validation_issues i using (submission_id) "
                  "where i.severity = 'error'",
        "value": "select actual_value, value_status from kpi_progress where kpi_id = 'GOV-K02' and fiscal_year = 2022",
        "actions": "select action, department from audit_log order by event_id",
    })
    assert got["confirmations"] == [("DX推進課 佐藤", "DX推進課 佐藤", "部局から訂正の申出", False),
                                    ("DX推進課 佐藤", None, None, True)]
    assert got["issues"] == [("訂正.xlsx", "rejected", "period_confirmed")]
    assert got["value"] == [(31.0, "確定")]
    actions = [a for a, _ in got["actions"]]
    confirms = actions.count("confirm") - 1
    assert actions == ["catalogue", "run", *["confirm"] * confirms, "run", "reopen", "run", "confirm"]
    assert confirms >= 1 and ("confirm", "総務部") in got["actions"]


def test_no_task_parameter_or_result_is_walked_or_serialised_per_file(prefect_server, settings, template, monkeypatch):
    """Orchestration is a fixed cost (issue 28): whatever Prefect walks (looking for futures and states, linking
    results to task runs), hashes (cache keys) or serialises (results) in a run is a handful of small objects,
    never a file's decision, candidate or assessment, nor a collection as long as the run's files. The spies wrap
    Prefect's own entry points, so anything the engine starts to walk or store per file shows here."""
    import prefect.cache_policies
    import prefect.flow_engine
    import prefect.serializers
    import prefect.states
    import prefect.task_engine
    import prefect.tasks
    import prefect.utilities.collections
    import prefect.utilities.engine
    from prefect.results import ResultStore

    import flows.ingest as flow_module
    from shinchoku.run.decide import Decision
    from shinchoku.run.inbox import Candidate, Discovery
    from shinchoku.workbook.assess import Assessment

    files = 7  # more than any collection of Prefect's own in a run (the flow's five parameters)
    for i in range(files):
        path = fill_template(template("総務部", 2022), {"GOV-K02": 30 + i} if i else {"GOV-K02": "集計中"},
                             out=settings.inbox.parent / "t" / f"r{i}.xlsx")
        drop(settings, path, "総務部", f"r{i}.xlsx")

    walked, iterated, hashed, serialised, recorded = [], [], [], [], []
    real_visit = prefect.utilities.collections.visit_collection

    def visit(expr, *args, **kwargs):
        walked.append(expr)
        return real_visit(expr, *args, **kwargs)

    # the module's own name (its recursion) and every engine module that imported it by name
    for module in (prefect.utilities.collections, prefect.task_engine, prefect.utilities.engine, prefect.flow_engine):
        monkeypatch.setattr(module, "visit_collection", visit)
    real_iterable = prefect.states.is_state_iterable

    def is_state_iterable(obj):
        iterated.append(obj)
        return real_iterable(obj)

    monkeypatch.setattr(prefect.states, "is_state_iterable", is_state_iterable)
    for module in (prefect.cache_policies, prefect.tasks):
        real_hash = module.hash_objects
        monkeypatch.setattr(module, "hash_objects", lambda *a, _real=real_hash, **k: hashed.append(a) or _real(*a, **k))
    for serializer in (prefect.serializers.PickleSerializer, prefect.serializers.JSONSerializer):
        def dumps(self, obj, _real=serializer.dumps):
            data = _real(self, obj)
            serialised.append((type(obj).__name__, len(data)))
            return data

        monkeypatch.setattr(serializer, "dumps", dumps)
    real_record = ResultStore.create_result_record

    def create_result_record(self, obj, *args, **kwargs):
        recorded.append(obj)
        return real_record(self, obj, *args, **kwargs)

    monkeypatch.setattr(ResultStore, "create_result_record", create_result_record)

    result = flow_module.ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0,
                                     site_build=False)
    assert result.summary.count("accepted") == files - 1 and result.summary.count("rejected") == 1
    assert walked and recorded  # the spies were in the engine's path

    per_file = (Decision, Candidate, Assessment, Discovery)
    assert not [type(e).__name__ for e in walked if isinstance(e, per_file)]
    assert max((len(e) for e in walked if isinstance(e, (list, tuple, set, dict))), default=0) < files
    assert max((len(e) for e in iterated if isinstance(e, (list, tuple, set))), default=0) < files
    assert hashed == []  # no cache keys: NO_CACHE
    assert all(size < 4096 for _name, size in serialised), serialised
    # every task's result as Prefect holds it is the step's handle (or nothing), not what the step returned
    assert {type(r).__name__ for r in recorded} <= {flow_module.Held.__name__, "NoneType", "IngestResult"}, \
        {type(r).__name__ for r in recorded}


def test_a_flow_run_sends_its_heartbeat_and_ends_without_waiting_for_the_heartbeat_thread(prefect_server, settings,
                                                                                           monkeypatch):
    """Prefect's heartbeat thread sleeps a second at a time; a synchronous flow run joined it at its end, so every
    run waited 0–1 s (issue 28's wall-clock "slope"). The flow's runs still send heartbeats, and stop the thread
    without joining it, as Prefect's asynchronous runs do."""
    import prefect.flow_engine

    import flows.heartbeat
    import flows.ingest as flow_module

    stops, beats = [], []
    real = flows.heartbeat._prefects

    def prefects(engine, join_on_exit=True):
        stops.append(join_on_exit)
        return real(engine, join_on_exit=join_on_exit)

    monkeypatch.setattr(flows.heartbeat, "_prefects", prefects)
    real_emit = prefect.flow_engine.FlowRunEngine._emit_flow_run_heartbeat
    monkeypatch.setattr(prefect.flow_engine.FlowRunEngine, "_emit_flow_run_heartbeat",
                        lambda self, *a, **k: beats.append(self.flow_run.id) or real_emit(self, *a, **k))

    result = flow_module.ingest_flow(inbox=str(settings.inbox), warehouse=str(settings.warehouse), settle_seconds=0,
                                     site_build=False)
    assert result.summary.decisions == []
    assert stops == [False]  # Prefect's engine went through the replacement, which does not join
    assert len(beats) >= 1 and len(set(beats)) == 1  # the run's first heartbeat, sent as it started


def test_a_retried_task_finds_its_arguments_in_the_holder(prefect_server, monkeypatch):
    """A step that declares retries (settle-inbox) gets the same arguments on its second attempt: they stay in the
    holder until the task has its outcome, and leave it then, whether the task succeeded or failed."""
    from prefect import flow

    import flows.ingest as flow_module
    from shinchoku.run.steps import Step

    attempts = []

    def flaky(folders, moves):
        attempts.append((folders, moves))
        if len(attempts) == 1:
            raise OSError(16, "Device or resource busy")
        return {"moved": len(moves)}

    def broken(_anything):
        raise OSError(28, "No space left on device")

    steps = (Step("flaky", flaky, retries=1), Step("broken", broken))
    for step in steps:
        monkeypatch.setitem(flow_module.TASKS, step.name, flow_module._task_for(step).with_options(retry_delay_seconds=0))

    @flow(name="shinchoku-retry-check")
    def night():
        moved = flow_module.as_task(steps[0], ["総務部"], ["a.xlsx", "b.xlsx"])
        try:
            flow_module.as_task(steps[1], "x")
        except OSError as e:
            return moved, e.errno
        return moved, None

    assert night() == ({"moved": 2}, 28)
    assert attempts == [(["総務部"], ["a.xlsx", "b.xlsx"])] * 2
    assert flow_module._HELD == {}  # nothing left behind, after a success as after a failure


def test_the_smtp_password_comes_from_a_prefect_secret_block(prefect_server, settings):
    """[mail] password_secret names a Secret block: the flow (and `remind`, `run --no-prefect`) read the password from
    it when the environment gives none; a block that cannot be read leaves none (each mail then fails, with why)."""
    import dataclasses

    from prefect.blocks.system import Secret

    from flows.parameters import with_mail_password

    Secret(value="s3cret!pass").save("shinchoku-smtp-test", overwrite=True)
    mail = dataclasses.replace(settings.mail, host="relay", sender="dx@pref.example.lg.jp", user="shinchoku",
                               password_secret="shinchoku-smtp-test")
    assert with_mail_password(dataclasses.replace(settings, mail=mail)).mail.password == "s3cret!pass"
    given = dataclasses.replace(settings, mail=dataclasses.replace(mail, password="from-the-environment"))
    assert with_mail_password(given).mail.password == "from-the-environment"
    absent = dataclasses.replace(settings, mail=dataclasses.replace(mail, password_secret="no-such-block"))
    assert with_mail_password(absent).mail.password is None
