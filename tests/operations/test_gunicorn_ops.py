"""Under a real gunicorn (gunicorn.conf.py, as an operator runs it): the access log hides
tokens and query values and names the request id, respijt's INFO messages reach stderr, JSON
lines parse, and /metrics adds up the counts of every worker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.live_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET = "geheim-4711"  # in every token the tests send; must never reach a log


@contextmanager
def gunicorn(
    database_url: str, db: Any, tmp_path: Path, *, workers: int, **env: str
) -> Iterator[tuple[str, Path, Path, Path]]:
    """gunicorn with the project's gunicorn.conf.py; yields (base URL, access log, error log,
    metrics folder). The logs are complete once the block ends (gunicorn has stopped)."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    environ = dict(
        os.environ,
        DATABASE_URL=database_url,
        RESPIJT_SECRET_KEY="test-secret-for-gunicorn",
        RESPIJT_RATELIMIT="off",
        RESPIJT_COOKIE_SECURE="off",
        RESPIJT_INSTANCE_PATH=str(tmp_path),
        RESPIJT_QUIET_HOURS="",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        **env,
    )
    command = [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "--config",
        str(PROJECT_ROOT / "gunicorn.conf.py"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",  # several servers (and other tests) run side by side
        "respijt:create_app()",
    ]
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    base = f"http://127.0.0.1:{port}"
    with open(access, "wb") as out, open(errors, "wb") as err:
        proc = subprocess.Popen(command, env=environ, stdout=out, stderr=err, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("gunicorn stopped: " + errors.read_text()[-2000:])
                try:
                    if requests.get(f"{base}/health", timeout=10).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: " + errors.read_text()[-2000:])
                time.sleep(0.2)
            yield base, access, errors, metrics_dir
        finally:
            db.session.rollback()  # SQLite: the test's transaction may hold the write lock
            proc.terminate()
            proc.wait(timeout=30)


def test_access_log_hides_tokens_and_names_the_request_id(database_url, db, tmp_path):
    with gunicorn(database_url, db, tmp_path, workers=2) as (base, access, errors, _):
        kept = requests.get(
            f"{base}/a/{SECRET}-link?doelgroep=dementie",
            headers={"X-Request-ID": "proxy-0123456789abcdef"},
            allow_redirects=False,
        )
        assert kept.headers["X-Request-ID"] == "proxy-0123456789abcdef"
        drawn = {}
        for path in (
            f"/rota/ical/{SECRET}-feed.ics",
            f"/password/reset/{SECRET}-reset",
            f"/invitation/{SECRET}-invite",
        ):
            response = requests.get(base + path, headers={"X-Request-ID": "kort"})
            assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])  # replaced
            drawn[path] = response.headers["X-Request-ID"]
        refused = requests.post(f"{base}/login", data={"email": "x@example.org"})
        assert refused.status_code == 400
        refused_id = refused.headers["X-Request-ID"]

    access_log, error_log = access.read_text(), errors.read_text()
    for log in (access_log, error_log):
        assert SECRET not in log and "dementie" not in log
    lines = access_log.splitlines()
    link = [line for line in lines if "request_id=proxy-0123456789abcdef" in line]
    assert len(link) == 1 and '"GET /a/<token>?doelgroep=* HTTP/1.1" 303' in link[0]
    for path, request_id in drawn.items():
        line = next(line for line in lines if f"request_id={request_id}" in line)
        assert path.replace(SECRET + "-feed", "<token>").split(SECRET)[0] in line
    assert any("/rota/ical/<token>.ics" in line for line in lines)
    info = [line for line in error_log.splitlines() if "respijt.web.security" in line]
    assert len(info) == 1 and " INFO " in info[0] and f"[{refused_id}]" in info[0]
    assert "The CSRF token is missing." in info[0]


def test_json_lines_parse_for_access_and_app_logs(database_url, db, tmp_path):
    with gunicorn(database_url, db, tmp_path, workers=1, RESPIJT_LOG_FORMAT="json") as (
        base,
        access,
        errors,
        _,
    ):
        link = requests.get(f"{base}/a/{SECRET}?van=2026-12-01", allow_redirects=False)
        refused = requests.post(f"{base}/login", data={})

    access_lines = [json.loads(line) for line in access.read_text().splitlines() if line]
    mine = [line for line in access_lines if line["request_id"] == link.headers["X-Request-ID"]]
    assert len(mine) == 1
    assert mine[0]["path"] == "/a/<token>" and mine[0]["query"] == "van=*"
    assert mine[0]["status"] == 303 and mine[0]["method"] == "GET"
    error_lines = [json.loads(line) for line in errors.read_text().splitlines() if line]
    assert any(line["logger"] == "gunicorn.error" for line in error_lines)
    info = [line for line in error_lines if line["logger"] == "respijt.web.security"]
    assert len(info) == 1 and info[0]["level"] == "INFO"
    assert info[0]["request_id"] == refused.headers["X-Request-ID"]
    assert SECRET not in access.read_text() + errors.read_text()


def contact_count(base: str) -> float:
    text = requests.get(f"{base}/metrics").text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "respijt_http_requests_total" and sample.labels == {
                "route": "/contact",
                "method": "GET",
                "status": "200",
            }:
                total += sample.value
    return total


def test_metrics_add_up_the_counts_of_both_workers(database_url, db, tmp_path):
    with gunicorn(database_url, db, tmp_path, workers=2) as (base, _, _, metrics_dir):
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(5):  # until both workers have answered some
                statuses = list(
                    pool.map(lambda _: requests.get(f"{base}/contact").status_code, range(40))
                )
                assert statuses == [200] * 40
                sent += 40
                pids = {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}
                if len(pids) >= 2:
                    break
        assert len(pids) >= 2, "one worker answered everything"
        # Whichever worker answers the scrape, it reports what both answered.
        assert [contact_count(base) for _ in range(6)] == [sent] * 6
