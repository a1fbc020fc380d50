"""The nightly ingest flow: discover -> assess -> load and publish -> settle the inbox -> report.

Each task wraps one plain function from ``shinchoku.ingest``; tasks are coarse
(one per stage, never one per file or row) because each task run costs an
HTTP round-trip to the Prefect server.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from shinchoku import ingest
from shinchoku.assess import prestart_workers
from shinchoku.catalogue import Catalogue, load_catalogue
from shinchoku.config import Settings, load_settings
from shinchoku.progress import say
from shinchoku.summary import summary_markdown

FLOW_NAME = "shinchoku-ingest"


@task(name="discover", cache_policy=NO_CACHE)
def discover(settings: Settings) -> ingest.Discovery:
    """List the inbox's files in order; skip lock, hidden, settling files and symlinks."""
    found = ingest.discover(settings)
    say(f"受付: 処理対象 {len(found.candidates)} 件、対象外 {len(found.skipped)} 件")
    return found


@task(name="assess", cache_policy=NO_CACHE)
def assess(discovery: ingest.Discovery, stage: ingest.Stage, settings: Settings,
           catalogue: Catalogue) -> list[ingest.Decision]:
    """Hash, set duplicates aside, read and validate every workbook as one batch."""
    decisions = ingest.decide(discovery, ingest.known_hashes(stage), catalogue, settings)
    say(f"検証: {len(decisions)} 件を検証しました")
    return decisions


@task(name="load-and-publish", cache_policy=NO_CACHE)
def load_and_publish(settings: Settings, catalogue: Catalogue, decisions: list[ingest.Decision],
                     discovery: ingest.Discovery, started_at, stage: ingest.Stage) -> ingest.RunSummary:
    """Load into a copy of the warehouse, refresh views, audit, and publish it atomically."""
    summary = ingest.stage_and_publish(settings, catalogue, decisions, discovery, started_at, stage)
    say(f"登録: ウェアハウスを更新しました(実行番号 {summary.run_id})")
    return summary


@task(name="settle-inbox", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def settle_inbox(settings: Settings) -> int:
    """Move accepted files out of the inbox and rejected ones (with feedback) to rejected/."""
    return ingest.settle_moves(settings)


@flow(name=FLOW_NAME, log_prints=False)
def ingest_flow(inbox: str | None = None, warehouse: str | None = None, settle_seconds: float | None = None,
                wait_seconds: float = 0) -> "IngestResult":
    """One ingest of the inbox into the warehouse; the result carries the run summary."""
    settings = load_settings(inbox=inbox, warehouse=warehouse, settle_seconds=settle_seconds)
    catalogue = load_catalogue()
    started = ingest.now_jst()
    try:
        with ingest.run_lock(settings, wait_seconds):
            prestart_workers()
            note = ingest.recover(settings)
            if note:
                say(note)
            discovery = discover(settings)
            stage = ingest.prepare_stage(settings)
            # quote(): Prefect would otherwise walk every object of these large batches looking
            # for futures to track, which costs more than the ingest itself at 10,000 files.
            # Prefect unwraps the quote before the task runs.
            try:
                decisions = assess(quote(discovery), quote(stage), settings, catalogue)
                summary = load_and_publish(settings, catalogue, quote(decisions), quote(discovery), started,
                                           quote(stage))
            finally:
                stage.close()
            settle_inbox(settings)
    except ingest.RunLocked as e:
        return IngestResult(locked=True, message=str(e))
    create_markdown_artifact(summary_markdown(summary), key="shinchoku-ingest-summary",
                             description="shinchoku 取込結果")
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
