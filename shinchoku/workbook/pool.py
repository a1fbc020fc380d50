"""Parsing in worker processes: the pool, how its workers start, and that they die with the run.

A worker receives the shared arguments (the catalogue, the limits) once, when it starts, then its
chunks. fork where it is safe; a fork server where threads run (inside a Prefect flow).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

# What the workers run, imported once by the fork server rather than by each worker.
PRELOAD = ["shinchoku.workbook.assess"]

# Worker-process state: the shared arguments, sent once per worker, not per chunk.
_worker: dict = {}


def in_workers(work: Callable, chunks: list, shared: tuple, workers: int, meanwhile: Callable | None = None) -> list:
    """``work(chunk, *shared)`` for every chunk in ``workers`` processes, results in the chunks' order and
    flattened; ``meanwhile``, if given, runs in this process while they work."""
    context = _pool_context()
    parent = os.getpid() if context.get_start_method() == "fork" else -1  # forkserver: its server is the parent
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(shared, parent)) as pool:
        futures = [pool.submit(_run, work, chunk) for chunk in chunks]
        if meanwhile:
            meanwhile()
        return [result for future in futures for result in future.result()]


def _init_worker(shared: tuple, parent: int) -> None:
    _die_with_parent(parent)
    _worker["shared"] = shared


def _run(work: Callable, chunk: list) -> list:
    return work(chunk, *_worker["shared"])


def _die_with_parent(parent: int) -> None:
    """A parsing worker must not outlive a run killed with -9: an orphan would keep the run's lock (an
    inherited descriptor) and its output pipes. Linux kills the worker when its parent process dies."""
    import ctypes  # only in a worker, once
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        return
    if parent > 0 and os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _pool_context():
    """fork where it is safe (no other threads), which starts workers at no import cost;
    forkserver otherwise, e.g. inside a Prefect flow, whose threads a fork would copy mid-flight."""
    import threading

    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def prestart_workers() -> None:
    """Start the fork server now, so its imports overlap discovery and hashing instead of following them."""
    if _pool_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
