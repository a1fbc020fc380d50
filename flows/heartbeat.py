"""A flow run's end without the wait for Prefect's heartbeat thread (issue 28).

Prefect 3 sends a flow run's heartbeats (the events that let the server tell a crashed run from a long one)
from a thread that sleeps one second at a time, and a synchronous flow run joins that thread as it ends:
every run waits for the rest of the current second, 0–1 s, depending only on how long the run took. For
``shinchoku run`` that is up to a second at the terminal every night, and in the benchmark it made the
flow's cost over the core look like it grew with the number of files (the wait at 1,000 and at 3,000 files
differs by whatever the two runs' lengths leave of a second).

Prefect's asynchronous flow runs already stop the same thread without joining it (``join_on_exit=False``):
it is a daemon thread, and after the stop it sends nothing more, it only finishes its current second. Here
the synchronous runs do the same. Heartbeats are kept: the thread starts, sends the first at once and one
every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds, and stops with the run. ``tests/test_flow.py`` checks
this against the real server, so a Prefect release that moves or renames the function fails there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from prefect import flow_engine

# Prefect's own (private) function; None in a Prefect that has moved it: then runs keep Prefect's behaviour (the
# wait), nothing breaks, and the test in tests/test_flow.py fails to say so.
_prefects = getattr(flow_engine, "_send_heartbeats", None)


def heartbeats_without_join(engine, join_on_exit: bool = True) -> AbstractContextManager[None]:
    """Prefect's heartbeats for a flow run, stopped at its end without waiting out the thread's second."""
    return _prefects(engine, join_on_exit=False)


def install() -> None:
    """Put ``heartbeats_without_join`` where Prefect's flow engine looks for its heartbeats (once)."""
    if _prefects is not None:
        flow_engine._send_heartbeats = heartbeats_without_join
