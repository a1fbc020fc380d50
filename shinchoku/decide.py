"""Deciding each file's fate: duplicate (by sha256, before any parsing), accepted or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field

from .archive import CHANGED, archive_all
from .assess import Assessment, assess_files
from .catalogue import Catalogue
from .config import Settings
from .inbox import Candidate, Discovery, sha256_of
from .messages import Issue
from .reader import WorkbookRead

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



def decide(discovery: Discovery, known: dict[str, int], catalogue: Catalogue, settings: Settings,
           confirmed: dict | None = None) -> list[Decision]:
    """Hash every candidate, set duplicates aside before parsing, assess the rest as one batch, then hold
    confirmed years (``confirmed``: the standing confirmations, see :mod:`shinchoku.confirm`).

    Originals are archived (in this process) while the workers parse.
    """
    from .confirm import hold_confirmed

    decisions: list[Decision] = []
    seen: dict[str, int | Decision] = dict(known)
    batch: list[Decision] = []
    for cand in discovery.candidates:
        try:
            cand.sha256 = sha256_of(cand.path)
        except OSError:
            discovery.skipped.append((cand.path, "unreadable"))  # permissions, or gone meanwhile
            continue
        if cand.department is None:
            decisions.append(Decision(cand, "rejected", issues=[Issue("misplaced_file")]))
        elif cand.sha256 in seen:
            first = seen[cand.sha256]
            decisions.append(Decision(cand, "duplicate", duplicate_of=first if isinstance(first, int) else None,
                                      original=first if isinstance(first, Decision) else None))
        else:
            decision = Decision(cand, "pending")
            seen[cand.sha256] = decision
            decisions.append(decision)
            batch.append(decision)
    fresh = [d for d in decisions if d.status != "duplicate"]

    def archive() -> None:
        for decision, path in zip(fresh, archive_all(settings, [d.candidate for d in fresh])):
            decision.archive_path = path

    assessments = assess_files([(d.candidate.path, d.candidate.department) for d in batch], catalogue,
                               settings.limits, settings.worker_count(), meanwhile=archive,
                               grading=settings.grading)
    for decision, assessment in zip(batch, assessments):
        hold_confirmed(assessment, confirmed or {})
        decision.assessment = assessment
        decision.issues = assessment.issues
        decision.status = "accepted" if assessment.accepted else "rejected"
    # A file that changed while it was read is left in the inbox for the next run, unrecorded,
    # and so are its copies in this run: the next run decides about them together.
    for decision in fresh:
        if decision.archive_path is CHANGED:
            discovery.skipped.append((decision.candidate.path, "changed during the run"))
    return [d for d in decisions if d.archive_path is not CHANGED
            and not (d.original is not None and d.original.archive_path is CHANGED)]

