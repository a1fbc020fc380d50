"""One ingest run: the sequence of steps, defined once.

``run_ingest`` runs the steps as plain calls; the Prefect flow in ``flows/ingest.py``
runs the very same sequence with each step as a task (task boundaries, retries, the
artifact), through the ``call`` hook. Nothing else differs, and a test holds it so.

    lock → recover → discover → assess → load-and-publish → settle-inbox → send-mail → build-site

The run queues one mail per file it decided while it loads (:mod:`shinchoku.run.mail`), and sends them once the
warehouse is published and the inbox settled, so a mail never tells of a run that did not happen and can say where
a rejected file went. It comes before the site: the site does not wait on the mail nor the mail on the site, the
slowest step and the likelier to fail, and a department hears back as soon as its file is decided. A failed send
is the mail's alone, as a failed site build is the site's: the run stands, its summary names the failure, and its
exit status is the ingest's.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import database
from ..catalogue import Catalogue
from ..config import Settings
from ..documents.summary import receipt_line
from ..workbook.messages import Issue
from ..workbook.pool import prestart_workers
from . import warehouse as wh
from .crash import crash_point
from .decide import Decision, decide
from .feedback import write_feedback
from .inbox import REJECTED, Discovery, Folders, UnsafeFolder, discover, free_name, now_jst
from .load import load_run
from .mail import MailNotSent, MailOutcome, queue_receipts, send_step
from .publish import Stage, actor, prepare_stage, publish, recover, run_lock, settle_moves


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
    return decide(discovery, stage.known, catalogue, settings, stage.confirmed, stage.history)


@dataclass
class RunSummary:
    """What a run did, for the terminal, the Prefect artifact and the benchmark."""

    run_id: int
    warehouse: Path
    decisions: list[Decision]
    skipped: list[tuple[Path, str]]
    kpis_updated: list[tuple[str, int]]
    feedback: dict[int, list[Path]] = field(default_factory=dict)
    moved: dict[int, Path] = field(default_factory=dict)  # where each rejected original goes (submission id)
    refused: dict[str, str] = field(default_factory=dict)  # folder ("" the inbox root) -> why its rejected/ is unsafe
    site: list[str] = field(default_factory=list)  # the progress site's lines, after the run
    site_error: str | None = None  # why the site was not rebuilt (the run itself stands)
    mail: MailOutcome | None = None  # what the mail step sent, and what it could not
    mail_error: str | None = None  # why the mail step itself failed (the run stands; its mail waits in the outbox)

    def count(self, status: str) -> int:
        return sum(1 for d in self.decisions if d.status == status)

    @property
    def exit_code(self) -> int:
        return 1 if self.count("rejected") else 0

    def refuse(self, folder: str, why: str) -> None:
        """Nothing was moved into ``folder``'s rejected/: say so, and name no destination there."""
        self.refused.setdefault(folder, why)
        for decision in self.decisions:
            if decision.candidate.folder == folder:
                self.feedback.pop(decision.submission_id, None)
                self.moved.pop(decision.submission_id, None)


def stage_and_publish(settings: Settings, catalogue: Catalogue, decisions: list[Decision],
                      discovery: Discovery, started_at: dt.datetime, stage: Stage) -> RunSummary:
    """Write the new warehouse state into the staged copy, archive originals, stage feedback, then publish."""
    tmp = stage.path
    current = wh.fingerprint(catalogue, settings)
    if stage.fresh:
        wh.copy_blank(tmp, catalogue, settings, current)  # schema, reference data and views, built once
    folders = Folders(settings)
    try:
        refused = _check_rejected_folders(folders, decisions)
        con = database.connect(tmp, read_only=False)
        try:
            con.execute("begin transaction")  # one transaction: catalog changes (views) are much cheaper in one
            run_id, kpis_updated = load_run(con, decisions, started_at,
                                            {name: g.code for name, g in catalogue.local_governments_by_name.items()})
            if wh.refresh(con, catalogue, settings, current) or stage.fresh:  # a catalogue this run sees first
                wh.audit(con, "catalogue", actor=actor(), run_id=run_id, catalogue_fingerprint=current,
                         detail=f"指標 {len(catalogue.kpis)}、改定 {len(catalogue.revisions)}")
            counts = {s: sum(d.status == s for d in decisions) for s in ("accepted", "rejected", "duplicate")}
            wh.audit(con, "run", actor=actor(), run_id=run_id,
                     detail=f"受理 {counts['accepted']}、差戻し {counts['rejected']}、重複 {counts['duplicate']}、"
                            f"更新した指標・年度 {len(kpis_updated)}")
            wh.run_audits(con)
            con.execute("commit")
            con.execute("checkpoint")
        finally:
            con.close()

        # Feedback for rejected files is written to staging now and moved beside them after publishing.
        staging = settings.staging_dir / str(run_id)
        shutil.rmtree(staging, ignore_errors=True)
        moves: list[dict] = []
        copies: dict[int, tuple[str, Path]] = {}  # each rejected file's annotated copy: its name in rejected/, staged
        taken: dict[str, set[str]] = {}
        summary = RunSummary(run_id, settings.warehouse, decisions, discovery.skipped, kpis_updated)
        for decision in decisions:
            cand = decision.candidate
            where = {"folder": cand.folder, "folder_id": list(cand.folder_id)}
            if decision.status in ("accepted", "duplicate"):
                moves.append({"op": "delete", **where, "name": cand.name, **cand.identity()})
                continue
            if cand.folder in refused:
                cand.data = None
                continue  # left where it is: the summary says why
            rejected_fd, names = folders.rejected(cand.folder, cand.folder_id), taken.setdefault(cand.folder, set())
            dest = free_name(rejected_fd, cand.name, names)
            moves.append({"op": "move", **where, "name": cand.name, "dest": dest, **cand.identity()})
            summary.moved[decision.submission_id] = folders.display(cand.folder, REJECTED, dest)
            for made in write_feedback(decision, staging / str(decision.submission_id), dest):
                final = free_name(rejected_fd, made.name, names)
                moves.append({"op": "feedback", **where, "src": str(made), "dest": final})
                if made.suffix == ".xlsx":
                    copies[decision.submission_id] = (final, made)
                summary.feedback.setdefault(decision.submission_id, []).append(folders.display(cand.folder, REJECTED, final))
            cand.data = None  # the bytes are done with: archived, assessed, annotated
    finally:
        folders.close()
    for folder, why in refused.items():
        summary.refuse(folder, why)
    if settings.mail.enabled:  # no host: nothing is queued, so nothing waits to flood out when mail is turned on
        queue_receipts(tmp, settings, catalogue, summary, copies)
    publish(settings, tmp, {"run_id": run_id, "moves": moves, "staging": str(staging)})
    return summary


def _check_rejected_folders(folders: Folders, decisions: list[Decision]) -> dict[str, str]:
    """Open (creating where absent) the rejected/ of every folder with a rejected file; the unsafe ones'
    files get the warning ``rejected_folder_unsafe`` (recorded with their submission) and are not moved."""
    refused: dict[str, str] = {}
    for decision in decisions:
        cand = decision.candidate
        if decision.status != "rejected":
            continue
        try:
            folders.rejected(cand.folder, cand.folder_id)
        except UnsafeFolder as e:
            refused.setdefault(cand.folder, str(e))
            decision.issues.append(Issue("rejected_folder_unsafe", params={"detail": str(e)}))
    return refused


def _site(settings: Settings) -> list[str]:
    """Rebuild the progress site(s) from the warehouse just published (Jinja2 and the report's code are
    imported only when a run gets here)."""
    from ..documents.site import rebuild

    return rebuild(settings)


DISCOVER = Step("discover", _discover, tell=lambda r: receipt_line(r[0]))
ASSESS = Step("assess", _assess, tell=lambda r: f"検証: {len(r)} 件を検証しました")
LOAD = Step("load-and-publish", stage_and_publish, tell=lambda r: f"登録: ウェアハウスを更新しました(実行番号 {r.run_id})")
SETTLE = Step("settle-inbox", settle_moves, retries=2)
MAIL = Step("send-mail", send_step, retries=2)  # told once, with the summary (mail_lines), as the site is
SITE = Step("build-site", _site)
STEPS = (DISCOVER, ASSESS, LOAD, SETTLE, MAIL, SITE)


def _plain(step: Step, *args):
    return step.run(*args)


def _silent(_message: str) -> None:
    pass


def run_steps(settings: Settings, catalogue: Catalogue, wait_seconds: float = 0,
              call: Callable = _plain, say: Callable[[str], None] = _silent) -> RunSummary:
    """The one sequence of a run. ``call(step, *args)`` runs a step (plainly, or as a Prefect task)."""
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
        try:  # the run is published: a mail's failure is told, recorded and retried, never raised
            summary.mail = step(MAIL, settings, catalogue)
        except MailNotSent as e:
            summary.mail = e.outcome
        except Exception as e:  # noqa: BLE001 - as for the site: the run stands, the outbox keeps the mail
            summary.mail_error = f"{type(e).__name__}: {e}"
        if settings.site_build:
            try:
                summary.site = step(SITE, settings)
            except Exception as e:  # noqa: BLE001 - the run is published; the site's failure is told, not raised
                summary.site_error = f"{type(e).__name__}: {e}"
    return summary


def run_ingest(settings: Settings, catalogue: Catalogue, wait_seconds: float = 0) -> RunSummary:
    """One whole ingest, without Prefect."""
    return run_steps(settings, catalogue, wait_seconds)
