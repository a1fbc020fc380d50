"""The nightly ingest flow: the run's one sequence of steps (``shinchoku.ingest``), each step a task.

The flow adds only what Prefect adds: task boundaries and runs in the UI, retries
where a step declares them, and the run's summary as an artifact. Tasks are
coarse (one per step, never per file or row) because each task run costs an
HTTP round-trip to the Prefect server.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from shinchoku.catalogue import load_catalogue
from shinchoku.config import Settings, load_settings
from shinchoku.inbox import now_jst
from shinchoku.ingest import STEPS, Step, run_steps
from shinchoku.progress import say
from shinchoku.publish import RunLocked
from shinchoku.summary import summary_markdown, to_do

FLOW_NAME = "shinchoku-ingest"

TASKS = {step.name: task(step.run, name=step.name, cache_policy=NO_CACHE, retries=step.retries,
                         retry_delay_seconds=5 if step.retries else 0)
         for step in STEPS}


def as_task(step: Step, *args):
    """Run a step as its Prefect task.

    quote(): Prefect would otherwise walk every object of a large batch looking for
    futures to track, which costs more than the ingest itself at 10,000 files. Prefect
    unwraps the quote before the task runs.
    """
    return TASKS[step.name](*(quote(a) for a in args))


def run_name() -> str:
    """A flow run's name: when it ran, in JST (「取込 2026-11-29 02:00」), so a year of nightly runs reads as a calendar."""
    return f"取込 {now_jst():%Y-%m-%d %H:%M}"


@flow(name=FLOW_NAME, flow_run_name=run_name, log_prints=False)
def ingest_flow(inbox: str | None = None, warehouse: str | None = None, settle_seconds: float | None = None,
                wait_seconds: float = 0, site_build: bool | None = None) -> "IngestResult":
    """One ingest of the inbox into the warehouse; the result carries the run summary. ``site_build``
    overrides the configuration's [site] build (None: as configured)."""
    settings = load_settings(inbox=inbox, warehouse=warehouse, settle_seconds=settle_seconds, site_build=site_build)
    try:
        summary = run_steps(settings, load_catalogue(), wait_seconds, call=as_task, say=say)
    except RunLocked as e:
        return IngestResult(locked=True, message=str(e))
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
