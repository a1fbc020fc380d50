"""Named points of a run and of publishing, where the crash tests kill the process or inject a failure."""

from __future__ import annotations

import os
import signal


class InjectedFailure(RuntimeError):
    """A failure injected at a named point (SHINCHOKU_FAIL_AT), to see how a failed night looks."""


def crash_point(name: str) -> None:
    """A named point of a run, for the crash tests: SHINCHOKU_TRACE=1 reports reaching it on stderr
    (so a kill can be placed, and the stage it landed in known); SHINCHOKU_CRASH_AT=name kills the process
    here; SHINCHOKU_FAIL_AT=name raises InjectedFailure here."""
    if os.environ.get("SHINCHOKU_TRACE"):
        os.write(2, f"stage {name}\n".encode())
    if os.environ.get("SHINCHOKU_FAIL_AT") == name:
        raise InjectedFailure(f"injected failure at {name}")
    if os.environ.get("SHINCHOKU_CRASH_AT") == name:
        os.write(2, f"crash point {name}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
