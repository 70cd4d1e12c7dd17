"""PostgreSQL goes away and comes back while respijt serves and its scheduler runs.

A PostgreSQL cluster of the test's own (initdb into a temporary folder, on a free port; never
the shared server on 5432) is stopped with `pg_ctl stop -m fast` while four threads post care
requests to a live `respijt serve`, and started again. While it is down every answer is 503
with Retry-After (problem+json for the API, a Dutch page for the web) and never 500; once it
is back, writes succeed without restarting anything, every request acknowledged with 201 is in
the database, and a separate `respijt scheduler` process, which waited quietly, runs its jobs
again. Under CI=true the PostgreSQL binaries must be there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import func, select

from respijt import clock, create_app
from respijt.extensions import db
from respijt.models import CareRequest, JobRun
from tests import factories
from tests.browser.live_server import free_port, running_server
from tests.care_request_helpers import json_body
from tests.conftest import IN_CI, config_for_tests
from tests.scheduling import start_scheduler, wait_for

pytestmark = pytest.mark.slow

PG_BIN = Path(os.environ.get("RESPIJT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OUTAGE_SECONDS = 5.0  # longer than the scheduler's lease: it expires while nobody can renew it


class OwnCluster:
    """A throw-away PostgreSQL cluster: initdb, pg_ctl start/stop, removed afterwards.

    initdb refuses to run as root, so as root every command runs as the `postgres` OS user in
    a folder it owns.
    """

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.data = base / "data"
        self.log = base / "postgresql.log"
        self.port = port

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        try:
            with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def dsn(self, name: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture()
def own_cluster() -> Iterator[OwnCluster]:
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / b).exists()]
    if missing:
        message = f"PostgreSQL binaries missing in {PG_BIN}: {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the outage test must run)")
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="respijt-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    cluster = OwnCluster(base, free_port())
    try:
        cluster.init()
        cluster.start()
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE respijt")
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Answer:
    at: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    content_type: str
    reference: str | None
    sent: float = 0.0  # when the request left: one sent before the stop may be answered after it


@dataclass
class Writers:
    """Threads posting care requests as fast as the server answers, recording every answer."""

    base: str
    payload: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        with requests.Session() as http:
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    response = http.post(
                        f"{self.base}/api/v1/requests", json=self.payload, timeout=30
                    )
                except requests.RequestException:
                    answer = Answer(time.monotonic(), 0, None, "", None, sent)
                else:
                    reference = None
                    if response.status_code == 201:
                        reference = response.json()["reference"]
                    answer = Answer(
                        time.monotonic(),
                        response.status_code,
                        response.headers.get("Retry-After"),
                        response.headers.get("Content-Type", ""),
                        reference,
                        sent,
                    )
                with self.lock:
                    self.answers.append(answer)
                if answer.status == 503:
                    time.sleep(0.05)  # a client honouring Retry-After would wait much longer

    def since(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.at >= moment]


def test_postgresql_stops_and_starts_under_load_without_a_500_or_a_lost_write(
    own_cluster: OwnCluster, tmp_path: Path
) -> None:
    url = own_cluster.url("respijt")
    app = create_app(config_for_tests(url))
    with app.app_context():
        upgrade()
        municipality = factories.Factory(db.session, app.config).municipality()
        today = clock.today()
        payload = json_body(municipality, today + timedelta(days=3), today + timedelta(days=5))
        db.session.remove()

        scheduler, scheduler_log = start_scheduler(url, tmp_path, "scheduler")
        try:
            with running_server(url, db, tmp_path) as base:
                wait_for(lambda: _count_runs(app, after=None) > 0, 30, "the scheduler's first jobs")
                writers = Writers(base, payload)
                threads = [threading.Thread(target=writers.run) for _ in range(4)]
                for thread in threads:
                    thread.start()
                try:
                    wait_for(lambda: len(writers.since(0)) >= 8, 30, "writes before the stop")
                    own_cluster.stop()
                    down_from = time.monotonic()
                    page = requests.get(
                        f"{base}/beschikbaarheid", headers={"Accept": "text/html"}, timeout=30
                    )
                    health = requests.get(f"{base}/health", timeout=30)
                    time.sleep(OUTAGE_SECONDS)
                    assert scheduler.poll() is None, "the scheduler died while PostgreSQL was down"
                    starting = time.monotonic()  # pg_ctl -w returns a moment after it is up
                    own_cluster.start()
                    restarted = clock.now()
                    up_from = time.monotonic()
                    wait_for(
                        lambda: any(a.status == 201 for a in writers.since(up_from)),
                        30,
                        "a successful write after the restart",
                    )
                    time.sleep(1.0)
                finally:
                    writers.stop.set()
                    for thread in threads:
                        thread.join(timeout=60)
                health_after = requests.get(f"{base}/health", timeout=30)
            ran_again = wait_for(
                lambda: _count_runs(app, after=restarted), 30, "job runs after the restart"
            )
            assert scheduler.poll() is None, "the scheduler died after the outage"
        finally:
            if scheduler.poll() is None:
                scheduler.send_signal(signal.SIGTERM)
                scheduler.wait(timeout=30)

        answers = writers.answers
        statuses = {a.status for a in answers}
        assert statuses <= {201, 503}, f"answers other than 201 and 503: {statuses}"
        during = [a for a in answers if down_from <= a.sent and a.at < starting]
        assert during and all(a.status == 503 for a in during), [
            a for a in during if a.status != 503
        ]
        unavailable = [a for a in answers if a.status == 503]
        assert all(a.retry_after and int(a.retry_after) > 0 for a in unavailable)
        assert all(a.content_type.startswith("application/problem+json") for a in unavailable)
        assert any(a.status == 201 for a in answers if a.at < down_from)
        assert any(a.status == 201 for a in answers if a.at >= up_from)

        # The web answers people with a Dutch page, machines get /health's JSON; both say when
        # to come back.
        assert page.status_code == 503 and page.headers["Retry-After"]
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Even niet bereikbaar" in page.text
        assert health.status_code == 503 and health.headers["Retry-After"]
        assert health.json()["database"] == "unreachable"
        assert health_after.status_code == 200

        db.engine.dispose()  # connections from before the stop are dead
        acknowledged = {a.reference for a in answers if a.status == 201}
        stored = set(db.session.scalars(select(CareRequest.reference)))
        assert acknowledged <= stored, f"acknowledged but lost: {acknowledged - stored}"
        assert ran_again > 0
        db.session.remove()
        db.engine.dispose()

    # Waiting is quiet: a handful of lines for the whole outage, no tracebacks.
    scheduler_text = scheduler_log.read_text()
    assert "Traceback" not in scheduler_text, scheduler_text[-3000:]
    assert scheduler_text.count("database niet bereikbaar") <= 3, scheduler_text[-3000:]
    assert "database weer bereikbaar" in scheduler_text
    server_text = (tmp_path / "server.log").read_text()
    assert "Traceback" not in server_text, server_text[-3000:]
    assert server_text.count("database niet bereikbaar") <= 3, server_text[-3000:]


def _count_runs(app: Any, after: Any) -> int:
    """Successful job runs (after `after`), read on a fresh connection each time."""
    with app.app_context():
        try:
            query = select(func.count()).select_from(JobRun).where(JobRun.outcome == "ok")
            if after is not None:
                query = query.where(JobRun.started_at > after)
            return int(db.session.scalar(query) or 0)
        except Exception:
            return 0
        finally:
            db.session.remove()


def test_with_no_database_server_at_all_pages_and_the_api_answer_503_not_500(tmp_path: Path):
    # Nothing listens on this port: every connection is refused, as while PostgreSQL restarts.
    app = create_app(
        {
            **config_for_tests(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"),
            "RESPIJT_COOKIE_SECURE": False,
        }
    )
    client = app.test_client()
    page = client.get("/beschikbaarheid", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert page.mimetype == "text/html" and "Even niet bereikbaar" in page.get_data(as_text=True)
    api = client.get("/api/v1/locations")
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["title"] == "Tijdelijk niet beschikbaar"
    health = client.get("/health")
    assert health.status_code == 503 and health.headers["Retry-After"] == "30"
    with app.app_context():
        db.engine.dispose()
