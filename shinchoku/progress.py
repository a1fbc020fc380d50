"""Tell the user what is happening during long steps: a status line, never silence."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

_active: dict = {}  # the ticking status line, if one is showing
_lock = threading.Lock()


def say(message: str) -> None:
    """Print one progress line to stderr (ending any ticking status line first)."""
    _finish()
    print(message, file=sys.stderr, flush=True)


def _finish() -> None:
    with _lock:
        line = _active.pop("line", None)
    if line:
        line["done"].set()
        line["thread"].join()
        if line["tty"]:
            print(f"\r{line['message']} 完了({time.monotonic() - line['start']:.0f} 秒)", file=sys.stderr, flush=True)


@contextmanager
def waiting(message: str, interval: float = 1.0):
    """Show ``message`` with a ticking elapsed time until the block ends or the next ``say``."""
    tty = sys.stderr.isatty()
    line = {"message": message, "start": time.monotonic(), "done": threading.Event(), "tty": tty}

    def tick() -> None:
        last = 0.0
        while not line["done"].wait(interval):
            elapsed = time.monotonic() - line["start"]
            if tty:
                print(f"\r{message} {elapsed:4.0f} 秒", end="", file=sys.stderr, flush=True)
            elif elapsed - last >= 15:
                print(f"{message} {elapsed:.0f} 秒経過", file=sys.stderr, flush=True)
                last = elapsed

    _finish()
    print(message, end="" if tty else "\n", file=sys.stderr, flush=True)
    line["thread"] = threading.Thread(target=tick, daemon=True)
    with _lock:
        _active["line"] = line
    line["thread"].start()
    try:
        yield
    finally:
        _finish()
