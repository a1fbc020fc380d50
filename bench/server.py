"""A local `prefect server start`, as the nightly runs talk to: for the benchmark's flow cost and the tests' flows."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def migrated_prefect_home(home: Path) -> Path:
    """A Prefect home whose SQLite database is already migrated, so a server starting on it skips the
    migration (about 10 s of CPU here). The migrated database is made once per machine and Prefect version,
    in the temp folder (whichever process comes first; the others wait on the lock), then copied."""
    import fcntl
    import tempfile
    from importlib.metadata import version

    cache = Path(tempfile.gettempdir()) / f"shinchoku-prefect-db-{version('prefect')}"
    with open(str(cache) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "prefect.db").exists():
            work = Path(tempfile.mkdtemp(prefix=cache.name + "."))
            subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], check=True,
                           env={**os.environ, "PREFECT_HOME": str(work), "DO_NOT_TRACK": "1"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            shutil.rmtree(cache, ignore_errors=True)
            os.replace(work, cache)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache / "prefect.db", home / "prefect.db")
    return home


def api(url: str, path: str, body: dict | None = None):
    """One call to the Prefect REST API: GET, or POST with a JSON body."""
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"},
                                     method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def free_port() -> int:
    """A loopback port nothing listens on (the OS's choice, released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_server(home: Path, timeout: float = 240) -> Iterator[str]:
    """`prefect server start` from the project folder, as the README says, on a free loopback port and a
    migrated home (``migrated_prefect_home``); yields its API URL and stops it on leaving."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                api(url, "/health")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("prefect server start did not come up") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
