"""Deciding each file's fate: duplicate (by sha256, before any parsing), accepted or rejected.

Each file is read once (:func:`shinchoku.run.inbox.read_candidates`); its bytes are hashed, archived and
assessed, and dropped as soon as nothing needs them (a rejected file's are kept until its annotated copy
is written). A duplicate is the same bytes as a file *accepted* from the *same folder* (earlier, or in this
run): a copy of a rejected file is assessed again, and a copy in another department's folder never
settles anything for that department.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathlib import Path

from ..catalogue import Catalogue
from ..config import Settings
from ..workbook.assess import Assessment, assess_files
from ..workbook.messages import Issue
from ..workbook.reader import WorkbookRead
from .archive import archive_all
from .confirmed import Period, hold_confirmed
from .inbox import Candidate, Discovery, read_candidates
from .jumps import History, units_of, warn_jumps


@dataclass
class Decision:
    """The fate of one candidate: accepted, rejected or duplicate, with what goes with it."""

    candidate: Candidate
    status: str
    assessment: Assessment | None = None
    duplicate_of: int | None = None  # the earlier submission with the same bytes
    original: "Decision | None" = None  # ... or the decision in this run that has them, until ids exist
    submission_id: int = 0
    issues: list[Issue] = field(default_factory=list)
    archive_path: str | None = None
    copy_skipped: str | None = None  # why a rejected file got no annotated copy (feedback.write_feedback)

    @property
    def read(self) -> WorkbookRead | None:
        return self.assessment.read if self.assessment else None


def decide(discovery: Discovery, known: dict[tuple[str | None, str], int], catalogue: Catalogue, settings: Settings,
           confirmed: dict | None = None, history: History | None = None) -> list[Decision]:
    """Read and hash every candidate, set duplicates aside before parsing, assess the rest as one batch, then
    hold confirmed years (``confirmed``: the standing confirmations, see :mod:`shinchoku.run.confirm`) and warn
    of values ten times their last accepted year's (``history``, see :mod:`shinchoku.run.jumps`).

    ``known``: (department, sha256) -> first submission id, of files already *accepted*. Originals are
    archived (in this process, from the bytes read) while the workers parse.
    """
    decisions: list[Decision] = []
    first_in_run: dict[tuple[str | None, str], Decision] = {}
    batch: list[Decision] = []
    copies: list[Decision] = []  # same folder, same bytes as a file of this run not yet decided
    for cand, why_not in read_candidates(settings, discovery.candidates):
        if why_not:
            discovery.skipped.append((cand.path, why_not))  # changed under us, a link now, gone, no permission
            continue
        key = (cand.department, cand.sha256)
        if cand.department is None:
            decisions.append(Decision(cand, "rejected", issues=[Issue("misplaced_file")]))
        elif key in known:
            cand.data = None
            decisions.append(Decision(cand, "duplicate", duplicate_of=known[key]))
        elif key in first_in_run:
            decision = Decision(cand, "pending", original=first_in_run[key])
            copies.append(decision)
            decisions.append(decision)
        else:
            decision = Decision(cand, "pending")
            first_in_run[key] = decision
            decisions.append(decision)
            batch.append(decision)
    fresh = [d for d in decisions if d.original is None and d.status != "duplicate"]

    def archive() -> None:
        for decision, path in zip(fresh, archive_all(settings, [d.candidate for d in fresh])):
            decision.archive_path = path

    _assess(batch, catalogue, settings, confirmed, history, meanwhile=archive)
    # A copy of a file accepted in this run is its duplicate; a copy of a rejected one is assessed on its own.
    again = []
    for decision in copies:
        if decision.original.status == "accepted":
            decision.status = "duplicate"
            decision.candidate.data = None
        else:
            decision.original, decision.archive_path = None, decision.original.archive_path
            again.append(decision)
    _assess(again, catalogue, settings, confirmed, history)
    for decision in decisions:
        if decision.status != "rejected":
            decision.candidate.data = None  # only a rejected file's annotated copy still needs the bytes
    return decisions


def judge(items: list[tuple[Path | bytes, str | None]], catalogue: Catalogue, settings: Settings,
          confirmed: dict[tuple[str, int], Period] | None = None, meanwhile=None,
          history: History | None = None) -> list[Assessment]:
    """The one judgement of files, for a run and for ``shinchoku check`` alike: assess them (path or bytes, with
    the trusted department or None) as one batch, with the run's limits, workers and bands, then hold the
    confirmed years (``confirmed``: the standing confirmations) and warn of values ten times (or a tenth of)
    their last accepted year's (``history``: the warehouse's accepted values, see :mod:`shinchoku.run.jumps`)."""
    assessments = assess_files(items, catalogue, settings.limits, settings.worker_count(), meanwhile=meanwhile,
                               grading=settings.grading)
    units = units_of(catalogue)
    for assessment in assessments:
        hold_confirmed(assessment, confirmed or {})
        warn_jumps(assessment, history or {}, units)
    return assessments


def _assess(batch: list[Decision], catalogue: Catalogue, settings: Settings, confirmed: dict | None,
            history: History | None, meanwhile=None) -> None:
    assessments = judge([(d.candidate.data, d.candidate.department) for d in batch], catalogue, settings, confirmed,
                        meanwhile, history)
    for decision, assessment in zip(batch, assessments):
        decision.assessment = assessment
        decision.issues = assessment.issues
        decision.status = "accepted" if assessment.accepted else "rejected"
