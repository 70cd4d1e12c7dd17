"""`respijt serve` in its own process on the test database, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, db: Any, tmp_path: Path, *, threads: int = 8, **env: str
) -> Iterator[str]:
    """Start the server without a scheduler, wait for /health, yield its base URL.

    The test's own transaction is ended before stopping: on SQLite it may hold the write lock.
    """
    port = free_port()
    environ = dict(
        os.environ,
        DATABASE_URL=database_url,
        RESPIJT_SECRET_KEY="test",
        RESPIJT_RATELIMIT="off",
        RESPIJT_INSTANCE_PATH=str(tmp_path),
        RESPIJT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        RESPIJT_QUIET_HOURS="",  # tests run at any hour, as in conftest
    )
    environ.update(env)
    log_path = tmp_path / "server.log"
    command = [sys.executable, "-m", "respijt.cli.commands", "serve", "--port", str(port)]
    command += ["--threads", str(threads), "--no-scheduler"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, env=environ, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            proc.kill()
            raise RuntimeError("server did not start: " + log_path.read_text()[-2000:])
        try:
            yield base
        finally:
            db.session.rollback()
            proc.terminate()
            proc.wait(timeout=10)
