"""The inbox: which files a run will decide about, and which it leaves alone (and why).

A folder under the inbox names its department (the trust boundary); files at the
root, lock files, hidden, temporary and still-settling files and symlinks are
never taken in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings

JST = dt.timezone(dt.timedelta(hours=9), "JST")
REJECTED = "rejected"
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")


def now_jst() -> dt.datetime:
    """Now, in Japan Standard Time, as a naive datetime (how the warehouse stores times)."""
    return dt.datetime.now(JST).replace(tzinfo=None)




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
        elif entry.name != ".gitkeep":  # the repository's placeholder for the empty inbox: not a file anyone sent
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



def rejected_dir(settings: Settings, cand: Candidate) -> Path:
    base = settings.inbox / cand.department if cand.department else settings.inbox
    return base / REJECTED


def free_name(directory: Path, name: str, taken: set[Path]) -> Path:
    path = directory / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while path.exists() or path in taken:
        path = directory / f"{stem} ({n}){suffix}"
        n += 1
    taken.add(path)
    return path

