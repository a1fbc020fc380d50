"""The archive: every received original, kept byte for byte under its sha256."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import Settings
from .inbox import Candidate

_ARCHIVE_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv", ".txt"}


def archive_name(sha: str, path: Path) -> str:
    suffix = path.suffix.lower() if path.suffix.lower() in _ARCHIVE_SUFFIXES else ".bin"
    return f"archive/{sha[:2]}/{sha}{suffix}"


def archive_original(settings: Settings, cand: Candidate) -> str | None:
    """Keep a received file in the content-addressed archive; never modify an archived file.

    What is kept is the bytes the run read (``cand.data``, whose hash is ``cand.sha256``): the inbox path
    is never opened again. Durability comes from one sync before the warehouse is published, not a sync
    per file.
    """
    data = cand.data
    if cand.size > settings.limits.max_file_bytes or data is None or len(data) != cand.size:
        return None
    relative = archive_name(cand.sha256, cand.path)
    target = settings.warehouse.parent / relative
    if target.exists():
        return relative
    # Written in staging first (wiped after a crash), read-only from birth, then renamed into place whole.
    tmp = settings.staging_dir / f"{cand.sha256}.{os.getpid()}.archive"
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444), "wb") as f:
        f.write(data)
    os.replace(tmp, target)
    return relative


def archive_all(settings: Settings, candidates: list[Candidate]) -> list[str | None]:
    """Archive many originals, creating each archive folder once."""
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    existing = {p.name for p in settings.archive_dir.iterdir()} if settings.archive_dir.exists() else set()
    for prefix in {c.sha256[:2] for c in candidates} - existing:
        (settings.archive_dir / prefix).mkdir(parents=True, exist_ok=True)
    return [archive_original(settings, c) for c in candidates]

