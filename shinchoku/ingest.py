"""One ingest run, as plain functions: discover, assess, stage, publish, settle.

Crash safety. The published warehouse is only ever replaced whole, by an
atomic rename of a copy that this run wrote and checkpointed. Inbox files are
moved only after that, following a journal written before the rename, so a run
killed at any point either changed nothing, or left a journal the next run
completes. Readers holding the old file keep their snapshot.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .assess import Assessment, assess_files
from .catalogue import Catalogue
from .config import Settings
from .messages import ERROR, Issue
from .reader import WorkbookRead

JST = dt.timezone(dt.timedelta(hours=9), "JST")
REJECTED = "rejected"
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")
_ARCHIVE_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv", ".txt"}


class RunLocked(Exception):
    """Another run holds the warehouse lock."""


def crash_point(name: str) -> None:
    """Kill this process here if SHINCHOKU_CRASH_AT names this point (for crash tests)."""
    if os.environ.get("SHINCHOKU_CRASH_AT") == name:
        os.write(2, f"crash point {name}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)


def now_jst() -> dt.datetime:
    return dt.datetime.now(JST).replace(tzinfo=None)


@contextmanager
def run_lock(settings: Settings, wait_seconds: float = 0):
    """Hold the single-writer lock for the warehouse; RunLocked if it stays taken."""
    settings.lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLocked(f"別の取込処理が実行中です(ロック: {settings.lock_path})") from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


@dataclass
class Candidate:
    """A file found in the inbox that this run will decide about."""

    path: Path
    department: str | None  # the folder's department; None at the inbox root
    mtime: float
    size: int
    sha256: str = ""
    mtime_ns: int = 0

    @property
    def received_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime, JST).replace(tzinfo=None)


@dataclass
class Discovery:
    """What the inbox holds: files to process, and files left alone (with why)."""

    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _skip_reason(name: str) -> str | None:
    if name.startswith("~$"):
        return "lock"
    if name.startswith((".", "~")):
        return "hidden"
    if name.lower().endswith(_TEMP_SUFFIXES):
        return "temporary"
    return None


def discover(settings: Settings, now: float | None = None) -> Discovery:
    """List inbox files to process, in order of modification time then name."""
    now = time.time() if now is None else now
    found = Discovery()
    inbox = settings.inbox
    if not inbox.is_dir():
        return found

    def consider(path: Path, department: str | None) -> None:
        reason = _skip_reason(path.name)
        try:
            st = os.lstat(path)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            found.skipped.append((path, "symlink"))
        elif stat.S_ISDIR(st.st_mode):
            return
        elif not stat.S_ISREG(st.st_mode):
            found.skipped.append((path, "not a regular file"))
        elif reason:
            found.skipped.append((path, reason))
        elif now - st.st_mtime < settings.settle_seconds:
            found.skipped.append((path, "settling"))
        else:
            found.candidates.append(Candidate(path, department, st.st_mtime, st.st_size, mtime_ns=st.st_mtime_ns))

    for entry in sorted(inbox.iterdir()):
        if entry.is_symlink():
            found.skipped.append((entry, "symlink"))
        elif entry.is_dir():
            if entry.name.startswith(("_", ".")) or entry.name == REJECTED:
                continue
            for child in sorted(entry.iterdir()):
                consider(child, entry.name)
        else:
            consider(entry, None)
    found.candidates.sort(key=lambda c: (c.mtime, str(c.path)))
    return found


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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

    @property
    def read(self) -> WorkbookRead | None:
        return self.assessment.read if self.assessment else None


@dataclass
class Stage:
    """This run's private copy of the warehouse, open for writing until it is published."""

    path: Path
    con: object  # duckdb.DuckDBPyConnection

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def prepare_stage(settings: Settings) -> Stage:
    """Copy the published warehouse to a private file this run will write (or start a new one)."""
    from . import warehouse as wh

    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    if target.exists():
        shutil.copyfile(target, tmp)
    con = wh.connect_for_writing(tmp)
    wh.ensure_schema(con)
    return Stage(tmp, con)


def known_hashes(stage: Stage) -> dict[str, int]:
    """sha256 -> first submission id, read from this run's staged copy of the warehouse."""
    rows = stage.con.execute("select sha256, min(submission_id) from raw_submissions group by sha256").fetchall()
    return dict(rows)


def decide(discovery: Discovery, known: dict[str, int], catalogue: Catalogue, settings: Settings) -> list[Decision]:
    """Hash every candidate, set duplicates aside before parsing, assess the rest as one batch.

    Originals are archived (in this process) while the workers parse.
    """
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
                               settings.limits, settings.worker_count(), meanwhile=archive)
    for decision, assessment in zip(batch, assessments):
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


@dataclass
class RunSummary:
    """What a run did, for the terminal, the Prefect artifact and the benchmark."""

    run_id: int
    warehouse: Path
    decisions: list[Decision]
    skipped: list[tuple[Path, str]]
    kpis_updated: list[tuple[str, int]]
    feedback: dict[int, list[Path]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for d in self.decisions if d.status == status)

    @property
    def exit_code(self) -> int:
        return 1 if self.count("rejected") else 0


def _archive_name(sha: str, path: Path) -> str:
    suffix = path.suffix.lower() if path.suffix.lower() in _ARCHIVE_SUFFIXES else ".bin"
    return f"archive/{sha[:2]}/{sha}{suffix}"


CHANGED = "<changed during the run>"  # archive_original's answer for a file that changed under it


def archive_original(settings: Settings, cand: Candidate) -> str | None:
    """Copy a received file into the content-addressed archive; never modify an archived file.

    Durability comes from one sync before the warehouse is published, not a sync per file.
    """
    if cand.size > settings.limits.max_file_bytes:
        return None
    relative = _archive_name(cand.sha256, cand.path)
    target = settings.warehouse.parent / relative
    if target.exists():
        return relative
    try:
        data = cand.path.read_bytes()
    except OSError:
        return CHANGED
    if hashlib.sha256(data).hexdigest() != cand.sha256:  # changed while we read it: leave it for the next run
        return CHANGED
    # Written in staging first (wiped after a crash), read-only from birth, then renamed into place whole.
    tmp = settings.staging_dir / f"{cand.sha256}.{os.getpid()}.archive"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    return relative


def archive_all(settings: Settings, candidates: list[Candidate]) -> list[str | None]:
    """Archive many originals, creating each archive folder once."""
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    existing = {p.name for p in settings.archive_dir.iterdir()} if settings.archive_dir.exists() else set()
    for prefix in {c.sha256[:2] for c in candidates} - existing:
        (settings.archive_dir / prefix).mkdir(parents=True, exist_ok=True)
    return [archive_original(settings, c) for c in candidates]


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rejected_dir(settings: Settings, cand: Candidate) -> Path:
    base = settings.inbox / cand.department if cand.department else settings.inbox
    return base / REJECTED


def _free_name(directory: Path, name: str, taken: set[Path]) -> Path:
    path = directory / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while path.exists() or path in taken:
        path = directory / f"{stem} ({n}){suffix}"
        n += 1
    taken.add(path)
    return path


def stage_and_publish(settings: Settings, catalogue: Catalogue, decisions: list[Decision],
                      discovery: Discovery, started_at: dt.datetime, stage: Stage) -> RunSummary:
    """Write the new warehouse state into the staged copy, archive originals, stage feedback, then publish."""
    import pandas as pd

    from . import warehouse as wh
    from .feedback import write_feedback

    target, tmp, con = settings.warehouse, stage.path, stage.con
    try:
        con.execute("begin transaction")  # one transaction: catalog changes (views) are much cheaper in one
        run_id = con.execute("select coalesce(max(run_id), 0) + 1 from raw_runs").fetchone()[0]
        next_id = con.execute("select coalesce(max(submission_id), 0) + 1 from raw_submissions").fetchone()[0]
        ingested_at = now_jst()
        for decision in decisions:
            decision.submission_id = next_id
            next_id += 1
        for decision in decisions:
            if decision.original is not None:
                decision.duplicate_of = decision.original.submission_id
            if decision.status == "duplicate":
                decision.issues = [Issue("duplicate_file", params={"detail": decision.duplicate_of})]

        submissions, observations, outcomes, issues = [], [], [], []
        for decision in decisions:
            cand, read = decision.candidate, decision.read
            archive_path = decision.archive_path
            errors = sum(1 for i in decision.issues if i.severity == ERROR)
            submissions.append((decision.submission_id, run_id, cand.department, cand.path.name, cand.sha256,
                                cand.size, cand.received_at, ingested_at, decision.status, errors,
                                len(decision.issues) - errors, archive_path,
                                read.declared_department if read else None,
                                read.declared_fiscal_year if read else None,
                                read.sheet if read else None, decision.duplicate_of))
            for issue in decision.issues:
                issues.append((decision.submission_id, issue.sheet, issue.cell, issue.kpi_id, issue.severity,
                               issue.code, issue.message, issue.fix))
            if decision.status == "accepted":
                for rec in decision.assessment.records:
                    if rec["table"] == "kpi":
                        observations.append((decision.submission_id, rec["item_id"], rec["fiscal_year"], rec["as_of"],
                                             rec["actual_value"], rec["raw_value"], rec["note"], read.table.sheet,
                                             rec["source_cell"], rec["provisional"]))
                    else:
                        outcomes.append((decision.submission_id, rec["item_id"], rec["fiscal_year"], rec["as_of"],
                                         rec["activities"], rec["outcome_text"], rec["actual_value"], rec["unit"],
                                         rec["raw_value"] or None, read.outcomes.sheet, rec["source_cell"], rec["row0"]))
        crash_point("mid_load")
        _insert(con, "raw_submissions", submissions, pd)
        _insert(con, "raw_observations", observations, pd)
        _insert(con, "raw_outcomes", outcomes, pd)
        _insert(con, "raw_validation_issues", issues, pd)
        kpis_updated = sorted({(o[1], o[2]) for o in observations})
        con.execute("insert into raw_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, started_at, now_jst(), len(decisions),
                     sum(d.status == "accepted" for d in decisions), sum(d.status == "rejected" for d in decisions),
                     sum(d.status == "duplicate" for d in decisions), len(kpis_updated)])
        wh.refresh(con, catalogue, settings)
        wh.run_audits(con)
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        stage.close()

    # Feedback for rejected files is written to staging now and moved beside them after publishing.
    staging = settings.staging_dir / str(run_id)
    shutil.rmtree(staging, ignore_errors=True)
    moves: list[dict] = []
    taken: set[Path] = set()
    feedback: dict[int, list[Path]] = {}
    for decision in decisions:
        cand = decision.candidate
        if decision.status in ("accepted", "duplicate"):
            moves.append({"op": "delete", "src": str(cand.path), **_identity(cand)})
            continue
        rejected_dir = _rejected_dir(settings, cand)
        dest = _free_name(rejected_dir, cand.path.name, taken)
        moves.append({"op": "move", "src": str(cand.path), "dest": str(dest), **_identity(cand)})
        for made in write_feedback(decision, staging / str(decision.submission_id), dest.name):
            final = _free_name(rejected_dir, made.name, taken)
            moves.append({"op": "move", "src": str(made), "dest": str(final)})
            feedback.setdefault(decision.submission_id, []).append(final)
    crash_point("before_publish")

    os.sync()  # archived originals, feedback and the new warehouse reach the disk before publishing
    # The journal names the staged file by inode: after the rename, the warehouse has that inode
    # if and only if this run was published. Recovery needs no database to tell.
    st = os.stat(tmp)
    journal = {"run_id": run_id, "inode": st.st_ino, "size": st.st_size, "moves": moves, "staging": str(staging)}
    _write_json(settings.journal_path, journal)
    os.replace(tmp, target)
    _fsync(target.parent)
    crash_point("after_publish")
    return RunSummary(run_id, target, decisions, discovery.skipped, kpis_updated, feedback)


def _insert(con, table: str, rows: list[tuple], pd) -> None:
    if not rows:
        return
    columns = [c[0] for c in con.execute(f'select * from "{table}" limit 0').description]
    frame = pd.DataFrame(rows, columns=columns)
    con.register("incoming", frame)
    try:
        con.execute(f'insert into "{table}" by name select * from incoming')
    finally:
        con.unregister("incoming")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)


def settle_moves(settings: Settings) -> int:
    """Carry out the journal's inbox moves (idempotently), then remove the journal."""
    path = settings.journal_path
    if not path.exists():
        return 0
    journal = json.loads(path.read_text(encoding="utf-8"))
    done = 0
    for n, move in enumerate(journal["moves"]):
        if n == len(journal["moves"]) // 2:
            crash_point("mid_moves")
        src = Path(move["src"])
        if not src.exists() or ("mtime_ns" in move and _changed(src, move)):
            continue  # already done, or replaced by a newer file the next run will see
        if move["op"] == "delete":
            src.unlink()
        else:
            _move(src, Path(move["dest"]))
        done += 1
    path.unlink()
    shutil.rmtree(settings.staging_dir, ignore_errors=True)
    return done


def _identity(cand: Candidate) -> dict:
    """What tells the file this run read from a newer one saved under the same name."""
    return {"size": cand.size, "mtime_ns": cand.mtime_ns}


def _changed(path: Path, move: dict) -> bool:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns) != (move["size"], move["mtime_ns"])


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        src.unlink()


def recover(settings: Settings) -> str | None:
    """Finish or discard what a killed run left behind; say what was done."""
    note = None
    if settings.journal_path.exists():
        journal = json.loads(settings.journal_path.read_text(encoding="utf-8"))
        if _published(settings, journal):
            settle_moves(settings)
            note = f"前回の取込(実行番号 {journal['run_id']})の後処理を完了しました"
        else:
            settings.journal_path.unlink()
            note = "前回の中断された取込を破棄しました"
    for stale in settings.warehouse.parent.glob(f".{settings.warehouse.name}.*.tmp*"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(settings.staging_dir, ignore_errors=True)
    return note


def _published(settings: Settings, journal: dict) -> bool:
    try:
        st = os.stat(settings.warehouse)
    except FileNotFoundError:
        return False
    return (st.st_ino, st.st_size) == (journal["inode"], journal["size"])


def run_ingest(settings: Settings, catalogue: Catalogue, wait_seconds: float = 0) -> RunSummary:
    """One whole ingest, without Prefect: what the flow does, step for step."""
    started = now_jst()
    with run_lock(settings, wait_seconds):
        recover(settings)
        discovery = discover(settings)
        crash_point("after_discover")
        stage = prepare_stage(settings)
        try:
            decisions = decide(discovery, known_hashes(stage), catalogue, settings)
            summary = stage_and_publish(settings, catalogue, decisions, discovery, started, stage)
        finally:
            stage.close()
        settle_moves(settings)
    return summary
