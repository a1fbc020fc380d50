"""The inbox: which files a run will decide about, and which it leaves alone (and why).

A folder under the inbox names its department (the trust boundary); files at the
root, lock files, hidden, temporary and still-settling files and symlinks are
never taken in.

A department controls everything inside its folder, symlinks and ``rejected/`` included, and may
change it at any moment. So no path into a department folder is ever followed: each folder is opened
once as a directory descriptor (O_NOFOLLOW), listed through it, and every file is opened relative to
it with O_NOFOLLOW, checked with fstat to be the very regular file that was listed, and read once.
The run hashes, archives and assesses those bytes. Writes and moves go through the same descriptors
(:class:`Folders`), and ``rejected/`` is used only when it is a real directory the run owns.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings

JST = dt.timezone(dt.timedelta(hours=9), "JST")
REJECTED = "rejected"
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp")


def now_jst() -> dt.datetime:
    """Now, in Japan Standard Time, as a naive datetime (how the warehouse stores times)."""
    return dt.datetime.now(JST).replace(tzinfo=None)




@dataclass
class Candidate:
    """A file found in the inbox that this run will decide about."""

    path: Path  # where it is, for people (inbox/<部局>/<name>); never opened by this path
    department: str | None  # the folder's department; None at the inbox root
    mtime: float
    size: int
    sha256: str = ""
    mtime_ns: int = 0
    ino: int = 0
    dev: int = 0
    folder_id: tuple[int, int] = (0, 0)  # the folder's (st_dev, st_ino) when it was listed
    data: bytes | None = field(default=None, repr=False)  # the bytes read (at most max_file_bytes + 1)

    @property
    def received_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime, JST).replace(tzinfo=None)

    @property
    def folder(self) -> str:
        """The folder's name under the inbox ("" for the inbox root)."""
        return self.department or ""

    @property
    def name(self) -> str:
        return self.path.name

    def identity(self) -> dict:
        """What tells the file listed from any other file later found under its name."""
        return {"size": self.size, "mtime_ns": self.mtime_ns, "ino": self.ino, "dev": self.dev}


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


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_inbox(settings: Settings) -> int:
    """The inbox itself, as a directory descriptor (its path is the operator's, so it may be a link)."""
    return os.open(settings.inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_folder(inbox_fd: int, folder: str) -> int:
    """A department folder (or, for "", the inbox root) as a directory descriptor; never through a link."""
    if not folder:
        return os.dup(inbox_fd)
    return os.open(folder, _DIR_FLAGS, dir_fd=inbox_fd)


def _dir_id(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def discover(settings: Settings, now: float | None = None) -> Discovery:
    """List inbox files to process, in order of modification time then name."""
    now = time.time() if now is None else now
    found = Discovery()
    inbox = settings.inbox
    try:
        inbox_fd = open_inbox(settings)
    except OSError:
        return found

    def consider(dir_fd: int, folder_id: tuple[int, int], name: str, department: str | None) -> None:
        path = inbox / department / name if department else inbox / name
        reason = _skip_reason(name)
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return
        if department and name == REJECTED:
            return  # the run's own folder, whatever stands there: judged when files are moved, never taken in
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
            found.candidates.append(Candidate(path, department, st.st_mtime, st.st_size, mtime_ns=st.st_mtime_ns,
                                              ino=st.st_ino, dev=st.st_dev, folder_id=folder_id))

    try:
        root_id = _dir_id(inbox_fd)
        for name in sorted(os.listdir(inbox_fd)):
            try:
                st = os.stat(name, dir_fd=inbox_fd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                found.skipped.append((inbox / name, "symlink"))
            elif stat.S_ISDIR(st.st_mode):
                if name.startswith(("_", ".")) or name == REJECTED:
                    continue
                try:
                    folder_fd = open_folder(inbox_fd, name)
                except OSError:
                    continue  # replaced meanwhile: the next run sees it
                try:
                    folder_id = _dir_id(folder_fd)
                    for child in sorted(os.listdir(folder_fd)):
                        consider(folder_fd, folder_id, child, name)
                finally:
                    os.close(folder_fd)
            elif name != ".gitkeep":  # the repository's placeholder for the empty inbox: not a file anyone sent
                consider(inbox_fd, root_id, name, None)
    finally:
        os.close(inbox_fd)
    found.candidates.sort(key=lambda c: (c.mtime, str(c.path)))
    return found


def before_open(cand: Candidate) -> None:
    """Called between listing a file and opening it: nothing. The tests put a race here (a file swapped
    for a symlink) instead of trusting timing."""


CHANGED = "changed during the run"


def read_candidates(settings: Settings, candidates: list[Candidate]) -> list[tuple[Candidate, str | None]]:
    """Read every candidate's bytes once, through its folder's descriptor; (candidate, why not) for each.

    A file is read only if, opened with O_NOFOLLOW relative to the folder listed, it is still the regular
    file listed (device, inode, size, modification time) and stays so while it is read; anything else is
    "changed during the run" (left for the next run) or "unreadable". The bytes kept are at most
    ``max_file_bytes`` + 1 (enough for the reader to refuse a larger file); the hash covers them all.
    """
    limit = settings.limits.max_file_bytes + 1
    out: list[tuple[Candidate, str | None]] = []
    with Folders(settings) as folders:
        for cand in candidates:
            try:
                dir_fd = folders.folder(cand.folder, cand.folder_id)
            except OSError:
                out.append((cand, CHANGED))
                continue
            before_open(cand)
            out.append((cand, _read_one(dir_fd, cand, limit)))
    return out


def _read_one(dir_fd: int, cand: Candidate, limit: int) -> str | None:
    try:
        fd = os.open(cand.name, _FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return CHANGED
    except OSError as e:
        return CHANGED if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO) else "unreadable"
    try:
        if not _same(os.fstat(fd), cand):
            return CHANGED
        digest, kept, total = hashlib.sha256(), [], 0
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
            if total < limit:
                kept.append(chunk[:limit - total])
            total += len(chunk)
        if total != cand.size or not _same(os.fstat(fd), cand):
            return CHANGED  # written to while it was read
    except OSError:
        return "unreadable"
    finally:
        os.close(fd)
    cand.sha256, cand.data = digest.hexdigest(), b"".join(kept)
    return None


def _same(st: os.stat_result, cand: Candidate) -> bool:
    return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (
        cand.dev, cand.ino, cand.size, cand.mtime_ns)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, streamed (the archive's own files; never an inbox file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class UnsafeFolder(Exception):
    """A folder the run will not write into; the message (Japanese) says why."""


class Folders:
    """The inbox's folders as directory descriptors, each opened once: a department folder only if it is
    the one listed (``folder_id``), its ``rejected/`` only if it is a real directory owned by the run's user
    (created by the run, with mkdirat, when absent). Every write and move in the inbox goes through these."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._inbox: int | None = None
        self._folders: dict[str, int] = {}
        self._rejected: dict[str, int | UnsafeFolder] = {}

    def __enter__(self) -> "Folders":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        fds = [self._inbox, *self._folders.values(), *(v for v in self._rejected.values() if isinstance(v, int))]
        for fd in fds:
            if fd is not None:
                os.close(fd)
        self._inbox, self._folders, self._rejected = None, {}, {}

    def display(self, folder: str, *names: str) -> Path:
        base = self.settings.inbox / folder if folder else self.settings.inbox
        return base.joinpath(*names)

    def folder(self, folder: str, folder_id: tuple[int, int] | None = None) -> int:
        """The folder's descriptor; OSError if it cannot be opened or is no longer the folder listed."""
        if folder not in self._folders:
            if self._inbox is None:
                self._inbox = open_inbox(self.settings)
            self._folders[folder] = open_folder(self._inbox, folder)
        fd = self._folders[folder]
        if folder_id is not None and tuple(folder_id) != (0, 0) and _dir_id(fd) != tuple(folder_id):
            raise FileNotFoundError(errno.ENOENT, "folder replaced", folder)
        return fd

    def rejected(self, folder: str, folder_id: tuple[int, int] | None = None) -> int:
        """The folder's ``rejected/`` as a descriptor; UnsafeFolder if it is anything but a real directory
        the run owns (a link, a file, another user's folder), or the folder itself changed."""
        if folder not in self._rejected:
            try:
                self._rejected[folder] = self._open_rejected(folder, folder_id)
            except UnsafeFolder as e:
                self._rejected[folder] = e
        found = self._rejected[folder]
        if isinstance(found, UnsafeFolder):
            raise found
        return found

    def _open_rejected(self, folder: str, folder_id) -> int:
        try:
            parent = self.folder(folder, folder_id)
        except OSError:
            raise UnsafeFolder("部局フォルダが取込中に置き換えられた") from None
        try:
            os.mkdir(REJECTED, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError as e:
            raise UnsafeFolder(f"作成できない({e.strerror})") from None
        try:
            st = os.stat(REJECTED, dir_fd=parent, follow_symlinks=False)
        except OSError as e:
            raise UnsafeFolder(f"開けない({e.strerror})") from None
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeFolder("シンボリックリンクである")
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeFolder("フォルダではない")
        try:
            fd = os.open(REJECTED, _DIR_FLAGS, dir_fd=parent)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafeFolder("シンボリックリンクである") from None
            raise UnsafeFolder(f"開けない({e.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            os.close(fd)
            raise UnsafeFolder("フォルダではない" if not stat.S_ISDIR(st.st_mode)
                               else f"取込処理の実行ユーザー以外(uid {st.st_uid})が所有している")
        return fd


def free_name(rejected_fd: int, name: str, taken: set[str]) -> str:
    """A name not yet used in ``rejected/`` (nor by this run): name.xlsx, name (2).xlsx, ..."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 2
    while candidate in taken or _exists(rejected_fd, candidate):
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    taken.add(candidate)
    return candidate


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
