"""The nightly ingest flow: the run's one sequence of steps (``shinchoku.run.steps``), each step a task.

The flow adds only what Prefect adds: task boundaries and runs in the UI, retries
where a step declares them, the run's story in the flow run's log, and the run's
summary as an artifact. Tasks are coarse (one per step, never per file or row)
because each task run costs an HTTP round-trip to the Prefect server, and what a task
is given or returns is a handle (``Held``), so Prefect's cost stays the same for 10 or
10,000 workbooks (issue 28; ``python -m bench --flow-cost`` measures it).
"""

from __future__ import annotations

import itertools
import logging

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows import heartbeat
from flows.parameters import flow_settings

from shinchoku.catalogue import load_catalogue
from shinchoku.config import Settings
from shinchoku.run.inbox import now_jst
from shinchoku.run.steps import STEPS, Step, run_steps
from shinchoku.run.progress import say
from shinchoku.run.publish import RunLocked
from shinchoku.documents.summary import rejection_lines, summary_markdown, summary_text, to_do
from shinchoku.workbook.text import terminal_safe

FLOW_NAME = "shinchoku-ingest"

heartbeat.install()  # a flow run's end does not wait out the heartbeat thread's second


class Held:
    """A step's arguments or its result as Prefect sees them: a small key into this process's holder.

    Prefect walks a task's parameters (looking for futures and states to record as the task run's inputs) and
    its result (linking each element to the task run), and would serialise or hash them if results were
    persisted or cached. Handed the run's decisions, that is work per file; handed a Held, it is one object
    per task, whatever the number of files: not a collection, not a dataclass, and pickled as its key alone.
    """

    __slots__ = ("key", "__weakref__")  # weakref: Prefect links a result to its task run by identity

    def __init__(self, key: int):
        self.key = key

    def __reduce__(self):
        return (Held, (self.key,))

    def __repr__(self) -> str:
        return f"Held({self.key})"


# The holder: what the handles stand for, in this process only, while the step that needs it runs.
_HELD: dict[int, object] = {}
_KEYS = itertools.count(1)


def hold(value) -> Held:
    handle = Held(next(_KEYS))
    _HELD[handle.key] = value
    return handle


def release(handle: Held):
    """What a handle stood for, taken out of the holder."""
    return _HELD.pop(handle.key)


def _task_for(step: Step):
    """A step as a Prefect task that takes and returns handles. The arguments stay in the holder until
    ``as_task`` has the task's outcome, so a retried task finds them again."""

    def run_step(arguments: Held) -> Held:
        return hold(step.run(*_HELD[arguments.key]))

    run_step.__name__ = run_step.__qualname__ = step.run.__name__.lstrip("_").replace("-", "_")
    run_step.__doc__ = step.run.__doc__
    return task(run_step, name=step.name, cache_policy=NO_CACHE, retries=step.retries,
                retry_delay_seconds=5 if step.retries else 0)


TASKS = {step.name: _task_for(step) for step in STEPS}


def as_task(step: Step, *args):
    """Run a step as its Prefect task, through the holder: the task gets one handle for its arguments
    and returns one for its result (see ``Held``); the caller gets the step's own result."""
    arguments = hold(args)
    try:
        return release(TASKS[step.name](arguments))
    finally:
        release(arguments)


def run_name() -> str:
    """A flow run's name: when it ran, in JST (「取込 2026-11-29 02:00」), so a year of nightly runs reads as a calendar."""
    return f"取込 {now_jst():%Y-%m-%d %H:%M}"


# A record's mark: a line of shinchoku's own, which the terminal gets from shinchoku (``say``, the summary
# `shinchoku run` prints), never again from Prefect's console handler.
OWN_LINE = "shinchoku_line"


class _NotTwice(logging.Filter):
    """On Prefect's console handler: leave out shinchoku's own lines (they reach the terminal once, from shinchoku)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, OWN_LINE, False)


def _console_once() -> None:
    """Put the filter on Prefect's console handler(s) once; the API's handler still gets every line."""
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler" and not any(isinstance(f, _NotTwice) for f in handler.filters):
            handler.addFilter(_NotTwice())


def log(line: str, level: int = logging.INFO) -> None:
    """A line into the flow run's log (the Prefect UI), made terminal-safe: it may hold a department's file name."""
    get_run_logger().log(level, terminal_safe(line), extra={OWN_LINE: True})


def tell(line: str) -> None:
    """The flow's ``say``: the progress line at the terminal (once), and in the flow run's log."""
    say(line)
    log(line)


@flow(name=FLOW_NAME, flow_run_name=run_name, log_prints=False)
def ingest_flow(inbox: str | None = None, warehouse: str | None = None, settle_seconds: float | None = None,
                wait_seconds: float = 0, site_build: bool | None = None, mail: bool = True) -> "IngestResult":
    """One ingest of the inbox into the warehouse; the result carries the run summary. ``site_build``
    overrides the configuration's [site] build (None: as configured); ``mail=False``: no mail, however configured.

    The flow run's log tells the night: each step's line as the terminal shows it, each rejected file with
    its error codes (a warning), and the run's summary; `shinchoku run` prints the summary itself."""
    _console_once()
    settings = flow_settings(inbox, warehouse, settle_seconds, site_build, mail)
    try:
        summary = run_steps(settings, load_catalogue(), wait_seconds, call=as_task, say=tell)
    except RunLocked as e:
        log(str(e), logging.WARNING)
        return IngestResult(locked=True, message=str(e))
    rejected = rejection_lines(summary)
    if rejected:  # one warning listing them: one record to the API however many files were rejected
        log("\n".join(rejected), logging.WARNING)
    log(summary_text(summary))
    create_markdown_artifact(summary_markdown(summary) + "\n## 朝の確認事項\n\n" + to_do(settings.warehouse) + "\n",
                             key="shinchoku-ingest-summary", description="shinchoku 取込結果")
    return IngestResult(summary=summary)


class IngestResult:
    """What the flow returns: deliberately not a dataclass or a collection, so Prefect does not
    walk every decision of a large run looking for futures when the flow completes."""

    __slots__ = ("locked", "message", "summary")

    def __init__(self, summary=None, locked: bool = False, message: str = ""):
        self.summary, self.locked, self.message = summary, locked, message


def build_deployment(settings: Settings):
    """The nightly deployment exactly as ``shinchoku serve`` serves it: cron in the configured time zone."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    return ingest_flow.to_deployment(
        name="nightly",
        schedules=[Cron(settings.schedule_cron, timezone=settings.schedule_timezone)],
        parameters={"inbox": str(settings.inbox), "warehouse": str(settings.warehouse), "wait_seconds": 600},
        description="shinchoku: 受付フォルダの報告様式を毎晩取り込み、進捗ビューを更新する",
        tags=["shinchoku"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
