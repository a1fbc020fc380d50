"""Prefect's side of the commands: its environment, running the flow, the nightly deployment, and the last
flow run through the Prefect REST API (for ``shinchoku status``).

Imported by the CLI at start-up, so Prefect itself is imported only inside the functions that need it
(its start-up takes seconds); the core (``shinchoku``) never imports Prefect.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import urllib.request
from pathlib import Path

from shinchoku.config import ROOT, find_project
from shinchoku.run.inbox import JST
from shinchoku.run.progress import waiting
from shinchoku.run.publish import RunLocked, run_lock


def prefect_environment(project: Path) -> dict[str, str]:
    """The project's prefect.toml as PREFECT_* variables, its home resolved in the project folder.

    Prefect reads prefect.toml from the working directory only; run from anywhere else, the
    same settings reach it this way, so the file stays the one place they are written.
    """
    import tomllib

    source = project / "prefect.toml" if (project / "prefect.toml").exists() else ROOT / "prefect.toml"
    found: dict[str, str] = {}

    def flatten(prefix: str, table: dict) -> None:
        for key, value in table.items():
            name = f"{prefix}_{key}".upper()
            if isinstance(value, dict):
                flatten(name, value)
            else:
                found[name] = str(value).lower() if isinstance(value, bool) else str(value)

    flatten("PREFECT", tomllib.loads(source.read_text(encoding="utf-8")))
    if "PREFECT_HOME" in found:
        found["PREFECT_HOME"] = str((project / found["PREFECT_HOME"]).absolute())
    return found


# Services of the ephemeral server that print tracebacks when it shuts down after a run; turned off
# only when shinchoku starts that server itself (no PREFECT_API_URL), never for `prefect server start`.
EPHEMERAL_ONLY = {"PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
                  "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false"}


# Prefect's console handler prints warnings and errors only; its INFO lines (a flow run beginning, each task run
# created and finished) go to the API, so the UI, alone (prefect.toml's [logging] level is INFO). Prefect reads a
# handler's level from the environment only, so it is set here, before Prefect is imported; set it yourself to
# see Prefect's INFO lines at the terminal. shinchoku's own lines reach the terminal once however it is set
# (flows/ingest.py keeps them off Prefect's console handler).
QUIET_CONSOLE = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}


def prefect_env() -> None:
    # No usage data leaves the prefecture's machines (Prefect's client telemetry honours DO_NOT_TRACK).
    os.environ.setdefault("DO_NOT_TRACK", "1")
    for name, value in QUIET_CONSOLE.items():
        os.environ.setdefault(name, value)
    project = find_project()
    if Path.cwd().resolve() != project.resolve() or not (project / "prefect.toml").exists():
        for name, value in prefect_environment(project).items():
            os.environ.setdefault(name, value)
    if not api_url():
        for name, value in EPHEMERAL_ONLY.items():
            os.environ.setdefault(name, value)


def api_url() -> str | None:
    """The Prefect API shinchoku talks to, if one is configured (environment or the active profile)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import PREFECT_API_URL  # only when the environment does not say: Prefect's start-up is slow

    return PREFECT_API_URL.value()


def run_flow(settings, wait: float = 0):
    """Run the ingest flow, telling the user what happens while Prefect starts; return the summary."""
    try:  # fail fast, before paying for Prefect's start-up
        with run_lock(settings, 0):
            pass
    except RunLocked:
        if not wait:
            raise
    with waiting("Prefect を読み込んでいます…"):
        prefect_env()
        from flows.ingest import ingest_flow  # Prefect's start-up (seconds): paid only by the commands that run the flow
        from flows.parameters import flow_parameters
    _one_line_errors()
    # The ticking line ends when the flow's first step reports (the server is up by then).
    starting = ("Prefect サーバーで実行しています…" if os.environ.get("PREFECT_API_URL")
                else "Prefect のローカルサーバーを起動しています(初回は1分ほどかかります)…")
    with waiting(starting):
        result = ingest_flow(**flow_parameters(settings, wait))
    if result.locked:
        raise RunLocked(result.message)
    return result.summary


def _one_line_errors() -> None:
    """At the terminal, Prefect's error records print as their one line, without the traceback (a failed run or
    site build is told in a sentence, not as a crash); the Prefect server and its UI keep them whole.
    SHINCHOKU_TRACEBACKS=1 keeps them on the terminal too.

    The console handler formats a copy of each record without its exception: a record is shared by every
    handler, and the API's handler, which runs first, has already cached the traceback in it (exc_text)."""
    import logging

    if os.environ.get("SHINCHOKU_TRACEBACKS") == "1":
        return
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for handler in {h for logger in loggers for h in getattr(logger, "handlers", ())}:
        if type(handler).__name__ == "PrefectConsoleHandler" and not getattr(handler, "_shinchoku_one_line", False):
            handler.format = functools.partial(_format_without_traceback, handler.format)
            handler._shinchoku_one_line = True


def _format_without_traceback(format_record, record):
    import logging

    if record.exc_info or record.exc_text or record.stack_info:
        record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
    return format_record(record)


def serve_nightly(settings) -> None:
    """Register the nightly deployment with the Prefect server and run it on its schedule (until stopped)."""
    from prefect import serve  # Prefect's start-up: only for this command

    from flows.ingest import build_deployment

    serve(build_deployment(settings))


STATE_JA = {"COMPLETED": "完了", "FAILED": "失敗", "CRASHED": "異常終了", "RUNNING": "実行中", "PENDING": "待機中",
            "SCHEDULED": "予定", "CANCELLED": "取消", "CANCELLING": "取消中", "PAUSED": "一時停止"}


def last_flow_run() -> list[str]:
    """The last flow run with its state, where a Prefect API is configured (PREFECT_API_URL), so a run that
    failed or crashed before publishing still shows; [] without an API."""
    lines = []
    api = os.environ.get("PREFECT_API_URL")
    if api:
        body = json.dumps({"flows": {"name": {"any_": ["shinchoku-ingest"]}}, "sort": "START_TIME_DESC",
                           "limit": 1}).encode()
        request = urllib.request.Request(api.rstrip("/") + "/flow_runs/filter", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                found = json.loads(response.read())
        except (OSError, ValueError) as e:
            lines.append(f"前回の取込(Prefect): API に接続できません({api}: {e})")
        else:
            if found:
                run = found[0]
                started = run.get("start_time") or run.get("expected_start_time")
                when = (dt.datetime.fromisoformat(started.replace("Z", "+00:00")).astimezone(JST).strftime("%Y-%m-%d %H:%M")
                        if started else "未開始")
                state = STATE_JA.get(run.get("state_type"), run.get("state_type") or "不明")
                lines.append(f"前回の取込(Prefect): {when} 開始、{state}({run.get('name')})")
            else:
                lines.append("前回の取込(Prefect): 記録なし")
    return lines
