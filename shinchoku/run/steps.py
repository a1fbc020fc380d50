"""One ingest run: the sequence of steps, defined once.

``run_ingest`` runs the steps as plain calls; the Prefect flow in ``flows/ingest.py``
runs the very same sequence with each step as a task (task boundaries, retries, the
artifact), through the ``call`` hook. Nothing else differs, and a test holds it so.

    lock → recover → discover → assess → load-and-publish → settle-inbox → build-site

The last step rebuilds the progress site from what was just published. Its failure is the
site's alone: the run stands, its summary names the failure, and its exit status is the ingest's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..catalogue import Catalogue
from ..config import Settings
from .decide import Decision, decide
from .inbox import Discovery, discover, now_jst
from .publish import RunSummary, Stage, crash_point, prepare_stage, recover, run_lock, settle_moves, stage_and_publish
from ..documents.summary import receipt_line


@dataclass(frozen=True)
class Step:
    """One stage of a run: a plain function, the name its Prefect task runs under, and its retries."""

    name: str
    run: Callable
    retries: int = 0  # only steps that touch the outside world again safely retry
    tell: Callable[[object], str] | None = None  # a progress line from the step's result


def _discover(settings: Settings) -> tuple[Discovery, Stage]:
    """List the inbox's files, and stage a private copy of the warehouse for this run."""
    found = discover(settings)
    crash_point("after_discover")
    return found, prepare_stage(settings)


def _assess(settings: Settings, catalogue: Catalogue, discovery: Discovery, stage: Stage) -> list[Decision]:
    """Hash, set duplicates aside, read and validate every workbook as one batch."""
    return decide(discovery, stage.known, catalogue, settings, stage.confirmed)


def _site(settings: Settings) -> list[str]:
    """Rebuild the progress site(s) from the warehouse just published (Jinja2 and the report's code are
    imported only when a run gets here)."""
    from ..documents.site import rebuild

    return rebuild(settings)


DISCOVER = Step("discover", _discover, tell=lambda r: receipt_line(r[0]))
ASSESS = Step("assess", _assess, tell=lambda r: f"検証: {len(r)} 件を検証しました")
LOAD = Step("load-and-publish", stage_and_publish, tell=lambda r: f"登録: ウェアハウスを更新しました(実行番号 {r.run_id})")
SETTLE = Step("settle-inbox", settle_moves, retries=2)
SITE = Step("build-site", _site)
STEPS = (DISCOVER, ASSESS, LOAD, SETTLE, SITE)


def _plain(step: Step, *args):
    return step.run(*args)


def _silent(_message: str) -> None:
    pass


def run_steps(settings: Settings, catalogue: Catalogue, wait_seconds: float = 0,
              call: Callable = _plain, say: Callable[[str], None] = _silent) -> RunSummary:
    """The one sequence of a run. ``call(step, *args)`` runs a step (plainly, or as a Prefect task)."""
    from ..workbook.assess import prestart_workers

    started = now_jst()
    with run_lock(settings, wait_seconds):
        prestart_workers()
        note = recover(settings)
        if note:
            say(note)
        crash_point("run_started")

        def step(s: Step, *args):
            result = call(s, *args)
            if s.tell:
                say(s.tell(result))
            return result

        discovery, stage = step(DISCOVER, settings)
        decisions = step(ASSESS, settings, catalogue, discovery, stage)
        crash_point("after_assess")
        summary = step(LOAD, settings, catalogue, decisions, discovery, started, stage)
        for folder, why in (step(SETTLE, settings) or {}).items():  # a rejected/ made unsafe after it was checked
            summary.refuse(folder, why)
        crash_point("run_finished")
        if settings.site_build:
            try:
                summary.site = step(SITE, settings)
            except Exception as e:  # noqa: BLE001 - the run is published; the site's failure is told, not raised
                summary.site_error = f"{type(e).__name__}: {e}"
    return summary


def run_ingest(settings: Settings, catalogue: Catalogue, wait_seconds: float = 0) -> RunSummary:
    """One whole ingest, without Prefect."""
    return run_steps(settings, catalogue, wait_seconds)
