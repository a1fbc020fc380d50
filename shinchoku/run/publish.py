"""Publishing a run: the single-writer lock, the staged copy, the journal, settling the inbox.

Crash safety. The published warehouse is only ever replaced whole, by an
atomic rename of a copy that this run wrote and checkpointed. Inbox files are
moved only after that, following a journal written before the rename, so a run
killed at any point either changed nothing, or left a journal the next run
completes. Readers holding the old file keep their snapshot.

The inbox's folders are the departments' (the trust boundary): every move, delete and write there goes
through directory descriptors (:class:`shinchoku.run.inbox.Folders`: renameat, unlinkat, mkdirat, openat with
O_NOFOLLOW), never through a path a department could have turned into a link, and ``rejected/`` is used
only when it is a real directory owned by the run's user. When it is not, the folder's rejected files
stay where they are, the run says why, and each gets the warning ``rejected_folder_unsafe``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import duckdb

from .. import database
from ..config import Settings
from . import warehouse as wh
from .confirmed import confirmed_periods
from .jumps import value_history
from .crash import crash_point
from .inbox import Folders, UnsafeFolder

class RunLocked(Exception):
    """Another run holds the warehouse lock."""


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


def actor() -> str:
    """Who is acting: the operating-system user."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class Stage:
    """This run's private copy of the warehouse (a path: each step opens its own connection), and the
    (department, sha256) of every file it has already accepted (-> first submission id), read while it was
    staged."""

    path: Path
    known: dict[tuple[str | None, str], int] = field(default_factory=dict)
    fresh: bool = False  # no warehouse was published yet
    confirmed: dict = field(default_factory=dict)  # the standing confirmations (shinchoku.run.confirm.Period by key)
    history: dict = field(default_factory=dict)  # each unit's accepted value by year (shinchoku.run.jumps.History)


def staged_copy(settings: Settings) -> Path:
    """A private copy of the published warehouse that this process will write (where there is none yet, the path
    of the new file), named so that :func:`recover` removes it after a crash."""
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    if target.exists():
        shutil.copyfile(target, tmp)
    return tmp


def prepare_stage(settings: Settings) -> Stage:
    """Copy the published warehouse to a private file this run will write (or start a new one)."""
    fresh = not settings.warehouse.exists()
    tmp = staged_copy(settings)
    con = database.connect(tmp, read_only=False)
    try:
        wh.ensure_schema(con)
        # only accepted files, per department: a copy of a rejected one is assessed again (the catalogue may
        # have changed since), and a copy in another department's folder is that department's to answer for
        known = {(department, sha): first for department, sha, first in con.execute(
            "select department, sha256, min(submission_id) from raw_submissions where status = 'accepted' "
            "group by department, sha256").fetchall()}
        confirmed = confirmed_periods(con)
        history = value_history(con)
    finally:
        con.close()
    return Stage(tmp, known, fresh, confirmed, history)


T = TypeVar("T")


def change_published(settings: Settings, change: Callable[[duckdb.DuckDBPyConnection], T],
                     keep: Callable[[T], bool] = lambda _: True, audits: bool = True) -> T:
    """Run ``change(con)`` in one transaction on a staged copy of the published warehouse, check the audits, and
    publish the copy by one rename; when ``keep(result)`` is false, drop it instead. The caller holds the run lock
    (confirm, reopen, the mail's records)."""
    if not settings.warehouse.exists():  # staging would start a blank warehouse
        raise FileNotFoundError(settings.warehouse)
    tmp = staged_copy(settings)
    try:
        con = database.connect(tmp, read_only=False)
        try:
            wh.ensure_schema(con)
            con.execute("begin transaction")
            result = change(con)
            if not keep(result):
                con.execute("rollback")
                return result
            if audits:
                wh.run_audits(con)
            con.execute("commit")
            con.execute("checkpoint")
        finally:
            con.close()
        publish(settings, tmp)
        return result
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def fsync_path(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(settings: Settings, staged: Path, journal: dict | None = None) -> None:
    """Make a staged copy the warehouse: everything on disk first, then one atomic rename.

    A run passes its journal (the inbox moves still to make): it names the staged file by inode, so
    after the rename the warehouse has that inode if and only if the run was published, and recovery
    needs no database to tell. confirm and reopen have nothing to move and pass none.
    """
    crash_point("before_publish")
    os.sync()  # archived originals, feedback and the new warehouse reach the disk before publishing
    if journal is not None:
        st = os.stat(staged)
        _write_json(settings.journal_path, {**journal, "inode": st.st_ino, "size": st.st_size})
    os.replace(staged, settings.warehouse)
    fsync_path(settings.warehouse.parent)
    crash_point("after_publish")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(path.parent)


def settle_moves(settings: Settings) -> dict[str, str]:
    """Carry out the journal's inbox moves (idempotently), then remove the journal; return the folders whose
    rejected/ turned out unsafe (folder -> why), whose files were left where they are.

    Every operation is relative to a directory descriptor: the department folder (only if it is still the
    one the run listed) and its rejected/ (only a real directory the run owns). A file is deleted or moved
    only if it is still the file the run read (device, inode, size, modification time).
    """
    path = settings.journal_path
    if not path.exists():
        return {}
    journal = json.loads(path.read_text(encoding="utf-8"))
    refused: dict[str, str] = {}
    with Folders(settings) as folders:
        for n, move in enumerate(journal["moves"]):
            if n == len(journal["moves"]) // 2:
                crash_point("mid_moves")
            if "folder" not in move:
                continue  # a journal written by an older version: the next run sees what is left in the inbox
            folder = move["folder"]
            try:
                folder_fd = folders.folder(folder, move.get("folder_id"))
            except OSError:
                continue  # the folder is gone or was replaced: its files wait for the next run
            if move["op"] in ("delete", "move") and not _still_there(folder_fd, move):
                continue  # already done, or replaced by a newer file the next run will see
            if move["op"] == "feedback" and not os.path.exists(move["src"]):
                continue  # already placed
            if move["op"] == "delete":
                os.unlink(move["name"], dir_fd=folder_fd)
                continue
            try:
                rejected_fd = folders.rejected(folder, move.get("folder_id"))
            except UnsafeFolder as e:
                refused.setdefault(folder, str(e))
                continue
            if move["op"] == "move":
                os.rename(move["name"], move["dest"], src_dir_fd=folder_fd, dst_dir_fd=rejected_fd)
            else:
                _place(Path(move["src"]), rejected_fd, move["dest"])
    path.unlink()
    shutil.rmtree(settings.staging_dir, ignore_errors=True)
    return refused


def _still_there(folder_fd: int, move: dict) -> bool:
    """The file the run read is still under its name (never following a link)."""
    try:
        st = os.stat(move["name"], dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev) == (
        move["size"], move["mtime_ns"], move.get("ino", st.st_ino), move.get("dev", st.st_dev))


def _place(src: Path, rejected_fd: int, dest: str) -> None:
    """Put a file the run wrote (in its staging folder) into rejected/ under ``dest``: one renameat where
    staging and the inbox share a filesystem; otherwise a new file made there with O_CREAT|O_EXCL|O_NOFOLLOW
    under a temporary name, then renamed within rejected/."""
    try:
        os.rename(src, dest, dst_dir_fd=rejected_fd)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    tmp = f".{dest}.tmp"
    try:
        os.unlink(tmp, dir_fd=rejected_fd)  # left by a run killed here (the link itself, never its target)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=rejected_fd)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
        shutil.copyfileobj(f, out)
        out.flush()
        os.fsync(out.fileno())
    os.rename(tmp, dest, src_dir_fd=rejected_fd, dst_dir_fd=rejected_fd)
    src.unlink()


def recover(settings: Settings) -> str | None:
    """Finish or discard what a killed run left behind; say what was done."""
    note = None
    if settings.journal_path.exists():
        journal = json.loads(settings.journal_path.read_text(encoding="utf-8"))
        if _published(settings, journal):
            refused = settle_moves(settings)
            note = f"前回の取込(実行番号 {journal['run_id']})の後処理を完了しました"
            for folder, why in refused.items():
                note += f"。{folder or 'inbox直下'}/rejected が{why}ため、その差戻しファイルは移動していません"
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

