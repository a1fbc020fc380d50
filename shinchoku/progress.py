"""Tell the user what is happening during long steps: a status line, never silence."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager


def say(message: str) -> None:
    """Print one progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def waiting(message: str, interval: float = 1.0):
    """Show ``message`` with a ticking elapsed time until the block ends (or ``done`` is called)."""
    done = threading.Event()
    start = time.monotonic()
    tty = sys.stderr.isatty()

    def tick() -> None:
        last_line = 0.0
        while not done.wait(interval):
            elapsed = time.monotonic() - start
            if tty:
                print(f"\r{message} {elapsed:4.0f} 秒", end="", file=sys.stderr, flush=True)
            elif elapsed - last_line >= 15:
                print(f"{message} {elapsed:.0f} 秒経過", file=sys.stderr, flush=True)
                last_line = elapsed

    say(message) if not tty else print(message, end="", file=sys.stderr, flush=True)
    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        done.set()
        thread.join()
        if tty:
            print(f"\r{message} 完了({time.monotonic() - start:.0f} 秒)", file=sys.stderr, flush=True)
