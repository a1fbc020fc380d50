"""Tell the user what is happening during long steps: a status line, never silence.

On a terminal, rich draws a spinner with the elapsed time, and the line stays as
「… 完了(N 秒)」 when the step ends. Elsewhere (a CI log, the systemd journal)
rich draws nothing live, so a line with the elapsed time is printed every 15
seconds instead.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True, highlight=False, soft_wrap=True)
_active: dict = {}  # the status line showing now, if any
_lock = threading.Lock()
LOG_EVERY = 15.0


def say(message: str) -> None:
    """Print one progress line to stderr (ending any status line first)."""
    _finish()
    console.print(message, markup=False)


def _finish() -> None:
    with _lock:
        line = _active.pop("line", None)
    if not line:
        return
    line["done"].set()
    if line["progress"] is not None:
        line["progress"].stop()
    else:
        line["thread"].join()
    console.print(f"{line['message']} 完了({time.monotonic() - line['start']:.0f} 秒)", markup=False)


@contextmanager
def waiting(message: str):
    """Show ``message`` with the elapsed time until the block ends or the next ``say``."""
    _finish()
    line = {"message": message, "start": time.monotonic(), "done": threading.Event(), "progress": None}
    if console.is_terminal:
        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=console, transient=True)
        progress.add_task(message, total=None)
        progress.start()
        line["progress"] = progress
    else:
        console.print(message, markup=False)

        def log() -> None:
            while not line["done"].wait(LOG_EVERY):
                console.print(f"{message} {time.monotonic() - line['start']:.0f} 秒経過", markup=False)

        line["thread"] = threading.Thread(target=log, daemon=True)
        line["thread"].start()
    with _lock:
        _active["line"] = line
    try:
        yield
    finally:
        _finish()
